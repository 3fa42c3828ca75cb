"""Boundary pixels of a binary image and their box-counting dimension (numpy only).

Edges follow the official ``extract_edges`` (Sohl-Dickstein/fractal notebook): a pixel of the (H−1, W−1) edge
image is set where its 2×2 neighbourhood in the trainability image contains both converged and diverged pixels
(the official code tests a sign change of the convergence measure). The official dimension is the median of
porespy's local box-count slopes; we fit one least-squares line to log N(s) against log(1/s) over box sizes
s = 1, 2, 4, … up to a quarter of the image side (at least 4 × 4 boxes at the largest size), which is steadier
on 128² images (porespy's reads a circle as 1.27 and a line as 0.85 there).

Validation on known sets at 128² (tests): straight lines, a circle and a gentle sinusoid read 0.95–1.02, below
the study's fractal threshold 1.05; known fractals read low but above it — Koch snowflake 1.18 (true 1.26),
level sets of fractional Brownian surfaces 1.38 and 1.57 (true 1.5 and 1.8) — since the smallest boxes see the
pixelised boundary as a line. Several smooth components close together read above 1.05 at scales above their
spacing (parallel stripes 20 px apart: 1.14), which is why the study counts only zooms centred on a boundary
point, where a smooth boundary is a near-straight line.
"""

from __future__ import annotations

import math

import numpy as np

from reprosuite.metrics import curves


def boundary(image: np.ndarray) -> np.ndarray:
    """(H−1, W−1) bool: 2×2 windows of the binary ``image`` that contain both values."""
    img = np.asarray(image, dtype=bool)
    if img.ndim != 2 or min(img.shape) < 2:
        raise ValueError(f"need a 2-D image of at least 2×2 pixels, got shape {img.shape}")
    win = np.stack([img[1:, 1:], img[:-1, 1:], img[1:, :-1], img[:-1, :-1]])
    return win.any(0) & ~win.all(0)


def box_sizes(shape: tuple[int, int], min_boxes: int = 4) -> list[int]:
    """Powers of two from 1 while the image still spans at least ``min_boxes`` boxes per side."""
    side = min(shape)
    return [2**k for k in range(int(math.log2(max(side, 1))) + 1) if side / 2**k >= min_boxes]


def box_counts(edges: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Number of s×s boxes (tiling from the origin, partial boxes at the far edges included) holding an edge."""
    e = np.asarray(edges, dtype=bool)
    counts = []
    for s in sizes:
        h, w = -(-e.shape[0] // s) * s, -(-e.shape[1] // s) * s
        padded = np.zeros((h, w), dtype=bool)
        padded[: e.shape[0], : e.shape[1]] = e
        counts.append(int(padded.reshape(h // s, s, w // s, s).any(axis=(1, 3)).sum()))
    return np.asarray(counts)


def box_dimension(edges: np.ndarray, min_boxes: int = 4) -> float:
    """Least-squares slope of log N(s) against log(1/s); NaN when fewer than 2 sizes hold an edge."""
    sizes = box_sizes(np.shape(edges), min_boxes)
    counts = box_counts(edges, sizes)
    keep = counts > 0
    return curves.loglog_slope(1.0 / np.asarray(sizes, dtype=float)[keep], counts[keep])


def image_dimension(converged: np.ndarray, min_boxes: int = 4) -> float:
    """Box-counting dimension of the trainability boundary of a converged/diverged image."""
    return box_dimension(boundary(converged), min_boxes)
