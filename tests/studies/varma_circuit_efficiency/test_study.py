import dataclasses
import math
import signal

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.metrics import curves
from reprosuite.metrics.stats import spearman
from reprosuite.studies import varma_circuit_efficiency as v

TINY = dataclasses.replace(
    config.resolve("varma_circuit_efficiency", "smoke"),
    p=11,
    embed=8,
    hidden=16,
    steps1=30,
    fractions2=(0.2, 0.5),
    steps2=20,
    eval_every=10,
)


def test_data_masks_are_nested():
    cfg = config.resolve("varma_circuit_efficiency", "quick")
    data = v.make_data(cfg)
    n = cfg.p**2
    assert data["train1"].shape == (cfg.seeds, n) and data["train2"].shape == (
        len(cfg.fractions2),
        cfg.seeds,
        n,
    )
    assert (data["train1"].sum(1) == round(0.7 * n)).all()
    for k, f2 in enumerate(cfg.fractions2):
        m = data["train2"][k]
        assert (m.sum(1) == round(f2 * n)).all()
        assert not (m & ~data["train1"]).any()  # retrain subsets lie inside the phase-1 training set
    assert v.grid(cfg) == {"ungrok": {}}
    with pytest.raises(ValueError):
        v.grid(dataclasses.replace(cfg, fractions2=(0.8,)))


def test_padded_indices():
    idx, w = v._padded(np.array([[True, False, True], [False, True, False]]))
    assert idx.tolist() == [[0, 2], [1, 0]] and w.tolist() == [[1, 1], [1, 0]]


def test_spearman_and_critical_fraction():
    assert spearman([1, 2, 3], [0.1, 0.5, 0.9]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [0.9, 0.5, 0.1]) == pytest.approx(-1.0)
    # ties get average ranks: ranks (1.5, 1.5, 3, 4) against (1, 2, 3, 4)
    expected = np.corrcoef([1.5, 1.5, 3, 4], [1, 2, 3, 4])[0, 1]
    assert spearman([0.1, 0.2, 0.3, 0.4], [0, 0, 0.5, 1]) == pytest.approx(expected)
    assert math.isnan(spearman([1, 2], [0.3, 0.3]))
    assert v.critical_fraction(np.array([0.4, 0.2, 0.3]), np.array([1.0, 0.0, 0.25])) == pytest.approx(
        0.3 + 0.1 / 3
    )
    assert v.critical_fraction(np.array([0.1, 0.2]), np.array([0.6, 0.9])) == 0.1  # above from the start
    assert v.critical_fraction(np.array([0.1, 0.2]), np.array([0.1, 0.3])) == curves.NEVER


def test_tiers_deviate_from_the_protocol_in_size_and_budget_only():
    st = study.get("varma_circuit_efficiency")
    fields = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert fields == {"seeds", "p", "embed", "hidden", "steps1", "fractions2", "steps2", "steps3"}
    smoke = {d.field for d in study.deviations(st, config.resolve(st, "smoke"), "smoke")}
    assert smoke == fields | {"eval_every"}


def test_training_chains_two_phases():
    torch = pytest.importorskip("torch")
    data = v.make_data(TINY)
    runs = v.train(TINY, {}, data, [0, 1], torch.device("cpu"))
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    assert set(zip(runs["phase"], runs["fraction"], strict=True)) == {(1, 0.7), (2, 0.2), (2, 0.5)}
    acc = runs[runs["metric"] == "accuracy"]
    p1 = acc[(acc["phase"] == 1) & (acc["step"] == acc[acc["phase"] == 1]["step"].max())]
    start = acc[(acc["phase"] == 2) & (acc["step"] == 0) & (acc["split"] == "test")]
    # phase 2 starts from each seed's phase-1 weights, on the same test set
    for r in start.itertuples():
        assert r.value == pytest.approx(p1[(p1["seed"] == r.seed) & (p1["split"] == "test")]["value"].item())
    assert acc[acc["phase"] == 2].groupby("fraction")["step"].max()[0.2] == TINY.steps2
    again = v.train(TINY, {}, data, [0, 1], "cpu")
    pd.testing.assert_frame_equal(runs, again)  # deterministic


def test_phase_three_trains_from_scratch_at_the_critical_and_the_largest_f2():
    torch = pytest.importorskip("torch")
    cfg = dataclasses.replace(TINY, steps3=20)
    runs = v.train(cfg, {}, v.make_data(cfg), [0, 1], torch.device("cpu"))
    p3 = runs[(runs["phase"] == 3) & (runs["metric"] == "accuracy")]
    per_seed = p3.groupby("seed")["fraction"].unique()
    for seed in (0, 1):
        assert 0.5 in per_seed[seed]  # the largest f2: the control
        assert all(0.2 <= f <= 0.5 for f in per_seed[seed])  # f_crit lies inside the f2 range
    assert p3["step"].max() == cfg.steps3
    metrics = v.extract(runs, cfg)
    assert len(claims.per_seed(metrics, "scratch_largest_test_accuracy")) == 2


