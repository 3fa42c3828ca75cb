"""Training jobs: one regime (all seeds batched), the distance run with its random-walk control, the H0 check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from reprosuite.engine.train import functional as fn
from reprosuite.engine.train import gradients, optim, trainer

from .nets import GhostNet

WALK_STREAM = 424_243  # tags the random-walk noise stream, apart from initialisation and data order
EVAL_CHUNK = 2000


def _net(cfg, data, seeds, device) -> GhostNet:
    return GhostNet(cfg.model, data["x"].shape[1], seeds, channels=cfg.channels).to(device)


def _distance(net: GhostNet, start: list[torch.Tensor]) -> torch.Tensor:
    """‖w_t − w_0‖ per member over all trained parameters."""
    sq = sum(
        (p.detach() - p0).flatten(1).double().pow(2).sum(1)
        for p, p0 in zip(net.parameters(), start, strict=True)
    )
    return sq.sqrt()


@torch.no_grad()
def _evaluate(net: GhostNet, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(accuracy %, mean loss) per member, BN in eval mode (running statistics)."""
    net.eval()
    correct = torch.zeros(net.size, dtype=torch.float64, device=x.device)
    loss = torch.zeros_like(correct)
    for i in range(0, len(x), EVAL_CHUNK):
        logits = net(x[i : i + EVAL_CHUNK])
        yb = y[i : i + EVAL_CHUNK]
        n = len(yb)
        correct += (logits.argmax(-1) == yb).double().sum(1)
        loss += fn.cross_entropy(logits, yb).double() * n
    net.train()
    return 100.0 * correct / len(x), loss / len(x)


def lr_scale(step: int, per_epoch: int, decays: list[int]) -> float:
    """lr ÷ 10 at each decay epoch reached (the official regime dictionaries)."""
    epoch = step // per_epoch
    return 0.1 ** sum(epoch >= d for d in decays)


def train_regime(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """SGD with momentum, wd, per-member clipping at ``cfg.clip`` and the point's batch, lr, ghost and regime."""
    x, y = (torch.as_tensor(data[k], device=device) for k in ("x", "y"))
    xt, yt = (torch.as_tensor(data[k], device=device) for k in ("x_test", "y_test"))
    xe, ye = x[: cfg.n_eval_train], y[: cfg.n_eval_train]
    net = _net(cfg, data, seeds, device)
    start = [p.detach().clone() for p in net.parameters()]
    batch, ghost = point["batch"], point["ghost"]
    stream = fn.MinibatchStream(len(x), batch, seeds, device)
    per_epoch = stream.per_epoch
    steps = point.get("steps") or per_epoch * point["epochs"]
    if point.get("steps"):  # a run of fixed length (H1): evenly spaced in updates
        acc_steps = {int(s) for s in np.linspace(0, steps, cfg.acc_points + 1).round()}
    else:  # a regime: at evenly spaced epochs
        acc_steps = {int(per_epoch * e) for e in np.linspace(0, point["epochs"], cfg.acc_points + 1).round()}
    log_steps = sorted(
        set(trainer.log_schedule(steps, cfg.dist_points)) | acc_steps | set(point["extra_log"])
    )

    def loss_fn(step: int) -> torch.Tensor:
        idx = stream.at(step)
        return fn.cross_entropy(net(x[idx], ghost), y[idx])

    def evaluate(step: int) -> dict:
        out = {("train", "distance"): _distance(net, start)}
        if step in acc_steps or step == steps:
            out[("test", "accuracy")], out[("test", "loss")] = _evaluate(net, xt, yt)
            out[("train", "accuracy")], out[("train", "loss")] = _evaluate(net, xe, ye)
        return out

    sgd = optim.SGD(list(net.parameters()), lr=point["lr"], momentum=cfg.momentum, weight_decay=point["wd"])
    opt = gradients.GradientTransform(sgd, clip=cfg.clip)
    decays = list(point["decays"])
    history = trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        log_steps,
        lr_scale=lambda s: lr_scale(s, per_epoch, decays),
        label=point["label"],
        buffers=net.buffers_list(),
    )
    n = len(seeds)
    return history.frame(seeds, ["sgd"] * n, members={"batch": [batch] * n, "updates": [steps] * n})


