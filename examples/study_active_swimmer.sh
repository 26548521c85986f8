#!/usr/bin/env bash
# Case 2 of docs/results.md: active swimmer (gamma = 0.1, D = 1), p_0 = N(0, 1) per coordinate,
# local-DSM (which learns the noiseless x by ISM, docs/score-learning.md) and ISM side by side at
# t = 1, 3, 5: score and D s errors against compare's 2D Fokker-Planck reference (upwind3 on 800 x 400
# cells over the ensemble's extent, its own error measured against 400 x 200 and printed next to the
# errors; for a finer ranking use scripts/swimmer_frontier/), and probability-flow samples against the
# SDE marginals with their noise floor; then the physics.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-study}
mkdir -p "$out"
B=build/apps
cmake --build build --target sdesim scorefit >/dev/null
$B/sdesim/sdesim --model active_swimmer --init normal:0,1 --paths 100000 --dt 1e-3 \
  --t-end 5 --save-every 100 --seed 1 --threads 2 --force -o "$out/active_swimmer.h5"
$B/scorefit/scorefit compare --data "$out/active_swimmer.h5" --objectives local-dsm,ism \
  --steps 10000 --pool-size 256 -R 256 --t-min 0.5 --seeds 1 --eval-times 1,3,5 \
  --threshold 0.1 --eval-every 2000 --fp-cells 800,400 --fp-dt 0.005 --reverse-steps 0 --threads 1 --force -o "$out/active_swimmer_study.h5"
/usr/bin/python3 examples/plot_study.py "$out/active_swimmer_study.h5" -o "$out/active_swimmer_study.png"
# physics of a local-DSM score (the study's settings, 13,000 steps: ISM's 10,000 in training time): the swimmer is out of equilibrium, so its
# probability current and entropy production (in the noisy coordinate, docs/evaluation.md 5) stay > 0
$B/scorefit/scorefit train --data "$out/active_swimmer.h5" --objective local-dsm --steps 13000 --pool-size 256 -R 256 \
  --t-min 0.5 --seed 1 --threads 2 -q --force -o "$out/active_swimmer_score.h5"
$B/scorefit/scorefit physics --model "$out/active_swimmer_score.h5" --force -o "$out/active_swimmer_physics.h5"
/usr/bin/python3 examples/plot_physics.py "$out/active_swimmer_physics.h5" -o "$out/active_swimmer_physics.png"
