#!/usr/bin/env bash
# The test command of the README: installs missing dependencies, builds if needed, and runs
# the whole suite (C++ doctest suites, examples, the Python module and file-format checks) with
# ctest, then the MPI tests (docs/distributed.md): installs the MPI packages (scripts/deps-mpi.sh),
# builds the mpi preset (sdesim, scorefit, the Python module, in build-mpi/) and runs ctest
# --preset mpi. From a clean clone with an empty ccache on 2 cores: 12 min 37 s in all (serial
# build 8 min 25 s, ctest 74 s; MPI build 68 s, ctest 107 s; measured 2026-12-03, MPI packages
# already installed). SDESCORE_TEST_MPI=0 skips the MPI part. Arguments go to the serial ctest.
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
if [ "${SDESCORE_TEST_MPI:-1}" != 0 ]; then
  scripts/deps-mpi.sh
  if [ ! -f build-mpi/build.ninja ]; then
    cmake --preset mpi
  fi
  cmake --build --preset mpi -j "$(nproc)"
  ctest --preset mpi
fi
