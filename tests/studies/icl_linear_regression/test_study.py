import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import icl_linear_regression as st

CFG = dataclasses.replace(
    st.TIERS["smoke"],
    dim=2,
    exemplars=4,
    depths=(1, 2),
    d_model=8,
    heads=2,
    noise_vars=(0.0, 0.25),
    steps=20,
    eval_tasks=20,
    probes=2,
    log_points=2,
    seeds=2,
)


def test_grid_and_data():
    assert st.grid(CFG) == {"L1": {"depth": 1}, "L2": {"depth": 2}}
    data = st.make_data(CFG)
    assert data["x"].shape == (20, 4, 2) and data["w"].shape == (20, 2)
    assert data["eps"].shape == (20, 4) and data["probes"].shape == (20, 8, 2)


def test_quick_tier_deviations_from_the_paper():
    s = study.get("icl_linear_regression")
    devs = study.deviations(s, config.resolve(s, "quick"), "quick")
    assert {d.field for d in devs} == {
        "seeds",
        "dim",
        "exemplars",
        "depths",
        "d_model",
        "heads",
        "noise_vars",
        "steps",
        "lr",
        "eval_tasks",
        "log_points",
        "control",
    }


def test_evaluation_passes_stay_bounded_at_the_full_tier():
    full = st.TIERS["full"]
    members = 2 * len(full.noise_vars) * full.seeds
    chunk = st.eval_chunk(full, members)
    tokens = 2 * full.exemplars + full.exemplars * full.probes
    # float32 activations of one pass: ≤ 128 MB each (all 1000 prompts at once: 37 GB each)
    assert 1 <= chunk < full.eval_tasks and chunk * members * tokens * full.d_model * 4 <= 2**27
    for tier in ("quick", "smoke"):  # small tiers: every prompt in one pass
        cfg = st.TIERS[tier]
        assert st.eval_chunk(cfg, cfg.seeds * len(cfg.noise_vars)) >= cfg.eval_tasks


def test_baselines_on_the_evaluation_prompts():
    data = st.make_data(CFG)
    clean = st.baseline_predictions(CFG, data, 0.0)
    assert set(clean) >= {"ols", "gd", "knn", "ridge0.2500", "ols.probe", "y"}
    # without noise, OLS from k ≥ d exemplars predicts the next label exactly; with none every learner says 0
    np.testing.assert_allclose(clean["ols"][:, 2:], clean["y"][:, 2:], atol=1e-9)
    assert (clean["gd"][:, 0] == 0).all() and (clean["knn"][:, 0] == 0).all()
    noisy = st.baseline_predictions(CFG, data, 0.25)
    np.testing.assert_allclose(noisy["y"] - clean["y"], 0.5 * data["eps"])


def synthetic_runs(ols: float, gd: float, knn: float, ridge: float) -> pd.DataFrame:
    """A run table as ``train`` writes it, with constant SPD curves per learner."""
    rows = []
    for point in ("L1", "L2"):
        for noise in CFG.noise_vars:
            for seed in (0, 1):
                for step in (0, 20):
                    for k in range(CFG.exemplars):
                        for learner, value in (
                            ("ols", ols),
                            ("gd", gd),
                            ("knn", knn),
                            ("ridge0.2500", ridge),
                        ):
                            v = value * (1 + seed) if step == 20 else 10.0
                            rows.append((point, noise, seed, step, "test", f"spd.{learner}.k{k}", v))
                            if k >= CFG.dim:
                                rows.append((point, noise, seed, step, "test", f"ilwd.{learner}.k{k}", v))
    columns = ["point", "noise_var", "seed", "step", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=columns).assign(variant="")


def test_extract_and_measure():
    metrics = st.extract(synthetic_runs(ols=0.001, gd=0.1, knn=0.05, ridge=0.01), CFG)
    assert set(metrics.columns) == {"point", "seed", "metric", "value", "noise_var", "shuffled"}
    lookup = metrics.set_index(["point", "seed", "noise_var", "metric"])["value"]
    assert lookup["L2", 0, 0.0, "ols_vs_gd_knn_ratio"] == pytest.approx(0.02)
    assert lookup["L2", 1, 0.0, "spd_ols_q90"] == pytest.approx(0.002)
    assert lookup["L2", 0, 0.25, "best_lambda"] == 0.0  # OLS fits best: the noisy level misses
    assert (
        lookup["L2", 0, 0.0, "best_lambda_match"] == 1.0 and lookup["L2", 0, 0.25, "best_lambda_match"] == 0.0
    )
    measured = st.measure(metrics, CFG)
    assert set(measured) == {c.id for c in st.CLAIMS}
    assert measured["closer_to_ols_than_gd_knn"] == pytest.approx([0.02, 0.02])
    assert measured["matches_ols"] == pytest.approx([0.001, 0.002])
    assert measured["ridge_lambda_matches_noise"] == pytest.approx([0.5, 0.5])


