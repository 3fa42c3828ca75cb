import math

import numpy as np
import pandas as pd
import pytest
import torch

from reprosuite import config
from reprosuite.studies import saxe_dln_dynamics as saxe


def test_half_time_solves_eq12():
    s, u0, tau = 3.0, 1e-4, 100.0
    t = saxe.half_time(s, u0, tau)
    assert saxe.mode_curve(np.array([t]), s, u0, tau)[0] == pytest.approx(s / 2, rel=1e-9)
    assert saxe.mode_curve(np.array([0.0]), s, u0, tau)[0] == pytest.approx(u0)


def test_analytic_curve_matches_simulated_decoupled_mode():
    """Scalar decoupled dynamics a, b (u = ab) under small-step GD follow Eq. 12."""
    s, u0, lr = 2.0, 1e-3, 1e-3
    a = b = math.sqrt(u0)
    us = []
    for _ in range(6000):
        a, b = a + lr * b * (s - a * b), b + lr * a * (s - a * b)
        us.append(a * b)
    t = np.arange(1, 6001)
    np.testing.assert_allclose(us, saxe.mode_curve(t, s, u0, 1 / lr), atol=0.02 * s)


def test_decoupled_training_run_matches_theory():
    cfg = config.resolve("saxe_dln_dynamics", "smoke", {"steps": 1500, "log_every": 5, "modes": [6, 4, 3]})
    data = saxe.make_data(cfg)
    runs = saxe.train(cfg, {"kind": "modes", "init": "decoupled", "activation": "linear"}, data, [0], "cpu")
    runs.insert(0, "point", "modes-decoupled")
    metrics = saxe.extract(runs, cfg)
    err = metrics[metrics.metric == "half_time_err_max"].value.item()
    assert err < 0.05


def test_hierarchy_data_is_whitened_with_ordered_modes():
    cfg = config.resolve("saxe_dln_dynamics", "quick")
    d = saxe.make_data(cfg)
    p = cfg.n_items
    np.testing.assert_allclose(d["x"].T @ d["x"] / p, np.eye(p))
    assert d["y"].shape == (p, cfg.n_features) and set(np.unique(d["y"])) == {-1.0, 1.0}
    assert np.all(np.diff(d["s"]) <= 0) and d["s"][0] > d["s"][6] > 0


def test_depth_claims_from_metrics():
    rows = []
    for seed in range(3):
        for depth, orth, gauss in [(4, 10, 12), (8, 12, 80), (16, 15, math.inf)]:
            rows += [
                (f"depth-{depth}", seed, "best_iters_orthogonal", orth),
                (f"depth-{depth}", seed, "best_iters_gaussian", gauss),
                (f"depth-{depth}", seed, "best_lr_orthogonal", 0.4 / depth),
                (f"depth-{depth}", seed, "best_lr_gaussian", 0.1),
            ]
    metrics = pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])
    got = saxe.measure(metrics, saxe.TIERS["quick"])
    assert got["P3_orthogonal_depth_independent"] == pytest.approx([1.5] * 3)
    assert got["P3_gaussian_slower"] == pytest.approx([80 / 12] * 3)
    assert got["P4_best_lr_vs_depth"] == pytest.approx([-1.0] * 3)


def test_member_weights_follow_decoupled_init():
    cfg = config.resolve("saxe_dln_dynamics", "smoke", {"steps": 1})
    data = saxe.make_data(cfg)
    runs = saxe.train(
        cfg, {"kind": "modes", "init": "decoupled", "activation": "linear"}, data, [0, 1], "cpu"
    )
    first = runs[(runs.step == 0) & runs.metric.str.startswith("mode")]
    np.testing.assert_allclose(first.value, cfg.u0, rtol=1e-9)
    assert torch.get_num_threads() >= 1
