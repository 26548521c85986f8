#!/usr/bin/env python3
"""sdesim --sweep (docs/simulation.md, "Parameter sweeps"): the real binary writes small sweeps
into a temporary directory, checked with h5py and xarray (engine="h5netcdf"):
  - the layout: one leading axis per swept parameter, a float64 scale holding its values
    (numpy.linspace for A:B:N), xarray's dimensions and coordinates;
  - every point's paths (and --stats-only statistics) are byte for byte those of the single
    sdesim run with --param NAME=VALUE and otherwise the same options;
  - a grid of two parameters (row-major, the first --sweep outermost);
  - bad input: exit 2, a message naming the value and what is valid, no file at the target.

Usage: test_sdesim_sweep.py PATH/TO/sdesim
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import xarray as xr

POS = "particles/ensemble/position"
OBS = "observables/ensemble"


def run(sdesim, *args, expect=0):
    p = subprocess.run([sdesim, *args], capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"sdesim {' '.join(args)}: exit code {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def same_bytes(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, f"{what}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
    assert a.tobytes() == b.tobytes(), f"{what}: the bytes differ (largest difference {np.max(np.abs(a - b))})"


def check_paths(sdesim, tmp):
    common = ["--model", "double_well", "--param", "a=1.5", "--init", "normal:0,0.5", "--paths", "300",
              "--dt", "0.01", "--t-end", "0.5", "--save-every", "10", "--seed", "11", "-q"]
    out = os.path.join(tmp, "sweep.h5")
    run(sdesim, *common, "--threads", "2", "--sweep", "T=0.3:0.7:5", "-o", out)
    values = np.linspace(0.3, 0.7, 5)
    with h5py.File(out, "r") as f:
        v = f[POS + "/value"]
        assert v.shape == (5, 6, 300, 1), v.shape
        same_bytes(f[POS + "/T"][()], values, "the T scale vs numpy.linspace(0.3, 0.7, 5)")
        par = f["parameters"].attrs
        assert list(par["sweep"]) == ["T=0.3:0.7:5"], par["sweep"]
        assert "T" not in f["parameters/model_parameters"].attrs  # its values are the scale
        assert f["parameters/model_parameters"].attrs["a"] == 1.5
        assert "--sweep T=0.3:0.7:5" in par["resolved_command_line"], par["resolved_command_line"]
        assert par["resolved_command_line"].endswith("-o " + out)
        for i in (0, 2, 4):  # the single runs of three points, byte for byte
            one = os.path.join(tmp, f"one{i}.h5")
            run(sdesim, *common, "--param", f"T={values[i]!r}", "--threads", "1", "-o", one)
            with h5py.File(one, "r") as g:
                same_bytes(v[i], g[POS + "/value"][()], f"point {i} (T = {values[i]!r}) vs its single run")
                for k in ("time", "step", "path", "dim"):
                    same_bytes(f[POS + "/" + k][()], g[POS + "/" + k][()], k)
    with xr.open_dataset(out, engine="h5netcdf", group=POS) as ds:
        assert ds["value"].dims == ("T", "snapshot", "path", "dim"), ds["value"].dims
        for c in ("T", "snapshot", "path", "dim", "time", "step"):
            assert c in ds.coords, f"xarray: {c!r} is not a coordinate"
        assert ds["time"].dims == ("snapshot",)
        x = ds["value"].sel(T=values[2]).swap_dims(snapshot="time").sel(time=0.5)
        assert x.shape == (300, 1)
        # a statistical sanity check: a colder double well is more concentrated in its wells
        assert abs(float(ds["value"].isel(snapshot=-1).mean())) < 0.3


def check_grid_and_stats(sdesim, tmp):
    common = ["--model", "ou2d", "--init", "normal:0,1", "--paths", "1000", "--dt", "0.01", "--t-end", "0.2",
              "--seed", "5", "--stats-only", "--hist", "0:-4:4:16", "--hist", "1:-4:4:16", "-q"]
    a, b = "B11", "mu1"  # drift matrix entry and stationary mean of ou2d
    va, vb = [1.0, 1.5], [0.0, 0.5, -1.0]
    out = os.path.join(tmp, "grid.h5")
    run(sdesim, *common, "--sweep", f"{a}={va[0]!r},{va[1]!r}", "--sweep", f"{b}={vb[0]!r},{vb[1]!r},{vb[2]!r}",
        "-o", out)
    with h5py.File(out, "r") as f:
        assert f[OBS + "/mean"].shape == (2, 3, 11, 2), f[OBS + "/mean"].shape
        assert f[OBS + "/covariance"].shape == (2, 3, 11, 2, 2)
        assert f[OBS + "/histogram"].shape == (2, 3, 11, 2, 16)
        for i, j in ((0, 0), (1, 2), (1, 1)):
            one = os.path.join(tmp, f"grid{i}{j}.h5")
            run(sdesim, *common, "--param", f"{a}={va[i]!r}", "--param", f"{b}={vb[j]!r}", "-o", one)
            with h5py.File(one, "r") as g:
                for k in ("mean", "covariance", "histogram"):
                    same_bytes(f[OBS + "/" + k][i, j], g[OBS + "/" + k][()], f"{k} of point ({a}={va[i]}, {b}={vb[j]})")
                same_bytes(f[OBS + "/bin_edges"][()], g[OBS + "/bin_edges"][()], "bin_edges")
    with xr.open_dataset(out, engine="h5netcdf", group=OBS) as ds:
        assert ds["mean"].dims == (a, b, "snapshot", "dim"), ds["mean"].dims
        assert ds["histogram"].dims == (a, b, "snapshot", "hist_coord", "bin")
        assert list(ds[b].values) == vb


def check_bad_input(sdesim, tmp):
    out = os.path.join(tmp, "bad.h5")
    base = ["--model", "double_well", "--paths", "100", "--dt", "0.01", "--t-end", "0.1", "-q", "-o", out]
    cases = [
        (["--sweep", "X=1:2:3"], ["X", "valid parameters are", "T"]),
        (["--sweep", "T=-1:1:3"], ["T = -1", "(0, inf)"]),
        (["--sweep", "T=0.1,0.2,-0.5"], ["T = -0.5", "(0, inf)"]),
        (["--sweep", "T=0.3:0.7:0"], ["N = 0", "1..1000000"]),
        (["--sweep", "T=0.3:0.7"], ["T=0.3:0.7", "NAME=A:B:N"]),
        (["--sweep", "T=0.3,x"], ["'x' is not a number"]),
        (["--sweep", "T"], ["NAME=A:B:N"]),
        (["--sweep", "T=0.5,0.5"], ["0.5 appears twice"]),
        (["--sweep", "T=0.1,0.2", "--sweep", "T=0.3,0.4"], ["swept twice"]),
        (["--sweep", "T=0.1,0.2", "--param", "T=0.3"], ["given both"]),
        (["--sweep", "T=0.1,0.2", "--checkpoint-every", "5"], ["--checkpoint-every", "not available"]),
    ]
    for args, needles in cases:
        p = run(sdesim, *base, *args, expect=2)
        for n in needles:
            assert n in p.stderr, f"{args}: {p.stderr!r} does not mention {n!r}"
        assert not os.path.exists(out), f"{args}: a file was written"
    # A point that diverges (exit 4) leaves no file either.
    p = run(sdesim, "--model", "double_well", "--paths", "100", "--dt", "0.5", "--t-end", "50", "--init", "point:3",
            "--sweep", "a=0.001,50", "-q", "-o", out, expect=4)
    assert "non-finite" in p.stderr, p.stderr
    assert not os.path.exists(out)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sdesim = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="sdesim-sweep-") as tmp:
        check_paths(sdesim, tmp)
        check_grid_and_stats(sdesim, tmp)
        check_bad_input(sdesim, tmp)
        left = [n for n in os.listdir(tmp) if ".tmp-" in n]
        assert not left, f"temporaries left behind: {left}"
    print("OK: sdesim --sweep checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
