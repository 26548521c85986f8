#!/usr/bin/env bash
# Case 2 of docs/results.md (the hypoelliptic active swimmer): ensemble, Fokker-Planck references
# at two resolutions, one training run per variant, errors of s and D s against the finer one.
# usage: [SEED=k] [NX=400 NV=300] scripts/swimmer_frontier/run.sh OUTDIR SIGMA0 STEPS [variants...]
# A variant is NAME:OBJECTIVE:R:DELTA[:STEPS]; DELTA 'auto' runs the default schedule (auto), 'autoG' auto with --auto-growth G. Runs are niced; training uses 1 thread each.
# NX x NV is the reference the errors are taken against (also solved at NX/2 x NV/2 for its
# self-check); NX=800 NV=600 is session 11's (~11 min, ~1.6 GB per SIGMA0). A model already in
# OUTDIR is not retrained, so the same models can be scored against several references. Each
# training's CPU time (user, sys in s, /usr/bin/time) goes to OUTDIR/NAME_s<SIGMA0>_seed<k>.time;
# each grid to NAME_s<SIGMA0>_seed<k>_grid<NX>x<NV>.h5. scripts/swimmer_frontier/study.sh runs session 11's study.
# Session 6 (per seed 1, 2, 3 and SIGMA0 1, 0.5):
#   SEED=1 scripts/swimmer_frontier/run.sh out 1 10000 ism:ism:256:0.02 ldsm:local-dsm:1:0.02:13000 \
#     ldsm01:local-dsm:1:0.1:13000 plain:local-dsm-plain:1:0.02:22000
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1; s0=$2; steps=$3; shift 3; variants=("$@")
seed=${SEED:-1}
mkdir -p "$out"
B=build/apps
NX=${NX:-400}; NV=${NV:-300}
data="$out/swimmer_s$s0.h5"
[ -f "$data" ] || nice -n 10 $B/sdesim/sdesim --model active_swimmer --init normal:0,$s0 --paths 100000 --dt 1e-3 \
  --t-end 5 --save-every 100 --seed 1 --threads 2 --force -o "$data"
[ -x build/fp_reference ] || scripts/swimmer_frontier/build_fp_reference.sh build/fp_reference
for n in "$NX $NV" "$((NX / 2)) $((NV / 2))"; do
  set -- $n
  [ -f "$out/ref_s${s0}_$1x$2_t5.bin" ] || nice -n 10 build/fp_reference $1 $2 upwind3 0.005 $s0 "$out/ref_s${s0}_$1x$2"
done
lo="$(/usr/bin/python3 -c "print(f'{-4+4/$NX!r},{-5.5+5.5/$NV!r}')")"
hi="$(/usr/bin/python3 -c "print(f'{4-4/$NX!r},{5.5-5.5/$NV!r}')")"
grids=()
for v in "${variants[@]}"; do
  IFS=: read -r name obj R delta st <<<"$v"
  st=${st:-$steps}
  m="$out/${name}_s${s0}_seed$seed.h5"
  case $delta in
    auto) sched=(--schedule auto) ;;
    auto*) sched=(--schedule auto --auto-growth "${delta#auto}") ;;  # e.g. auto0.05
    *) sched=(--schedule fixed --delta "$delta") ;;
  esac
  [ -f "$m" ] || nice -n 10 /usr/bin/time -f "%U %S" -o "${m%.h5}.time" $B/scorefit/scorefit train --data "$data" --objective "$obj" --steps "$st" --pool-size 256 -R "$R" \
    "${sched[@]}" --t-min 0.5 --seed "$seed" --threads 1 -q --force -o "$m"
  nice -n 10 $B/scorefit/scorefit grid --model "$m" --times 1,3,5 --lo "$lo" --hi "$hi" --n "$NX,$NV" --force -o "${m%.h5}_grid${NX}x${NV}.h5"
  grids+=("${m%.h5}_grid${NX}x${NV}.h5")
done
/usr/bin/python3 scripts/swimmer_frontier/errors.py --ref "$out/ref_s${s0}_${NX}x${NV}" --nx $NX --nv $NV \
  --coarse "$out/ref_s${s0}_$((NX / 2))x$((NV / 2))" "${grids[@]}"
