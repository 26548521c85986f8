#!/usr/bin/python3
"""Robustness of sdesim and scorefit against careless or hostile input (issue #14).

Builds a small corpus of malformed inputs with h5py (truncated files, wrong shapes and dtypes,
NaN/inf/1e300 data, a 1-path ensemble, swapped file kinds, special files at the target) and runs
argument vectors for every subcommand of both apps. Every case must be refused cleanly:
  - exit code in {2, 3, 4} (no signal, no abort, no internal error 70),
  - a non-empty message on stderr,
  - nothing at the target (or, where a target existed, its bytes untouched),
  - no temporary left in the output folder.
Plus a full disk (a 64 kB tmpfs, root only; skipped otherwise): exit 3, no temporary left.

Usage: robustness.py SDESIM SCOREFIT   (ctest passes the built binaries)
"""
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SDESIM, SCOREFIT = sys.argv[1], sys.argv[2]
FAILS = []
N_CASES = 0


def run(args, timeout=60):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def must_succeed(args):
    rc, out, err = run(args)
    if rc != 0:
        sys.exit(f"setup failed ({rc}): {' '.join(args)}\n{err}")


def digest(path):
    """sha256 of a regular file's bytes; for anything else (FIFO, device, symlink) its lstat identity."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        return (st.st_mode, st.st_ino, st.st_rdev)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def temporaries(folder):
    return [n for n in os.listdir(folder) if n.startswith(".tmp-") or ".tmp-" in n]


def case(name, args, target, codes=(2, 3, 4), expect=None, existing=None):
    """Runs args; checks the exit code, stderr, the target and the folder's temporaries.
    existing: the target exists beforehand (its digest must not change)."""
    global N_CASES
    N_CASES += 1
    folder = os.path.dirname(os.path.abspath(target))
    before = digest(target) if existing else None
    rc, out, err = run(args)
    problems = []
    if rc not in codes:
        problems.append(f"exit {rc}, expected one of {codes}")
    if not err.strip():
        problems.append("no message on stderr")
    if expect and expect not in err:
        problems.append(f"stderr lacks '{expect}'")
    if existing:
        if not os.path.lexists(target):
            problems.append("the existing target was removed")
        elif digest(target) != before:
            problems.append("the existing target was modified")
    elif os.path.lexists(target):
        problems.append("a file appeared at the target")
        os.remove(target)  # so later cases start clean
    left = temporaries(folder)
    if left:
        problems.append(f"temporaries left: {left}")
        for n in left:
            os.remove(os.path.join(folder, n))
    if problems:
        FAILS.append(f"{name}: {'; '.join(problems)}\n    cmd: {' '.join(args)}\n    stderr: {err.strip()[:400]}")
    print(f"{'ok  ' if not problems else 'FAIL'} [{rc}] {name}")


def main():
    tmp = tempfile.mkdtemp(prefix="sdescore_robust_")
    try:
        cases(tmp)
        disk_full(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{N_CASES} cases, {len(FAILS)} failed")
    for f in FAILS:
        print("FAIL", f)
    sys.exit(1 if FAILS else 0)


def cases(tmp):
    j = lambda *p: os.path.join(tmp, *p)
    out = j("out.h5")
    # ---- valid inputs ------------------------------------------------------------------
    must_succeed([SDESIM, "-m", "ou", "-n", "200", "--dt", "0.01", "--t-end", "0.5", "--save-every", "5", "-q", "-o", j("ou.h5")])
    must_succeed([SDESIM, "-m", "double_well", "-n", "200", "--dt", "0.01", "--t-end", "0.5", "--save-every", "5", "-q",
                  "-o", j("dw.h5")])
    must_succeed([SDESIM, "-m", "ou", "-n", "1", "--dt", "0.01", "--t-end", "0.5", "--save-every", "5", "-q", "-o", j("one.h5")])
    tiny = ["--steps", "50", "--hidden", "8", "--batch", "32", "--groups", "2", "--pool-size", "64", "--pools", "4",
            "--reference-size", "8", "-q"]
    must_succeed([SCOREFIT, "train", "--data", j("dw.h5"), *tiny, "-o", j("score.h5")])
    with h5py.File(j("score.h5"), "r") as f:
        pass
    with h5py.File(j("pts.h5"), "w") as f:
        f["points"] = np.zeros((4, 1))
        f["time"] = np.full(4, 0.3)

    # ---- the malformed corpus ----------------------------------------------------------
    val = "particles/ensemble/position/value"

    def variant(name, edit):
        p = j(name)
        shutil.copy(j("dw.h5"), p)
        with h5py.File(p, "r+") as f:
            edit(f)
        return p

    size = os.path.getsize(j("dw.h5"))
    with open(j("dw.h5"), "rb") as f, open(j("truncated.h5"), "wb") as g:
        g.write(f.read(size // 2))
    open(j("empty.h5"), "wb").close()
    with open(j("text.h5"), "w") as f:
        f.write("not an HDF5 file\n")
    bad = {
        "truncated": j("truncated.h5"),
        "empty": j("empty.h5"),
        "text": j("text.h5"),
        # bad values in a middle snapshot and in the last one (what --init file: reads)
        "nan": variant("nan.h5", lambda f: [f[val].__setitem__((k, 7, 0), np.nan) for k in (3, 10)]),
        "inf": variant("inf.h5", lambda f: [f[val].__setitem__((k, 0, 0), np.inf) for k in (0, 10)]),
        "huge": variant("huge.h5", lambda f: [f[val].__setitem__((k, 11, 0), 1e300) for k in (5, 10)]),
    }

    def reshape(f, shape, dtype="f8"):
        del f[val]
        f.create_dataset(val, data=np.zeros(shape, dtype=dtype))

    bad["wrong_dim"] = variant("wrongdim.h5", lambda f: reshape(f, (11, 200, 3)))
    bad["wrong_rank"] = variant("wrongrank.h5", lambda f: reshape(f, (11, 200)))
    bad["wrong_dtype"] = variant("wrongdtype.h5", lambda f: reshape(f, (11, 200, 1), "S4"))
    bad["no_model"] = variant("nomodel.h5", lambda f: f["parameters"].attrs.__delitem__("model"))
    bad["no_value"] = variant("novalue.h5", lambda f: f.__delitem__(val))

    # ---- sdesim ------------------------------------------------------------------------
    S = [SDESIM, "-q", "-o", out]
    case("sdesim --threads 100000", [SDESIM, "-m", "ou", "--threads", "100000", "-o", out], out, (2,), "--threads")
    case("sdesim --threads -1", [SDESIM, "-m", "ou", "--threads", "-1", "-o", out], out, (2,), "--threads")
    case("sdesim --paths 1e13", [SDESIM, "-m", "ou", "--paths", "10000000000000", "-o", out], out, (2,), "memory")
    case("sdesim --paths 0", [SDESIM, "-m", "ou", "--paths", "0", "-o", out], out, (2,))
    case("sdesim --dt nan", [SDESIM, "-m", "ou", "--dt", "nan", "-o", out], out, (2,))
    case("sdesim --t-end inf", [SDESIM, "-m", "ou", "--t-end", "inf", "-o", out], out, (2,))
    case("sdesim unknown model", [SDESIM, "-m", "nope", "-o", out], out, (2,))
    case("sdesim --param bad", [SDESIM, "-m", "ou", "--param", "theta=-1", "-o", out], out, (2,))
    case("sdesim --hist without stats", [SDESIM, "-m", "ou", "--hist", "0:-1:1:10", "-o", out], out, (2,))
    case("sdesim --describe nope", [SDESIM, "--describe", "nope"], out, (2,))
    for k, p in bad.items():
        case(f"sdesim --init file: {k}", [SDESIM, "-m", "double_well", "--init", "file:" + p, "-n", "20", "-o", out], out)
    case("sdesim --init file: score model", [SDESIM, "-m", "double_well", "--init", "file:" + j("score.h5"), "-o", out], out)
    case("sdesim --resume a non-checkpoint", [SDESIM, "-m", "double_well", "--resume", j("dw.h5"), "-n", "200", "-o", out], out)
    # the input as the output, even with --force
    shutil.copy(j("dw.h5"), j("self.h5"))
    case("sdesim --init file:X -o X --force", [SDESIM, "-m", "double_well", "-n", "10", "--init", "file:" + j("self.h5"),
                                                "-o", j("self.h5"), "--force"], j("self.h5"), (3,), "same file", existing=True)
    # an existing target without --force; special files and symlinks with --force
    shutil.copy(j("dw.h5"), j("exists.h5"))
    case("sdesim existing target", [SDESIM, "-m", "ou", "-n", "10", "-o", j("exists.h5")], j("exists.h5"), (3,), "--force",
         existing=True)
    os.mkfifo(j("fifo.h5"))
    case("sdesim --force onto a FIFO", [SDESIM, "-m", "ou", "-n", "10", "-o", j("fifo.h5"), "--force"], j("fifo.h5"), (3,),
         "special file", existing=True)
    assert stat.S_ISFIFO(os.lstat(j("fifo.h5")).st_mode)
    os.symlink(j("exists.h5"), j("link.h5"))
    case("sdesim --force onto a symlink", [SDESIM, "-m", "ou", "-n", "10", "-o", j("link.h5"), "--force"], j("link.h5"), (3,),
         "symbolic link", existing=True)
    assert os.path.islink(j("link.h5"))
    if os.geteuid() == 0 and not os.path.exists(j("null")):
        os.mknod(j("null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        case("sdesim --force onto a device", [SDESIM, "-m", "ou", "-n", "10", "-o", j("null"), "--force"], j("null"), (3,),
             "special file", existing=True)
        assert stat.S_ISCHR(os.lstat(j("null")).st_mode)
    # names at the file system's limit (NAME_MAX, 255 bytes here): a 255-byte output works (the
    # temporary's name is a fixed 21 bytes); a longer name, or one whose derived names (sdesim's
    # <output>.ckpt.h5, compare's .csv) would be longer, is refused before any work with exit 2
    global N_CASES
    for n in (250, 255):
        long_name = j("L" * (n - 3) + ".h5")
        rc, _, err = run([SDESIM, "-m", "ou", "-n", "10", "--dt", "0.1", "--t-end", "0.2", "-q", "-o", long_name])
        N_CASES += 1
        if rc != 0 or not os.path.exists(long_name):
            FAILS.append(f"sdesim {n}-byte output name: exit {rc}: {err.strip()[:300]}")
        else:
            print(f"ok   [0] sdesim {n}-byte output name")
            os.remove(long_name)
    case("sdesim 256-byte output name", [SDESIM, "-m", "ou", "-n", "10", "-q", "-o", j("L" * 253 + ".h5")],
         j("L" * 253 + ".h5"), (2,), "at most 255 bytes")
    case("sdesim --checkpoint-every with a 250-byte output name", [SDESIM, "-m", "ou", "-n", "10", "--dt", "0.1", "--t-end",
                                                                  "0.4", "--checkpoint-every", "2", "-q", "-o", j("C" * 247 + ".h5")],
         j("C" * 247 + ".h5"), (2,), ".ckpt.h5")
    assert not os.path.exists(j("C" * 247 + ".h5.ckpt.h5"))

    # ---- scorefit train ----------------------------------------------------------------
    T = [SCOREFIT, "train", *tiny]
    for k, p in bad.items():
        case(f"train --data {k}", [*T, "--data", p, "-o", out], out)
    for k in ("nan", "inf", "huge"):  # refused before training, naming snapshot and path
        case(f"train --data {k} names the path", [*T, "--data", bad[k], "-o", out], out, (2,), "path")
        case(f"train ism --data {k}", [*T, "--objective", "ism", "--data", bad[k], "-o", out], out, (2,), "path")
    case("train 1-path ensemble", [*T, "--data", j("one.h5"), "-o", out], out, (2,), "--holdout-every 0")
    case("train --data score model", [*T, "--data", j("score.h5"), "-o", out], out)
    case("train --data points file", [*T, "--data", j("pts.h5"), "-o", out], out)
    case("train --t-min -1", [*T, "--data", j("dw.h5"), "--t-min", "-1", "-o", out], out, (2,), "--t-min")
    case("train --t-max nan", [*T, "--data", j("dw.h5"), "--t-max", "nan", "-o", out], out, (2,))
    case("train --holdout-every -3", [*T, "--data", j("dw.h5"), "--holdout-every", "-3", "-o", out], out, (2,), "--holdout-every")
    case("train --threads 100000", [*T, "--data", j("dw.h5"), "--threads", "100000", "-o", out], out, (2,), "--threads")
    case("train --threads -1", [*T, "--data", j("dw.h5"), "--threads", "-1", "-o", out], out, (2,), "--threads")
    # a loss blow-up inside the first 50-step block (1e16, then a plateau near 1e9): exit 4 naming
    # the step, no file (regression: the guard once took that first block as its reference)
    case("train --lr 1e6", [SCOREFIT, "train", "--data", j("dw.h5"), "--lr", "1e6", "-o", out,
                            *[a if a != "50" else "300" for a in tiny]], out, (4,),
         "training diverged at step")
    case("train --data X -o X --force", [*T, "--data", j("self.h5"), "-o", j("self.h5"), "--force"], j("self.h5"), (3,),
         "same file", existing=True)
    case("train --force onto a FIFO", [*T, "--data", j("dw.h5"), "-o", j("fifo.h5"), "--force"], j("fifo.h5"), (3,),
         "special file", existing=True)
    long_model = j("M" * 252 + ".h5")  # 255 bytes: works
    rc, _, err = run([*T, "--data", j("dw.h5"), "-o", long_model])
    N_CASES += 1
    if rc != 0 or not os.path.exists(long_model):
        FAILS.append(f"train 255-byte output name: exit {rc}: {err.strip()[:300]}")
    else:
        print("ok   [0] train 255-byte output name")
        os.remove(long_model)
    case("train --resume an ensemble", [SCOREFIT, "train", "--resume", j("dw.h5"), "-o", out], out)

    # ---- scorefit score ----------------------------------------------------------------
    def points(name, pts, t):
        p = j(name)
        with h5py.File(p, "w") as f:
            f["points"] = pts
            f["time"] = t
        return p

    Sc = [SCOREFIT, "score", "--model", j("score.h5"), "-o", out]
    case("score t outside trained range", [*Sc, "--input", points("late.h5", np.zeros((3, 1)), np.array([0.2, 0.3, 5.0]))], out,
         (2,), "trained on")
    case("score t = 0 before t_min", [*Sc, "--input", points("early.h5", np.zeros((1, 1)), np.array([0.0]))], out, (2,))
    case("score nan point", [*Sc, "--input", points("nanpt.h5", np.array([[np.nan]]), np.array([0.3]))], out, (2,))
    case("score wrong point dim", [*Sc, "--input", points("dim2.h5", np.zeros((3, 2)), np.full(3, 0.3))], out, (3,))
    case("score time length", [*Sc, "--input", points("tlen.h5", np.zeros((3, 1)), np.full(2, 0.3))], out, (3,))
    case("score string points", [*Sc, "--input", points("spts.h5", np.array([[b"ab"]]), np.full(1, 0.3))], out)
    for k in ("truncated", "empty", "text"):
        case(f"score --input {k}", [*Sc, "--input", bad[k]], out)
        case(f"score --model {k}", [SCOREFIT, "score", "--model", bad[k], "--input", j("pts.h5"), "-o", out], out)
    case("score --model ensemble", [SCOREFIT, "score", "--model", j("dw.h5"), "--input", j("pts.h5"), "-o", out], out, (3,))
    case("score --input X -o X --force", [SCOREFIT, "score", "--model", j("score.h5"), "--input", j("pts.h5"), "-o", j("pts.h5"),
                                           "--force"], j("pts.h5"), (3,), "same file", existing=True)
    case("score --threads 100000", [*Sc, "--input", j("pts.h5"), "--threads", "100000"], out, (2,))

    # ---- scorefit grid -----------------------------------------------------------------
    G = [SCOREFIT, "grid", "--model", j("score.h5"), "-o", out]
    case("grid time outside", [*G, "--times", "0.3,7"], out, (2,), "trained on")
    case("grid --n huge", [*G, "--times", "0.3", "--n", "1000000000"], out, (2,), "--n")
    case("grid --n total", [*G, "--times", ",".join(f"{t:.3f}" for t in np.linspace(0.1, 0.45, 25)), "--n", "900000"], out,
         (2,), "limit")
    case("grid --n 1", [*G, "--times", "0.3", "--n", "1"], out, (2,))
    case("grid --hi inf", [*G, "--times", "0.3", "--hi", "inf"], out, (2,), "--hi")
    case("grid --lo nan", [*G, "--times", "0.3", "--lo", "nan"], out, (2,))
    case("grid --hi < --lo", [*G, "--times", "0.3", "--lo", "1", "--hi", "0"], out, (2,))
    case("grid --model ensemble", [SCOREFIT, "grid", "--model", j("dw.h5"), "--times", "0.3", "-o", out], out, (3,))
    case("grid -o model --force", [SCOREFIT, "grid", "--model", j("score.h5"), "--times", "0.3", "-o", j("score.h5"), "--force"],
         j("score.h5"), (3,), "same file", existing=True)
    case("grid --threads 100000", [*G, "--times", "0.3", "--threads", "100000"], out, (2,))

    # ---- scorefit physics ----------------------------------------------------------------
    P = [SCOREFIT, "physics", "--model", j("score.h5"), "-q", "-o", out]
    case("physics --n 0", [*P, "--n", "0"], out, (2,), "--n")
    case("physics --hi inf", [*P, "--hi", "inf"], out, (2,))
    case("physics time outside", [*P, "--times", "9"], out, (2,), "trained on")
    case("physics --flow-samples 1", [*P, "--flow-samples", "1"], out, (2,))
    case("physics --density bad", [*P, "--density", "x"], out, (2,))
    for k in ("nan", "huge", "truncated", "wrong_dim", "no_value"):
        case(f"physics --data {k}", [*P, "--data", bad[k]], out)
    case("physics --data ou (other model)", [*P, "--data", j("ou.h5")], out, (2,))
    case("physics --threads 100000", [*P, "--threads", "100000"], out, (2,))
    case("physics --model ensemble", [SCOREFIT, "physics", "--model", j("dw.h5"), "-o", out], out, (3,))

    # ---- scorefit compare ----------------------------------------------------------------
    C = [SCOREFIT, "compare", *tiny, "-o", out]
    for k in ("nan", "huge", "truncated", "empty", "wrong_dtype", "no_model"):
        case(f"compare --data {k}", [*C, "--data", bad[k]], out)
    case("compare --holdout-every -3", [*C, "--data", j("dw.h5"), "--holdout-every", "-3"], out, (2,))
    case("compare --t-min -1", [*C, "--data", j("dw.h5"), "--t-min", "-1"], out, (2,))
    case("compare --threads 100000", [*C, "--data", j("dw.h5"), "--threads", "100000"], out, (2,))
    case("compare --seeds empty", [*C, "--data", j("dw.h5"), "--objectives", "nope"], out, (2,))
    case("compare 1-path ensemble", [*C, "--data", j("one.h5")], out, (2,))
    case("compare --fp-advection upwind2", [*C, "--data", j("dw.h5"), "--fp-advection", "upwind2"], out, (2,),
         "use upwind3 or upwind1")
    # a reference no machine holds: refused by its memory estimate before it is allocated
    case("compare --fp-cells 2000000000", [*C, "--data", j("dw.h5"), "--fp-cells", "2000000000"], out, (2,),
         "the Fokker-Planck reference on 2000000000 cells needs about")
    # a 255-byte report name whose .csv summary would have 256 bytes: refused before the study
    case("compare 255-byte output (.csv too long)", [SCOREFIT, "compare", *tiny, "--data", j("dw.h5"), "-o", j("R" * 252 + ".h5")],
         j("R" * 252 + ".h5"), (2,), ".csv")


def disk_full(tmp):
    """A run that fills a 64 kB tmpfs: exit 3 (I/O), a message, no segfault at exit, no temporary."""
    mnt = os.path.join(tmp, "full")
    os.mkdir(mnt)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                                           capture_output=True).returncode != 0:
        print("skip disk-full case (needs root and tmpfs)")
        return
    try:
        target = os.path.join(mnt, "big.h5")
        case("sdesim on a full disk", [SDESIM, "-m", "ou", "-n", "20000", "--dt", "0.01", "--t-end", "0.5", "-q", "-o", target],
             target, (3,))
        case("scorefit grid on a full disk", [SCOREFIT, "grid", "--model", os.path.join(tmp, "score.h5"), "--times", "0.3,0.4",
                                              "--n", "50000", "-o", os.path.join(mnt, "grid.h5")], os.path.join(mnt, "grid.h5"), (3,))
    finally:
        subprocess.run(["umount", mnt], capture_output=True)


if __name__ == "__main__":
    main()
