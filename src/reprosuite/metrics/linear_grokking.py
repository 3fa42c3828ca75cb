"""Linear teacher–student grokking (Levi, Beck, Bar-Sinai 2023, arXiv:2310.16441), in numpy.

Model: inputs x ~ N(0, I_d), teacher T and student S (d × d_out), both drawn N(0, v) with v = 1/(2 d d_out);
loss L = tr(DᵀΣD)/d_out with D = S − T and Σ = XᵀX/N the empirical covariance; the generalisation loss is
‖D‖²_F/d_out (population covariance I). Full-batch gradient descent with learning rate η and coupled weight decay
γ (``torch.optim.SGD(weight_decay=γ)``): S ← S − η(2ΣD/d_out + γS).

In the eigenbasis of Σ (eigenvalue σ) every entry of D evolves independently:
D(t) = −T (c + (1 − c) qᵗ) + S₀ qᵗ with q = 1 − η(2σ/d_out + γ) and c = γ/(2σ/d_out + γ), so averaged over
isotropic T and S₀ the two losses are, per unit of the spectral measure μ,

    L_gen(t) = ∫ dμ(σ) [(c + (1 − c) qᵗ)² + q^{2t}] / (2 d_out),     L_train(t) = ∫ dμ(σ) σ [ … ] / (2 d_out).

μ is the Marchenko–Pastur law of ratio λ = d/N in the proportional limit (the paper's route), or the empirical
spectrum of one training set (1/d on each eigenvalue of Σ; exact for that set, averaged over teachers).

Accuracy: a sample counts as correct when its error ‖Dᵀx‖²/d_out is below ε. For Gaussian residuals the error
is L·χ²_{d_out}/d_out, so accuracy = P(χ²_{d_out} < d_out ε / L) (for d_out = 1, erf(√(ε/2L)), the paper's
accuracy formula as quoted by the replication Mabdel-03/9.520-The-Geometry-of-Grok); an accuracy level A is
reached when L falls below L* = d_out ε / (2 P⁻¹(d_out/2, A)), the same loss level for train and test. The train
and test times are the first steps at which each loss crosses L*; their ratio is the predicted delay.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reprosuite.metrics import stats


def mp_quadrature(lam: float, nodes: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Nodes σ and weights (summing to 1) of the Marchenko–Pastur law with ratio ``lam`` = d/N < 1.

    Density ρ(σ) = √((b − σ)(σ − a)) / (2π λ σ) on [a, b] = [(1 − √λ)², (1 + √λ)²] (unit-variance inputs);
    Gauss–Chebyshev nodes of the second kind absorb the square-root edges.
    """
    if not 0 < lam < 1:
        raise ValueError(f"Marchenko–Pastur quadrature needs 0 < λ < 1, got {lam}")
    a, b = (1 - np.sqrt(lam)) ** 2, (1 + np.sqrt(lam)) ** 2
    theta = np.pi * np.arange(1, nodes + 1) / (nodes + 1)
    sigma = (a + b) / 2 - (b - a) / 2 * np.cos(theta)
    # ∫ f(σ) √((b−σ)(σ−a)) dσ ≈ Σ w_k f(σ_k) with w_k = π/(n+1) · ((b−a)/2)² sin²θ_k
    weights = np.pi / (nodes + 1) * ((b - a) / 2) ** 2 * np.sin(theta) ** 2 / (2 * np.pi * lam * sigma)
    return sigma, weights / weights.sum()


def empirical_measure(eigenvalues: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The spectral measure of one empirical covariance: weight 1/d on each of its d eigenvalues."""
    sigma = np.asarray(eigenvalues, dtype=float)
    return sigma, np.full(sigma.shape, 1.0 / sigma.size)


def predicted_losses(
    steps: np.ndarray,
    measure: tuple[np.ndarray, np.ndarray],
    lr: float,
    weight_decay: float = 0.0,
    d_out: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected (train, generalisation) loss after ``steps`` gradient-descent steps (module docstring)."""
    sigma, weight = measure
    t = np.asarray(steps, dtype=float)[:, None]
    rate = 2 * sigma / d_out + weight_decay
    q = 1 - lr * rate
    if np.any(np.abs(q[rate > 0]) >= 1):
        raise ValueError(f"learning rate {lr} is unstable for eigenvalues up to {sigma.max():.3g}")
    c = np.divide(weight_decay, rate, out=np.ones_like(rate), where=rate > 0)
    qt = np.sign(q) ** t * np.abs(q) ** t
    per_mode = 0.5 / d_out * ((c + (1 - c) * qt) ** 2 + qt**2)  # (T, modes); v·d_in = 1/(2 d_out)
    return per_mode @ (weight * sigma), per_mode @ weight


def loss_level(eps: float, level: float, d_out: int = 1) -> float:
    """The loss L* at which Gaussian-residual accuracy (error < ε) equals ``level``."""
    from scipy.special import gammaincinv

    if not 0 < level < 1:
        raise ValueError(f"accuracy level must lie in (0, 1), got {level}")
    return d_out * eps / (2 * float(gammaincinv(d_out / 2, level)))


def gaussian_accuracy(loss: np.ndarray, eps: float, d_out: int = 1) -> np.ndarray:
    """Fraction of samples with error < ε when residuals are Gaussian with mean error ``loss``."""
    from scipy.special import gammainc

    loss = np.asarray(loss, dtype=float)
    return gammainc(d_out / 2, d_out * eps / (2 * np.maximum(loss, 1e-300)))


def predicted_times(
    measure: tuple[np.ndarray, np.ndarray],
    eps: float,
    level: float,
    lr: float,
    weight_decay: float = 0.0,
    d_out: int = 1,
    max_steps: int = 10**6,
) -> tuple[float, float]:
    """First steps (train, test) at which the expected loss reaches L*(ε, level); ``inf`` if not by max_steps."""
    target = loss_level(eps, level, d_out)
    out = []
    for which in (0, 1):

        def loss(t: int, which=which) -> float:
            return float(predicted_losses(np.array([t]), measure, lr, weight_decay, d_out)[which][0])

        if loss(max_steps) > target:
            out.append(np.inf)
            continue
        lo, hi = 0, max_steps  # loss(lo) > target >= loss(hi): losses decrease monotonically in t
        if loss(0) <= target:
            out.append(0.0)
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if loss(mid) > target else (lo, mid)
        out.append(float(hi))
    return out[0], out[1]


def max_relative_increase(values: np.ndarray) -> float:
    """max_t (v[t+1] − v[t]) / v[t] over consecutive entries (≤ 0 for a non-increasing sequence)."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return 0.0
    return float(np.max((v[1:] - v[:-1]) / np.abs(v[:-1])))


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation over the pairs without a NaN (:func:`reprosuite.metrics.stats.spearman`)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    return stats.spearman(x[keep], y[keep])
