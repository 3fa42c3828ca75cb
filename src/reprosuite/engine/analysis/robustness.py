"""Adversarial robustness and local complexity of ensembles of MLPs (leading member dimension S).

- :func:`pgd_linf` / :func:`adversarial_accuracy`: the L∞ projected-gradient attack of the official
  ``attacks.py`` of AhmedImtiazPrio/grok-adversarial (itself from Harry24k/PGD-pytorch): ``steps`` ascent steps
  ``x ← clip_[lo,hi](x₀ + clip_[−ε,ε](x + α·sign ∇ₓ CE − x₀))`` on the cross-entropy of each member, started at
  the clean point (the official default ``random_start`` is never used in its loop).
- :func:`local_complexity`: Humayun et al. 2024 §3 (Fig. 4) and the official ``local_complexity.py`` /
  ``samplers.py``: P orthonormal directions v₁…v_P give the cross-polytope frame {x ± r·v_p} around each point;
  a neuron counts when its pre-activation sign is not the same at all 2P vertices (its hyperplane cuts the
  frame's hull, as embedded layer by layer by the forward pass). The centroid is not a vertex (official
  ``inc_centroid=False``); the same directions serve every point (official: one seeded orthogonal matrix).

Both work on any model whose ``forward(x, return_hidden=True)`` returns ``(S, B, out)`` logits and the list of
every layer's pre-activation and has a ``size`` (S), as :class:`~reprosuite.engine.models.layers.EnsembleMLP` does.
"""

from __future__ import annotations

import torch
from torch import Tensor

from reprosuite.engine.train import functional as fn


def pgd_linf(
    model,
    x: Tensor,
    y: Tensor,
    eps: float,
    alpha: float,
    steps: int,
    lo: float | None = None,
    hi: float | None = None,
) -> Tensor:
    """Per-member L∞ PGD adversarial inputs (S, B, D) for shared clean inputs x (B, D) and labels y (B,).

    Each member attacks its own cross-entropy; the gradient is taken with respect to the inputs only (parameter
    gradients are left untouched), so this may run inside the trainer's ``torch.no_grad`` evaluation.
    ``lo``/``hi`` clip to the data range (official: the clean batch's min/max when not given).
    """
    x0 = x.detach().unsqueeze(0).expand(model.size, *x.shape)  # (S, B, D)
    lo = float(x.min()) if lo is None else lo
    hi = float(x.max()) if hi is None else hi
    adv = x0.clone()
    with torch.enable_grad():
        for _ in range(steps):
            adv.requires_grad_(True)
            loss = fn.cross_entropy(model(adv), y).sum()  # members are independent: the sum splits
            (grad,) = torch.autograd.grad(loss, adv)
            step = adv.detach() + alpha * grad.sign()
            adv = (x0 + (step - x0).clamp(-eps, eps)).clamp(lo, hi).detach()
    return adv


def adversarial_accuracy(
    model,
    x: Tensor,
    y: Tensor,
    eps: float,
    alpha: float,
    steps: int,
    lo: float | None = None,
    hi: float | None = None,
) -> Tensor:
    """(S,) accuracy of each member on its own PGD adversarial examples."""
    adv = pgd_linf(model, x, y, eps, alpha, steps, lo, hi)
    with torch.no_grad():
        return fn.accuracy(model(adv), y)


def orthonormal_directions(dim: int, count: int, generator: torch.Generator) -> Tensor:
    """(count, dim) orthonormal rows (Haar-random, from the QR of a Gaussian matrix)."""
    if count > dim:
        raise ValueError(f"{count} orthonormal directions do not fit in {dim} dimensions")
    a = torch.randn(dim, count, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    return (q * torch.sign(torch.diagonal(r))).T.contiguous()


def cross_polytope(x: Tensor, directions: Tensor, radius: float) -> Tensor:
    """Vertices {x ± r·v_p} (B, 2P, D) around points x (B, D) for directions (P, D)."""
    d = radius * directions.to(dtype=x.dtype, device=x.device)
    return torch.cat([x[:, None, :] + d[None], x[:, None, :] - d[None]], dim=1)


@torch.no_grad()
def local_complexity(
    model,
    x: Tensor,
    radius: float,
    directions: Tensor,
    include_output: bool = False,
    chunk: int = 256,
) -> Tensor:
    """(S, B) number of neurons whose pre-activation sign changes over the cross-polytope frame of each point.

    Counts the hidden layers' neurons (and the output layer's too with ``include_output``, as the official
    script's sum over every ``nn.Linear`` does).
    """
    counts = []
    n_vertices = 2 * directions.shape[0]
    for part in x.split(chunk):
        frame = cross_polytope(part, directions, radius).reshape(-1, x.shape[-1])  # (b·2P, D)
        _, hidden = model(frame, return_hidden=True)
        layers = hidden if include_output else hidden[:-1]
        total = 0
        for z in layers:  # (S, b·2P, H)
            signs = (z > 0).view(z.shape[0], part.shape[0], n_vertices, z.shape[-1])
            cut = (signs != signs[:, :, :1]).any(dim=2)  # (S, b, H): not constant over the vertices
            total = total + cut.sum(dim=-1)
        counts.append(total)
    return torch.cat(counts, dim=1)
