"""Score models from Python: fit, load, evaluate, physics and the objective study.

    import sdescore as sd
    fit = sd.fit_score("sw.h5", objective="local-dsm", steps=20_000, seed=1, threads=2)  # or an Ensemble
    fit.score(y, t); fit.diffusion_score(y, t); fit.velocity(y, t); fit.loss_history; fit.save("s.h5")
    sd.load_score("s.h5"); sd.physics(fit, ...); sd.compare("sw.h5", objectives=["local-dsm", "ism"], ...)

Every call goes through the same library functions as ``scorefit`` (score/train.hpp,
eval/physics_report.hpp, eval/study.hpp): the same data, seed and settings give the same
weights as ``scorefit train``. Training settings are keyword arguments named as in the score
model file (``sd.training_defaults()`` lists them with the library's defaults): batch, groups,
pool_size, pools, reference_size, antithetic, weight, schedule, delta, delta_min, delta_max,
auto_growth, tolerance, ito_corrected_mean, t_min, t_max, holdout_every, hidden, activation,
time_frequencies, lr, lr_final, warmup, clip, ema, probes, probe_kind.

Errors: ``ValueError`` for bad input (naming the value and what is valid), ``OSError`` for files,
``sdescore.NumericalError`` when training diverges, ``KeyboardInterrupt`` on Ctrl-C (the call
stops within a few steps; no partial file is left).
"""
from __future__ import annotations

import os

from . import _sdescore
from ._progress import Bar as _ProgressBar, watched as _watched
from ._sdescore import ScoreFit, load_score, training_defaults

__all__ = ["fit_score", "load_score", "physics", "compare", "ScoreFit", "training_defaults"]


def _progress(progress, desc):
    if progress is None:
        progress = _watched()
    if progress is True:
        return _ProgressBar(desc, "step")
    if progress is False:
        return None
    if callable(progress):
        return progress
    raise ValueError(f"progress = {progress!r} is invalid: use None (automatic), True, False or a callable(done, total)")


def _data(data):
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    return data


def _call(fn, progress, *args):
    bar = progress
    try:
        return fn(*args)
    finally:
        if isinstance(bar, _ProgressBar):
            bar.close()


def fit_score(data, objective: str = "local-dsm", steps: int | None = None, seed: int = 1, threads: int = 0,
              ensemble: str = "", progress=None, comm=None, **options) -> ScoreFit:
    """Learns the time-dependent score of an ensemble (a file path or an ``sdescore.Ensemble``).

    ``objective``: local-dsm (default; ISM on coordinates without noise), local-dsm-plain (local-DSM in every coordinate), ism, ism-hutchinson, dsm (linear models). ``steps``: optimiser
    steps (default: the library's). Further training settings as keyword arguments (see the module
    docstring). Same settings and seed as ``scorefit train`` give identical weights. Returns a ScoreFit.

    ``comm``: an mpi4py communicator (module built with SDESCORE_MPI, docs/distributed.md):
    data-parallel training over its processes, as ``mpirun scorefit train``. Every process calls
    fit_score with the same arguments and gets the weights of the one-process run; progress
    from rank 0 only; if one process fails, the others raise PartnerFailed."""
    settings = dict(options)
    settings["objective"] = objective
    settings["seed"] = seed
    settings["threads"] = threads
    if steps is not None:
        settings["steps"] = steps
    bar = _progress(progress, f"fit_score {objective}")
    cmd = f"sdescore.fit_score(objective={objective!r}, steps={steps!r}, seed={seed!r}, " + \
        ", ".join(f"{k}={v!r}" for k, v in options.items()) + ")"
    return _call(_sdescore._fit_score, bar, _data(data), ensemble, settings, bar, cmd, comm)


def physics(fit: ScoreFit, data=None, times=None, flow_samples: int = 2000, density: str = "ensemble", lo=None, hi=None,
            n=None, fd_step: float = 1e-2, threads: int = 0, ensemble: str = "", output=None, force: bool = False) -> dict:
    """Entropy production, entropy along the learned probability flow, velocity, density and current on a
    grid (as ``scorefit physics``). ``data``: the ensemble (default: the file the score was trained on);
    on that ensemble only held-out paths are used. Returns nested dicts of numpy arrays (ensemble, flow,
    grid); with ``output`` also writes the HDF5 file ``scorefit physics`` writes."""
    def lst(x):
        if x is None:
            return None
        return list(x) if hasattr(x, "__iter__") else [x]
    opts = {"times": lst(times), "flow_samples": flow_samples, "density": density, "lo": lst(lo), "hi": lst(hi), "n": lst(n),
            "fd_step": fd_step, "threads": threads}
    return _sdescore._physics(fit, None if data is None else _data(data), ensemble, opts,
                              "" if output is None else os.fspath(output), force, "sdescore.physics(...)")


def compare(data, objectives=None, seeds=(1, 2, 3), eval_times=None, threshold: float = 0.05, eval_every: int = 500,
            fp_cells=None, fp_dt: float = 0.0, fp_advection: str = "upwind3", fp_check: bool = True,
            flow_samples: int = 2000, reverse_from_prior: bool = False,
            reverse_steps: int = 1000, steps: int | None = None, threads: int = 0, ensemble: str = "", output=None,
            force: bool = False, progress=None, **options) -> dict:
    """The objective study of ``scorefit compare``: one fit per objective and seed under the same settings,
    judged against a Fokker-Planck reference (1D/2D), held-out SDE samples (with noise floors), the reverse
    SDE and time-to-accuracy. Returns {time, runs: [...]} ; with ``output`` also writes the report (.h5,
    .csv, .md). Training settings as for fit_score. ``fp_advection`` is the reference's flux in noiseless
    directions ("upwind3" or "upwind1"); with ``fp_check`` the reference is solved again on half the cells and
    the difference, its own error, is returned as reference_check_score_error / ..._diffusion_score_error."""
    study = {"objectives": None if objectives is None else list(objectives), "seeds": list(seeds),
             "eval_times": None if eval_times is None else list(eval_times), "threshold": threshold,
             "eval_every": eval_every, "fp_cells": None if fp_cells is None else list(fp_cells), "fp_dt": fp_dt,
             "fp_advection": fp_advection, "fp_check": fp_check, "flow_samples": flow_samples, "reverse_from_prior": reverse_from_prior, "reverse_steps": reverse_steps}
    settings = dict(options)
    settings["threads"] = threads
    if steps is not None:
        settings["steps"] = steps
    bar = _progress(progress, "compare")
    return _call(_sdescore._compare, bar, _data(data), ensemble, study, settings, bar,
                 "" if output is None else os.fspath(output), force, "sdescore.compare(...)")
