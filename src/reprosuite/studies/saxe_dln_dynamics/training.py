"""Training of the Saxe et al. study: three-layer nets from decoupled or small random init (mode dynamics,
Fig. 3) and deep linear nets of every learning rate and init at one depth (the depth sweep, Fig. 6A)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.metrics import curves

from . import dynamics

INITS = ("orthogonal", "gaussian")
# Orthogonal init with the network's initial output subtracted, f(x) = W_tot x − W_tot(0) x: the same isometric
# start, but no random initial map to unlearn before the target is learned (the set-up check of Fig. 6A)
CENTRED = "orthogonal_centred"
# Bytes of float32 weights trained in one ensemble of the depth sweep (ours): a job's peak memory is ~4× its
# weights (weights, gradients, the backward pass), so ~3 GB; deeper full-tier depths train their members in parts
WEIGHT_BUDGET = 768 * 2**20


def _mse(model, x, y):
    """(1/2P)·Σ_i ‖y_i − f(x_i)‖² per member."""
    return 0.5 * ((model(x) - y) ** 2).sum(dim=(1, 2)) / x.shape[0]


def modes(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import optim, trainer

    dt = torch.float64
    x, y, u, v = (torch.as_tensor(data[k], dtype=dt, device=device) for k in ("x", "y", "u", "v"))
    k = cfg.n_modes_tracked
    p, n_in, n_out = x.shape[0], x.shape[1], y.shape[1]
    model = layers.EnsembleMLP(
        [n_in, cfg.hidden, n_out],
        seeds,
        activation=point["activation"],
        init="gaussian",
        # entries N(0, σ²) with σ²·√N2 = u0: random modes start at the decoupled strength u0 in magnitude
        init_scale=math.sqrt(cfg.u0) * cfg.hidden**-0.25,
        bias=False,
        dtype=dt,
        device=device,
    )
    if point["init"] == "decoupled":
        # W1 = R·√u0·Vᵀ, W2 = U·√u0·Rᵀ with R orthonormal per member: every mode starts at exactly u0 (§2).
        r = len(data["s"])
        with torch.no_grad():
            for i, seed in enumerate(seeds):
                rot = curves.haar_orthogonal(cfg.hidden, np.random.default_rng(seed))[:, :r]
                rot = torch.as_tensor(rot, dtype=dt)
                a = math.sqrt(cfg.u0)
                model.weights[0][i] = a * rot.to(device) @ v.T
                model.weights[1][i] = a * u @ rot.T.to(device)
    opt = optim.SGD(model.parameters(), lr=cfg.lr)

    def evaluate(step):
        sigma_fx = model(x).transpose(1, 2) @ x / p  # (S, n_out, n_in)
        strengths = torch.einsum("oa,soi,ia->sa", u[:, :k], sigma_fx, v[:, :k])  # (S, k)
        out = {("train", "loss"): _mse(model, x, y)}
        out.update({("train", f"mode{a}"): strengths[:, a] for a in range(k)})
        return out

    history = trainer.fit(
        lambda step: _mse(model, x, y),
        opt,
        cfg.steps,
        evaluate,
        trainer.log_schedule(cfg.steps, cfg.steps // cfg.log_every, "linear"),
        label=f"saxe {point['init']} {point['activation']}",
    )
    return history.frame(seeds)


def depth_sweep(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """One depth of the sweep: every (init, lr, seed) member, trained in as few ensembles as fit the memory
    budget (:data:`WEIGHT_BUDGET`); a member's run does not depend on the ensemble it is trained in."""
    # members: init × learning rate × seed, so one job covers a whole depth of Fig. 6A
    inits = point.get("inits", INITS)
    members = [(init, lr, seed) for init in inits for lr in cfg.depth_lrs for seed in seeds]
    n_in, n_out = data["x"].shape[1], data["y"].shape[1]
    sizes = [n_in] + [cfg.depth_width] * (point["depth"] - 1) + [n_out]
    weight_bytes = 4 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    parts = min(len(members), max(1, math.ceil(len(members) * weight_bytes / WEIGHT_BUDGET)))
    label = f"saxe depth {point}"
    frames = [
        _depth_members(
            cfg, point, data, [members[i] for i in part], device, label + (f" part {k}" if parts > 1 else "")
        )
        for k, part in enumerate(np.array_split(np.arange(len(members)), parts))
    ]
    return frames[0] if parts == 1 else pd.concat(frames, ignore_index=True)


def _depth_members(cfg, point: dict, data: dict, members: list, device, label: str) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import optim

    dt = torch.float32
    x = torch.as_tensor(data["x"], dtype=dt, device=device)
    y = torch.as_tensor(dynamics.depth_targets(cfg, data), dtype=dt, device=device)
    sizes = [x.shape[1]] + [cfg.depth_width] * (point["depth"] - 1) + [y.shape[1]]
    model = layers.EnsembleMLP(
        sizes,
        [m[2] for m in members],
        activation="linear",
        init=["gaussian_fan_in" if m[0] == "gaussian" else "orthogonal" for m in members],
        bias=False,
        dtype=dt,
        device=device,
    )
    with torch.no_grad():  # the centred members' initial output, a constant of their function
        centred = torch.tensor([m[0] == CENTRED for m in members], device=device).view(-1, 1, 1)
        offset = torch.where(centred, model(x), torch.zeros((), dtype=dt, device=device))
    opt = optim.SGD(model.parameters(), lr=[m[1] for m in members])
    level = cfg.criterion * dynamics.zero_map_loss(y)

    def loss(step=None):
        return 0.5 * ((model(x) - offset - y) ** 2).sum(dim=(1, 2)) / x.shape[0]  # as _mse, centred members

    return fit_to_criterion(loss, opt, level, cfg.depth_steps, members, label)


def fit_to_criterion(loss, opt, level: float, steps: int, members: list, label: str) -> pd.DataFrame:
    """Full-batch GD on ``loss`` until every member's logged loss is ≤ ``level`` or it diverged, at most ``steps``;
    every step logged up to 200, then ~100 log-spaced ones. The run table of ``members`` (scheme, lr, seed)."""
    import torch

    from reprosuite.engine.train import trainer

    def evaluate(step):
        return {("train", "loss"): loss()}

    def done(history):
        # every member has reached the criterion or diverged (from the logged history: resumes stop alike)
        logged = torch.stack(history.records[("train", "loss")][1]).cpu()  # (T, S)
        return bool(((logged <= level).any(dim=0) | ~opt.active.cpu()).all())

    log_steps = sorted(set(range(min(steps, 200) + 1)) | set(trainer.log_schedule(steps, 100)))
    history = trainer.fit(loss, opt, steps, evaluate, log_steps, done=done, label=label)
    return history.frame([m[2] for m in members], [f"{m[0]}-lr{m[1]:.4g}" for m in members])
