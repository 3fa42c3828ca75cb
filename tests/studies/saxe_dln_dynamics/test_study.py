import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.metrics import curves
from reprosuite.studies import saxe_dln_dynamics as saxe
from reprosuite.studies.saxe_dln_dynamics import dynamics

torch = pytest.importorskip("torch")


def test_decoupled_training_run_matches_theory():
    cfg = config.resolve("saxe_dln_dynamics", "smoke", {"steps": 1500, "log_every": 5, "modes": [6, 4, 3]})
    data = saxe.make_data(cfg)
    runs = saxe.train(cfg, {"kind": "modes", "init": "decoupled", "activation": "linear"}, data, [0], "cpu")
    runs.insert(0, "point", "modes-decoupled")
    metrics = saxe.extract(runs, cfg)
    err = metrics[metrics.metric == "half_time_err_max"].value.item()
    assert err < 0.05


def test_member_weights_follow_decoupled_init():
    cfg = config.resolve("saxe_dln_dynamics", "smoke", {"steps": 1})
    data = saxe.make_data(cfg)
    runs = saxe.train(
        cfg, {"kind": "modes", "init": "decoupled", "activation": "linear"}, data, [0, 1], "cpu"
    )
    first = runs[(runs.step == 0) & runs.metric.str.startswith("mode")]
    np.testing.assert_allclose(first.value, cfg.u0, rtol=1e-9)


def test_hierarchy_data_is_whitened_with_ordered_modes():
    cfg = config.resolve("saxe_dln_dynamics", "quick")
    d = saxe.make_data(cfg)
    p = cfg.n_items
    np.testing.assert_allclose(d["x"].T @ d["x"] / p, np.eye(p))
    assert d["y"].shape == (p, cfg.n_features) and set(np.unique(d["y"])) == {-1.0, 1.0}
    assert np.all(np.diff(d["s"]) <= 0) and d["s"][0] > d["s"][6] > 0


def test_modes_data_has_the_chosen_singular_values():
    cfg = config.resolve("saxe_dln_dynamics", "smoke")
    d = saxe.make_data(cfg)
    np.testing.assert_allclose(d["s"][: len(cfg.modes)], cfg.modes, rtol=1e-12)
    np.testing.assert_allclose(d["s"][len(cfg.modes) :], 0.0, atol=1e-12)


def test_unknown_dataset_is_refused_before_any_job():
    with pytest.raises(config.ConfigError, match="dataset"):
        config.resolve("saxe_dln_dynamics", "smoke", {"dataset": "mnist"})


def test_extract_marks_depths_that_never_reach_the_criterion():
    cfg = config.resolve("saxe_dln_dynamics", "quick")
    level = cfg.criterion * dynamics.zero_map_loss(dynamics.depth_targets(cfg, saxe.make_data(cfg)))
    rows = []
    for variant, losses in (
        ("orthogonal-lr0.01", [1.0, level, 0.0]),
        ("gaussian-lr0.01", [1.0, 2 * level, level * 1.5]),
    ):
        for step, loss in zip((0, 10, 20), losses, strict=True):
            rows.append(("depth-4", variant, 0, step, "train", "loss", loss))
    runs = pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])
    m = saxe.extract(runs, cfg).set_index("metric").value
    assert m["iters_orthogonal_lr0.01"] == 10 and m["best_iters_orthogonal"] == 10
    assert m["iters_gaussian_lr0.01"] == curves.NEVER
    assert math.isnan(m["best_lr_gaussian"]) and m["best_lr_orthogonal"] == 0.01


def _depth_metrics(table) -> pd.DataFrame:
    rows = []
    for seed in range(3):
        for depth, orth, gauss in table:
            orth_s = orth[seed] if isinstance(orth, tuple) else orth
            rows += [
                (f"depth-{depth}", seed, "best_iters_orthogonal", orth_s),
                (f"depth-{depth}", seed, "best_iters_gaussian", gauss),
                (f"depth-{depth}", seed, "best_iters_orthogonal_centred", orth_s / 2),
                (f"depth-{depth}", seed, "best_lr_orthogonal", 0.4 / depth),
                (f"depth-{depth}", seed, "best_lr_gaussian", 0.1),
            ]
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def test_depth_claims_from_metrics():
    metrics = _depth_metrics([(4, 10, 12), (8, 12, 80), (16, 15, 120)])
    got = saxe.measure(metrics, saxe.TIERS["quick"])
    assert got["P3_orthogonal_depth_independent"].values == pytest.approx((1.5,) * 3)
    assert got["P3_orthogonal_centred_depth_independent"].values == pytest.approx((1.5,) * 3)
    assert got["P3_orthogonal_depth_independent/control"].values == pytest.approx((10.0,) * 3)
    assert got["P3_gaussian_slower"].values == pytest.approx((80 / 12,) * 3)
    assert got["P3_gaussian_slower/control"].values == pytest.approx((1.0,) * 3)  # same runs: ratio 1
    assert got["P4_best_lr_vs_depth"] == pytest.approx([-1.0] * 3)
    # the control pairs each seed with the next one
    other = _depth_metrics([(4, 10, 12), (8, (12, 24, 12), 80), (16, 15, 120)])
    assert saxe.measure(other, saxe.TIERS["quick"])["P3_gaussian_slower/control"].values == pytest.approx(
        (0.5, 1.0, 1.0)
    )


