import dataclasses

import numpy as np
import pandas as pd

from reprosuite import config
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
    quick = config.resolve("cabannes_assoc_memory", "quick")
    assert quick.seeds >= 3 and len(quick.t_values) >= 6 and quick.t_values[0] == 100
    assert config.resolve("cabannes_assoc_memory", "full").seeds >= 5


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


def synthetic_metrics(t_slope=-0.5, d_slope=-1.0) -> pd.DataFrame:
    rows = []
    for seed, c in ((0, 1.0), (1, 2.0), (2, 0.5)):
        for t in (100, 1000, 10_000):
            rows.append(("t_sweep", seed, f"error.seen.T{t}", c * t**t_slope))
            rows.append(("t_sweep", seed, f"unstored_mass.seen.T{t}", 1.2 * c * t**t_slope))
        for d in (64, 256, 1024):
            rows.append(("d_sweep", seed, f"error.top.d{d}", c * d**d_slope * (1.1 if seed == 2 else 1.0)))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def test_extract_and_measure_known_slopes():
    data = ca.make_data(CFG)
    runs = ca.train(CFG, ca.grid(CFG)["t_sweep"], data, [0], "cpu").assign(point="t_sweep")
    metrics = ca.extract(runs, CFG)
    assert set(metrics["metric"]) == {
        f"{q}.seen.T{t}" for q in ("error", "unstored_mass") for t in CFG.t_values
    }
    good = ca.measure(synthetic_metrics(), CFG)
    assert set(good) == {c.id for c in ca.CLAIMS}
    assert np.allclose(good["t_scaling"], 0.0) and np.allclose(good["d_scaling"], 0.0)
    bad = ca.measure(synthetic_metrics(t_slope=-0.8, d_slope=-0.5), CFG)
    assert np.allclose(bad["t_scaling"], -0.3) and np.allclose(bad["d_scaling"], 0.5)
    # a zero error cannot be put on a log scale: the slope is NaN (inconclusive), not silently dropped
    zero = synthetic_metrics()
    zero.loc[zero["metric"] == "error.top.d1024", "value"] = 0.0
    assert np.isnan(ca.measure(zero, CFG)["d_scaling"]).all()


def test_figure_draws():
    import matplotlib.pyplot as plt

    metrics = synthetic_metrics()
    fig = ca.FIGURES[0].draw(pd.DataFrame(), metrics, CFG)
    assert len(fig.axes) == 2
    plt.close(fig)
