import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.studies import nanda_progress_measures as npm

SMOKE = config.resolve("nanda_progress_measures", "smoke")
TINY = dataclasses.replace(SMOKE, p=11, d_model=16, heads=4, d_mlp=32, steps=60, eval_every=10, seeds=2)


def test_grid_and_data():
    for tier in ("smoke", "quick", "full"):
        cfg = config.resolve("nanda_progress_measures", tier)
        (point,) = npm.grid(cfg).values()
        assert point == {"p": cfg.p, "fraction": cfg.fraction}
    data = npm.make_data(TINY)
    n = TINY.p**2
    assert data["a"].shape == data["c"].shape == (n,) and data["train"].shape == (TINY.seeds, n)
    np.testing.assert_array_equal(data["c"], (data["a"] + data["b"]) % TINY.p)
    assert set(data["train"].sum(1)) == {round(TINY.fraction * n)}
    assert not np.array_equal(data["train"][0], data["train"][1])  # each seed its own split
    with pytest.raises(ValueError):
        npm.grid(dataclasses.replace(TINY, p=12))


def test_fall_and_rise_steps():
    steps = np.array([0, 10, 20, 30, 40, 50])
    loss = np.array([1.0, 10.0, 10.0, 1.0, 0.1, 0.01])  # max 10, final 0.01: half-way (log) is 0.316
    assert npm.fall_step(steps, loss, span=10) == 40
    assert npm.fall_step(steps, loss, span=10, q=0.1) == 30
    assert npm.fall_step(steps, np.array([1, 2, 3, 2, 2, 2.0]), span=10) == math.inf  # no real fall
    exc = np.array([3.0, 0.01, 0.01, 0.1, 1.0, 10.0])  # min 0.01 at step 10, later max 10: half-way 0.316
    assert npm.rise_step(steps, exc, until=math.inf, span=10) == 40
    assert npm.rise_step(steps, exc, until=5, span=10) == math.inf  # minimum at step 0: it only falls after
    assert (
        npm.lead(50, 20) == 30 and math.isnan(npm.lead(math.inf, 3)) and npm.lead(10, math.inf) == -math.inf
    )


