#!/usr/bin/python3
"""Figures from a `scorefit physics` file (HDF5): entropy production, entropy and its rate vs
time, and the probability current on the grid (1D: j(x, t) curves; 2D: quiver over the density).

    /usr/bin/python3 examples/plot_physics.py physics.h5 -o physics.png
"""
import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def text(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def current_panel_2d(ax, x, y, dens, cur, level=1e-2):
    """Density as background and the probability current as streamlines, drawn only where
    p >= level * max p (elsewhere j = p v is the product of a tiny density and an unreliable
    velocity), line width proportional to |j|; the axes cover that region."""
    keep = dens >= level * dens.max()
    jx = np.where(keep, cur[..., 0], np.nan)
    jy = np.where(keep, cur[..., 1], np.nan)
    mag = np.hypot(jx, jy)
    top = np.nanmax(mag) if np.any(keep) else 1.0
    ax.pcolormesh(x, y, dens.T, shading="auto", cmap="Greys")
    # streamplot wants arrays indexed [y, x] on an evenly spaced grid
    ax.streamplot(x, y, jx.T, jy.T, color="tab:red", density=1.2, arrowsize=0.8,
                  linewidth=(0.4 + 2.0 * np.nan_to_num(mag / top)).T)
    ii, jj = np.nonzero(keep)
    x0, x1, y0, y1 = x[ii.min()], x[ii.max()], y[jj.min()], y[jj.max()]
    px, py = 0.08 * (x1 - x0), 0.08 * (y1 - y0)
    ax.set(xlim=(x0 - px, x1 + px), ylim=(y0 - py, y1 + py), xlabel="x", ylabel="y")


def draw(path):
    """The entropy / current figure of a physics file (a matplotlib Figure)."""
    with h5py.File(path, "r") as f:
        model = text(f.attrs["model"])
        e = {k: f["ensemble"][k][()] for k in f["ensemble"]}
        fl = {k: f["flow"][k][()] for k in f["flow"]} if "flow" in f else None
        g = {k: f["grid"][k][()] for k in f["grid"]} if "grid" in f else None

    ncol = 3 if g is not None else 2
    fig, ax = plt.subplots(1, ncol, figsize=(4.6 * ncol, 3.8))
    t = e["time"]
    ax[0].errorbar(t, e["entropy_production"], yerr=2 * e["entropy_production_stderr"], marker="o", ms=3,
                   label="Π on SDE samples (±2 s.e.)")
    if fl is not None:
        ax[0].plot(fl["time"], fl["entropy_production"], "s--", ms=3, label="Π along the learned flow")
        ax[0].plot(fl["time"], fl["medium_entropy_rate"], "^:", ms=3, label="medium entropy rate Π − dS/dt")
    ax[0].plot(t, e["drift_scale"], "k:", lw=1, label="drift scale E[fᵀD⁺f]")
    ax[0].set_yscale("symlog", linthresh=1e-3)
    ax[0].set_xlabel("t")
    ax[0].set_title(f"{model}: entropy production")
    ax[0].legend(fontsize=7)

    ax[1].plot(t, e["entropy_knn"], "o", ms=3, label="S, k-NN on SDE samples")
    if fl is not None:
        ax[1].plot(fl["time"], fl["entropy"], "-", label="S along the learned flow")
        ax2 = ax[1].twinx()
        ax2.plot(fl["time"], fl["entropy_rate"], "r--", lw=1, label="dS/dt (flow)")
        ax2.set_ylabel("dS/dt", color="r")
    ax[1].set_xlabel("t")
    ax[1].set_title("entropy S(t) = −E log p_t")
    ax[1].legend(fontsize=7, loc="lower right")

    if g is not None:
        x = g["x"]
        if "y" not in g:  # 1D: j(x) at a few times
            idx = np.unique(np.linspace(0, len(g["time"]) - 1, 5).round().astype(int))
            for i in idx:
                ax[2].plot(x, g["current"][i, :, 0], label=f"t = {g['time'][i]:.3g}")
            ax[2].set_xlabel("x")
            ax[2].set_title("probability current j = p v")
            ax[2].legend(fontsize=7)
        else:  # 2D: density and current at the last time
            i = len(g["time"]) - 1
            current_panel_2d(ax[2], x, g["y"], g["density"][i], g["current"][i])
            ax[2].set_title(f"density and current j at t = {g['time'][i]:.3g}")
    fig.tight_layout()
    return fig


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("physics")
    ap.add_argument("-o", "--output", default=None, help="PNG to write (default: input name with .png)")
    ap.add_argument("--dpi", type=int, default=110)
    a = ap.parse_args()
    out = a.output or a.physics.rsplit(".", 1)[0] + ".png"
    draw(a.physics).savefig(out, dpi=a.dpi)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
