import math

import numpy as np
import pytest

from reprosuite.metrics import linear_grokking as lg


@pytest.mark.parametrize("lam", [0.1, 0.5, 0.9])
def test_marchenko_pastur_quadrature_has_the_known_moments(lam):
    sigma, w = lg.mp_quadrature(lam, 4000)
    assert w.sum() == pytest.approx(1.0)
    assert (sigma >= (1 - math.sqrt(lam)) ** 2).all() and (sigma <= (1 + math.sqrt(lam)) ** 2).all()
    assert w @ sigma == pytest.approx(1.0, rel=1e-6)  # E σ = 1
    assert w @ sigma**2 == pytest.approx(1.0 + lam, rel=1e-6)  # E σ² = 1 + λ
    assert w @ (1 / sigma) == pytest.approx(1 / (1 - lam), rel=1e-3)  # E 1/σ = 1/(1 − λ)
    with pytest.raises(ValueError):
        lg.mp_quadrature(1.2)


def test_marchenko_pastur_matches_a_sampled_covariance():
    rng = np.random.default_rng(0)
    d, n = 400, 800
    x = rng.standard_normal((n, d))
    eig = np.linalg.eigvalsh(x.T @ x / n)
    sigma, w = lg.mp_quadrature(d / n)
    for q in (0.1, 0.5, 0.9):  # quantiles of the empirical spectrum vs the law
        cdf = np.cumsum(w)
        assert np.quantile(eig, q) == pytest.approx(sigma[np.searchsorted(cdf, q)], rel=0.05)


def _gd_mode(sigma, lr, wd, d_out, t, teacher, init):
    """Iterate S ← S − lr(2σ(S − T)/d_out + wd·S) for one eigenmode; return D = S − T."""
    s = init
    for _ in range(t):
        s = s - lr * (2 * sigma * (s - teacher) / d_out + wd * s)
    return s - teacher


@pytest.mark.parametrize("wd", [0.0, 0.05])
@pytest.mark.parametrize("d_out", [1, 3])
def test_predicted_losses_match_iterated_gradient_descent(wd, d_out):
    sigma = np.array([0.3, 1.7])
    lr, steps = 0.1, [0, 1, 7, 40]
    train, gen = lg.predicted_losses(np.array(steps), lg.empirical_measure(sigma), lr, wd, d_out)
    for i, t in enumerate(steps):
        # E over T, S0 iid with variance v = 1/(2 d d_out): sum the two unit-variance responses (linearity)
        per_mode = np.array(
            [
                _gd_mode(s, lr, wd, d_out, t, 1.0, 0.0) ** 2 + _gd_mode(s, lr, wd, d_out, t, 0.0, 1.0) ** 2
                for s in sigma
            ]
        )
        # L_gen = ‖D‖²_F/d_out: d_out columns, each entry of variance v = 1/(2 d_in d_out) per unit response
        v_d_in = 1 / (2 * d_out)
        assert gen[i] == pytest.approx(v_d_in * per_mode.mean(), rel=1e-10)
        assert train[i] == pytest.approx(v_d_in * (per_mode * sigma).mean(), rel=1e-10)
    assert gen[0] == pytest.approx(1 / d_out) and train[0] == pytest.approx(sigma.mean() / d_out)


def test_unstable_learning_rate_is_an_error():
    with pytest.raises(ValueError):
        lg.predicted_losses(np.array([1]), lg.empirical_measure([1.0, 30.0]), lr=0.1)


@pytest.mark.parametrize("d_out", [1, 10])
def test_loss_level_inverts_gaussian_accuracy(d_out):
    level = lg.loss_level(1e-3, 0.95, d_out)
    assert lg.gaussian_accuracy(level, 1e-3, d_out) == pytest.approx(0.95)
    if d_out == 1:  # the paper's formula erf(√(ε/2L))
        assert math.erf(math.sqrt(1e-3 / (2 * level))) == pytest.approx(0.95)
    # sampled Gaussian residuals at that loss give that accuracy
    rng = np.random.default_rng(1)
    err = (rng.normal(0, math.sqrt(level), (200000, d_out)) ** 2).mean(1)
    assert (err < 1e-3).mean() == pytest.approx(0.95, abs=0.005)


def test_predicted_times_single_mode_closed_form():
    lr, sigma = 0.01, 0.5
    target = lg.loss_level(1e-3, 0.9)
    tr, te = lg.predicted_times(lg.empirical_measure([sigma]), 1e-3, 0.9, lr)
    q = 1 - 2 * lr * sigma  # L_gen = q^{2t}, L_train = σ q^{2t}
    assert te == math.ceil(math.log(target) / (2 * math.log(q)))
    assert tr == math.ceil(math.log(target / sigma) / (2 * math.log(q)))
    # weight decay large enough keeps the loss above the level for ever
    assert lg.predicted_times(lg.empirical_measure([sigma]), 1e-3, 0.9, lr, weight_decay=1.0)[1] == math.inf


def test_mp_delay_grows_with_lambda():
    ratios = []
    for lam in (0.1, 0.3, 0.5, 0.7, 0.9):
        tr, te = lg.predicted_times(lg.mp_quadrature(lam, 500), 1e-3, 0.95, 0.01)
        ratios.append(te / tr)
    assert np.all(np.diff(ratios) > 0) and ratios[0] > 1


def test_helpers():
    assert lg.max_relative_increase(np.array([4.0, 2.0, 1.0])) == pytest.approx(-0.5)
    assert lg.max_relative_increase(np.array([4.0, 2.0, 3.0])) == pytest.approx(0.5)
    assert lg.spearman([1, 2, 3, 4], [1.0, 2.0, 5.0, math.inf]) == pytest.approx(1.0)
    assert lg.spearman([1, 2, 3], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert lg.spearman([1, 2, 3, 4], [1.0, math.nan, 2.0, 3.0]) == pytest.approx(1.0)  # NaN pair dropped
    assert math.isnan(lg.spearman([1, 2, 3], [1.0, 1.0, 1.0]))
