"""Spectral and compression complexity of functions sampled on a 2-D grid (numpy only).

:func:`mean_frequency_2d` follows the official Neural Redshift code (ArmandNM/neural-redshift,
``inductive_biases/spectral_analysis.py::get_mean_frequency_2d`` and its caller in ``scripts/visualization.py``):
|rfft2| of the sampled function, the constant term zeroed, only the first H//2 + 1 rows kept (non-negative
frequencies along the first axis), magnitudes summed into radial bins ``round(√(i² + j²))``, the 0 bin dropped,
normalised to sum 1, and the mean bin divided by the largest bin ``round(√((H//2)² + (W//2)²))``. A pure cosine
of k cycles along one axis of an N×N grid therefore has mean frequency k / round(√2 · N/2).

:func:`lempel_ziv` is the official ``inductive_biases/complexity.py::lempel_ziv_complexity`` (the number of
distinct phrases met when scanning the sequence, each new phrase the shortest not seen before).
"""

from __future__ import annotations

import math

import numpy as np


def mean_frequency_2d(f: np.ndarray) -> np.ndarray | float:
    """Mean frequency of the function(s) ``f`` (..., H, W); NaN for a constant function."""
    f = np.asarray(f, dtype=float)
    if f.ndim < 2:
        raise ValueError(f"need samples on a 2-D grid, got shape {f.shape}")
    coeff = np.abs(np.fft.rfft2(f))
    coeff[..., 0, 0] = 0.0
    coeff = coeff[..., : coeff.shape[-2] // 2 + 1, :]
    du, dv = coeff.shape[-2:]
    max_freq = round(math.sqrt((du - 1) ** 2 + (dv - 1) ** 2))
    i, j = np.indices((du, dv))
    bins = np.rint(np.sqrt(i**2 + j**2)).astype(int).ravel()
    flat = coeff.reshape(*coeff.shape[:-2], du * dv)
    onehot = np.zeros((du * dv, max_freq + 1))
    onehot[np.arange(du * dv), bins] = 1.0
    radial = flat @ onehot  # (..., max_freq + 1)
    radial[..., 0] = 0.0
    total = radial.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (radial * np.arange(max_freq + 1)).sum(-1) / total / max_freq
    return float(mean) if np.ndim(mean) == 0 else mean


def lempel_ziv(sequence) -> int:
    """Number of distinct phrases of ``sequence`` (official ``lempel_ziv_complexity``)."""
    seq = bytes(np.asarray(sequence, dtype=np.uint8).ravel()) if not isinstance(sequence, bytes) else sequence
    phrases: set[bytes] = set()
    ind, inc, n = 0, 1, len(seq)
    while ind + inc <= n:
        phrase = seq[ind : ind + inc]
        if phrase in phrases:
            inc += 1
        else:
            phrases.add(phrase)
            ind += inc
            inc = 1
    return len(phrases)


def binarise(f: np.ndarray) -> np.ndarray:
    """Bits (row-major) of ``f`` thresholded at its median (ours: the threshold is not in the official code)."""
    f = np.asarray(f, dtype=float).ravel()
    return (f > np.median(f)).astype(np.uint8)


def lz_complexity(f: np.ndarray) -> float:
    """LZ phrase count of the median-binarised function, normalised by n / log2 n (0.26 for a constant, ≈ 1.6 for 4096 random bits)."""
    bits = binarise(f)
    n = bits.size
    return lempel_ziv(bits) / (n / math.log2(n))
