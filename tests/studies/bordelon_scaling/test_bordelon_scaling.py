"""Closed forms against explicit computation, the fits on hand-built curves, and the claims' wiring."""

import math

import numpy as np
import pandas as pd
import pytest

from reprosuite.studies import bordelon_scaling as bs
from reprosuite.studies.bordelon_scaling import analysis as an
from reprosuite.studies.bordelon_scaling import dynamics as dy
from reprosuite.studies.bordelon_scaling import training as tr


def _z(n, m, seed, block):
    """The Gaussian matrix ``dynamics.gram`` draws, built explicitly."""
    cols = [min(block, m - s) for s in range(0, m, block)]
    return np.concatenate(
        [np.random.default_rng([*seed, j]).standard_normal((n, c)) for j, c in enumerate(cols)], 1
    )


def _problem(m=1000, a=2.0, b=1.5, seed=0):
    lam = dy.spectrum(m, b)
    w = dy.target(m, a, b, "power", seed)
    return lam, w, float((lam * w**2).sum())


def test_task_power_is_k_to_the_minus_a():
    lam, w, _ = _problem(a=1.5, b=1.25)
    k = np.arange(1, 1001)
    np.testing.assert_allclose(lam * w**2, k**-1.5)
    assert set(np.sign(w)) == {-1.0, 1.0}


def test_gram_is_the_explicit_product_and_nested():
    lam, w, _ = _problem(m=700)
    g, v = dy.gram(40, lam, w, (3, 0), block=256)
    z = _z(40, 700, (3, 0), 256)
    np.testing.assert_allclose(g, (z * lam) @ z.T, rtol=1e-12)
    np.testing.assert_allclose(v, z @ (lam * w), rtol=1e-12)
    g2, v2 = dy.gram(16, lam, w, (3, 0), block=256)
    np.testing.assert_array_equal(g2, g[:16, :16])
    np.testing.assert_array_equal(v2, v[:16])


def test_closed_form_equals_explicit_gd_and_population_loss():
    lam, w, l0 = _problem()
    g, v = dy.gram(32, lam, w, (1, 0), block=512)
    mu, c2 = dy.modes(g, v, 32)
    t = np.arange(101)
    np.testing.assert_allclose(
        dy.loss_curve(mu, c2, l0, 0.5, t), dy.explicit_gd(g, v, 32, l0, 0.5, 100), atol=1e-12
    )
    # the limit is the loss of the least-squares solution w = K⁻¹h
    k, h = g / 32, v / math.sqrt(32)
    wls = np.linalg.solve(k, h)
    assert dy.loss_limit(mu, c2, l0) == pytest.approx(wls @ k @ wls - 2 * wls @ h + l0, rel=1e-8)


def test_kernel_gd_closed_form_and_population_test_loss():
    lam, w, l0 = _problem(m=300)
    gp, y, s, q = dy.data_modes(lam, w, 24, (2, 1), block=128)
    z = _z(24, 300, (2, 1), 128)
    psi = z * np.sqrt(lam)
    np.testing.assert_allclose(y, psi @ w, rtol=1e-10)
    t = np.arange(51)
    test, train, _ = dy.data_curves(gp, y, s, q, 24, l0, 0.5, t)
    np.testing.assert_allclose(test, dy.explicit_kernel_gd(gp, y, s, q, 24, l0, 0.5, 50), atol=1e-12)
    # explicit θ after 5 steps: test = Σ λ (θ − w*)², train = mean (Ψθ − y)²
    theta = np.zeros(300)
    for _ in range(5):
        theta -= 0.5 * psi.T @ (psi @ theta - y) / 24
    assert test[5] == pytest.approx(float((lam * (theta - w) ** 2).sum()), rel=1e-10)
    assert train[5] == pytest.approx(float(np.mean((psi @ theta - y) ** 2)), rel=1e-10)


def test_unstable_learning_rate_is_refused():
    with pytest.raises(ValueError, match="unstable"):
        dy.loss_curve(np.array([1.0, 5.0]), np.ones(2), 1.0, 0.5, np.arange(3))


def test_infinite_width_is_the_wide_limit():
    lam, w, l0 = _problem(m=200)
    t = np.array([3.0, 30.0])
    g, v = dy.gram(2000, lam, w, (0, 0), block=200)
    finite = dy.loss_curve(*dy.modes(g, v, 2000), l0, 0.5, t)
    np.testing.assert_allclose(finite, dy.loss_infinite_width(lam, w, 0.5, t), rtol=0.1)


def test_fits_on_hand_built_curves():
    x = np.logspace(0, 3, 13)
    assert an.slope(x, 2 * x**-0.7) == pytest.approx(-0.7)
    assert an.drift(x, x**-0.7) == pytest.approx(0.0, abs=1e-12)
    assert an.drift(x, np.exp(-x / 50)) > 0.3  # an exponential is no power law
    assert math.isnan(an.slope(x, -x))
    t = np.logspace(0, 4, 41)
    loss = t**-0.5 + 1e-2
    win = an.time_window(t, loss, 1e-2, 10.0, 10.0)
    assert t[win].min() >= 10 and (loss[win] >= 0.1).all()


def test_frontier_of_a_separable_power_law():
    # L = t^−α_t + N^−α_N with α_t = 2/3, α_N = 1 (a = 2, b = 1.5): N* ∝ C^{α_t/(α_t+α_N)} = C^0.4
    widths = tr.sqrt2_grid(16, 8192)
    c, n_star, l_star = an.frontier(
        widths, lambda i, t: t ** (-2 / 3) + widths[i] ** -1.0, np.logspace(4, 8, 9)
    )
    out = an.frontier_slopes(c, n_star, l_star)
    assert out["n_slope"] == pytest.approx(0.4, abs=0.02)
    assert out["asymmetry"] == pytest.approx(0.2, abs=0.04)
    assert out["l_slope"] == pytest.approx(-0.4, abs=0.02)


def test_sqrt2_grid():
    assert list(tr.sqrt2_grid(16, 64)) == [16, 23, 32, 45, 64]


def test_grid_refuses_width_beyond_features():
    with pytest.raises(ValueError, match="exceeds"):
        bs.grid(bs.replace(bs.TIERS["smoke"], n_max=4096))


def test_measure_wires_claims_to_points():
    cfg = bs.TIERS["quick"]
    rows = []
    for seed in range(cfg.seeds):
        for point in ("a2_b1.5", "a1.5_b1.25"):
            for metric in ("time_slope", "time_drift", "width_slope", "width_drift", "data_slope", "n_slope",
                           "asymmetry", "corr_early", "corr_late", "corr_steepening", "gd_max_abs_diff"):  # fmt: skip
                rows.append((point, seed, metric, 0.1 if point == "a2_b1.5" else 0.2))
        rows.append(("exp", seed, "width_drift", 0.9))
    out = bs.measure(pd.DataFrame(rows, columns=["point", "seed", "metric", "value"]), cfg)
    assert set(out) == {c.id for c in bs.CLAIMS}
    assert out["b1_time_a2"] == [0.1] * 5 and out["b1_time_a15"] == [0.2] * 5
    assert out["b1_time_straight"] == [0.2] * 5  # max over the two configurations
    assert out["b2_exp_not_power_law"] == [0.9] * 5
    assert out["b5_no_steepening_a2"] == [0.1] * 5
