#!/usr/bin/env python3
"""Relative L2 errors of full s and of D s (D = diag(0, gamma D): the v-component) under p_t, of
score models evaluated by `scorefit grid` on the cell centres of fp_reference's grid, against
that reference (cells marked valid only, as the library's grid_errors does). Also gives the
reference's own error by refinement (--coarse: the same solver at half the cells per axis).

usage: errors.py --ref PREFIX --nx NX --nv NV [--coarse PREFIX_HALF] GRID.h5 ...
A GRID is raw:PREFIX (train_eval's output) or a GRID.h5 from `scorefit grid --times 1,3,5 --lo -4+4/NX,-5.5+5.5/NV --hi 4-4/NX,5.5-5.5/NV --n NX,NV`.
"""
import argparse
import h5py
import numpy as np

T = [1, 3, 5]


def load_ref(prefix, nx, nv, t):
    a = np.fromfile(f"{prefix}_t{t}.bin").reshape(-1, 5)
    ok = np.fromfile(f"{prefix}_t{t}.valid", dtype=np.uint8).astype(bool)
    # cell k = ix + nx * iv (x fastest) is checked against the coordinates below
    return a, ok


def errors(ref, ok, s):
    p = ref[:, 2]
    m = ok & (p > 0)
    sr = ref[:, 3:5]
    num = (p[m, None] * (s[m] - sr[m]) ** 2).sum()
    den = (p[m, None] * sr[m] ** 2).sum()
    dnum = (p[m] * (s[m, 1] - sr[m, 1]) ** 2).sum()
    dden = (p[m] * sr[m, 1] ** 2).sum()
    return np.sqrt(num / den), np.sqrt(dnum / dden)


def grid_scores(path, nx, nv, ref):
    if path.startswith("raw:"):  # train_eval output: PREFIX_t<t>.score, n x 2 float64 on the cell centres
        return [np.fromfile(f"{path[4:]}_t{t}.score").reshape(-1, 2) for t in T]
    f = h5py.File(path, "r")
    s = f["score"][:]  # (time, x, y, component)
    out = []
    for k, t in enumerate(T):
        assert abs(f["time"][k] - t) < 1e-9
        x, y = f["x"][:], f["y"][:]
        sk = s[k].transpose(1, 0, 2).reshape(-1, 2)  # iv major, ix fastest
        assert np.allclose(np.repeat(y, nx), ref[k][0][:, 1]) and np.allclose(np.tile(x, nv), ref[k][0][:, 0])
        out.append(sk)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--nx", type=int, required=True)
    ap.add_argument("--nv", type=int, required=True)
    ap.add_argument("--coarse", help="prefix of the same reference at half the cells per axis")
    ap.add_argument("grids", nargs="*")
    a = ap.parse_args()
    ref = [load_ref(a.ref, a.nx, a.nv, t) for t in T]
    if a.coarse:  # the reference at half the resolution, against this one block-averaged to its grid
        print("reference self-check: the half-resolution reference (--coarse) against --ref, block-averaged to the coarse grid")
        cx, cv = a.nx // 2, a.nv // 2
        for k, t in enumerate(T):
            c, cok = load_ref(a.coarse, cx, cv, t)
            F = ref[k][0].reshape(a.nv, a.nx, 5)
            blk = lambda q: q.reshape(cv, 2, cx, 2)
            pc = blk(F[:, :, 2]).mean(axis=(1, 3))
            sx = blk(F[:, :, 2] * F[:, :, 3]).mean(axis=(1, 3)) / pc
            sv = blk(F[:, :, 2] * F[:, :, 4]).mean(axis=(1, 3)) / pc
            okf = blk(ref[k][1].reshape(a.nv, a.nx)).all(axis=(1, 3)).reshape(-1)
            fine = np.column_stack([c[:, 0], c[:, 1], pc.reshape(-1), sx.reshape(-1), sv.reshape(-1)])
            e, de = errors(fine, okf & cok, c[:, 3:5])
            print(f"  t = {t}: |coarse - fine| / |fine|   full s {e:.3f}   D s {de:.3f}")
    for g in a.grids:
        s = grid_scores(g, a.nx, a.nv, ref)
        row = [errors(ref[k][0], ref[k][1], s[k]) for k in range(3)]
        print(f"{g}: full s " + " / ".join(f"{r[0]:.3f}" for r in row) + "   D s " + " / ".join(f"{r[1]:.3f}" for r in row))


if __name__ == "__main__":
    main()
