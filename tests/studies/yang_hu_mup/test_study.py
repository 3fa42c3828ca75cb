import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.studies import yang_hu_mup as ym
from reprosuite.studies.yang_hu_mup import analysis

CFG = dataclasses.replace(
    config.resolve("yang_hu_mup", "smoke"),
    coord_widths=(64, 128),
    coord_steps=2,
    sweep_widths=(64, 96),
    sweep_lrs=(0.2, 50.0),
    sweep_steps=8,
    loss_window=2,
    loss_size=200,
)


@functools.cache
def mnist1d() -> dict:
    return ym.make_data(CFG)  # ~6 s to generate: once per test run


def test_grid_groups_widths_by_cost():
    quick = config.resolve("yang_hu_mup", "quick")
    assert ym.group_widths(quick.coord_widths, 2) == [[4096], [64, 128, 256, 512, 1024, 2048]]
    assert set(ym.grid(quick)) == {"coord-w4096", "coord-w64-2048", "sweep-w64-256"}
    full = config.resolve("yang_hu_mup", "full")
    assert all(
        sum(ym.width_cost(w, 2) for w in g) <= ym.width_cost(8192, 2)
        for g in ym.group_widths(full.coord_widths, 2)
    )
    assert ym.sweep_log_steps(quick) == [300, 325, 350, 375, 400]


def test_quick_tier_deviations_from_the_paper():
    st = study.get("yang_hu_mup")
    devs = study.deviations(st, config.resolve(st, "quick"), "quick")
    assert {d.field for d in devs} == {
        "seeds",
        "coord_widths",
        "coord_steps",
        "sweep_widths",
        "sweep_lrs",
        "sweep_steps",
        "sweep_batch",
    }
    with pytest.raises(config.ConfigError, match="sweep_params"):
        config.resolve(st, "smoke", {"sweep_params": ["sp", "mu"]})


def test_coordinate_check_rows_and_base_width_equality():
    pytest.importorskip("torch")
    data = mnist1d()
    assert data["x"].shape == (4000, 40) and data["x_test"].shape[1] == 40
    runs = ym.train(CFG, {"kind": "coord", "widths": [64, 128]}, data, [0, 1], "cpu")
    assert runs.groupby(["param", "width", "seed", "step", "split", "metric"]).size().max() == 1
    assert runs.equals(ym.train(CFG, {"kind": "coord", "widths": [64, 128]}, data, [0, 1], "cpu"))
    dh = ym.coord_table(runs.assign(point="coord-w64-128"))
    dh = dh[dh["metric"] == "dh"].set_index(["param", "width", "seed", "step"])["value"]
    assert (dh.xs(0, level="step") == 0).all()  # no update before the first step
    at_base = dh.xs(64, level="width").unstack("param")
    assert (at_base["sp"] == at_base["mup"]).all() and (at_base["sp"] == at_base["ntk"]).all()
    # at width 128 the three differ, and NTK moves features least, SP most (same seeds, same batches)
    wide = dh.xs((128, 2), level=("width", "step")).unstack("param")
    assert (wide["ntk"] < wide["mup"]).all() and (wide["mup"] < wide["sp"]).all()


def test_sweep_marks_diverged_runs_infinite():
    pytest.importorskip("torch")
    data = mnist1d()
    runs = ym.train(CFG, {"kind": "sweep", "widths": [64]}, data, [0], "cpu").assign(point="sweep-w64-96")
    table = ym.sweep_table(runs).set_index(["param", "lr"])["loss"]
    assert np.isfinite(table.loc[("mup", 0.2)]) and table.loc[("mup", 0.2)] < np.log(10) + 0.5
    assert np.isinf(table.loc[("sp", 50.0)])  # lr 50 blows up


