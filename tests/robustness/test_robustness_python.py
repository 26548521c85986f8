"""Robustness of the Python module against careless or hostile input (issue #14), the Python half
of robustness.py: bad shapes, NaN/inf data (in files and in memory), unknown models and settings,
files of the wrong kind, a loss blow-up. Every case must raise the documented exception
(ValueError for bad input, OSError for files, sdescore.NumericalError for numerics) - never crash
or return - and leave nothing at the target (no file, no temporary).

Run by ctest (robustness_python) with PYTHONPATH=<build>/python.
"""
import os
import shutil

import h5py
import numpy as np
import pytest

import sdescore as sd

TINY = dict(batch=32, groups=2, pool_size=64, pools=4, reference_size=8, hidden=[8], schedule="fixed", delta=0.02,
            warmup=5)
VAL = "particles/ensemble/position/value"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    dw = str(d / "dw.h5")
    sd.simulate("double_well", init="normal:0,0.5", paths=200, dt=0.01, t_end=0.5, save_every=5, seed=1, output=dw,
                progress=False)

    def variant(name, edit):
        p = str(d / name)
        shutil.copy(dw, p)
        with h5py.File(p, "r+") as f:
            edit(f)
        return p

    def reshape(f, shape, dtype="f8"):
        del f[VAL]
        f.create_dataset(VAL, data=np.zeros(shape, dtype=dtype))

    files = {
        "dw": dw,
        # bad values in a middle snapshot and in the last one (what init="file:..." reads)
        "nan": variant("nan.h5", lambda f: [f[VAL].__setitem__((k, 7, 0), np.nan) for k in (3, 10)]),
        "inf": variant("inf.h5", lambda f: [f[VAL].__setitem__((k, 0, 0), np.inf) for k in (0, 10)]),
        "huge": variant("huge.h5", lambda f: [f[VAL].__setitem__((k, 11, 0), 1e300) for k in (5, 10)]),
        "wrong_dim": variant("wrongdim.h5", lambda f: reshape(f, (11, 200, 3))),
        "wrong_dtype": variant("wrongdtype.h5", lambda f: reshape(f, (11, 200, 1), "S4")),
    }
    with open(dw, "rb") as f, open(d / "truncated.h5", "wb") as g:
        g.write(f.read(os.path.getsize(dw) // 2))
    files["truncated"] = str(d / "truncated.h5")
    (d / "text.h5").write_text("not an HDF5 file\n")
    files["text"] = str(d / "text.h5")
    files["score"] = str(d / "score.h5")
    sd.fit_score(dw, steps=50, threads=1, progress=False, **TINY).save(files["score"])
    return files


@pytest.fixture()
def target(tmp_path):
    """An output path in an empty folder; after the case: no file there and no temporary."""
    out = tmp_path / "out.h5"
    yield str(out)
    assert os.listdir(tmp_path) == [], f"left behind: {os.listdir(tmp_path)}"


class Fake:
    """An in-memory ensemble as fit_score accepts it: .time (T,), .positions (T, N, D), .info."""

    def __init__(self, ens, positions=None, time=None):
        self.time = ens.time.copy() if time is None else time
        self.positions = ens.positions.copy() if positions is None else positions
        self.info = ens.info


# ---- simulate ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,match", [
    (dict(model="nope"), "nope"),
    (dict(model="ou", paths=0), "paths"),
    (dict(model="ou", dt=float("nan")), "dt"),
    (dict(model="ou", t_end=float("inf")), "t_end"),
    (dict(model="ou", params={"theta": -1.0}), "theta"),
    (dict(model="ou", init="normal:0"), "init|normal"),
    (dict(model="ou", stepper="rk99"), "rk99"),
    (dict(model="ou", threads=100000), "threads"),
    (dict(model="ou", hist=["0:-1:1:10"]), "stats_only"),
])
def test_simulate_refuses_bad_settings(target, kw, match):
    kw = {"paths": 10, "dt": 0.1, "t_end": 0.2, **kw}
    with pytest.raises(ValueError, match=match):
        sd.simulate(output=target, progress=False, **kw)


@pytest.mark.parametrize("kind", ["nan", "inf", "huge", "truncated", "text", "wrong_dim", "wrong_dtype", "score"])
def test_simulate_init_from_a_bad_file(corpus, target, kind):
    with pytest.raises((ValueError, OSError, sd.NumericalError)):
        sd.simulate("double_well", init="file:" + corpus[kind], paths=20, dt=0.01, t_end=0.1, output=target,
                    progress=False)


def test_simulate_resume_from_a_non_checkpoint(corpus, target):
    with pytest.raises((ValueError, OSError)):
        sd.simulate("double_well", paths=200, dt=0.01, t_end=0.5, resume=corpus["dw"], output=target, progress=False)


# ---- files of the wrong kind -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["truncated", "text", "wrong_dtype", "score"])
def test_load_ensemble_refuses_bad_files(corpus, kind):
    with pytest.raises(OSError):
        sd.load_ensemble(corpus[kind])


@pytest.mark.parametrize("kind", ["truncated", "text", "dw"])
def test_load_score_refuses_bad_files(corpus, kind):
    with pytest.raises(OSError):
        sd.load_score(corpus[kind])


def test_load_statistics_refuses_a_path_file(corpus):
    with pytest.raises(OSError):
        sd.load_statistics(corpus["dw"])