def _synthetic_runs(seed: int, shift: int) -> pd.DataFrame:
    steps = np.arange(0, 110, 10)
    curves = {
        ("train", "loss"): np.r_[3.0, np.full(10, 1e-3)],
        ("test", "loss"): np.r_[3.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 1.0, 1e-2, 1e-3, 1e-3],
        ("train", "acc"): np.r_[0.0, np.ones(10)],
        ("test", "acc"): np.r_[np.zeros(7), 0.6, 1.0, 1.0, 1.0],
        ("progress", "restricted_loss"): np.r_[5.0, 5.0, 5.0, 1.0, 0.1, 0.01, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3],
        ("progress", "excluded_loss"): np.r_[3.0, 1e-3, 1e-2, 1.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
        ("embed", "n_share"): np.r_[np.full(10, 14.0), 4.0 + seed],
        ("embed", "gini"): np.r_[np.full(10, 0.2), 0.8],
    }
    rows = []
    for (split, metric), v in curves.items():
        for s, x in zip(steps, v, strict=True):
            rows.append(
                {"seed": seed, "step": s + shift * (s > 0), "split": split, "metric": metric, "value": x}
            )
    rows.append({"seed": seed, "step": 100 + shift, "split": "fourier", "metric": "key_freqs", "value": 5.0})
    return pd.DataFrame(rows).assign(point="p", variant="")


def test_extract_and_measure_known_values():
    runs = pd.concat([_synthetic_runs(0, 0), _synthetic_runs(1, 0)], ignore_index=True)
    metrics = npm.extract(runs, TINY)
    m = metrics[metrics.seed == 0].set_index("metric")["value"]
    # test loss: max 8 (step 10), final 1e-3 → half-way 0.089 first reached at step 80
    assert m["t_test"] == 80 and m["t_memorise"] == 10 and m["t_test_acc"] == 80
    # restricted: max 5 at step 0, final 1e-3 → 0.0707 at step 50; excluded: min 1e-3 at 10, max 5 → 0.0707 at 30
    assert m["t_restricted"] == 50 and m["t_excluded"] == 30
    assert m["restricted_lead"] == 30 and m["excluded_lead"] == 50
    assert m["n_share_final"] == 4 and m["gini_final"] == 0.8 and m["key_freqs"] == 5
    got = npm.measure(metrics, TINY)
    assert got["test_acc"] == [1.0, 1.0] and got["sparse_embedding"] == [4.0, 5.0]
    assert got["restricted_first"] == claims.Sample((30.0, 30.0))
    assert got["excluded_first"] == claims.Sample((50.0, 50.0))
    assert got["test_acc/control"] == [] and got["restricted_first/control"] == claims.Sample(())


def test_the_control_is_measured_from_its_members_and_a_still_measure_is_censored():
    main = pd.concat([_synthetic_runs(0, 0), _synthetic_runs(1, 0)], ignore_index=True).assign(wd=1.0)
    control = _synthetic_runs(0, 0).assign(wd=0.0)
    still = (control.split == "progress") & (control.metric == "excluded_loss")
    control.loc[still, "value"] = 1.0  # the excluded loss never rises
    metrics = npm.extract(pd.concat([main, control], ignore_index=True), TINY)
    got = npm.measure(metrics, TINY)
    assert got["test_acc"] == [1.0, 1.0] and got["test_acc/control"] == [1.0]
    # lead at most t_test − last step = 80 − 100
    assert got["excluded_first/control"] == claims.Sample((-20.0,), (-1,))
    row = claims.evaluate(
        next(c for c in npm.CLAIMS if c.id == "excluded_first"),
        got["excluded_first"],
        "quick",
        control=got["excluded_first/control"],
    )
    assert (row["verdict"], row["control_verdict"]) == ("pass", "fail")


def test_no_grokking_gives_inconclusive_leads():
    runs = _synthetic_runs(0, 0)
    flat = (runs.split == "test") & (runs.metric == "loss")
    runs.loc[flat, "value"] = 8.0
    m = npm.extract(runs, TINY).set_index("metric")["value"]
    assert m["t_test"] == math.inf and math.isnan(m["restricted_lead"]) and math.isnan(m["excluded_lead"])


def test_short_training_is_tidy_and_deterministic():
    pytest.importorskip("torch")
    data = npm.make_data(TINY)
    point = npm.grid(TINY)[npm._point_id(TINY)]
    runs = npm.train(TINY, point, data, [0, 1], "cpu")
    assert {"seed", "step", "split", "metric", "value", "wd"} <= set(runs.columns)
    assert runs.groupby(["wd", "seed", "step", "split", "metric"]).size().max() == 1
    assert set(zip(runs.wd, runs.seed, strict=True)) == {(1.0, 0), (1.0, 1), (0.0, 0)}  # control: first seed
    logged = set(runs[(runs.split == "test") & (runs.metric == "loss")].step)
    for metric in ("restricted_loss", "excluded_loss"):
        assert set(runs[(runs.split == "progress") & (runs.metric == metric)].step) == logged
    energy = runs[(runs.split == "embed") & runs.metric.str.startswith("energy_k")]
    assert energy.metric.nunique() == TINY.p // 2
    train_loss = runs[(runs.split == "train") & (runs.metric == "loss")].sort_values("step")
    for _, g in train_loss.groupby(["wd", "seed"]):
        assert g.value.iloc[-1] < 0.75 * g.value.iloc[0]  # it learns
    again = npm.train(TINY, point, data, [0, 1], "cpu")
    pd.testing.assert_frame_equal(runs, again)
    metrics = npm.extract(runs.assign(point="x"), TINY)
    assert set(npm.measure(metrics, TINY)) == {c.id + s for c in npm.CLAIMS for s in ("", claims.CONTROL)}


def test_tiers_deviate_from_the_paper_in_size_and_budget_only():
    st = study.get("nanda_progress_measures")
    fields = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert fields == {
        "seeds",
        "p",
        "fraction",
        "d_model",
        "d_mlp",
        "lr",
        "steps",
        "eval_every",
        "control_seeds",
    }
    assert study.deviations(st, config.resolve(st, "full"), "full") == []


def test_full_tier_asks_for_the_memory_of_its_parameter_copies():
    full = config.resolve("nanda_progress_measures", "full")
    # 287 logged steps × (5 seeds + 5 control members) × 225 664 float32 parameters, twice while a checkpoint
    # is written
    need_mb = 2 * 287 * 10 * 225_664 * 4 / 2**20
    assert 4000 + need_mb <= npm.resources(full, {})["mem_mb"] <= 4000 + 1.1 * need_mb


class Killed(Exception):
    pass


def test_job_killed_mid_way_resumes_to_the_same_table(tmp_path, monkeypatch, capsys):
    """The parameter copies of the steps logged before the stop come back with the checkpoint."""
    pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint, trainer

    data = npm.make_data(TINY)
    point = npm.grid(TINY)[npm._point_id(TINY)]
    reference = npm.train(TINY, point, data, [0, 1], "cpu")
    real_fit = trainer.fit

    def killed_at_35(loss_fn, *args, **kwargs):
        def loss(step):
            if step == 35:
                raise Killed
            return loss_fn(step)

        return real_fit(loss, *args, **kwargs)

    monkeypatch.setattr(trainer, "fit", killed_at_35)
    with checkpoint.checkpointing(tmp_path, "t", every_s=0.0), pytest.raises(Killed):
        npm.train(TINY, point, data, [0, 1], "cpu")
    monkeypatch.setattr(trainer, "fit", real_fit)
    capsys.readouterr()
    with checkpoint.checkpointing(tmp_path, "t", every_s=0.0):
        resumed = npm.train(TINY, point, data, [0, 1], "cpu")
    assert "resumed from" in capsys.readouterr().err
    pd.testing.assert_frame_equal(resumed, reference)
