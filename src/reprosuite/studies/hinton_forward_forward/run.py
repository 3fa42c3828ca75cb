"""Training jobs: supervised forward-forward (and its control), unsupervised forward-forward with a linear readout
(and its random-feature control), and the backprop and linear-probe baselines. Each is one ``trainer.fit`` over
an ensemble of seeds; data order from ``MinibatchStream``, negatives from per-step seeds (:mod:`.ff`)."""

from __future__ import annotations

import math

import pandas as pd
import torch

from reprosuite.engine.models import layers
from reprosuite.engine.train import forward_forward as fwd
from reprosuite.engine.train import functional as fn
from reprosuite.engine.train import optim, trainer

from . import ff

N_CLASSES = 10


def _model(cfg, n_in: int, seeds: list[int], device) -> fwd.EnsembleFF:
    common = dict(
        input_norm=cfg.input_norm, norm=cfg.norm, straight_through=cfg.straight_through, device=device
    )
    if cfg.init == "official":  # ff_model._init_weights: N(0, 1/fan_out), zero bias
        return fwd.EnsembleFF(
            [n_in, *cfg.hidden], seeds, "gaussian", lambda fi, fo: 1 / math.sqrt(fo), "zeros", **common
        )
    return fwd.EnsembleFF([n_in, *cfg.hidden], seeds, **common)  # PyTorch's nn.Linear default


def _optimizer(cfg, params, lr, weight_decay):
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=weight_decay)
    return optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def _theta(cfg, width: int) -> float:
    return float(width) if cfg.theta is None else cfg.theta


def _layer_losses(cfg, model, pos, neg, running) -> list[torch.Tensor]:
    """Per layer (S,): the forward-forward loss (plus the peer-normalisation penalty) of one step."""
    b = pos.shape[-2]
    out = []
    for k, h in enumerate(model(torch.cat([pos, neg], dim=-2))):  # one pass over both phases
        hp, hn = h[..., :b, :], h[..., b:, :]
        theta = _theta(cfg, hp.shape[-1])
        loss = fwd.ff_loss(fwd.goodness(hp, cfg.goodness), fwd.goodness(hn, cfg.goodness), theta)
        if cfg.phase_average:  # binary cross-entropy over the concatenated batch of both phases
            loss = loss / 2
        if cfg.peer > 0:
            loss = loss + cfg.peer * fwd.peer_loss(hp, running[k], cfg.peer_momentum)
        out.append(loss)
    return out


def cross_layer_gradient(losses: list[torch.Tensor], model: fwd.EnsembleFF) -> torch.Tensor:
    """Per member: the summed norm of the gradient of each layer's loss with respect to the parameters of the
    layers below it (exactly 0: those parameters are not in its graph, autograd returns None)."""
    total = torch.zeros(model.size, dtype=torch.float64)
    for k in range(1, len(losses)):
        below = [p for j in range(k) for p in (model.weights[j], model.biases[j])]
        for g in torch.autograd.grad(losses[k].sum(), below, retain_graph=True, allow_unused=True):
            if g is not None:
                total += g.detach().flatten(1).norm(dim=1).double().cpu()
    return total


def train_supervised(cfg, data, seeds: list[int], control: list[int], device) -> pd.DataFrame:
    """Supervised FF (§3.3) for ``seeds``: positive = image with its label, negative = image with a wrong label;
    in the same ensemble the control for ``control`` seeds: both labels drawn independently of the image (a
    control member shares its seed's initialisation and data order). Members are told apart by ``variant``."""
    variants = ["ff"] * len(seeds) + ["control"] * len(control)
    seeds = [*seeds, *control]
    x = torch.as_tensor(data["x"], device=device)
    y = torch.as_tensor(data["y"], device=device)
    x_test, y_test = (
        torch.as_tensor(data["x_test"], device=device),
        torch.as_tensor(data["y_test"], device=device),
    )
    sub = slice(0, cfg.eval_subset or None)

    def emb(xx, labels):
        return ff.embed(xx, labels, N_CLASSES, cfg.label)

    n_in = emb(x[:1], y[:1]).shape[-1]
    model = _model(cfg, n_in, seeds, device)
    running = [torch.full((len(seeds), w), 0.5, device=device) for w in cfg.hidden]
    ind = torch.tensor([v == "control" for v in variants])
    stream = fn.MinibatchStream(x.shape[0], cfg.batch_size, seeds, device=device)
    per_epoch, steps = stream.per_epoch, cfg.epochs * stream.per_epoch
    probe_idx = torch.arange(min(1000, x.shape[0]), device=device)  # a fixed train batch for the losses

    def phases(idx, step):
        pos_y, neg_y = ff.phase_labels(y[idx], seeds, step, N_CLASSES, ind)
        xb = x[idx]
        return emb(xb, pos_y), emb(xb, neg_y)

    def loss_fn(step):
        pos, neg = phases(stream.at(step), step)
        return sum(_layer_losses(cfg, model, pos, neg, running))

    def accuracy(xt, yt):
        scores = fwd.label_scores(model, xt, emb, N_CLASSES, cfg.goodness, chunk=500)  # (L, S, B, C)
        out = {("test", f"accuracy_layer{k}"): fn.accuracy(scores[k], yt) for k in range(len(cfg.hidden))}
        out[("test", "accuracy")] = fn.accuracy(scores[list(cfg.test_layers)].sum(0), yt)
        return out

    def evaluate(step):
        out = accuracy(x_test[sub], y_test[sub])
        if step == steps and cfg.eval_subset:
            out[("test", "accuracy_full")] = accuracy(x_test, y_test)[("test", "accuracy")]
        pos, neg = phases(probe_idx.expand(len(seeds), -1), ff.PROBE_STEP)
        acts_pos, acts_neg = model(pos), model(neg)
        for k, (hp, hn) in enumerate(zip(acts_pos, acts_neg, strict=True)):
            gp, gn = fwd.goodness(hp, cfg.goodness), fwd.goodness(hn, cfg.goodness)
            out[("train", f"loss_layer{k}")] = fwd.ff_loss(gp, gn, _theta(cfg, hp.shape[-1]))
            out[("train", f"goodness_pos_layer{k}")] = gp.mean(-1)
            out[("train", f"goodness_neg_layer{k}")] = gn.mean(-1)
        if step == steps:
            with torch.enable_grad():
                peers = [r.clone() for r in running]
                losses = _layer_losses(cfg, model, pos, neg, peers)
                out[("train", "cross_layer_grad")] = cross_layer_gradient(losses, model)
        return out

    opt = _optimizer(cfg, list(model.parameters()), cfg.lr, cfg.weight_decay)
    history = trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        [e * per_epoch for e in range(cfg.epochs + 1)],
        lr_scale=ff.cooldown(cfg.epochs, per_epoch) if cfg.cooldown else None,
        label="forward-forward",
        buffers=running,
    )
    return history.frame(seeds, variants)


