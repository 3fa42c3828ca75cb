import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.studies import lr_batch_rmt as st

CFG = dataclasses.replace(
    st.TIERS["smoke"],
    hidden=(8,),
    batch_sizes=(16, 32, 64),
    slope_max_batch=64,
    sgd_log2_lr=(-2.0, 2.0),
    adam_log2_lr=(-6.0, -2.0),
    lr_step_log2=1.0,
    hessian_batches=2,
    power_iters=5,
    seeds=2,
)


def test_grid_and_lr_grid():
    assert st.grid(CFG) == {
        "hessian": {"kind": "hessian"},
        "B16": {"kind": "lr", "batch": 16},
        "B32": {"kind": "lr", "batch": 32},
        "B64": {"kind": "lr", "batch": 64},
    }
    assert st.lr_grid(-2.0, 0.0, 0.5) == [-2.0, -1.5, -1.0, -0.5, 0.0]
    with pytest.raises(ValueError, match="VGG-16 trains on CIFAR-100"):
        st.grid(dataclasses.replace(st.Config(), model="mlp"))  # the MLP on CIFAR-100: refused before any job


def test_quick_tier_deviations_from_the_paper():
    s = study.get("lr_batch_rmt")
    devs = study.deviations(s, config.resolve(s, "quick"), "quick")
    assert {d.field for d in devs} == {
        "dataset",
        "model",
        "augment",
        "momentum",
        "seeds",
        "sgd_log2_lr",
        "adam_log2_lr",
        "eval_examples",
        "hessian_batches",
        "power_iters",
    }
    with pytest.raises(config.ConfigError, match="optimizers"):
        config.resolve(s, "smoke", {"optimizers": ["sgd", "lamb"]})


def synthetic_runs(eta: dict[str, dict[int, float]], lam: dict[int, float], full: float) -> pd.DataFrame:
    """A run table as ``train`` writes it: members stable up to log2 η_max[opt][B], Hessian rows per seed."""
    rows = []
    for seed in (0, 1):
        for b, value in lam.items():
            rows.append(
                ("hessian", None, np.nan, seed, 0, "hessian", f"lambda_B{b}", value * (1 + 0.01 * seed))
            )
        rows.append(("hessian", None, np.nan, seed, 0, "hessian", "lambda_full", full))
        for opt_name, per_batch in eta.items():
            span = CFG.sgd_log2_lr if opt_name == "sgd" else CFG.adam_log2_lr
            for b, top in per_batch.items():
                for k in st.lr_grid(*span, CFG.lr_step_log2):
                    final = 1.0 if k <= top else np.inf
                    rows.append((f"B{b}", opt_name, k, seed, 0, "train", "loss", 2.3))
                    rows.append((f"B{b}", opt_name, k, seed, 5, "train", "loss", final))
                    dead = 3.0 if not np.isfinite(final) else np.nan
                    rows.append((f"B{b}", opt_name, k, seed, 5, "train", "diverged_at", dead))
    columns = ["point", "optimizer", "log2_lr", "seed", "step", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=columns).assign(variant="")


def test_extract_and_measure():
    eta = {"sgd": {16: -2.0, 32: -1.0, 64: 0.0}, "adam": {16: -6.0, 32: -5.0, 64: -5.0}}
    runs = synthetic_runs(eta, {16: 8.0, 32: 6.0, 64: 5.0, 512: 4.2}, full=4.0)
    metrics = st.extract(runs, CFG)
    assert set(metrics.columns) == {"point", "seed", "metric", "value", "optimizer"}
    lookup = metrics.set_index(["point", "seed", "optimizer", "metric"])["value"]
    assert lookup["B32", 0, "sgd", "log2_lr_max"] == -1.0
    assert lookup["B64", 1, "adam", "log2_lr_max"] == -5.0
    measured = st.measure(metrics, CFG)
    controls = {c.id + claims.CONTROL for c in st.CLAIMS if c.control}
    assert set(measured) == {c.id for c in st.CLAIMS} | controls
    assert measured["lambda_decreases_with_batch"] == pytest.approx([-1.0, -1.0])
    assert measured["batch_exceeds_full"] == pytest.approx([2.0, 2.02])
    assert measured["batch_exceeds_full/control"] == pytest.approx([1.05, 1.0605])  # λ(H_512) / λ_full
    assert measured["sgd_linear_scaling"] == pytest.approx([1.0, 1.0])
    assert measured["adam_sqrt_scaling"] == pytest.approx([0.5, 0.5])
    # each slope claim's control is the other optimiser's slope, through the same function
    assert measured["sgd_linear_scaling/control"] == measured["adam_sqrt_scaling"]
    assert measured["adam_sqrt_scaling/control"] == measured["sgd_linear_scaling"]


