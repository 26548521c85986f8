#!/usr/bin/env python3
"""scorefit train under mpirun (docs/distributed.md): 1, 2 and 3 ranks give the serial run's weights.

Usage: test_mpi_scorefit.py SDESIM SCOREFIT MPIRUN CASE
The reference is the same scorefit binary without mpirun (one process: the serial program).
Compared with h5py: every dataset of the score file (weights, EMA, Adam moments, loss curve,
schedule) as exact bytes, except the wall-clock loss_curve/seconds, and the numeric attributes of
/score_model except training_seconds.
CASE: local_dsm | ism | resume | pools | bad_input | rank_failure | killed_rank
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from mpi_support import rank_pid  # this script's folder is on sys.path

SDESIM, SCOREFIT, MPIRUN, CASE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ENV = dict(os.environ, OMP_NUM_THREADS="1")
if os.geteuid() == 0:  # containers and CI run as root; OpenMPI refuses that unless told
    ENV.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
# A batch of 640 = network chunks of 256, 256 and 128 samples: 2 ranks take 1 and 2 chunks,
# 3 ranks one each (the uneven and the even split). A small network so a run takes seconds.
TRAIN = ["--steps", "150", "--batch", "640", "--groups", "8", "--pool-size", "128", "--pools", "16",
         "-R", "64", "--hidden", "16,16", "--time-frequencies", "4", "--warmup", "20", "--seed", "5", "-q"]


def setting(args, flag, value):
    """args with the value of flag replaced (an option given twice does not parse)."""
    i = args.index(flag)
    return args[:i + 1] + [value] + args[i + 2:]


def run(cmd, expect=0, threads=1, timeout=300):
    env = dict(ENV, OMP_NUM_THREADS=str(threads))
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != expect:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}, expected {expect}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def mpi(n, threads=1):
    return [MPIRUN, "-np", str(n), "--oversubscribe"] + (["--bind-to", "none"] if threads > 1 else [])


def ensemble(d, model, name):
    path = os.path.join(d, name)
    run([SDESIM, "--model", model, "--paths", "2000", "--dt", "0.01", "--t-end", "1", "--save-every", "10",
         "--seed", "3", "-q", "-o", path])
    return path


def contents(path):
    """Datasets (name -> array) and the numeric attributes of /score_model (name -> value)."""
    data, attrs = {}, {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: data.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        for k, v in f["score_model"].attrs.items():
            if k != "training_seconds" and isinstance(v, (int, float, np.integer, np.floating)):
                attrs[k] = v
    data.pop("score_model/training/loss_curve/seconds", None)  # wall time
    return data, attrs


def same_model(ref, other, skip=()):
    """The datasets and numeric attributes of two score files are the same bytes (but those in skip)."""
    a, aa = contents(ref)
    b, ba = contents(other)
    for k in skip:
        aa.pop(k, None)
        ba.pop(k, None)
    assert sorted(a) == sorted(b), (sorted(a), sorted(b))
    for n in ("score_model/network/ema_parameters", "score_model/network/raw_parameters",
              "score_model/network/adam_m", "score_model/network/adam_v", "score_model/training/loss_curve/loss"):
        assert n in a, f"{n} missing from {ref}"
    for n in a:
        x, y = np.asarray(a[n]), np.asarray(b[n])
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            diff = np.max(np.abs(x.astype(float) - y.astype(float))) if x.shape == y.shape else "shape"
            sys.exit(f"FAIL: {n} differs between {ref} and {other} (max |diff| {diff})")
    assert sorted(aa) == sorted(ba), (aa, ba)
    for k in aa:
        x, y = np.asarray(aa[k]), np.asarray(ba[k])
        if x.tobytes() != y.tobytes() and not (np.isnan(x).all() and np.isnan(y).all()):
            sys.exit(f"FAIL: attribute {k} differs between {ref} ({x}) and {other} ({y})")
    return a


def no_files(d, keep, what):
    left = sorted(set(os.listdir(d)) - set(keep))
    if left:
        sys.exit(f"FAIL: {what}: files left behind: {left}")


def one_error_line(p):
    lines = [l for l in p.stderr.splitlines() if l.startswith("scorefit:")]
    assert len(lines) == 1, p.stderr
    return lines[0]


with tempfile.TemporaryDirectory() as d:
    if CASE in ("local_dsm", "ism"):
        # local-dsm (the default objective) on the double well (noise in every coordinate, the
        # multi-sample targets split over ranks too) and on underdamped Langevin (noiseless x:
        # the mixed objective); ism (exact divergence) on the 2D OU model.
        model, extra = ("double_well", []) if CASE == "local_dsm" else ("ou2d", ["--objective", "ism"])
        data = ensemble(d, model, "data.h5")
        ref = os.path.join(d, "serial.h5")
        run([SCOREFIT, "train", "--data", data, "-o", ref] + TRAIN + extra)
        with h5py.File(ref, "r") as f:
            assert f["score_model"].attrs["steps_done"] == 150
            assert np.all(np.isfinite(f["score_model/network/ema_parameters"][()]))
        for n in (1, 2, 3):
            out = os.path.join(d, f"mpi{n}.h5")
            p = run(mpi(n) + [SCOREFIT, "train", "--data", data, "-o", out] + TRAIN + extra)
            same_model(ref, out)
            print(f"OK: {CASE} on {model}, {n} rank(s): the serial run's weights, optimiser state and loss curve, bit for bit")
        # 2 ranks x 2 threads: threads inside a rank change nothing either
        out = os.path.join(d, "mpi2x2.h5")
        run(mpi(2, threads=2) + [SCOREFIT, "train", "--data", data, "-o", out] + TRAIN + extra, threads=2)
        same_model(ref, out)
        print(f"OK: {CASE}, 2 ranks x 2 threads: the serial run's bits")
        if CASE == "local_dsm":
            # local-dsm on a model without noise in x (underdamped Langevin): the mixed objective,
            # exact ISM in x through the network's divergence pass, split over ranks as well
            data = ensemble(d, "underdamped_langevin", "uld.h5")
            ref = os.path.join(d, "uld_serial.h5")
            run([SCOREFIT, "train", "--data", data, "-o", ref] + TRAIN)
            with h5py.File(ref, "r") as f:
                assert f["score_model"].attrs["ism_coordinates"] not in ("", b""), "expected the mixed objective"
            for n in (2, 3):
                out = os.path.join(d, f"uld_mpi{n}.h5")
                run(mpi(n) + [SCOREFIT, "train", "--data", data, "-o", out] + TRAIN)
                same_model(ref, out)
            print("OK: local-dsm with ISM in the noiseless coordinate (underdamped_langevin), 2 and 3 ranks: the serial run's bits")
    elif CASE == "resume":
        # A run stopped at step 100 on 2 ranks (checkpoints every 50, written by rank 0), resumed
        # on 3 ranks and on one process to step 150: the unsplit serial run's bits.
        data = ensemble(d, "double_well", "data.h5")
        ref = os.path.join(d, "serial.h5")
        run([SCOREFIT, "train", "--data", data, "-o", ref] + TRAIN)
        part = os.path.join(d, "part.h5")
        run(mpi(2) + [SCOREFIT, "train", "--data", data, "-o", part, "--checkpoint-every", "50", "--stop-at", "100"] + TRAIN)
        with h5py.File(part, "r") as f:
            assert f["score_model"].attrs["steps_done"] == 100
        for n, name in ((3, "resumed3.h5"), (None, "resumed1.h5")):
            out = os.path.join(d, name)
            cmd = [SCOREFIT, "train", "--resume", part, "--data", data, "-o", out, "-q"]
            run((mpi(n) if n else []) + cmd)
            same_model(ref, out)
        print("OK: stopped on 2 ranks at step 100, resumed on 3 ranks and on one process: the serial run's bits")
        # --time-limit reads each rank's clock: the ranks agree on the step to stop at (a
        # disagreement would leave one waiting for the other: the test would time out)
        limited = os.path.join(d, "limited.h5")
        run(mpi(3) + [SCOREFIT, "train", "--data", data, "-o", limited, "--time-limit", "1"] +
            setting(TRAIN, "--steps", "1000000"), timeout=120)
        with h5py.File(limited, "r") as f:
            done = int(f["score_model"].attrs["steps_done"])
        assert done > 0 and done % 50 == 0 and done < 1000000, done
        print(f"OK: --time-limit 1 on 3 ranks: all stopped at step {done}, one file")
    elif CASE == "pools":
        # The pools are computed by the ranks in turn (one refresh per step, in blocks of N
        # consecutive refreshes, each installed at the step one process would compute it). With
        # as many pools as time groups every pool serves every batch, so a refresh installed one
        # step early or late changes the bits. Runs and resumed runs on 2 and 3 ranks, resumed at
        # steps that are not multiples of the block, against the serial run.
        data = ensemble(d, "double_well", "data.h5")
        args = setting(setting(TRAIN, "--pools", "8"), "--groups", "8")
        ref = os.path.join(d, "serial.h5")
        run([SCOREFIT, "train", "--data", data, "-o", ref] + args)
        for n in (2, 3):
            out = os.path.join(d, f"mpi{n}.h5")
            run(mpi(n) + [SCOREFIT, "train", "--data", data, "-o", out] + args)
            same_model(ref, out)
        for stop, n0, n1 in ((50, 3, 2), (100, 2, 3)):
            part = os.path.join(d, f"part{stop}.h5")
            run(mpi(n0) + [SCOREFIT, "train", "--data", data, "-o", part, "--stop-at", str(stop)] + args)
            out = os.path.join(d, f"resumed{stop}.h5")
            run(mpi(n1) + [SCOREFIT, "train", "--resume", part, "--data", data, "-o", out, "-q"])
            same_model(ref, out)
        print("OK: 8 pools for 8 time groups, 2 and 3 ranks, stopped at 50 on 3 ranks and at 100 on 2, resumed on the other: the serial run's bits")
        # A refresh that fails is raised at the step that uses it, by the rank that computed it,
        # not when it is computed ahead: on 3 ranks refreshes 99-101 are computed at step 99 (rank 1
        # computes refresh 100, used at step 100).
        stopped = os.path.join(d, "serial100.h5")
        run([SCOREFIT, "train", "--data", data, "-o", stopped, "--stop-at", "100"] + args)
        env_before = dict(ENV)
        ENV["SDESCORE_TEST_FAIL_AT"] = "refresh:100"
        out = os.path.join(d, "failed_ahead.h5")
        run(mpi(3) + [SCOREFIT, "train", "--data", data, "-o", out, "--stop-at", "100"] + args)
        same_model(stopped, out)  # stopped before step 100: refresh 100 was never used
        out = os.path.join(d, "failed.h5")
        p = run(mpi(3) + [SCOREFIT, "train", "--data", data, "-o", out, "--checkpoint-every", "50"] + args, expect=4)
        line = one_error_line(p)
        assert "pool refresh 100" in line and "rank 1 of 3" in line, line
        with h5py.File(out, "r") as f:
            assert f["score_model"].attrs["steps_done"] == 100
        same_model(stopped, out, skip=("heldout_ism",))  # the checkpoint of step 100 (no held-out ISM), written before step 100 fails
        os.remove(out)
        p = run(mpi(3) + [SCOREFIT, "train", "--data", data, "-o", out] + args, expect=4)
        assert "pool refresh 100" in one_error_line(p), p.stderr
        # an initial pool that fails: resumed at step 100 on 3 ranks, slot 4's pool is refresh 92
        ENV["SDESCORE_TEST_FAIL_AT"] = "refresh:92"
        p = run(mpi(3) + [SCOREFIT, "train", "--resume", os.path.join(d, "part100.h5"), "--data", data, "-o", out, "-q"], expect=4)
        line = one_error_line(p)
        assert "pool refresh 92" in line and "rank 1 of 3" in line, line
        ENV.clear()
        ENV.update(env_before)
        assert not os.path.exists(out), "a failed run left its output"
        print("OK: a refresh failing on one rank: raised at the step that uses it (not when computed ahead), one message naming the rank, no file")
    elif CASE == "bad_input":
        data = ensemble(d, "double_well", "data.h5")
        out = os.path.join(d, "out.h5")
        keep = ["data.h5"]
        p = run(mpi(2) + [SCOREFIT, "train", "--data", data, "-o", out, "--lr", "-1"] + TRAIN, expect=2)
        assert "lr" in one_error_line(p), p.stderr
        no_files(d, keep, "bad --lr")
        # too few chunks for the ranks: 512 samples are 2 chunks of 256
        p = run(mpi(3) + [SCOREFIT, "train", "--data", data, "-o", out] + setting(TRAIN, "--batch", "512"), expect=2)
        line = one_error_line(p)
        assert "batch = 512" in line and "batch >= 513" in line, line
        no_files(d, keep, "batch too small")
        p = run(mpi(2) + [SCOREFIT, "train", "--data", os.path.join(d, "missing.h5"), "-o", out] + TRAIN, expect=3)
        assert "missing.h5" in one_error_line(p), p.stderr
        no_files(d, keep, "missing data")
        with open(out, "w") as f:  # an existing target is left untouched
            f.write("keep me")
        p = run(mpi(2) + [SCOREFIT, "train", "--data", data, "-o", out] + TRAIN, expect=3)
        assert "exists" in one_error_line(p), p.stderr
        assert open(out).read() == "keep me"
        os.remove(out)
        # the other subcommands run in one process
        p = run(mpi(2) + [SCOREFIT, "grid", "--model", "x.h5", "--times", "1", "-o", out], expect=2)
        assert "only `scorefit train`" in one_error_line(p), p.stderr
        # a command line that does not parse on one rank only
        base = [SCOREFIT, "train", "--data", data, "-o", out] + TRAIN
        p = run([MPIRUN, "--oversubscribe", "-np", "1"] + base + [":", "-np", "1"] + setting(base, "--steps", "x"), expect=2)
        assert "MPI rank 1's of 2" in p.stderr, p.stderr
        no_files(d, keep, "bad input")
        print("OK: bad input under mpirun: one message, the serial exit code, no file")
    elif CASE == "rank_failure":
        # Failures on ONE rank only (mpirun's MPMD form gives it other data): every rank ends
        # with that rank's exit code and one message naming it, and no file appears.
        data = ensemble(d, "double_well", "data.h5")
        out = os.path.join(d, "out.h5")
        base = [SCOREFIT, "train", "-o", out] + TRAIN

        def mpmd_cmds(cmd0, cmd1, expect):
            cmd = [MPIRUN, "--oversubscribe", "-np", "1"] + cmd0 + [":", "-np", "1"] + cmd1
            p = run(cmd, expect=expect)
            no_files(d, ["data.h5", "other.h5"], " ".join(cmd))
            return one_error_line(p)

        def mpmd(args0, args1, expect):
            return mpmd_cmds(base + args0, base + args1, expect)

        line = mpmd(["--data", data], ["--data", os.path.join(d, "missing.h5")], 3)
        assert "missing.h5" in line and "rank 1 of 2" in line, line
        # different (valid) data or settings on one rank: refused before training (exit 2)
        other = os.path.join(d, "other.h5")
        run([SDESIM, "--model", "double_well", "--paths", "2000", "--dt", "0.01", "--t-end", "1", "--save-every", "10",
             "--seed", "4", "-q", "-o", other])
        line = mpmd(["--data", data], ["--data", other], 2)
        assert "different data or training settings" in line and "process 1" in line, line
        line = mpmd(["--data", data], ["--data", data, "--lr", "0.001"], 2)
        assert "different data or training settings" in line, line
        line = mpmd_cmds(base + ["--data", data], setting(base, "--seed", "6") + ["--data", data], 2)
        assert "different data or training settings" in line, line
        os.remove(other)
        # A rank-local error mid-run (injected after step 75 by the test hook SDESCORE_TEST_FAIL_AT,
        # between two agreements): the other rank is in its next step and stops at its next
        # agreement; one message naming the failing rank, exit 4 everywhere, no file.
        for rank in (1, 0):
            cmd = mpi(2) + [SCOREFIT, "train", "--data", data, "-o", out] + TRAIN
            env_before = dict(ENV)
            ENV["SDESCORE_TEST_FAIL_AT"] = f"{rank}:75"
            p = run(cmd, expect=4)
            ENV.clear()
            ENV.update(env_before)
            line = one_error_line(p)
            assert f"rank {rank} of 2" in line and "after step 75" in line, line
            no_files(d, ["data.h5"], f"failure on rank {rank}")
        print("OK: other data or settings, a missing file, an error mid-run on one rank: every rank exits with its code, one message, no file")
    elif CASE == "killed_rank":
        # SIGKILL rank 1 mid-run: mpirun ends rank 0 (SIGTERM); nothing appears at the target
        # (process 0 writes the file only after the last step's agreement).
        data = ensemble(d, "double_well", "data.h5")
        out = os.path.join(d, "out.h5")
        long_run = [SCOREFIT, "train", "--data", data, "-o", out] + setting(TRAIN, "--steps", "1000000")
        proc = subprocess.Popen(mpi(2) + long_run, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        time.sleep(3)
        victim = rank_pid(SCOREFIT, out, 1)
        assert victim is not None and proc.poll() is None, "the run ended before rank 1 could be killed"
        os.kill(victim, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0, proc.returncode
        no_files(d, ["data.h5"], "killed rank")
        print("OK: rank 1 killed: the run ends, nothing at the target")
    else:
        sys.exit(f"unknown case {CASE}")