def test_job_killed_in_phase_two_resumes_identically(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint, trainer

    data = v.make_data(TINY)
    reference = v.train(TINY, {}, data, [0, 1], "cpu")
    real_fit, calls = trainer.fit, []

    def preempted_in_phase_two(loss_fn, *args, **kwargs):
        calls.append(1)
        if len(calls) < 2:
            return real_fit(loss_fn, *args, **kwargs)

        def loss(step):
            if step == 7:
                checkpoint.active().stop_signal = signal.SIGTERM  # as the SIGTERM handler does
            return loss_fn(step)

        return real_fit(loss, *args, **kwargs)

    monkeypatch.setattr(trainer, "fit", preempted_in_phase_two)
    with checkpoint.checkpointing(tmp_path, "t", every_s=0.0), pytest.raises(checkpoint.Preempted):
        v.train(TINY, {}, data, [0, 1], "cpu")
    assert (tmp_path / "fit0.pt").exists() and (tmp_path / "fit1.pt").exists()
    monkeypatch.setattr(trainer, "fit", real_fit)
    capsys.readouterr()
    with checkpoint.checkpointing(tmp_path, "t", every_s=0.0):
        resumed = v.train(TINY, {}, data, [0, 1], "cpu")
    assert "[varma phase 2] resumed from" in capsys.readouterr().err  # not retrained from scratch
    pd.testing.assert_frame_equal(resumed, reference)


def synthetic_metrics() -> pd.DataFrame:
    rows = []
    tests = {0: [0.0, 0.1, 0.55, 0.97], 1: [0.05, 0.4, 0.9, 1.0]}
    trains = {0: [1.0, 1.0, 1.0, 1.0], 1: [0.98, 1.0, 1.0, 1.0]}  # seed 1 does not fit at f2 0.15
    for seed in (0, 1):
        for f2, te, tr in zip((0.15, 0.3, 0.45, 0.6), tests[seed], trains[seed], strict=True):
            rows.append(("ungrok", f2, 1.0, seed, "final_test_accuracy", te))
            rows.append(("ungrok", f2, 1.0, seed, "final_train_accuracy", tr))
        rows.append(("ungrok", math.nan, 1.0, seed, "phase1_test_accuracy", 1.0))
        rows.append(("ungrok", 0.33, 1.0, seed, "scratch_critical_test_accuracy", 0.5 + 0.02 * seed))
        rows.append(("ungrok", 0.6, 1.0, seed, "scratch_largest_test_accuracy", 1.0))
    return pd.DataFrame(rows, columns=["point", "f2", "wd", "seed", "metric", "value"])


def test_extract_and_measure():
    runs = pd.DataFrame(
        [
            (1, 0.7, 0, 0, "test", "accuracy", 0.1),
            (1, 0.7, 0, 50, "test", "accuracy", 1.0),
            (1, 0.7, 0, 50, "train", "accuracy", 1.0),
            (2, 0.3, 0, 0, "test", "accuracy", 1.0),
            (2, 0.3, 0, 100, "test", "accuracy", 0.2),
            (2, 0.3, 0, 100, "train", "accuracy", 1.0),
        ],
        columns=["phase", "fraction", "seed", "step", "split", "metric", "value"],
    )
    metrics = v.extract(runs, TINY)
    assert claims.per_seed(metrics, "final_test_accuracy", f2=0.3)[0] == 0.2
    assert claims.per_seed(metrics, "phase1_steps")[0] == 50
    measured = v.measure(synthetic_metrics(), TINY)
    assert set(measured) == {c.id for c in v.CLAIMS} | {c.id + claims.CONTROL for c in v.CLAIMS if c.control}
    assert measured["ungrokking"] == [0.0, 0.4]  # seed 1: lowest test among fitted f2 values
    assert measured["ungrokking/control"] == [0.97, 1.0]  # above the critical size: the largest f2
    assert measured["largest_f2_keeps"] == [0.97, 1.0] and measured["largest_f2_keeps/control"] == [0.0, 0.05]
    assert measured["semi_grokking"] == [0.5, 0.52] and measured["semi_grokking/control"] == [1.0, 1.0]
    assert measured["monotone_in_f2"] == pytest.approx([1.0, 1.0])
    rows = {
        c.id: claims.evaluate(c, measured[c.id], "full", control=measured.get(c.id + claims.CONTROL))
        for c in v.CLAIMS
    }
    assert [c.kind for c in v.CLAIMS] == ["empirical", "sanity", "empirical", "empirical"]
    assert rows["ungrokking"]["verdict"] == "inconclusive" and rows["ungrokking"]["control_verdict"] == "fail"
    assert rows["largest_f2_keeps"]["control_verdict"] == "fail"
    assert rows["semi_grokking"]["verdict"] == "pass" and rows["semi_grokking"]["control_verdict"] == "fail"
    assert claims.evaluate(v.CLAIMS[3], measured["semi_grokking"], "quick")["note"].startswith("measured at")


def test_figures_draw():
    import matplotlib.pyplot as plt

    runs = pd.DataFrame(
        [(2, f, s, t, sp, "accuracy", 0.5) for f in (0.15, 0.3) for s in (0, 1) for t in (0, 10)
         for sp in ("train", "test")],
        columns=["phase", "fraction", "seed", "step", "split", "metric", "value"],
    )  # fmt: skip
    for figure in v.FIGURES:
        fig = figure.draw(runs, synthetic_metrics(), TINY)
        assert fig.axes
        plt.close(fig)
