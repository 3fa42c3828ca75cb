"""Per-member losses and metrics for ensembles: inputs (S, B, ...) → one value per member (S,)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F


def cross_entropy(logits: Tensor, y: Tensor, weight: Tensor | None = None) -> Tensor:
    """Cross-entropy per member; logits (S, B, C), labels (B,) shared or (S, B).

    The mean over the batch, or with ``weight`` (S, B) the weighted sum divided by each member's total weight.
    """
    s, b, c = logits.shape
    y = y.expand(s, b)
    loss = F.cross_entropy(logits.reshape(s * b, c), y.reshape(-1), reduction="none").view(s, b)
    if weight is None:
        return loss.mean(dim=1)
    return (loss * weight).sum(dim=1) / weight.sum(dim=1)


def accuracy(logits: Tensor, y: Tensor) -> Tensor:
    """Fraction of correct argmax predictions per member."""
    return (logits.argmax(dim=-1) == y).to(logits.dtype).mean(dim=1)


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error per member over batch and output dimensions."""
    return ((pred - target) ** 2).flatten(1).mean(dim=1)


def batches(n: int, batch_size: int, generator: torch.Generator) -> Tensor:
    """Indices of one epoch of shuffled minibatches (the last partial batch dropped), (n // B, B)."""
    perm = torch.randperm(n, generator=generator)
    k = n // batch_size
    return perm[: k * batch_size].view(k, batch_size)


ORDER_STREAM = 7_919  # tags minibatch-order seeds, apart from initialisation and noise streams


def order_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one seed's minibatch order in one epoch, a function of (seed, epoch) only."""
    return torch.Generator().manual_seed(
        int(np.random.SeedSequence([int(seed), ORDER_STREAM, int(epoch)]).generate_state(1)[0])
    )


class MinibatchStream:
    """Per-member minibatch indices as a function of the step alone, so a resumed run draws the same batches.

    Member ``s`` shuffles the ``n`` examples each epoch with :func:`order_generator` of its seed; members sharing a
    seed (e.g. the same seed under several hyperparameters) see the same data order.
    """

    def __init__(
        self, n: int, batch_size: int, member_seeds: Sequence[int], device: torch.device | str = "cpu"
    ):
        self.n, self.batch_size, self.device = n, batch_size, device
        self.seeds = sorted(set(int(s) for s in member_seeds))
        self.member = torch.tensor([self.seeds.index(int(s)) for s in member_seeds], device=device)
        self.per_epoch = n // batch_size
        self.epoch: int | None = None
        self.order: Tensor | None = None

    def at(self, step: int) -> Tensor:
        """(S, batch_size) example indices of ``step``."""
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self.epoch:
            self.order = torch.stack(
                [batches(self.n, self.batch_size, order_generator(s, epoch)) for s in self.seeds]
            ).to(self.device)  # (seeds, per_epoch, B)
            self.epoch = epoch
        return self.order[self.member, i]


def logits_in_chunks(model, x: Tensor, chunk: int) -> Tensor:
    """``model`` on ``x`` (N, …) in chunks of ``chunk`` examples, the logits concatenated along the batch axis
    (S, N, C); under a probe the first chunk only (:func:`reprosuite.engine.train.probe.chunks`), so the caller
    scores the first ``logits.shape[1]`` targets."""
    from reprosuite.engine.train import probe

    starts = probe.chunks(range(0, len(x), chunk))
    return torch.cat([model(x[a : a + chunk]) for a in starts], dim=1)
