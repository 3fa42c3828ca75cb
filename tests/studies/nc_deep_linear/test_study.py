import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import nc_deep_linear as nc
from reprosuite.studies.nc_deep_linear import collapse

CFG = dataclasses.replace(
    nc.TIERS["smoke"],
    hidden=6,
    depths=(1, 3),
    balanced_sizes=(2, 2, 2, 2),
    imbalanced_sizes=(4, 2, 1, 1),
    steps=40,
    log_points=4,
    seeds=2,
)


def rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def layer_views(h: np.ndarray, weights: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """What ``train`` hands to ``member_metrics``: inputs of layers 1..M and the classifiers W_M ⋯ W_m."""
    features = [h]
    for w in weights[:-1]:
        features.append(features[-1] @ w.T)
    classifiers = [weights[-1]]
    for w in weights[-2::-1]:
        classifiers.insert(0, classifiers[0] @ w)
    return features, classifiers


def global_minimum(variant: str, depth: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """A collapsed configuration with the closed-form lengths, rotated: H, [W_1 … W_M], labels."""
    k, d = CFG.n_classes, CFG.hidden
    sizes = nc._sizes(CFG, variant)
    labels = np.repeat(np.arange(k), sizes)
    s = collapse.closed_form_s(sizes, depth, CFG.lambda_w, CFG.lambda_h)
    embed = np.eye(k, d)
    q = [rotation(d, i) for i in range(depth)]
    spread = np.diag(np.r_[s, np.zeros(d - k)])
    weights = [q[m + 1] @ spread @ q[m].T for m in range(depth - 1)] + [np.diag(s) @ embed @ q[-1].T]
    s_m = s**depth
    means = np.diag(s_m / (s_m**2 + sum(sizes) * CFG.lambda_h)) @ embed @ q[0].T  # (K, d)
    return means[labels], weights, labels


@pytest.mark.parametrize("variant", ["balanced", "imbalanced"])
@pytest.mark.parametrize("depth", [1, 3])
def test_member_metrics_vanish_at_the_global_minimum(variant, depth):
    h, weights, labels = global_minimum(variant, depth)
    out = nc.member_metrics(*layer_views(h, weights), labels, variant, CFG)
    assert out["nc1"] < 1e-10 and out["nc2"] < 1e-10 and out["nc3"] < 1e-10
    w_theory, h_theory = collapse.closed_form_norms(
        nc._sizes(CFG, variant), depth, CFG.lambda_w, CFG.lambda_h
    )
    np.testing.assert_allclose([out[f"w_norm_{j}"] for j in range(4)], w_theory, rtol=1e-10)
    np.testing.assert_allclose([out[f"h_norm_{j}"] for j in range(4)], h_theory, rtol=1e-10)


def test_member_metrics_detect_departures():
    h, weights, labels = global_minimum("imbalanced", 3)
    # the balanced target (orthogonal frame) does not fit imbalanced lengths
    assert nc.member_metrics(*layer_views(h, weights), labels, "balanced", CFG)["nc2"] > 0.1
    # within-class spread raises NC1 at every layer; a skewed middle layer raises NC2 there
    rng = np.random.default_rng(0)
    noisy = h + 0.01 * rng.normal(size=h.shape)
    assert nc.member_metrics(*layer_views(noisy, weights), labels, "imbalanced", CFG)["nc1"] > 1e-5
    skewed = [weights[0], weights[1] @ np.diag([1.0, 1.3, 1.0, 1.0, 1.0, 1.0]), weights[2]]
    assert nc.member_metrics(*layer_views(h, skewed), labels, "imbalanced", CFG)["nc2"] > 1e-3


def test_member_metrics_of_a_diverged_member_are_nan():
    h, weights, labels = global_minimum("balanced", 3)
    weights[1][0, 0] = np.nan  # what an overflowing member leaves behind
    out = nc.member_metrics(*layer_views(h, weights), labels, "balanced", CFG)
    assert set(out) == {"nc1", "nc2", "nc3", *(f"{w}_norm_{j}" for w in "wh" for j in range(4))}
    assert all(np.isnan(v) for v in out.values())


def test_member_metrics_with_bias_use_the_etf_on_centred_means():
    k, d = CFG.n_classes, CFG.hidden
    labels = np.repeat(np.arange(k), CFG.balanced_sizes)
    etf = collapse.simplex_etf(k) @ np.eye(k, d) @ rotation(d, 5)
    h = (etf + rotation(d, 6)[0])[labels]  # means = ETF + a common offset
    out = nc.member_metrics(*layer_views(h, [2.0 * etf]), labels, "balanced_bias", CFG)
    assert out["nc1"] < 1e-10 and out["nc2"] < 1e-10 and out["nc3"] < 1e-10
    assert nc.member_metrics(*layer_views(h, [2.0 * etf]), labels, "balanced", CFG)["nc2"] > 0.1


def test_grid_and_data():
    assert nc.grid(CFG) == {"M1": {"depth": 1, "control": False}, "M3": {"depth": 3, "control": True}}
    data = nc.make_data(CFG)
    assert set(data) == {"labels_balanced", "labels_balanced_bias", "labels_imbalanced"}
    assert np.bincount(data["labels_imbalanced"]).tolist() == [4, 2, 1, 1]
    with pytest.raises(ValueError, match="sample counts"):
        nc.grid(dataclasses.replace(CFG, imbalanced_sizes=(4, 2, 1, 2)))
    with pytest.raises(ValueError, match="class sizes"):
        nc.grid(dataclasses.replace(CFG, n_classes=3))
    with pytest.raises(ValueError, match="depths"):
        nc.grid(dataclasses.replace(CFG, depths=(0, 2)))


def test_config_refuses_unknown_variants_and_quick_deviates_in_budget_only():
    st = study.get("nc_deep_linear")
    with pytest.raises(config.ConfigError, match="typo"):
        config.resolve(st, "smoke", {"variants": ["balanced", "typo"]})
    devs = study.deviations(st, config.resolve(st, "quick"), "quick")
    assert {d.field for d in devs} == {"seeds", "steps", "mlp_depths"}  # the MLP on MNIST: full tier only


def synthetic_runs(norms_by_seed: dict[int, list[float]], diverged: tuple = ()) -> pd.DataFrame:
    """A run table as ``train`` writes it: two depth points, three variants, steps 0 and 10."""
    rows = []
    for point, scale in (("M1", 1.0), ("M3", 2.0)):
        controls = [f"{v}{nc.WD0}" for v in nc.VARIANTS] if point == "M3" else []
        for variant in (*nc.VARIANTS, *controls):
            for seed, norms in norms_by_seed.items():
                for step in (0, 10):
                    final = step == 10
                    values = {"loss": 0.1, "nc1": 1e-6 * scale, "nc2": 0.01 * scale, "nc3": 1e-4 * scale}
                    if variant.endswith(nc.WD0):  # no weight decay: no collapse
                        values = {"loss": 0.01, "nc1": 0.3, "nc2": 0.4, "nc3": 0.5}
                    values = values if final else {m: 1.0 for m in values}
                    for j in range(4):
                        values[f"w_norm_{j}"] = norms[j] if final else 1.0
                        values[f"h_norm_{j}"] = 0.1
                    for metric, value in values.items():
                        rows.append((point, variant, seed, step, "train", metric, value))
                dead = (point, variant, seed) in diverged
                rows.append((point, variant, seed, 10, "train", "diverged_at", 7.0 if dead else np.nan))
    return pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])


