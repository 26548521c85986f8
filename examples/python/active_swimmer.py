#!/usr/bin/python3
"""The active swimmer from Python: simulate, learn the score with local-DSM, draw the fields.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/active_swimmer.py -o swimmer.png
    ... --quick            (a small run for the test suite: under a minute on two busy cores)

Model (sd.describe_model("active_swimmer")): dx = (-x^3 + v) dt, dv = -gamma v dt + sqrt(2 gamma D) dW,
so the diffusion matrix D = G G^T / 2 = diag(0, gamma D) acts on v only. Steps:
  1. sd.simulate: paths from N(0, 0.5^2) in (x, v), snapshots up to t_end;
  2. sd.fit_score(objective="local-dsm"): the learned score s(y, t) ~ grad log p_t(y);
  3. at t = t_end, on a grid: the density p (a Gaussian KDE of the snapshot), the score s,
     D s (its v component: the only non-zero one), and the probability current
     J = p v_flow with v_flow = f - div D - D s (fit.velocity), drawn only where p is above
     1% of its maximum (elsewhere the network has seen no data and the fields mean nothing).
The figure is written with matplotlib's Agg backend; --data also saves the drawn arrays (.npz).
Exits 1 if a drawn value is not finite.
"""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import gaussian_kde  # noqa: E402

import sdescore as sd  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default="active_swimmer.png", help="PNG to write")
    ap.add_argument("--data", help="also save the drawn arrays to this .npz")
    ap.add_argument("--quick", action="store_true", help="a small run (tests): fewer paths, steps and a smaller net")
    ap.add_argument("--paths", type=int, help="paths to simulate (default 20000; --quick 4000)")
    ap.add_argument("--steps", type=int, help="training steps (default 3000; --quick 400)")
    ap.add_argument("--t-end", type=float, default=2.0, help="end time (default 2)")
    ap.add_argument("--gamma", type=float, default=0.5, help="inverse persistence time (default 0.5)")
    ap.add_argument("--grid", type=int, default=48, help="grid points per axis (default 48)")
    ap.add_argument("--threads", type=int, default=0, help="threads (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    paths = a.paths or (4000 if a.quick else 20000)
    steps = a.steps or (400 if a.quick else 3000)
    hidden = [32, 32] if a.quick else [64, 64]

    # 1. simulate
    ens = sd.simulate("active_swimmer", params={"gamma": a.gamma}, init="normal:0,0.5", paths=paths, dt=0.01,
                      t_end=a.t_end, save_every=int(round(a.t_end / 0.01)) // 20, seed=a.seed, threads=a.threads,
                      progress=False)
    # 2. learn the score
    fit = sd.fit_score(ens, objective="local-dsm", steps=steps, seed=a.seed, threads=a.threads, hidden=hidden,
                       batch=256, groups=8, pool_size=512, pools=32, reference_size=256, warmup=min(200, steps // 5),
                       progress=False)
    t = float(ens.time[-1])
    snap = ens.positions[-1]  # (N, 2): x, v at t_end

    # 3. the fields on a grid covering the snapshot
    lo, hi = np.percentile(snap, 0.5, axis=0), np.percentile(snap, 99.5, axis=0)
    pad = 0.15 * (hi - lo)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], a.grid)
    vs = np.linspace(lo[1] - pad[1], hi[1] + pad[1], a.grid)
    X, V = np.meshgrid(xs, vs)  # (grid_v, grid_x), as streamplot wants
    pts = np.column_stack([X.ravel(), V.ravel()])
    kde = gaussian_kde(snap[:: max(1, len(snap) // 5000)].T)  # at most 5000 points: fast enough
    p = kde(pts.T).reshape(X.shape)
    mask = p < 0.01 * p.max()
    s = fit.score(pts, t).reshape(*X.shape, 2)
    ds = fit.diffusion_score(pts, t).reshape(*X.shape, 2)
    vel = fit.velocity(pts, t).reshape(*X.shape, 2)
    J = p[..., None] * vel
    arrays = {"x": xs, "v": vs, "time": np.array(t), "density": p, "mask": mask, "score": s, "diffusion_score": ds,
              "velocity": vel, "current": J, "loss": np.asarray(fit.loss_history["loss"])}
    drawn = [p, s[~mask], ds[~mask], vel[~mask], J[~mask], arrays["loss"]]
    finite = all(np.isfinite(d).all() for d in drawn) and (~mask).sum() > 0
    if a.data:
        np.savez(a.data, **arrays)

    # 4. draw: density underneath, each field only where the density is
    m2 = np.repeat(mask[..., None], 2, axis=-1)
    sm, dsm, Jm = (np.ma.array(f, mask=m2) for f in (s, ds, J))
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    ext = [xs[0], xs[-1], vs[0], vs[-1]]
    for axi in ax:
        axi.imshow(np.ma.array(p, mask=mask), origin="lower", extent=ext, aspect="auto", cmap="Greys", alpha=0.6)
        axi.contour(X, V, p, levels=[0.01 * p.max()], colors="0.5", linewidths=0.8)
        axi.set_xlabel("position x")
        axi.set_ylabel("propulsion v")
    q = max(1, a.grid // 16)  # every q-th arrow: about 16 per axis
    sn = np.hypot(sm[..., 0], sm[..., 1])
    u = (sm / np.maximum(sn, 1e-12)[..., None])[::q, ::q]  # directions; the colour gives |s|
    qv = ax[0].quiver(X[::q, ::q], V[::q, ::q], u[..., 0], u[..., 1], sn[::q, ::q], cmap="viridis", pivot="middle",
                      scale=1.3 * len(xs[::q]), width=0.006)
    fig.colorbar(qv, ax=ax[0], label="|s|")
    ax[0].set_title(f"learned score s(y, t = {t:g})")
    im = ax[1].imshow(dsm[..., 1], origin="lower", extent=ext, aspect="auto", cmap="coolwarm",
                      vmin=-np.abs(dsm[..., 1]).max(), vmax=np.abs(dsm[..., 1]).max())
    fig.colorbar(im, ax=ax[1], label="(D s)_v")
    ax[1].set_title("D s (D = diag(0, gamma D): v component only)")
    Jn = np.hypot(Jm[..., 0], Jm[..., 1])
    Jx, Jv = Jm[..., 0].filled(np.nan), Jm[..., 1].filled(np.nan)
    sp = ax[2].streamplot(xs, vs, Jx, Jv, color=Jn.filled(np.nan), cmap="plasma", density=1.2, linewidth=1)
    fig.colorbar(sp.lines, ax=ax[2], label="|J|")
    ax[2].set_title("probability current J = p (f - div D - D s)")
    fig.suptitle(f"active swimmer, gamma = {a.gamma:g}: {paths} paths, local-DSM {steps} steps "
                 f"(final loss {arrays['loss'][-1]:.3g})")
    fig.savefig(a.output, dpi=90)
    print(f"wrote {a.output}" + (f" and {a.data}" if a.data else "") + f" (t = {t:g}, {int((~mask).sum())} grid points drawn)")
    if not finite:
        print("error: a drawn value is not finite", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
