"""Linear mode connectivity: the loss barrier along the straight line between two parameter sets.

For parameters θ_a, θ_b and α ∈ [0, 1], θ(α) = (1 − α) θ_a + α θ_b. With the loss L(α) of θ(α) at the points
``alphas`` (both end points included), the **barrier** is the loss at the arg-max α* of L minus the chord
between the end points at α*:

    barrier = L(α*) − [(1 − α*) L(0) + α* L(1)],  α* = argmax_α L(α).

This is the definition of Frankle et al. 2020 as computed by ``extract_barrier`` in the ``lmc`` package's
``lmc/utils/lmc_utils.py`` (github.com/gsaltintas/lmc). :func:`max_gap` gives the other common variant,
max_α [L(α) − chord(α)]; both are 0 for identical end points, ≤ 0 for a loss that is convex along the line,
and they agree when the curve's maximum and its largest gap over the chord fall at the same α.

Everything works on stacked members: parameters carry a leading member dimension S (the ensembles of
:mod:`reprosuite.engine.models.layers`), curves are (..., A) with the α axis last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor


def alpha_grid(points: int) -> Tensor:
    """``points`` equally spaced α in [0, 1], both ends included (float64)."""
    if points < 2:
        raise ValueError(f"an interpolation needs at least the two end points, got {points}")
    return torch.linspace(0.0, 1.0, points, dtype=torch.float64)


def interpolate(a: Sequence[Tensor], b: Sequence[Tensor], alpha: float) -> list[Tensor]:
    """(1 − α) a + α b, tensor by tensor."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} tensors against {len(b)}")
    out = []
    for x, y in zip(a, b, strict=True):
        if x.shape != y.shape:
            raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
        out.append(torch.lerp(x, y, float(alpha)))
    return out


def _check(alphas: Tensor, curve: Tensor) -> tuple[Tensor, Tensor]:
    alphas = torch.as_tensor(alphas, dtype=torch.float64)
    curve = torch.as_tensor(curve, dtype=torch.float64)
    if alphas.dim() != 1 or curve.shape[-1] != alphas.numel():
        raise ValueError(f"curve {tuple(curve.shape)} must end in the {alphas.numel()} α points")
    if not (alphas[0] == 0 and alphas[-1] == 1 and bool((alphas.diff() > 0).all())):
        raise ValueError("alphas must increase from 0 to 1, both end points included")
    return alphas, curve


def chord(alphas: Tensor, curve: Tensor) -> Tensor:
    """The straight line between the end points of ``curve`` (..., A), evaluated at ``alphas``."""
    alphas, curve = _check(alphas, curve)
    return (1 - alphas) * curve[..., :1] + alphas * curve[..., -1:]


def barrier(alphas: Tensor, curve: Tensor) -> Tensor:
    """The barrier of each curve (..., A): L at its arg-max α minus the chord there (see the module docstring)."""
    alphas, curve = _check(alphas, curve)
    top = curve.argmax(dim=-1, keepdim=True)
    return (curve.gather(-1, top) - chord(alphas, curve).gather(-1, top)).squeeze(-1)


def max_gap(alphas: Tensor, curve: Tensor) -> Tensor:
    """max_α [L(α) − chord(α)] of each curve (..., A)."""
    alphas, curve = _check(alphas, curve)
    return (curve - chord(alphas, curve)).amax(dim=-1)


@torch.no_grad()
def loss_curve(
    loss: Callable[[list[Tensor]], Tensor], a: Sequence[Tensor], b: Sequence[Tensor], alphas: Tensor
) -> Tensor:
    """``loss(θ(α))`` at each α, stacked on the last axis: (..., A) for a loss returning (...) (e.g. (S,))."""
    return torch.stack([loss(interpolate(a, b, float(al))) for al in alphas], dim=-1)
