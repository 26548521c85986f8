#!/usr/bin/env bash
# Scaling of sdesim (and scorefit train) over MPI ranks on this machine, and a projection to 64
# ranks from what is measured here (docs/distributed.md, "Measured").
# Needs the MPI build: cmake --preset mpi && cmake --build --preset mpi
# Usage: bench/mpi_scaling/run.sh [PATHS] [T_END]     (defaults 2000000 paths, t_end 5, dt 0.01)
# Prints, for the same run, the wall time of 1 process x 1 thread (the baseline, measured in
# this run), 1 process x 2 threads and 2 ranks x 1 thread with the ratios to the baseline
# (strong scaling); 1 rank with PATHS paths against 2 ranks with 2 x PATHS (weak scaling); the
# time of data-parallel training steps on 1 and 2 ranks; and the 64-rank projection with its
# inputs. Checks that the runs that must agree hold the same numbers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sdesim="${SDESIM:-$here/../../build-mpi/apps/sdesim/sdesim}"
scorefit="${SCOREFIT:-$here/../../build-mpi/apps/scorefit/scorefit}"
paths="${1:-2000000}"
t_end="${2:-5}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
run=(--model underdamped_langevin --init normal:0,1 --dt 0.01 --t-end "$t_end" --seed 3 -q)
now() { date +%s.%N; }
time_it() {  # command... -> seconds on stdout
  local t0 t1
  t0=$(now); "$@" >/dev/null || { echo "failed: $*" >&2; exit 1; }; t1=$(now)
  echo "$t1 - $t0" | bc -l
}
mpi=(mpirun --oversubscribe)
steps=$(echo "$t_end / 0.01" | bc)
declare -A T
for mode in paths stats; do
  extra=(); [ "$mode" = stats ] && extra=(--stats-only)
  T[$mode-1x1]=$(OMP_NUM_THREADS=1 time_it "$sdesim" "${run[@]}" --save-every 100 --paths "$paths" "${extra[@]}" --threads 1 -o "$out/$mode-1x1.h5") || exit 1
  T[$mode-1x2]=$(OMP_NUM_THREADS=2 time_it "$sdesim" "${run[@]}" --save-every 100 --paths "$paths" "${extra[@]}" --threads 2 -o "$out/$mode-1x2.h5") || exit 1
  T[$mode-2x1]=$(OMP_NUM_THREADS=1 time_it "${mpi[@]}" -np 2 "$sdesim" "${run[@]}" --save-every 100 --paths "$paths" "${extra[@]}" --threads 1 -o "$out/$mode-2x1.h5") || exit 1
  b=${T[$mode-1x1]} t=${T[$mode-1x2]} m=${T[$mode-2x1]}
  printf 'strong %-6s %9s paths x %s steps: 1 rank x 1 thread %6.2f s (baseline) | 1 rank x 2 threads %6.2f s (x%.2f) | 2 ranks x 1 thread %6.2f s (x%.2f)\n' \
    "$mode" "$paths" "$steps" "$b" "$t" "$(echo "$b / $t" | bc -l)" "$m" "$(echo "$b / $m" | bc -l)"
done
# weak scaling: the same paths per rank (1 rank under mpirun, as the 2-rank run, so both pay its start-up)
T[weak-1]=$(OMP_NUM_THREADS=1 time_it "${mpi[@]}" -np 1 "$sdesim" "${run[@]}" --save-every 100 --paths "$paths" --threads 1 -o "$out/weak-1.h5") || exit 1
T[weak-2]=$(OMP_NUM_THREADS=1 time_it "${mpi[@]}" -np 2 "$sdesim" "${run[@]}" --save-every 100 --paths $((2 * paths)) --threads 1 -o "$out/weak-2.h5") || exit 1
printf 'weak   paths  %9s paths per rank: 1 rank %6.2f s | 2 ranks (%s paths) %6.2f s: efficiency %.2f (1 = perfect)\n' \
  "$paths" "${T[weak-1]}" $((2 * paths)) "${T[weak-2]}" "$(echo "${T[weak-1]} / ${T[weak-2]}" | bc -l)"
# file-write cost: the same run saving a snapshot every 50 steps, to file and --stats-only, 1 process and 2 ranks
for n in 1 2; do
  for mode in paths stats; do
    extra=(); [ "$mode" = stats ] && extra=(--stats-only)
    T[wr-$n-$mode]=$(OMP_NUM_THREADS=1 time_it "${mpi[@]}" -np $n "$sdesim" "${run[@]}" --save-every 50 --paths "$paths" "${extra[@]}" --threads 1 -o "$out/wr-$n-$mode.h5") || exit 1
  done
  rm -f "$out"/wr-$n-*.h5
done
printf 'write  %9s paths x %s snapshots every 50 steps: 1 rank: to file %6.2f s, --stats-only %6.2f s | 2 ranks: to file %6.2f s, --stats-only %6.2f s\n' \
  "$paths" $((steps / 50 + 1)) "${T[wr-1-paths]}" "${T[wr-1-stats]}" "${T[wr-2-paths]}" "${T[wr-2-stats]}"
