"""Interval bound propagation (IBP) through ensembles of linear/ReLU networks, the IBP loss, and IBP tightness.

Networks are lists of member-stacked weights ``W_l`` (S, out, in) (e.g. ``EnsembleMLP.weights``) with optional
biases (S, out), and one activation per member: ``linear`` or ``relu``. Inputs are (B, in) shared or (S, B, in);
perturbations are ℓ∞ boxes of radius ``eps`` (a float, or (S,) per member).

IBP (Gowal et al. 2018, arXiv:1810.12715) propagates a box as centre c and radius r: an affine layer maps it to
(W c + b, |W| r), a monotone activation maps the end points. With a specification matrix C (one row per output
difference to bound) the last layer is *elided*: C·W_L is formed before taking its absolute value, as in the
official code of Mao et al. below.

Propagation tightness (Mao, Müller, Fischer, Vechev 2023, "Understanding Certified Training with Interval Bound
Propagation", ICLR 2024, arXiv:2306.10426, and ``PI_functions.py`` of the official
eth-sri/ibp-propagation-tightness) is the ratio of the exact to the IBP half-width of the output box,

    τ = |C W_L ⋯ W_1| ε  /  (|C W_L| |W_{L−1}| ⋯ |W_1|) ε        (elementwise, per output row),

exact for deep linear networks (DLNs) and, with ``relu`` members evaluated "locally" at an input x, the DLN
given by x's activation pattern (the official ``relu_adjust="local"``). τ ≤ 1, and τ = 1 for one layer or
non-negative weights. :func:`tightness_theory` is its large-width value at Gaussian initialisation,
Π_l √(π / (2 n_l)) over the hidden widths n_l — our derivation, matching the paper's result that tightness
decreases with width and depth at initialisation (see that function).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

ACTIVATIONS = ("linear", "relu")


def leak(activation: str | Sequence[str], size: int, like: Tensor) -> Tensor:
    """Per-member negative slope (S,): 1 for ``linear``, 0 for ``relu``; act(z) = max(z, 0) + slope·min(z, 0)."""
    names = [activation] * size if isinstance(activation, str) else list(activation)
    if len(names) != size:
        raise ValueError(f"{len(names)} activations for {size} members")
    unknown = set(names) - set(ACTIVATIONS)
    if unknown:
        raise ValueError(f"unknown activations {sorted(unknown)}; choose from {ACTIVATIONS}")
    return torch.tensor([1.0 if a == "linear" else 0.0 for a in names], dtype=like.dtype, device=like.device)


def _act(z: Tensor, slope: Tensor) -> Tensor:
    """Monotone piecewise-linear activation with per-member slope (S,) for z (S, B, n)."""
    return z.clamp(min=0) + slope.view(-1, 1, 1) * z.clamp(max=0)


def _member_eps(eps: float | Tensor, size: int, like: Tensor) -> Tensor:
    return torch.as_tensor(eps, dtype=like.dtype, device=like.device).expand(size).reshape(-1, 1, 1)


def margin_spec(y: Tensor, n_classes: int) -> Tensor:
    """C (B, K−1, K) with rows e_y − e_k for every k ≠ y: C·z are the margins z_y − z_k of the true class."""
    eye = torch.eye(n_classes, dtype=torch.float64, device=y.device)
    others = torch.stack(
        [torch.cat([torch.arange(k), torch.arange(k + 1, n_classes)]) for k in range(n_classes)]
    )
    others = others.to(y.device)[y]  # (B, K−1)
    return eye[y].unsqueeze(1) - eye[others]


def _spec_layer(w: Tensor, b: Tensor | None, spec: Tensor) -> tuple[Tensor, Tensor | None]:
    """The elided last layer C·W (S, B, J, n) and C·b (S, B, J)."""
    spec = spec.to(w.dtype)
    cw = torch.einsum("bjk,skn->sbjn", spec, w)
    cb = None if b is None else torch.einsum("bjk,sk->sbj", spec, b)
    return cw, cb


def forward(
    weights: Sequence[Tensor],
    x: Tensor,
    activation: str | Sequence[str] = "linear",
    biases: Sequence[Tensor] | None = None,
) -> Tensor:
    """The network's output (S, B, out) at x (B, in) or (S, B, in)."""
    slope = leak(activation, weights[0].shape[0], weights[0])
    n = len(weights)
    for i, w in enumerate(weights):
        x = torch.matmul(x, w.transpose(-1, -2))
        if biases is not None:
            x = x + biases[i].unsqueeze(1)
        if i < n - 1:
            x = _act(x, slope)
    return x


