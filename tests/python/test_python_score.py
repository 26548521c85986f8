"""The score API of the Python module (docs/python.md, "Score models") against the scorefit CLI:
the same data, seed and settings give identical weights; score models go Python -> file -> CLI and
CLI -> file -> Python unchanged; bad input raises ValueError / OSError; Ctrl-C stops a fit.

Run through ctest (PYTHONPATH = <build>/python). The scorefit binary comes from $SCOREFIT, else
<build>/apps/scorefit/scorefit next to the module.
"""
import _thread
import os
import subprocess
import threading
import time

import h5py
import numpy as np
import pytest

import sdescore as sd

# small and fast: a few hundred steps of a 16x16 network
SETTINGS = dict(batch=64, groups=4, pool_size=64, pools=8, reference_size=32, hidden=[16, 16], schedule="fixed",
                delta=0.02, warmup=10)
CLI_FLAGS = ["--batch", "64", "--groups", "4", "--pool-size", "64", "--pools", "8", "-R", "32", "--hidden", "16,16",
             "--schedule", "fixed", "--delta", "0.02", "--warmup", "10"]


def app_binary(name):
    """$SDESIM / $SCOREFIT, else <build>/apps/<name>/<name> beside <build>/python on PYTHONPATH."""
    exe = os.environ.get(name.upper())
    if not exe:
        for p in os.environ.get("PYTHONPATH", "").split(os.pathsep):
            cand = os.path.join(p, os.pardir, "apps", name, name)
            if p and os.path.exists(cand):
                exe = os.path.abspath(cand)
                break
    if not exe or not os.path.exists(exe):
        pytest.fail(f"{name} binary not found (set ${name.upper()})")
    return exe


