#!/usr/bin/env python3
"""Checks that an sdescore HDF5 file has the documented layout (docs/file-format.md) and
that h5py and xarray (engine="h5netcdf") both read it as intended.

Usage:
    test_file_format.py FILE            # layout checks, valid for any sdescore output
    test_file_format.py --sample FILE   # also the known values written by io_write_sample_file

Reusable from other tests:
    from test_file_format import check_ensemble_file
    summary = check_ensemble_file(path)     # raises AssertionError with a message on failure
"""
import argparse
import sys

import h5py
import numpy as np
import xarray as xr

STANDARD_PARAMETERS = {
    "model": str, "stepper": str, "dt": float, "seed": int, "initial_law": str,
    "save_every": int, "path_first": int, "path_count": int, "command_line": str,
    "sdescore_version": str,
}


def _fail(path, msg):
    raise AssertionError(f"{path}: {msg}")


def _check(cond, path, msg):
    if not cond:
        _fail(path, msg)


def _as_str(v):
    return v.decode() if isinstance(v, bytes) else v


def _scale_names(dset):
    return tuple(dset.dims[i][0].name.rsplit("/", 1)[-1] if len(dset.dims[i]) else "" for i in range(dset.ndim))


def _check_header(f, path):
    _check("h5md" in f, path, "no /h5md group")
    h5md = f["h5md"]
    _check(list(h5md.attrs["version"]) == [1, 1], path, f"h5md version {h5md.attrs.get('version')} != [1, 1]")
    _check(_as_str(h5md["creator"].attrs["name"]) == "sdescore", path, "h5md/creator name is not 'sdescore'")
    _check(len(_as_str(h5md["creator"].attrs["version"])) > 0, path, "h5md/creator has no version")
    _check(len(_as_str(h5md["author"].attrs["name"])) > 0, path, "h5md/author has no name")
    _check("parameters" in f, path, "no /parameters group")
    p = f["parameters"]
    params = {}
    for key, kind in STANDARD_PARAMETERS.items():
        _check(key in p.attrs, path, f"/parameters has no attribute {key!r}")
        v = p.attrs[key]
        v = _as_str(v) if kind is str else v
        if kind is str:
            _check(isinstance(v, str), path, f"/parameters/{key} is not a string")
        elif kind is int:
            _check(np.issubdtype(np.asarray(v).dtype, np.integer), path, f"/parameters/{key} is not an integer")
        else:
            _check(np.issubdtype(np.asarray(v).dtype, np.floating), path, f"/parameters/{key} is not a float")
        params[key] = v
    _check(int(p.attrs["seed"]) >= 0 and p.attrs["seed"].dtype == np.uint64, path, "seed is not a uint64")
    _check("model_parameters" in p, path, "/parameters has no model_parameters group")
    mp = {k: float(v) for k, v in p["model_parameters"].attrs.items()}
    for k, v in p["model_parameters"].attrs.items():
        _check(np.asarray(v).dtype == np.float64, path, f"model parameter {k!r} is not float64")
    params["model_parameters"] = mp
    return params


def _check_snapshot_labels(g, path, where):
    for name, dtype in (("time", np.float64), ("step", np.int64), ("snapshot", np.int64)):
        _check(name in g, path, f"{where} has no {name!r} dataset")
        _check(g[name].dtype == dtype, path, f"{where}/{name} has dtype {g[name].dtype}, expected {dtype}")
        _check(g[name].maxshape == (None,), path, f"{where}/{name} is not extendable (maxshape {g[name].maxshape})")
    n = g["snapshot"].shape[0]
    _check(np.array_equal(g["snapshot"][()], np.arange(n)), path, f"{where}/snapshot is not 0..n-1")
    _check(g["time"].shape == (n,) and g["step"].shape == (n,), path, f"{where}: time/step lengths differ")
    _check(_scale_names(g["time"]) == ("snapshot",), path, f"{where}/time is not labelled by snapshot")
    return n


