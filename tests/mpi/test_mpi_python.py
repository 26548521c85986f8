#!/usr/bin/env python3
"""The Python module over MPI (comm=, docs/distributed.md "From Python"): sd.simulate and
sd.fit_score under `mpirun -np N python3` with an mpi4py communicator give the one-process
run's bits for N = 1, 2, 3; a failure on one process ends all of them with no file left.

Usage: test_mpi_python.py MPIRUN CASE          (driver, run by ctest; PYTHONPATH = <build>/python)
       test_mpi_python.py --worker CASE DIR    (one MPI process, started by the driver)
CASE: simulate | stats | fit | bad_input | bad_fit | no_output
The reference is the same module without mpi4py (one process, comm=None), in the driver.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

import sdescore as sd
from mpi_support import datasets, same_data  # this script's folder is on sys.path

# 200 paths = 4 blocks of 64 (the last one 8): 3 ranks get 64, 64 and 72 paths.
SIM = dict(model="underdamped_langevin", init="normal:0,1", paths=200, dt=0.01, t_end=0.5, save_every=10, seed=11,
           threads=1, progress=False)
# A batch of 640 = network chunks of 256, 256 and 128 samples (uneven over 2 ranks, even over 3).
FIT = dict(objective="local-dsm", steps=60, seed=5, threads=1, progress=False, batch=640, groups=8, pool_size=128,
           pools=16, reference_size=64, hidden=[16, 16], time_frequencies=4, warmup=20)


def worker(case, d):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    out = os.path.join(d, f"mpi{comm.Get_size()}.h5")
    try:
        if case == "simulate":
            r = sd.simulate(**SIM, output=out, comm=comm)
            assert r is None, f"simulate(comm=...) returned {r!r}, expected None"
        elif case == "stats":
            r = sd.simulate(**SIM, output=out, stats_only=True, hist=["0:-3:3:12"], comm=comm)
            np.savez(os.path.join(d, f"stats{comm.Get_size()}_rank{rank}.npz"),
                     mean=r["mean"], covariance=r["covariance"], histogram=r["histogram"])
        elif case == "fit":
            fit = sd.fit_score(os.path.join(d, "data.h5"), comm=comm, **FIT)
            np.save(os.path.join(d, f"fit{comm.Get_size()}_rank{rank}.npy"), fit.ema_parameters)
        elif case == "bad_input":  # only the last rank has a bad value; the others raise PartnerFailed
            bad = rank == comm.Get_size() - 1
            sd.simulate(**dict(SIM, dt=-0.01 if bad else 0.01), output=out, comm=comm)
        elif case == "bad_fit":  # the last rank's learning rate is bad
            bad = rank == comm.Get_size() - 1
            sd.fit_score(os.path.join(d, "data.h5"), comm=comm, **dict(FIT, lr=-1.0 if bad else 4e-3))
        elif case == "other_fit":  # the last rank's learning rate is valid but not the others'
            other = rank == comm.Get_size() - 1
            sd.fit_score(os.path.join(d, "data.h5"), comm=comm, **dict(FIT, lr=3e-3 if other else 4e-3))
        what = "OK"
    except Exception as e:  # reported to the driver, which decides
        what = f"{type(e).__name__}: {e}"
    with open(os.path.join(d, f"result{comm.Get_size()}_{rank}.txt"), "w") as f:  # mpirun may interleave stdout
        f.write(what)


def mpirun(mpirun_exe, n, case, d):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if os.geteuid() == 0:  # containers and CI run as root; OpenMPI refuses that unless told
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [mpirun_exe, "-np", str(n), "--oversubscribe", sys.executable, os.path.abspath(__file__), "--worker", case, d]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    results = {}
    for rank in range(n):
        name = os.path.join(d, f"result{n}_{rank}.txt")
        if os.path.exists(name):
            with open(name) as f:
                results[rank] = f.read()
            os.remove(name)
    if p.returncode != 0 or len(results) != n:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode} with results {results}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return results


def same_values(ref, other, prefix):
    """Every dataset under prefix in ref, byte-identical in other (mpi_support.same_data)."""
    names = [n for n in datasets(ref) if n.startswith(prefix)]
    assert names, f"no dataset under {prefix} in {ref}"
    same_data(ref, other, names)
    return names


def driver(mpirun_exe, case):
    with tempfile.TemporaryDirectory() as d:
        ref = os.path.join(d, "serial.h5")
        if case == "simulate":
            sd.simulate(**SIM, output=ref)
            for n in (1, 2, 3):
                res = mpirun(mpirun_exe, n, case, d)
                assert set(res.values()) == {"OK"}, res
                names = same_values(ref, os.path.join(d, f"mpi{n}.h5"), "particles/")
                print(f"{n} rank(s): {len(names)} datasets byte-identical to the one-process run")
        elif case == "stats":
            want = sd.simulate(**SIM, output=ref, stats_only=True, hist=["0:-3:3:12"])
            for n in (2, 3):
                res = mpirun(mpirun_exe, n, case, d)
                assert set(res.values()) == {"OK"}, res
                for rank in range(n):
                    got = np.load(os.path.join(d, f"stats{n}_rank{rank}.npz"))
                    for k in ("mean", "covariance", "histogram"):
                        if got[k].tobytes() != np.asarray(want[k]).tobytes():
                            sys.exit(f"FAIL: {n} ranks, rank {rank}: statistics {k} differ from the one-process run")
                same_values(ref, os.path.join(d, f"mpi{n}.h5"), "observables/")
                print(f"{n} ranks: statistics returned on every rank and stored, identical to the one-process run")
        elif case == "fit":
            sd.simulate(**dict(SIM, paths=2000, t_end=1.0), output=os.path.join(d, "data.h5"))
            want = sd.fit_score(os.path.join(d, "data.h5"), **FIT).ema_parameters
            for n in (2, 3):
                res = mpirun(mpirun_exe, n, case, d)
                assert set(res.values()) == {"OK"}, res
                for rank in range(n):
                    got = np.load(os.path.join(d, f"fit{n}_rank{rank}.npy"))
                    if got.tobytes() != want.tobytes():
                        sys.exit(f"FAIL: {n} ranks, rank {rank}: weights differ from the one-process fit "
                                 f"(max |diff| {np.max(np.abs(got - want))})")
                print(f"{n} ranks: EMA weights on every rank byte-identical to the one-process fit")
        elif case in ("bad_input", "bad_fit"):
            if case == "bad_fit":
                sd.simulate(**dict(SIM, paths=2000, t_end=1.0), output=os.path.join(d, "data.h5"))
            before = sorted(os.listdir(d))
            for n in (2, 3):
                res = mpirun(mpirun_exe, n, case, d)
                bad = res[n - 1]
                if not bad.startswith("ValueError:") or ("dt" not in bad and "lr" not in bad):
                    sys.exit(f"FAIL: the bad rank raised {bad!r}, expected a ValueError naming the value")
                for r in range(n - 1):
                    if not res[r].startswith("PartnerFailed:"):
                        sys.exit(f"FAIL: rank {r} raised {res[r]!r}, expected sdescore.PartnerFailed")
                if sorted(os.listdir(d)) != before:
                    sys.exit(f"FAIL: files left behind: {sorted(set(os.listdir(d)) - set(before))}")
                print(f"{n} ranks: the bad rank raised {bad.split(':')[0]}, the others PartnerFailed; no file")
            if case == "bad_fit":  # valid settings that differ between processes: refused on every one
                for n in (2, 3):
                    res = mpirun(mpirun_exe, n, "other_fit", d)
                    for r in range(n):
                        if not (res[r].startswith("ValueError:") and "different data or training settings" in res[r]):
                            sys.exit(f"FAIL: other_fit, rank {r} raised {res[r]!r}, expected ValueError "
                                     "'different data or training settings'")
                    print(f"{n} ranks: settings that differ between processes: ValueError on every process")
        elif case == "no_output":  # argument checks that need no second process
            from mpi4py import MPI
            for kwargs, words in ((dict(comm=MPI.COMM_WORLD), "output"), (dict(comm=42, output=ref), "not an MPI communicator")):
                try:
                    sd.simulate(**SIM, **kwargs)
                    sys.exit(f"FAIL: simulate({kwargs}) did not raise")
                except ValueError as e:
                    assert words in str(e), e
            assert not os.path.exists(ref)
            print("comm without output, and a comm that is not a communicator: ValueError naming it")
        else:
            sys.exit(f"unknown case {case}")


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        assert sd._sdescore.__mpi__, "this sdescore module was built without MPI"
        driver(sys.argv[1], sys.argv[2])
