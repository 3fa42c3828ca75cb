"""Closed-form gradient descent of the projected linear random-feature model (numpy, float64).

Model (Bordelon, Atanasov, Pehlevan 2024, §2): features ψ ∈ R^M with covariance diag(λ), target y = w*·ψ,
student f = w·Aψ/√N with A ∈ R^{N×M} iid N(0, 1), w₀ = 0, gradient descent w ← w − η(Kw − h) on the
population loss (K = AΛAᵀ/N, h = AΛw*/√N). In K's eigenbasis (μ_i, u_i), with c_i = u_iᵀh,

    L(t, N) = L₀ − Σ_i (c_i²/μ_i) (1 − (1 − ημ_i)^{2t}),     L₀ = Σ_k λ_k w*_k²,

so one N×N eigendecomposition gives a whole loss curve. The first N rows of one A at N_max give K_N as the
leading block of one Gram matrix G = AΛAᵀ, so a single matrix product serves every width (nested projections).
Finite data with N = ∞ is kernel gradient descent on the P×P Gram matrix ΨΨᵀ/P, in closed form likewise.
"""

from __future__ import annotations

import math

import numpy as np

TINY = 1e-300


def spectrum(m: int, b: float, kind: str = "power", scale: float = 50.0) -> np.ndarray:
    """λ_k = k^−b (the paper's power law) or e^{−(k−1)/scale}/scale (our exponential control, trace ≈ 1)."""
    k = np.arange(1, m + 1, dtype=np.float64)
    return k**-b if kind == "power" else np.exp(-(k - 1) / scale) / scale


def target(m: int, a: float, b: float, kind: str, seed: int) -> np.ndarray:
    """w*_k = ±k^−(a−b)/2 (task power λ_k w*_k² = k^−a) with random signs; ±1 for the exponential control."""
    k = np.arange(1, m + 1, dtype=np.float64)
    signs = np.random.default_rng([seed, 7]).integers(0, 2, m) * 2.0 - 1.0
    return signs * (k ** (-(a - b) / 2) if kind == "power" else 1.0)


def gram(n: int, weights: np.ndarray, vector: np.ndarray, seed: tuple, block: int, on_block=None):
    """(Z diag(weights) Zᵀ, Z (weights ∘ vector)) for Z ∈ R^{n×M} iid N(0, 1), generated in column blocks from
    per-block seeds (the n×M matrix is never held). The leading n' rows of Z are those of any n' ≤ n."""
    return grams(n, [(weights, vector)], seed, block, on_block)[0]


