import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
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
    assert t_interp == 100.0 and t_rob == curves.NEVER and math.isnan(ratio)  # never robust
    assert math.isnan(glc.robustness_delay(steps, np.ones(5), pgd)[2])  # fit at step 0: no delay to divide


def test_lc_descent_ascent_descent():
    assert glc.lc_descent_ascent_descent([30, 20, 10, 25, 40, 15, 10], rise=0.1) == (10.0, 40.0, 0.25)
    _, peak, ratio = glc.lc_descent_ascent_descent([30, 20, 10, 10.5, 9], rise=0.1)
    assert math.isnan(peak) and ratio == math.inf  # no ascent: the claim cannot hold


def synthetic_runs() -> pd.DataFrame:
    rows = []
    steps = [0, 10, 100, 1000]
    for point in ("alpha1", "alpha8"):
        for seed in (0, 1):
            curves = {
                ("train", "accuracy"): [0.1, 1.0, 1.0, 1.0],
                ("test", "accuracy"): [0.1, 0.8, 0.9, 0.9],
                ("test", "pgd_accuracy"): [0.0, 0.1, 0.2, 0.5 + 0.1 * seed],
                ("train", "lc"): [30.0, 10.0, 40.0, 8.0],
                ("train", "loss"): [1.0, 0.1, 0.01, 0.001],
            }
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
    assert set(measured) == {c.id for c in glc.CLAIMS}
    assert list(measured["delayed_robustness"]) == pytest.approx([100.0, 100.0])
    assert list(measured["lc_double_descent"]) == pytest.approx([0.2, 0.2])
    runs.insert(0, "study", "grok_local_complexity")
    for figure in glc.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)


def test_grid_and_data():
    assert glc.grid(dataclasses.replace(CFG, init_scales=(1.0, 8.0))) == {
        "alpha1": {"init_scale": 1.0},
        "alpha8": {"init_scale": 8.0},
    }
    with pytest.raises(ValueError, match="claim_scale"):
        glc.grid(dataclasses.replace(CFG, init_scales=(1.0,)))
    assert glc.datasets(glc.Config()) == ("mnist",) and glc.datasets(CFG) == ()
    data = glc.make_data(CFG)
    assert data["x"].shape == (200, 64) and data["y"].shape == (200,)


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
    assert quick == {"dataset", "steps", "seeds", "log_points", "n_adv", "n_lc", "lc_directions"}
