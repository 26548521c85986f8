#!/usr/bin/env bash
# Time to 2% on the double well with the library defaults, local-DSM against exact ISM, and the
# cost of a local-DSM step against a bare network step (docs/performance.md, docs/results.md).
# Run on a quiet machine: the rates are wall-clock. Usage: bench/score_time_to_accuracy/run.sh [dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench_out}
mkdir -p "$out"
cmake --preset release -DSDESCORE_BUILD_BENCH=ON >/dev/null
cmake --build build --target sdesim bench_score_time_to_accuracy >/dev/null
build/apps/sdesim/sdesim --model double_well --param T=0.5 --init normal:0,0.2 --paths 50000 --dt 1e-3 \
  --t-end 2 --save-every 50 --seed 1 --threads 2 --force -o "$out/dw.h5"
B=build/bench/score_time_to_accuracy/bench_score_time_to_accuracy
uptime
$B --data "$out/dw.h5" --profile --steps 2000 --threads 2
$B --data "$out/dw.h5" --objectives local-dsm,ism --eval-every 500 --threads 2
uptime
