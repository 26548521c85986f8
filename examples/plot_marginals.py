#!/usr/bin/python3
"""Marginal histograms over time of an sdesim output file, as a PNG figure.

One panel per state coordinate; a few snapshot times are overlaid as step histograms
(densities), coloured from early to late.

    sdesim --model double_well --param T=0.5 --init normal:0,0.2 --paths 100000 \\
           --dt 1e-3 --t-end 2 --save-every 100 --seed 1 -o dw.h5
    examples/plot_marginals.py dw.h5 -o dw_marginals.png --times 5

Files written with --stats-only have no paths: for those the stored histograms are drawn
(if the run had --hist).
"""
import argparse
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def pick_snapshots(n_snapshots, n_times, explicit=None, times=None):
    if explicit:
        return sorted({s % n_snapshots for s in explicit})
    if times is not None and n_times >= n_snapshots:
        return list(range(n_snapshots))
    return sorted({int(round(i)) for i in np.linspace(0, n_snapshots - 1, max(n_times, 1))})


def coordinate_labels(f, group, dim):
    names = None
    if group is not None and "dim" in group and "coordinate_names" in group["dim"].attrs:
        names = [_str(n) for n in group["dim"].attrs["coordinate_names"]]
    return names if names and len(names) == dim else [f"$y_{d}$" for d in range(dim)]


def title_of(f):
    p = f["parameters"].attrs
    mp = ", ".join(f"{k}={float(v):g}" for k, v in f["parameters/model_parameters"].attrs.items())
    return (f"{_str(p['model'])} ({mp})\n{int(p['path_count'])} paths, {_str(p['stepper'])}, "
            f"dt={float(p['dt']):g}, init {_str(p['initial_law'])}")


def plot_paths(f, name, args):
    pos = f[f"particles/{name}/position"]
    value, time = pos["value"], pos["time"][()]
    S, P, D = value.shape
    snaps = pick_snapshots(S, args.times, args.snapshots, time)
    labels = coordinate_labels(f, pos, D)
    fig, axes = plt.subplots(1, D, figsize=(max(6.4, 4.2 * D + 0.8), 4.2), squeeze=False)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(snaps)))
    for d in range(D):
        ax = axes[0, d]
        data = {s: value[s, :, d] for s in snaps}
        allv = np.concatenate([x[np.isfinite(x)] for x in data.values()])
        lo, hi = np.quantile(allv, [0.001, 0.999]) if allv.size else (-1.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, args.bins + 1)
        for c, s in zip(colors, snaps):
            ax.hist(data[s], bins=edges, density=True, histtype="step", lw=1.5, color=c, label=f"t = {time[s]:g}")
        ax.set_xlabel(labels[d])
        ax.set_ylabel("density")
        ax.set_title(f"marginal of {labels[d]}")
    axes[0, -1].legend(fontsize="small", frameon=False)
    return fig


def plot_stats(f, name, args):
    g = f[f"observables/{name}"]
    if "histogram" not in g:
        raise SystemExit(f"{args.file}: stats-only file without histograms (run sdesim with --hist)")
    hist, edges, coords, time = g["histogram"][()], g["bin_edges"][()], g["hist_coord"][()], g["time"][()]
    S, C, B = hist.shape
    snaps = pick_snapshots(S, args.times, args.snapshots, time)
    fig, axes = plt.subplots(1, C, figsize=(max(6.4, 4.2 * C + 0.8), 4.2), squeeze=False)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(snaps)))
    n_paths = int(g.attrs["n_paths"])
    for c in range(C):
        ax = axes[0, c]
        width = np.diff(edges[c])
        for col, s in zip(colors, snaps):
            dens = hist[s, c] / (n_paths * width)
            ax.stairs(dens, edges[c], lw=1.5, color=col, label=f"t = {time[s]:g}")
        ax.set_xlabel(f"$y_{int(coords[c])}$")
        ax.set_ylabel("density")
        ax.set_title(f"marginal of $y_{int(coords[c])}$")
    axes[0, -1].legend(fontsize="small", frameon=False)
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="sdesim output file (HDF5)")
    ap.add_argument("-o", "--output", help="PNG to write (default: FILE with .png)")
    ap.add_argument("--times", type=int, default=5, help="number of snapshot times to overlay (default 5)")
    ap.add_argument("--snapshots", type=int, nargs="+", help="explicit snapshot indices (negative from the end)")
    ap.add_argument("--bins", type=int, default=60, help="histogram bins for path files (default 60)")
    ap.add_argument("--ensemble", default=None, help="ensemble name if the file holds several")
    ap.add_argument("--dpi", type=int, default=120)
    args = ap.parse_args(argv)
    out = args.output or (args.file.rsplit(".", 1)[0] + ".png")
    with h5py.File(args.file, "r") as f:
        ens = list(f.get("particles", {}))
        obs = list(f.get("observables", {}))
        if ens:
            name = args.ensemble or ("ensemble" if "ensemble" in ens else ens[0])
            fig = plot_paths(f, name, args)
        elif obs:
            fig = plot_stats(f, args.ensemble or obs[0], args)
        else:
            raise SystemExit(f"{args.file}: no /particles or /observables group: not an sdesim output")
        fig.suptitle(title_of(f), fontsize="medium")
    fig.tight_layout()
    fig.savefig(out, dpi=args.dpi)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
