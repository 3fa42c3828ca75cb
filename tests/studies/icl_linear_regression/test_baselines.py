import numpy as np
import pytest

from reprosuite.studies.icl_linear_regression import baselines as bl


def tasks(t=50, n=12, d=4, m=6, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(t, d))
    x = rng.normal(size=(t, n, d))
    q = rng.normal(size=(t, m, d))
    y = np.einsum("tnd,td->tn", x, w) + noise * rng.normal(size=(t, n))
    return x, y, q, w


def test_ols_recovers_noiseless_weights():
    x, y, q, w = tasks()
    np.testing.assert_allclose(bl.ols_weights(x, y), w, atol=1e-10)
    np.testing.assert_allclose(bl.ols(x, y, q), np.einsum("tmd,td->tm", q, w), atol=1e-10)


def test_ols_is_min_norm_when_underdetermined():
    x, y, _, _ = tasks(n=2, d=5)
    w = bl.ols_weights(x, y)
    np.testing.assert_allclose(np.einsum("tnd,td->tn", x, w), y, atol=1e-10)  # interpolates
    # min-norm: lies in the row space of X
    for t in range(3):
        proj = x[t].T @ np.linalg.pinv(x[t].T)
        np.testing.assert_allclose(proj @ w[t], w[t], atol=1e-10)


def test_ridge_limits_and_closed_form():
    x, y, q, _ = tasks(noise=0.3)
    np.testing.assert_allclose(bl.ridge(x, y, q, 1e-12), bl.ols(x, y, q), atol=1e-8)
    assert np.abs(bl.ridge(x, y, q, 1e9)).max() < 1e-6
    lam = 0.7
    expected = np.linalg.solve(x[0].T @ x[0] + lam * np.eye(4), x[0].T @ y[0])
    np.testing.assert_allclose(bl.ridge_weights(x, y, lam)[0], expected)


def test_gd_one_step_is_scaled_correlation_and_its_step_size_is_optimal():
    x, y, q, _ = tasks()
    out = bl.gd_one_step(x, y, q, lr=0.5)
    np.testing.assert_allclose(out, np.einsum("tmd,td->tm", q, 0.5 / 12 * np.einsum("tnd,tn->td", x, y)))
    # Monte Carlo check that n/(n+d+1) minimises the expected weight error
    x, y, _, w = tasks(t=20000, n=8, d=3, seed=1)
    corr = np.einsum("tnd,tn->td", x, y) / 8

    def err(eta):
        return np.mean(((eta * corr - w) ** 2).sum(-1))

    best = bl.gd_step_size(8, 3)
    assert err(best) < err(best * 1.15) and err(best) < err(best * 0.85)


def test_knn_averages_nearest_labels():
    x = np.array([[[0.0], [1.0], [5.0], [6.0]]])
    y = np.array([[1.0, 2.0, 10.0, 20.0]])
    q = np.array([[[0.2], [5.4]]])
    np.testing.assert_allclose(bl.knn(x, y, q, k=2), [[1.5, 15.0]])
    np.testing.assert_allclose(bl.knn(x, y, q, k=10), [[8.25, 8.25]])  # k capped at n


def test_spd_and_ilwd():
    x, y, q, w = tasks()
    a = bl.ols(x, y, q)
    assert bl.spd(a, a, 4) == 0.0
    assert bl.spd(a, a + 2.0, 4) == pytest.approx(1.0)
    # a linear learner's implicit weights are its weights: ILWD(OLS, truth-on-probes) = 0
    assert bl.ilwd(q, a, np.einsum("tmd,td->tm", q, w)) < 1e-18
    shifted = np.einsum("tmd,td->tm", q, w + 1.0)
    assert bl.ilwd(q, a, shifted) == pytest.approx(1.0)
