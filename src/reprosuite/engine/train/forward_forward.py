"""Layer-local forward-forward training for ensembles: goodness, detached normalised layer inputs, local losses.

A forward-forward net is a stack of fully connected ReLU layers, each trained by its own objective: high
"goodness" (a function of the squared activities) on positive data, low goodness on negative data. No gradient
crosses a layer: the input of layer k is the *detached* activity of layer k − 1, length-normalised so that
layer k cannot read the previous layer's goodness off its input's norm. Summing the per-layer losses into one
scalar and calling ``backward`` therefore gives each layer exactly the gradient of its own loss, so a
forward-forward net trains with :func:`reprosuite.engine.train.trainer.fit` like any other ensemble.

Shapes: weights (S, out, in) for S members; inputs (B, in) common to all members or (S, B, in) per member; activities
(S, B, out).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models import layers

Norm = Literal["none", "l2", "rms"]


def normalise(h: Tensor, kind: Norm, eps: float = 1e-8) -> Tensor:
    """Length-normalise the last dimension: ``l2`` to unit Euclidean length, ``rms`` to unit root mean square
    (√d times the ``l2`` result), ``none`` unchanged."""
    if kind == "none":
        return h
    if kind == "l2":
        return h / (h.norm(dim=-1, keepdim=True) + eps)
    if kind == "rms":
        return h / (h.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps)
    raise ValueError(f"unknown normalisation {kind!r}; choose none, l2 or rms")


def goodness(h: Tensor, reduce: Literal["sum", "mean"] = "sum") -> Tensor:
    """The goodness of activities h (..., d): Σ h² (``sum``) or its mean over the d units (``mean``)."""
    if reduce == "sum":
        return h.pow(2).sum(dim=-1)
    if reduce == "mean":
        return h.pow(2).mean(dim=-1)
    raise ValueError(f"unknown goodness reduction {reduce!r}; choose sum or mean")


def ff_loss(g_pos: Tensor, g_neg: Tensor, theta: float) -> Tensor:
    """Per member (S,): mean softplus(θ − g⁺) + mean softplus(g⁻ − θ) over the batch, the negative
    log-likelihood of "positive" under p = σ(g − θ) for positives plus that of "negative" for negatives.
    (Binary cross-entropy over the concatenated batch of both phases is half of this.)"""
    return F.softplus(theta - g_pos).mean(dim=-1) + F.softplus(g_neg - theta).mean(dim=-1)


def peer_loss(h_pos: Tensor, running: Tensor, momentum: float) -> Tensor:
    """Peer normalisation per member (S,): the squared deviation of each unit's running mean activity from the
    layer's average running mean, averaged over units. ``running`` (S, d) is updated in place to
    ``momentum · running + (1 − momentum) · mean_batch(h⁺)``; the loss differentiates through the new batch
    term only. It pushes every unit to be active about as often as its peers (no dead or dominant units)."""
    new = running.detach() * momentum + h_pos.mean(dim=-2) * (1 - momentum)
    running.copy_(new.detach())
    return (new.mean(dim=-1, keepdim=True) - new).pow(2).mean(dim=-1)


class _StraightThroughReLU(torch.autograd.Function):
    """ReLU forward, identity backward: a unit that is off still receives its gradient."""

    @staticmethod
    def forward(ctx, z):
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad


def relu(z: Tensor, straight_through: bool = False) -> Tensor:
    return _StraightThroughReLU.apply(z) if straight_through else torch.relu(z)


class EnsembleFF(nn.Module):
    """S independent forward-forward stacks ``sizes[0] → sizes[1] → …`` of ReLU layers.

    ``input_norm`` normalises the data entering layer 1, ``norm`` the (detached) activity entering every later
    layer. :meth:`forward` returns every layer's activity; the graph of layer k reaches only its own weights.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        seeds: Sequence[int],
        init: str = "uniform_fan_in",
        init_scale: float | Callable[[int, int], float] = 1.0,
        bias_init: str = "uniform",
        input_norm: Norm = "none",
        norm: Norm = "l2",
        straight_through: bool = False,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        self.sizes, self.input_norm, self.norm = tuple(sizes), input_norm, norm
        self.straight_through = straight_through
        gens = layers.generators(seeds)
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            scale = init_scale(fan_in, fan_out) if callable(init_scale) else init_scale
            w = layers.init_weight((fan_out, fan_in), init, gens, scale)
            b = layers.init_weight((fan_out,), bias_init, gens, 1.0 / math.sqrt(fan_in))
            self.weights.append(nn.Parameter(w.to(device=device, dtype=dtype)))
            self.biases.append(nn.Parameter(b.to(device=device, dtype=dtype)))

    @property
    def size(self) -> int:
        return self.weights[0].shape[0]

    def forward(self, x: Tensor, detach: bool = True) -> list[Tensor]:
        """Activities of every layer, each (S, B, out). With ``detach`` (training) layer k's input is cut from
        the graph of layers < k; without it (analysis only) gradients would flow across layers."""
        out = []
        h = normalise(x, self.input_norm)
        for w, b in zip(self.weights, self.biases, strict=True):
            z = layers.ensemble_matmul(h, w) + b.unsqueeze(1)
            a = relu(z, self.straight_through)
            out.append(a)
            h = normalise(a.detach() if detach else a, self.norm)
        return out


def label_scores(
    model: EnsembleFF,
    x: Tensor,
    embed: Callable[[Tensor, Tensor], Tensor],
    n_classes: int,
    reduce: Literal["sum", "mean"] = "sum",
    chunk: int = 1000,
) -> Tensor:
    """Goodness (L, S, B, C) of every layer for every candidate label: the net is run once per label on
    ``embed(x, label)``; summing the goodness of some layers and taking the argmax over labels classifies.
    ``x`` (B, in) is common to all members; examples go through in chunks of ``chunk`` (× C labels)."""
    parts = []
    for a in range(0, x.shape[0], chunk):
        xb = x[a : a + chunk]
        b = xb.shape[0]
        labels = torch.arange(n_classes, device=x.device).repeat_interleave(b)  # (C·b,) label-major
        g = torch.stack([goodness(h, reduce) for h in model(embed(xb.repeat(n_classes, 1), labels))])
        parts.append(g.view(*g.shape[:2], n_classes, b).transpose(2, 3))  # (L, S, b, C)
    return torch.cat(parts, dim=2)
