"""The CIFAR-100 comparison of §4.3 (full tier, grid point ``cifar100``): an 11-layer CNN trained with each
activation, the same initial weights and data for the same run, test error after 165k iterations.

§4.3 as we read it: 11 convolutional layers in stacks ([1 × 192 × 5], [1 × 192 × 1, 1 × 240 × 3], [1 × 240 × 1,
1 × 260 × 2], [1 × 260 × 1, 1 × 280 × 2], [1 × 280 × 1, 1 × 300 × 2], [1 × 300 × 1], [1 × 100 × 1]) (layers ×
units × receptive field), 2 × 2 max-pooling with stride 2 after each stack, dropout on the last layer of each stack
(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0), L2 weight decay 5e-4, momentum 0.9, learning rate 0.01 to iteration 35k, 0.005 to
85k, 5e-4 to 135k, 5e-5 to 165k; data globally contrast-normalised and ZCA-whitened as Goodfellow et al. 2013,
padded with 4 zero pixels, random 32 × 32 crops and horizontal flips; 10 runs per activation, run ``r`` of every
activation from the same initial weights.

Preprocessing (Goodfellow et al. 2013 used pylearn2's ``make_cifar100_gcn_whitened.py``, read at lisa-lab/pylearn2):
per image, the pixels minus their mean, divided by their L2 norm, times 55 (``CIFAR100(gcn=55.)``); then ZCA fitted
on the training set (``preprocessing.ZCA()``: covariance XᵀX / n of the centred images plus 0.1 · I, whitening
matrix V diag(λ^−½) Vᵀ) and applied to both splits.

The last stack's 1 × 1 convolution to 100 units on a 1 × 1 map is the linear classifier; the stacks above it are
:class:`~reprosuite.engine.models.conv2d.EnsembleConv2dNet` blocks with the activation under test, element dropout
and ceiling pooling.
"""

from __future__ import annotations

import numpy as np

AUGMENT_OFFSET = 70_000  # the augmentation seed of a member: its init seed + this
DROPOUT_OFFSET = 80_000  # the dropout seed of a member: its init seed + this
EVAL_CHUNK = 1_000  # test images per forward pass of an evaluation
SHAPE = (3, 32, 32)


def whiten(x_train: np.ndarray, x_test: np.ndarray, scale: float, bias: float, device):
    """Global contrast normalisation (× ``scale``) of every image (a row of pixels), then ZCA whitening fitted on
    the training images with ``bias`` added to the covariance's diagonal: float32 (N, pixels) tensors on
    ``device``, computed in float32 as pylearn2 does."""
    import torch

    def gcn(x):  # float32, as pylearn2 (its floatX)
        t = torch.as_tensor(x, device=device).reshape(len(x), -1).to(torch.float32)
        t = t - t.mean(dim=1, keepdim=True)
        norm = t.square().sum(dim=1, keepdim=True).sqrt()
        return t.div_(torch.where(norm < 1e-8, 1.0, norm)).mul_(scale)

    train, test = gcn(x_train), gcn(x_test)
    mean = train.mean(dim=0)
    train -= mean
    cov = train.T @ train / len(train) + bias * torch.eye(train.shape[1], device=device)
    eigs, vecs = torch.linalg.eigh(cov)
    whitening = (vecs * eigs.rsqrt()) @ vecs.T
    return train @ whitening, (test - mean) @ whitening


def lr_factor(cfg, step: int) -> float:
    """The schedule's learning rate at ``step``, relative to the first."""
    return cfg.cifar100_lrs[sum(step >= b for b in cfg.cifar100_lr_steps)] / cfg.cifar100_lrs[0]


def build_model(cfg, activation: str, init_seeds, device):
    from reprosuite.engine.models import conv2d

    return conv2d.EnsembleConv2dNet(
        SHAPE,
        100,
        init_seeds,
        channels=cfg.cifar100_channels,
        kernels=cfg.cifar100_kernels,
        pools=cfg.cifar100_pools,
        paddings=cfg.cifar100_paddings,
        hidden=(),
        conv_dropout=cfg.cifar100_dropout,
        conv_dropout_kind="element",
        dropout_seeds=[s + DROPOUT_OFFSET for s in init_seeds],
        activation=activation,
        ceil_mode=True,
        init="he",
        device=device,
    )


def fit(cfg, activation: str, tensors: dict, draw_seeds, label: str):
    """Train one activation's runs (one per seed) on the whitened CIFAR-100, each a one-member net of its own, one
    after another (:func:`fit_member`; on a CPU they ran 1.31× as fast as a loop over plain nets, a grouped
    ensemble of them 1.16×: ``benchmarks/bench_conv.py``): the history of all runs (under a probe the first only,
    its cost counted for all)."""
    from reprosuite.engine.train import probe, trainer

    runs = draw_seeds[: probe.alike(len(draw_seeds))]
    parts = [
        (fit_member(cfg, activation, tensors, seed, f"{label} seed {seed}"), [i])
        for i, seed in enumerate(runs)
    ]
    return trainer.merge(parts, len(draw_seeds))


