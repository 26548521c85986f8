"""The Python face of the simulation run (python/, docs/python.md), run by ctest with
PYTHONPATH=<build>/python and SDESIM=<path to sdesim>:

- the same settings give bit-identical positions from sd.simulate and from the sdesim CLI;
- .positions / .time are views (base is the Ensemble; no copy) that keep it alive;
- bad input raises ValueError naming the value; files raise OSError; divergence NumericalError;
- Ctrl-C (SIGINT from a thread) stops a long run promptly with KeyboardInterrupt, no file left.
"""
import gc
import os
import signal
import subprocess
import threading
import time

import h5py
import numpy as np
import pytest

import sdescore as sd

SDESIM = os.environ.get("SDESIM", "")


def sdesim(*args):
    p = subprocess.run([SDESIM, *args], capture_output=True, text=True)
    assert p.returncode == 0, f"sdesim {' '.join(args)}: exit {p.returncode}\n{p.stderr}"


def stored(path):
    with h5py.File(path, "r") as f:
        g = f["particles/ensemble/position"]
        return g["time"][()], g["value"][()]


@pytest.mark.skipif(not SDESIM, reason="set SDESIM to the sdesim binary")
@pytest.mark.parametrize("model,params,init,cli_params", [
    ("active_swimmer", {"gamma": 0.1}, "normal:0,1", ["--param", "gamma=0.1"]),
    ("underdamped_langevin", {}, "stationary", []),  # the model's default stepper (baoab), its stationary law
])
def test_simulate_is_bit_identical_to_sdesim(tmp_path, model, params, init, cli_params):
    out = str(tmp_path / "cli.h5")
    sdesim("--model", model, *cli_params, "--init", init, "--paths", "777", "--dt", "0.01", "--t-end", "1",
           "--save-every", "10", "--seed", "5", "--threads", "1", "-q", "-o", out)
    ens = sd.simulate(model, params=params, init=init, paths=777, dt=0.01, t_end=1, save_every=10, seed=5,
                      threads=2, progress=False)
    t, x = stored(out)
    assert ens.positions.shape == x.shape == (11, 777, ens.dim)
    assert np.array_equal(ens.time, t)
    assert ens.positions.tobytes() == x.tobytes()  # bit for bit
    assert ens.model == model and ens.seed == 5 and ens.n_paths == 777
    assert ens.stepper == sd.describe_model(model)["default_stepper"]
    # written by simulate(output=...): the same bits again, and load_ensemble reads them back
    out2 = str(tmp_path / "py.h5")
    ens2 = sd.simulate(model, params=params, init=init, paths=777, dt=0.01, t_end=1, save_every=10, seed=5,
                       output=out2, progress=False)
    assert stored(out2)[1].tobytes() == x.tobytes()
    back = sd.load_ensemble(out2)
    assert back.positions.tobytes() == x.tobytes() and back.params == ens2.params


def test_arrays_are_views_of_the_ensemble():
    ens = sd.simulate("double_well", params={"T": 0.5}, init="normal:0,0.3", paths=300, dt=0.01, t_end=0.5,
                      seed=1, progress=False)
    p, t = ens.positions, ens.time
    assert p.base is ens and t.base is ens and ens.steps.base is ens
    assert np.shares_memory(p, ens.positions)  # every access is the same buffer, no copy
    assert p.dtype == np.float64 and p.flags.c_contiguous and p.shape == (11, 300, 1)
    assert np.array_equal(ens.steps, np.arange(0, 50 + 1, 5)) and np.array_equal(t, ens.steps * 0.01)  # t_k = k dt
    total = float(p.sum())
    del ens
    gc.collect()
    assert float(p.sum()) == total  # the view keeps the ensemble alive
    xa = sd.simulate("ou2d", paths=10, dt=0.1, t_end=1, progress=False).to_xarray()
    assert xa.dims == ("time", "path", "dim") and xa.shape == (11, 10, 2) and xa.attrs["model"] == "ou2d"


def test_progress_callable_and_model_listing():
    seen = []
    sd.simulate("ou", paths=64, dt=0.01, t_end=1, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) >= 10 and seen[-1] == (64 * 100, 64 * 100)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    names = [m["name"] for m in sd.list_models()]
    assert "double_well" in names and "active_swimmer" in names
    d = sd.describe_model("double_well")
    assert [q["name"] for q in d["params"]] == ["a", "T"] and d["default_stepper"] == "euler_maruyama"


