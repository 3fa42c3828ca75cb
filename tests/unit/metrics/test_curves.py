import math

import numpy as np
import pytest

from reprosuite.metrics import curves


def test_first_reaching_at_a_logged_step_and_never():
    steps, acc = [0, 10, 20, 30], [0.1, 0.5, 0.95, 1.0]
    assert curves.first_reaching(steps, acc, 0.9) == 20.0
    assert curves.first_reaching(steps, acc, 0.1) == 0.0
    assert curves.first_reaching(steps, acc, 1.5) == curves.NEVER and curves.censored(curves.NEVER)
    assert not curves.censored(math.nan) and not curves.censored(-math.inf) and not curves.censored(20.0)


def test_first_reaching_below_and_interpolated():
    steps, loss = [0, 10, 20], [1.0, 0.6, 0.2]
    assert curves.first_reaching(steps, loss, 0.4, below=True) == 20.0
    assert curves.first_reaching(steps, loss, 0.4, below=True, interpolate=True) == pytest.approx(15.0)
    assert curves.first_reaching([0, 2], [0.0, 1.0], 0.25, interpolate=True) == pytest.approx(0.5)


def test_first_reaching_ignores_nan_and_checks_shapes():
    assert curves.first_reaching([0, 1, 2], [math.nan, 0.2, 0.9], 0.5) == 2.0
    with pytest.raises(ValueError, match="shape"):
        curves.first_reaching([0, 1], [0.0], 0.5)


def test_loglog_slope_recovers_a_power_law():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert curves.loglog_slope(x, 3 * x**-0.5) == pytest.approx(-0.5)
    assert math.isnan(curves.loglog_slope(x, [1.0, 2.0, 0.0, 4.0]))
    assert math.isnan(curves.loglog_slope(x, [1.0, math.inf, 2.0, 4.0]))
    assert math.isnan(curves.loglog_slope(x[:2], [1.0, 2.0], min_points=3))


def test_haar_orthogonal_is_orthogonal_and_seeded():
    q = curves.haar_orthogonal(6, np.random.default_rng(0))
    np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-12)
    np.testing.assert_array_equal(q, curves.haar_orthogonal(6, np.random.default_rng(0)))