def test_extract_and_measure_take_the_worst_depth():
    runs = synthetic_runs({0: [4.0, 3.0, 2.0, 2.1], 1: [4.0, 2.0, 3.0, 3.0]})
    metrics = nc.extract(runs, CFG)
    assert set(metrics.columns) == {"point", "seed", "metric", "value"}
    lookup = metrics.set_index(["point", "seed", "metric"])["value"]
    assert lookup["M3", 0, "balanced_bias.nc2"] == pytest.approx(0.02)
    assert lookup["M1", 0, "imbalanced.rank_corr"] == 1.0
    assert lookup["M1", 1, "imbalanced.rank_corr"] == pytest.approx(0.5)
    w_theory, _ = collapse.closed_form_norms(CFG.imbalanced_sizes, 3, CFG.lambda_w, CFG.lambda_h)
    expected = np.max(np.abs(np.array([4.0, 3.0, 2.0, 2.1]) / w_theory - 1))
    assert lookup["M3", 0, "imbalanced.w_norm_rel_err"] == pytest.approx(expected)

    measured = nc.measure(metrics, CFG)
    synthetic = [c for c in nc.CLAIMS if not c.id.startswith("mlp_")]  # no MLP runs here
    empirical = {c.id for c in synthetic if c.kind == "empirical"}
    assert set(measured) == {c.id for c in synthetic} | {f"{c}/control" for c in empirical}
    assert measured["nc1_balanced"] == pytest.approx([2e-6, 2e-6])
    assert measured["nc2_orthogonal"] == pytest.approx([0.02, 0.02])
    assert measured["imbalanced_rank_order"] == pytest.approx([1.0, 0.5])
    assert measured["imbalanced_closed_form"] == pytest.approx([0.02, 0.02])
    worst = max(lookup["M1", 0, "imbalanced.w_norm_rel_err"], expected)  # the worst depth
    assert measured["imbalanced_closed_form_norms"][0] == pytest.approx(worst)
    # controls: the weight-decay-0 members, and the balanced runs ranked against the imbalanced sizes
    assert measured["nc1_balanced/control"] == pytest.approx([0.3, 0.3])
    assert measured["nc2_etf/control"] == pytest.approx([0.4, 0.4])
    assert "nc3_etf/control" not in measured  # a sanity claim has no control
    assert measured["imbalanced_rank_order/control"] == pytest.approx(
        [1.0, 0.5]
    )  # balanced got the same norms


