#!/usr/bin/env bash
# The set-up command of the README: installs the Debian packages, builds sdesim, scorefit and the
# Python module,
# and runs the main job on the built-in default - the double well, simulated, its
# time-dependent score learned by local-DSM, and exported on a grid for plotting.
# Idempotent: re-running rebuilds what changed and rewrites the demo files (--force).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh
if [ ! -f build/build.ninja ]; then cmake --preset release; fi
cmake --build --preset release --target sdesim scorefit _sdescore -j "$(nproc)"

out="$root/demo"
mkdir -p "$out"
bin="$root/build/apps"
echo "[demo] 1/3 simulate: double well (T = 0.5), 40,000 paths from N(0, 0.2^2) to t = 2"
"$bin/sdesim/sdesim" --model double_well --param T=0.5 --init normal:0,0.2 --paths 40000 \
  --dt 1e-3 --t-end 2 --save-every 50 --seed 1 --force -o "$out/double_well.h5"
echo "[demo] 2/3 learn the score s(y, t) on t in [0.1, 2] by local-DSM"
"$bin/scorefit/scorefit" train --data "$out/double_well.h5" --objective local-dsm --steps 6000 \
  --t-min 0.1 --seed 1 --force -o "$out/double_well_score.h5"
echo "[demo] 3/3 export the learned score, D s and the probability-flow velocity on a grid"
"$bin/scorefit/scorefit" grid --model "$out/double_well_score.h5" --times 0.1,0.5,1,2 \
  --lo -2.5 --hi 2.5 --n 201 --force -o "$out/double_well_grid.h5"
cat <<MSG

sdescore is built (build/apps/sdesim/sdesim, build/apps/scorefit/scorefit). Demo outputs:
  ensemble     $out/double_well.h5        (H5MD: particles/ensemble/position/value [snapshot, path, dim])
  score model  $out/double_well_score.h5  (weights, loss curve, step schedule, provenance)
  score grid   $out/double_well_grid.h5   (score, diffusion_score, flow_velocity [time, x, component])
Python module:       PYTHONPATH=$root/build/python /usr/bin/python3 -c "import sdescore"   (docs/python.md)
Plot the marginals:  /usr/bin/python3 examples/plot_marginals.py $out/double_well.h5 -o $out/marginals.png
Run the tests:       scripts/test.sh
MSG
