import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite.studies import critical_periods_dln as cp

torch = pytest.importorskip("torch")

SMALL = dataclasses.replace(
    cp.TIERS["smoke"],
    seeds=2,
    depths=(1, 2),
    epochs=300,
    deficit_length=60,
    deficit_starts=(0, 200),
    mc_depths=(1, 2),
    mc_size=10,
    mc_rank_pretrain=2,
    mc_rank_target=1,
    mc_observed=50,
    mc_switches=(0, 100, 200),
    mc_continue=150,
    mc_log_points=10,
)


def test_targets_are_the_official_hierarchy():
    assert cp.TARGETS.shape == (8, 15)
    assert cp.TARGETS[:, 0].tolist() == [1] * 8 and cp.TARGETS[:, 1].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    np.testing.assert_array_equal(cp.TARGETS[:, 7:], np.eye(8))
    u, s, v = cp.target_svd()
    np.testing.assert_allclose(u[:, :8] @ np.diag(s) @ v.T, cp.TARGETS.T, atol=1e-12)


def test_ode_without_deficit_shares_equally_and_learns_the_mode():
    ka, kb = cp.k_trajectory(3, 2.0, 0.01, start=0, length=0, lr=0.01, epochs=2000)
    np.testing.assert_allclose(ka, kb)
    assert ka[-1] + kb[-1] == pytest.approx(2.0, rel=1e-6)
    ka, kb = cp.k_trajectory(1, 2.0, 0.01, start=0, length=150, lr=0.01, epochs=3000)
    # depth 1: pathway a's head start 2·(1 − e^{−1.5}) persists, b ends with ≈ (S − head start)/2
    assert kb[-1] / (ka[-1] + kb[-1]) == pytest.approx(0.116, abs=0.005)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_official_init_sets_every_mode_to_its_initial_strength(depth):
    cfg = dataclasses.replace(SMALL, width=12)
    weights, k0 = cp._pathway_init(cfg, depth, [0, 1], cp.make_data(cfg))
    assert len(weights) == depth
    total = weights[0]
    for w in weights[1:]:
        total = w @ total
    u, _, v = cp.target_svd()
    k = torch.as_tensor(u[:, :8]).T @ total @ torch.as_tensor(v)
    torch.testing.assert_close(k, torch.diag_embed(k0))
    assert torch.all(k0[:, :-1] >= k0[:, 1:]) and torch.all((k0 > 0.005) & (k0 < 0.015))


