#!/usr/bin/env bash
# Scores models already trained by run.sh / study.sh against another reference, without
# retraining: per sigma0, variant and seed found in OUTDIR, `scorefit grid` on the NX x NV
# reference's cell centres, then errors.py into OUTDIR/err_s<s0>_<variant>_seed<k>_<NX>x<NV>.txt.
# The reference OUTDIR/ref_s<s0>_<NX>x<NV> must exist (study.sh's xonly / x3200 phases make
# 1600 x 600 and 3200 x 600). Grids are deleted after scoring (3200 x 600: ~90 MB each).
# usage: [SIGMAS="1 0.5"] scripts/swimmer_frontier/rescore.sh OUTDIR NX NV VARIANT...
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/../.."
out=$1; NX=$2; NV=$3; shift 3
lo="$(/usr/bin/python3 -c "print(f'{-4+4/$NX!r},{-5.5+5.5/$NV!r}')")"
hi="$(/usr/bin/python3 -c "print(f'{4-4/$NX!r},{5.5-5.5/$NV!r}')")"
for s0 in ${SIGMAS:-1 0.5}; do
  [ -f "$out/ref_s${s0}_${NX}x${NV}_t5.bin" ] || { echo "rescore: no reference $out/ref_s${s0}_${NX}x${NV}" >&2; exit 2; }
  for v in "$@"; do
    for m in "$out/${v}_s${s0}_seed"[0-9]*.h5; do  # every seed trained (not its grids)
      case $m in *_grid*) continue ;; esac
      seed=${m##*_seed}; seed=${seed%.h5}
      e="$out/err_s${s0}_${v}_seed${seed}_${NX}x${NV}.txt"
      [ -f "$m" ] && [ ! -s "$e" ] || continue
      g="${m%.h5}_grid${NX}x${NV}.h5"
      nice -n 10 build/apps/scorefit/scorefit grid --model "$m" --times 1,3,5 --lo "$lo" --hi "$hi" --n "$NX,$NV" --force -o "$g"
      /usr/bin/python3 scripts/swimmer_frontier/errors.py --ref "$out/ref_s${s0}_${NX}x${NV}" --nx "$NX" --nv "$NV" "$g" >"$e.tmp"
      mv "$e.tmp" "$e"
      rm -f "$g"
    done
  done
done