def interval_forward(
    weights: Sequence[Tensor],
    x: Tensor,
    eps: float | Tensor,
    activation: str | Sequence[str] = "linear",
    biases: Sequence[Tensor] | None = None,
    spec: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """IBP lower and upper bounds (S, B, out) — or (S, B, J) of C·f with ``spec`` C (B, J, out) — over the
    box ‖x' − x‖∞ ≤ eps."""
    size = weights[0].shape[0]
    slope = leak(activation, size, weights[0])
    centre = x if x.dim() == 3 else x.unsqueeze(0).expand(size, *x.shape)
    radius = _member_eps(eps, size, weights[0]).expand_as(centre)
    n = len(weights)
    for i, w in enumerate(weights):
        b = None if biases is None else biases[i]
        if i == n - 1 and spec is not None:
            cw, cb = _spec_layer(w, b, spec)
            centre = torch.einsum("sbjn,sbn->sbj", cw, centre)
            radius = torch.einsum("sbjn,sbn->sbj", cw.abs(), radius)
            if cb is not None:
                centre = centre + cb
            break
        centre = torch.matmul(centre, w.transpose(-1, -2))
        radius = torch.matmul(radius, w.abs().transpose(-1, -2))
        if b is not None:
            centre = centre + b.unsqueeze(1)
        if i < n - 1:
            lower, upper = _act(centre - radius, slope), _act(centre + radius, slope)
            centre, radius = (upper + lower) / 2, (upper - lower) / 2
    return centre - radius, centre + radius


def margin_lower_bounds(
    weights: Sequence[Tensor],
    x: Tensor,
    y: Tensor,
    eps: float | Tensor,
    activation: str | Sequence[str] = "linear",
    biases: Sequence[Tensor] | None = None,
) -> Tensor:
    """IBP lower bounds (S, B, K) of the margins z_y − z_k (0 at k = y), the last layer elided.

    Equals :func:`interval_forward` with :func:`margin_spec` but forms the K² rows W_L[y] − W_L[k] once
    rather than once per sample.
    """
    *hidden, w_last = weights
    b_last = None if biases is None else biases[-1]
    if hidden:
        lower, upper = interval_forward(hidden, x, eps, activation, None if biases is None else biases[:-1])
        # the last hidden layer's box passes through the activation before the output layer
        slope = leak(activation, w_last.shape[0], w_last)
        lower, upper = _act(lower, slope), _act(upper, slope)
        centre, radius = (upper + lower) / 2, (upper - lower) / 2
    else:
        centre = x if x.dim() == 3 else x.unsqueeze(0).expand(w_last.shape[0], *x.shape)
        radius = _member_eps(eps, w_last.shape[0], w_last).expand_as(centre)
    s, k, n = w_last.shape
    z = torch.matmul(centre, w_last.transpose(-1, -2))  # (S, B, K)
    if b_last is not None:
        z = z + b_last.unsqueeze(1)
    pair = (w_last.unsqueeze(2) - w_last.unsqueeze(1)).abs().reshape(s, k * k, n)  # |W_L[y] − W_L[k]|
    spread = torch.matmul(radius, pair.transpose(-1, -2)).view(s, -1, k, k)  # (S, B, y, k)
    index = y.view(1, -1, 1, 1).expand(s, -1, 1, k)
    spread_y = spread.gather(2, index).squeeze(2)  # (S, B, K): row y of each sample
    z_y = z.gather(2, y.view(1, -1, 1).expand(s, -1, 1))
    return z_y - z - spread_y


def ibp_loss(
    weights: Sequence[Tensor],
    x: Tensor,
    y: Tensor,
    eps: float | Tensor,
    activation: str | Sequence[str] = "linear",
    biases: Sequence[Tensor] | None = None,
) -> Tensor:
    """Per-member IBP loss (S,): cross-entropy of the worst-case logits −m, i.e. log Σ_k exp(−m_k) with m_k
    the IBP lower bound of the margin z_y − z_k (m_y = 0; Gowal et al. 2018, with last-layer elision)."""
    worst = -margin_lower_bounds(weights, x, y, eps, activation, biases)
    s, b, k = worst.shape
    return F.cross_entropy(worst.reshape(s * b, k), y.repeat(s), reduction="none").view(s, b).mean(dim=1)


def pair_spec(n_classes: int) -> Tensor:
    """C (1, K(K−1), K) with a row e_y − e_k for every ordered pair y ≠ k: the margin specifications of all
    classes at once (for DLNs, whose tightness does not depend on the input)."""
    eye = torch.eye(n_classes, dtype=torch.float64)
    rows = [eye[a] - eye[b] for a in range(n_classes) for b in range(n_classes) if a != b]
    return torch.stack(rows).unsqueeze(0)


def tightness(
    weights: Sequence[Tensor],
    spec: Tensor | None = None,
    eps: Tensor | None = None,
    activation: str | Sequence[str] = "linear",
    x: Tensor | None = None,
    biases: Sequence[Tensor] | None = None,
) -> Tensor:
    """Propagation tightness τ = |C W_L D ⋯ D W_1| ε / (|C W_L| D |W_{L−1}| ⋯ D |W_1|) ε per output row.

    Without ``spec`` C is the identity and τ is (S, out); with ``spec`` (B, J, out) it is (S, B, J). ``eps``
    (in,) is the box's radius per input (default all ones: τ does not depend on a common scale). ReLU members
    need the inputs ``x`` (B, in): D is the diagonal of their activation pattern at x (the official
    ``relu_adjust="local"``: a unit counts as active where its pre-activation is ≥ 0); linear members use
    D = I. Products are formed from the output side, as the official efficient implementation does.
    """
    size = weights[0].shape[0]
    slope = leak(activation, size, weights[0])
    masks = None
    if bool((slope != 1).any()):
        if x is None:
            raise ValueError("tightness of ReLU members is local: pass the inputs x")
        masks = _local_masks(weights, x, slope, biases)
    w_last = weights[-1]
    if spec is not None:
        num, _ = _spec_layer(w_last, None, spec)  # (S, B, J, n)
    elif masks is not None:
        num = w_last.unsqueeze(1).expand(size, x.shape[-2], *w_last.shape[1:])
    else:
        num = w_last  # (S, out, n)
    den = num.abs()
    for i in range(len(weights) - 2, -1, -1):
        if masks is not None:
            d = masks[i].unsqueeze(-2)  # (S, B, 1, n)
            num, den = num * d, den * d
        w = weights[i] if num.dim() == 3 else weights[i].unsqueeze(1)
        num = torch.matmul(num, w)
        den = torch.matmul(den, w.abs())
    eps = torch.ones(num.shape[-1], dtype=num.dtype, device=num.device) if eps is None else eps.to(num)
    return (num.abs() @ eps).clamp(min=1e-30) / (den @ eps).clamp(min=1e-30)


def _local_masks(
    weights: Sequence[Tensor], x: Tensor, slope: Tensor, biases: Sequence[Tensor] | None
) -> list[Tensor]:
    """Per hidden layer, the active units at x (S, B, n); linear members are all active."""
    masks = []
    for i, w in enumerate(weights[:-1]):
        x = torch.matmul(x, w.transpose(-1, -2))
        if biases is not None:
            x = x + biases[i].unsqueeze(1)
        linear = (slope == 1).view(-1, 1, 1)
        masks.append(((x >= 0) | linear).to(w.dtype))
        x = _act(x, slope)
    return masks


def tightness_theory(hidden_widths: Sequence[int]) -> float:
    """Large-width tightness of a DLN with i.i.d. zero-mean Gaussian weights: Π_l √(π / (2 n_l)).

    Derivation (ours; Mao et al. prove the width and depth dependence): write P = W_{L−1} ⋯ W_1. Given P, (W_L P)_{ij} = Σ_k (W_L)_{ik} P_{kj} is Gaussian with
    variance σ_L² ‖P_{:,j}‖², so E|(ΠW)_{ij}| = √(2/π) σ_L E‖P_{:,j}‖ ≈ √(2/π) Π_l σ_l · Π_{l<L} √n_l for wide
    layers (‖P_{:,j}‖ concentrates). The denominator is a sum over paths of products of half-normal
    magnitudes, E(Π|W|)_{ij} = Π_l σ_l √(2/π) · Π_{l<L} n_l. Their ratio is (π/2)^{(L−1)/2} Π_{l<L} n_l^{−1/2},
    for every output, input and σ_l. At finite width E‖P_{:,j}‖ < √E‖P_{:,j}‖² (Jensen), so τ lies slightly
    below it (e.g. ≈ 0.9× at width 16).
    """
    return float(math.prod(math.sqrt(math.pi / (2 * n)) for n in hidden_widths))
