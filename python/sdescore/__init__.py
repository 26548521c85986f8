"""sdescore: nonlinear SDEs and their time-dependent scores, from Python.

    import sdescore as sd
    ens = sd.simulate("active_swimmer", params={"gamma": 0.1}, init="normal:0,1", paths=100_000,
                      dt=1e-3, t_end=5, save_every=100, seed=1, threads=2)   # or output="sw.h5"
    ens.time, ens.positions      # (T,), (T, N, D) numpy views, no copy
    ens.to_xarray()

The compiled core is ``sdescore._sdescore`` (pybind11); see docs/python.md. Errors:
``ValueError`` for bad input (the message names the value and what is valid), ``OSError`` for
files, ``sdescore.NumericalError`` when a path diverges, ``KeyboardInterrupt`` on Ctrl-C (no
partial file is left at ``output``), ``sdescore.PartnerFailed`` on the other processes of a run
over MPI (``comm=``) that one process ended with its error.
"""
from __future__ import annotations

import numbers
import os

from . import _sdescore
from ._progress import Bar as _ProgressBar, watched as _watched
from ._sdescore import Ensemble, NumericalError, PartnerFailed, describe_model, list_models

__version__ = _sdescore.__version__
__all__ = ["simulate", "load_ensemble", "load_statistics", "load_sweep", "checkpoint_path", "list_models", "describe_model", "Ensemble", "NumericalError",
           "PartnerFailed"]


def _progress_callback(progress, desc):
    if progress is None:
        progress = _watched()
    if progress is True:
        return _ProgressBar(desc, "path-step", unit_scale=True)
    if progress is False:
        return None
    if callable(progress):
        return progress
    raise ValueError(f"progress = {progress!r} is invalid: use None (automatic), True, False or a callable(done, total)")


def _int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} = {value!r} is invalid: it must be an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name} = {value!r} is invalid: it must be an integer >= {minimum}")
    return int(value)


def _float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} = {value!r} is invalid: it must be a real number")
    return float(value)


