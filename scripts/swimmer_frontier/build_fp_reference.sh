#!/usr/bin/env bash
# Builds fp_reference (header-only use of the library) into $1 (default build/fp_reference).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/fp_reference}
g++ -std=c++20 -O2 -DNDEBUG -I lib -I models -I /usr/include/eigen3 scripts/swimmer_frontier/fp_reference.cpp -o "$out"
