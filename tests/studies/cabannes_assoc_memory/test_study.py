import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import cabannes_assoc_memory as ca

CFG = dataclasses.replace(
    config.resolve("cabannes_assoc_memory", "smoke"),
    n_tokens=500,
    t_values=(20, 80, 320),
    t_dim=256,
    d_values=(64, 128),
    d_samples=20_000,
    d_schemes=("top", "seen"),
)


def test_grid_and_data():
    assert set(ca.grid(CFG)) == {"t_sweep", "d_sweep"}
    data = ca.make_data(CFG)
    assert data["probs"].shape == (500,) and np.isclose(data["probs"].sum(), 1.0)


def test_quick_tier_deviates_from_the_paper_defaults_in_sizes_only():
    st = study.get("cabannes_assoc_memory")
    devs = study.deviations(st, config.resolve(st, "quick"), "quick")
    assert {d.field for d in devs} == {
        "seeds",
        "n_tokens",
        "t_values",
        "t_dim",
        "d_values",
        "d_samples",
        "d_schemes",
    }


def test_storage_schemes_are_checked_when_the_config_is_resolved():
    with pytest.raises(config.ConfigError, match="d_schemes"):
        config.resolve("cabannes_assoc_memory", "smoke", {"d_schemes": ["top", "all"]})
    with pytest.raises(config.ConfigError, match="t_scheme"):
        config.resolve("cabannes_assoc_memory", "smoke", {"t_scheme": "top"})  # "top" needs a k: d-sweep only


def test_sweeps_give_tidy_deterministic_rows_with_invariants():
    data = ca.make_data(CFG)
    t_runs = ca.train(CFG, ca.grid(CFG)["t_sweep"], data, [0, 1], "cpu")
    assert t_runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    assert t_runs.equals(ca.train(CFG, ca.grid(CFG)["t_sweep"], data, [0, 1], "cpu"))
    for _, g in t_runs.groupby("seed"):
        mass = g[g["metric"] == "unstored_mass"].sort_values("step")["value"].to_numpy()
        stored = g[g["metric"] == "stored"].sort_values("step")["value"].to_numpy()
        # nested prefixes of one stream: more samples never unstore a token
        assert (np.diff(mass) <= 0).all() and (np.diff(stored) >= 0).all()
        err = g[g["metric"] == "error"]["value"]
        assert ((err >= 0) & (err <= 1)).all()
    d_runs = ca.train(CFG, ca.grid(CFG)["d_sweep"], data, [0], "cpu")
    top = d_runs[(d_runs["variant"] == "top") & (d_runs["metric"] == "stored")]
    assert top.set_index("step")["value"].to_dict() == {64: 8.0, 128: 16.0}
    seen = d_runs[(d_runs["variant"] == "seen") & (d_runs["metric"] == "stored")]
    assert (seen["value"] > 16).all()
    # the control stores the same tokens in a memory 16× smaller: same storage, more recall errors
    small = d_runs[d_runs["variant"] == f"top{ca.SMALL}"].pivot_table(
        index="step", columns="metric", values="value"
    )
    full = d_runs[d_runs["variant"] == "top"].pivot_table(index="step", columns="metric", values="value")
    assert small["stored"].equals(full["stored"]) and (small["error"] > full["error"]).all()
    t_small = t_runs[t_runs["variant"] == f"seen{ca.SMALL}"]
    assert set(t_small["step"]) == set(CFG.t_values)


def test_controls_do_not_change_the_paper_draws():
    data = ca.make_data(CFG)
    runs = ca.train(CFG, ca.grid(CFG)["t_sweep"], data, [0], "cpu")
    other = ca.train(dataclasses.replace(CFG, control_shrink=4), ca.grid(CFG)["t_sweep"], data, [0], "cpu")
    pd.testing.assert_frame_equal(runs[runs["variant"] == "seen"], other[other["variant"] == "seen"])


