#!/usr/bin/env bash
# Training throughput of sdescore::nn against PyTorch CPU, same network, batch, losses, threads.
# Builds bench_train_throughput with the `bench` preset (-march=native), installs Debian's
# python3-torch if `import torch` fails (~1 GB), runs both in one go and prints a table.
#   bench/train_throughput/run.sh                 # 3 s per configuration, 1 and 2 threads
#   SECONDS_PER_CONFIG=5 THREADS="1 2" bench/train_throughput/run.sh
#   BENCH_EXE=path/to/bench_train_throughput bench/train_throughput/run.sh   # skip the build
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${SECONDS_PER_CONFIG:-3}"
threads="${THREADS:-1 2}"

if [[ -z "${BENCH_EXE:-}" ]]; then
  (cd "$root" && cmake --preset bench -DSDESCORE_BUILD_BENCH=ON >/dev/null && cmake --build --preset bench --target bench_train_throughput)
  BENCH_EXE="$root/build-bench/bench/train_throughput/bench_train_throughput"
fi
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "installing python3-torch (Debian package, ~1 GB) ..." >&2
  apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch >/dev/null
fi

ours_out="$(mktemp)"; torch_out="$(mktemp)"
trap 'rm -f "$ours_out" "$torch_out"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for t in $threads; do
  "$BENCH_EXE" --threads "$t" --seconds "$secs" >>"$ours_out"
  /usr/bin/python3 "$here/torch_baseline.py" --threads "$t" --seconds "$secs" >>"$torch_out"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "machine : $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
echo "compiler: $(${CXX:-c++} --version | head -1); flags: -O3 -DNDEBUG -march=native -fopenmp (preset bench)"
echo "torch   : $(grep -m1 '^# torch' "$torch_out" | cut -d' ' -f3)"
echo "load avg: $load_before (before), $load_after (after)"
echo "net     : 3 -> 128 -> 128 -> 2 SiLU, batch 512, float32, Adam + clip + cosine + EMA"
echo
awk '
  FNR == NR && /^RESULT/ { ours[$2 " " $3] = $4; ou[$2 " " $3] = $5; next }
  /^RESULT/ { torch[$2 " " $3] = $4; tu[$2 " " $3] = $5; keys[++n] = $2 " " $3 }
  END {
    printf "%-5s %7s %14s %10s %14s %10s %8s\n", "loss", "threads", "sdescore st/s", "(cpu use)", "pytorch st/s", "(cpu use)", "ratio"
    for (i = 1; i <= n; ++i) {
      k = keys[i]; split(k, p, " ")
      printf "%-5s %7s %14.1f %10.2f %14.1f %10.2f %7.1fx\n", p[1], p[2], ours[k], ou[k], torch[k], tu[k], ours[k] / torch[k]
    }
    print "(cpu use = CPU time / (wall time x threads); well below 1 means the machine was shared)"
  }' "$ours_out" "$torch_out"
