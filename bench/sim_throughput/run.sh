#!/usr/bin/env bash
# Builds sim_throughput in the default portable `release` preset (build/) and prints, side by side
# in one run: the normal kernel per SIMD target, the engine per model/stepper against plain
# mt19937 loops (built -O3 -march=native) and numpy, 2-thread efficiency, and sdesim end to end
# with snapshots every 10 steps. Other processes make the numbers noisy: run on a quiet machine.
# PATHS, STEPS (engine cases), SDESIM_STEPS (100 snapshots at 1000) override the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release > /dev/null
cmake --build build --target bench_sim_throughput bench_sim_baseline sdesim
PATHS=${PATHS:-100000}
STEPS=${STEPS:-200}
SDESIM_STEPS=${SDESIM_STEPS:-1000}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(g++ --version | head -1)"
echo "load: $(uptime | sed 's/.*load average/load average/')"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
B="$tmp/baselines.txt"
./build/bench/sim_throughput/bench_sim_baseline "$PATHS" $((STEPS / 10 > 0 ? STEPS / 10 : 1)) > "$B"
echo "numpy_dw_em $(/usr/bin/python3 bench/sim_throughput/numpy_euler.py "$PATHS" $((STEPS / 4 > 0 ? STEPS / 4 : 1)))" >> "$B"
sdesim_time() {  # wall seconds of one sdesim run, best of 2
  local best=""
  for _ in 1 2; do
    local t0 t1
    t0=$(date +%s.%N)
    ./build/apps/sdesim/sdesim -m double_well -n "$PATHS" --dt 1e-3 --t-end "$(awk "BEGIN{print $SDESIM_STEPS/1000}")" \
      --threads 1 -q -f -o "$tmp/run.h5" "$@"
    t1=$(date +%s.%N)
    best=$(awk -v a="$best" -v b="$(awk "BEGIN{print $t1 - $t0}")" 'BEGIN{print (a == "" || b < a) ? b : a}')
  done
  echo "$best"
}
{
  echo "sdesim_paths $PATHS"
  echo "sdesim_steps $SDESIM_STEPS"
  echo "sdesim_save10_s $(sdesim_time --save-every 10)"
  echo "sdesim_save_ends_s $(sdesim_time --save-every "$SDESIM_STEPS")"
} >> "$B"
./build/bench/sim_throughput/bench_sim_throughput --paths "$PATHS" --steps "$STEPS" --baselines "$B" "$@"
echo "load after: $(uptime | sed 's/.*load average/load average/')"