def simulate(model: str, params: dict | None = None, init: str = "point", paths: int = 1000, dt: float = 1e-3,
             t_end: float = 1.0, save_every: int = 0, seed: int = 0, threads: int = 0, stepper: str | None = None,
             output: str | os.PathLike | None = None, force: bool = False, first_path: int = 0,
             progress=None, stats_only: bool = False, hist=None, compress: int = 0, checkpoint_every: int = 0,
             keep_checkpoint: bool = False, resume: str | os.PathLike | None = None, sweep: dict | None = None,
             comm=None):
    """Simulates `paths` paths of a registered model from t = 0 to `t_end` and returns the ensemble
    (with ``stats_only``: the statistics, as ``load_statistics(output)``; with ``sweep``: the
    output file's group as an ``xarray.Dataset``, see ``load_sweep``).

    The same settings give the same bits as ``sdesim`` (path i, step k draw from (seed, i, k)),
    for any ``threads``. Arguments follow sdesim's options (docs/cli.md):

    model       registry name (``list_models()``, ``describe_model(name)``)
    params      parameter overrides, e.g. ``{"T": 0.5}``
    init        initial law: point, point:x1,..., normal:m,s[,...], uniform:lo,hi[,...], stationary,
                two_moons[:noise], checkerboard[:scale], file:PATH
    paths       number of paths; ``first_path`` the global index of the first (path-range replay)
    dt, t_end   time step and end time (t_end a whole number of steps)
    save_every  steps between snapshots (0: n_steps/10 when 10 divides n_steps, else n_steps)
    seed        key of the counter-based generator
    threads     OpenMP threads (0: OMP_NUM_THREADS or all cores)
    stepper     None: the model's default (``describe_model(model)["default_stepper"]``)
    output      also write the ensemble to this HDF5 file (atomically; ``force`` to replace)
    progress    None: a tqdm bar when a person watches (terminal or notebook); True/False; or a
                callable(done, total) in path-steps
    stats_only  store mean, covariance (and histograms) per snapshot in ``output`` instead of the
                paths, and return them as a dict (see load_statistics); sdesim --stats-only
    hist        with stats_only: histograms, a list of "COORD:LO:HI:BINS" (or (coord, lo, hi, bins))
    compress    gzip level 0..9 of the stored paths
    checkpoint_every  write ``checkpoint_path(output)`` (<output>.ckpt.h5) every this many steps
    keep_checkpoint   keep it after a successful run
    resume      continue from such a checkpoint; repeat the original settings (checked)
    sweep       a parameter sweep into ``output`` (sdesim --sweep, docs/simulation.md): a dict of
                parameter name -> values (a sequence of numbers, or "A:B:N" for numpy.linspace);
                several parameters form a grid (the first outermost). Each point equals
                simulate(params={name: value, ...}) with the other settings unchanged.
    comm        an mpi4py communicator (module built with SDESCORE_MPI, docs/distributed.md): one
                run shared by its processes (every process calls simulate with the same
                arguments), written together to ``output`` with the bits of the one-process run.
                Returns None (read the file with load_ensemble), or the statistics (stats_only;
                the same on every process); progress from rank 0 only; if one process fails,
                the others raise PartnerFailed and no file is left.

    The run releases the GIL; Ctrl-C stops it promptly with KeyboardInterrupt and leaves no file
    at ``output``.
    """
    if not isinstance(model, str):
        raise ValueError(f"model = {model!r} is invalid: give a model name, one of "
                         + ", ".join(m["name"] for m in list_models()))
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError(f"params = {params!r} is invalid: give a dict of name -> value, e.g. {{'T': 0.5}}")
    plist = [(str(k), _float(f"params[{k!r}]", v)) for k, v in params.items()]
    if not isinstance(init, str):
        raise ValueError(f"init = {init!r} is invalid: give an init spec such as 'normal:0,1' or 'point'")
    if stepper is not None and not isinstance(stepper, str):
        raise ValueError(f"stepper = {stepper!r} is invalid: give a stepper name or None for the model's default")
    out = "" if output is None else os.fspath(output)
    if hist is None:
        hist = []
    if isinstance(hist, (str, tuple)):
        hist = [hist]
    hlist = []
    for h in hist:
        if isinstance(h, tuple) and len(h) == 4:
            h = f"{_int('hist coordinate', h[0], 0)}:{_float('hist lo', h[1])!r}:{_float('hist hi', h[2])!r}:" \
                f"{_int('hist bins', h[3], 1)}"
        if not isinstance(h, str):
            raise ValueError(f"hist = {h!r} is invalid: give 'COORD:LO:HI:BINS' or (coord, lo, hi, bins)")
        hlist.append(h)
    res = "" if resume is None else os.fspath(resume)
    if sweep is None:
        sweep = {}
    if not isinstance(sweep, dict):
        raise ValueError(f"sweep = {sweep!r} is invalid: give a dict of name -> values, e.g. {{'T': [0.3, 0.5]}} "
                         "or {'T': '0.3:0.7:5'}")
    slist = []
    for k, v in sweep.items():
        if isinstance(v, str):
            slist.append(f"{k}={v}")
        else:
            try:
                vals = [_float(f"sweep[{k!r}]", x) for x in v]
            except TypeError:
                raise ValueError(f"sweep[{k!r}] = {v!r} is invalid: give a sequence of numbers or 'A:B:N'") from None
            slist.append(f"{k}=" + ",".join(repr(x) for x in vals))  # repr: the exact double
    cb = _progress_callback(progress, f"simulate {model}")
    try:
        ens = _sdescore._simulate(
            model=model, params=plist, init=init, paths=_int("paths", paths, 1),
            first_path=_int("first_path", first_path, 0), dt=_float("dt", dt), t_end=_float("t_end", t_end),
            save_every=_int("save_every", save_every, 0), seed=_int("seed", seed, 0),
            threads=_int("threads", threads, 0), stepper=stepper or "", output=out, force=bool(force),
            stats_only=bool(stats_only), hist=hlist, compress=_int("compress", compress, 0),
            checkpoint_every=_int("checkpoint_every", checkpoint_every, 0), keep_checkpoint=bool(keep_checkpoint),
            resume=res, command_line="", progress=cb, sweep=slist, comm=comm)
        if comm is not None:
            return (load_sweep(out) if slist else load_statistics(out)) if stats_only else None
        if slist:
            return load_sweep(out)
        return load_statistics(out) if stats_only else ens
    finally:
        if isinstance(cb, _ProgressBar):
            cb.close()


