#!/usr/bin/env bash
# Session 11's case-2 study (docs/results.md, "Case 2: active swimmer"): the Fokker-Planck
# reference at 200 x 150, 400 x 300 and 800 x 600 cells and its refinement, then per sigma0 and
# seed 1, 2, 3 the five variants (exact ISM 10,000 steps; local-DSM, Delta = 0.02, 0.1, 0.05,
# 13,000 steps; the default auto schedule, 13,000 steps; run.sh's settings), each trained once and scored against the 800 x 600 reference
# and against the 400 x 300 one. Finally table.py prints the tables.
# usage: [SIGMAS="1 0.5"] scripts/swimmer_frontier/study.sh OUTDIR [PHASE...]
#   PHASE: refs (references + refinement), train (models + errors), dt (time-step check at 400 x 300:
#   dt 0.005 against DT_CHECK, default 0.001; ~5x a 400 x 300 run), xonly (x-only refinement: 800 x 300 against 400 x 300, and
#   1600 x 600 against 800 x 600, ~40 min, ~4 GB per sigma0), x3200 (3200 x 600 against 1600 x 600,
#   ~1.5 h, ~8 GB per sigma0). Default: refs train.
# One chain per sigma0, the chains side by side (each runs one single-threaded heavy process at a
# time; the ensemble simulation uses 2 threads). Everything is niced; what exists is not redone, so
# an interrupted study resumes. Outputs: OUTDIR/refine_s<s0>*.txt, OUTDIR/err_s<s0>_<variant>_seed<k>_<NX>x<NV>.txt,
# <variant>_s<s0>_seed<k>.time (training CPU time), ref_*.time (reference CPU time, max RSS in kB).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "$1"); shift
phases=("$@"); [ ${#phases[@]} -gt 0 ] || phases=(refs train)
mkdir -p "$out"
F=scripts/swimmer_frontier
[ -x build/fp_reference ] || $F/build_fp_reference.sh build/fp_reference
variants=(ism:ism:256:0.02 ldsm:local-dsm:1:0.02:13000 ldsm01:local-dsm:1:0.1:13000 ldsm005:local-dsm:1:0.05:13000
          ldsmauto13:local-dsm:1:auto:13000)  # the last: the default schedule since session 13

ref() {  # ref SIGMA0 NX NV [DT [TAG]]: fp_reference into OUTDIR/ref_s<s0>_<NX>x<NV><TAG>, timed
  local p="$out/ref_s$1_$2x$3${5:-}"
  [ -f "${p}_t5.bin" ] || nice -n 10 /usr/bin/time -f "%U %S %M" -o "$p.time" build/fp_reference "$2" "$3" upwind3 "${4:-0.005}" "$1" "$p" >"$p.log"
}

chain() {
  local s0=$1 ph v seed
  for ph in "${phases[@]}"; do
    case $ph in
      refs)
        ref "$s0" 200 150; ref "$s0" 400 300; ref "$s0" 800 600
        /usr/bin/python3 $F/refine.py levels "$out/ref_s${s0}_200x150:200:150" "$out/ref_s${s0}_400x300:400:300" \
          "$out/ref_s${s0}_800x600:800:600" >"$out/refine_s${s0}.txt" ;;
      train)
        for v in "${variants[@]}"; do
          for seed in 1 2 3; do
            for g in "800 600" "400 300"; do
              set -- $g
              SEED=$seed NX=$1 NV=$2 $F/run.sh "$out" "$s0" 10000 "$v" >"$out/err_s${s0}_${v%%:*}_seed${seed}_$1x$2.txt"
            done
          done
        done ;;
      dt)
        local dt=${DT_CHECK:-0.001}
        ref "$s0" 400 300; ref "$s0" 400 300 "$dt" "_dt$dt"
        /usr/bin/python3 $F/refine.py diff "$out/ref_s${s0}_400x300:400:300" "$out/ref_s${s0}_400x300_dt$dt:400:300" \
          >"$out/refine_s${s0}_dt$dt.txt" ;;
      xonly)
        ref "$s0" 400 300; ref "$s0" 800 300
        /usr/bin/python3 $F/refine.py diff "$out/ref_s${s0}_400x300:400:300" "$out/ref_s${s0}_800x300:800:300" \
          >"$out/refine_s${s0}_xonly400.txt"
        ref "$s0" 800 600; ref "$s0" 1600 600
        /usr/bin/python3 $F/refine.py diff "$out/ref_s${s0}_800x600:800:600" "$out/ref_s${s0}_1600x600:1600:600" \
          >"$out/refine_s${s0}_xonly800.txt" ;;
      x3200)
        ref "$s0" 1600 600; ref "$s0" 3200 600
        /usr/bin/python3 $F/refine.py diff "$out/ref_s${s0}_1600x600:1600:600" "$out/ref_s${s0}_3200x600:3200:600" \
          >"$out/refine_s${s0}_xonly1600.txt" ;;
      *) echo "unknown phase $ph" >&2; exit 2 ;;
    esac
  done
}

pids=()
for s0 in ${SIGMAS:-1 0.5}; do
  chain "$s0" >"$out/chain_s$s0.log" 2>&1 &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
/usr/bin/python3 $F/table.py "$out"
exit $rc
