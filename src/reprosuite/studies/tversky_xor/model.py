"""The Tversky projection layer for ensembles, with a leading member dimension S, and a linear-layer baseline.

Doumbouya, Jurafsky, Manning 2025, "Tversky Neural Networks: Psychologically Plausible Deep Learning with
Differentiable Tversky Similarity", arXiv:2506.11035 (ICLR 2026); official library mdoumbouya/tversky,
``src/tversky/differentiable_tversky_v2.py`` and ``src/tversky/nn.py`` (read for this module).

An object a ∈ ℝ^d is also the set of features f_k of a learned bank Ω = {f_1 … f_K} with a·f_k > 0
(threshold 0), each with salience a·f_k. The contrast model scores an input x against a prototype π:

    S(x, π) = θ f(X ∩ Π) − α f(X − Π) − β f(Π − X),

with learnable scalars θ, α, β (initialised 1, 0.5, 0.5) and, writing x_k = (x·f_k)·[x·f_k > 0] and
[x_k] = [x·f_k > 0],

- intersection f(X ∩ Π): ``product`` Σ_k x_k π_k; otherwise from a = Σ_k x_k [π_k] and b = Σ_k [x_k] π_k:
  ``min`` min(a, b), ``max`` max(a, b), ``mean`` (a + b)/2, ``gmean`` exp((log a + log b)/2),
  ``softmin`` −logsumexp(−a, −b);
- difference f(X − Π): ``ignorematch`` Σ_k x_k [¬π_k] (features of x only); ``substractmatch`` adds, when
  a > b (x's salience on the shared features exceeds π's), a − b.

These follow the official code exactly, including ``gmean``'s log of an empty intersection (log 0 = −inf:
the value is 0 but its gradient is NaN) and ``substractmatch`` comparing the *summed* saliences a and b rather
than feature by feature. A projection layer maps x to (S(x, π_1) … S(x, π_P)); the official library
initialises features and prototypes U(0, 1) (``torch.nn.init.uniform_``).

Ensembles: member s has its own bank, prototypes, θ/α/β, reductions and number of active features (banks are
padded to a common size and masked, which leaves the similarity unchanged). Members are evaluated in groups
sharing their reductions, on slices of the parameters, so a NaN gradient of one member (``gmean``) never
reaches another.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models import layers

INTERSECTIONS = ("product", "min", "max", "mean", "gmean", "softmin")
DIFFERENCES = ("ignorematch", "substractmatch")
INITS = ("uniform", "normal")


def project(
    x: Tensor, bank: Tensor, mask: Tensor | None = None, threshold: float = 0.0
) -> tuple[Tensor, Tensor]:
    """Salience of each feature in each object: x (S, n, d) or (n, d), bank (S, K, d), mask (S, K) →
    masked dot products x_k (S, n, K) and memberships [x·f_k > threshold] (S, n, K, bool)."""
    dot = torch.matmul(x, bank.transpose(-1, -2))
    member = dot > threshold
    if mask is not None:
        member = member & mask.unsqueeze(1).bool()
    return dot * member, member


def intersection(dot_a: Tensor, dot_b: Tensor, in_a: Tensor, in_b: Tensor, reduction: str) -> Tensor:
    """f(A ∩ B) for every pair: (S, n, K), (S, m, K) → (S, n, m)."""
    if reduction == "product":
        return dot_a @ dot_b.mT
    a = dot_a @ in_b.to(dot_a.dtype).mT
    b = in_a.to(dot_b.dtype) @ dot_b.mT
    if reduction == "min":
        return torch.minimum(a, b)
    if reduction == "max":
        return torch.maximum(a, b)
    if reduction == "mean":
        return (a + b) / 2
    if reduction == "gmean":
        return torch.exp((torch.log(a) + torch.log(b)) / 2)
    if reduction == "softmin":
        return -torch.logsumexp(-torch.stack([a, b]), dim=0)
    raise ValueError(f"unknown intersection reduction {reduction!r}; choose from {INTERSECTIONS}")


def difference(dot_a: Tensor, dot_b: Tensor, in_a: Tensor, in_b: Tensor, reduction: str) -> Tensor:
    """f(A − B) for every pair: (S, n, K), (S, m, K) → (S, n, m)."""
    only_a = dot_a @ (~in_b).to(dot_a.dtype).mT
    if reduction == "ignorematch":
        return only_a
    if reduction == "substractmatch":
        a = dot_a @ in_b.to(dot_a.dtype).mT
        b = in_a.to(dot_b.dtype) @ dot_b.mT
        larger = (a > b).to(dot_a.dtype)
        return only_a + (a - b) * larger
    raise ValueError(f"unknown difference reduction {reduction!r}; choose from {DIFFERENCES}")


def contrast_similarity(
    x: Tensor,
    prototypes: Tensor,
    features: Tensor,
    alpha: Tensor,
    beta: Tensor,
    theta: Tensor,
    intersection_reduction: str = "product",
    difference_reduction: str = "ignorematch",
    mask: Tensor | None = None,
    normalize: bool = False,
) -> Tensor:
    """S(x_i, π_j) = θ f(X∩Π) − α f(X−Π) − β f(Π−X): x (B, d) or (S, B, d), prototypes (S, P, d), features
    (S, K, d), α/β/θ (S,), mask (S, K) → (S, B, P). ``normalize`` scales x and the prototypes to unit length
    first (the official ``normalize`` flag)."""
    if normalize:
        x, prototypes = F.normalize(x, dim=-1), F.normalize(prototypes, dim=-1)
    dot_x, in_x = project(x, features, mask)
    dot_p, in_p = project(prototypes, features, mask)
    common = intersection(dot_x, dot_p, in_x, in_p, intersection_reduction)
    x_only = difference(dot_x, dot_p, in_x, in_p, difference_reduction)
    p_only = difference(dot_p, dot_x, in_p, in_x, difference_reduction).mT
    return _col(theta) * common - _col(alpha) * x_only - _col(beta) * p_only


def _col(v: Tensor) -> Tensor:
    return v.view(-1, 1, 1)


def _per_member(value, size: int) -> list:
    return [value] * size if isinstance(value, str | int | bool) else list(value)


def init_bank(shape: tuple[int, ...], schemes: Sequence[str], gens: Sequence[torch.Generator]) -> Tensor:
    """Member-stacked (S, *shape) float64: ``uniform`` U(0, 1) (the official ``nn.init.uniform_``) or ``normal``
    N(0, 1) (``nn.init.normal_``), each from its member's generator."""
    out = []
    for scheme, g in zip(schemes, gens, strict=True):
        if scheme == "uniform":
            out.append(torch.rand(shape, generator=g, dtype=torch.float64))
        elif scheme == "normal":
            out.append(torch.randn(shape, generator=g, dtype=torch.float64))
        else:
            raise ValueError(f"unknown init {scheme!r}; choose from {INITS}")
    return torch.stack(out)


