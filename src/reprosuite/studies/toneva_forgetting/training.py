"""Training of the forgetting runs and the removal retrainings: per-member epoch streams over kept examples,
the two architectures, and one SGD ensemble fit that records the correctness of every presentation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import forgetting as fg

MLP_ORDER_OFFSET = 5_000  # the MLP's data-order seeds differ from the CNN's (no shared order across archs)
REMOVAL_OFFSET = 20_000  # init and data-order seeds of the removal retraining
RANDOM_TAG = 31_337  # tags the random-removal subsets
SHUFFLE_TAG = 1812_05159  # tags the one fixed label permutation of the shuffled-label control (all seeds)
EVAL_CHUNK = 1_000  # test examples per forward pass of an evaluation (at once, MNIST's 10,000 take 0.23 GB of
# first-layer maps per member of the 2-D CNN)


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


INPUTS = {"mnist": (1, 28, 28), "mnist1d": (1, 40)}  # (channels, *size) of one example
DROPOUT_OFFSET = 40_000  # the dropout-mask seed of a member: its init seed + this


def build_model(cfg, arch: str, init_seeds: list[int], device, dropout: float = 0.0):
    """The CNN (2-D on MNIST, MNIST-1D's 1-D ``ConvBase`` on MNIST-1D) or the MLP, one member per init seed.

    ``dropout`` > 0 (the 2-D CNN only) puts the official net's dropout in: channel dropout after the last conv
    and dropout after each hidden linear layer, at that rate, masks from each member's generator seeded with its
    init seed + ``DROPOUT_OFFSET`` (the model's ``generators``)."""
    from reprosuite.engine.models import conv, conv2d, layers

    shape = INPUTS[cfg.dataset]
    if arch == "cnn" and cfg.dataset == "mnist":
        n_conv, n_hidden = len(cfg.channels), len(cfg.cnn_hidden)
        return conv2d.EnsembleConv2dNet(
            shape,
            10,
            init_seeds,
            channels=cfg.channels,
            kernels=cfg.kernels,
            pools=cfg.pools,
            paddings=cfg.paddings,
            hidden=cfg.cnn_hidden,
            conv_dropout=[0.0] * (n_conv - 1) + [dropout],
            hidden_dropout=[dropout] * n_hidden,
            dropout_seeds=[s + DROPOUT_OFFSET for s in init_seeds] if dropout > 0 else None,
            device=device,
        )
    if dropout > 0:
        raise ValueError(f"dropout is the 2-D CNN's only, not the {arch} on {cfg.dataset}'s")
    if arch == "cnn":
        return conv.EnsembleConv1dNet(
            shape[-1],
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
        (math.prod(shape), *cfg.mlp_hidden, 10),
        init_seeds,
        "relu",
        init="uniform_fan_in",
        bias_init="uniform",
        device=device,
    )


def fit_ensemble(
    cfg,
    arch: str,
    tensors: dict,
    keep,
    init_seeds,
    order_seeds,
    record: bool,
    label: str,
    labels=None,
    dropout: float = 0.0,
):
    """Train one ensemble of the MNIST (or MNIST-1D) CNN or the MLP with SGD for ``cfg.epochs`` epochs over each
    member's kept examples (:func:`fit`); ``dropout`` see :func:`build_model`."""
    from reprosuite.engine.train import optim

    model = build_model(cfg, arch, init_seeds, tensors["x"].device, dropout)
    opt = optim.SGD(list(model.parameters()), lr=cfg.lr, momentum=cfg.momentum)
    return fit(model, opt, tensors, keep, order_seeds, cfg.epochs, cfg.batch_size, record, label, labels)


def fit(
    model,
    opt,
    tensors: dict,
    keep,
    order_seeds,
    epochs: int,
    batch_size: int,
    record: bool,
    label: str,
    labels=None,
    inputs=None,
    lr_scale=None,
    generators=(),
    buffers=(),
):
    """Train ``model`` with ``opt`` for ``epochs`` epochs over each member's kept examples.

    ``labels`` (S, n_train) gives each member its own training labels (default: the data's, for every member);
    ``inputs(x)`` maps a batch of training inputs (S, b, …) to what the model sees (augmentation; default as
    they are); ``lr_scale(epoch)`` is the schedule; ``generators`` and ``buffers`` are checkpointed with the weights
    beside the model's own (dropout generators) and the record. Evaluations run in eval mode.

    Returns the history (test accuracy and loss at every epoch boundary) and, with ``record``, the correctness of
    every presentation, (S, epochs, n_train), from the training forward pass in training mode, as the official
    scripts record it — kept in a buffer that ``trainer.fit`` checkpoints and restores with the weights
    (resume-safe), as it does the generators' states.
    """
    import torch

    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import trainer

    x, y, xt, yt = tensors["x"], tensors["y"], tensors["x_test"], tensors["y_test"]
    device = x.device
    size = opt.size
    member_y = y.expand(size, len(y)) if labels is None else labels
    stream = EpochStream(keep, batch_size, order_seeds)
    steps = epochs * stream.per_epoch
    rec = torch.zeros(
        (size, epochs if record else 1, len(y) if record else 1), dtype=torch.int8, device=device
    )
    rows = torch.arange(size, device=device).unsqueeze(1)

    def loss_fn(step):
        epoch, idx = stream.at(step)
        logits = model(x[idx] if inputs is None else inputs(x[idx]))
        target = member_y.gather(1, idx)
        if record:  # in training mode, as the official script records it
            with torch.no_grad():
                rec[rows, epoch, idx] = (logits.argmax(-1) == target).to(rec.dtype)
        return fn.cross_entropy(logits, target)

    def evaluate(step):
        model.train(False)
        logits = fn.logits_in_chunks(model, xt, EVAL_CHUNK)  # under a probe the first chunk, timed for all
        model.train(True)
        target = yt[: logits.shape[1]]
        return {
            ("test", "accuracy"): fn.accuracy(logits, target),
            ("test", "loss"): fn.cross_entropy(logits, target),
        }

    log_steps = [e * stream.per_epoch for e in range(epochs + 1)]
    history = trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        log_steps,
        lr_scale=None if lr_scale is None else lambda step: lr_scale(step // stream.per_epoch),
        label=label,
        generators=[*model_generators(model), *generators],
        buffers=[rec, *buffers],
    )
    return history, stream.per_epoch, rec.cpu().numpy() if record else None


def model_generators(model) -> list:
    """The model's own random generators (dropout masks), for ``trainer.fit`` to checkpoint."""
    return list(getattr(model, "generators", []))


def epoch_frame(history, per_epoch: int, seeds, variants, members: dict) -> pd.DataFrame:
    """The run table of one fit's history, its step counted in epochs."""
    runs = history.frame(seeds, variants, members=members)
    runs["step"] = runs["step"] // per_epoch  # step = epoch
    return runs


def example_rows(member: dict, seed: int, correct: np.ndarray) -> list[pd.DataFrame]:
    """One member's forgetting count and learned flag of every example: a row per example and metric (step =
    the example index)."""
    n = correct.shape[1]
    return [
        pd.DataFrame(
            {
                "variant": member["mode"],
                **member,
                "seed": seed,
                "step": np.arange(n),  # the example index
                "split": "example",
                "metric": metric,
                "value": values,
            }
        )
        for metric, values in (
            ("forgetting_count", fg.forgetting_counts(correct)),
            ("learned", fg.learned(correct).astype(float)),
        )
    ]