def load_ensemble(path: str | os.PathLike) -> Ensemble:
    """Reads the path snapshots of an sdescore ensemble file (sdesim or simulate(output=...)).

    OSError if the file is missing or is not an ensemble file (e.g. a --stats-only file)."""
    return _sdescore._load_ensemble(os.fspath(path))


def load_statistics(path: str | os.PathLike) -> dict:
    """Reads a statistics-only file (sdesim --stats-only, simulate(stats_only=True)).

    Returns a dict of numpy arrays: time (T,), step (T,), mean (T, D), covariance (T, D, D),
    n_paths; with histograms also histogram (T, H, BINS) int64 counts, bin_edges (H, BINS + 1),
    hist_coordinates (H,); info (the provenance) and output (the path)."""
    return _sdescore._load_statistics(os.fspath(path))


def load_sweep(path: str | os.PathLike):
    """A sweep file (sdesim --sweep, simulate(sweep=...)) as an ``xarray.Dataset`` read into memory:
    ``value`` (P1, .., snapshot, path, dim) for paths, or ``mean``/``covariance``/``histogram`` with
    leading parameter axes for statistics; the swept parameters are coordinates
    (``ds.value.sel(T=0.5)``); the provenance is in ``ds.attrs``."""
    import h5py
    import xarray as xr
    path = os.fspath(path)
    with h5py.File(path, "r") as f:
        group = "particles/ensemble/position" if "particles/ensemble/position" in f else "observables/ensemble"
        attrs = {k: (v.item() if hasattr(v, "item") and getattr(v, "ndim", 1) == 0 else v)
                 for k, v in f["parameters"].attrs.items()}
    with xr.open_dataset(path, engine="h5netcdf", group=group) as ds:
        out = ds.load()
    out.attrs.update(attrs)
    return out


def checkpoint_path(output: str | os.PathLike) -> str:
    """The periodic checkpoint simulate(checkpoint_every=...) writes for ``output``: <output>.ckpt.h5."""
    return _sdescore._checkpoint_path_for(os.fspath(output))


def _to_xarray(self):
    """The positions as an xarray.DataArray (time, path, dim) with the provenance as attributes.

    The data are the same numpy view (no copy)."""
    import numpy as np
    import xarray as xr

    attrs = {"model": self.model, "stepper": self.stepper, "dt": self.dt, "seed": self.seed, "init": self.init,
             "save_every": self.save_every, "t_end": self.t_end, "sdescore_version": __version__}
    for k, v in self.params.items():
        attrs[f"param_{k}"] = v
    return xr.DataArray(
        self.positions, dims=("time", "path", "dim"), name="position", attrs=attrs,
        coords={"time": self.time, "step": ("time", self.steps),
                "path": np.arange(self.first_path, self.first_path + self.n_paths), "dim": np.arange(self.dim)})


Ensemble.to_xarray = _to_xarray

# The score half of the package (python/sdescore/score.py), when it is there.
import importlib.util as _ilu  # noqa: E402

if _ilu.find_spec(__name__ + ".score") is not None:
    from . import score as _score  # noqa: E402
    from .score import *  # noqa: E402,F401,F403

    __all__ += list(_score.__all__)