def _check_position(f, path, name, params):
    where = f"/particles/{name}/position"
    g = f[where]
    n_snap = _check_snapshot_labels(g, path, where)
    v = g["value"]
    _check(v.ndim == 3 and v.dtype == np.float64, path, f"{where}/value is not a rank-3 float64 dataset")
    S, P, D = v.shape
    _check(S == n_snap, path, f"{where}/value has {S} snapshots but time has {n_snap}")
    _check(v.maxshape == (None, P, D), path, f"{where}/value maxshape {v.maxshape} != (None, {P}, {D})")
    _check(v.chunks is not None and v.chunks[0] == 1 and v.chunks[2] == D, path,
           f"{where}/value chunks {v.chunks} are not (1, paths, dim)")
    _check(_scale_names(v) == ("snapshot", "path", "dim"), path, f"{where}/value dimension scales {_scale_names(v)}")
    path_idx = g["path"][()]
    _check(g["path"].dtype == np.int64, path, "path scale is not int64")
    _check(np.array_equal(path_idx, params["path_first"] + np.arange(P)), path,
           f"path scale {path_idx[:5]}... != path_first + arange(P)")
    _check(params["path_count"] == P, path, f"path_count {params['path_count']} != {P} paths in {where}/value")
    _check(np.array_equal(g["dim"][()], np.arange(D)), path, "dim scale is not 0..dim-1")
    box = f[f"/particles/{name}/box"]
    _check(int(box.attrs["dimension"]) == D, path, "box dimension != dim")

    # xarray via h5netcdf: named dimensions, coordinates, the same values as h5py.
    with xr.open_dataset(path, engine="h5netcdf", group=where.lstrip("/")) as ds:
        _check(ds["value"].dims == ("snapshot", "path", "dim"), path, f"xarray dims {ds['value'].dims}")
        _check(dict(ds.sizes) == {"snapshot": S, "path": P, "dim": D}, path, f"xarray sizes {dict(ds.sizes)}")
        for c in ("snapshot", "path", "dim", "time", "step"):
            _check(c in ds.coords, path, f"xarray: {c!r} is not a coordinate")
        _check(ds["time"].dims == ("snapshot",), path, "xarray: time is not along snapshot")
        _check(np.array_equal(ds["path"].values, path_idx), path, "xarray path coordinate differs from h5py")
        _check(np.array_equal(ds["time"].values, g["time"][()]), path, "xarray time differs from h5py")
        for s in sorted({0, S - 1}) if S else []:
            _check(np.array_equal(ds["value"].isel(snapshot=s).values, v[s]), path,
                   f"xarray value at snapshot {s} differs from h5py")
    return {"snapshots": S, "paths": P, "dim": D}


def _check_observables(f, path, name):
    where = f"/observables/{name}"
    g = f[where]
    n_snap = _check_snapshot_labels(g, path, where)
    m, c = g["mean"], g["covariance"]
    D = m.shape[1]
    _check(m.shape == (n_snap, D) and c.shape == (n_snap, D, D), path, f"{where}: mean/covariance shapes")
    _check(_scale_names(m) == ("snapshot", "dim"), path, f"{where}/mean scales {_scale_names(m)}")
    _check(_scale_names(c) == ("snapshot", "dim", "dim2"), path, f"{where}/covariance scales {_scale_names(c)}")
    has_hist = "histogram" in g
    if has_hist:
        h, e = g["histogram"], g["bin_edges"]
        _check(h.dtype == np.int64, path, "histogram counts are not int64")
        _check(_scale_names(h) == ("snapshot", "hist_coord", "bin"), path, f"histogram scales {_scale_names(h)}")
        _check(e.shape == (h.shape[1], h.shape[2] + 1), path, "bin_edges shape != (hist_coord, bins + 1)")
        _check(bool(np.all(np.diff(e[()], axis=1) > 0)), path, "bin edges are not increasing")
    with xr.open_dataset(path, engine="h5netcdf", group=where.lstrip("/")) as ds:
        _check(ds["covariance"].dims == ("snapshot", "dim", "dim2"), path, f"xarray covariance dims")
        _check(ds.sizes["snapshot"] == n_snap, path, "xarray snapshot size")
        _check("time" in ds.coords, path, "xarray: time is not a coordinate of the observables")
        _check(np.array_equal(ds["mean"].values, m[()]), path, "xarray mean differs from h5py")
        if has_hist:
            _check(ds["histogram"].dims == ("snapshot", "hist_coord", "bin"), path, "xarray histogram dims")
    return {"snapshots": n_snap, "dim": D, "histogram": has_hist}


