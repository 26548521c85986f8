"""What the MPI tests share (test_mpi_sdesim.py, test_mpi_scorefit.py, test_mpi_python.py)."""
import os
import sys

import h5py
import numpy as np


def rank_pid(executable, target, rank):
    """The pid of `executable`'s process of MPI rank `rank` whose command line names `target`
    (found through /proc: OpenMPI sets OMPI_COMM_WORLD_RANK in each rank's environment), or None."""
    want = f"OMPI_COMM_WORLD_RANK={rank}".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if cmdline[0] == executable.encode() and target.encode() in cmdline and want in environ:
            return int(pid)
    return None


def datasets(path):
    """Every dataset of the file (name -> numpy array), read with h5py."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def same_data(ref, other, names):
    a, b = datasets(ref), datasets(other)
    for n in names:
        if n not in a or n not in b:
            sys.exit(f"FAIL: dataset {n} missing ({ref}: {n in a}, {other}: {n in b})")
        x, y = np.asarray(a[n]), np.asarray(b[n])
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            diff = np.max(np.abs(x - y)) if x.shape == y.shape else "shape"
            sys.exit(f"FAIL: {n} differs between {ref} and {other} (max |diff| {diff})")
    return a