def grams(n: int, pairs, seed: tuple, block: int, on_block=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``gram`` for several (weights, vector) pairs on the same Z, drawing Z once."""
    m = len(pairs[0][0])
    out = [[np.zeros((n, n)), np.zeros(n)] for _ in pairs]
    for j, start in enumerate(range(0, m, block)):
        stop = min(start + block, m)
        z = np.random.default_rng([*seed, j]).standard_normal((n, stop - start))
        for acc, (weights, vector) in zip(out, pairs, strict=True):
            w = weights[start:stop]
            zs = z * np.sqrt(w)
            acc[0] += zs @ zs.T
            acc[1] += z @ (w * vector[start:stop])
        if on_block is not None:
            on_block()
    return [((g + g.T) / 2, v) for g, v in out]


def modes(g: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues μ of K_N = G[:N, :N]/N and the squared projections c² of h = v[:N]/√N."""
    mu, u = np.linalg.eigh(g[:n, :n] / n)
    c2 = (u.T @ (v[:n] / math.sqrt(n))) ** 2
    return mu, c2


def _decay(mu: np.ndarray, lr: float, t: np.ndarray) -> np.ndarray:
    """(1 − ημ)^{2t}, shape (T, modes); any real t ≥ 0 (integer t are the GD iterates)."""
    r = np.abs(1.0 - lr * mu)
    if (lr * mu >= 2.0).any():
        raise ValueError(f"learning rate {lr} is unstable: η·μ_max = {float(lr * mu.max()):.3g} ≥ 2")
    return np.exp(2.0 * np.asarray(t, dtype=np.float64)[:, None] * np.log(np.maximum(r, TINY))[None, :])


def loss_curve(mu, c2, l0: float, lr: float, t) -> np.ndarray:
    """L(t, N) for every t (population loss of the GD iterate t)."""
    mu = np.maximum(mu, TINY)
    gain = c2 / mu
    return l0 - (gain[None, :] * (1.0 - _decay(mu, lr, t))).sum(1)


def loss_limit(mu, c2, l0: float) -> float:
    """L(t → ∞, N): the population loss of the converged (minimum-norm) solution."""
    keep = mu > 1e-12 * mu.max()
    return float(l0 - (c2[keep] / mu[keep]).sum())


def loss_infinite_width(lam, wstar, lr: float, t) -> np.ndarray:
    """L(t, N = ∞) = Σ_k λ_k w*_k² (1 − ηλ_k)^{2t}."""
    return (_decay(lam, lr, t) * (lam * wstar**2)[None, :]).sum(1)


def explicit_gd(g, v, n: int, l0: float, lr: float, steps: int) -> np.ndarray:
    """The same losses from explicit gradient-descent steps w ← w − η(Kw − h) (the B0 check)."""
    k, h = g[:n, :n] / n, v[:n] / math.sqrt(n)
    w = np.zeros(n)
    out = []
    for _ in range(steps + 1):
        out.append(w @ k @ w - 2 * w @ h + l0)
        w = w - lr * (k @ w - h)
    return np.array(out)


# ---------------------------------------------------------------------------------------------------- finite data
def data_modes(lam, wstar, p: int, seed: tuple, block: int, on_block=None):
    """N = ∞, P samples ψ = Λ^{1/2} z: eigenpairs (ν, V) of ΨΨᵀ/P, d = Vᵀy, and VᵀΨΛΨᵀV, VᵀΨΛw* for the
    test loss. Nested in P like ``gram``."""
    ws = wstar / np.sqrt(lam)
    # ΨΨᵀ = ZΛZᵀ with y = ZΛ^{1/2}w* = Ψw*, and ΨΛΨᵀ = ZΛ²Zᵀ with ΨΛw* = ZΛ^{3/2}w*
    (gp, y), (s, q) = grams(p, [(lam, ws), (lam**2, ws)], seed, block, on_block)
    return gp, y, s, q


def data_curves(gp, y, s, q, p: int, l0: float, lr: float, t=None):
    """(test, train) losses of kernel GD on the first p samples at every t (None: not computed), and the
    t → ∞ test loss (the minimum-norm interpolator)."""
    nu, v = np.linalg.eigh(gp[:p, :p] / p)
    nu = np.maximum(nu, TINY)
    d = v.T @ y[:p]
    st = v.T @ s[:p, :p] @ v / p**2
    qt = v.T @ q[:p] / p
    keep = nu > 1e-12 * nu.max()
    c_inf = np.where(keep, d / nu, 0.0)
    test_inf = float(c_inf @ st @ c_inf - 2 * c_inf @ qt + l0)
    if t is None:
        return None, None, test_inf
    decay = _decay(nu, lr, np.asarray(t, dtype=np.float64) / 2.0)  # (1 − ην)^t
    coef = (1.0 - decay) * (d / nu)[None, :]
    test = ((coef @ st) * coef).sum(1) - 2 * coef @ qt + l0
    train = (decay**2 * d[None, :] ** 2).sum(1) / p
    return test, train, test_inf


def explicit_kernel_gd(gp, y, s, q, p: int, l0: float, lr: float, steps: int) -> np.ndarray:
    """Test losses of explicit kernel GD β ← β − η(Gβ − y) on p samples (the B0 check of ``data_curves``)."""
    g = gp[:p, :p] / p
    beta = np.zeros(p)
    out = []
    for _ in range(steps + 1):
        out.append(beta @ s[:p, :p] @ beta / p**2 - 2 * beta @ q[:p] / p + l0)
        beta = beta - lr * (g @ beta - y[:p])
    return np.array(out)
