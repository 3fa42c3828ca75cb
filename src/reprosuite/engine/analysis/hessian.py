"""The largest Hessian eigenvalue of a loss, per ensemble member, by power iteration on Hessian-vector products.

Members are independent: the Hessian of the summed per-member losses is block-diagonal over members, so one
double-backward pass gives every member's Hessian-vector product at once, and each member's iterate is
normalised on its own. A single model is an ensemble of one (parameters with a leading dimension 1).

A loss over more data than one graph holds is given as parts (a sequence of closures whose losses sum to it, e.g.
chunks of the data each weighted by its share): H·v is linear in the loss, so it is the sum of the parts' products,
one double-backward pass per part.

Power iteration converges to the eigenvalue of largest magnitude; the returned value is the Rayleigh quotient
vᵀHv (signed), so a dominant negative eigenvalue shows up as negative rather than being mistaken for λ_max.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from reprosuite.engine.models import chain

Loss = Callable[[], Tensor] | Sequence[Callable[[], Tensor]]


def hvp(loss_fn: Loss, params: Sequence[Tensor], vectors: Sequence[Tensor]) -> list[Tensor]:
    """H·v for every member: ``loss_fn() -> (S,)`` (or parts whose losses sum to the loss), params and vectors
    with a leading member dim S. The graph is autograd's own, node by node (``chain.autograd_only``), as it is
    differentiated twice."""
    if not callable(loss_fn):
        if not loss_fn:
            raise ValueError("a loss in parts needs at least one part")
        total = hvp(loss_fn[0], params, vectors)
        for part in loss_fn[1:]:
            for t, h in zip(total, hvp(part, params, vectors), strict=True):
                t.add_(h)
        return total
    with chain.autograd_only():
        loss = loss_fn().sum()
    grads = torch.autograd.grad(loss, params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vectors, strict=True))
    return list(torch.autograd.grad(dot, params))


def _member_dot(a: Sequence[Tensor], b: Sequence[Tensor]) -> Tensor:
    return sum((x * y).flatten(1).sum(1) for x, y in zip(a, b, strict=True))


def top_eigenvalue(
    loss_fn: Loss,
    params: Sequence[Tensor],
    iters: int = 20,
    generator: torch.Generator | None = None,
    tol: float = 1e-4,
) -> Tensor:
    """(S,) Rayleigh quotients of each member's Hessian after at most ``iters`` power iterations.

    Stops early once every member's estimate changed by less than ``tol`` (relative) in one iteration. The start
    vector is Gaussian from ``generator`` (CPU), so a given generator state gives the same result.
    """
    params = list(params)
    vectors = [
        torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p.device, p.dtype) for p in params
    ]
    norm = _member_dot(vectors, vectors).sqrt()
    vectors = [v / norm.view(-1, *([1] * (v.dim() - 1))) for v in vectors]
    estimate = torch.full((params[0].shape[0],), float("nan"), dtype=torch.float64)
    for _ in range(iters):
        hv = hvp(loss_fn, params, vectors)
        new = _member_dot(vectors, hv).detach().to(torch.float64).cpu()
        norm = _member_dot(hv, hv).sqrt().clamp_min(1e-30)
        vectors = [h.detach() / norm.view(-1, *([1] * (h.dim() - 1))) for h in hv]
        converged = bool(((new - estimate).abs() <= tol * new.abs()).all())
        estimate = new
        if converged:
            break
    return estimate
