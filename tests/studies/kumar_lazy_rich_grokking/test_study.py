import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import kumar_lazy_rich_grokking as kr

CFG = dataclasses.replace(
    config.resolve("kumar_lazy_rich_grokking", "smoke"),
    dim=10,
    n_train=60,
    width=32,
    alphas=(0.5, 4.0),
    epochs=600,
    n_test=200,
    align_points=50,
    align_logs=12,
    mse_every=20,
)


def test_data_and_grid():
    data = kr.make_data(CFG)
    assert data["x_train"].shape == (2, 60, 10) and data["x_test"].shape == (2, 200, 10)
    # x ~ N(0, I/D): squared norms ≈ 1; targets are (β·x)²/2 ≥ 0 with mean |β|²/(2D) ≈ 0.5
    assert np.mean((data["x_test"] ** 2).sum(-1)) == pytest.approx(1.0, rel=0.1)
    assert (data["y_train"] >= 0).all() and data["y_test"].mean() == pytest.approx(0.5, rel=0.5)
    again = kr.make_data(CFG)
    assert all(np.array_equal(data[k], again[k]) for k in data)
    assert list(kr.grid(CFG)) == ["all"]


def test_quick_deviates_from_fig1_in_size_and_budget():
    st = study.get("kumar_lazy_rich_grokking")
    fields = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert fields == {
        "dim", "n_train", "width", "eps", "alphas", "epochs", "align_points", "align_logs", "mse_every",
    }  # fmt: skip
    assert study.deviations(st, config.resolve(st, "full"), "full") == []


@pytest.fixture(scope="module")
def runs():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    out = kr.train(CFG, kr.grid(CFG)["all"], kr.make_data(CFG), [0, 1], torch.device("cpu"))
    out.insert(0, "point", "all")
    return out


def test_runs_are_tidy_and_lazy_vs_rich(runs):
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    assert set(runs["alpha"]) == {0.5, 4.0}
    mse = runs[(runs["metric"] == "mse") & (runs["split"] == "train")]
    assert sorted(mse["step"].unique())[:3] == [0, 20, 40]
    first = mse[mse["step"] == 0]["value"].to_numpy()
    last = mse[mse["step"] == CFG.epochs]["value"].to_numpy()
    assert (last < 0.5 * first).all()  # the centred network fits the training set
    change = runs[runs["metric"] == "weight_change"]
    final = change[change["step"] == CFG.epochs].groupby("alpha")["value"].mean()
    assert final[0.5] > 2 * final[4.0]  # small α moves its features (rich), large α stays lazy
    # at step 0 the network is its own linearisation: equal losses, alignment ratio 1
    lin0 = runs[(runs["metric"] == "lin_mse") & (runs["step"] == 0)].set_index(["variant", "seed", "split"])
    net0 = runs[(runs["metric"] == "mse") & (runs["step"] == 0)].set_index(["variant", "seed", "split"])
    assert np.allclose(lin0["value"].sort_index(), net0["value"].sort_index(), rtol=1e-5)
    ratio0 = runs[(runs["metric"] == "alignment_ratio") & (runs["step"] == 0)]["value"]
    assert np.allclose(ratio0, 1.0)


def test_training_is_deterministic(runs):
    torch = pytest.importorskip("torch")
    cfg = dataclasses.replace(CFG, epochs=40, align_logs=4)
    a = kr.train(cfg, kr.grid(cfg)["all"], kr.make_data(cfg), [0, 1], torch.device("cpu"))
    b = kr.train(cfg, kr.grid(cfg)["all"], kr.make_data(cfg), [0, 1], torch.device("cpu"))
    pd.testing.assert_frame_equal(a, b)


def synthetic_runs() -> pd.DataFrame:
    """Two α × one seed with hand-set curves: known times, alignment ratios and lazy minimum."""
    rows = []

    def add(alpha, split, metric, steps, values):
        rows.extend(
            ("all", f"alpha{alpha:g}", alpha, 0, s, split, metric, v)
            for s, v in zip(steps, values, strict=True)
        )

    steps = [0, 10, 20, 30, 40]
    for alpha, tr, te, lazy in (
        (1.0, [1, 0.5, 0.04, 0.01, 0.01], [1, 0.9, 0.6, 0.04, 0.01], [1, 0.5, 0.3, 0.3, 0.3]),
        (2.0, [1, 0.04, 0.01, 0.01, 0.01], [1, 0.9, 0.9, 0.9, 0.9], [1, 0.4, 0.2, 0.2, 0.2]),
    ):
        add(alpha, "train", "mse", steps, tr)
        add(alpha, "test", "mse", steps, te)
        add(alpha, "test", "lin_mse", steps, lazy)
        add(alpha, "train", "target_var", [0], [0.5])
        add(alpha, "test", "target_var", [0], [0.5])
        add(alpha, "test", "alignment_ratio", [0, 15, 25, 40], [1.0, 1.5, 3.0, 4.0])
    columns = ["point", "variant", "alpha", "seed", "step", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def test_extract_and_measure_on_known_curves():
    cfg = dataclasses.replace(CFG, alphas=(1.0, 2.0))
    table = kr.member_table(synthetic_runs(), cfg).set_index("alpha")
    # threshold 0.1 · Var = 0.05: α = 1 fits at 20, generalises at 30; α = 2 fits at 10, never generalises
    assert table.loc[1.0, "t_train"] == 20 and table.loc[1.0, "t_test"] == 30
    assert table.loc[1.0, "delay"] == pytest.approx(1.5)
    assert table.loc[1.0, "align_ratio_at_t_test"] == 3.0  # last alignment logged at or before t_test = 30
    assert table.loc[2.0, "t_test"] == math.inf and table.loc[2.0, "delay"] == math.inf
    assert table.loc[2.0, "lazy_min_test"] == pytest.approx(0.4)
    out = kr.measure(kr.extract(synthetic_runs(), cfg), cfg)
    assert out["delay_at_alpha1"] == [pytest.approx(1.5)]
    assert out["alignment_rises"] == [3.0]
    assert out["lazy_never_generalises"] == [pytest.approx(0.4)]  # min over α of 0.6 and 0.4
    assert "delay_grows_with_alpha" not in out  # needs ≥ 3 α


def test_delay_spearman_ranks_never_generalising_last():
    rows = []
    for seed, delays in ((0, [1.5, 3.0, math.inf]), (1, [2.0, 1.0, 4.0])):
        for alpha, d in zip((0.5, 1.0, 2.0), delays, strict=True):
            rows.append(("all", alpha, seed, "delay", d))
            rows.append(("all", alpha, seed, "lazy_min_test", 1.0))
    out = kr.measure(pd.DataFrame(rows, columns=["point", "alpha", "seed", "metric", "value"]), CFG)
    assert out["delay_grows_with_alpha"] == [pytest.approx(1.0), pytest.approx(0.5)]
