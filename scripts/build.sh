#!/usr/bin/env bash
# Configures (once) and builds the release preset into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake --preset release
fi
cmake --build --preset release -j "$(nproc)"