class EnsembleTverskyProjection(nn.Module):
    """S Tversky projection layers ``in_features → n_prototypes`` (contrast model), trained in lock-step.

    ``intersection``, ``difference``, ``n_features`` (active features; the bank is padded to the largest),
    ``init`` and ``normalize`` may be given per member. Each member draws its features, then its prototypes,
    from its own generator (``layers.generators(seeds)``).
    """

    def __init__(
        self,
        in_features: int,
        n_prototypes: int,
        seeds: Sequence[int],
        n_features: int | Sequence[int],
        intersection: str | Sequence[str] = "product",
        difference: str | Sequence[str] = "ignorematch",
        init: str | Sequence[str] = "uniform",
        normalize: bool | Sequence[bool] = False,
        theta: float = 1.0,
        alpha: float = 0.5,
        beta: float = 0.5,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        size = len(seeds)
        self.intersections = _per_member(intersection, size)
        self.differences = _per_member(difference, size)
        counts = _per_member(n_features, size)
        inits = _per_member(init, size)
        self.normalize = [bool(v) for v in _per_member(normalize, size)]
        for name, values, known in (
            ("intersection", self.intersections, INTERSECTIONS),
            ("difference", self.differences, DIFFERENCES),
            ("init", inits, INITS),
        ):
            if len(values) != size or not set(values) <= set(known):
                raise ValueError(f"{name}: need {size} values from {known}, got {values}")
        if len(self.normalize) != size:
            raise ValueError(f"normalize: need {size} flags, got {self.normalize}")
        if len(counts) != size or min(counts) < 1:
            raise ValueError(f"n_features: need {size} positive counts, got {counts}")
        width = max(counts)
        gens = layers.generators(seeds)
        features, prototypes = [], []
        for g, scheme, count in zip(gens, inits, counts, strict=True):
            # draw the member's own features, then pad: a member equals the layer built alone with its seed
            bank = init_bank((count, in_features), [scheme], [g])[0]
            features.append(torch.cat([bank, bank.new_zeros(width - count, in_features)]))
            prototypes.append(init_bank((n_prototypes, in_features), [scheme], [g])[0])

        def as_param(t: Tensor) -> nn.Parameter:
            return nn.Parameter(t.to(device=device, dtype=dtype))

        self.features = as_param(torch.stack(features))  # (S, K, d)
        self.prototypes = as_param(torch.stack(prototypes))  # (S, P, d)
        self.theta = as_param(torch.full((size,), theta))
        self.alpha = as_param(torch.full((size,), alpha))
        self.beta = as_param(torch.full((size,), beta))
        mask = torch.arange(width).unsqueeze(0) < torch.tensor(counts).unsqueeze(1)
        self.register_buffer("mask", mask.to(device=device, dtype=dtype))
        # members sharing their reductions, evaluated together on a slice of the parameters
        groups: dict[tuple[str, str, bool], list[int]] = {}
        for s, key in enumerate(zip(self.intersections, self.differences, self.normalize, strict=True)):
            groups.setdefault(key, []).append(s)
        self.groups = {k: torch.tensor(v, device=device) for k, v in groups.items()}

    @property
    def size(self) -> int:
        return self.features.shape[0]

    def forward(self, x: Tensor) -> Tensor:
        """x (B, d) shared or (S, B, d) → similarities to the prototypes (S, B, P), the layer's logits."""
        parts, order = [], []
        for (inter, diff, normalize), idx in self.groups.items():
            xs = x if x.dim() == 2 else x.index_select(0, idx)
            parts.append(
                contrast_similarity(
                    xs,
                    self.prototypes.index_select(0, idx),
                    self.features.index_select(0, idx),
                    self.alpha.index_select(0, idx),
                    self.beta.index_select(0, idx),
                    self.theta.index_select(0, idx),
                    inter,
                    diff,
                    self.mask.index_select(0, idx),
                    normalize,
                )
            )
            order.append(idx)
        out = torch.cat(parts)
        return out.index_select(0, torch.argsort(torch.cat(order)))


def linear_baseline(
    in_features: int,
    out_features: int,
    seeds: Sequence[int],
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> layers.EnsembleMLP:
    """S linear layers with bias and PyTorch's default nn.Linear init (U(±1/√fan_in) for weight and bias)."""
    return layers.EnsembleMLP(
        [in_features, out_features],
        seeds,
        activation="linear",
        init="uniform_fan_in",
        bias=True,
        bias_init="uniform",
        dtype=dtype,
        device=device,
    )