def train_unsupervised(cfg, data, seeds: list[int], control: list[int], device) -> pd.DataFrame:
    """Unsupervised FF (§3.2): positives = images, negatives = hybrid images; a linear softmax readout on the
    normalised activities of ``readout_layers`` is trained alongside on detached features (the official code's
    downstream classifier). The control members (``control`` seeds, variant ``unsup_random``) run the same code
    with the layers' learning rate 0: their features stay at the random initialisation, only the readout learns."""
    variants = ["unsup"] * len(seeds) + ["unsup_random"] * len(control)
    seeds = [*seeds, *control]
    learns = torch.tensor([v == "unsup" for v in variants], dtype=torch.float32)
    x = torch.as_tensor(data["x"], device=device)
    y = torch.as_tensor(data["y"], device=device)
    x_test, y_test = (
        torch.as_tensor(data["x_test"], device=device),
        torch.as_tensor(data["y_test"], device=device),
    )
    model = _model(cfg, x.shape[1], seeds, device)
    running = [torch.full((len(seeds), w), 0.5, device=device) for w in cfg.hidden]
    width = sum(cfg.hidden[k] for k in cfg.readout_layers)
    readout = layers.EnsembleMLP([width, N_CLASSES], seeds, init="zeros", bias=False, device=device)
    stream = fn.MinibatchStream(x.shape[0], cfg.batch_size, seeds, device=device)
    per_epoch, steps = stream.per_epoch, cfg.unsup_epochs * stream.per_epoch

    def features(xb):
        with torch.no_grad():  # the readout never trains the layers
            acts = model(xb)
        return torch.cat([fwd.normalise(acts[k].detach(), cfg.norm) for k in cfg.readout_layers], dim=-1)

    def loss_fn(step):
        idx = stream.at(step)
        pos = x[idx]
        neg = ff.hybrids(pos, seeds, step, cfg.hybrid_blurs)
        return fn.cross_entropy(readout(features(pos)), y[idx]) + sum(
            _layer_losses(cfg, model, pos, neg, running)
        )

    def evaluate(step):
        n = len(x_test) if step == steps or not cfg.eval_subset else cfg.eval_subset
        logits = torch.cat([readout(features(x_test[a : min(a + 2000, n)])) for a in range(0, n, 2000)], 1)
        return {("test", "accuracy" if n < len(x_test) else "accuracy_full"): fn.accuracy(logits, y_test[:n])}

    parts = [
        _optimizer(cfg, list(model.parameters()), cfg.lr * learns, cfg.weight_decay),
        _optimizer(cfg, list(readout.parameters()), cfg.readout_lr, cfg.readout_weight_decay),
    ]
    history = trainer.fit(
        loss_fn,
        ff.Joint(parts),
        steps,
        evaluate,
        [e * per_epoch for e in range(cfg.unsup_epochs + 1)],
        lr_scale=ff.cooldown(cfg.unsup_epochs, per_epoch) if cfg.cooldown else None,
        label="unsupervised forward-forward",
        buffers=running,
    )
    return history.frame(seeds, variants)


def train_backprop(cfg, data, seeds: list[int], hidden: tuple[int, ...], epochs: int, lr: float, device):
    """A baseline trained by backprop with Adam: the same ReLU widths (``hidden``), or none (a linear probe on
    the raw pixels), on the same images without labels written in."""
    x = torch.as_tensor(data["x"], device=device)
    y = torch.as_tensor(data["y"], device=device)
    x_test, y_test = (
        torch.as_tensor(data["x_test"], device=device),
        torch.as_tensor(data["y_test"], device=device),
    )
    model = layers.EnsembleMLP([x.shape[1], *hidden, N_CLASSES], seeds, bias_init="uniform", device=device)
    stream = fn.MinibatchStream(x.shape[0], cfg.batch_size, seeds, device=device)
    per_epoch = stream.per_epoch

    def loss_fn(step):
        idx = stream.at(step)
        return fn.cross_entropy(model(x[idx]), y[idx])

    def evaluate(
        step,
    ):  # backprop's curve on all test images: FF4 reads the epoch it crosses FF's final error
        return {("test", "accuracy"): fn.accuracy(model(x_test), y_test)}

    opt = optim.AdamW(list(model.parameters()), lr=lr, weight_decay=0.0)
    log = [e * per_epoch for e in range(epochs + 1)]
    label = "backprop" if hidden else "linear probe"
    return trainer.fit(loss_fn, opt, epochs * per_epoch, evaluate, log, label=label).frame(seeds)
