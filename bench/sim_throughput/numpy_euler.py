"""In-place vectorised numpy Euler-Maruyama loop for the double well (baseline (c)).
Prints particle-steps per second. Usage: python3 numpy_euler.py [paths] [steps]"""
import sys
import time

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
a, T, dt = 1.0, 0.5, 1e-3
sig = np.sqrt(2 * T * dt)
rng = np.random.default_rng(1)
best = 1e300
for rep in range(3):
    x = np.full(n, 0.5)
    z = np.empty(n)
    f = np.empty(n)
    t0 = time.perf_counter()
    for k in range(steps):
        rng.standard_normal(out=z)
        np.multiply(x, x, out=f)        # f = x^2
        f -= 1.0                        # x^2 - 1
        f *= x                          # x (x^2 - 1)
        f *= -4 * a * dt                # drift * dt
        z *= sig
        f += z
        x += f
    best = min(best, time.perf_counter() - t0)
print(f"{n * steps / best:.6e}")