def test_a_diverged_member_makes_its_seed_unmeasurable():
    runs = synthetic_runs(
        {0: [4.0, 3.0, 2.0, 2.0], 1: [4.0, 3.0, 2.0, 2.0]}, diverged=(("M3", "balanced", 1),)
    )
    measured = nc.measure(nc.extract(runs, CFG), CFG)
    assert measured["nc2_orthogonal"][0] == pytest.approx(0.02)
    assert np.isnan(measured["nc2_orthogonal"][1])
    assert np.isnan(measured["nc1_balanced"][1])
    assert measured["nc2_etf"] == pytest.approx([0.02, 0.02])


def test_figures_draw_on_a_run_table():
    import matplotlib.pyplot as plt

    runs = synthetic_runs({0: [4.0, 3.0, 2.0, 2.0], 1: [4.0, 3.0, 2.0, 2.0]})
    runs.insert(0, "study", "nc_deep_linear")
    metrics = nc.extract(runs, CFG)
    for figure in nc.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)


def test_training_collapses_and_members_are_independent():
    torch = pytest.importorskip("torch")
    data = nc.make_data(CFG)
    cfg = dataclasses.replace(CFG, steps=300)
    runs = nc.train(cfg, {"depth": 2, "control": True}, data, [0, 1], torch.device("cpu"))
    assert set(runs["variant"]) == set(nc.VARIANTS) | {f"{v}{nc.WD0}" for v in nc.VARIANTS}
    assert sorted(runs["seed"].unique()) == [0, 1]
    final = runs[runs["step"] == cfg.steps].set_index(["variant", "seed", "metric"])["value"]
    start = runs[runs["step"] == 0].set_index(["variant", "seed", "metric"])["value"]
    for variant in nc.VARIANTS:
        assert final[variant, 0, "loss"] < start[variant, 0, "loss"]
        assert final[variant, 0, "nc1"] < 1e-2 * start[variant, 0, "nc1"]
    # an imbalanced member trains the same alone as beside the other variants and the weight-decay-0 controls
    alone = nc.train(dataclasses.replace(cfg, variants=("imbalanced",)), {"depth": 2}, data, [0, 1], "cpu")
    packed = runs[runs["variant"] == "imbalanced"].sort_values(["seed", "step", "metric"])["value"].to_numpy()
    single = (
        alone[alone["variant"] == "imbalanced"].sort_values(["seed", "step", "metric"])["value"].to_numpy()
    )
    np.testing.assert_allclose(packed, single, rtol=1e-5, atol=1e-9)