def test_gradient_descent_follows_the_official_ode():
    data = cp.make_data(SMALL)
    runs = cp._train_pathways(SMALL, 2, data, [0], "cpu")
    strengths = cp.target_svd()[1]
    for start in SMALL.deficit_starts:
        g = runs[runs.variant == f"D2_start{start}"]
        for mode in (0, 3, 7):
            ka = g[g.metric == f"Ka{mode}"].sort_values("step")
            kb = g[g.metric == f"Kb{mode}"].sort_values("step")
            a, b = cp.k_trajectory(
                2, strengths[mode], ka.value.iloc[0], start, SMALL.deficit_length, SMALL.lr, SMALL.epochs
            )
            np.testing.assert_allclose(ka.value, a[ka.step], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(kb.value, b[kb.step], rtol=1e-9, atol=1e-12)


def test_grid_packs_or_splits_the_completion_depths():
    assert cp.grid(SMALL) == {
        "pathways": {"kind": "pathways", "depths": [1, 2]},
        "completion": {"kind": "completion", "depths": [1, 2]},
    }
    split = cp.grid(dataclasses.replace(SMALL, pack=False))
    assert list(split) == ["pathways", "completion-D1", "completion-D2"]
    with pytest.raises(ValueError, match="width"):
        cp.grid(dataclasses.replace(SMALL, width=4))


def test_completion_data_and_training():
    data = cp.make_data(SMALL)
    assert data["mc_pretrain"].shape == (2, 10, 10) and data["mc_index"].shape == (2, 50)
    assert (
        np.linalg.matrix_rank(data["mc_pretrain"][0]) == 2
        and np.linalg.matrix_rank(data["mc_target"][1]) == 1
    )
    runs = cp._train_completion(SMALL, 2, data, [0, 1], "cpu")
    assert set(runs.variant) == {"D2_pretrain", "D2_T0", "D2_T100", "D2_T200"}
    for t in SMALL.mc_switches:
        steps = runs[runs.variant == f"D2_T{t}"].step
        assert steps.min() == t and steps.max() == t + SMALL.mc_continue
    # the T = 0 continuation starts from the (tiny) initialisation: its test loss is the target's mean square, 1
    first = runs[
        (runs.variant == "D2_T0") & (runs.step == 0) & (runs.split == "test") & (runs.metric == "loss")
    ]
    assert first.value.tolist() == pytest.approx([1.0, 1.0], abs=1e-3)


def synthetic_metrics(early=(0.12, 0.02, 0.03), late=(0.5, 0.5, 0.49), losses=None) -> pd.DataFrame:
    rows = []
    for seed in (0, 1):
        for depth, e, l_ in zip((1, 2, 4), early, late, strict=True):
            rows += [
                ("pathways", seed, f"share_b_D{depth}_start0", e),
                ("pathways", seed, f"share_b_D{depth}_start400", 0.45),
                ("pathways", seed, f"share_b_D{depth}_start750", l_),
            ]
        for depth, curve in (losses or {1: [0.7, 0.7001, 0.7, 0.7002], 3: [0.0, 0.3, 0.2, 0.9]}).items():
            for t, v in zip((0, 300, 600, 1200), curve, strict=True):
                rows.append((f"completion-D{depth}", seed, f"test_loss_D{depth}_T{t}", v))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def test_measure_applies_the_pass_rules_per_seed():
    cfg = cp.TIERS["smoke"]
    got = cp.measure(synthetic_metrics(), cfg)
    assert set(got) == {c.id for c in cp.CLAIMS}
    assert got["early_deficit_deprives"] == pytest.approx([0.03, 0.03])
    assert got["depth_strengthens_deficit"] == pytest.approx([0.25, 0.25])
    assert got["late_deficit_harmless"] == pytest.approx([0.5 / 0.12, 0.5 / 0.12])
    assert got["completion_critical_period"] == pytest.approx([0.8, 0.8])
    assert got["completion_depth"] == pytest.approx([0.9 - 2 * 0.0002] * 2)


def test_extract_shares_from_final_strengths():
    rows = []
    for step, (ka, kb) in ((0, (0.01, 0.01)), (10, (3.0, 1.0))):
        for a in range(8):
            rows += [
                ("pathways", "D2_start0", 0, step, "train", f"Ka{a}", ka),
                ("pathways", "D2_start0", 0, step, "train", f"Kb{a}", kb),
            ]
    rows.append(("pathways", "D2_start0", 0, 10, "train", "diverged_at", np.nan))
    rows.append(("completion-D2", "D2_T5", 0, 20, "test", "loss", 0.25))
    runs = pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])
    m = cp.extract(runs, SMALL).set_index("metric").value
    assert m["share_b_D2_start0"] == pytest.approx(0.25)
    assert m["learned_D2_start0"] == pytest.approx(32 / cp.target_svd()[1].sum())
    assert m["test_loss_D2_T5"] == 0.25


def test_figures_draw_on_a_small_run():
    import matplotlib.pyplot as plt

    data = cp.make_data(SMALL)
    parts = []
    for point, kind in (("pathways", cp._train_pathways), ("completion", cp._train_completion)):
        for depth in (1, 2):
            parts.append(kind(SMALL, depth, data, [0, 1], "cpu").assign(point=point))
    runs = pd.concat(parts, ignore_index=True)
    metrics = cp.extract(runs, SMALL)
    assert np.isfinite(cp.measure(metrics, SMALL)["early_deficit_deprives"]).all()
    for figure in cp.FIGURES:
        fig = figure.draw(runs, metrics, SMALL)
        assert fig.axes
        plt.close(fig)
