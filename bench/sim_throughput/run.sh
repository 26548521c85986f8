#!/usr/bin/env bash
# Builds the benchmark with the `bench` preset (-march=native, build-bench/) and prints the table.
# Other processes on the machine make the numbers noisy: run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset bench > /dev/null
cmake --build --preset bench --target bench_sim_throughput
PATHS=${PATHS:-100000}
STEPS=${STEPS:-1000}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(g++ --version | head -1)"
NUMPY=$(/usr/bin/python3 bench/sim_throughput/numpy_euler.py "$PATHS" 200)
./build-bench/bench/sim_throughput/bench_sim_throughput --paths "$PATHS" --steps "$STEPS" --numpy-rate "$NUMPY" "$@"
