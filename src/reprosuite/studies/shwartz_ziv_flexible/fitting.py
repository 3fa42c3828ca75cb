"""Batched EMC searches: every member (seed × label kind × learning rate) of one grid point searches its own EMC,
all members' trials at one search stage trained together as one ensemble, each on its own first ``n`` samples.

A trial stops per member when (i) the member fits its ``n`` samples (100 % train accuracy, checked every
``check_every`` steps), (ii) it is **stationary** without fitting — the norm of its gradient averaged over the last check window is below
``g_tol`` (ours; this replaces a loss-plateau rule, which misfires on slow starters). For SGD the averaged
minibatch gradient is the net parameter displacement over the window divided by (lr / (1 − momentum) × window);
for full-batch GD the same quantity is the averaged full gradient.  — or (iii) the step
budget runs out (**censored**: neither fitted nor shown stationary).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from reprosuite.engine.models import layers
from reprosuite.engine.train import functional as fn

CHUNK = 500  # steps of minibatch indices drawn at once from a stateless (seed, stage, chunk) generator


class EnsembleCNN2d(nn.Module):
    """S independent CNNs for 1×side×side images as grouped convolutions: conv(1→c, 3×3)–ReLU–maxpool 2–
    conv(c→2c, 3×3)–ReLU–maxpool 2–linear → classes (all ``padding=1``, PyTorch's default uniform init)."""

    def __init__(self, side: int, channels: int, classes: int, seeds, activation: str = "relu"):
        super().__init__()
        gens = layers.generators(seeds)
        c, s = channels, len(seeds)
        self.side, self.c, self.s = side, c, s
        self.act = layers.ACTIVATIONS[activation]
        feat = 2 * c * (side // 4) ** 2

        def u(shape, fan_in):
            return nn.Parameter(layers.init_weight(shape, "uniform", gens, 1 / math.sqrt(fan_in)).float())

        self.w1, self.b1 = u((c, 1, 3, 3), 9), u((c,), 9)
        self.w2, self.b2 = u((2 * c, c, 3, 3), 9 * c), u((2 * c,), 9 * c)
        self.w3, self.b3 = u((classes, feat), feat), u((classes,), feat)

    def forward(self, x):  # x (B, side²) for all members, or (S, B, side²) → (S, B, classes)
        s, side = self.s, self.side
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(s, *x.shape)
        b = x.shape[1]
        h = x.reshape(s, b, side, side).transpose(0, 1)  # (B, S, H, W): members as channel groups
        h = F.max_pool2d(
            self.act(F.conv2d(h, self.w1.flatten(0, 1), self.b1.flatten(), padding=1, groups=s)), 2
        )
        h = F.max_pool2d(
            self.act(F.conv2d(h, self.w2.flatten(0, 1), self.b2.flatten(), padding=1, groups=s)), 2
        )
        h = h.reshape(b, s, -1).transpose(0, 1)  # (S, B, feat)
        return layers.ensemble_matmul(h, self.w3) + self.b3.unsqueeze(1)


def build(arch: dict, dim: int, classes: int, seeds) -> tuple[nn.Module, list[torch.Tensor]]:
    """The ensemble and its trained parameters. ``kind``: ``mlp`` (``depth`` hidden layers of ``width``),
    ``readout`` (one frozen random hidden layer, only the linear readout trained: a convex problem), ``cnn``."""
    kind = arch["kind"]
    if kind == "cnn":
        model = EnsembleCNN2d(int(round(math.sqrt(dim))), arch["width"], classes, seeds, arch["act"])
        return model, list(model.parameters())
    depth = arch["depth"] if kind == "mlp" else 1
    model = layers.EnsembleMLP([dim] + [arch["width"]] * depth + [classes], seeds, activation=arch["act"])
    if kind == "readout":
        return model, [model.weights[-1], model.biases[-1]]
    return model, list(model.parameters())


def count_params(arch: dict, dim: int, classes: int) -> int:
    w = arch["width"]
    if arch["kind"] == "cnn":
        c, side = w, int(round(math.sqrt(dim)))
        return c * 9 + c + 2 * c * c * 9 + 2 * c + classes * 2 * c * (side // 4) ** 2 + classes
    if arch["kind"] == "readout":
        return w * classes + classes
    sizes = [dim] + [w] * arch["depth"] + [classes]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def batch_indices(seed: int, stage: int, chunk: int, n: int, batch: int) -> torch.Tensor:
    """(CHUNK, batch) sample indices in [0, n) for one member: with replacement, from a stateless generator."""
    g = torch.Generator().manual_seed(1_000_003 * int(seed) + 10_007 * stage + chunk)
    return (torch.rand(CHUNK, batch, generator=g, dtype=torch.float64) * n).long()


def evaluate(model, xs, ys, mask, chunk: int):
    """Per member: correct predictions and summed cross-entropy over its samples (mask), in chunks of samples."""
    hits = torch.zeros(ys.shape[0], device=xs.device)
    total = torch.zeros(ys.shape[0], device=xs.device)
    for a in range(0, xs.shape[0], chunk):
        logits, y, w = model(xs[a : a + chunk]), ys[:, a : a + chunk], mask[:, a : a + chunk]
        hits += ((logits.argmax(-1) == y).to(w.dtype) * w).sum(1)
        ce = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")
        total += (ce * w).sum(1)
    return hits, total


def test_accuracy(model, x, y, y_shuffled, chunk: int):
    """Per member: test accuracy against the labels and against a shuffled labelling."""
    hits, shuf = 0.0, 0.0
    for a in range(0, x.shape[0], chunk):
        pred = model(x[a : a + chunk]).argmax(-1)
        hits = hits + (pred == y[a : a + chunk]).float().sum(1)
        shuf = shuf + (pred == y_shuffled[a : a + chunk]).float().sum(1)
    return (hits / x.shape[0]).cpu(), (shuf / x.shape[0]).cpu()


def member_norms(grads) -> torch.Tensor:
    return torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads))


def run_trial(arch, x, y, n, lr, seeds, stage, opt, hp, x_test, y_test, y_test_shuffled, tick) -> dict:
    """Train one ensemble, member m on samples ``[0, n[m])`` of ``x`` with labels ``y[m]``; returns per member
    fitted, censored, steps, train accuracy and loss, gradient norm, and test accuracies at the stop."""
    from reprosuite.engine.train import optim

    m_count, classes = len(n), int(hp["classes"])
    n_t = torch.as_tensor(n, device=x.device)
    n_max = int(max(n))
    xs, ys = x[:n_max], y[:, :n_max]
    mask = (torch.arange(n_max, device=x.device)[None] < n_t[:, None]).to(x.dtype)
    init = [int(s) + 7919 * (stage + 1) for s in seeds]
    model, params = build(arch, x.shape[1], classes, init)
    model.to(x.device)
    sgd = optim.SGD(params, lr=list(lr), momentum=hp["momentum"])
    running = torch.ones(m_count, dtype=torch.bool)
    out = {
        k: np.full(m_count, np.nan) for k in ("steps", "acc", "loss", "drift", "test_acc", "test_acc_shuf")
    }
    fitted = np.zeros(m_count, bool)
    budget = int(hp["budget_gd"] if opt == "gd" else hp["budget"])
    idx = None
    # the window-averaged gradient: net displacement over a check window / (effective lr × window)
    eff = torch.as_tensor(lr, dtype=x.dtype) / (1 - hp["momentum"]) * hp["check_every"]
    prev = [p.detach().clone() for p in params]
    for step in range(1, budget + 1):
        if opt == "sgd":
            if (step - 1) % CHUNK == 0:
                chunk = (step - 1) // CHUNK
                idx = torch.stack(
                    [
                        batch_indices(s, stage, chunk, int(k), hp["batch"])
                        for s, k in zip(seeds, n, strict=True)
                    ]
                ).to(x.device)
            i = idx[:, (step - 1) % CHUNK]
            loss = fn.cross_entropy(model(xs[i]), ys.gather(1, i))
        else:
            loss = fn.cross_entropy(model(xs), ys, weight=mask)
        sgd.zero_grad()
        loss.sum().backward()
        sgd.step()
        tick(step)
        if step % hp["check_every"] and step != budget:
            continue
        drift = (
            member_norms([p.detach() - q for p, q in zip(params, prev, strict=True)]).cpu() / eff
        ).float()
        prev = [p.detach().clone() for p in params]
        with torch.no_grad():
            hits, full = evaluate(model, xs, ys, mask, hp["eval_chunk"])
            acc, full = (hits / n_t).cpu(), (full / n_t).cpu()
            fit_now = running & (acc >= 1.0)
            stat_now = running & ~fit_now & (drift < hp["g_tol"]) & (step >= hp["min_steps"])
            stop = fit_now | stat_now
            if stop.any():
                tacc, tshuf = test_accuracy(model, x_test, y_test, y_test_shuffled, hp["eval_chunk"])
                for m in torch.nonzero(stop).flatten().tolist():
                    out["steps"][m], out["acc"][m], out["loss"][m] = step, float(acc[m]), float(full[m])
                    out["drift"][m], out["test_acc"][m] = float(drift[m]), float(tacc[m])
                    out["test_acc_shuf"][m] = float(tshuf[m])
                    fitted[m] = bool(fit_now[m])
                running &= ~stop
        if not running.any():
            break
    censored = running.numpy().copy()
    if censored.any():
        for m in np.nonzero(censored)[0]:
            out["steps"][m], out["acc"][m] = budget, float(acc[m])
            out["loss"][m], out["drift"][m] = float(full[m]), float(drift[m])
    return {"fitted": fitted, "censored": censored, **out, "ran": step}