def synthetic_metrics(t_slope=-0.5, d_slope=-1.0) -> pd.DataFrame:
    """A metrics table as ``extract`` writes it, with exact power laws (per-seed constants c)."""
    rows = []
    for seed, c in ((0, 1.0), (1, 2.0), (2, 0.5)):
        for t in (100, 1000, 10_000):
            rows.append(("t_sweep", seed, "error", c * t**t_slope, "seen", "T", t))
            rows.append(("t_sweep", seed, "unstored_mass", 1.2 * c * t**t_slope, "seen", "T", t))
        for d in (64, 256, 1024):
            rows.append(
                ("d_sweep", seed, "error", c * d**d_slope * (1.1 if seed == 2 else 1.0), "top", "d", d)
            )
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value", "scheme", "axis", "x"])


def test_extract_keeps_typed_sweep_columns():
    data = ca.make_data(CFG)
    runs = ca.train(CFG, ca.grid(CFG)["t_sweep"], data, [0], "cpu").assign(point="t_sweep")
    metrics = ca.extract(runs, CFG)
    assert set(metrics["metric"]) == {"error", "unstored_mass"}
    assert set(metrics["scheme"]) == {"seen", f"seen{ca.SMALL}"} and set(metrics["axis"]) == {"T"}
    assert sorted(set(metrics["x"])) == list(CFG.t_values)
    error = metrics[(metrics["metric"] == "error") & (metrics["scheme"] == "seen")].set_index("x")["value"]
    expected = runs[(runs["metric"] == "error") & (runs["variant"] == "seen")].set_index("step")["value"]
    assert error.sort_index().tolist() == expected.sort_index().tolist()


def test_measure_reads_the_controls_through_the_same_slopes():
    m = synthetic_metrics()
    ctrl = m.assign(scheme=m["scheme"] + ca.SMALL, value=m["value"] ** 0.5)  # half the slopes
    out = ca.measure(pd.concat([m, ctrl], ignore_index=True), CFG)
    assert np.allclose(out["t_scaling/control"], 0.25) and np.allclose(out["d_scaling/control"], 0.5)


def test_measure_known_slopes():
    good = ca.measure(synthetic_metrics(), CFG)
    assert set(good) == {c.id for c in ca.CLAIMS}  # no control rows in this table
    assert np.allclose(good["t_scaling"], 0.0) and np.allclose(good["d_scaling"], 0.0)
    bad = ca.measure(synthetic_metrics(t_slope=-0.8, d_slope=-0.5), CFG)
    assert np.allclose(bad["t_scaling"], -0.3) and np.allclose(bad["d_scaling"], 0.5)
    # a zero error cannot be put on a log scale: the slope is NaN (inconclusive), not silently dropped
    zero = synthetic_metrics()
    zero.loc[(zero["axis"] == "d") & (zero["x"] == 1024), "value"] = 0.0
    assert np.isnan(ca.measure(zero, CFG)["d_scaling"]).all()


def test_figure_draws_the_fitted_and_theory_slopes():
    import matplotlib.pyplot as plt

    metrics = synthetic_metrics(t_slope=-0.6)
    fig = ca.FIGURES[0].draw(pd.DataFrame(), metrics, CFG)
    left, right = fig.axes
    assert left.get_title() == "error vs T: fitted slope -0.60 (theory -0.50)"
    assert right.get_title() == "error vs d: fitted slope -1.00 (theory -1.00)"
    # the theory line runs through the geometric mean of the seed-mean curve with the theory's slope
    (theory,) = [line for line in left.get_lines() if line.get_label().startswith("theory")]
    x, y = theory.get_xdata(), theory.get_ydata()
    mean = metrics[(metrics["axis"] == "T") & (metrics["metric"] == "error")].groupby("x")["value"].mean()
    assert np.allclose(np.log(y).mean(), np.log(mean.to_numpy()).mean())
    assert np.allclose(np.diff(np.log(y)) / np.diff(np.log(x)), -0.5)
    plt.close(fig)
