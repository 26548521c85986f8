#!/usr/bin/env bash
# Builds sim_throughput in the default portable `release` preset (build/) and prints, side by side
# in one run: the normal kernel per SIMD target, the double well's engine / kernel ratio (also from
# interleaved pairs of runs), the engine per model/stepper against plain mt19937 loops (built -O3 -march=native) and numpy, 2-thread efficiency, and sdesim end to end
# with snapshots every 10 steps.
# CLOCK=cpu (default): 1-thread cases are timed in process CPU seconds, which a loaded machine
# disturbs far less than wall time; CLOCK=wall on a quiet machine. The 2-thread case is wall time.
# PATHS, STEPS (engine cases and plain loops), SDESIM_STEPS (snapshots every 10 steps: 400 at the default 4000; 1000 steps, 0.35 s a run since
# session 9's kernel, scattered by +-15 %), REPEATS
# (interleaved rounds, default 3; the report gives medians and [min, max]) override the defaults;
# KEEP_VALUES=FILE keeps every raw measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release -DSDESCORE_BUILD_BENCH=ON > /dev/null
cmake --build build --target bench_sim_throughput bench_sim_baseline sdesim
PATHS=${PATHS:-100000}
STEPS=${STEPS:-200}
SDESIM_STEPS=${SDESIM_STEPS:-4000}        # snapshot cost: every 10 steps (400 snapshots, 320 MB) vs start/end only
E2E_STEPS=${E2E_STEPS:-10000}             # end to end: 100 snapshots over this many steps
CLOCK=${CLOCK:-cpu}
REPEATS=${REPEATS:-3}                     # interleaved rounds of every measurement
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(g++ --version | head -1)"
echo "load: $(uptime | sed 's/.*load average/load average/')"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
B="$tmp/values.txt"
# sdesim, 1 thread, double well, STEPS steps: "<wall s> <cpu s>" of one run. The output is
# removed first: a previous run's file (up to 320 MB) would be unlinked by the rename, inside the timing.
sdesim_time() {
  local steps=$1
  shift
  rm -f "$tmp/run.h5"
  local t0 t1
  t0=$(date +%s%N)  # wall to the nanosecond: /usr/bin/time's %e has 10 ms steps, 3 % of a 0.35 s run
  /usr/bin/time -o "$tmp/time.txt" -f "%U %S" ./build/apps/sdesim/sdesim -m double_well -n "$PATHS" --dt 1e-3 \
    --t-end "$(awk "BEGIN{print $steps/1000}")" --threads 1 -q -f -o "$tmp/run.h5" "$@"
  t1=$(date +%s%N)
  read -r u s < "$tmp/time.txt"
  echo "$(awk "BEGIN{print ($t1 - $t0) / 1e9}") $(awk "BEGIN{print $u + $s}")"
}
echo "sdesim_paths $PATHS" >> "$B"
echo "sdesim_steps $SDESIM_STEPS" >> "$B"
echo "sdesim_e2e_steps $E2E_STEPS" >> "$B"
# REPEATS interleaved rounds: baselines, numpy, the engine, sdesim; each case's ratio is taken
# per round (engine and baseline minutes apart at most) and the report gives medians and spreads.
for r in $(seq 1 "$REPEATS"); do
  echo "round $r of $REPEATS ($(uptime | sed 's/.*load average/load average/'))" >&2
  ./build/bench/sim_throughput/bench_sim_baseline "$PATHS" "$STEPS" "$CLOCK" >> "$B"
  echo "numpy_dw_em $(/usr/bin/python3 bench/sim_throughput/numpy_euler.py "$PATHS" $((STEPS / 4 > 0 ? STEPS / 4 : 1)) "$CLOCK")" >> "$B"
  ./build/bench/sim_throughput/bench_sim_throughput --raw --paths "$PATHS" --steps "$STEPS" --clock "$CLOCK" >> "$B"
  if [ $((r % 2)) -eq 1 ]; then  # alternate which of the pair runs first
    read -r w10 c10 < <(sdesim_time "$SDESIM_STEPS" --save-every 10)
    read -r we ce < <(sdesim_time "$SDESIM_STEPS" --save-every "$SDESIM_STEPS")
  else
    read -r we ce < <(sdesim_time "$SDESIM_STEPS" --save-every "$SDESIM_STEPS")
    read -r w10 c10 < <(sdesim_time "$SDESIM_STEPS" --save-every 10)
  fi
  read -r wx cx < <(sdesim_time "$E2E_STEPS" --save-every $((E2E_STEPS / 100)))
  cat >> "$B" <<END
sdesim_save10_wall_s $w10
sdesim_save10_cpu_s $c10
sdesim_save_ends_wall_s $we
sdesim_save_ends_cpu_s $ce
sdesim_e2e_wall_s $wx
sdesim_e2e_cpu_s $cx
END
done
echo "sim_throughput: $PATHS paths x $STEPS steps (engine and plain loops), dt = 1e-3"
./build/bench/sim_throughput/bench_sim_throughput --report "$B" --clock "$CLOCK"
if [ -n "${KEEP_VALUES:-}" ]; then cp "$B" "$KEEP_VALUES"; fi
echo "load after: $(uptime | sed 's/.*load average/load average/')"