def fit_member(cfg, activation: str, tensors: dict, draw_seed: int, label: str):
    """One run: the history of test accuracy and loss, and of the training loss averaged over the minibatches since
    the previous evaluation."""
    import torch

    from reprosuite.engine.data import augment
    from reprosuite.engine.models import layers
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    x, y, xt, yt = tensors["x"], tensors["y"], tensors["x_test"], tensors["y_test"]
    device = x.device
    draw_seeds = [draw_seed]
    model = build_model(cfg, activation, draw_seeds, device)
    opt = optim.SGD(
        list(model.parameters()),
        lr=cfg.cifar100_lrs[0],
        momentum=cfg.cifar100_momentum,
        weight_decay=cfg.cifar100_weight_decay,
    )
    stream = fn.MinibatchStream(len(y), cfg.cifar100_batch_size, draw_seeds, device)
    gens = layers.generators([s + AUGMENT_OFFSET for s in draw_seeds])
    zero = torch.zeros(SHAPE[0])  # a padded pixel: zero in the whitened images
    since = torch.zeros(2, 1, dtype=torch.float64, device=device)  # training loss summed, minibatches

    def loss_fn(step):
        idx = stream.at(step)
        inputs = augment.augment(x[idx], gens, zero, cfg.cifar100_padding)
        loss = fn.cross_entropy(model(inputs), y[idx])
        with torch.no_grad():
            since[0] += loss.detach()
            since[1] += 1
        return loss

    def evaluate(step):
        model.train(False)
        logits = fn.logits_in_chunks(model, xt, EVAL_CHUNK)  # under a probe the first chunk, timed for all
        model.train(True)
        target = yt[: logits.shape[1]]
        out = {
            ("test", "accuracy"): fn.accuracy(logits, target),
            ("test", "loss"): fn.cross_entropy(logits, target),
        }
        if step > 0:
            out[("train", "loss")] = since[0] / since[1].clamp(min=1)
            since.zero_()
        return out

    steps = cfg.cifar100_iterations
    log_steps = list(range(0, steps + 1, cfg.cifar100_eval_every))
    return trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        log_steps,
        lr_scale=lambda step: lr_factor(cfg, step),
        label=label,
        generators=[*gens, *model.generators],
        buffers=[since],
    )


def check(cfg) -> None:
    """The CNN's layers, schedule and evaluations are consistently specified."""
    fields = ("channels", "kernels", "pools", "paddings", "dropout")
    if len({len(getattr(cfg, f"cifar100_{f}")) for f in fields}) != 1:
        raise ValueError(
            "cifar100_channels, _kernels, _pools, _paddings and _dropout need one entry per layer"
        )
    if len(cfg.cifar100_lrs) != len(cfg.cifar100_lr_steps) + 1:
        raise ValueError("cifar100_lrs needs one rate more than cifar100_lr_steps has boundaries")
    if cfg.cifar100_iterations % cfg.cifar100_eval_every:
        raise ValueError("cifar100_iterations must be a multiple of cifar100_eval_every")


def train(cfg, point: dict, data: dict, seeds: list[int], device):
    """Each activation's runs in turn (one fit each, a member per seed), the control arm last; run ``s`` of every
    activation starts from seed ``s``'s weights and sees its data order, crops and flips."""
    import pandas as pd
    import torch

    from . import CONTROL_ARM, control_seed

    x, x_test = whiten(
        data["cifar100_x"], data["cifar100_x_test"], cfg.cifar100_gcn_scale, cfg.cifar100_zca_bias, device
    )
    tensors = {
        "x": x.view(-1, *SHAPE),
        "x_test": x_test.view(-1, *SHAPE),
        "y": torch.as_tensor(data["cifar100_y"], device=device),
        "y_test": torch.as_tensor(data["cifar100_y_test"], device=device),
    }
    arms = list(point["activations"]) + ([CONTROL_ARM] if point.get("control") else [])
    frames = []
    for arm in arms:
        draw_seeds = [control_seed(s) if arm == CONTROL_ARM else s for s in seeds]
        act = "relu" if arm == CONTROL_ARM else arm
        history = fit(cfg, act, tensors, draw_seeds, f"elu cifar100 {arm}")
        frames.append(history.frame(list(seeds), [arm] * len(seeds)))
    return pd.concat(frames, ignore_index=True)