def test_claim_kinds_and_controls():
    kinds = {c.id: c.kind for c in st.CLAIMS}
    assert kinds["lambda_decreases_with_batch"] == "sanity"
    assert all(c.control for c in st.CLAIMS if c.kind == "empirical")
    assert {c.id for c in st.CLAIMS if c.kind == "empirical"} == {
        "batch_exceeds_full",
        "sgd_linear_scaling",
        "adam_sqrt_scaling",
    }


def test_eta_max_at_the_top_of_the_grid_is_unmeasured():
    eta = {"sgd": {16: -2.0, 32: 2.0, 64: 2.0}, "adam": {16: -6.0, 32: -5.0, 64: -4.0}}
    metrics = st.extract(synthetic_runs(eta, {16: 8.0, 32: 6.0, 64: 5.0}, full=4.0), CFG)
    lookup = metrics.set_index(["point", "seed", "optimizer", "metric"])["value"]
    assert np.isnan(lookup["B32", 0, "sgd", "log2_lr_max"])
    assert all(np.isnan(st.measure(metrics, CFG)["sgd_linear_scaling"]))


def test_figures_draw():
    import matplotlib.pyplot as plt

    eta = {"sgd": {16: -2.0, 32: -1.0, 64: 0.0}, "adam": {16: -6.0, 32: -5.0, 64: -5.0}}
    runs = synthetic_runs(eta, {16: 8.0, 32: 6.0, 64: 5.0}, full=4.0)
    metrics = st.extract(runs, CFG)
    for figure in st.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)


def test_training_produces_both_tables():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(128, 5)).astype(np.float32), "y": rng.integers(0, 3, 128).astype(np.int64)}
    cfg = dataclasses.replace(CFG, batch_sizes=(16, 64), control_batch=128)
    hess = st.train(cfg, {"kind": "hessian"}, data, [0, 1], torch.device("cpu"))
    assert set(hess["metric"]) == {"lambda_B16", "lambda_B64", f"lambda_B{cfg.control_batch}", "lambda_full"}
    assert (hess["value"] > 0).all()
    runs = st.train(cfg, {"kind": "lr", "batch": 16}, data, [0, 1], "cpu")
    n_sgd = len(st.lr_grid(*cfg.sgd_log2_lr, cfg.lr_step_log2))
    n_adam = len(st.lr_grid(*cfg.adam_log2_lr, cfg.lr_step_log2))
    members = runs[["optimizer", "log2_lr"]].drop_duplicates()
    assert len(members) == n_sgd + n_adam
    assert set(members[members["optimizer"] == "sgd"]["log2_lr"]) == set(st.lr_grid(*cfg.sgd_log2_lr, 1.0))
    assert set(runs["step"]) == {0, cfg.epochs * (128 // 16)}


def test_members_trained_in_turn_give_each_member_its_result(monkeypatch):
    """At B = 512 on a CPU the (learning rate, seed) members are trained one after another (layers.train_parts):
    the same rows, each member's values as in one ensemble up to float rounding."""
    pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    rng = np.random.default_rng(1)
    data = {"x": rng.normal(size=(128, 5)).astype(np.float32), "y": rng.integers(0, 3, 128).astype(np.int64)}
    point = {"kind": "lr", "batch": 32}
    together = st.train(CFG, point, data, [0, 1], "cpu")
    monkeypatch.setattr(layers, "TURN_BYTES", 0)
    in_turn = st.train(CFG, point, data, [0, 1], "cpu")
    keys = ["variant", "seed", "step", "split", "metric"]
    a, b = (f.sort_values(keys).reset_index(drop=True) for f in (together, in_turn))
    pd.testing.assert_frame_equal(b.drop(columns="value"), a.drop(columns="value"))
    np.testing.assert_allclose(b["value"], a["value"], rtol=1e-5, atol=1e-6)
    assert a["value"].notna().sum() > len(a) // 2