@pytest.mark.parametrize("kwargs,words", [
    (dict(dt=-1.0), "dt = -1 is invalid"),
    (dict(t_end=1.005, dt=0.01), "t_end = 1.005 is not a whole number of steps of dt = 0.01"),
    (dict(save_every=7, dt=0.01, t_end=1), "save_every = 7 does not divide the 100 steps"),
    (dict(params={"b": 1.0}), "has no parameter 'b': valid parameters are a, T"),
    (dict(params={"T": -1.0}), "T = -1 is out of range"),
    (dict(stepper="baoab"), "stepper 'baoab' is not available for model double_well"),
    (dict(init="normal:0"), "normal:0"),
    (dict(paths=0), "paths = 0 is invalid"),
    (dict(paths=2.5), "paths = 2.5 is invalid"),
])
def test_bad_input_raises_value_error_naming_the_value(tmp_path, kwargs, words):
    out = tmp_path / "never.h5"
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(".", r"\.")):
        sd.simulate("double_well", output=out, progress=False, **kwargs)
    assert not out.exists()
    with pytest.raises(ValueError, match="unknown model 'nope': valid models are double_well"):
        sd.simulate("nope")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        sd.describe_model("nope")


def test_files_raise_os_error(tmp_path):
    with pytest.raises(OSError, match="missing.h5"):
        sd.load_ensemble(tmp_path / "missing.h5")
    bad = tmp_path / "text.h5"
    bad.write_text("not an HDF5 file")
    with pytest.raises(OSError, match="text.h5"):
        sd.load_ensemble(bad)
    with pytest.raises(OSError, match="does not exist"):
        sd.simulate("ou", paths=10, output=tmp_path / "no" / "dir.h5", progress=False)
    taken = tmp_path / "taken.h5"
    taken.write_text("keep me")
    with pytest.raises(OSError, match="already exists"):
        sd.simulate("ou", paths=10, output=taken, progress=False)
    assert taken.read_text() == "keep me"


def test_divergence_raises_numerical_error(tmp_path):
    assert issubclass(sd.NumericalError, RuntimeError)
    with pytest.raises(sd.NumericalError, match="non-finite"):
        sd.simulate("double_well", init="point:10", dt=0.5, t_end=50, paths=8, output=tmp_path / "x.h5",
                    progress=False)
    assert not (tmp_path / "x.h5").exists()


def test_ctrl_c_stops_promptly_with_keyboard_interrupt_and_no_file(tmp_path):
    out = tmp_path / "long.h5"
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            # 10^5 paths x 2 10^4 steps: minutes on 2 cores, far longer than the 0.5 s to the signal
            sd.simulate("double_well", init="normal:0,1", paths=100_000, dt=1e-3, t_end=20, threads=2,
                        output=out, progress=False)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 30  # promptly (sync points every 20 steps; a loaded machine)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary either


# ---- statistics-only runs, checkpoints and resume (sdesim's --stats-only, --hist,
# ---- --checkpoint-every, --keep-checkpoint, --resume) ----------------------------------------

@pytest.mark.skipif(not SDESIM, reason="set SDESIM to the sdesim binary")
def test_stats_only_equals_sdesim(tmp_path):
    cli = str(tmp_path / "cli.h5")
    sdesim("--model", "double_well", "--init", "normal:0,0.5", "--paths", "3000", "--dt", "0.01", "--t-end", "1",
           "--save-every", "20", "--seed", "9", "--stats-only", "--hist", "0:-2:2:16", "--threads", "1", "-q", "-o", cli)
    st = sd.simulate("double_well", init="normal:0,0.5", paths=3000, dt=0.01, t_end=1, save_every=20, seed=9,
                     stats_only=True, hist=[(0, -2, 2, 16)], threads=2, output=str(tmp_path / "py.h5"),
                     progress=False)
    with h5py.File(cli, "r") as f:
        g = f["observables/ensemble"]
        assert st["mean"].shape == (6, 1) and st["covariance"].shape == (6, 1, 1)
        assert np.array_equal(st["time"], g["time"][()])
        assert st["mean"].tobytes() == g["mean"][()].tobytes()  # bit for bit, any thread count
        assert st["covariance"].tobytes() == g["covariance"][()].tobytes()
        assert np.array_equal(st["histogram"], g["histogram"][()])
        assert np.array_equal(st["bin_edges"], g["bin_edges"][()])
    assert st["n_paths"] == 3000 and st["histogram"].shape == (6, 1, 16)
    assert st["histogram"][0].sum() <= 3000
    # no positions are kept or written: the file is a statistics file, not an ensemble
    with pytest.raises(OSError):
        sd.load_ensemble(tmp_path / "py.h5")
    assert sd.load_statistics(tmp_path / "py.h5")["mean"].tobytes() == st["mean"].tobytes()