# ---- fit_score: data refused before training -------------------------------------------------
@pytest.mark.parametrize("kind,exc", [("nan", ValueError), ("inf", ValueError), ("huge", ValueError),
                                      ("truncated", OSError), ("text", OSError), ("score", OSError),
                                      ("wrong_dim", (ValueError, OSError)), ("wrong_dtype", (ValueError, OSError))])
def test_fit_score_refuses_bad_files(corpus, kind, exc):
    with pytest.raises(exc) as e:
        sd.fit_score(corpus[kind], steps=20, threads=1, progress=False, **TINY)
    if kind in ("nan", "inf", "huge"):
        assert "path" in str(e.value) and "snapshot" in str(e.value)  # names where the bad value is


def test_fit_score_refuses_bad_arrays_in_memory(corpus):
    ens = sd.load_ensemble(corpus["dw"])
    bad = ens.positions.copy()
    bad[4, 17, 0] = np.nan
    with pytest.raises(ValueError, match="path 17"):
        sd.fit_score(Fake(ens, positions=bad), steps=20, threads=1, progress=False, **TINY)
    with pytest.raises(ValueError):  # (T, N) instead of (T, N, D)
        sd.fit_score(Fake(ens, positions=ens.positions[..., 0].copy()), steps=20, threads=1, progress=False, **TINY)
    with pytest.raises(ValueError):  # one time too few
        sd.fit_score(Fake(ens, time=ens.time[:-1].copy()), steps=20, threads=1, progress=False, **TINY)
    with pytest.raises(ValueError):  # a model of dimension 1 given 3 coordinates
        sd.fit_score(Fake(ens, positions=np.zeros((ens.positions.shape[0], 50, 3))), steps=20, threads=1,
                     progress=False, **TINY)


def test_fit_score_stops_a_loss_blow_up_with_numerical_error(corpus):
    """--lr 1e6 from Python (regression: the guard took its reference from the already blown-up
    first 50-step block and the fit returned)."""
    with pytest.raises(sd.NumericalError, match="training diverged at step"):
        sd.fit_score(corpus["dw"], steps=300, threads=1, progress=False, **{**TINY, "lr": 1e6})


# ---- evaluation and writers ------------------------------------------------------------------
def test_score_refuses_bad_points(corpus):
    fit = sd.load_score(corpus["score"])
    with pytest.raises(ValueError, match="expected"):
        fit.score(np.zeros((3, 2)), 0.3)
    with pytest.raises(ValueError):
        fit.score(np.zeros((3, 1)), np.zeros(2) + 0.3)
    with pytest.raises(ValueError, match="not finite"):  # bad input, as for `scorefit score` (exit 2)
        fit.score(np.array([[np.nan]]), 0.3)
    # times outside the trained range are refused, as by `scorefit score` / `grid` / `physics`
    lo, hi = fit.t_min, fit.t_max
    for bad in (hi + 0.5, lo - 0.05, float("nan")):
        for call in (fit.score, fit.diffusion_score, fit.velocity):
            with pytest.raises(ValueError, match="outside the time range the score was trained on"):
                call(np.zeros((2, 1)), bad)
    fit.score(np.zeros((2, 1)), 0.5 * (lo + hi))  # inside: fine


@pytest.mark.parametrize("kind", ["nan", "huge", "truncated", "wrong_dim"])
def test_physics_refuses_bad_data_and_writes_nothing(corpus, target, kind):
    fit = sd.load_score(corpus["score"])
    with pytest.raises((ValueError, OSError, sd.NumericalError)):
        sd.physics(fit, corpus[kind], output=target)


def test_physics_refuses_bad_settings_and_writes_nothing(corpus, target):
    fit = sd.load_score(corpus["score"])
    with pytest.raises(ValueError):
        sd.physics(fit, output=target, n=[0])
    with pytest.raises(ValueError):
        sd.physics(fit, output=target, times=[9.0])


@pytest.mark.parametrize("kind", ["nan", "truncated", "wrong_dtype"])
def test_compare_refuses_bad_data_and_writes_nothing(corpus, target, kind):
    with pytest.raises((ValueError, OSError)):
        sd.compare(corpus[kind], objectives=["local-dsm"], seeds=[1], steps=20, output=target, progress=False, **TINY)


def test_writers_refuse_the_input_as_output_and_special_files(corpus, tmp_path):
    fit = sd.load_score(corpus["score"])
    fifo = str(tmp_path / "fifo.h5")
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="special file"):
        fit.save(fifo, force=True)
    with pytest.raises(OSError, match="special file"):
        sd.simulate("ou", paths=10, dt=0.1, t_end=0.2, output=fifo, force=True, progress=False)
    assert os.path.exists(fifo) and not os.path.isfile(fifo)
    copy = str(tmp_path / "dw.h5")
    shutil.copy(corpus["dw"], copy)
    before = open(copy, "rb").read()
    with pytest.raises(OSError, match="same file"):
        sd.simulate("double_well", paths=10, dt=0.1, t_end=0.2, init="file:" + copy, output=copy, force=True,
                    progress=False)
    assert open(copy, "rb").read() == before


def test_a_name_longer_than_the_file_system_allows_is_a_value_error(tmp_path):
    long = str(tmp_path / ("L" * 253 + ".h5"))  # 256 bytes
    with pytest.raises(ValueError, match="at most 255 bytes"):
        sd.simulate("ou", paths=10, dt=0.1, t_end=0.2, output=long, progress=False)
    ok = str(tmp_path / ("L" * 252 + ".h5"))  # 255 bytes: works (the temporary's name is short)
    sd.simulate("ou", paths=10, dt=0.1, t_end=0.2, output=ok, progress=False)
    assert os.path.exists(ok)
