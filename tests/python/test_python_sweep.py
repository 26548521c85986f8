"""sdescore.simulate(sweep=...) and load_sweep (docs/simulation.md, "Parameter sweeps"), run by
ctest with PYTHONPATH=<build>/python: each point of the sweep holds the bits of
simulate(params={...}) with that value; a grid has one leading axis per parameter, the first
outermost; bad sweeps raise ValueError naming the value and leave no file."""
import os

import numpy as np
import pytest

import sdescore as sd

COMMON = dict(model="double_well", init="normal:0,0.5", paths=200, dt=0.01, t_end=0.3, save_every=10, seed=4,
              threads=2, progress=False)


def test_sweep_points_are_their_single_runs(tmp_path):
    out = tmp_path / "sweep.h5"
    ds = sd.simulate(**COMMON, params={"a": 1.5}, sweep={"T": "0.3:0.7:3"}, output=out)
    assert ds["value"].dims == ("T", "snapshot", "path", "dim")
    assert ds["T"].values.tobytes() == np.linspace(0.3, 0.7, 3).tobytes()
    for T in ds["T"].values:
        one = sd.simulate(**COMMON, params={"a": 1.5, "T": float(T)})
        assert ds["value"].sel(T=T).values.tobytes() == one.positions.tobytes(), T
    assert list(ds.attrs["sweep"]) == ["T=0.3:0.7:3"]
    assert sd.load_sweep(out)["value"].values.tobytes() == ds["value"].values.tobytes()


def test_sweep_grid_of_statistics(tmp_path):
    out = tmp_path / "grid.h5"
    ds = sd.simulate(**COMMON, sweep={"a": [1.0, 2.0], "T": np.array([0.4, 0.6, 0.8])}, stats_only=True,
                     hist=[(0, -2, 2, 8)], output=out)
    assert ds["mean"].dims == ("a", "T", "snapshot", "dim") and ds["mean"].shape == (2, 3, 4, 1)
    assert ds["histogram"].shape == (2, 3, 4, 1, 8)
    one = sd.simulate(**COMMON, params={"a": 2.0, "T": 0.6}, stats_only=True, hist=[(0, -2, 2, 8)],
                      output=tmp_path / "one.h5")
    assert ds["mean"].sel(a=2.0, T=0.6).values.tobytes() == one["mean"].tobytes()
    assert ds["histogram"].sel(a=2.0, T=0.6).values.tobytes() == one["histogram"].tobytes()


@pytest.mark.parametrize("sweep,words", [
    ({"T": [0.5, -1.0]}, "at T = -1: parameter T = -1 is out of range"),
    ({"X": [1.0]}, "has no parameter 'X'"),
    ({"T": "0.3:0.7:0"}, "N = 0"),
    ({"T": [0.5, 0.5]}, "appears twice"),
    ({"T": "abc"}, "'abc' is not a number"),
    ({"T": [float("nan")]}, "nan"),
    ({"T": 3}, "sequence of numbers"),
])
def test_bad_sweeps_raise_and_write_nothing(tmp_path, sweep, words):
    out = tmp_path / "bad.h5"
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        sd.simulate(**COMMON, sweep=sweep, output=out)
    assert os.listdir(tmp_path) == []
