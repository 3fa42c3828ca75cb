"""The pre-training arm (full tier): does pre-training stabilise fine-tuning against a perturbation at its start?

The paper pre-trains on CIFAR-100 and fine-tunes on CIFAR-10. Our analogue on one dataset: pre-train on the
classes 5–9 (relabelled 0–4), fine-tune on the classes 0–4 — another task on the same input distribution. Per
seed, four members are fine-tuned together with one common batch order: a pre-trained parent and its perturbed
child, and a randomly initialised parent and its perturbed child. Both arms start from the seed's initialisation
(the random arm is that initialisation itself, the pre-trained arm replaces its hidden layers by the pre-trained
ones and keeps the initial head), so with 0 pre-training epochs the two arms coincide: the control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from reprosuite.engine.train import functional as fn
from reprosuite.engine.train import optim, trainer

from . import butterfly as bf

ROLES = ("pre_parent", "pre_child", "rand_parent", "rand_child")
SPLIT = 5  # pre-train on classes ≥ SPLIT, fine-tune on classes < SPLIT


def split(data: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """(pre-training, fine-tuning) datasets: classes ≥ 5 relabelled 0–4, and classes < 5."""
    pre, fine = {}, {}
    for xs, ys in (("x", "y"), ("x_test", "y_test")):
        y = data[ys]
        pre[xs], pre[ys] = data[xs][y >= SPLIT], y[y >= SPLIT] - SPLIT
        fine[xs], fine[ys] = data[xs][y < SPLIT], y[y < SPLIT]
    return pre, fine


def _fit(cfg, model, lr, x, y, member_seeds, steps_label, evaluate, loss_hook=None):
    per_epoch = x.shape[0] // cfg.batch
    stream = fn.MinibatchStream(x.shape[0], cfg.batch, member_seeds, device=x.device)
    opt = optim.SGD(model.params(), lr=lr, momentum=cfg.momentum)
    epochs = steps_label[0]
    steps = epochs * per_epoch

    def loss_fn(step: int):
        if loss_hook is not None:
            loss_hook(step)
        idx = stream.at(step)
        return fn.cross_entropy(model(x[idx]), y[idx])

    return steps, trainer.fit(
        loss_fn,
        opt,
        steps,
        lambda s: evaluate(s, steps),
        trainer.log_schedule(max(steps, 1), points=8) if steps else [0],
        lr_scale=lambda s: bf.triangle(s, steps, cfg.warmup),
        label=steps_label[1],
    )


def train_k4(cfg, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    pre, fine = ({k: torch.as_tensor(v, device=device) for k, v in d.items()} for d in split(data))
    sizes = [pre["x"].shape[1], *cfg.widths, SPLIT]
    # phase 1: one member per seed trained on the pre-training classes (0 epochs: nothing happens)
    base = bf.LNMLP(sizes, list(seeds), device)
    n_hidden = len(cfg.widths)

    def eval_pre(step, steps):
        ce, err = bf.member_ce(base, None, pre["x_test"], pre["y_test"])
        return {("pretest", "ce"): ce, ("pretest", "acc"): 1 - err}

    _fit(
        cfg,
        base,
        point["lr"],
        pre["x"],
        pre["y"],
        list(seeds),
        (point["pretrain_epochs"], "kwok_butterfly/pretrain"),
        eval_pre,
    )
    # phase 2: per seed [pre parent, pre child, rand parent, rand child], children perturbed at step 0 by
    # the same δ (one stream per seed), so that with 0 pre-training epochs the two arms are identical
    member_seeds = [s for s in seeds for _ in ROLES]
    model = bf.LNMLP(sizes, member_seeds, device)
    trained = base.params()
    with torch.no_grad():
        for k, p in enumerate(model.params()):
            layer = k % (n_hidden + 1)  # params() = weights then biases; the last of each is the head
            if layer == n_hidden:
                continue
            for i in range(len(seeds)):
                p[4 * i : 4 * i + 2] = trained[k][i]
    roles = [
        {"kind": "gauss" if r.endswith("child") else "none", "sigma": cfg.k4_sigma, "index": 101}
        for _ in seeds
        for r in ROLES
    ]
    delta = [
        d.to(device=device, dtype=model.weights[0].dtype)
        for d in bf.perturbations(sizes, roles, member_seeds)
    ]
    parent_of = torch.tensor([i - (i % 2) for i in range(len(member_seeds))], device=device)

    def perturb(step: int):
        if step == 0:
            with torch.no_grad():
                for w, d in zip(model.weights, delta, strict=True):
                    w.add_(d)

    def eval_fine(step, steps):
        ce, err = bf.member_ce(model, None, fine["x_test"], fine["y_test"])
        l2, rel = bf.distance(model, parent_of)
        out = {("test", "ce"): ce, ("test", "acc"): 1 - err, ("train", "l2"): l2, ("train", "l2_rel"): rel}
        if step == steps:
            n = cfg.barrier_n or fine["x"].shape[0]
            b = bf.barriers(model, parent_of, fine["x"][:n], fine["y"][:n], cfg.barrier_points)
            out[("train", "barrier_ce")] = b["barrier_ce"]
            out[("train", "barrier_err")] = b["barrier_err"]
        return out

    _, history = _fit(
        cfg,
        model,
        point["lr"],
        fine["x"],
        fine["y"],
        member_seeds,
        (cfg.epochs, "kwok_butterfly/finetune"),
        eval_fine,
        perturb,
    )
    return history.frame(
        member_seeds,
        variants=[r for _ in seeds for r in ROLES],
        members={
            "kind": [r["kind"] for r in roles],
            "sigma": [cfg.k4_sigma if r["kind"] == "gauss" else 0.0 for r in roles],
            "spawn_epoch": [0.0 if r["kind"] == "gauss" else -1.0 for r in roles],
            "lr": [float(point["lr"])] * len(roles),
        },
    )
