"""Per-member losses and metrics for ensembles: inputs (S, B, ...) → one value per member (S,)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def cross_entropy(logits: Tensor, y: Tensor) -> Tensor:
    """Mean cross-entropy per member; logits (S, B, C), labels (B,) shared or (S, B)."""
    s, b, c = logits.shape
    y = y.expand(s, b) if y.dim() == 1 else y
    return F.cross_entropy(logits.reshape(s * b, c), y.reshape(-1), reduction="none").view(s, b).mean(dim=1)


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
