import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.engine.train import checkpoint, trainer
from reprosuite.studies import ibp_tightness_dln as st

CFG = dataclasses.replace(
    config.resolve("ibp_tightness_dln", "smoke"),
    seeds=2,
    depths=(2, 3),
    widths=(32, 256),
    min_width=32,
    train_width=32,
    steps=60,
    log_points=3,
)


def test_theory_matches_the_engine():
    from reprosuite.engine.analysis import ibp

    for depth, width in [(2, 16), (3, 64), (5, 1024)]:
        assert st.theory(depth, width) == pytest.approx(ibp.tightness_theory([width] * (depth - 1)))
    assert st.theory(1, 100) == 1.0


def test_init_point_follows_the_closed_form():
    runs = st.train(CFG, {"kind": "init"}, {}, [0, 1], "cpu")
    runs.insert(0, "point", "init")
    table = st.init_table(runs)
    assert len(table) == 2 * 2 * 2
    assert table["ratio"].between(0.8, 1.2).all()
    # independent draws per (depth, width, seed)
    assert table.groupby("variant")["tightness"].nunique().min() == 2


def test_training_tightens_ibp_members():
    data = st.make_data(CFG)
    cfg = dataclasses.replace(CFG, steps=120, lr=3e-3)
    runs = st.train(cfg, {"kind": "train"}, data, [0, 1], "cpu")
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    tau = runs[runs["metric"] == "tightness"].pivot_table(
        index=["step", "seed"], columns="variant", values="value"
    )
    first, last = tau.loc[0], tau.loc[cfg.steps]
    np.testing.assert_allclose(first["ibp"], first["standard"])  # same initial nets
    assert (last["ibp"] > 2 * last["standard"]).all()
    assert (last["ibp"] > 2 * first["ibp"]).all()


def test_the_control_arm_is_standard_training_from_another_initial_net():
    data = st.make_data(CFG)
    cfg = dataclasses.replace(CFG, steps=120, lr=3e-3)
    assert st.grid(cfg)["train"]["modes"] == ["standard", "standard_b", "ibp"]
    assert st.grid(dataclasses.replace(cfg, control=False))["train"]["modes"] == ["standard", "ibp"]
    runs = st.train(cfg, st.grid(cfg)["train"], data, [0, 1], "cpu")
    assert set(runs["seed"]) == {0, 1}
    tau = runs[runs["metric"] == "tightness"].pivot_table(
        index=["step", "seed"], columns="variant", values="value"
    )
    first, last = tau.loc[0], tau.loc[cfg.steps]
    assert (first["standard_b"] != first["standard"]).all()  # an independent initial net
    assert (last["ibp"] > 2 * last["standard_b"]).all()
    # the other arms train as they do without the control beside them
    alone = st.train(cfg, {"kind": "train"}, data, [0, 1], "cpu")
    key = ["variant", "seed", "step", "split", "metric"]
    both = runs[runs["variant"] != "standard_b"].sort_values(key)["value"].to_numpy()
    np.testing.assert_allclose(both, alone.sort_values(key)["value"].to_numpy(), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="last"):
        st.train(cfg, {"kind": "train", "modes": ["ibp", "standard"]}, data, [0], "cpu")


class Killed(Exception):
    pass


def test_training_killed_mid_epoch_resumes_to_the_same_run_table(tmp_path, monkeypatch):
    data = st.make_data(CFG)
    cfg = dataclasses.replace(CFG, steps=30)  # digits: 1500 // 128 = 11 steps per epoch
    reference = st.train(cfg, {"kind": "train"}, data, [0, 1], "cpu")
    fit = trainer.fit

    def fit_killed_at_step_16(loss_fn, *args, **kwargs):
        def loss_or_crash(step):
            if step == 16:  # mid-way through the second epoch
                raise Killed
            return loss_fn(step)

        return fit(loss_or_crash, *args, **kwargs)

    monkeypatch.setattr(trainer, "fit", fit_killed_at_step_16)
    with checkpoint.checkpointing(tmp_path, "ibp", every_s=0.0), pytest.raises(Killed):
        st.train(cfg, {"kind": "train"}, data, [0, 1], "cpu")
    monkeypatch.setattr(trainer, "fit", fit)
    with checkpoint.checkpointing(tmp_path, "ibp", every_s=0.0):
        resumed = st.train(cfg, {"kind": "train"}, data, [0, 1], "cpu")
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_mnist_is_a_required_dataset_and_tiers_deviate_where_explained():
    assert st.datasets(st.Config()) == ("mnist",) and st.datasets(st.TIERS["full"]) == ("mnist",)
    assert st.TIERS["full"] == st.Config() and st.datasets(st.TIERS["quick"]) == ()
    with pytest.raises(config.ConfigError, match="dataset"):
        config.resolve("ibp_tightness_dln", "smoke", {"dataset": "cifar10"})
    s = study.get("ibp_tightness_dln")
    devs = study.deviations(s, config.resolve(s, "quick"), "quick")
    assert {d.field for d in devs} == {
        "dataset",
        "seeds",
        "depths",
        "widths",
        "train_width",
        "steps",
        "log_points",
    }


def synthetic_runs(slope_error: float = 0.0) -> pd.DataFrame:
    rows = []
    nan = math.nan
    for seed in (0, 1):
        for depth in (2, 3):
            for width in (16, 64, 256):
                theo = st.theory(depth, width)
                tau = theo * (width / 16) ** slope_error * (1.1 if seed == 1 else 1.0)
                init = ("init", f"L{depth}-n{width}", depth, width, nan, seed, 0, "init")
                rows.append((*init, "tightness", tau))
                rows.append((*init, "theory", theo))
        for mode, values in (("standard", (0.03, 0.05)), ("ibp", (0.03, 0.8)), ("standard_b", (0.03, 0.06))):
            for step, tau in zip((0, 100), values, strict=True):
                test = ("train", mode, nan, nan, mode, seed, step, "test")
                rows.append((*test, "tightness", tau * (1 + seed)))
                rows.append((*test, "accuracy", 0.9))
                rows.append((*test, "certified_accuracy", 0.5 if mode == "ibp" else 0))
            rows.append(("train", mode, nan, nan, mode, seed, 100, "train", "diverged_at", nan))
    columns = ["point", "variant", "depth", "width", "mode", "seed", "step", "split", "metric", "value"]
    runs = pd.DataFrame(rows, columns=columns)
    runs.insert(0, "study", "ibp_tightness_dln")
    return runs


def test_extract_and_measure():
    cfg = dataclasses.replace(CFG, min_width=64)
    metrics = st.extract(synthetic_runs(slope_error=0.05), cfg)
    assert set(metrics.columns) == {"point", "seed", "metric", "depth", "width", "mode", "value"}
    assert len(metrics[(metrics.metric == "ratio") & (metrics.depth == 3)]) == 2 * 3
    measured = st.measure(metrics, cfg)
    assert set(measured) == {c.id for c in st.CLAIMS} | {"ibp_training_tightens/control"}
    # widths ≥ 64 only: (64/16)^0.05 and (256/16)^0.05, times 1.1 on seed 1
    assert measured["init_closed_form"] == pytest.approx([16**0.05 - 1, 1.1 * 16**0.05 - 1])
    assert measured["init_width_slope"] == pytest.approx([0.05, 0.05])
    assert measured["ibp_training_tightens"] == pytest.approx([16.0, 16.0])
    assert measured["ibp_training_tightens/control"] == pytest.approx([1.2, 1.2])


def test_figures_draw():
    import matplotlib.pyplot as plt

    runs = synthetic_runs()
    metrics = st.extract(runs, CFG)
    for figure in st.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)
