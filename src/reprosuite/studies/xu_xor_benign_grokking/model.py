"""XOR cluster data with flipped labels and the two-layer ReLU net of Xu, Wang, Frei, Vardi, Hu 2023.

Data (arXiv:2310.02541 §2): four Gaussian clusters in R^d with means ±μ1 (clean label +1) and ±μ2 (clean
label −1), μ1 ⊥ μ2, ‖μ1‖ = ‖μ2‖; x = (cluster mean) + ξ, ξ ~ N(0, I_d); each training label is flipped
independently with probability η. The net is f(x) = Σ_j a_j ReLU(⟨w_j, x⟩) with a fixed readout
a_j ∈ {±1/√m} and a trainable first layer initialised i.i.d. N(0, ω²), trained by full-batch GD on the logistic
loss (1/n) Σ_i log(1 + exp(−ỹ_i f(x_i))).

The sampler is numpy only (light jobs may import this module); the network functions import torch inside, and
are batched over ensemble members (seeds): weights (S, m, d), readouts (S, m), inputs (S, B, d) or (B, d).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DATA_STREAM = 104_729  # tags the data-sampling stream of a seed, apart from its initialisation stream


def cluster_means(d: int, norm: float) -> np.ndarray:
    """(2, d): μ1 = norm·e1, μ2 = norm·e2 (orthogonal, equal norms; the noise is isotropic, so any orthogonal
    pair gives the same distribution up to rotation)."""
    if d < 2:
        raise ValueError(f"need d >= 2 for two orthogonal means, got {d}")
    mu = np.zeros((2, d))
    mu[0, 0] = norm
    mu[1, 1] = norm
    return mu


LABELS = ("xor", "linear", "random")


def sample(
    mu: np.ndarray, n: int, flip: float, rng: np.random.Generator, labels: str = "xor"
) -> dict[str, np.ndarray]:
    """``n`` points of cluster data around ``mu`` (2, d).

    ``labels``: ``xor`` (the paper's: ±μ1 → +1, ±μ2 → −1), ``linear`` (+μ1, +μ2 → +1 and −μ1, −μ2 → −1: the
    same clusters, linearly separable) or ``random`` (observed labels independent of x; ``y`` stays the XOR
    label). Returns ``x`` (n, d) float64, ``y`` clean labels (±1), ``y_noisy`` observed labels (±1),
    ``flipped`` (bool: observed ≠ clean) and ``cluster`` in {0, 1, 2, 3} for +μ1, −μ1, +μ2, −μ2.
    """
    if not 0.0 <= flip < 0.5:
        raise ValueError(f"flip probability must be in [0, 0.5), got {flip}")
    if labels not in LABELS:
        raise ValueError(f"labels must be one of {LABELS}, got {labels!r}")
    d = mu.shape[1]
    cluster = rng.integers(0, 4, size=n)
    sign = np.where(cluster % 2 == 0, 1.0, -1.0)
    means = mu[cluster // 2] * sign[:, None]
    x = means + rng.standard_normal((n, d))
    y = sign if labels == "linear" else np.where(cluster < 2, 1.0, -1.0)
    flipped = rng.random(n) < flip
    noisy = np.where(flipped, -y, y)
    if labels == "random":  # drawn after the paper's draws, so x and the flips match the XOR data's
        noisy = rng.choice([-1.0, 1.0], size=n)
        flipped = noisy != y
    return {"x": x, "y": y, "y_noisy": noisy, "flipped": flipped, "cluster": cluster}


def data_rng(seed: int) -> np.random.Generator:
    """The data generator of one seed (train and test sets are drawn from it, in that order)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), DATA_STREAM]))


# --- the network (torch imported inside) ------------------------------------------------------------------


def init_params(seeds: Sequence[int], m: int, d: int, init_std: float, dtype=None, device="cpu"):
    """First layer W (S, m, d) ~ N(0, init_std²) with ``requires_grad`` and fixed readout a (S, m) ∈ {±1/√m}.

    Each member's signs and weights come from its own seed (:func:`reprosuite.engine.models.layers.generators`); the
    signs are i.i.d. uniform, then W, so a member equals a single net built from that seed. W is drawn in float64
    (:func:`~reprosuite.engine.models.layers.init_weight`) one member at a time and cast into the (S, m, d) tensor:
    the same values as casting the stacked draw, without the 2·S·m·d float64 numbers (the draws and their stack)
    that drawing all members at once holds (64 GB for 100 members at m 1000, d 40000).
    """
    import torch

    from reprosuite.engine.models import layers

    dtype = dtype or torch.float32
    gens = layers.generators(seeds)
    signs = torch.stack([2.0 * torch.randint(0, 2, (m,), generator=g).double() - 1.0 for g in gens])
    w = torch.empty((len(gens), m, d), dtype=dtype, device=device)
    for i, g in enumerate(gens):
        w[i] = layers.init_weight((m, d), "gaussian", [g], init_std)[0]
    a = signs / m**0.5
    return w.requires_grad_(True), a.to(device=device, dtype=dtype)


def forward(w, a, x):
    """f(x) per member: x (B, d) shared or (S, B, d) → (S, B)."""
    import torch

    h = torch.relu(torch.matmul(x, w.transpose(-1, -2)))  # (S, B, m)
    return torch.matmul(h, a.unsqueeze(-1)).squeeze(-1)


def logistic_loss(f, y):
    """(1/B) Σ log(1 + exp(−y f)) per member; f (S, B), y (B,) or (S, B) in {±1}."""
    import torch

    return torch.nn.functional.softplus(-y * f).mean(dim=-1)


def sign_accuracy(f, y, mask=None):
    """Fraction of sign(f) == y per member (f = 0 counts as wrong); with ``mask`` (B,) or (S, B), over it only."""
    correct = ((f * y) > 0).to(f.dtype)
    if mask is None:
        return correct.mean(dim=-1)
    mask = mask.to(f.dtype).expand_as(correct)
    return (correct * mask).sum(dim=-1) / mask.sum(dim=-1)
