"""A model file with three variables, end to end from Python: simulate, learn the score with the
default objective, and compare it with the exact score.

The model is a linear 3D Ornstein-Uhlenbeck process with a rotation in the x-y plane (a
non-gradient drift): dy = -(k y + w J y) dt + sqrt(2 D) dW, J the x-y rotation generator. From
p_0 = N(0, I) the law stays isotropic, p_t = N(0, s2(t) I) with s2(t) = e^{-2kt} + (D/k)(1 - e^{-2kt})
(the rotation commutes with k I and leaves an isotropic covariance unchanged), so the exact score
is -y / s2(t): written here by hand, independently of the library.

Run through ctest (PYTHONPATH = <build>/python).
"""
import numpy as np
import pytest

import sdescore as sd

OU3 = """name = "ou3_rotating"
variables = ["x", "y", "z"]
linear = true
drift = ["-k*x - w*y", "-k*y + w*x", "-k*z"]
diffusion = "sqrt(2*D)"
[parameters]
k = 1.0
w = 2.0
D = 0.25
"""
K, D = 1.0, 0.25


def s2(t):
    return np.exp(-2 * K * t) + (D / K) * (1 - np.exp(-2 * K * t))


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    path = tmp_path_factory.mktemp("model3d") / "ou3.toml"
    path.write_text(OU3)
    return sd.simulate(str(path), init="normal:0,1", paths=20_000, dt=1e-3, t_end=1.0, save_every=50, seed=3,
                       threads=2)


def test_three_variables_simulate_to_the_exact_law(ensemble):
    assert ensemble.positions.shape == (21, 20_000, 3)
    n = ensemble.positions.shape[1]
    for k in (5, 10, 20):
        t = ensemble.time[k]
        y = ensemble.positions[k]
        v = np.mean(y ** 2)  # 3n squares of N(0, s2): sd of their mean s2 sqrt(2 / 3n)
        assert abs(v - s2(t)) < 4 * s2(t) * np.sqrt(2 / (3 * n)) + 2e-3 * s2(t)  # + Euler's bias ~ k dt


def test_default_objective_learns_the_3d_score(ensemble):
    fit = sd.fit_score(ensemble, steps=1000, seed=1, threads=2, progress=False)
    rng = np.random.default_rng(5)
    errs = []
    for k in (6, 10, 16, 20):  # t = 0.3 ... 1
        t = ensemble.time[k]
        y = ensemble.positions[k][rng.choice(ensemble.positions.shape[1], 4000, replace=False)]
        exact = -y / s2(t)
        s = fit.score(y, t)
        assert s.shape == y.shape
        errs.append(np.sqrt(np.mean(np.sum((s - exact) ** 2, axis=1)) / np.mean(np.sum(exact ** 2, axis=1))))
    print("3D OU, local-DSM 1000 steps: relative L2 score error at t = 0.3, 0.5, 0.8, 1:", np.round(errs, 4))
    # Predicting 0 scores 1; measured (seed 1): 0.050-0.082 at 1,000 steps (0.042-0.046 at 3,000,
    # which took 3x the test's time); 0.15 leaves room for other seeds and standard libraries
    # while still requiring a learnt score.
    assert max(errs) < 0.15
