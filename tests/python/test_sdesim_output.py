#!/usr/bin/env python3
"""Runs the real sdesim binary into a temporary directory and checks its output from Python:
the generic layout (check_ensemble_file from test_file_format.py) plus, with h5py and xarray
(engine="h5netcdf"), the shapes, dimension names, times, provenance attributes and values that
the command line asked for. Also checks exit codes and messages of a few bad invocations.

Usage: test_sdesim_output.py PATH/TO/sdesim
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_file_format import check_ensemble_file  # noqa: E402

GROUP = "particles/ensemble/position"


def run(sdesim, *args, expect=0):
    p = subprocess.run([sdesim, *args], capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"sdesim {' '.join(args)}: exit code {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def check_double_well(sdesim, tmp):
    out = os.path.join(tmp, "dw.h5")
    dt, save_every, t_end, paths = 0.01, 5, 0.5, 257
    common = ["--model", "double_well", "--param", "T=0.4", "--param", "a=1.5", "--init", "point:0.3",
              "--dt", str(dt), "--t-end", str(t_end), "--save-every", str(save_every), "--seed", "11",
              "--threads", "2", "--compress", "4"]
    args = common + ["--paths", str(paths), "-o", out]
    p = run(sdesim, *args)
    assert out in p.stdout and "particle-steps/s" in p.stdout, p.stdout
    assert p.stderr == "", f"progress output when not on a terminal: {p.stderr!r}"

    summary = check_ensemble_file(out)
    n_snap = round(t_end / dt) // save_every + 1
    assert summary["ensembles"] == {"ensemble": {"snapshots": n_snap, "paths": paths, "dim": 1}}, summary

    with h5py.File(out, "r") as f:
        par = f["parameters"].attrs
        assert par["model"] == "double_well"
        assert par["stepper"] == "euler_maruyama"
        assert par["dt"] == dt and int(par["save_every"]) == save_every
        assert int(par["seed"]) == 11 and par["seed"].dtype == np.uint64
        assert par["initial_law"] == "point:0.3"
        assert int(par["path_first"]) == 0 and int(par["path_count"]) == paths
        assert par["command_line"] == " ".join([sdesim, *args]), par["command_line"]
        assert par["resolved_command_line"].startswith("sdesim --model double_well --param T=0.4 --param a=1.5")
        assert par["t_end"] == t_end and int(par["n_steps"]) == 50
        assert dict(f["parameters/model_parameters"].attrs) == {"a": 1.5, "T": 0.4}
        v = f[GROUP + "/value"]
        assert v.compression == "gzip" and v.compression_opts == 4

    with xr.open_dataset(out, engine="h5netcdf", group=GROUP) as ds:
        x = ds["value"]
        assert x.dims == ("snapshot", "path", "dim") and x.shape == (n_snap, paths, 1)
        steps = np.arange(n_snap) * save_every
        assert np.array_equal(ds["step"].values, steps)
        assert np.array_equal(ds["time"].values, steps * dt), ds["time"].values
        assert np.array_equal(ds["path"].values, np.arange(paths))
        assert np.all(x.isel(snapshot=0).values == 0.3), "snapshot 0 is not the point init"
        last = x.isel(snapshot=-1).values
        assert np.all(np.isfinite(last)) and last.std() > 0.05, "paths did not move"
        # One explicit Euler-Maruyama step can be bounded: |x1 - x0 - f(x0) dt| = sqrt(2 T dt) |z|.
        x1 = run_one_step(sdesim, tmp)
        drift = -4 * 1.5 * 0.3 * (0.3 ** 2 - 1)
        z = (x1 - 0.3 - drift * dt) / np.sqrt(2 * 0.4 * dt)
        assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.std() - 1) < 0.1, (z.mean(), z.std())

    # Same seed, path range 100:57 -> exactly the matching slice.
    part = os.path.join(tmp, "part.h5")
    run(sdesim, *common, "--path-range", "100:57", "-q", "-o", part)
    with h5py.File(out, "r") as f, h5py.File(part, "r") as g:
        assert np.array_equal(f[GROUP + "/value"][:, 100:157, :], g[GROUP + "/value"][()])
        assert np.array_equal(g[GROUP + "/path"][()], 100 + np.arange(57))
    check_ensemble_file(part)
    return out


def run_one_step(sdesim, tmp):
    out = os.path.join(tmp, "one.h5")
    run(sdesim, "--model", "double_well", "--param", "T=0.4", "--param", "a=1.5", "--init", "point:0.3",
        "--paths", "4000", "--dt", "0.01", "--t-end", "0.01", "--save-every", "1", "--seed", "5", "-q", "-o", out)
    with h5py.File(out, "r") as f:
        return f[GROUP + "/value"][1, :, 0]


def check_stats_only(sdesim, tmp):
    out = os.path.join(tmp, "stats.h5")
    run(sdesim, "--model", "ou2d", "--init", "normal:0,1", "--paths", "2000", "--dt", "0.01", "--t-end", "1",
        "--stats-only", "--hist", "0:-4:4:40", "--hist", "1:-4:4:40", "-q", "-o", out)
    summary = check_ensemble_file(out)
    assert summary["ensembles"] == {}, "stats-only output stores paths"
    assert summary["observables"] == {"ensemble": {"snapshots": 11, "dim": 2, "histogram": True}}, summary
    with xr.open_dataset(out, engine="h5netcdf", group="observables/ensemble") as ds:
        assert ds["histogram"].shape == (11, 2, 40)
        counts = ds["histogram"].values.sum(axis=2)
        assert np.all(counts <= 2000) and np.all(counts >= 1990), counts
        assert np.allclose(ds["covariance"].isel(snapshot=0).values, np.eye(2), atol=0.1)


def check_checkpoint_resume(sdesim, tmp):
    """--keep-checkpoint, then --resume with a later --t-end equals one unsplit run."""
    common = ["--model", "underdamped_langevin", "--init", "normal:0,0.5", "--paths", "300", "--dt", "0.01",
              "--save-every", "10", "--seed", "3", "-q"]
    whole, first, ext = (os.path.join(tmp, n) for n in ("whole.h5", "first.h5", "ext.h5"))
    run(sdesim, *common, "--t-end", "1", "-o", whole)
    run(sdesim, *common, "--t-end", "0.5", "--checkpoint-every", "25", "--keep-checkpoint", "-o", first)
    ckpt = first + ".ckpt.h5"
    s = check_ensemble_file(ckpt)
    assert s["checkpoint"] and s["ensembles"]["trajectory"]["snapshots"] == 6, s
    run(sdesim, *common, "--t-end", "1", "--resume", ckpt, "-o", ext)
    with h5py.File(whole, "r") as f, h5py.File(ext, "r") as g:
        assert np.array_equal(f[GROUP + "/value"][()], g[GROUP + "/value"][()])
        assert np.array_equal(f[GROUP + "/time"][()], g[GROUP + "/time"][()])
        assert g["parameters"].attrs["stepper"] == "baoab"
        assert g["parameters"].attrs["resumed_from"] == ckpt
    # Resuming with another parameter is refused and writes nothing.
    bad = os.path.join(tmp, "bad.h5")
    p = run(sdesim, *common, "--param", "gamma=2", "--t-end", "1", "--resume", ckpt, "-o", bad, expect=2)
    assert "gamma" in p.stderr, p.stderr
    assert not os.path.exists(bad)


def check_bad_input(sdesim, tmp):
    out = os.path.join(tmp, "bad.h5")
    cases = [
        (["--model", "double_wel", "-o", out], 2, "double_wel"),
        (["--model", "double_well", "--param", "T=nan", "-o", out], 2, "nan"),
        (["--model", "double_well", "--dt", "-1", "-o", out], 2, "--dt = -1"),
        (["--model", "double_well", "--t-end", "1.0005", "-o", out], 2, "--t-end = 1.0005"),
        (["--model", "double_well", "--save-every", "3", "-o", out], 2, "--save-every = 3"),
        (["--model", "double_well", "--dt", "x", "-o", out], 2, "--dt"),
        (["--model", "double_well", "-o", os.path.join(tmp, "missing", "x.h5")], 3, "missing"),
    ]
    for args, code, needle in cases:
        p = run(sdesim, *args, expect=code)
        assert needle in p.stderr, f"{args}: {p.stderr!r} does not mention {needle!r}"
    assert not os.path.exists(out)
    # Refuse to overwrite; --force replaces.
    with open(out, "wb") as f:
        f.write(b"old")
    p = run(sdesim, "--model", "ou", "-q", "-o", out, expect=3)
    assert "--force" in p.stderr
    assert open(out, "rb").read() == b"old"
    run(sdesim, "--model", "ou", "-q", "--force", "-o", out)
    check_ensemble_file(out)
    # Listings.
    p = run(sdesim, "--list-models")
    assert "double_well" in p.stdout and "underdamped_langevin" in p.stdout
    p = run(sdesim, "--describe", "double_well")
    assert "euler_maruyama (default)" in p.stdout


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sdesim = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="sdesim-py-") as tmp:
        check_double_well(sdesim, tmp)
        check_stats_only(sdesim, tmp)
        check_checkpoint_resume(sdesim, tmp)
        check_bad_input(sdesim, tmp)
        left = [n for n in os.listdir(tmp) if ".tmp-" in n]
        assert not left, f"temporaries left behind: {left}"
    print("OK: sdesim output checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
