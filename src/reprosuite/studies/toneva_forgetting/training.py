"""Training of the forgetting runs and the removal retrainings: per-member epoch streams over kept examples,
the two architectures, and one SGD ensemble fit that records the correctness of every presentation."""

from __future__ import annotations

import math

import numpy as np

from . import forgetting as fg

MLP_ORDER_OFFSET = 5_000  # the MLP's data-order seeds differ from the CNN's (no shared order across archs)
REMOVAL_OFFSET = 20_000  # init and data-order seeds of the removal retraining
RANDOM_TAG = 31_337  # tags the random-removal subsets
SHUFFLE_TAG = 1812_05159  # tags the one fixed label permutation of the shuffled-label control (all seeds)


def shuffled_labels(y: np.ndarray) -> np.ndarray:
    """The training labels permuted over examples, the same permutation for every seed (a fixed dataset whose
    labels are unrelated to the inputs, with the class frequencies kept)."""
    return np.asarray(y)[np.random.default_rng(SHUFFLE_TAG).permutation(len(y))]


def removal_subsets(order: np.ndarray, fraction: float, seeds: list[int], repeat: int = 0) -> dict[str, list]:
    """Kept example indices per mode: ``selected`` (least forgettable removed; one set) and ``random`` (per seed
    and repeat)."""
    n = len(order)
    k = int(round(fraction * n))
    selected = fg.keep_after_removal(order, fraction)
    random = [
        np.sort(
            np.random.default_rng([seed, RANDOM_TAG, round(fraction * 1000), repeat]).permutation(n)[: n - k]
        )
        for seed in seeds
    ]
    return {"selected": [selected] * len(seeds), "random": random}


def removal_seed(seed: int, repeat: int) -> int:
    """Init and data-order seed of one removal retraining (shared by its selected and random members)."""
    return REMOVAL_OFFSET + 1_000 * repeat + seed


class EpochStream:
    """Per-member minibatches over each member's own kept examples, every example once per epoch.

    Member ``s`` permutes its kept examples each epoch with ``order_generator(order_seeds[s], epoch)`` (a function
    of the step alone, so a resumed run draws the same batches); the last batch of an epoch may be partial, as in
    the official ``run_mnist.py``.
    """

    def __init__(self, keep, batch_size: int, order_seeds: list[int]):
        self.keep, self.batch_size, self.order_seeds = keep, batch_size, list(order_seeds)
        self.n = keep.shape[1]
        self.per_epoch = math.ceil(self.n / batch_size)
        self.epoch: int | None = None
        self.order = None

    def at(self, step: int):
        """(epoch, (S, b) example indices) of ``step``."""
        import torch

        from reprosuite.engine.train import functional as fn

        epoch, i = divmod(step, self.per_epoch)
        if epoch != self.epoch:
            perms = torch.stack(
                [torch.randperm(self.n, generator=fn.order_generator(s, epoch)) for s in self.order_seeds]
            ).to(self.keep.device)
            self.order = self.keep.gather(1, perms)
            self.epoch = epoch
        return epoch, self.order[:, i * self.batch_size : (i + 1) * self.batch_size]


def build_model(cfg, arch: str, init_seeds: list[int], device):
    from reprosuite.engine.models import conv, layers

    if arch == "cnn":
        return conv.EnsembleConv1dNet(
            40,
            10,
            init_seeds,
            channels=cfg.channels,
            kernels=cfg.kernels,
            strides=cfg.strides,
            paddings=cfg.paddings,
            impl=cfg.conv_impl,
            device=device,
        )
    return layers.EnsembleMLP(
        (40, *cfg.mlp_hidden, 10),
        init_seeds,
        "relu",
        init="uniform_fan_in",
        bias_init="uniform",
        device=device,
    )


def fit_ensemble(
    cfg, arch: str, tensors: dict, keep, init_seeds, order_seeds, record: bool, label: str, labels=None
):
    """Train one ensemble with SGD for ``cfg.epochs`` epochs over each member's kept examples.

    ``labels`` (S, n_train) gives each member its own training labels (default: the data's, for every member).

    Returns the history (test accuracy and loss at every epoch boundary) and, with ``record``, the correctness of
    every presentation, (S, epochs, n_train) — kept in a buffer that ``trainer.fit`` checkpoints and restores with
    the weights (resume-safe).
    """
    import torch

    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    x, y, xt, yt = tensors["x"], tensors["y"], tensors["x_test"], tensors["y_test"]
    device = x.device
    member_y = y.expand(len(init_seeds), len(y)) if labels is None else labels
    model = build_model(cfg, arch, init_seeds, device)
    size = len(init_seeds)
    stream = EpochStream(keep, cfg.batch_size, order_seeds)
    steps = cfg.epochs * stream.per_epoch
    rec = torch.zeros((size, cfg.epochs if record else 1, len(y) if record else 1), device=device)
    rows = torch.arange(size, device=device).unsqueeze(1)
    opt = optim.SGD(list(model.parameters()), lr=cfg.lr, momentum=cfg.momentum)

    def loss_fn(step):
        epoch, idx = stream.at(step)
        logits = model(x[idx])
        target = member_y.gather(1, idx)
        if record:
            with torch.no_grad():
                rec[rows, epoch, idx] = (logits.argmax(-1) == target).to(rec.dtype)
        return fn.cross_entropy(logits, target)

    def evaluate(step):
        logits = model(xt)
        return {("test", "accuracy"): fn.accuracy(logits, yt), ("test", "loss"): fn.cross_entropy(logits, yt)}

    log_steps = [e * stream.per_epoch for e in range(cfg.epochs + 1)]
    history = trainer.fit(loss_fn, opt, steps, evaluate, log_steps, label=label, buffers=[rec])
    return history, stream.per_epoch, rec.cpu().numpy().astype(np.int8) if record else None
