"""The figure scripts on real outputs (issue 16): examples/plot_study.py on a 2D `scorefit
compare` report and examples/plot_physics.py on a 2D `scorefit physics` file, both written by the
real CLIs in the CMake fixtures. The checks are about what a reader sees: the score arrows cover
the region where the density is (in both directions, not a sliver), the current is drawn only
where the density is, and the axes frame that region.

    STUDY_H5=study.h5 PHYSICS_H5=physics.h5 /usr/bin/python3 -m pytest tests/python/test_plots.py
"""
import importlib.util
import os
import pathlib

import h5py
import matplotlib

matplotlib.use("Agg")
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
LEVEL = 1e-2  # the scripts draw fields where p >= LEVEL * max p


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def need(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.fail(f"{var} does not name an existing file (the CMake fixtures write it)")
    return path


def box(points):
    return points.min(0), points.max(0)


def test_study_score_arrows_cover_the_density_in_both_directions():
    path = need("STUDY_H5")
    with h5py.File(path, "r") as f:
        cells = f["reference/cell_centres"][()]
        dens = f["reference/density"][()][-1]
    support = cells[dens >= LEVEL * dens.max()]
    lo, hi = box(support)
    fig = load("plot_study").draw(path)
    ax = fig.axes[2]
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quivers) == 2, "reference and learned score"
    ref, learned = quivers
    off = np.asarray(ref.get_offsets())
    assert len(off) >= 100
    np.testing.assert_array_equal(off, np.asarray(learned.get_offsets()))
    assert ref.scale == learned.scale, "both fields at one scale"
    # spread over the support in both coordinates (the old figure put every arrow in one column)
    for k in range(2):
        assert np.ptp(off[:, k]) >= 0.7 * (hi[k] - lo[k]), f"arrows span too little of coordinate {k}"
        assert len(np.unique(off[:, k])) >= 10
    # every arrow on a cell where the density is
    nearest = np.argmin(((off[:, None, :] - cells[None, :, :]) ** 2).sum(-1), axis=1)
    assert np.all(dens[nearest] >= LEVEL * dens.max())
    # the axes frame the support: all of it, and not a much larger area
    for lim, k in ((ax.get_xlim(), 0), (ax.get_ylim(), 1)):
        assert lim[0] <= lo[k] and lim[1] >= hi[k]
        assert lim[1] - lim[0] <= 1.5 * (hi[k] - lo[k])


def test_study_error_panel_shows_the_references_own_error():
    path = need("STUDY_H5")
    with h5py.File(path, "r") as f:
        times = f["study/time"][()]
        check = f["reference/check_score_error"][()]  # compare's refinement check (on by default)
    ax = load("plot_study").draw(path).axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("reference's own error (200 x 200 vs half")]
    assert len(lines) == 1, "one line for the reference's own error, named with its grid"
    np.testing.assert_array_equal(lines[0].get_xdata(), times)
    np.testing.assert_array_equal(lines[0].get_ydata(), check)


def test_physics_current_drawn_only_where_the_density_is():
    path = need("PHYSICS_H5")
    with h5py.File(path, "r") as f:
        x, y = f["grid/x"][()], f["grid/y"][()]
        dens = f["grid/density"][()][-1]
    fig = load("plot_physics").draw(path)
    ax = fig.axes[2]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert lines, "the current is drawn as streamlines"
    pts = np.concatenate([np.concatenate(c.get_segments()) for c in lines if len(c.get_segments())])
    assert len(pts) >= 50
    # streamplot interpolates j bilinearly between grid nodes and stops a line where a node is
    # masked, so drawn points lie between four nodes where p >= LEVEL * max p; the last step of a
    # line may end just past the edge, so allow 1% (drawing the current wherever p > 0 puts ~5% of
    # the points of this fixture outside)
    fx = np.interp(pts[:, 0], x, np.arange(len(x)))
    fy = np.interp(pts[:, 1], y, np.arange(len(y)))
    ok = np.ones(len(pts), bool)
    for jx in (np.floor(fx), np.ceil(fx)):
        for jy in (np.floor(fy), np.ceil(fy)):
            ok &= dens[jx.astype(int), jy.astype(int)] >= LEVEL * dens.max()
    assert ok.mean() >= 0.99, f"{(~ok).sum()} of {len(pts)} streamline points lie next to nodes where p < {LEVEL} max p"
    keep = np.argwhere(dens >= LEVEL * dens.max())
    lo = np.array([x[keep[:, 0].min()], y[keep[:, 1].min()]])
    hi = np.array([x[keep[:, 0].max()], y[keep[:, 1].max()]])
    for lim, k in ((ax.get_xlim(), 0), (ax.get_ylim(), 1)):
        assert lim[0] <= lo[k] and lim[1] >= hi[k]
        assert lim[1] - lim[0] <= 1.5 * (hi[k] - lo[k])
