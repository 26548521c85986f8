#!/usr/bin/python3
"""Figures from a `scorefit compare` report (HDF5): score error vs time, accuracy vs training
time, learned vs reference score, and probability-flow samples vs SDE samples.

    /usr/bin/python3 examples/plot_study.py study.h5 -o study.png
"""
import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def cell_grid(cells):
    """The reference's cells as a regular grid: (x axis, y axis, index array (nx, ny) into cells)."""
    xs, ix = np.unique(cells[:, 0], return_inverse=True)
    ys, iy = np.unique(cells[:, 1], return_inverse=True)
    idx = np.full((len(xs), len(ys)), -1)
    idx[ix, iy] = np.arange(len(cells))
    return xs, ys, idx


def support_box(xs, ys, dens2d, level):
    """Bounding box (x0, x1, y0, y1) of the cells whose density is at least level * max."""
    keep = dens2d >= level * dens2d.max()
    ii, jj = np.nonzero(keep)
    return xs[ii.min()], xs[ii.max()], ys[jj.min()], ys[jj.max()]


def score_panel_2d(ax, cells, dens, ref, learned, label, colour, arrows=24, level=1e-2):
    """Density as background; reference and learned score as arrows on a grid of about
    arrows x arrows points spread over the region where p >= level * max p (subsampled in both
    directions, not along the flattened cell list), both drawn at one common scale."""
    xs, ys, idx = cell_grid(cells)
    d2 = np.where(idx >= 0, dens[np.maximum(idx, 0)], 0.0)
    x0, x1, y0, y1 = support_box(xs, ys, d2, level)
    ax.pcolormesh(xs, ys, d2.T, shading="auto", cmap="Greys", alpha=0.5)
    i = np.nonzero((xs >= x0) & (xs <= x1))[0]
    j = np.nonzero((ys >= y0) & (ys <= y1))[0]
    i = i[np.unique(np.linspace(0, len(i) - 1, arrows).round().astype(int))]
    j = j[np.unique(np.linspace(0, len(j) - 1, arrows).round().astype(int))]
    sel = idx[np.ix_(i, j)].ravel()
    sel = sel[(sel >= 0) & (dens[np.maximum(sel, 0)] >= level * dens.max())]
    # one scale for both fields: the 90th-percentile reference arrow spans about one arrow spacing
    spacing = min((x1 - x0) / max(len(i) - 1, 1), (y1 - y0) / max(len(j) - 1, 1))
    norm = np.percentile(np.hypot(ref[sel, 0], ref[sel, 1]), 90) / spacing if len(sel) else 1.0
    kw = dict(angles="xy", scale_units="xy", scale=norm if norm > 0 else 1.0, width=0.004)
    ax.quiver(cells[sel, 0], cells[sel, 1], ref[sel, 0], ref[sel, 1], color="k", alpha=0.7, label="Fokker-Planck", **kw)
    ax.quiver(cells[sel, 0], cells[sel, 1], learned[sel, 0], learned[sel, 1], color=colour, alpha=0.7, label=label, **kw)
    px, py = 0.08 * (x1 - x0), 0.08 * (y1 - y0)
    ax.set(xlim=(x0 - px, x1 + px), ylim=(y0 - py, y1 + py), xlabel="y0", ylabel="y1")
    ax.legend(loc="upper left", fontsize=8)


