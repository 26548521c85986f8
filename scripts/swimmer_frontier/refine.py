#!/usr/bin/env python3
"""The Fokker-Planck reference's own error by refinement (docs/results.md, case 2).

Two levels: the finer solution is block-averaged onto the coarser grid (density: mean over the
block; score: density-weighted mean, i.e. grad log of the block-averaged density to first order)
and the coarser one is compared with it, as errors.py does with a model: relative L2 difference
of the full score s and of D s (the v component), weighted by p_t over cells valid in both. The
refinement factor may be 2 in both axes, or 2 in one axis only (e.g. 1600 x 600 against
800 x 600: x only).

    refine.py diff COARSE:NX:NV FINE:NX:NV

Three levels (each a factor 2 in both axes, coarsest first): the two successive differences
d1 = |L1 - L2|, d2 = |L2 - L3|, the observed order p = log2(d1 / d2) and a Richardson-style
estimate of the finest level's own error, d2 / (2^p - 1).

    refine.py levels L1:NX:NV L2:NX:NV L3:NX:NV

The estimate ASSUMES the asymptotic regime: the error of each level is C h^p with the same C and
p (so the finest level's error is the geometric tail d2 (2^-p + 2^-2p + ...)). The two
differences are measured on different grids (d1 on L1's, d2 on L2's), and a relative difference
of norms is not exactly a norm of the error, so it is an estimate, not a bound. When d2 >= d1
(no observed convergence) no estimate is given.
PREFIX is fp_reference's output prefix (PREFIX_t<t>.bin / .valid), t = 1, 3, 5.
"""
import math
import sys

import numpy as np

T = [1, 3, 5]


def load(prefix, nx, nv, t):
    a = np.fromfile(f"{prefix}_t{t}.bin").reshape(nv, nx, 5)  # cell k = ix + nx * iv
    ok = np.fromfile(f"{prefix}_t{t}.valid", dtype=np.uint8).astype(bool).reshape(nv, nx)
    return a, ok


def rel(p, ok, s_ref, s):
    """|s - s_ref| / |s_ref| in L2(p) over ok cells: full score and v component."""
    m = ok & (p > 0)
    num = (p[m, None] * (s[m] - s_ref[m]) ** 2).sum()
    den = (p[m, None] * s_ref[m] ** 2).sum()
    dnum = (p[m] * (s[m, 1] - s_ref[m, 1]) ** 2).sum()
    dden = (p[m] * s_ref[m, 1] ** 2).sum()
    return math.sqrt(num / den), math.sqrt(dnum / dden)


def diff(coarse, fine, t):
    """(full s, D s) of |coarse - fine| / |fine| with fine block-averaged onto coarse's grid."""
    (cp, cnx, cnv), (fp, fnx, fnv) = coarse, fine
    fx, fv = fnx // cnx, fnv // cnv
    assert fx * cnx == fnx and fv * cnv == fnv and fx in (1, 2) and fv in (1, 2), "factor 1 or 2 per axis"
    c, cok = load(cp, cnx, cnv, t)
    f, fok = load(fp, fnx, fnv, t)
    blk = lambda q: q.reshape(cnv, fv, cnx, fx)
    pf = blk(f[:, :, 2]).mean(axis=(1, 3))
    sx = blk(f[:, :, 2] * f[:, :, 3]).mean(axis=(1, 3)) / np.where(pf > 0, pf, 1)
    sv = blk(f[:, :, 2] * f[:, :, 4]).mean(axis=(1, 3)) / np.where(pf > 0, pf, 1)
    centres = blk(f[:, :, 0]).mean(axis=(1, 3)), blk(f[:, :, 1]).mean(axis=(1, 3))
    assert np.allclose(centres[0], c[:, :, 0]) and np.allclose(centres[1], c[:, :, 1]), "grids do not nest"
    ok = blk(fok).all(axis=(1, 3)) & cok
    return rel(pf, ok, np.stack([sx, sv], axis=-1), c[:, :, 3:5])


def level(arg):
    prefix, nx, nv = arg.rsplit(":", 2)
    return prefix, int(nx), int(nv)


def name(lv):
    return f"{lv[1]} x {lv[2]}"


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("diff", "levels"):
        sys.exit(__doc__)
    lv = [level(a) for a in sys.argv[2:]]
    if sys.argv[1] == "diff":
        assert len(lv) == 2
        print(f"|{name(lv[0])} - {name(lv[1])}| / |{name(lv[1])}|, the finer block-averaged to the coarser grid")
        for t in T:
            e, de = diff(lv[0], lv[1], t)
            print(f"  t = {t}: full s {e:.3f}   D s {de:.3f}")
        return
    assert len(lv) == 3
    print(f"levels {name(lv[0])}, {name(lv[1])}, {name(lv[2])}: d1 = |L1 - L2|, d2 = |L2 - L3| (relative, block-averaged),")
    print("order p = log2(d1/d2), estimated own error of L3 = d2 / (2^p - 1) (assumes error = C h^p, same C, p)")
    for t in T:
        d1, d2 = diff(lv[0], lv[1], t), diff(lv[1], lv[2], t)
        cols = []
        for k, what in enumerate(("full s", "D s")):
            if d2[k] < d1[k]:
                p = math.log2(d1[k] / d2[k])
                est = d2[k] / (2**p - 1)
                flag = " (p < 0.5: not in the asymptotic regime, estimate meaningless)" if p < 0.5 else ""
                cols.append(f"{what}: d1 {d1[k]:.3f} d2 {d2[k]:.3f} p {p:.2f} est {est:.3f}{flag}")
            else:
                cols.append(f"{what}: d1 {d1[k]:.3f} d2 {d2[k]:.3f} (no convergence observed)")
        print(f"  t = {t}: " + "   ".join(cols))


if __name__ == "__main__":
    main()