def test_matches_ols_reads_almost_every_k_but_not_k0_and_controls_come_from_the_shuffled_arm():
    runs = synthetic_runs(ols=0.001, gd=0.1, knn=0.05, ridge=0.01)
    last = runs["step"] == 20
    runs.loc[last & (runs["metric"] == "spd.ols.k0"), "value"] = 50.0  # k = 0 is left out
    runs.loc[last & (runs["metric"] == "spd.ols.k3") & (runs["seed"] == 0), "value"] = 1.0
    control = synthetic_runs(ols=0.5, gd=0.2, knn=0.3, ridge=0.4).assign(shuffled=True)
    metrics = st.extract(pd.concat([runs.assign(shuffled=False), control]), CFG)
    measured = st.measure(metrics, CFG)
    # k = 1, 2, 3 at seed 0: 0.001, 0.001, 1.0 → the 90 % quantile is near the outlier, far above the median
    assert measured["matches_ols"][0] == pytest.approx(0.001 + 0.8 * (1.0 - 0.001))
    assert measured["matches_ols"][1] == pytest.approx(0.002)
    assert measured["closer_to_ols_than_gd_knn/control"] == pytest.approx([0.5 / 0.2] * 2)
    assert measured["matches_ols/control"] == pytest.approx([0.5, 1.0])
    assert measured["ridge_lambda_matches_noise/control"] == pytest.approx([0.5, 0.5])


def test_figures_draw():
    import matplotlib.pyplot as plt

    runs = synthetic_runs(ols=0.001, gd=0.1, knn=0.05, ridge=0.01)
    metrics = st.extract(runs, CFG)
    for figure in st.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)


def test_training_logs_every_comparison():
    torch = pytest.importorskip("torch")
    runs = st.train(dataclasses.replace(CFG, control=True), {"depth": 1}, st.make_data(CFG), [0, 1], "cpu")
    assert set(runs["noise_var"]) == {0.0, 0.25}
    assert set(runs["shuffled"]) == {False, True} and set(runs["seed"]) == {0, 1}
    loss = runs[(runs["metric"] == "loss") & (runs["step"] == 0)].set_index(["shuffled", "noise_var", "seed"])
    # the control arm starts from the same nets, evaluated on the same prompts: the same loss at step 0
    np.testing.assert_allclose(loss.loc[True]["value"], loss.loc[False]["value"])
    alone = st.train(CFG, {"depth": 1}, st.make_data(CFG), [0, 1], torch.device("cpu"))
    assert not alone["shuffled"].any()
    key = ["variant", "seed", "step", "split", "metric"]
    both = runs[~runs["shuffled"]].sort_values(key)["value"].to_numpy()
    np.testing.assert_allclose(both, alone.sort_values(key)["value"].to_numpy(), rtol=1e-4, atol=1e-6)
    metrics = set(runs["metric"])
    assert {"loss", "spd.ols.k0", "spd.knn.k3", "ilwd.gd.k2", "spd.ridge0.2500.k1"} <= metrics
    assert "ilwd.ols.k1" not in metrics  # implicit weights only where k ≥ d
    final = runs[(runs["step"] == CFG.steps) & (runs["metric"] == "loss")]["value"]
    assert np.isfinite(final).all()


def test_full_tier_members_are_trained_in_groups_within_the_byte_budget_on_a_cpu(monkeypatch):
    torch = pytest.importorskip("torch")
    full = st.TIERS["full"]
    member_seeds = [
        s for _ in range(2 * len(full.noise_vars)) for s in range(full.seeds)
    ]  # as train orders them
    for depth in full.depths:
        groups = st.member_groups(full, depth, member_seeds, "cpu")
        assert sorted(i for g in groups for i in g) == list(range(len(member_seeds)))
        # at least 2 members (a one-member ensemble takes another optimiser update), each within the budget
        assert all(len(g) >= 2 and len(g) * st.member_bytes(full, depth) <= st.TRAIN_BYTES for g in groups)
        assert [member_seeds[i] for g in groups for i in g] == sorted(member_seeds)  # seed by seed
        assert st.member_groups(full, depth, member_seeds, torch.device("cuda")) == [list(range(50))]
    assert len(st.member_groups(full, 8, member_seeds, "cpu")) > 1  # all 50 at once: ~40 GB at 8 layers
    for tier in ("quick", "smoke"):  # small tiers: one ensemble, as before
        cfg = st.TIERS[tier]
        assert len(st.member_groups(cfg, max(cfg.depths), list(range(cfg.seeds)), "cpu")) == 1
    monkeypatch.setattr(st, "TRAIN_BYTES", 1)  # an odd member count: no lone member, even over the budget
    assert [len(g) for g in st.member_groups(full, 1, [0, 1, 2, 0, 1], "cpu")] == [3, 2]


