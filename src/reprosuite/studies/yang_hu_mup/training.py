"""Training of the study's two kinds of job: the coordinate check and the learning-rate sweep (torch inside
the functions only)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _model(cfg, width: int, members: list[tuple[str, int]], device):
    """The ensemble of one width: member (parametrisation, seed), relative to the base width."""
    from reprosuite.engine.models import parametrization as pz

    sizes = pz.mlp_sizes(40, width, 10, cfg.depth)
    base = pz.mlp_sizes(40, cfg.base_width, 10, cfg.depth)
    gains = [math.sqrt(2.0)] * cfg.depth + [1.0]
    scalings = [pz.layer_scalings(p, sizes, base, gains) for p, _ in members]
    return pz.ParametrizedMLP(sizes, [s for _, s in members], scalings, device=device)


def _tensors(data: dict, device):
    import torch

    return {k: torch.as_tensor(v).to(device) for k, v in data.items()}


def coord_check(cfg, width: int, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import parametrization as pz
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import trainer

    from . import PARAMS

    t = _tensors(data, device)
    x, y, probe = t["x"], t["y"], t["x_test"][: cfg.probe_size]
    members = [(p, s) for p in PARAMS for s in seeds]
    model = _model(cfg, width, members, device)
    opt = pz.LayerwiseSGD(list(model.parameters()), cfg.coord_lr, model.lr_mults)
    stream = fn.MinibatchStream(len(y), cfg.coord_batch, [s for _, s in members], device=device)
    with torch.no_grad():
        logits0, hidden0 = model(probe, return_hidden=True)

    def rms(z):
        return z.pow(2).mean(dim=(1, 2)).sqrt()

    def evaluate(step):
        logits, hidden = model(probe, return_hidden=True)
        return {
            ("coord", "dh"): rms(hidden[-1] - hidden0[-1]),
            ("coord", "dh_first"): rms(hidden[0] - hidden0[0]),
            ("coord", "dlogits"): rms(logits - logits0),
            ("coord", "h"): rms(hidden[-1]),
            ("probe", "loss"): fn.cross_entropy(logits, t["y_test"][: cfg.probe_size]),
        }

    def loss_fn(step):
        idx = stream.at(step)
        return fn.cross_entropy(model(x[idx]), y[idx])

    history = trainer.fit(
        loss_fn, opt, cfg.coord_steps, evaluate, range(cfg.coord_steps + 1), label=f"coord w{width}"
    )
    typed = {"param": [p for p, _ in members], "width": [width] * len(members)}
    return history.frame([s for _, s in members], [f"{p}-w{width}" for p, _ in members], members=typed)


def sweep_log_steps(cfg) -> list[int]:
    """The sweep's evaluation steps: ``loss_window`` of them, evenly over the last quarter of training."""
    first = cfg.sweep_steps - cfg.sweep_steps // 4
    return sorted({int(round(v)) for v in np.linspace(first, cfg.sweep_steps, cfg.loss_window)})


def sweep(cfg, width: int, data: dict, seeds: list[int], device) -> pd.DataFrame:
    from reprosuite.engine.models import parametrization as pz
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import trainer

    t = _tensors(data, device)
    x, y = t["x"], t["y"]
    members = [(p, lr, s) for p in cfg.sweep_params for lr in cfg.sweep_lrs for s in seeds]
    model = _model(cfg, width, [(p, s) for p, _, s in members], device)
    opt = pz.LayerwiseSGD(list(model.parameters()), [lr for _, lr, _ in members], model.lr_mults)
    stream = fn.MinibatchStream(len(y), cfg.sweep_batch, [s for *_, s in members], device=device)
    xl, yl = x[: cfg.loss_size], y[: cfg.loss_size]

    def evaluate(step):
        return {("train", "loss"): fn.cross_entropy(model(xl), yl)}

    def loss_fn(step):
        idx = stream.at(step)
        return fn.cross_entropy(model(x[idx]), y[idx])

    history = trainer.fit(
        loss_fn, opt, cfg.sweep_steps, evaluate, sweep_log_steps(cfg), label=f"sweep w{width}"
    )
    typed = {
        "param": [p for p, *_ in members],
        "width": [width] * len(members),
        "lr": [lr for _, lr, _ in members],
    }
    labels = [
        f"{p}-w{width}-lr{lr:g}" for p, lr, _ in members
    ]  # for reading; selection uses the typed columns
    return history.frame([s for *_, s in members], labels, members=typed)
