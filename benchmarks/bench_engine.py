"""Batched ensembles vs sequential per-member loops, measured side by side in one run (issue 3).

For each workload, S members are trained for the same number of SGD steps (a) as one ensemble on the engine
(`EnsembleMLP` + ensemble `SGD`) with all members stacked in one set of batched matmuls, (b) the engine's default
choice: on a CPU where one member's step works on a megabyte or more (`layers.train_parts`), the members in turn,
each a one-member ensemble trained for all its steps; otherwise one ensemble as `layers.member_chunk` runs it
(stacked, or one member at a time through `addmm` within each step where a member's activations are large; the
same as (a) where it stacks) and (c) one plain `nn.Sequential` +
`torch.optim.SGD` after another (at most --seq-members of them timed, the rest extrapolated). The studies'
workloads give every member its own minibatch, (S, B, in), as the studies' minibatch streams do. Prints wall
time, the speed-ups against (c), achieved GFLOP/s (6·B·Σ fan_in·fan_out per member per step) as a fraction of the
fp32 matmul peak measured at the start of the same run, at 1 and 2 threads. Each workload's three arms are timed
``--repeats`` times in turn (stacked, default, sequential, then again), and each arm's fastest time is reported, as
``timeit`` does: the time least disturbed by other work on the machine; the last column gives the range of the
default's speed-up over the repeats. The process is set up as a training job's (``device.setup``: threads, denormal
flushing, determinism and, on a CPU, the allocator's thresholds).

    .venv/bin/python benchmarks/bench_engine.py            # CPU
    .venv/bin/python benchmarks/bench_engine.py --device cuda
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch
from torch import nn

from reprosuite.engine.models import layers
from reprosuite.engine.train import device as train_device
from reprosuite.engine.train import optim


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]
    members: int
    batch: int
    activation: str
    steps: int
    own_batches: bool = False  # each member its own minibatch (S, B, in), else one (B, in) shared by all


WORKLOADS = (
    Workload("tiny tanh 2-16-1 (fractal net)", (2, 16, 1), 1024, 64, "tanh", 200),
    Workload("tiny deep linear 6x16", (16,) * 7, 64, 128, "linear", 300),
    Workload("tiny relu 8-32-32-2", (8, 32, 32, 2), 128, 64, "relu", 300),
    Workload("MLP 100-256-256-10, mb 128", (100, 256, 256, 10), 32, 128, "relu", 100),
    Workload("MLP 100-256-256-10, full 2048", (100, 256, 256, 10), 32, 2048, "relu", 20),
    Workload("deep linear 6x64, mb 128", (64,) * 7, 32, 128, "linear", 100),
    Workload("deep linear 6x64, full 2048", (64,) * 7, 32, 2048, "linear", 20),
    # studies' own shapes (member counts of one job, each member its own minibatch as in the studies)
    Workload(
        "grad_noise_deep_mlp full: 784-50x20-10, mb 64", (784, *(50,) * 20, 10), 240, 64, "relu", 10, True
    ),
    Workload("kirkpatrick_ewc full: 784-400-400-10, mb 32", (784, 400, 400, 10), 25, 32, "relu", 40, True),
    Workload("lr_batch_rmt quick: 40-256-256-10, B 512", (40, 256, 256, 10), 36, 512, "relu", 30, True),
    Workload("lr_batch_rmt quick: 40-256-256-10, B 64", (40, 256, 256, 10), 36, 64, "relu", 100, True),
)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device: torch.device, n: int = 1024, reps: int = 20) -> float:
    """fp32 matmul GFLOP/s on this device with the current thread count."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def flops(w: Workload) -> float:
    per_sample = sum(i * o for i, o in zip(w.sizes[:-1], w.sizes[1:], strict=True))
    return 6.0 * w.batch * per_sample * w.members * w.steps


def batched(w: Workload, x: torch.Tensor, y: torch.Tensor, device: torch.device, chunk: int | None) -> float:
    model = layers.EnsembleMLP(w.sizes, range(w.members), activation=w.activation, device=device, chunk=chunk)
    opt = optim.SGD(list(model.parameters()), lr=1e-3, momentum=0.9)
    for step in range(w.steps + 2):
        if step == 2:  # two warm-up steps
            sync(device)
            start = time.perf_counter()
        loss = ((model(x) - y) ** 2).mean(dim=(1, 2))  # x, y: (B, ·) shared or (S, B, ·) own batches
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    sync(device)
    return time.perf_counter() - start