def random_walk(
    dim: int, steps: int, log_steps: list[int], seeds: list[int], lr: float, momentum: float, device="cpu"
):
    """‖w_t − w_0‖ of an isotropic random walk with heavy-ball momentum in ``dim`` dimensions (no landscape):
    v ← μ v + ξ, w ← w − lr v, ξ ~ N(0, I); one walk per seed. Returns (len(log_steps), S) distances."""
    gens = [torch.Generator(device=device).manual_seed(int(s) + WALK_STREAM) for s in seeds]
    w = torch.zeros(len(seeds), dim, device=device)
    v = torch.zeros_like(w)
    noise = torch.empty_like(w)
    want, out = set(log_steps), {}
    progress = trainer.Progress(steps, "random walk")
    for t in range(steps + 1):
        if t in want:
            out[t] = w.double().norm(dim=1).cpu()
        if t == steps:
            break
        for i, g in enumerate(gens):
            torch.randn(dim, generator=g, out=noise[i])
        v.mul_(momentum).add_(noise)
        w.sub_(lr * v)
        progress.update(t + 1)
    return torch.stack([out[t] for t in sorted(want)])


def train_walk(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """H1: the small-batch run at constant lr without weight decay, then the random walk of its dimension."""
    seeds = seeds[: cfg.h1_seeds]
    runs = train_regime(cfg, point, data, seeds, device)
    dim = sum(p[0].numel() for p in _net(cfg, data, seeds[:1], "cpu").parameters())
    log_steps = sorted(set(trainer.log_schedule(point["steps"], cfg.dist_points)) | set(point["extra_log"]))
    dist = random_walk(dim, point["steps"], log_steps, seeds, point["lr"], cfg.momentum, device).numpy()
    walk = pd.DataFrame(
        {
            "variant": "walk",
            "batch": point["batch"],
            "updates": point["steps"],
            "seed": np.tile(np.asarray(seeds, dtype=np.int64), len(log_steps)),
            "step": np.repeat(np.asarray(log_steps, dtype=np.int64), len(seeds)),
            "split": "train",
            "metric": "distance",
            "value": dist.reshape(-1),
        }
    )
    return pd.concat([runs, walk], ignore_index=True)


def sanity(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """H0 in float64: (a) the ensemble net with ghost = batch against each member through plain torch layers;
    (b) one call with ghost batches against the official chunk loop (forward each chunk, sum the gradients,
    divide by the number of chunks), gradients and running statistics. Max absolute difference per seed."""
    x = torch.as_tensor(data["x"][: point["batch"]], device=device, dtype=torch.float64)
    y = torch.as_tensor(data["y"][: point["batch"]], device=device)
    net = _net(cfg, data, seeds, device).double()
    other = _net(cfg, data, seeds, device).double()
    ghost = point["ghost"]
    # (b) ghost batches in one call vs the chunk loop
    params = list(net.parameters())
    loss = fn.cross_entropy(net(x, ghost), y).sum()
    grads = torch.autograd.grad(loss, params)
    chunks = list(zip(x.split(ghost), y.split(ghost), strict=True))
    acc = [torch.zeros_like(p) for p in other.parameters()]
    for xc, yc in chunks:
        g = torch.autograd.grad(fn.cross_entropy(other(xc, ghost), yc).sum(), list(other.parameters()))
        for a, gi in zip(acc, g, strict=True):
            a += gi / len(chunks)
    diff_b = (
        torch.stack([(a - g).abs().flatten(1).max(1).values for a, g in zip(acc, grads, strict=True)])
        .max(0)
        .values
    )
    bufs = zip(net.buffers_list(), other.buffers_list(), strict=True)  # before (a) touches them
    diff_c = torch.stack([(b1 - b2).abs().max(1).values for b1, b2 in bufs]).max(0).values
    # (a) plain BatchNorm
    full = net(x, None).detach()
    diff_a = torch.stack([(full[i] - net.member(i, x)).abs().max() for i in range(net.size)]).detach()
    rows = []
    for i, s in enumerate(seeds):
        for name, d in (("bn", diff_a), ("grad", diff_b), ("running", diff_c)):
            rows.append(("", int(s), 0, "train", f"h0_{name}", float(d[i])))
    return pd.DataFrame(rows, columns=["variant", "seed", "step", "split", "metric", "value"])
