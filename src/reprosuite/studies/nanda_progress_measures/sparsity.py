"""Sparsity of a Fourier spectrum (numpy only): Gini coefficient and the number of frequencies carrying a share.

Used on the per-frequency energies of an embedding (Nanda et al. 2023, arXiv:2301.05217: the embedding of the
grokked model is sparse in the Fourier basis).
"""

from __future__ import annotations

import numpy as np


def gini(x: np.ndarray) -> np.ndarray:
    """Gini coefficient of non-negative values along the last axis (Hurley & Rickard 2009):
    ``1 − 2 Σ_k (c_(k)/‖c‖₁)·(N − k + ½)/N`` over the ascending values c_(1) ≤ … ≤ c_(N).

    0 when all values are equal, 1 − 1/N when one value holds everything; NaN for an all-zero vector.
    """
    c = np.sort(np.asarray(x, dtype=float), axis=-1)
    if (c < 0).any():
        raise ValueError("gini needs non-negative values")
    n = c.shape[-1]
    k = np.arange(1, n + 1)
    total = c.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = c / total
    return 1 - 2 * np.sum(share * (n - k + 0.5) / n, axis=-1)


def count_for_share(energy: np.ndarray, share: float = 0.9) -> np.ndarray:
    """The fewest entries (largest first) whose sum reaches ``share`` of the total, along the last axis."""
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share}")
    e = -np.sort(-np.asarray(energy, dtype=float), axis=-1)
    if (e < 0).any():
        raise ValueError("count_for_share needs non-negative values")
    cum = np.cumsum(e, axis=-1)
    total = cum[..., -1:]
    # a tiny tolerance so that an exact share (e.g. 9 equal entries of 10 at 0.9) counts as reached
    reached = cum >= share * total * (1 - 1e-12)
    return np.argmax(reached, axis=-1) + 1