def check_ensemble_file(path):
    """Checks the layout of an sdescore output file and returns a summary dict:
    {"parameters": {...}, "ensembles": {name: {...}}, "observables": {name: {...}}, "checkpoint": bool}.
    Raises AssertionError naming the file and the problem."""
    summary = {"ensembles": {}, "observables": {}}
    with h5py.File(path, "r") as f:
        params = _check_header(f, path)
        summary["parameters"] = params
        _check("particles" in f or "observables" in f, path, "neither /particles nor /observables present")
        for name in f.get("particles", {}):
            summary["ensembles"][name] = _check_position(f, path, name, params)
        for name in f.get("observables", {}):
            summary["observables"][name] = _check_observables(f, path, name)
        summary["checkpoint"] = "checkpoint" in f
        if summary["checkpoint"]:
            ck = f["checkpoint"]
            ens = _as_str(ck.attrs["ensemble"])
            _check(ens in summary["ensembles"], path, f"checkpoint names missing ensemble {ens!r}")
            _check(summary["ensembles"][ens]["snapshots"] == 1, path, "a checkpoint holds exactly one snapshot")
            _check(int(ck.attrs["step"]) == int(f[f"particles/{ens}/position/step"][0]), path, "checkpoint step")
    return summary


def check_sample_values(path):
    """The known values written by io_write_sample_file (see write_sample_file.cpp)."""
    summary = check_ensemble_file(path)
    p = summary["parameters"]
    _check(_as_str(p["model"]) == "double_well" and p["dt"] == 0.05 and int(p["seed"]) == 42, path, "parameters")
    _check(p["model_parameters"] == {"a": 1.0, "b": 0.25, "sigma": 0.5}, path, f"model parameters {p['model_parameters']}")
    _check(p["path_first"] == 10 and p["save_every"] == 10, path, "path range / save_every")
    _check(_as_str(p["command_line"]).startswith("io_write_sample_file "), path, "command line")
    S, P, D = 5, 7, 3
    _check(summary["ensembles"] == {"ensemble": {"snapshots": S, "paths": P, "dim": D}}, path, str(summary))
    with xr.open_dataset(path, engine="h5netcdf", group="particles/ensemble/position") as ds:
        s = np.arange(S)[:, None, None]
        gp = (10 + np.arange(P))[None, :, None]
        d = np.arange(D)[None, None, :]
        expected = s + 0.001 * gp + 0.1 * d
        _check(np.array_equal(ds["value"].values, expected), path, "value[s, p, d] != s + 0.001 path + 0.1 d")
        _check(np.array_equal(ds["time"].values, 0.5 * np.arange(S)), path, "time != 0.5 s")
        _check(np.array_equal(ds["step"].values, 10 * np.arange(S)), path, "step != 10 s")
        _check(list(ds["dim"].attrs["coordinate_names"]) == ["x", "y", "z"], path, "coordinate names")
        # Selecting by coordinates works as for any labelled array.
        _check(float(ds["value"].sel(path=12, dim=1).isel(snapshot=3)) == 3 + 0.012 + 0.1, path, "label selection")
    with h5py.File(path, "r") as f:
        v = f["particles/ensemble/position/value"]
        _check(v.compression == "gzip" and v.shuffle, path, "sample value should be gzip+shuffle compressed")
    with xr.open_dataset(path, engine="h5netcdf", group="observables/ensemble") as ds:
        mean = np.arange(S)[:, None] + 0.1 * np.arange(D)[None, :]
        _check(np.array_equal(ds["mean"].values, mean), path, "observables mean")
        cov = 0.01 + np.einsum("s,ij->sij", 1.0 + np.arange(S), np.eye(D))
        _check(np.array_equal(ds["covariance"].values, cov), path, "observables covariance")
        counts = np.arange(S)[:, None, None] + 10 * np.arange(2)[None, :, None] + np.arange(4)[None, None, :]
        _check(np.array_equal(ds["histogram"].values, counts), path, "histogram counts")
        _check(np.array_equal(ds["hist_coord"].values, [0, 2]), path, "hist_coord")
        _check(np.allclose(ds["bin_edges"].values, np.tile(np.linspace(-1, 1, 5), (2, 1)), rtol=0, atol=1e-15), path,
               "bin edges")
        _check(int(ds.attrs["n_paths"]) == P, path, "n_paths attribute")
    with xr.open_dataset(path, engine="h5netcdf", group="sample_extras") as ds:
        _check(ds["loss"].dims == ("epoch",), path, "generic helper: loss dims")
        _check(np.array_equal(ds["loss"].values, [3.0, 2.0, 1.5, 1.25]), path, "generic helper: loss values")
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--sample", action="store_true", help="also check the values of io_write_sample_file")
    args = ap.parse_args(argv)
    try:
        summary = check_sample_values(args.file) if args.sample else check_ensemble_file(args.file)
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print(f"OK: {args.file}: ensembles {summary['ensembles']}, observables {summary['observables']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
