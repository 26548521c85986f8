"""In-place vectorised numpy Euler-Maruyama loop for the double well (baseline (c)).
Prints particle-steps per second (process CPU time, or wall time with a third argument "wall").
Usage: python3 numpy_euler.py [paths] [steps] [cpu|wall]"""
import sys
import time

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
clock = time.perf_counter if len(sys.argv) > 3 and sys.argv[3] == "wall" else time.process_time
a, T, dt = 1.0, 0.5, 1e-3
sig = np.sqrt(2 * T * dt)
rng = np.random.default_rng(1)
times = []
for rep in range(4):  # one untimed warm-up, then the median of three (as the C++ cases)
    x = np.full(n, 0.5)
    z = np.empty(n)
    f = np.empty(n)
    t0 = clock()
    for k in range(steps):
        rng.standard_normal(out=z)
        np.multiply(x, x, out=f)        # f = x^2
        f -= 1.0                        # x^2 - 1
        f *= x                          # x (x^2 - 1)
        f *= -4 * a * dt                # drift * dt
        z *= sig
        f += z
        x += f
    if rep > 0:
        times.append(clock() - t0)
print(f"{n * steps / sorted(times)[1]:.6e}")
