"""Neural-collapse metrics and the deep-linear closed form (Dang et al. 2023, arXiv:2301.00437), in numpy.

Conventions follow the official code (Fsoft-AIC/Neural-Collapse-in-Deep-Linear-Networks,
``synthetic_experiment_balanced.py`` / ``synthetic_experiment_imbalanced.py``): features are rows, ``(N, d)``;
a classifier is ``(K, d)`` (for a deep linear net, the product ``W_M ... W_m``); class means are ``(K, d)``
and the global mean is the sample-weighted mean of all features.

- NC1 = tr(Σ_W Σ_B⁺)/K with Σ_W = Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ/N and
  Σ_B = Σ_k (μ_k − μ_G)(μ_k − μ_G)ᵀ/K.
- NC2 = ‖WWᵀ/‖WWᵀ‖_F − T/‖T‖_F‖_F and NC3 = ‖WH̄/‖WH̄‖_F − T/‖T‖_F‖_F for a target Gram T: the orthogonal frame
  I (bias-free, balanced), the simplex ETF I − 11ᵀ/K (last-layer bias; NC3 then uses centred means), or the
  imbalanced closed form diag(s_k^{2M}) (NC2) and diag(s_k^{2M}/(s_k^{2M} + Nλ_H)) (NC3).
- The closed form is the official ``compute_s``: x_k is the largest root of b/n_k = M x^{M−1}/(x^M + 1)² with
  b = M N (N λ_W^M λ_H)^{1/M}, and s_k = (N λ_H x_k^M)^{1/(2M)}; no positive root means s_k = 0 (the class
  collapses to zero, as the official imbalanced script clamps negative roots). s_k is the k-th singular value
  of every layer, so row k of W_M ⋯ W_1 has norm s_k^M and class mean k has norm s_k^M/(s_k^{2M} + Nλ_H).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def class_means(features: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Class means (K, d) and the sample-weighted global mean (d,) of features (N, d)."""
    counts = np.bincount(labels, minlength=n_classes)
    if (counts == 0).any():
        raise ValueError(f"every class needs a sample; counts {counts.tolist()}")
    onehot = labels[:, None] == np.arange(n_classes)  # (N, K)
    return onehot.T @ features / counts[:, None], features.mean(axis=0)


