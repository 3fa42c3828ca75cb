import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.metrics import curves
from reprosuite.studies import grok_local_complexity as glc

CFG = dataclasses.replace(
    glc.TIERS["smoke"], n_train=200, width=16, steps=30, log_points=5, n_adv=16, n_lc=16
)


def test_robustness_delay():
    steps = np.array([0, 10, 100, 1000, 10000])
    train = np.array([0.1, 0.9, 1.0, 1.0, 1.0])
    pgd = np.array([0.0, 0.1, 0.1, 0.3, 0.5])
    assert glc.robustness_delay(steps, train, pgd) == (100.0, 10000.0, 100.0)
    t_interp, t_rob, ratio = glc.robustness_delay(steps, np.full(5, 0.9), pgd)
    assert t_interp == curves.NEVER and t_rob == 10000.0 and math.isnan(ratio)  # never interpolated
    t_interp, t_rob, ratio = glc.robustness_delay(steps, train, np.zeros(5))
    assert t_interp == 100.0 and t_rob == curves.NEVER and ratio == math.inf  # not robust within the budget
    assert math.isnan(glc.robustness_delay(steps, np.ones(5), pgd)[2])  # fit at step 0: no delay to divide


def test_lc_descent_ascent_descent():
    assert glc.lc_descent_ascent_descent([30, 20, 10, 25, 40, 15, 10], rise=0.1) == (10.0, 40.0, 0.25)
    _, peak, ratio = glc.lc_descent_ascent_descent([30, 20, 10, 10.5, 9], rise=0.1)
    assert math.isnan(peak) and ratio == math.inf  # no ascent within the budget (censored by measure)


def synthetic_runs() -> pd.DataFrame:
    rows = []
    steps = [0, 10, 100, 1000]
    for point in ("alpha1", "alpha8", "alpha8-shuffled"):
        for seed in (0, 1):
            curves = {
                ("train", "accuracy"): [0.1, 1.0, 1.0, 1.0],
                ("test", "accuracy"): [0.1, 0.8, 0.9, 0.9],
                ("test", "pgd_accuracy"): [0.0, 0.1, 0.2, 0.5 + 0.1 * seed],
                ("train", "lc"): [30.0, 10.0, 40.0, 8.0],
                ("train", "loss"): [1.0, 0.1, 0.01, 0.001],
            }
            if point.endswith("shuffled"):  # the control: never robust (seed 0); LC never rises (seed 1)
                if seed == 0:
                    curves["test", "pgd_accuracy"] = [0.0, 0.0, 0.0, 0.0]
                else:
                    curves["train", "lc"] = [30.0, 20.0, 19.0, 18.0]
            for (split, metric), values in curves.items():
                rows += [(point, "", seed, s, split, metric, v) for s, v in zip(steps, values, strict=True)]
            rows.append((point, "", seed, 1000, "train", "diverged_at", np.nan))
    return pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])


def test_extract_measure_and_figure():
    import matplotlib.pyplot as plt

    runs = synthetic_runs()
    metrics = glc.extract(runs, CFG)
    assert set(metrics.columns) == {"point", "seed", "metric", "value"}
    measured = glc.measure(metrics, dataclasses.replace(CFG, init_scales=(1.0, 8.0)))
    assert set(measured) == {c.id for c in glc.CLAIMS} | {c.id + claims.CONTROL for c in glc.CLAIMS}
    assert measured["delayed_robustness"] == claims.Sample((100.0, 100.0), (0, 0))
    assert measured["lc_double_descent"].values == pytest.approx((0.2, 0.2))
    # censored control seeds: not robust by the last step (bound 1000 / 10), LC not risen (bound 0)
    assert measured["delayed_robustness/control"] == claims.Sample((100.0, 100.0), (1, 0))
    assert measured["lc_double_descent/control"].censored == (0, 1)
    assert measured["lc_double_descent/control"].values == pytest.approx((0.2, 0.0))
    runs.insert(0, "study", "grok_local_complexity")
    for figure in glc.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)


def test_grid_and_data():
    assert glc.grid(dataclasses.replace(CFG, init_scales=(1.0, 8.0))) == {
        "alpha1": {"init_scale": 1.0},
        "alpha8": {"init_scale": 8.0},
        "alpha8-shuffled": {"init_scale": 8.0, "shuffled": True},
    }
    assert "alpha8-shuffled" not in glc.grid(glc.TIERS["quick"])
    with pytest.raises(ValueError, match="claim_scale"):
        glc.grid(dataclasses.replace(CFG, init_scales=(1.0,)))
    assert glc.datasets(glc.Config()) == ("mnist",) and glc.datasets(CFG) == ()
    data = glc.make_data(CFG)
    assert data["x"].shape == (200, 64) and data["y"].shape == (200,)
    assert sorted(data["y_shuffled"]) == sorted(data["y"]) and (data["y_shuffled"] != data["y"]).mean() > 0.5


def test_training_logs_every_curve():
    pytest.importorskip("torch")
    data = glc.make_data(CFG)
    runs = glc.train(CFG, {"init_scale": 1.0}, data, [0, 1], "cpu")
    assert sorted(runs["seed"].unique()) == [0, 1]
    keys = set(zip(runs["split"], runs["metric"], strict=True))
    assert {("train", "accuracy"), ("test", "pgd_accuracy"), ("train", "lc")} <= keys
    last = runs[runs["step"] == CFG.steps].set_index(["seed", "split", "metric"])["value"]
    first = runs[runs["step"] == 0].set_index(["seed", "split", "metric"])["value"]
    assert last[0, "train", "loss"] < first[0, "train", "loss"]
    pgd, clean = last[0, "test", "pgd_accuracy"], last[0, "test", "accuracy"]
    assert 0.0 <= pgd <= clean + 0.07  # attacked accuracy ≤ clean (up to the subset of attacked points)
    assert 0 < last[0, "train", "lc"] <= 2 * CFG.width


def test_tiers_deviate_from_the_paper_where_explained():
    st = study.get("grok_local_complexity")
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"dataset", "steps", "seeds", "log_points", "n_adv", "n_lc", "lc_directions", "control"}


def test_claims_are_checked_at_full_only_with_a_control():
    for claim in glc.CLAIMS:
        assert claim.kind == "empirical" and claim.control and claim.tiers == ("full",)


def test_local_complexity_counts_the_output_layer():
    torch = pytest.importorskip("torch")
    from reprosuite.engine.analysis import robustness

    data = glc.make_data(CFG)
    runs = glc.train(dataclasses.replace(CFG, steps=0, log_points=1), {"init_scale": 8.0}, data, [0], "cpu")
    logged = runs[(runs["metric"] == "lc") & (runs["step"] == 0)]["value"].iloc[0]
    # the same initial network, its LC with and without the output layer
    from reprosuite.engine.models import layers

    sizes = [64] + [CFG.width] * (CFG.depth - 1) + [10]
    model = layers.EnsembleMLP(sizes, [0], init="uniform_fan_in", bias_init="uniform_fan_in")
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0)
    x = torch.as_tensor(data["x"][: CFG.n_lc])
    dirs = robustness.orthonormal_directions(64, CFG.lc_directions, torch.Generator().manual_seed(0))
    full = robustness.local_complexity(model, x, CFG.lc_radius, dirs, include_output=True).double().mean()
    hidden = robustness.local_complexity(model, x, CFG.lc_radius, dirs).double().mean()
    assert logged == pytest.approx(float(full)) and float(full) > float(hidden)
