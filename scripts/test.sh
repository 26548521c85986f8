#!/usr/bin/env bash
# The test command of the README: installs missing dependencies, builds if needed, and runs
# the whole suite (C++ doctest suites, examples and the Python file-format checks) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
ctest --preset release "$@"