def nc1(features: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """tr(Σ_W Σ_B⁺)/K: within-class variability relative to the spread of the class means.

    With C the centred means (K, d), Σ_B = CᵀC/K has Σ_B⁺ = K·C⁺C⁺ᵀ, so NC1 = ‖(H − M_y) C⁺‖²_F / N:
    no d × d pseudo-inverse. Singular values of C below √(d·eps)·max are dropped, which is the eigenvalue
    cutoff d·eps·max of ``scipy.linalg.pinv(Σ_B)`` in the official code.
    """
    means, mu_g = class_means(features, labels, n_classes)
    dev = features - means[labels]  # (N, d)
    centred = means - mu_g  # (K, d)
    c_pinv = np.linalg.pinv(centred, rcond=np.sqrt(features.shape[1] * np.finfo(float).eps))  # (d, K)
    return float(np.sum((dev @ c_pinv) ** 2) / len(features))  # the factor K of Σ_B⁺ cancels the 1/K


def orthogonal_frame(n_classes: int) -> np.ndarray:
    return np.eye(n_classes)


def simplex_etf(n_classes: int) -> np.ndarray:
    return np.eye(n_classes) - np.ones((n_classes, n_classes)) / n_classes


def gram_distance(gram: np.ndarray, target: np.ndarray) -> float:
    """‖G/‖G‖_F − T/‖T‖_F‖_F: 0 when G is a positive multiple of T; at most 2."""
    return float(np.linalg.norm(gram / np.linalg.norm(gram) - target / np.linalg.norm(target)))


def nc2(classifier: np.ndarray, target: np.ndarray) -> float:
    """Distance of the classifier Gram WWᵀ (K, K) from the target frame."""
    return gram_distance(classifier @ classifier.T, target)


def nc3(classifier: np.ndarray, means: np.ndarray, target: np.ndarray) -> float:
    """Distance of W H̄ (entry (k, j) = w_k·h̄_j) from the target; give centred means for the ETF (bias)."""
    return gram_distance(classifier @ means.T, target)


def _profile(x: float, depth: int) -> float:
    """M x^{M−1}/(x^M + 1)²: the right-hand side of the official ``compute_x`` equation."""
    return depth * x ** (depth - 1) / (x**depth + 1) ** 2


def closed_form_x(class_sizes: Sequence[int], depth: int, lambda_w: float, lambda_h: float) -> np.ndarray:
    """x_k: the largest root of b/n_k = M x^{M−1}/(x^M + 1)² (official ``compute_x``), 0 if there is none."""
    from scipy.optimize import brentq

    n = float(sum(class_sizes))
    b = depth * n * (n * lambda_w**depth * lambda_h) ** (1.0 / depth)
    # the profile peaks at x^M = (M−1)/(M+1) and decreases after it, so the largest root lies past the peak
    peak = ((depth - 1) / (depth + 1)) ** (1.0 / depth)
    out = np.zeros(len(class_sizes))
    for k, n_k in enumerate(class_sizes):
        level = b / n_k
        if _profile(peak, depth) <= level:
            continue
        hi = max(2 * peak, 1.0)
        while _profile(hi, depth) > level:
            hi *= 2
        out[k] = brentq(lambda x, c: _profile(x, depth) - c, peak, hi, args=(level,), xtol=1e-15, rtol=1e-14)
    return out


def closed_form_s(class_sizes: Sequence[int], depth: int, lambda_w: float, lambda_h: float) -> np.ndarray:
    """s_k = (N λ_H x_k^M)^{1/(2M)}, the singular values of every layer at the global minimum."""
    x = closed_form_x(class_sizes, depth, lambda_w, lambda_h)
    return (sum(class_sizes) * lambda_h * x**depth) ** (1.0 / (2 * depth))


def closed_form_norms(
    class_sizes: Sequence[int], depth: int, lambda_w: float, lambda_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Row norms of W_M ⋯ W_1 (s_k^M) and class-mean norms of H (s_k^M/(s_k^{2M} + Nλ_H)) at the minimum."""
    s_m = closed_form_s(class_sizes, depth, lambda_w, lambda_h) ** depth
    return s_m, s_m / (s_m**2 + sum(class_sizes) * lambda_h)


def closed_form_targets(
    class_sizes: Sequence[int], depth: int, lambda_w: float, lambda_h: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """Target Grams: diag(s^{2(M−m+1)}) for W_M ⋯ W_m, m = 1..M (NC2), and diag(s^{2M}/(s^{2M}+Nλ_H)) (NC3).

    Balanced classes give equal s_k, so the targets reduce to the orthogonal frame.
    """
    s = closed_form_s(class_sizes, depth, lambda_w, lambda_h)
    nc2_targets = [np.diag(s ** (2 * (depth - m + 1))) for m in range(1, depth + 1)]
    s2m = s ** (2 * depth)
    return nc2_targets, np.diag(s2m / (s2m + sum(class_sizes) * lambda_h))


def size_rank_correlation(values: Sequence[float], class_sizes: Sequence[int]) -> float:
    """Spearman ρ between class size and ``values`` averaged over classes of equal size.

    Classes of equal size have equal theoretical values, so they are pooled: ρ = +1 exactly when the values
    strictly increase with class size. Ranks are small integers, so a perfect order gives exactly 1.0.
    """
    sizes = np.asarray(class_sizes)
    values = np.asarray(values, dtype=float)
    groups = np.unique(sizes)
    if len(groups) < 2:
        return float("nan")
    pooled = np.array([values[sizes == g].mean() for g in groups])
    rx = np.argsort(np.argsort(groups)).astype(float)
    ry = np.argsort(np.argsort(pooled)).astype(float)
    rx -= rx.mean()
    ry -= ry.mean()
    return float((rx * ry).sum() / np.sqrt((rx**2).sum() * (ry**2).sum()))
