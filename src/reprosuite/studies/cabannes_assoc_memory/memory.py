"""Outer-product associative memories on Zipf-distributed tokens (Cabannes, Dohmatob, Bietti 2023, arXiv:2310.02984).

The model of the paper's §2–3, in numpy (no training): N input tokens x ∈ {1, …, N} drawn from a Zipf law
p(x) ∝ x^−α, a deterministic target f*(x) ∈ {1, …, M}, random input embeddings e_x and output embeddings u_y
in R^d (independent, uniform on the unit sphere), and the memory

    W = Σ_x q(x) u_{f*(x)} e_xᵀ,        f̂(x) = argmax_y u_yᵀ W e_x,

with q(x) chosen from the T observed samples: ``seen`` stores every token observed at least once with weight 1
(q(x) = 1{x seen}); ``top`` stores only the ``k`` most frequent observed tokens (q(x) = 1{x among the top k};
the paper's thresholding scheme, which with k ∝ d avoids interference and gives error ∝ d^−(α−1)); ``freq``
weights by the empirical frequency (q(x) = p̂(x)). The generalisation error is the population probability mass
of misrecalled tokens, E = Σ_x p(x) 1{f̂(x) ≠ f*(x)} (tokens not stored are scored by interference only and
may be recalled by chance, as in the paper's definition of the error).

Scores are computed without forming W: u_yᵀ W e_x = Σ_{x' stored} q(x') (u_yᵀ u_{f*(x')}) (e_{x'}ᵀ e_x), an
(M × k)(k × N) product for k stored tokens.
"""

from __future__ import annotations

import numpy as np

SCHEMES = ("seen", "top", "freq")


def zipf_probs(n_tokens: int, alpha: float) -> np.ndarray:
    """p(x) ∝ x^−α over x = 1…N (index x − 1), normalised."""
    if n_tokens < 1 or alpha <= 0:
        raise ValueError(f"need n_tokens >= 1 and alpha > 0, got {n_tokens}, {alpha}")
    p = np.arange(1, n_tokens + 1, dtype=np.float64) ** (-float(alpha))
    return p / p.sum()


def sample_tokens(rng: np.random.Generator, probs: np.ndarray, n_samples: int) -> np.ndarray:
    """``n_samples`` i.i.d. token indices (0-based) from ``probs``."""
    return rng.choice(len(probs), size=n_samples, p=probs)


def sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` independent vectors uniform on the unit sphere of R^d, as rows (n, d)."""
    v = rng.standard_normal((n, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def memory_weights(counts: np.ndarray, scheme: str, k: int | None = None) -> np.ndarray:
    """q(x) for every token from its observed count: ``seen``, ``top`` (the ``k`` most frequent observed tokens,
    ties broken towards the smaller index) or ``freq`` (empirical frequency)."""
    counts = np.asarray(counts)
    if scheme == "seen":
        return (counts > 0).astype(np.float64)
    if scheme == "freq":
        return counts / max(counts.sum(), 1)
    if scheme == "top":
        if k is None or k < 0:
            raise ValueError("scheme 'top' needs k >= 0")
        order = np.lexsort((np.arange(len(counts)), -counts))  # by count desc, then index asc
        chosen = order[:k]
        chosen = chosen[counts[chosen] > 0]
        q = np.zeros(len(counts))
        q[chosen] = 1.0
        return q
    raise ValueError(f"unknown scheme {scheme!r}; choose from {SCHEMES}")


def recall(q: np.ndarray, target: np.ndarray, emb_in: np.ndarray, emb_out: np.ndarray) -> np.ndarray:
    """f̂(x) = argmax_y u_yᵀ W e_x for every token x, with W = Σ_x q(x) u_{f*(x)} e_xᵀ.

    ``target`` (N,) holds f*(x), ``emb_in`` (N, d) the e_x, ``emb_out`` (M, d) the u_y. Ties (e.g. an empty
    memory) go to the smallest y.
    """
    stored = np.flatnonzero(q)
    if stored.size == 0:
        return np.zeros(len(target), dtype=np.int64)
    out_sim = emb_out @ emb_out[target[stored]].T  # (M, k): u_yᵀ u_{f*(x')}
    in_sim = emb_in[stored] @ emb_in.T  # (k, N): e_{x'}ᵀ e_x
    scores = (out_sim * q[stored]) @ in_sim  # (M, N)
    return scores.argmax(axis=0)


def error(probs: np.ndarray, predicted: np.ndarray, target: np.ndarray) -> float:
    """Population error Σ_x p(x) 1{f̂(x) ≠ f*(x)}."""
    return float(probs[predicted != target].sum())


def unseen_mass(probs: np.ndarray, q: np.ndarray) -> float:
    """Probability mass of the tokens the memory does not store."""
    return float(probs[q == 0].sum())