def test_stats_only_and_checkpoints_need_an_output():
    with pytest.raises(ValueError, match="output"):
        sd.simulate("ou", paths=10, dt=0.1, t_end=0.2, stats_only=True, progress=False)
    with pytest.raises(ValueError, match="checkpoint_every"):
        sd.simulate("ou", paths=10, dt=0.1, t_end=0.2, checkpoint_every=1, progress=False)
    with pytest.raises(ValueError, match="hist"):
        sd.simulate("ou", paths=10, dt=0.1, t_end=0.2, hist=["0:-1:1:10"], output="never.h5", progress=False)
    assert not os.path.exists("never.h5")


@pytest.mark.parametrize("stats_only", [False, True])
def test_resume_is_bit_identical(tmp_path, stats_only):
    """A run stopped after its first checkpoint (a progress callback raises) and resumed gives the
    same file contents as one uninterrupted run."""
    kw = dict(init="normal:0,1", params={"gamma": 0.1}, paths=500, dt=0.01, t_end=2, save_every=20, seed=3,
              stats_only=stats_only)
    whole = sd.simulate("active_swimmer", output=str(tmp_path / "whole.h5"), progress=False, **kw)
    out = str(tmp_path / "run.h5")
    ckpt = sd.checkpoint_path(out)
    assert ckpt == out + ".ckpt.h5"

    class Stop(Exception):
        pass

    def stop_late(done, total):
        if done >= 0.75 * total:  # after the checkpoint at step 100 of 200
            raise Stop()

    with pytest.raises(Stop):
        sd.simulate("active_swimmer", output=out, checkpoint_every=100, progress=stop_late, **kw)
    assert not os.path.exists(out) and os.path.exists(ckpt)
    with h5py.File(ckpt, "r") as f:
        assert f["checkpoint"].attrs["step"] == 100
    # settings must match the checkpoint
    with pytest.raises(ValueError, match="seed"):
        sd.simulate("active_swimmer", output=out, resume=ckpt, **{**kw, "seed": 4}, progress=False)
    resumed = sd.simulate("active_swimmer", output=out, resume=ckpt, checkpoint_every=100, progress=False, **kw)
    assert not os.path.exists(ckpt)  # removed after a successful run (keep_checkpoint=False)
    if stats_only:
        for k in ("time", "step", "mean", "covariance"):
            assert resumed[k].tobytes() == whole[k].tobytes(), k
    else:
        assert resumed.positions.tobytes() == whole.positions.tobytes()
        assert np.array_equal(resumed.time, whole.time)
        assert stored(out)[1].tobytes() == stored(str(tmp_path / "whole.h5"))[1].tobytes()
    # keep_checkpoint keeps the last one
    sd.simulate("active_swimmer", output=str(tmp_path / "k.h5"), checkpoint_every=100, keep_checkpoint=True,
                progress=False, **kw)
    assert os.path.exists(sd.checkpoint_path(str(tmp_path / "k.h5")))


def test_comm_needs_the_mpi_build(tmp_path):
    """comm= (an mpi4py communicator) runs over MPI only in the MPI build's module
    (tests/mpi/test_mpi_python.py); this build refuses it by name, before touching any file."""
    if sd._sdescore.__mpi__:
        pytest.skip("this module was built with MPI: tests/mpi/test_mpi_python.py covers comm=")
    out = tmp_path / "x.h5"
    with pytest.raises(ValueError, match="built without MPI"):
        sd.simulate("double_well", paths=10, output=out, comm=object())
    with pytest.raises(ValueError, match="built without MPI"):
        sd.fit_score(tmp_path / "missing.h5", steps=10, comm=object())
    assert list(tmp_path.iterdir()) == []