def draw(report):
    """The four-panel figure of a compare report (a matplotlib Figure)."""
    with h5py.File(report, "r") as f:
        times = f["study/time"][()]
        model = f["study"].attrs["model"]
        model = model.decode() if isinstance(model, bytes) else model
        has_ref = "reference" in f
        runs = {obj: {s: f["runs"][obj][s] for s in f["runs"][obj]} for obj in f["runs"]}
        d = f["sde_samples/half_b_last"].shape[1]
        fig, ax = plt.subplots(2, 2, figsize=(12, 9))
        colours = dict(zip(sorted(runs), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
        # (a) score error vs time, mean and spread over seeds
        for obj, seeds in sorted(runs.items()):
            if not has_ref:
                break
            e = np.array([g["score_error"][()] for g in seeds.values()])
            ax[0, 0].plot(times, e.mean(0), "o-", color=colours[obj], label=f"{obj} ({len(seeds)} seed{'s' if len(seeds) != 1 else ''})")
            ax[0, 0].fill_between(times, e.min(0), e.max(0), color=colours[obj], alpha=0.2)
        if has_ref and "check_score_error" in f["reference"]:
            # the reference's own error (the same solve on half the cells): errors, and differences
            # between objectives, below this line are not resolved by the reference
            cells_n = " x ".join(str(int(c)) for c in f["reference/grid_cells"][()])
            ax[0, 0].plot(times, f["reference/check_score_error"][()], "k--",
                          label=f"reference's own error ({cells_n} vs half the cells)")
        ax[0, 0].set(xlabel="t", ylabel="relative L2 score error", yscale="log", title="score error vs time")
        ax[0, 0].legend()
        # (b) accuracy vs training wall time
        for obj, seeds in sorted(runs.items()):
            for i, g in enumerate(seeds.values()):
                if "accuracy_trace" not in g:
                    continue
                tr = g["accuracy_trace"]
                ax[0, 1].plot(tr["train_seconds"][()], tr["score_error_rms"][()], color=colours[obj],
                              label=obj if i == 0 else None, alpha=0.8)
        ax[0, 1].set(xlabel="training wall time [s]", ylabel="rms score error over t", yscale="log",
                     title="time to accuracy")
        if has_ref:
            ax[0, 1].legend()
        # (c) learned vs reference score (first seed)
        if has_ref:
            cells = f["reference/cell_centres"][()]
            rs = f["reference/score"][()]
            dens = f["reference/density"][()]
            if d == 1:
                x = cells[:, 0]
                for k, t in enumerate(times):
                    keep = dens[k] > 1e-3 * dens[k].max()
                    line, = ax[1, 0].plot(x[keep], rs[k, keep, 0], "k-", lw=1)
                    for obj, seeds in sorted(runs.items()):
                        g = next(iter(seeds.values()))
                        ax[1, 0].plot(x[keep], g["score_on_grid"][k, keep, 0], "--", color=colours[obj], lw=1)
                ax[1, 0].set(xlabel="y", ylabel="score", title="learned (dashed) vs Fokker-Planck (black), all t")
            else:
                obj = sorted(runs)[0]
                g = next(iter(runs[obj].values()))
                score_panel_2d(ax[1, 0], cells, dens[-1], rs[-1], g["score_on_grid"][-1], obj, colours[obj])
                ax[1, 0].set_title(f"score at t = {times[-1]:g}: {obj} (colour) vs Fokker-Planck (black)")
        # (d) flow samples vs SDE samples at the last time
        sde = f["sde_samples/half_b_last"][()]
        if d == 1:
            bins = np.linspace(np.percentile(sde, 0.5), np.percentile(sde, 99.5), 60)
            ax[1, 1].hist(sde[:, 0], bins=bins, density=True, histtype="step", color="k", lw=2, label="SDE")
            for obj, seeds in sorted(runs.items()):
                g = next(iter(seeds.values()))
                ax[1, 1].hist(g["flow_samples_last"][:, 0], bins=bins, density=True, histtype="step",
                              color=colours[obj], label=f"{obj} flow")
            ax[1, 1].set(xlabel="y", ylabel="density")
        else:
            ax[1, 1].scatter(sde[:, 0], sde[:, 1], s=2, c="k", alpha=0.3, label="SDE")
            # frame the SDE samples: a few flow samples that run away would otherwise squeeze
            # everything into a corner; say how many lie outside
            lo, hi = np.percentile(sde, 0.1, axis=0), np.percentile(sde, 99.9, axis=0)
            lo, hi = lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo)
            for obj, seeds in sorted(runs.items()):
                g = next(iter(seeds.values()))
                fs = g["flow_samples_last"][()]
                out = int(np.sum(np.any((fs < lo) | (fs > hi), axis=1)))
                # samples that left the ensemble's range were dropped by compare (flow_outside_fraction)
                dropped = float(g["flow_outside_fraction"][-1]) if "flow_outside_fraction" in g else 0.0
                note = [f"{out} outside the frame"] if out else []
                if dropped > 0:
                    note.append(f"{100 * dropped:.2g} % left the range, dropped")
                ax[1, 1].scatter(fs[:, 0], fs[:, 1], s=2, color=colours[obj], alpha=0.3,
                                 label=f"{obj} flow" + (f" ({'; '.join(note)})" if note else ""))
            ax[1, 1].set(xlabel="y0", ylabel="y1", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
        ax[1, 1].set_title(f"probability-flow samples vs SDE at t = {times[-1]:g}")
        ax[1, 1].legend()
        fig.suptitle(f"scorefit compare: {model}")
        fig.tight_layout()
    return fig


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("-o", "--output", default=None, help="PNG to write (default: report name with .png)")
    ap.add_argument("--dpi", type=int, default=110)
    a = ap.parse_args()
    out = a.output or a.report.rsplit(".", 1)[0] + ".png"
    draw(a.report).savefig(out, dpi=a.dpi)
    print(out)


if __name__ == "__main__":
    main()