def test_depth_claims_censor_at_the_budget_and_never_drop_a_depth():
    budget = saxe.TIERS["quick"].depth_steps
    got = saxe.measure(
        _depth_metrics([(4, 10, math.inf), (8, 12, 80), (16, 20, math.inf)]), saxe.TIERS["quick"]
    )
    # Gaussian never learns at depth 16: its ratio is at least budget / 20, a lower bound; the min is exact 80/12
    # only if no bound lies below it
    assert got["P3_gaussian_slower"].values == pytest.approx((80 / 12,) * 3)
    assert got["P3_gaussian_slower"].censored == (0, 0, 0)
    got = saxe.measure(_depth_metrics([(4, 10, 12), (8, 500, math.inf)]), saxe.TIERS["quick"])
    assert got["P3_gaussian_slower"].values == pytest.approx((budget / 500,) * 3)
    assert got["P3_gaussian_slower"].censored == (1, 1, 1)
    # nothing learns at the deepest net: orthogonal gives a lower bound, Gaussian (never at all) is unknown
    got = saxe.measure(_depth_metrics([(4, 10, math.inf), (8, math.inf, math.inf)]), saxe.TIERS["quick"])
    assert got["P3_orthogonal_depth_independent"].values == pytest.approx((budget / 10,) * 3)
    assert got["P3_orthogonal_depth_independent"].censored == (1, 1, 1)
    assert all(math.isnan(v) for v in got["P3_orthogonal_depth_independent/control"].values)
    assert all(math.isnan(v) for v in got["P3_gaussian_slower"].values)  # depth 8: neither learned
    # without depth 4 the depth-independence ratio is unmeasured, not missing
    got = saxe.measure(_depth_metrics([(8, 12, 80), (16, 15, 120)]), saxe.TIERS["quick"])
    assert len(got["P3_orthogonal_depth_independent"].values) == 3
    assert all(math.isnan(v) for v in got["P3_orthogonal_depth_independent"].values)


def test_full_tier_has_the_reference_depth():
    assert 4 in saxe.TIERS["full"].depths and 4 in saxe.TIERS["quick"].depths


def test_quick_deviates_from_the_paper_in_budget_only():
    st = study.get("saxe_dln_dynamics")
    devs = study.deviations(st, config.resolve(st, "quick"), "quick")
    assert {d.field for d in devs} == {
        "seeds",
        "n_features",
        "steps",
        "log_every",
        "depths",
        "depth_width",
        "depth_lrs",
        "depth_steps",
        "depth_data",
    }


def test_centred_orthogonal_arm_starts_at_the_zero_map():
    cfg = dataclasses.replace(saxe.TIERS["quick"], depth_lrs=(0.05,), depth_steps=3, n_features=16)
    data = saxe.make_data(cfg)
    point = saxe.grid(cfg)["depth-4"]
    assert point["inits"] == ["orthogonal", "gaussian", "orthogonal_centred"]
    runs = saxe.train(cfg, point, data, [5, 6], "cpu")
    first = runs[(runs.step == 0) & (runs.metric == "loss")].set_index(["variant", "seed"]).value
    zero_map = dynamics.zero_map_loss(dynamics.depth_targets(cfg, data))
    assert first["orthogonal_centred-lr0.05"].to_numpy() == pytest.approx([zero_map] * 2, rel=1e-5)
    # plain orthogonal init starts from a random isometric map: a far larger loss (the same weights, seed by seed)
    assert (first["orthogonal-lr0.05"].to_numpy() > 3 * zero_map).all()
    last = runs[(runs.step == 3) & (runs.metric == "loss")].set_index(["variant", "seed"]).value
    assert (last["orthogonal_centred-lr0.05"].to_numpy() < zero_map).all()


def test_depth_sweep_in_parts_trains_each_member_as_one_ensemble_does(monkeypatch):
    from reprosuite.studies.saxe_dln_dynamics import training

    cfg = dataclasses.replace(saxe.TIERS["quick"], depth_lrs=(0.02, 0.05), depth_steps=5, n_features=16)
    data = saxe.make_data(cfg)
    point = saxe.grid(cfg)["depth-4"]
    whole = saxe.train(cfg, point, data, [5, 6], "cpu")
    monkeypatch.setattr(training, "WEIGHT_BUDGET", 1)  # one member per part
    parts = saxe.train(cfg, point, data, [5, 6], "cpu")
    key = ["variant", "seed", "step", "split", "metric"]
    loss = [frame[frame.metric == "loss"].set_index(key).value.sort_index() for frame in (whole, parts)]
    assert len(loss[0]) == len(loss[1]) and loss[0].index.equals(loss[1].index)
    np.testing.assert_allclose(loss[1].to_numpy(), loss[0].to_numpy(), rtol=1e-5)
