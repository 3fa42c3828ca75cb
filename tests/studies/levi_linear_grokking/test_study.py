import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import levi_linear_grokking as lev

CFG = dataclasses.replace(
    config.resolve("levi_linear_grokking", "smoke"),
    d_in=20,
    lambdas=(0.25, 0.6),
    weight_decays=(0.0, 0.5),
    steps=2500,
    n_test=400,
    log_points=80,
)


def test_data_and_grid():
    data = lev.make_data(CFG)
    n_max = lev.n_train(CFG, 0.25)
    assert n_max == 80 and lev.n_train(CFG, 0.6) == 33
    assert data["x_train"].shape == (2, n_max, 20) and data["x_test"].shape == (2, 400, 20)
    assert data["teacher_d1"].shape == (2, 20, 1)
    assert data["teacher_d1"].std() == pytest.approx(math.sqrt(1 / 40), rel=0.3)
    again = lev.make_data(CFG)
    assert all(np.array_equal(data[k], again[k]) for k in data)
    assert not np.array_equal(data["x_train"][0], data["x_train"][1])  # seeds differ
    full = config.resolve("levi_linear_grokking", "full")
    assert set(lev.grid(full)) == {"dout1", "dout10"}


def test_tiers_deviate_from_the_paper_in_size_and_budget():
    st = study.get("levi_linear_grokking")
    fields = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert fields == {"d_in", "d_outs", "steps", "n_test", "log_points"}
    smoke = {d.field for d in study.deviations(st, config.resolve(st, "smoke"), "smoke")}
    assert smoke == fields | {"seeds", "lambdas", "epsilons", "weight_decays"}


@pytest.fixture(scope="module")
def runs():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    data = lev.make_data(CFG)
    out = lev.train(CFG, lev.grid(CFG)["dout1"], data, [0, 1], torch.device("cpu"))
    out.insert(0, "point", "dout1")
    return out, data