def in_turn(w: Workload, x: torch.Tensor, y: torch.Tensor, device: torch.device, most: int) -> float:
    """The engine's members in turn (``layers.train_parts`` = 1): one-member ensembles, each trained for all its
    steps, one after another; at most ``most`` timed and the rest extrapolated, as :func:`sequential`."""
    total = 0.0
    timed = min(w.members, most)
    for m in range(timed):
        xm, ym = (x[m : m + 1], y[m : m + 1]) if w.own_batches else (x, y)
        model = layers.EnsembleMLP(w.sizes, [m], activation=w.activation, device=device)
        opt = optim.SGD(list(model.parameters()), lr=1e-3, momentum=0.9)
        for step in range(w.steps + 2):
            if step == 2:
                sync(device)
                start = time.perf_counter()
            loss = ((model(xm) - ym) ** 2).mean(dim=(1, 2))
            opt.zero_grad()
            loss.sum().backward()
            opt.step()
        sync(device)
        total += time.perf_counter() - start
    return total * w.members / timed


def sequential(w: Workload, x: torch.Tensor, y: torch.Tensor, device: torch.device, most: int) -> float:
    """Time of training the members one after another; at most ``most`` are timed and the rest extrapolated
    (members are independent and equally expensive)."""
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "linear": nn.Identity}[w.activation]
    total = 0.0
    timed = min(w.members, most)
    for m in range(timed):
        xm, ym = (x[m], y[m]) if w.own_batches else (x, y)
        torch.manual_seed(m)
        mods: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:], strict=True)):
            mods.append(nn.Linear(fan_in, fan_out))
            if i < len(w.sizes) - 2:
                mods.append(act())
        model = nn.Sequential(*mods).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        for step in range(w.steps + 2):
            if step == 2:
                sync(device)
                start = time.perf_counter()
            loss = ((model(xm) - ym) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sync(device)
        total += time.perf_counter() - start
    return total * w.members / timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", default="", help="substring of workload names to run")
    ap.add_argument(
        "--seq-members", type=int, default=64, help="members timed sequentially (rest extrapolated)"
    )
    ap.add_argument("--repeats", type=int, default=3, help="times each arm is timed (its fastest reported)")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error(f"--repeats must be at least 1, not {args.repeats}")
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}")
    for threads in args.threads if device.type == "cpu" else [1]:
        # as a training job sets up its process (threads, denormals, determinism, the CPU allocator)
        train_device.setup(args.device, threads)
        peak = matmul_peak(device)
        print(f"\n## {threads} thread(s): fp32 matmul peak {peak:.1f} GFLOP/s")
        print(
            "| workload | members | stacked s | engine default s (plan) | sequential s | stacked vs seq | "
            "default vs seq | stacked % peak | default % peak | seq % peak | default vs seq, each repeat |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|"
        )
        for w in WORKLOADS:
            if args.only not in w.name:
                continue
            g = torch.Generator().manual_seed(0)
            lead = (w.members,) if w.own_batches else ()
            x = torch.randn(*lead, w.batch, w.sizes[0], generator=g).to(device)
            y = torch.randn(*lead, w.batch, w.sizes[-1], generator=g).to(device)
            turn = layers.train_parts(w.members, w.batch, w.sizes, device) < w.members
            plan = layers.member_chunk(w.members, w.batch, max(w.sizes[1:]), device)
            runs = []  # (stacked, default, sequential) seconds per repeat
            for _ in range(args.repeats):
                tb = batched(w, x, y, device, chunk=w.members)
                if turn:
                    td = in_turn(w, x, y, device, args.seq_members)
                else:
                    td = batched(w, x, y, device, chunk=None) if plan < w.members else tb
                runs.append((tb, td, sequential(w, x, y, device, args.seq_members)))
            tb, td, ts = (min(arm) for arm in zip(*runs, strict=True))
            each = [s / d for _, d, s in runs]
            fb, fd, fs = (flops(w) / t / 1e9 for t in (tb, td, ts))
            label = (
                "in turn"
                if turn
                else "per member"
                if plan == layers.PER_MEMBER
                else "stacked"
                if plan >= w.members
                else f"{plan}"
            )
            print(
                f"| {w.name} | {w.members} | {tb:.3f} | {td:.3f} ({label}) | {ts:.3f} | {ts / tb:.2f}x | "
                f"{ts / td:.2f}x | {100 * fb / peak:.0f} % | {100 * fd / peak:.0f} % | {100 * fs / peak:.0f} % | "
                f"{min(each):.2f}-{max(each):.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
