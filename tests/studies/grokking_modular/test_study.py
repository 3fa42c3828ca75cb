"""grokking_modular: grokking times from run tables, the no-grokking case, and the claims' measurements."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.metrics.stats import spearman
from reprosuite.studies import grokking_modular as gm

CFG = dataclasses.replace(gm.TIERS["quick"], fractions=(0.4, 0.5, 0.6), grok_fraction=0.4, weight_decay=1.0)


def _curve(steps, t_reach: float, lo: float = 0.0) -> np.ndarray:
    """An accuracy curve that jumps from ``lo`` to 1 at step ``t_reach`` (∞: never)."""
    return np.where(np.asarray(steps) >= t_reach, 1.0, lo)


def _runs(t: dict[tuple, tuple[float, float]], steps=range(0, 2001, 50)) -> pd.DataFrame:
    """A run table from {(point, weight decay, seed[, arm]): (t_train, t_val)}."""
    rows = []
    for key, (t_train, t_val) in t.items():
        point, wd, seed, arm = (*key, "main") if len(key) == 3 else key
        for split, t_reach in (("train", t_train), ("val", t_val)):
            for step, v in zip(steps, _curve(steps, t_reach), strict=True):
                rows.append(("grokking_modular", point, f"wd{wd:g}", wd, arm, seed, step, split, "acc", v))
    cols = ["study", "point", "variant", "wd", "arm", "seed", "step", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=cols)


def _value(metrics: pd.DataFrame, point: str, seed: int, metric: str, wd: float, arm: str = "main") -> float:
    sel = claims.per_seed(metrics, metric, point, wd=wd, arm=arm)
    assert len(sel[sel.index == seed]) == 1
    return float(sel[seed])


def test_quick_deviates_from_the_paper_in_task_model_and_budget():
    st = study.get("grokking_modular")
    fields = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert fields == {
        "seeds", "p", "op", "fractions", "grok_fraction", "model", "layers", "d_model", "d_mlp", "embed",
        "hidden", "lr", "steps", "eval_every",
    }  # fmt: skip
    assert study.deviations(st, config.resolve(st, "full"), "full") == []


def test_extract_grokking_times_and_ratio():
    runs = _runs({("frac0.40", 1.0, 0): (100, 1500), ("frac0.40", 0.0, 0): (50, math.inf)})
    m = gm.extract(runs, CFG)
    assert set(m.columns) == {"point", "wd", "arm", "seed", "metric", "value"}
    assert _value(m, "frac0.40", 0, "t_train", 1.0) == 100
    assert _value(m, "frac0.40", 0, "t_val", 1.0) == 1500
    assert _value(m, "frac0.40", 0, "grok_ratio", 1.0) == 15
    assert _value(m, "frac0.40", 0, "last_step", 1.0) == 2000
    # no grokking: t_val is ∞ and the delay ratio is 0, which counts against the claim instead of vanishing
    assert _value(m, "frac0.40", 0, "t_val", 0.0) == math.inf
    assert _value(m, "frac0.40", 0, "grok_ratio", 0.0) == 0.0
    assert _value(m, "frac0.40", 0, "final_val_acc", 0.0) == 0.0


def test_extract_uses_threshold_not_a_late_dip():
    steps = range(0, 501, 100)
    runs = _runs({("frac0.40", 1.0, 0): (100, 300)}, steps=steps)
    dip = (runs["split"] == "val") & (runs["step"] == 500)
    runs.loc[dip, "value"] = 0.5  # accuracy that falls again later does not undo the first crossing
    assert _value(gm.extract(runs, CFG), "frac0.40", 0, "t_val", 1.0) == 300


def _metrics(times: dict[tuple, tuple[float, float]], steps=range(0, 2001, 50)) -> pd.DataFrame:
    return gm.extract(_runs(times, steps), CFG)


def _verdicts(measured: dict) -> dict[str, tuple[str, str]]:
    rows = [
        claims.evaluate(c, measured[c.id], "quick", control=measured.get(c.id + claims.CONTROL))
        for c in gm.CLAIMS
    ]
    return {r["claim"]: (r["verdict"], r["control_verdict"]) for r in rows}


def test_measure_claims_pass_on_a_clean_grokking_pattern_and_their_controls_do_not():
    times = {}
    for seed in range(3):
        times[("frac0.40", 1.0, seed)] = (100, 1800 + 100 * seed)
        times[("frac0.50", 1.0, seed)] = (100, 900 + 50 * seed)
        times[("frac0.60", 1.0, seed)] = (150, 250 + 50 * seed)  # the largest fraction: hardly any delay
        times[("frac0.40", 0.0, seed)] = (100, math.inf)
        times[("frac0.40", 1.0, seed, "placebo")] = (100, [1900, 1750, 2100][seed])
    measured = gm.measure(_metrics(times, steps=range(0, 6001, 50)), CFG)
    assert measured["grokking"] == [18.0, 19.0, 20.0]
    assert measured["grokking/control"] == pytest.approx([250 / 150, 300 / 150, 350 / 150])
    # wd 0 never grokked: censored at its budget (the last step, 6000) over t_val(wd 1)
    wd = measured["weight_decay"]
    assert wd.censored == (1, 1, 1) and wd.values == pytest.approx([6000 / 1800, 6000 / 1900, 6000 / 2000])
    assert measured["weight_decay/control"].values == pytest.approx([1900 / 1800, 1750 / 1900, 2100 / 2000])
    assert measured["train_fraction"] == pytest.approx([-1.0] * 3)
    assert measured["train_fraction/control"] == pytest.approx([math.sqrt(3) / 2] * 3)  # t_train rises
    verdicts = _verdicts(measured)
    assert verdicts["grokking"] == ("pass", "fail")
    assert verdicts["weight_decay"][0] == "pass" and verdicts["weight_decay"][1] == "inconclusive"
    assert verdicts["train_fraction"] == ("pass", "fail")


def test_a_control_that_passes_makes_the_claim_not_discriminating():
    times = {}
    for seed in range(3):
        for point in ("frac0.40", "frac0.50", "frac0.60"):
            times[(point, 1.0, seed)] = (100, 1800 + 100 * seed)  # no reduction of the delay at any fraction
    measured = gm.measure(_metrics(times), CFG)
    assert _verdicts(measured)["grokking"] == ("not discriminating", "pass")


def test_a_seed_that_never_groks_counts_against_the_claim():
    times = {("frac0.40", 1.0, 0): (100, 1800), ("frac0.40", 1.0, 1): (100, math.inf)}
    for seed in (0, 1):
        times[("frac0.40", 0.0, seed)] = (100, math.inf)
        times[("frac0.50", 1.0, seed)] = (100, 900)
        times[("frac0.60", 1.0, seed)] = (100, 500)
    measured = gm.measure(_metrics(times), CFG)
    assert measured["grokking"] == [18.0, 0.0]  # kept, as 0: no delay to measure
    grokking = next(c for c in gm.CLAIMS if c.id == "grokking")
    assert claims.evaluate(grokking, measured["grokking"], "quick")["verdict"] == "inconclusive"
    assert claims.evaluate(grokking, [2.0, 3.0, 2.5], "quick")["verdict"] == "fail"
    # neither weight decay setting grokked for seed 1: nothing to compare
    wd = measured["weight_decay"]
    assert wd.values[0] == pytest.approx(2000 / 1800) and wd.censored[0] == 1 and math.isnan(wd.values[1])
    # the fraction that never grokked ranks slowest, so the trend still holds for seed 1
    assert measured["train_fraction"] == pytest.approx([-1.0, -1.0])


def test_weight_decay_ratio_cases():
    assert gm.wd_ratio(3000.0, 1000.0) == 3.0
    assert gm.wd_ratio(math.inf, 1000.0) == math.inf
    assert gm.wd_ratio(500.0, math.inf) == 0.0  # only wd 0 grokked: against the claim
    assert math.isnan(gm.wd_ratio(math.inf, math.inf))


def test_spearman_trend():
    f = np.array([0.4, 0.5, 0.6])
    assert spearman(f, np.array([3000.0, 1000.0, 500.0])) == pytest.approx(-1.0)
    assert spearman(f, np.array([1000.0, 3000.0, 500.0])) == pytest.approx(-0.5)
    assert spearman(f, np.array([500.0, 1000.0, 3000.0])) == pytest.approx(1.0)
    assert spearman(f, np.array([math.inf, 1000.0, 500.0])) == pytest.approx(-1.0)
    assert spearman(f, np.array([math.inf, math.inf, 500.0])) == pytest.approx(-math.sqrt(3) / 2)
    assert math.isnan(spearman(f, np.array([math.inf] * 3)))
    rule = next(c for c in gm.CLAIMS if c.id == "train_fraction").rule
    assert not rule.contains(spearman(f, np.array([1000.0, 3000.0, 500.0])))


def test_grid_puts_weight_decay_zero_at_the_grok_fraction_only():
    points = gm.grid(CFG)
    assert list(points) == ["frac0.40", "frac0.50", "frac0.60"]
    assert points["frac0.40"]["weight_decays"] == [1.0, 0.0] and points["frac0.40"]["placebo"]
    assert points["frac0.50"]["weight_decays"] == [1.0] and not points["frac0.50"]["placebo"]
    assert gm.control_fraction(gm.TIERS["quick"]) == 0.8 and "frac0.80" in gm.grid(gm.TIERS["quick"])
    assert gm.placebo_seed(0) != gm.placebo_seed(1) and gm.placebo_seed(0) not in range(1000)
    with pytest.raises(ValueError, match="grok_fraction"):
        gm.grid(dataclasses.replace(CFG, grok_fraction=0.45))


def test_make_data_splits_per_fraction_and_seed():
    cfg = dataclasses.replace(gm.TIERS["smoke"], seeds=2)
    data = gm.make_data(cfg)
    n = cfg.p**2
    assert data["train"].shape == (len(cfg.fractions), 2, n)
    assert data["train"].sum(axis=2)[:, 0].tolist() == [round(f * n) for f in cfg.fractions]
    assert np.array_equal((data["a"] + data["b"]) % cfg.p, data["c"])


def test_train_logs_every_member_and_stops_once_grokked():
    import torch

    from reprosuite.engine.train import device

    cfg = dataclasses.replace(gm.TIERS["smoke"], seeds=1, fractions=(0.9,), grok_fraction=0.9, steps=3000)
    threads = torch.get_num_threads()
    try:
        runs = gm.train(cfg, gm.grid(cfg)["frac0.90"], gm.make_data(cfg), [0], device.setup("cpu", 1))
    finally:
        torch.set_num_threads(threads)
    assert set(zip(runs["wd"], runs["arm"], strict=True)) == {(1.0, "main"), (0.0, "main"), (1.0, "placebo")}
    assert {"acc", "loss", "weight_norm"} <= set(runs["metric"])
    val = runs[(runs["wd"] == 1.0) & (runs["split"] == "val") & (runs["metric"] == "acc")]
    assert val["value"].max() >= cfg.threshold
    assert runs["step"].max() < cfg.steps  # stopped early: every weight-decay member grokked
    assert np.diff(np.sort(val["step"].unique())).max() <= cfg.eval_every
