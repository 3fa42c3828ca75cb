import math

import numpy as np
import pandas as pd
import pytest

from reprosuite.studies.saxe_dln_dynamics import dynamics


def test_half_time_solves_eq12():
    s, u0, tau = 3.0, 1e-4, 100.0
    t = dynamics.half_time(s, u0, tau)
    assert dynamics.mode_curve(np.array([t]), s, u0, tau)[0] == pytest.approx(s / 2, rel=1e-9)
    assert dynamics.mode_curve(np.array([0.0]), s, u0, tau)[0] == pytest.approx(u0)


def test_analytic_curve_matches_simulated_decoupled_mode():
    """Scalar decoupled dynamics a, b (u = ab) under small-step GD follow Eq. 12."""
    s, u0, lr = 2.0, 1e-3, 1e-3
    a = b = math.sqrt(u0)
    us = []
    for _ in range(6000):
        a, b = a + lr * b * (s - a * b), b + lr * a * (s - a * b)
        us.append(a * b)
    t = np.arange(1, 6001)
    np.testing.assert_allclose(us, dynamics.mode_curve(t, s, u0, 1 / lr), atol=0.02 * s)


def test_half_times_interpolate_between_logged_steps():
    rows = [(0, step, "mode0", v) for step, v in ((0, 0.0), (10, 1.0), (20, 3.0))]
    rows += [(0, step, "mode1", v) for step, v in ((0, 0.0), (10, 0.1), (20, 0.2))]
    table = pd.DataFrame(rows, columns=["seed", "step", "metric", "value"])
    got = dynamics.half_times(table, np.array([4.0, 1.0])).set_index("mode").t_half
    assert got[0] == pytest.approx(15.0)  # s/2 = 2 halfway between steps 10 and 20
    assert got[1] == math.inf  # never reached within the run


def test_best_lr_takes_the_fastest_learning_rate():
    rows = [("depth-4", 0, "iters_orthogonal_lr0.1", 30.0), ("depth-4", 0, "iters_orthogonal_lr0.3", 20.0)]
    rows += [("depth-4", 0, "iters_gaussian_lr0.1", math.inf)]
    table = pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])
    best = dynamics.best_lr(table).set_index("metric").value
    assert best["best_iters_orthogonal"] == 20 and best["best_lr_orthogonal"] == 0.3
    assert best["best_iters_gaussian"] == math.inf and math.isnan(best["best_lr_gaussian"])
