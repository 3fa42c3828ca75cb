"""The ensemble optimisers' step, measured side by side in one run (issue 3).

For each parameter set (the shapes of a suite workload, S members), one optimiser step of the engine's `AdamW` and
`SGD` (per-member learning rates) against S steps of `torch.optim` on one member each, and the engine's step with
half of the members diverged (only active members are updated) against the step with all active.

    .venv/bin/python benchmarks/bench_optim.py
"""

from __future__ import annotations

import argparse
import time

import torch

from reprosuite.engine.train import optim

PARAMETER_SETS = {
    "MLP 40-256-256-10, 36 members (lr_batch_rmt)": (
        36,
        [(256, 40), (256,), (256, 256), (256,), (10, 256), (10,)],
    ),
    "MLP 64-50x20-10, 18 members (grad_noise)": (
        18,
        [(50, 64)] + [(50, 50)] * 19 + [(10, 50)] + [(50,)] * 20 + [(10,)],
    ),
    "transformer p=31 d=128, 6 members": (
        6,
        [(32, 128), (128, 128)] * 4 + [(512, 128), (128, 512), (128, 31)],
    ),
}

ENGINE = {
    "AdamW": lambda p, lr: optim.AdamW(p, lr=lr, weight_decay=0.01),
    "SGD momentum": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),
}
REFERENCE = {
    "AdamW": lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=0.01),
    "SGD momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
}


def per_step_ms(step, reps: int) -> float:
    for _ in range(5):
        step()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            step()
        best = min(best, (time.perf_counter() - start) / reps * 1e3)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as in training processes: diverged members' decaying state goes denormal
    print(f"torch {torch.__version__}, {args.threads} thread(s); ms per step, best of 3 x {args.reps}")
    print(
        "| parameters | optimiser | engine | torch.optim, member by member | speed-up | half diverged | vs all active |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, (members, shapes) in PARAMETER_SETS.items():
        lrs = torch.logspace(-4, -2, members)
        for opt_name in ENGINE:
            params = [torch.randn(members, *s, requires_grad=True) for s in shapes]
            for p in params:
                p.grad = torch.randn_like(p)
            engine = ENGINE[opt_name](params, lrs)
            t_engine = per_step_ms(engine.step, args.reps)
            singles = [[torch.nn.Parameter(p[s].detach().clone()) for p in params] for s in range(members)]
            for member in singles:
                for p in member:
                    p.grad = torch.randn_like(p)
            refs = [REFERENCE[opt_name](member, float(lr)) for member, lr in zip(singles, lrs, strict=True)]

            def reference_step(refs=refs):
                for r in refs:
                    r.step()

            t_ref = per_step_ms(reference_step, args.reps)
            engine.active[: members // 2] = False
            t_half = per_step_ms(engine.step, args.reps)
            print(
                f"| {name} | {opt_name} | {t_engine:.2f} | {t_ref:.2f} | {t_ref / t_engine:.1f}x | {t_half:.2f} | "
                f"{t_engine / t_half:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
