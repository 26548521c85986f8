#!/usr/bin/env bash
# Model files vs the built-in double well (bench/modelfile/modelfile_bench.cpp). Build with the
# bench preset (-march=native) or release; numbers are machine-dependent: report the load.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../../build-bench}
cmake --build "$build" --target bench_modelfile >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
nice "$build/bench/modelfile/bench_modelfile" "$@"