def scorefit_binary():
    return app_binary("scorefit")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A double-well ensemble file (2000 paths, snapshots every 0.1 up to 1)."""
    path = tmp_path_factory.mktemp("score") / "dw.h5"
    subprocess.run([app_binary("sdesim"), "--model", "double_well", "--param", "T=0.5", "--init", "normal:0,0.5",
                    "--paths", "2000", "--dt", "0.01", "--t-end", "1", "--save-every", "10", "--seed", "1", "-q",
                    "-o", str(path)], check=True)
    return path


def ema_weights(path):
    with h5py.File(path, "r") as f:
        return f["score_model/network/ema_parameters"][()]


def test_fit_score_gives_the_weights_scorefit_train_gives(data, tmp_path):
    fit = sd.fit_score(data, objective="local-dsm", steps=150, seed=3, threads=1, progress=False, **SETTINGS)
    cli = tmp_path / "cli.h5"
    subprocess.run([scorefit_binary(), "train", "--data", str(data), "--steps", "150", "--seed", "3", "--threads", "2",
                    "-q", "-o", str(cli)] + CLI_FLAGS, check=True)
    w = ema_weights(cli)
    assert w.dtype == np.float32 and w.size == fit.ema_parameters.size
    assert np.array_equal(fit.ema_parameters, w)  # bit for bit, on 1 thread and on 2
    assert fit.steps_done == 150
    hist = fit.loss_history
    assert list(hist["step"]) == [50, 100, 150]
    assert np.all(np.isfinite(hist["loss"]))
    assert fit.config["delta"] == 0.02 and fit.config["hidden"] == [16, 16]
    # and an ISM fit too (another objective, another code path)
    ism = sd.fit_score(data, objective="ism", steps=100, seed=4, threads=1, progress=False, **SETTINGS)
    cli2 = tmp_path / "cli_ism.h5"
    subprocess.run([scorefit_binary(), "train", "--data", str(data), "--objective", "ism", "--steps", "100", "--seed", "4",
                    "-q", "-o", str(cli2)] + CLI_FLAGS, check=True)
    assert np.array_equal(ism.ema_parameters, ema_weights(cli2))


def test_the_default_schedule_is_auto_and_a_delta_alone_selects_fixed(data, tmp_path):
    small = {k: v for k, v in SETTINGS.items() if k not in ("schedule", "delta")}
    small_flags = CLI_FLAGS[:CLI_FLAGS.index("--schedule")] + CLI_FLAGS[CLI_FLAGS.index("--delta") + 2:]
    # default: auto, one Delta for the run (0.16 tau, tau from the double well's f'), the same in
    # Python and the CLI
    fit = sd.fit_score(data, steps=50, seed=2, threads=1, progress=False, **small)
    assert fit.config["schedule"] == "auto"
    cli = tmp_path / "auto.h5"
    out = subprocess.run([scorefit_binary(), "train", "--data", str(data), "--steps", "50", "--seed", "2", "-o", str(cli)]
                         + small_flags, check=True, capture_output=True, text=True).stdout
    assert "local step Delta = " in out and "schedule auto" in out
    assert np.array_equal(fit.ema_parameters, ema_weights(cli))
    with h5py.File(cli, "r") as f:
        sch = f["score_model/schedule"]
        assert sch.attrs["kind"] in ("auto", b"auto")
        tau = float(sch.attrs["relaxation_time"])
        delta = sch["delta"][()]
        # f'(x) = 4 - 12 x^2 on this data (N(0, 0.5^2) relaxing into the wells): tau in (0.05, 0.5)
        assert 0.05 < tau < 0.5
        base = float(sch.attrs["base_delta"])
        t = sch["time"][()]
        assert np.allclose(base, min(0.16 * tau, 0.04 * (t[-1] - t[0]) * 64 / 63), rtol=0.02)
        # Delta(t) = min(0.16 tau, max(base, 0.1 (t - t_first)), t - t_first), t_first = 0
        assert np.allclose(delta, np.minimum(np.minimum(0.16 * tau, np.maximum(base, 0.1 * t)), t))
    # delta given, schedule not: fixed at that Delta, in both
    fit = sd.fit_score(data, steps=50, seed=2, threads=1, progress=False, delta=0.03, **small)
    assert fit.config["schedule"] == "fixed" and fit.config["delta"] == 0.03
    cli = tmp_path / "fixed.h5"
    subprocess.run([scorefit_binary(), "train", "--data", str(data), "--steps", "50", "--seed", "2", "-q", "--delta", "0.03",
                    "-o", str(cli)] + small_flags, check=True)
    assert np.array_equal(fit.ema_parameters, ema_weights(cli))
    with h5py.File(cli, "r") as f:
        assert np.allclose(f["score_model/schedule/delta"][()], np.minimum(0.03, f["score_model/schedule/time"][()]))
    # an explicit schedule wins over the rule
    fit = sd.fit_score(data, steps=50, seed=2, threads=1, progress=False, delta=0.03, schedule="auto", **small)
    assert fit.config["schedule"] == "auto"


def test_score_models_round_trip_between_python_and_the_cli(data, tmp_path):
    fit = sd.fit_score(data, steps=100, seed=5, threads=1, progress=False, **SETTINGS)
    model = tmp_path / "py.h5"
    fit.save(model)
    pts = tmp_path / "pts.h5"
    y = np.linspace(-1.5, 1.5, 13).reshape(-1, 1)
    t = np.linspace(0.2, 1.0, 13)
    with h5py.File(pts, "w") as f:
        f["points"] = y
        f["time"] = t
    out = tmp_path / "out.h5"
    subprocess.run([scorefit_binary(), "score", "--model", str(model), "--input", str(pts), "-o", str(out)], check=True)
    with h5py.File(out, "r") as f:
        cli_score = f["score"][()]
    np.testing.assert_array_equal(cli_score, fit.score(y, t))  # Python -> file -> CLI
    # CLI -> file -> Python: a model trained by scorefit loads and answers like the CLI does
    cli_model = tmp_path / "cli.h5"
    subprocess.run([scorefit_binary(), "train", "--data", str(data), "--steps", "100", "--seed", "6", "-q", "-o",
                    str(cli_model)] + CLI_FLAGS, check=True)
    subprocess.run([scorefit_binary(), "score", "--model", str(cli_model), "--input", str(pts), "-o", str(tmp_path / "o2.h5")],
                   check=True)
    loaded = sd.load_score(cli_model)
    with h5py.File(tmp_path / "o2.h5", "r") as f:
        np.testing.assert_array_equal(f["score"][()], loaded.score(y, t))
    assert loaded.model == "double_well" and loaded.dim == 1 and loaded.steps_done == 100
    assert loaded.config["seed"] == 6


def test_diffusion_score_and_velocity_use_the_models_diffusion(data):
    fit = sd.fit_score(data, steps=50, seed=1, threads=1, progress=False, **SETTINGS)
    y = np.array([[-1.0], [0.0], [0.3], [1.2]])
    s = fit.score(y, 0.5)
    T = 0.5  # D = T for the double well (G = sqrt(2T))
    np.testing.assert_allclose(fit.diffusion_score(y, 0.5), T * s, rtol=1e-12)
    f = -4 * y * (y ** 2 - 1)  # a = 1
    np.testing.assert_allclose(fit.velocity(y, 0.5), f - T * s, rtol=1e-12, atol=1e-12)
    # one point (d,) gives (d,); lists are fine
    assert fit.score([0.3], 0.5).shape == (1,)
    np.testing.assert_allclose(fit.score([0.3], 0.5), s[2], rtol=1e-6)  # float32 network: batch of 1 vs many may round differently


def test_physics_and_compare_from_python(data, tmp_path):
    fit = sd.fit_score(data, steps=100, seed=2, threads=1, progress=False, **SETTINGS)
    out = tmp_path / "phys.h5"
    ph = sd.physics(fit, data, times=[0.5, 1.0], flow_samples=20, n=21, threads=1, output=out)
    assert ph["ensemble"]["samples"] == 200  # the held-out paths (every 10th of 2000)
    assert ph["grid"]["velocity"].shape == (2, 21, 1)
    assert np.all(np.isfinite(ph["ensemble"]["entropy_production"]))
    assert out.exists()
    study = sd.compare(data, objectives=["local-dsm"], seeds=[1], steps=100, eval_times=[0.5, 1.0], eval_every=50,
                       flow_samples=50, reverse_steps=20, fp_cells=[200], threads=1, progress=False,
                       output=tmp_path / "study.h5", **SETTINGS)
    assert len(study["runs"]) == 1 and study["runs"][0]["objective"] == "local-dsm"
    assert study["has_reference"] and study["runs"][0]["score_error"].shape == (2,)
    out_frac = study["runs"][0]["flow_outside_fraction"]  # flow samples dropped for leaving the range
    assert out_frac.shape == (2,) and out_frac[0] == 0 and np.all((out_frac >= 0) & (out_frac <= 1))
    assert (tmp_path / "study.csv").exists() and (tmp_path / "study.md").exists()
    check = study["reference_check_score_error"]  # the reference on 100 cells against 200: its own error
    assert study["reference_cells"] == [200] and check.shape == (2,) and np.all((check > 0) & (check < 0.05))
    quick = sd.compare(data, objectives=["local-dsm"], seeds=[1], steps=50, eval_times=[0.5, 1.0], eval_every=50,
                       flow_samples=20, reverse_steps=0, fp_cells=[201], fp_check=False, threads=1, progress=False,
                       output=tmp_path / "quick.h5", **SETTINGS)
    assert "reference_check_score_error" not in quick and quick["reference_cells"] == [201]
    summary = (tmp_path / "quick.md").read_text()
    assert "| skipped (reverse_steps 0) |" in summary  # no generation was run: not a number
    assert "Its own error was not measured" in summary
    with pytest.raises(ValueError, match="fp_advection = 'upwind2' is not a Fokker-Planck advection flux: use upwind3 or upwind1"):
        sd.compare(data, objectives=["local-dsm"], seeds=[1], steps=50, fp_advection="upwind2", threads=1, progress=False,
                   **SETTINGS)


def test_bad_input_raises_the_documented_exceptions(data, tmp_path):
    fit = sd.fit_score(data, steps=50, seed=1, threads=1, progress=False, **SETTINGS)
    with pytest.raises(ValueError, match=r"expected \(n, 1\) or \(1,\)"):
        fit.score(np.zeros((4, 2)), 0.5)
    with pytest.raises(ValueError, match=r"expected a number or shape \(4,\)"):
        fit.score(np.zeros((4, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="array-like of numbers"):
        fit.velocity("abc", 0.5)
    with pytest.raises(ValueError, match="valid objectives are local-dsm"):
        sd.fit_score(data, objective="sliced", steps=10, progress=False)
    with pytest.raises(ValueError, match="unknown training setting 'delta_maks'"):
        sd.fit_score(data, steps=10, delta_maks=0.1, progress=False)
    with pytest.raises(ValueError, match="reference size R = 1000 is invalid"):
        sd.fit_score(data, steps=10, progress=False, **{**SETTINGS, "reference_size": 1000})
    with pytest.raises(OSError):
        sd.fit_score(tmp_path / "missing.h5", steps=10, progress=False)
    with pytest.raises(OSError, match="not an sdescore score model"):
        sd.load_score(data)
    fit.save(tmp_path / "s.h5")
    with pytest.raises(OSError, match="--force|exists"):
        fit.save(tmp_path / "s.h5")
    with pytest.raises(ValueError, match="trained on every path"):
        sd.compare(data, objectives=["ism"], seeds=[1], steps=10, holdout_every=0, progress=False)
    with pytest.raises(sd.NumericalError):
        sd.fit_score(data, steps=200, seed=1, threads=1, progress=False, **{**SETTINGS, "lr": 1e30, "clip": 0.0})


def test_ctrl_c_stops_a_fit_promptly(data):
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        sd.fit_score(data, steps=1_000_000, seed=1, threads=1, progress=False, **SETTINGS)
    timer.cancel()
    assert time.monotonic() - t0 < 30


def test_a_progress_callback_that_raises_stops_compare_and_leaves_no_report(data, tmp_path):
    def stop(done, total):
        raise KeyboardInterrupt

    out = tmp_path / "study.h5"
    with pytest.raises(KeyboardInterrupt):
        sd.compare(data, objectives=["local-dsm"], seeds=[1], steps=200, progress=stop, output=out, **SETTINGS)
    assert not out.exists() and not (tmp_path / "study.csv").exists()