def synthetic(mup_losses=(1.5, 1.3, 1.2)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs with dh ∝ width^{0, −0.5, +0.5} and μP/SP sweep losses; the claims' values are known."""
    cfg = dataclasses.replace(
        CFG, coord_widths=(64, 256, 1024), sweep_widths=(64, 128, 256), sweep_lrs=(0.1, 0.4)
    )
    exps = {"mup": 0.0, "ntk": -0.5, "sp": 0.5}
    rows = []
    for seed, c in ((0, 1.0), (1, 0.8), (2, 1.3)):
        for w in cfg.coord_widths:
            point = "coord-w1024" if w == 1024 else "coord-w64-256"
            for p, e in exps.items():
                for step in range(cfg.coord_steps + 1):
                    rows.append((point, p, w, np.nan, seed, step, "coord", "dh", c * step * w**e))
        for i, w in enumerate(cfg.sweep_widths):
            for lr in cfg.sweep_lrs:
                for p in ("sp", "mup"):
                    base = mup_losses[i] if p == "mup" else 1.4
                    value = base + (0.2 if lr == 0.1 else 0.0) + 0.001 * seed
                    for step in (6, 8):
                        rows.append(("sweep-w64-256", p, w, lr, seed, step, "train", "loss", value))
                    rows.append(("sweep-w64-256", p, w, lr, seed, 8, "train", "diverged_at", np.nan))
    columns = ["point", "param", "width", "lr", "seed", "step", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=columns).assign(variant=""), cfg


def test_extract_and_measure_known_values():
    runs, cfg = synthetic()
    metrics = ym.extract(runs, cfg)
    assert set(metrics.columns) == {"point", "seed", "metric", "value", "param", "width", "lr"}
    wide = metrics[(metrics["metric"] == "coord_dh") & (metrics["width"] == 1024)]
    assert set(wide["point"]) == {"coord-w1024"} and set(wide["param"]) == {"sp", "ntk", "mup"}
    # the final step's update: c · T · width^e for seed 0 (c = 1)
    sp0 = wide[(wide["param"] == "sp") & (wide["seed"] == 0)]["value"]
    assert sp0.tolist() == pytest.approx([cfg.coord_steps * 1024**0.5])
    sweep = metrics[metrics["metric"] == "sweep_loss"]
    assert set(sweep["lr"]) == {0.1, 0.4} and set(sweep["point"]) == {"sweep-w64-256"}
    measured = ym.measure(metrics, cfg)
    ids = {c.id for c in ym.CLAIMS}
    assert set(measured) == ids | {i + claims.CONTROL for i in ids}
    assert np.allclose(measured["mup_flat"], 0.0) and np.allclose(measured["mup_flat/control"], 0.5)
    assert np.allclose(measured["ntk_vanishes"], -0.5) and np.allclose(measured["sp_blows_up"], 0.5)
    assert np.allclose(measured["ntk_vanishes/control"], 0.0) and np.allclose(
        measured["sp_blows_up/control"], 0
    )
    assert np.allclose(measured["mup_wider_better"].values, -0.1)
    assert np.allclose(measured["mup_wider_better/control"].values, 0.0)  # SP's losses do not move with width
    # two lrs: both optima sit at the grid's top edge, so the shift is bounded from both sides: unknown
    assert np.isnan(measured["mup_lr_transfer"].values).all()
    best = ym.best_losses(metrics)
    assert set(best["lr"]) == {0.4}
    # a width at which μP gets worse is caught
    worse = ym.measure(ym.extract(synthetic(mup_losses=(1.5, 1.3, 1.35))[0], cfg), cfg)
    assert np.allclose(worse["mup_wider_better"].values, 0.05)


def test_the_optimal_lr_is_a_parabola_vertex_in_log2_lr_and_a_bound_at_the_grid_edge():
    lrs = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
    # a parabola in log2 lr with its vertex at log2(0.4) + 0.25
    x0 = np.log2(0.4) + 0.25
    losses = 1.0 + (np.log2(lrs) - x0) ** 2
    assert analysis.optimum(lrs, losses) == (pytest.approx(x0), 0)
    assert analysis.optimum(lrs, np.arange(5.0)) == (pytest.approx(np.log2(0.1)), -1)
    assert analysis.optimum(lrs, [3, 2, 1, 0.5, np.inf]) == (
        pytest.approx(np.log2(0.8)),
        0,
    )  # neighbour diverged
    assert np.isnan(analysis.optimum(lrs, [np.inf] * 5)[0])
    # the shift between widths, and its censoring when the wide optimum is below the grid
    table = pd.DataFrame(
        [(64, lr, v) for lr, v in zip(lrs, losses, strict=True)]
        + [(256, lr, v) for lr, v in zip(lrs, np.arange(5.0), strict=True)],
        columns=["width", "lr", "value"],
    )
    shift, flag = analysis.lr_shift(table)
    assert shift == pytest.approx(np.log2(0.1) - x0) and flag == -1
    # the transferred lr: the narrow width's best (0.4 here) is used at the wide one, which diverged there
    table = pd.DataFrame(
        [
            (64, 0.2, 1.2),
            (64, 0.4, 1.0),
            (128, 0.2, 1.1),
            (128, 0.4, 0.9),
            (256, 0.2, 1.0),
            (256, 0.4, np.inf),
        ],
        columns=["width", "lr", "value"],
    )
    rise, bound = analysis.transferred_increase(table)
    assert np.isinf(rise) and bound == pytest.approx(np.log(10) - 0.9)


def test_figures_draw():
    import matplotlib.pyplot as plt

    runs, cfg = synthetic()
    metrics = ym.extract(runs, cfg)
    for figure in ym.FIGURES:
        fig = figure.draw(runs, metrics, cfg)
        assert fig.axes
        plt.close(fig)
