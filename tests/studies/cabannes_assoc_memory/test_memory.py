"""Outer-product associative memory: Zipf law, storage schemes, recall against an explicit W, error."""

import numpy as np
import pytest

from reprosuite.studies.cabannes_assoc_memory import memory as am


def test_zipf_probs():
    p = am.zipf_probs(1000, 2.0)
    assert p.sum() == pytest.approx(1.0) and (np.diff(p) < 0).all()
    assert p[0] / p[1] == pytest.approx(4.0) and p[0] / p[9] == pytest.approx(100.0)
    with pytest.raises(ValueError):
        am.zipf_probs(0, 2.0)


def test_memory_weight_schemes():
    counts = np.array([0, 5, 2, 5, 0, 1])
    assert am.memory_weights(counts, "seen").tolist() == [0, 1, 1, 1, 0, 1]
    assert am.memory_weights(counts, "freq").tolist() == pytest.approx([0, 5 / 13, 2 / 13, 5 / 13, 0, 1 / 13])
    # top-k by count, ties towards the smaller index; never stores an unseen token
    assert am.memory_weights(counts, "top", k=1).tolist() == [0, 1, 0, 0, 0, 0]
    assert am.memory_weights(counts, "top", k=3).tolist() == [0, 1, 1, 1, 0, 0]
    assert am.memory_weights(counts, "top", k=10).tolist() == [0, 1, 1, 1, 0, 1]
    assert am.memory_weights(counts, "top", k=0).sum() == 0
    with pytest.raises(ValueError, match="unknown scheme"):
        am.memory_weights(counts, "all")
    with pytest.raises(ValueError, match="needs k"):
        am.memory_weights(counts, "top")


def test_orthonormal_embeddings_recall_exactly_the_stored_tokens():
    """d ≥ N with one-hot embeddings: no interference; unstored tokens score 0 everywhere and go to class 0."""
    n, m = 6, 3
    target = np.array([2, 1, 0, 2, 1, 0])
    q = np.array([1.0, 1, 0, 1, 0, 0])
    pred = am.recall(q, target, np.eye(n), np.eye(m, n))
    assert pred.tolist() == [2, 1, 0, 2, 0, 0]
    probs = am.zipf_probs(n, 1.0)
    # misrecalled: token 4 only (token 2 and 5 are unstored but their target is class 0 by chance)
    assert am.error(probs, pred, target) == pytest.approx(probs[4])
    assert am.unseen_mass(probs, q) == pytest.approx(probs[[2, 4, 5]].sum())
    assert am.recall(np.zeros(n), target, np.eye(n), np.eye(m, n)).tolist() == [0] * n


def test_recall_equals_explicit_outer_product_memory():
    rng = np.random.default_rng(0)
    n, m, d = 300, 7, 32
    target = rng.integers(0, m, n)
    e, u = am.sphere(rng, n, d), am.sphere(rng, m, d)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0)
    q = am.memory_weights(rng.integers(0, 4, n), "freq")
    w = sum(q[x] * np.outer(u[target[x]], e[x]) for x in range(n))
    reference = (u @ w @ e.T).argmax(axis=0)
    assert np.array_equal(am.recall(q, target, e, u), reference)
    # 300 tokens in d = 32 interfere: some stored tokens are misrecalled
    assert am.error(np.full(n, 1 / n), reference, target) > 0.1


def test_unseen_mass_matches_its_expectation():
    """E[mass of tokens unseen in T samples] = Σ_x p(x)(1 − p(x))^T (Monte Carlo, 400 draws)."""
    rng = np.random.default_rng(1)
    p = am.zipf_probs(2000, 2.0)
    t = 300
    draws = [
        am.unseen_mass(p, am.memory_weights(np.bincount(am.sample_tokens(rng, p, t), minlength=2000), "seen"))
        for _ in range(400)
    ]
    assert np.mean(draws) == pytest.approx(float(np.sum(p * (1 - p) ** t)), rel=0.03)


def test_top_storage_in_large_dimension_recalls_all_stored_tokens():
    rng = np.random.default_rng(2)
    n, m, d = 3000, 5, 512
    p = am.zipf_probs(n, 2.0)
    target = rng.integers(0, m, n)
    e, u = am.sphere(rng, n, d).astype(np.float32), am.sphere(rng, m, d).astype(np.float32)
    q = am.memory_weights(np.bincount(am.sample_tokens(rng, p, 100_000), minlength=n), "top", k=d // 8)
    pred = am.recall(q, target, e, u)
    stored = q > 0
    assert stored.sum() == 64 and (pred[stored] == target[stored]).all()
    # the error is the unstored mass up to chance hits (≈ 1/M of it)
    err, mass = am.error(p, pred, target), am.unseen_mass(p, q)
    assert 0.6 * mass < err <= mass
