#!/usr/bin/env bash
# Model files vs the built-in double well (bench/modelfile/modelfile_bench.cpp). Build with the
# bench preset (-march=native) or release; numbers are machine-dependent: report the load.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../../build-bench}
if [ -z "${BUILD:-}" ]; then
  (cd "$here/../.." && cmake --preset bench -DSDESCORE_BUILD_BENCH=ON >/dev/null)
else
  cmake -B "$build" -DSDESCORE_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" --target bench_modelfile >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
nice "$build/bench/modelfile/bench_modelfile" "$@"
