#!/usr/bin/env bash
# The test command of the README: installs missing dependencies, builds if needed, and runs
# the whole suite (C++ doctest suites, examples and the Python file-format checks) with ctest;
# with SDESCORE_TEST_MPI=1 also the MPI tests (docs/distributed.md): installs the MPI packages
# (scripts/deps-mpi.sh), builds the mpi preset (sdesim, scorefit, the Python module, in build-mpi/) and runs
# ctest --preset mpi. Off by default: from a clean clone on 2 cores the serial part takes about
# 13 minutes and the MPI part 4 more plus its packages (measured 2026-12-02, docs/distributed.md),
# too close to the 20-minute budget of the test command. Arguments go to the serial ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
# ccache when present (scripts/deps.sh installs it): the MPI build of test.sh (build-mpi/) then
# reuses the objects of the layers that never see MPI (sim, ensemble, score, eval: most of its
# compile time; every library is built position independent in both, lib/CMakeLists.txt).
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}" CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
fi
scripts/build.sh
ctest --preset release "$@"
if [ "${SDESCORE_TEST_MPI:-0}" != 0 ]; then
  scripts/deps-mpi.sh
  if [ ! -f build-mpi/build.ninja ]; then
    cmake --preset mpi
  fi
  cmake --build --preset mpi -j "$(nproc)"
  ctest --preset mpi
fi
