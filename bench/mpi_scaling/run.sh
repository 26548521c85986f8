#!/usr/bin/env bash
# Strong scaling of sdesim over MPI ranks on this machine (docs/distributed.md, "Measured").
# Needs the MPI build: cmake --preset mpi && cmake --build --preset mpi
# Usage: bench/mpi_scaling/run.sh [PATHS] [T_END]     (defaults 200000 paths, t_end 5, dt 0.01)
# Prints the wall time of the same run as 1 process x 1 thread (the baseline, measured in this
# run), 1 process x 2 threads, and 2 ranks x 1 thread, and the ratios to the baseline; checks
# that the files hold the same positions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sdesim="${SDESIM:-$here/../../build-mpi/apps/sdesim/sdesim}"
paths="${1:-200000}"
t_end="${2:-5}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
run=(--model underdamped_langevin --init normal:0,1 --paths "$paths" --dt 0.01 --t-end "$t_end" --save-every 100 --seed 3 -q)
now() { date +%s.%N; }
time_it() {  # label, command...
  local label="$1"; shift
  local t0 t1
  t0=$(now); "$@"; t1=$(now)
  echo "$label $(echo "$t1 - $t0" | bc -l)"
}
results=()
for mode in paths stats; do
  extra=(); [ "$mode" = stats ] && extra=(--stats-only)
  b=$(OMP_NUM_THREADS=1 time_it base "$sdesim" "${run[@]}" "${extra[@]}" --threads 1 -o "$out/$mode-1x1.h5" | awk '{print $2}')
  t=$(OMP_NUM_THREADS=2 time_it t "$sdesim" "${run[@]}" "${extra[@]}" --threads 2 -o "$out/$mode-1x2.h5" | awk '{print $2}')
  m=$(OMP_NUM_THREADS=1 time_it m mpirun -np 2 --oversubscribe "$sdesim" "${run[@]}" "${extra[@]}" --threads 1 -o "$out/$mode-2x1.h5" | awk '{print $2}')
  printf '%-6s %9s paths x %s steps: 1 rank x 1 thread %6.2f s (baseline) | 1 rank x 2 threads %6.2f s (x%.2f) | 2 ranks x 1 thread %6.2f s (x%.2f)\n' \
    "$mode" "$paths" "$(echo "$t_end / 0.01" | bc)" "$b" "$t" "$(echo "$b / $t" | bc -l)" "$m" "$(echo "$b / $m" | bc -l)"
done
/usr/bin/python3 - "$out" <<'PY'
import sys, h5py, numpy as np
d = sys.argv[1]
def first_dataset(path, suffix):
    with h5py.File(path, "r") as f:
        names = []
        f.visit(names.append)
        return {n: f[n][()] for n in names if n.endswith(suffix)}
for mode, suffix in (("paths", "position/value"), ("stats", "covariance")):
    a, b, c = (first_dataset(f"{d}/{mode}-{x}.h5", suffix) for x in ("1x1", "1x2", "2x1"))
    same = all(np.array_equal(a[k], b[k]) and np.array_equal(a[k], c[k]) for k in a)
    print(f"{mode}: the three runs hold the same {suffix}: {same}")
    if not same: sys.exit(1)
PY
