#!/usr/bin/env bash
# Case 1 of docs/results.md: double well (T = 0.5, p_0 = N(0, 0.2^2), t in [0.1, 2]).
# local-DSM vs exact ISM vs Hutchinson ISM, same network (128x128 SiLU), 20,000 steps, 3 seeds,
# against a Fokker-Planck reference; time-to-accuracy at a relative score error of 0.02.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-study}
mkdir -p "$out"
B=build/apps
cmake --build build --target sdesim scorefit >/dev/null
$B/sdesim/sdesim --model double_well --param T=0.5 --init normal:0,0.2 --paths 100000 --dt 1e-3 \
  --t-end 2 --save-every 50 --seed 1 --threads 2 --force -o "$out/double_well.h5"
$B/scorefit/scorefit compare --data "$out/double_well.h5" --objectives local-dsm,ism,ism-hutchinson \
  --steps 20000 --seeds 1,2,3 --eval-times 0.1,0.5,1,1.5,2 \
  --threshold 0.02 --eval-every 1000 --threads 2 --force -o "$out/double_well_study.h5"
/usr/bin/python3 examples/plot_study.py "$out/double_well_study.h5" -o "$out/double_well_study.png"
# physics of one local-DSM score (seed 1, the study's settings): entropy production, entropy and
# probability current; the double well relaxes to equilibrium, so Pi(t) and j should fall to ~0
$B/scorefit/scorefit train --data "$out/double_well.h5" --objective local-dsm --steps 20000 \
  --seed 1 --threads 2 -q --force -o "$out/double_well_score.h5"
$B/scorefit/scorefit physics --model "$out/double_well_score.h5" --force -o "$out/double_well_physics.h5"
/usr/bin/python3 examples/plot_physics.py "$out/double_well_physics.h5" -o "$out/double_well_physics.png"
