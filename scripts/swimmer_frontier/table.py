#!/usr/bin/env python3
"""Tables of study.sh's outputs in docs/results.md's markdown form: the references' CPU time and
refinement, then per sigma0 and variant the errors of full s and D s at t = 1 / 3 / 5 as
mean ± sd over the seeds found (sample sd, n - 1), against the 800 x 600 reference and (second
table) the 400 x 300 one, and the training CPU time per run and per step.

usage: table.py OUTDIR
"""
import glob
import os
import re
import statistics
import sys

VARIANTS = [  # name in study.sh, label, steps
    ("ism", "exact ISM (10,000 steps)", 10000),
    ("ldsm", "local-DSM, default Δ = 0.02 (13,000)", 13000),
    ("ldsm005", "local-DSM, Δ = 0.05 (13,000)", 13000),
    ("ldsm01", "local-DSM, Δ = 0.1 (13,000)", 13000),
]
SIGMAS = ["1", "0.5"]
LINE = re.compile(r"^(\S+): full s ([\d.]+) / ([\d.]+) / ([\d.]+)\s+D s ([\d.]+) / ([\d.]+) / ([\d.]+)")


def errors(out, s0, v, res):
    """{seed: (full[3], Ds[3])} from err_s<s0>_<v>_seed<k>_<res>.txt"""
    got = {}
    for f in sorted(glob.glob(f"{out}/err_s{s0}_{v}_seed*_{res}.txt")):
        seed = int(re.search(r"_seed(\d+)_", f).group(1))
        for line in open(f):
            m = LINE.match(line)
            if m:
                x = [float(g) for g in m.groups()[1:]]
                got[seed] = (x[:3], x[3:])
    return got


def ms(vals):
    if len(vals) == 1:
        return f"{vals[0]:.3f}"
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals):.3f}"


def error_table(out, res):
    print(f"\nErrors against the {res.replace('x', ' × ')} reference (t = 1 / 3 / 5; mean ± sd over seeds):\n")
    print("| σ₀ | objective (budget) | full s | D s | seeds |")
    print("|---|---|---|---|---|")
    for s0 in SIGMAS:
        for v, label, _ in VARIANTS:
            got = errors(out, s0, v, res)
            if not got:
                continue
            seeds = sorted(got)
            full = " / ".join(ms([got[k][0][i] for k in seeds]) for i in range(3))
            ds = " / ".join(ms([got[k][1][i] for k in seeds]) for i in range(3))
            print(f"| {s0} | {label} | {full} | {ds} | {', '.join(map(str, seeds))} |")


def shift_table(out):
    """How the margins against ISM (mean variant - mean ISM, over the seeds both have) move when the
    400 x 300 reference is replaced by the 800 x 600 one: the reference's effect on the ranking."""
    print("\nMargin variant - ISM (negative: variant ahead) against 800 × 600, and its change from 400 × 300:\n")
    print("| σ₀ | objective | full s: margin (change) | D s: margin (change) |")
    print("|---|---|---|---|")
    for s0 in SIGMAS:
        ism = {r: errors(out, s0, "ism", r) for r in ("800x600", "400x300")}
        for v, label, _ in VARIANTS[1:]:
            got = {r: errors(out, s0, v, r) for r in ("800x600", "400x300")}
            seeds = sorted(set(got["800x600"]) & set(got["400x300"]) & set(ism["800x600"]) & set(ism["400x300"]))
            if not seeds:
                continue
            cols = []
            for c in range(2):
                d = {r: [statistics.mean(got[r][k][c][i] for k in seeds) - statistics.mean(ism[r][k][c][i] for k in seeds)
                         for i in range(3)] for r in got}
                cols.append(" / ".join(f"{d['800x600'][i]:+.3f} ({d['800x600'][i] - d['400x300'][i]:+.3f})" for i in range(3)))
            print(f"| {s0} | {label.split(' (')[0]} (seeds {', '.join(map(str, seeds))}) | {cols[0]} | {cols[1]} |")


def cpu_table(out):
    print("\nTraining CPU time (user + sys, one thread, /usr/bin/time; mean over runs):\n")
    print("| σ₀ | objective | runs | CPU per run (s) | per step (ms) |")
    print("|---|---|---|---|---|")
    for s0 in SIGMAS:
        for v, label, steps in VARIANTS:
            ts = []
            for f in sorted(glob.glob(f"{out}/{v}_s{s0}_seed*.time")):
                w = open(f).read().split()
                try:
                    ts.append(float(w[-2]) + float(w[-1]))
                except (ValueError, IndexError):
                    pass
            if ts:
                m = statistics.mean(ts)
                rng = f" ({min(ts):.1f}-{max(ts):.1f})" if len(ts) > 1 else ""
                print(f"| {s0} | {label.split(' (')[0]} | {len(ts)} | {m:.1f}{rng} | {1000 * m / steps:.2f} |")


def refs(out):
    print("Reference runs (fp_reference, one thread; user + sys CPU, max RSS):\n")
    for f in sorted(glob.glob(f"{out}/ref_*.time")):
        w = open(f).read().split()
        try:
            print(f"  {os.path.basename(f)[:-5]}: {float(w[0]) + float(w[1]):.0f} s CPU, {int(w[2]) / 1e6:.2f} GB")
        except (ValueError, IndexError):
            pass
    for f in sorted(glob.glob(f"{out}/refine_s*.txt")):
        print(f"\n{os.path.basename(f)}:")
        print(open(f).read().rstrip())


def main():
    out = sys.argv[1]
    refs(out)
    error_table(out, "800x600")
    error_table(out, "400x300")
    shift_table(out)
    cpu_table(out)


if __name__ == "__main__":
    main()
