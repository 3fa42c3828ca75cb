"""Closed-form in-context regression baselines and the comparison metrics of Akyürek et al. 2022.

Akyürek, Schuurmans, Andreas, Ma, Zhou, "What learning algorithm is in-context learning? Investigations with
linear models", ICLR 2023, arXiv:2211.15661 (official code: github.com/ekinakyurek/google-research, ``incontext``).

Every predictor takes a batch of in-context datasets ``x`` (T, n, d), ``y`` (T, n) and queries ``q`` (T, m, d) and
returns predictions (T, m) — numpy, float64. The learners (§4.1 of the paper):

- :func:`ols` — least squares; min-norm (pseudo-inverse) when n < d;
- :func:`ridge` — ridge regression with penalty λ, ŵ = (XᵀX + λI)⁻¹Xᵀy;
- :func:`gd_one_step` — one step of batch gradient descent on the squared loss from w = 0, ŵ = (η/n)·Xᵀy. The
  default step size η = n/(n + d + 1 + σ²) minimises the expected error E‖ŵ − w‖² for x ~ N(0, I), w ~ N(0, I)
  and noise variance σ² (from E[(XᵀX)²] = n(n + d + 1)I for a Wishart matrix);
- :func:`knn` — the mean label of the k nearest context inputs (Euclidean), k = min(k, n).

Metrics (§4.2, as we read them; the paper reports them normalised by the dimension d):

- SPD, squared prediction difference: E_{D, x'} (A₁(D)(x') − A₂(D)(x'))², here divided by d;
- ILWD, implicit linear weight difference: E_D ‖ŵ₁ − ŵ₂‖², divided by d, where ŵ_A is the least-squares linear
  fit to A(D)'s predictions on probe inputs x' (:func:`implicit_weights`).

Paper detail not verified against the text (the official repository was not reachable through our search tools):
the exact normalisation constant and the number of probe points used for ILWD.
"""

from __future__ import annotations

import math

import numpy as np


def _weights_predict(w: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.einsum("tmd,td->tm", q, w)


def ols_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(T, d) least-squares weights; the minimum-norm solution when XᵀX is singular (n < d)."""
    return np.einsum("tdn,tn->td", np.linalg.pinv(x), y)


def ols(x: np.ndarray, y: np.ndarray, q: np.ndarray) -> np.ndarray:
    return _weights_predict(ols_weights(x, y), q)


def ridge_weights(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    d = x.shape[-1]
    gram = np.einsum("tnd,tne->tde", x, x) + lam * np.eye(d)
    return np.linalg.solve(gram, np.einsum("tnd,tn->td", x, y)[..., None])[..., 0]


def ridge(x: np.ndarray, y: np.ndarray, q: np.ndarray, lam: float) -> np.ndarray:
    return _weights_predict(ridge_weights(x, y, lam), q)


def gd_step_size(n: int, d: int, noise_var: float = 0.0) -> float:
    """η minimising E‖(η/n)XᵀY − w‖² for Gaussian x, w and label-noise variance σ²."""
    return n / (n + d + 1 + noise_var)


def gd_one_step(
    x: np.ndarray, y: np.ndarray, q: np.ndarray, lr: float | None = None, noise_var: float = 0.0
) -> np.ndarray:
    n, d = x.shape[1], x.shape[2]
    lr = gd_step_size(n, d, noise_var) if lr is None else lr
    w = lr / n * np.einsum("tnd,tn->td", x, y)
    return _weights_predict(w, q)


def knn(x: np.ndarray, y: np.ndarray, q: np.ndarray, k: int = 3) -> np.ndarray:
    """Mean label of the k nearest context points of each query (ties broken by position)."""
    k = min(k, x.shape[1])
    dist = ((q[:, :, None, :] - x[:, None, :, :]) ** 2).sum(-1)  # (T, m, n)
    nearest = np.argsort(dist, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(y[:, None, :].repeat(q.shape[1], 1), nearest, axis=-1).mean(-1)


def spd(pred_a: np.ndarray, pred_b: np.ndarray, dim: int) -> float:
    """Dimension-normalised squared prediction difference, averaged over datasets and queries."""
    return float(np.mean((pred_a - pred_b) ** 2) / dim)


def implicit_weights(probes: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(T, d) least-squares linear fit to a learner's predictions (T, m) on its probe inputs (T, m, d)."""
    return ols_weights(probes, predictions)


def ilwd(probes: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> float:
    """Dimension-normalised implicit linear weight difference between two learners' probe predictions."""
    wa, wb = implicit_weights(probes, pred_a), implicit_weights(probes, pred_b)
    return float(np.mean(((wa - wb) ** 2).sum(-1)) / probes.shape[-1])


def ridge_lambdas(noise_vars) -> tuple[float, ...]:
    """Ridge penalties compared: λ = σ²/τ² for every noise level of the grid (τ = 1); λ = 0 is OLS."""
    return tuple(v for v in noise_vars if v > 0)


def baseline_predictions(cfg, data: dict[str, np.ndarray], noise_var: float) -> dict[str, np.ndarray]:
    """Per learner: predictions (T, n) of y_{k+1} from the first k pairs, and on probes (T, n, m) of prefix k,
    on the study's evaluation prompts ``data`` at noise variance ``noise_var`` (``cfg``: the study's config)."""
    x, w, probes = data["x"], data["w"], data["probes"]
    t, n, d = x.shape
    m = cfg.probes
    y = np.einsum("tnd,td->tn", x, w) + math.sqrt(noise_var) * data["eps"]
    probes = probes.reshape(t, n, m, d)
    learners = {
        "ols": lambda cx, cy, q: ols(cx, cy, q),
        "gd": lambda cx, cy, q: gd_one_step(cx, cy, q, noise_var=noise_var),
        "knn": lambda cx, cy, q: knn(cx, cy, q, cfg.knn_k),
    }
    for lam in ridge_lambdas(cfg.noise_vars):
        learners[f"ridge{lam:.4f}"] = lambda cx, cy, q, lam=lam: ridge(cx, cy, q, lam)
    out = {}
    for name, learner in learners.items():
        query = np.zeros((t, n))
        probe = np.zeros((t, n, m))
        for k in range(1, n):  # with no exemplar every learner predicts 0
            q = np.concatenate([x[:, k : k + 1], probes[:, k]], axis=1)  # (T, 1 + m, d)
            pred = learner(x[:, :k], y[:, :k], q)
            query[:, k], probe[:, k] = pred[:, 0], pred[:, 1:]
        out[name] = query
        out[f"{name}.probe"] = probe
    out["y"] = y
    return out