# mpirun start-up and shut-down: a run of 2 ranks with almost no work
T[startup]=$(OMP_NUM_THREADS=1 time_it "${mpi[@]}" -np 2 "$sdesim" --model underdamped_langevin --paths 128 --dt 0.01 --t-end 0.01 -q -o "$out/tiny.h5") || exit 1
# data-parallel training: 1 process vs 2 ranks x 1 thread, the same bits
train_args=(train --data "$out/paths-1x1.h5" --steps 200 --batch 4096 --seed 1 -q)
if [ -x "$scorefit" ]; then
  T[train-1]=$(OMP_NUM_THREADS=1 time_it "$scorefit" "${train_args[@]}" --threads 1 -o "$out/train-1.h5") || exit 1
  T[train-1x2]=$(OMP_NUM_THREADS=2 time_it "$scorefit" "${train_args[@]}" --threads 2 -o "$out/train-1x2.h5") || exit 1
  T[train-2]=$(OMP_NUM_THREADS=1 time_it "${mpi[@]}" -np 2 "$scorefit" "${train_args[@]}" --threads 1 -o "$out/train-2.h5") || exit 1
  printf 'train  200 steps, batch 4096 (16 chunks), default network and targets, local-dsm: 1 process x 1 thread %6.2f s (baseline) | 1 process x 2 threads %6.2f s (x%.2f) | 2 ranks x 1 thread %6.2f s (x%.2f)\n' \
    "${T[train-1]}" "${T[train-1x2]}" "$(echo "${T[train-1]} / ${T[train-1x2]}" | bc -l)" "${T[train-2]}" "$(echo "${T[train-1]} / ${T[train-2]}" | bc -l)"
fi
/usr/bin/python3 - "$out" "$paths" "$steps" "${T[stats-1x1]}" "${T[wr-1-paths]}" "${T[wr-1-stats]}" "${T[wr-2-paths]}" "${T[wr-2-stats]}" "${T[startup]}" <<'PY'
import os, sys, h5py, numpy as np
d = sys.argv[1]
paths, steps = int(sys.argv[2]), int(sys.argv[3])
stats1, wp1, ws1, wp2, ws2, startup = map(float, sys.argv[4:10])
def first_dataset(path, suffix):
    with h5py.File(path, "r") as f:
        names = []
        f.visit(names.append)
        return {n: f[n][()] for n in names if n.endswith(suffix)}
for mode, suffix in (("paths", "position/value"), ("stats", "covariance")):
    a, b, c = (first_dataset(f"{d}/{mode}-{x}.h5", suffix) for x in ("1x1", "1x2", "2x1"))
    same = all(np.array_equal(a[k], b[k]) and np.array_equal(a[k], c[k]) for k in a)
    print(f"check: {mode}: the three runs hold the same {suffix}: {same}")
    if not same: sys.exit(1)
w1, w2 = first_dataset(f"{d}/weak-1.h5", "position/value"), first_dataset(f"{d}/weak-2.h5", "position/value")
same = all(np.array_equal(w1[k], w2[k][:, :paths]) for k in w1)
print(f"check: weak: the 2-rank run's first {paths} paths are the 1-rank run's: {same}")
if not same: sys.exit(1)
if os.path.exists(f"{d}/train-2.h5"):
    with h5py.File(f"{d}/train-1.h5") as f1, h5py.File(f"{d}/train-2.h5") as f2:
        same = all(np.array_equal(f1[f"score_model/network/{n}"][()], f2[f"score_model/network/{n}"][()])
                   for n in ("ema_parameters", "raw_parameters", "adam_m", "adam_v"))
    print(f"check: train: 1 process and 2 ranks give the same weights (bitwise): {same}")
    if not same: sys.exit(1)

# The 64-rank projection: a model, not a measurement. Inputs measured above on this machine:
#   r     path-steps per second of one rank x 1 thread (--stats-only run, start-up removed)
#   c_w   seconds per byte of position/value written: the run saving every 50 steps to file minus the
#         same run --stats-only (which computes statistics instead: so c_w is a lower bound), 1 and 2 ranks
#   t0    mpirun start-up and shut-down (2 ranks, no work)
dim = 2
bytes_written = paths * (steps // 50 + 1) * dim * 8
r = paths * steps / max(stats1 - startup, 1e-9)
cw1 = max(wp1 - ws1, 0.0) / bytes_written
cw2 = max(wp2 - ws2, 0.0) / bytes_written
print(f"inputs: r = {r:.3g} path-steps/s per rank-thread; write cost {cw1 * 1e9:.3g} s/GB (1 rank), "
      f"{cw2 * 1e9:.3g} s/GB (2 ranks), MPI-IO to the local disk ({bytes_written / 1e9:.2f} GB); mpirun start-up {startup:.2f} s")
# Projection: P paths x S steps on N ranks x c threads per rank, B bytes of snapshots:
#   T(N) = t0 + P S / (N c e r) + write + gather
#   e      thread efficiency inside a rank: 0.85 assumed (1 -> 2 threads is measured above, on a loaded machine)
#   write  B c_w with c_w measured here (2 ranks, MPI-IO, one local disk): it does not shrink with N, as for
#          any one shared disk; and B / BW for a parallel file system of BW = 2 GB/s aggregate (assumed)
#   gather statistics partials to rank 0: (1 + d + d^2) doubles per 64 paths and snapshot at 5 GB/s (assumed)
P, S, c, e, BW = 10 ** 8, 1000, 16, 0.85, 2e9
snaps64 = 11
B = P * snaps64 * dim * 8
gather = P / 64 * (1 + dim + dim * dim) * 8 * snaps64 / 5e9
print(f"projection (a model from the inputs above, not a measurement): {P:.0e} paths x {S} steps, d = {dim}, "
      f"{snaps64} snapshots ({B / 1e9:.1f} GB of paths), ranks of {c} threads at efficiency {e}:")
print(f"  {'ranks':>5} {'compute s':>10} {'--stats-only s':>15} {'to file, disk as here s':>24} {'to file, 2 GB/s FS s':>21}")
for N in (1, 2, 8, 64):
    compute = P * S / (N * c * e * r)
    print(f"  {N:5d} {compute:10.1f} {startup + compute + gather:15.1f} {startup + compute + B * cw2:24.1f} {startup + compute + B / BW:21.1f}")
PY
