#!/usr/bin/env bash
# Configures (once) and builds the release preset into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache when present (scripts/deps.sh installs it): the MPI build of test.sh (build-mpi/) then
# reuses the objects of the layers that never see MPI (score, eval: most of its compile time).
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}" CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
fi
if [ ! -f build/build.ninja ]; then
  cmake --preset release
fi
cmake --build --preset release -j "$(nproc)"
