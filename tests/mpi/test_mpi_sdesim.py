#!/usr/bin/env python3
"""sdesim under mpirun (docs/distributed.md): 1, 2 and 3 ranks give the serial run's numbers.

Usage: test_mpi_sdesim.py SDESIM MPIRUN CASE
The reference is the same binary without mpirun (one process: the serial program). Compared
are the datasets (h5py, exact bytes), not the files' bytes (the layouts may differ in chunking).
CASE: paths | stats | compress | bad_input | rank_failure | killed_rank | sweep | checkpoint | one_rank_input
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from mpi_support import datasets, rank_pid, same_data  # this script's folder is on sys.path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from test_file_format import check_ensemble_file  # noqa: E402  the layout checks of every sdescore file

SDESIM, MPIRUN, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
ENV = dict(os.environ, OMP_NUM_THREADS="1")
if os.geteuid() == 0:  # containers and CI run as root; OpenMPI refuses that unless told
    ENV.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
# 200 paths = 4 blocks of 64 (the last one 8): 3 ranks get 64, 64 and 72 paths.
RUN = ["--model", "underdamped_langevin", "--init", "normal:0,1", "--paths", "200", "--dt", "0.01",
       "--t-end", "0.5", "--save-every", "10", "--seed", "11", "-q"]


def sdesim(args, ranks=None, expect=0, threads=1):
    cmd = [SDESIM] + args
    if ranks is not None:
        cmd = [MPIRUN, "-np", str(ranks), "--oversubscribe"] + (["--bind-to", "none"] if threads > 1 else []) + cmd
    env = dict(ENV, OMP_NUM_THREADS=str(threads))
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != expect:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}, expected {expect}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def value_names(path, group):
    names = list(datasets(path))
    return [n for n in names if n.startswith(group)]


def no_files(d, what):
    left = os.listdir(d)
    if left:
        sys.exit(f"FAIL: {what}: files left behind: {left}")


with tempfile.TemporaryDirectory() as d:
    ref = os.path.join(d, "serial.h5")
    if CASE == "paths":
        sdesim(RUN + ["-o", ref])
        names = value_names(ref, "particles/")
        pos = [n for n in names if n.endswith("position/value")]
        assert pos, f"no position/value dataset in {names}"
        for ranks in (1, 2, 3):
            out = os.path.join(d, f"mpi{ranks}.h5")
            sdesim(RUN + ["-o", out], ranks=ranks)
            data = same_data(ref, out, names)
            assert data[pos[0]].shape == (6, 200, 2), data[pos[0]].shape
            with h5py.File(out, "r") as f:  # the provenance says what was run, the same as the serial file
                assert int(f["parameters"].attrs["path_count"]) == 200
            check_ensemble_file(out)  # H5MD layout, dimension scales, xarray
        print("OK: trajectory datasets of 1, 2, 3 ranks are byte-identical to the serial run:", ", ".join(names))
    elif CASE == "stats":
        stats = ["--stats-only", "--hist", "0:-3:3:30", "--hist", "1:-3:3:30"]
        sdesim(RUN + stats + ["-o", ref])
        names = value_names(ref, "observables/")
        assert any(n.endswith("covariance") for n in names) and any(n.endswith("histogram") for n in names), names
        for ranks in (1, 2, 3):
            out = os.path.join(d, f"mpi{ranks}.h5")
            sdesim(RUN + stats + ["-o", out], ranks=ranks)
            same_data(ref, out, names)
            check_ensemble_file(out)
        out = os.path.join(d, "mpi2x2.h5")  # 2 ranks x 2 threads (the partials are computed by threads)
        sdesim(RUN + stats + ["-o", out], ranks=2, threads=2)
        same_data(ref, out, names)
        print("OK: statistics of 1, 2, 3 ranks (and 2 ranks x 2 threads) are byte-identical to the serial run:", ", ".join(names))
    elif CASE == "compress":
        sdesim(RUN + ["--compress", "4", "-o", ref])
        names = value_names(ref, "particles/")
        out = os.path.join(d, "mpi2.h5")
        sdesim(RUN + ["--compress", "4", "-o", out], ranks=2)
        same_data(ref, out, names)
        with h5py.File(out, "r") as f:
            ds = [f[n] for n in names if n.endswith("position/value")][0]
            assert ds.compression == "gzip", ds.compression
        print("OK: gzip-compressed paths from 2 ranks equal the serial run's")
    elif CASE == "bad_input":
        out = os.path.join(d, "bad.h5")
        # bad on every rank: one message, exit 2, no file
        p = sdesim([a if a != "0.01" else "0.03" for a in RUN] + ["-o", out], ranks=2, expect=2)
        lines = [l for l in p.stderr.splitlines() if "error" in l]
        assert len(lines) == 1 and "--t-end" in lines[0], p.stderr
        no_files(d, "bad --dt")
        # too few paths for the ranks: 100 paths are 2 blocks of 64, 3 ranks need 3
        p = sdesim([a if a != "200" else "100" for a in RUN] + ["-o", out], ranks=3, expect=2)
        lines = [l for l in p.stderr.splitlines() if "error" in l]
        assert len(lines) == 1 and "--paths = 100" in lines[0] and ">= 129" in lines[0], p.stderr
        no_files(d, "too few paths")
        # an existing target is refused on every rank, and left alone
        with open(out, "w") as f:
            f.write("keep me")
        p = sdesim(RUN + ["-o", out], ranks=2, expect=3)
        assert p.stderr.count("already exists") == 1, p.stderr
        assert open(out).read() == "keep me"
        print("OK: bad input under mpirun: one message, exit 2 (3 for an existing file), nothing written")
    elif CASE == "rank_failure":
        # Only the last rank's paths blow up: a start file whose last path starts at 1e200.
        start = os.path.join(d, "start.h5")
        sdesim(RUN + ["-o", start])
        with h5py.File(start, "r+") as f:
            v = [f[n] for n in value_names(start, "particles/") if n.endswith("position/value")][0]
            x = v[-1]
            x[-1, :] = 1e200
            v[-1] = x
        out = os.path.join(d, "out.h5")
        args = [a if a != "normal:0,1" else "file:" + start for a in RUN] + ["-o", out]
        sdesim(args, expect=4)  # serial: the same failure
        p = sdesim(args, ranks=2, expect=4)
        lines = [l for l in p.stderr.splitlines() if "error" in l]
        assert len(lines) == 1 and "rank 1 of 2" in lines[0], p.stderr
        assert sorted(os.listdir(d)) == ["start.h5"], os.listdir(d)
        print("OK: a divergence on rank 1 ends both ranks with exit 4, one message, no output")
    elif CASE == "killed_rank":
        # SIGKILL rank 1 while the file is being written: mpirun ends rank 0 (SIGTERM), whose
        # handler removes the shared temporary; nothing appears at the target.
        import signal
        import time
        out = os.path.join(d, "out.h5")
        long_run = ["--model", "underdamped_langevin", "--paths", "2000", "--dt", "0.01", "--t-end", "10000",
                    "--save-every", "100", "-q", "-o", out]  # minutes if not killed
        cmd = [MPIRUN, "-np", "2", "--oversubscribe", SDESIM] + long_run
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        deadline = time.time() + 60
        while time.time() < deadline and not any(n.startswith(".tmp-") for n in os.listdir(d)):
            time.sleep(0.05)
        victim = rank_pid(SDESIM, out, 1)
        assert victim is not None and proc.poll() is None, "the run ended before rank 1 could be killed"
        os.kill(victim, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0, proc.returncode
        no_files(d, "killed rank")
        print("OK: a killed rank ends the run with exit", proc.returncode, "and leaves no file")
    elif CASE == "checkpoint":
        # Checkpoints written by 2 ranks (one file, the layout of a serial checkpoint) resume on
        # 3 ranks and on one process; the result is the unsplit serial run's bytes. Paths and
        # statistics; then a run of 2 ranks stopped by SIGTERM resumed on 3 ranks.
        for mode, extra, group in (("paths", [], "particles/"),
                                   ("stats", ["--stats-only", "--hist", "0:-3:3:30"], "observables/")):
            run = RUN + extra
            whole = os.path.join(d, f"whole_{mode}.h5")
            sdesim([a if a != "0.5" else "1" for a in run] + ["-o", whole])
            names = value_names(whole, group)
            # the first half, checkpointed every 20 steps (3 checkpoints, each carrying the last's snapshots)
            first1, first2 = os.path.join(d, f"first1_{mode}.h5"), os.path.join(d, f"first2_{mode}.h5")
            ck = ["--t-end", "0.6", "--checkpoint-every", "20", "--keep-checkpoint"]
            sdesim([a for a in run if a not in ("--t-end", "0.5")] + ck + ["-o", first1])
            sdesim([a for a in run if a not in ("--t-end", "0.5")] + ck + ["-o", first2], ranks=2)
            ckpt = first2 + ".ckpt.h5"
            same_data(first1 + ".ckpt.h5", ckpt, value_names(first1 + ".ckpt.h5", "particles/") +
                      value_names(first1 + ".ckpt.h5", "observables/"))
            with h5py.File(ckpt, "r") as f:
                assert int(f["checkpoint"].attrs["step"]) == 60, dict(f["checkpoint"].attrs)
            rest = [a if a != "0.5" else "1" for a in run] + ["--resume", ckpt]
            for ranks in (3, None):
                out = os.path.join(d, f"resumed{ranks}_{mode}.h5")
                sdesim(rest + ["-o", out], ranks=ranks)
                same_data(whole, out, names)
            check_ensemble_file(os.path.join(d, f"resumed3_{mode}.h5"))
        # Interrupted: 2 ranks checkpoint every 200 steps of a long run; SIGTERM after the first
        # checkpoint; 3 ranks resume to 200 steps past it; equal to that serial run.
        import signal
        import time
        long_run = ["--model", "underdamped_langevin", "--init", "normal:0,1", "--paths", "200", "--dt", "0.01",
                    "--save-every", "100", "--seed", "5", "-q"]
        out = os.path.join(d, "long.h5")
        ckpt = out + ".ckpt.h5"
        cmd = [MPIRUN, "-np", "2", "--oversubscribe", SDESIM] + long_run + ["--t-end", "10000",
                                                                          "--checkpoint-every", "200", "-o", out]
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and not os.path.exists(ckpt):
            time.sleep(0.02)
        assert proc.poll() is None, "the long run ended before it was interrupted"
        # SIGTERM to every rank, as a batch system's time limit or scancel does
        ranks = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().split(b"\0")
            except OSError:
                continue
            if cmdline[0] == SDESIM.encode() and out.encode() in cmdline:
                ranks.append(int(pid))
        assert len(ranks) == 2, ranks
        for pid in ranks:
            os.kill(pid, signal.SIGTERM)
        proc.communicate(timeout=60)
        assert proc.returncode != 0, proc.returncode
        assert not os.path.exists(out) and os.path.exists(ckpt), os.listdir(d)
        assert not [n for n in os.listdir(d) if n.startswith(".tmp-")], os.listdir(d)
        with h5py.File(ckpt, "r") as f:
            k = int(f["checkpoint"].attrs["step"])
        t_end = f"{(k + 200) * 0.01:.2f}"
        resumed, ref_long = os.path.join(d, "long_resumed.h5"), os.path.join(d, "long_serial.h5")
        sdesim(long_run + ["--t-end", t_end, "--checkpoint-every", "200", "--resume", ckpt, "-o", resumed], ranks=3)
        sdesim(long_run + ["--t-end", t_end, "-o", ref_long])
        same_data(ref_long, resumed, value_names(ref_long, "particles/"))
        assert not os.path.exists(resumed + ".ckpt.h5"), "the resumed run's checkpoint was not removed at its end"
        print(f"OK: checkpoints of 2 ranks resume on 3 ranks and on 1 (paths, statistics) with the serial bytes; "
              f"a run stopped at step {k} resumed on 3 ranks equals the serial run")
    elif CASE == "one_rank_input":
        # Bad input or an unreadable file on ONE rank only (mpirun's MPMD form gives that rank
        # other options): every rank ends with that rank's exit code, one message naming it, no file.
        out = os.path.join(d, "out.h5")
        base = RUN + ["-o", out]

        def mpmd(counts_args, expect):
            cmd = [MPIRUN, "--oversubscribe"]
            for i, (n, args) in enumerate(counts_args):
                cmd += ([":"] if i else []) + ["-np", str(n), SDESIM] + args
            p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120)
            assert p.returncode == expect, f"{' '.join(cmd)}: exit {p.returncode}, expected {expect}\n{p.stderr}"
            lines = [l for l in p.stderr.splitlines() if l.startswith("sdesim:")]
            assert len(lines) == 1, p.stderr
            no_files(d, " ".join(cmd))
            return lines[0]

        missing = [a if a != "normal:0,1" else "file:" + os.path.join(d, "missing.h5") for a in base]
        line = mpmd([(1, base), (1, missing)], 3)
        assert "missing.h5" in line and "rank 1 of 2" in line, line
        line = mpmd([(2, base), (1, base + ["--param", "gamma=-1"])], 2)
        assert "gamma = -1" in line and "rank 2 of 3" in line, line
        line = mpmd([(1, base), (1, base + ["--sweep", "gamma=1,-1"])], 2)  # a sweep on one rank only
        assert "rank 1 of 2" in line, line
        # a command line that does not parse on one rank (regression: the other ranks waited forever)
        cmd = [MPIRUN, "--oversubscribe", "-np", "1", SDESIM] + base + [":", "-np", "1", SDESIM] + base + ["--dt", "1", "--dt", "2"]
        p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, (p.returncode, p.stderr)
        assert p.stderr.count("--dt") == 1 and "MPI rank 1's of 2" in p.stderr, p.stderr
        no_files(d, "parse error on one rank")
        print("OK: bad input or a missing file on one rank: every rank exits with its code, one message, no file")
    elif CASE == "sweep":
        # --sweep (docs/simulation.md): each point's paths split over the ranks, one file; the
        # same datasets as the serial sweep (a 2 x 2 grid of paths, then statistics).
        grid = ["--sweep", "gamma=0.5,2", "--sweep", "T=0.5,1"]
        sdesim(RUN + grid + ["-o", ref])
        names = value_names(ref, "particles/")
        for ranks in (2, 3):
            out = os.path.join(d, f"mpi{ranks}.h5")
            sdesim(RUN + grid + ["-o", out], ranks=ranks)
            data = same_data(ref, out, names)
            assert data["particles/ensemble/position/value"].shape == (2, 2, 6, 200, 2)
        stats = ["--stats-only", "--hist", "0:-3:3:30"]
        sref = os.path.join(d, "serial_stats.h5")
        sdesim(RUN + grid + stats + ["-o", sref])
        out = os.path.join(d, "mpi3_stats.h5")
        sdesim(RUN + grid + stats + ["-o", out], ranks=3)
        same_data(sref, out, value_names(sref, "observables/"))
        # bad input: one message, exit 2, no file; a point that diverges after the file exists: exit 4, no file
        bad = os.path.join(d, "bad.h5")
        p = sdesim(RUN + ["--sweep", "gamma=1,-1", "-o", bad], ranks=2, expect=2)
        lines = [l for l in p.stderr.splitlines() if "error" in l]
        assert len(lines) == 1 and "gamma = -1" in lines[0], p.stderr
        p = sdesim(["--model", "double_well", "--paths", "200", "--dt", "0.5", "--t-end", "50", "--init", "point:3",
                    "--sweep", "a=0.001,50", "-q", "-o", bad], ranks=2, expect=4)
        lines = [l for l in p.stderr.splitlines() if "error" in l]
        assert len(lines) == 1 and "non-finite" in lines[0], p.stderr
        assert not os.path.exists(bad) and not [n for n in os.listdir(d) if n.startswith(".tmp-")], os.listdir(d)
        print("OK: sweeps over 2 and 3 ranks are byte-identical to the serial sweep (paths, statistics); "
              "bad input and a diverging point leave no file")
    else:
        sys.exit(f"unknown case {CASE}")
