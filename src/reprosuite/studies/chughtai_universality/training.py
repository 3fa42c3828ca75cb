"""Training of one grid point: every seed of one group and weight decay, stacked into one model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.study import seed_list, seed_positions


def group_order(name: str) -> int:
    kind, n = name[0], int(name[1:])
    return {"S": math.factorial(n), "A": math.factorial(n) // 2, "D": 2 * n, "C": n}[kind]


def log_steps(steps: int, points: int, late: float) -> list[int]:
    """Official checkpoints ``logspace(0, log10(steps), points)`` (int, deduplicated), plus 0, the end and the
    late step ``round(late · steps)`` that the key-set stability check reads."""
    grid = np.logspace(0, np.log10(max(steps, 1)), num=points, endpoint=True).astype(np.int64)
    return sorted({0, steps, round(late * steps), *(int(s) for s in grid if s <= steps)})


def train(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.analysis import groups
    from reprosuite.engine.train import optim, trainer

    from . import gcr

    torch.set_flush_denormal(True)
    g = groups.by_name(point["group"])
    keep = set(
        seed_list(cfg)[: point["n_seeds"]]
    )  # the grid point's seeds (all of them on the many-seed group)
    seeds = [s for s in seeds if s in keep]
    n, s_count = g.order, len(seeds)
    pairs = np.arange(n * n)
    a_np, b_np = np.divmod(pairs, n)
    a, b = (torch.as_tensor(x, device=device) for x in (a_np, b_np))
    c = torch.as_tensor(g.table[a_np, b_np], device=device)
    mask = np.asarray(data[f"train_{point['group']}"])[seed_positions(cfg, seeds)]  # (S, n²)
    index = torch.as_tensor(np.stack([np.flatnonzero(m) for m in mask]), device=device)  # (S, n_train)
    is_train = torch.as_tensor(mask, dtype=torch.float64, device=device)
    irreps = [r for r in g.real_irreps if not r.trivial]
    cubes = [torch.as_tensor(g.character_cube(r), dtype=torch.float64, device=device) for r in irreps]
    projs = [torch.as_tensor(g.projector(r), dtype=torch.float64, device=device) for r in irreps]

    params = gcr.init_params(seeds, n, cfg.embed, cfg.hidden, device)
    opt = optim.AdamW(params, lr=cfg.lr, betas=(0.9, cfg.beta2), eps=1e-8, weight_decay=point["wd"])
    steps = int(point["steps"])
    a_tr, b_tr, c_tr = a[index], b[index], c[index]  # (S, n_train)

    dense = point["fraction"] >= 0.5  # all pairs by broadcasting, loss on the training ones: cheaper there
    weight = is_train.float() / is_train.float().sum(1, keepdim=True)

    def loss_fn(step: int):  # full batch: the mean cross-entropy over each seed's training pairs
        if dense:
            logp = torch.log_softmax(gcr.all_pairs_logits(params), -1)
            return -(logp.gather(-1, c.expand(s_count, -1)[..., None])[..., 0] * weight).sum(1)
        logits = gcr.logits_of(params, a_tr, b_tr)  # (S, n_train, |G|)
        return -torch.log_softmax(logits, -1).gather(-1, c_tr[..., None])[..., 0].mean(1)

    def evaluate(step: int) -> dict:
        ev = gcr.evaluate_all(params, a, b, c, is_train, cubes)
        out = {(split, m): ev[f"{split}_{m}"] for split in ("train", "test") for m in ("loss", "acc")}
        out[("all", "loss")] = ev["all_loss"]
        out[("params", "sum_sq_weights")] = gcr.sq_weights(params)
        for i, r in enumerate(irreps):
            out[("sim", r.name)] = ev[f"sim_{i}"]
        if step == steps:
            out.update(final_measures(ev))
        return out

    def final_measures(ev: dict) -> dict:
        xa, yb = gcr.embeds(params)
        out = {}
        for split, x in (("fve_wa", xa), ("fve_wb", yb), ("fve_wu", params[-1].transpose(1, 2))):
            for r, v in zip(irreps, gcr.fve(x, projs), strict=True):
                out[(split, r.name)] = v
        sims = torch.stack([ev[f"sim_{i}"] for i in range(len(irreps))], 1)  # (S, k)
        key = sims > cfg.key_threshold  # official determine_key_reps
        stacked = torch.stack(projs)  # (k, n, n)
        for which, m in (("key", key), ("nonkey", ~key)):
            proj = torch.einsum("sk,kij->sij", m.double(), stacked)
            restricted, excluded = gcr.restricted_excluded(params, a, b, c, is_train, proj)
            empty = ~m.any(1)
            out[("final", f"restricted_{which}")] = torch.where(empty, math.nan, restricted)
            out[("final", f"excluded_{which}")] = torch.where(empty, math.nan, excluded)
        return out

    history = trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        log_steps(steps, cfg.checkpoints, cfg.late),
        label=f"chughtai {point['group']} wd{point['wd']:g}",
    )
    return history.frame(seeds, members={"wd": [float(point["wd"])] * s_count})