def test_members_trained_in_groups_give_the_table_of_one_ensemble(monkeypatch):
    torch = pytest.importorskip("torch")
    from reprosuite.engine.train import trainer

    cfg = dataclasses.replace(CFG, control=True)
    data = st.make_data(cfg)
    together = st.train(cfg, {"depth": 2}, data, [0, 1], "cpu")
    monkeypatch.setattr(st, "TRAIN_BYTES", 1)  # groups of 2
    assert len(st.member_groups(cfg, 2, [0, 1] * 4, "cpu")) == 4
    pd.testing.assert_frame_equal(
        st.train(cfg, {"depth": 2}, data, [0, 1], "cpu"), together, check_exact=True
    )

    real_fit = trainer.fit

    def diverging(at):
        """trainer.fit whose i-th call's members have an infinite loss from the steps ``at[i]`` (per member) on."""
        calls = []

        def fit(loss_fn, *args, **kwargs):
            start = torch.tensor(at[len(calls)])
            calls.append(1)
            return real_fit(
                lambda step: torch.where(start <= step, torch.inf, loss_fn(step)), *args, **kwargs
            )

        return fit

    def run(at):
        monkeypatch.setattr(trainer, "fit", diverging(at))
        return st.train(CFG, {"depth": 1}, data, [0, 1], "cpu")

    # a group whose members all diverge stops there, while one ensemble goes on, evaluating them as they were
    never = 10**9
    monkeypatch.setattr(st, "TRAIN_BYTES", 2**60)
    together = run([[never, never, 5, 5]])
    monkeypatch.setattr(st, "member_groups", lambda *args: [[0, 1], [2, 3]])
    grouped = run([[never, never], [5, 5]])
    pd.testing.assert_frame_equal(grouped, together, check_exact=True)
    frozen = grouped[(grouped["noise_var"] == 0.25) & (grouped["metric"] == "loss")]
    assert list(frozen["step"]) == [0, 0, 10, 10, 20, 20] and np.isfinite(frozen["value"]).all()
    assert (frozen["value"].to_numpy()[2:4] == frozen["value"].to_numpy()[4:]).all()
    # every member diverges: one ensemble stops at the last one's step (12: evaluated at 0 and 10), so do groups
    monkeypatch.setattr(st, "member_groups", lambda *args: [[0, 2], [1, 3]])
    grouped = run([[5, 5], [12, 12]])
    monkeypatch.setattr(st, "member_groups", lambda *args: [[0, 1, 2, 3]])
    together = run([[5, 12, 5, 12]])
    assert set(together["step"]) == {0, 10}
    pd.testing.assert_frame_equal(grouped, together, check_exact=True)


def test_a_job_killed_in_the_second_group_resumes_there_to_the_identical_table(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint, trainer

    class Killed(Exception):
        pass

    monkeypatch.setattr(st, "TRAIN_BYTES", 1)  # seed 0's members, then seed 1's
    data = st.make_data(CFG)
    reference = st.train(CFG, {"depth": 1}, data, [0, 1], "cpu")
    real_fit, calls = trainer.fit, []

    def killed_in_group_2(loss_fn, *args, **kwargs):
        calls.append(1)
        if len(calls) != 2:
            return real_fit(loss_fn, *args, **kwargs)

        def loss(step):
            if step == 12:
                raise Killed
            return loss_fn(step)

        return real_fit(loss, *args, **kwargs)

    monkeypatch.setattr(trainer, "fit", killed_in_group_2)
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0), pytest.raises(Killed):
        st.train(CFG, {"depth": 1}, data, [0, 1], "cpu")
    assert (tmp_path / "fit1.pt").exists() and not (tmp_path / "fit2.pt").exists()
    monkeypatch.setattr(trainer, "fit", real_fit)
    capsys.readouterr()
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0):
        resumed = st.train(CFG, {"depth": 1}, data, [0, 1], "cpu")
    err = capsys.readouterr().err
    assert "[icl L=1 group 2/2: seed 1, 2 members] resumed from" in err and "at step 12" in err
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)
