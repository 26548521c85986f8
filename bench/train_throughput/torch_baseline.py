#!/usr/bin/python3
"""PyTorch CPU baseline for bench/train_throughput: the same training step as
bench_train_throughput (3 -> 128 -> 128 -> 2 SiLU MLP, batch 512, float32, Adam with global-norm
clipping 1.0, warm-up + cosine learning rate, EMA of the weights) for
  dsm: weighted squared loss  mean_b w_b |s_b - target_b|^2
  ism: exact ISM  mean_b w_b (|s_b|^2 + 2 div s_b), the divergence by d = 2 autograd passes
       with create_graph=True.
Prints "RESULT <loss> <threads> <steps_per_s> <cpu_use>" like the C++ benchmark.
Needs Debian's python3-torch (run.sh installs it when missing)."""
import argparse
import math
import time

import torch


def make_data(n_batches, B, gen):
    data = []
    for _ in range(n_batches):
        y = torch.randn(B, 2, generator=gen)
        t = torch.randn(B, 1, generator=gen).abs() * 0.3
        w = 1.0 + torch.randn(B, generator=gen).abs()
        data.append((y, t, -y, w))
    return data


def run(loss_kind, threads, seconds):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 128), torch.nn.SiLU(), torch.nn.Linear(128, 128), torch.nn.SiLU(),
                              torch.nn.Linear(128, 2))
    ema = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    warm, total, final = 100, 1_000_000, 1e-5

    def lr_factor(k):
        if k < warm:
            return (k + 1) / warm
        p = min(1.0, (k - warm) / (total - warm))
        return (final + (1e-3 - final) * 0.5 * (1 + math.cos(math.pi * p))) / 1e-3

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    data = make_data(16, 512, gen)
    step_count = [0]

    def step(k):
        y, t, target, w = data[k % 16]
        opt.zero_grad(set_to_none=True)
        if loss_kind == "dsm":
            s = net(torch.cat([y, t], dim=1))
            loss = (w * (s - target).pow(2).sum(dim=1)).mean()
        else:
            y = y.clone().requires_grad_(True)
            s = net(torch.cat([y, t], dim=1))
            div = torch.zeros_like(w)
            for j in range(2):
                g = torch.autograd.grad(s[:, j].sum(), y, create_graph=True)[0]
                div = div + g[:, j]
            loss = (w * (s.pow(2).sum(dim=1) + 2 * div)).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        step_count[0] += 1
        n = step_count[0]
        beta = min(0.999, (1 + n) / (10 + n))
        with torch.no_grad():
            params = [p.detach() for p in net.parameters()]
            torch._foreach_mul_(ema, beta)
            torch._foreach_add_(ema, params, alpha=1 - beta)

    for k in range(20):
        step(k)
    t0, c0 = time.perf_counter(), time.process_time()
    n, elapsed = 0, 0.0
    while elapsed < seconds:
        for _ in range(5):
            step(n)
            n += 1
        elapsed = time.perf_counter() - t0
    return n / elapsed, (time.process_time() - c0) / (elapsed * threads)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--loss", choices=["dsm", "ism", "all"], default="all")
    a = ap.parse_args()
    losses = ["dsm", "ism"] if a.loss == "all" else [a.loss]
    for loss in losses:
        for th in a.threads:
            rate, use = run(loss, th, a.seconds)
            print(f"RESULT {loss} {th} {rate:.1f} {use:.2f}", flush=True)
    print(f"# torch {torch.__version__}", flush=True)


if __name__ == "__main__":
    main()