def test_training_is_exact_gradient_descent(runs):
    """The logged train MSE equals the closed form D(t) = (I − 2ηΣ)ᵗ D₀ of full-batch GD (wd 0)."""
    pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    table, data = runs
    seed, n = 1, lev.n_train(CFG, 0.6)
    x = data["x_train"][seed, :n].astype(float)
    cov = x.T @ x / n
    s0 = layers.init_weight((20, 1), "gaussian", layers.generators([seed]), math.sqrt(1 / 40))[0].numpy()
    d = s0 - data["teacher_d1"][seed]
    step_matrix = np.eye(20) - 2 * CFG.lr * cov
    sel = table[
        (table["wd"] == 0.0) & (table["lam"] == 20 / n) & (table["seed"] == seed) & (table["whitened"] == 0)
    ]
    mse = sel[(sel["split"] == "train") & (sel["metric"] == "mse")].set_index("step")["value"]
    for step in (0, int(mse.index[len(mse) // 3]), int(mse.index[len(mse) // 2])):
        dt = np.linalg.matrix_power(step_matrix, step) @ d
        assert mse[step] == pytest.approx(float((dt.T @ cov @ dt).item()), rel=1e-8)
    spec = sel[sel["split"] == "spectrum"].sort_values("step")["value"].to_numpy()
    assert np.allclose(spec, np.linalg.eigvalsh(cov))


def test_runs_are_tidy_and_grok(runs):
    table, _ = runs
    assert table.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    settings = set(zip(table["wd"], table["lam"], strict=True))
    assert settings == {(wd, 20 / n) for wd in (0.0, 0.5) for n in (80, 33)}
    st = lev.settings_table(table, CFG)
    no_wd = st[(st["wd"] == 0) & (st["whitened"] == 0)]
    assert (no_wd["t_train"] < no_wd["t_test"]).all() and np.isfinite(no_wd["t_train"]).all()
    assert (no_wd["test_mse_rise"] <= 0).all()  # monotone without weight decay
    # measured times agree with the prediction from each run's own spectrum
    reached = no_wd[np.isfinite(no_wd["t_test"])]
    assert not reached.empty
    assert np.allclose(reached["t_train"], reached["pred_train"], rtol=0.3)
    # a large weight decay keeps the student away from the teacher: the test level is never reached
    assert not np.isfinite(st[st["wd"] == 0.5]["t_test"]).any()


def test_whitened_control_has_an_isotropic_spectrum_and_no_lag(runs):
    table, _ = runs
    ctrl = table[table["whitened"] == 1]
    assert set(ctrl["wd"]) == {0.0} and set(ctrl["lam"]) == {20 / 80, 20 / 33}
    spec = ctrl[ctrl["split"] == "spectrum"]["value"]
    assert np.allclose(spec, 1.0)  # Σ = I exactly: no Marchenko–Pastur spread
    st = lev.settings_table(table, CFG)
    white = st[st["whitened"] == 1]
    # every mode decays at one rate: train and test reach the level within a few log-grid steps of each other
    assert np.all(np.abs(np.log(white["t_test"] / white["t_train"])) < 0.15)


def synthetic_metrics() -> pd.DataFrame:
    rows = []
    # seed 0: ratio rises with λ at both ε; seed 1: one inversion and one test-before-train setting
    times = {
        0: {0.2: (100, 110), 0.5: (200, 300), 0.8: (300, math.inf)},
        1: {0.2: (100, 150), 0.5: (200, 240), 0.8: (300, 200)},
    }
    for seed, by_lam in times.items():
        for lam, (tr, te) in by_lam.items():
            at = ("dout1", 1, 0, 0.0, lam, 1e-3, seed)
            rows += [
                (*at, "t_train", tr),
                (*at, "t_test", te),
                (*at, "ratio", te / tr),
                (*at, "pred_train", tr),
                (*at, "pred_test", te),
            ]
            rows.append(("dout1", 1, 0, 0.0, lam, math.nan, seed, "test_mse_rise", -0.1 * seed))
        # a weight-decay setting whose train accuracy never reaches the level: left out of the lag claims
        at = ("dout1", 1, 0, 0.01, 0.5, 1e-3, seed)
        rows += [(*at, "t_train", math.inf), (*at, "t_test", math.inf), (*at, "ratio", math.nan)]
        rows.append(("dout1", 1, 0, 0.01, 0.5, math.nan, seed, "test_mse_rise", 0.2 if seed else 0.0))
    columns = ["point", "d_out", "whitened", "wd", "lam", "eps", "seed", "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def test_measure_on_known_table():
    cfg = dataclasses.replace(CFG, epsilons=(1e-3,))
    out = lev.measure(synthetic_metrics(), cfg)
    assert out["test_lags_train"].values == (1.0, pytest.approx(2 / 3))
    # seed 0: ratios 1.1, 1.5 and a never-reached test time whose bound 2500 / 300 = 8.3 keeps the order (ρ = 1
    # at both ends: exact); seed 1: 1.5, 1.2, 0.67 (ρ = −1)
    rises = out["lag_rises_with_lambda"]
    assert rises.values == (pytest.approx(1.0), pytest.approx(-1.0)) and rises.censored == (0, 0)
    assert out["test_loss_monotone"].values == (0.0, 0.2)
    assert out["test_loss_monotone_wd0"].values == (0.0, pytest.approx(-0.1))
    assert "test_lags_train/control" not in out  # no whitened members in this table


def test_censored_ratio_that_decides_the_rank_is_a_lower_bound():
    g = pd.DataFrame({"lam": [0.2, 0.5, 0.8], "t_train": [100, 200, 2000], "ratio": [1.1, 1.5, math.inf]})
    # at its bound 2500 / 2000 = 1.25 the never-reached ratio ranks second (ρ = 0.5); beyond every ratio, last
    assert lev.ratio_spearman(g, 2500) == (pytest.approx(0.5), pytest.approx(1.0))


def test_extract_round_trips_through_metric_table(runs):
    table, _ = runs
    metrics = lev.extract(table, CFG)
    assert set(metrics.columns) == {
        "point",
        "d_out",
        "whitened",
        "wd",
        "lam",
        "eps",
        "seed",
        "metric",
        "value",
    }
    wide = lev.metric_table(metrics)
    assert len(wide) == 2 * (2 * 2 + 2) * len(CFG.epsilons)  # seeds × (wd × λ + the control's λ) × ε
    values = lev.measure(metrics, CFG)
    assert values["test_lags_train"].values == (1.0, 1.0)
    assert all(v <= 0 for v in values["test_loss_monotone_wd0"].values)
    assert len(values["test_lags_train/control"].values) == 2


def test_shared_inputs_equal_a_batched_computation_over_member_copies():
    """training_inputs, batched_errors and cov_times_on_cpu, which compute once per (seed, N) or per seed without
    per-member copies of the data, give what the batched computation over (M, n_max, d) copies gives, to float64
    rounding: bit for bit where the CPU's kernels sum in the same order for both shapes, which not every CPU does."""
    torch = pytest.importorskip("torch")

    def same(a, b):
        return a.shape == b.shape and torch.allclose(a, b, rtol=1e-12, atol=1e-13)

    g = torch.Generator().manual_seed(0)
    n_max, d = 40, 16
    pool = torch.randn(2, n_max, d, dtype=torch.float64, generator=g)
    ns = (40, 27, 18)
    keys = [(p, n, 0) for p in (0, 1) for _ in range(2) for n in ns] + [(p, n, 1) for p in (0, 1) for n in ns]
    idx = torch.tensor([p for p, _, _ in keys])
    mask = torch.arange(n_max).unsqueeze(0) < torch.tensor([n for _, n, _ in keys]).unsqueeze(1)
    count = mask.sum(1).to(torch.float64)
    x = pool[idx] * mask.unsqueeze(-1)  # (M, n_max, d): per-member copies, rows beyond N zero
    cov = x.transpose(1, 2) @ x / count.view(-1, 1, 1)
    white = torch.tensor([bool(w) for *_, w in keys])
    lam, vec = torch.linalg.eigh(cov[white])
    x[white] = x[white] @ (vec @ torch.diag_embed(lam.rsqrt()) @ vec.transpose(1, 2))
    cov[white] = x[white].transpose(1, 2) @ x[white] / count[white].view(-1, 1, 1)

    lean_cov, eig, whitened = lev.training_inputs(pool, keys, count)
    assert same(lean_cov, cov) and same(eig, torch.linalg.eigvalsh(cov))
    assert sorted(whitened) == sorted(ns) and all(len(sel) == 2 for sel, _ in whitened.values())
    for n, (sel, inputs) in whitened.items():
        assert same(inputs, x[sel, :n])

    for d_out in (1, 3):
        diff = torch.randn(len(keys), d, d_out, dtype=torch.float64, generator=g)
        errors = ((x @ diff) ** 2).mean(-1)  # (M, n_max)
        plain = [m for m, (p, _, w) in enumerate(keys) if p == 1 and not w]
        lean = lev.batched_errors(pool[1], diff[plain])  # the seed's pool shared by its members
        assert same(lean * mask[plain], errors[plain])
        for n, (sel, inputs) in whitened.items():
            assert same(lev.batched_errors(inputs, diff[sel], rows=n_max), errors[sel, :n])
        assert same(lev.batched_errors(pool[0], diff[:1]), errors[:1])  # a lone member as in the batch

    diff = torch.randn(len(keys), d, 1, dtype=torch.float64, generator=g, requires_grad=True)
    weights = torch.randn(len(keys), d, 1, dtype=torch.float64, generator=g)
    direct = (cov * diff.transpose(1, 2)).sum(-1, keepdim=True)
    (grad,) = torch.autograd.grad((direct * weights).sum(), diff)
    product = lev.cov_times_on_cpu(cov)
    for _ in range(2):  # the buffer is reused
        lean = product(diff)
        assert same(lean, direct)
        assert same(torch.autograd.grad((lean * weights).sum(), diff)[0], grad)
