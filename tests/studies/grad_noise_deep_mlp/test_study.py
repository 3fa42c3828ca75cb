import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import grad_noise_deep_mlp as gn

CFG = dataclasses.replace(gn.TIERS["smoke"], seeds=2, steps=40, depth=4, width=8, inits=("zero", "he"))


def test_grid_and_config_check_inits_and_dataset():
    assert gn.grid(CFG) == {"all": {"inits": ["zero", "he"]}}
    assert gn.datasets(gn.Config()) == ("mnist",) and gn.datasets(CFG) == ()
    st = study.get("grad_noise_deep_mlp")
    with pytest.raises(config.ConfigError, match="xavier"):
        config.resolve(st, "smoke", {"inits": ["zero", "xavier"]})
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"dataset", "seeds", "steps", "lrs", "log_points"}


def test_chance_is_the_majority_class_rate():
    assert gn.chance(np.array([0, 1, 1, 2])) == 0.5


def synthetic_runs(acc: dict[tuple[str, bool], list[float]], lrs=(0.1,), dead=()) -> pd.DataFrame:
    """A run table as ``train`` writes it: test accuracy at steps 0 and 100 per (init, noise, lr, seed)."""
    rows = []
    for (init, noise), values in acc.items():
        for lr in lrs:
            for seed, value in enumerate(values):
                member = (gn.variant(init, noise, lr), init, noise, lr, seed)
                rows.append((*member, 0, "test", "accuracy", 0.1))
                rows.append((*member, 100, "test", "accuracy", value))
                rows.append((*member, 0, "train", "weight_rms", 0.0))
                rows.append(
                    (*member, 100, "train", "weight_rms", 0.0 if init == "zero" and not noise else 0.1)
                )
                diverged = 50.0 if (init, noise, lr, seed) in dead else np.nan
                rows.append((*member, 100, "train", "diverged_at", diverged))
    columns = ["variant", "init", "noise", "lr", "seed", "step", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


ACC = {
    ("zero", False): [0.08, 0.08, 0.08],
    ("zero", True): [0.08, 0.9, 0.95],
    ("he", False): [0.95, 0.96, 0.97],
    ("he", True): [0.96, 0.96, 0.95],
    ("simple", False): [0.07, 0.07, 0.5],
    ("simple", True): [0.95, 0.83, 0.95],
}


def test_extract_and_measure_follow_the_pass_rules():
    base = gn.chance(gn.make_data(CFG)["y_test"])
    metrics = gn.extract(synthetic_runs(ACC), CFG)
    assert set(metrics.columns) == {"point", "seed", "init", "noise", "lr", "metric", "value"}
    assert metrics["noise"].dtype == bool and metrics["lr"].dtype == float
    measured = gn.measure(metrics, CFG)
    controls = {c.id + "/control" for c in gn.CLAIMS if c.control}
    assert set(measured) == {c.id for c in gn.CLAIMS} | controls
    assert all(c.control for c in gn.CLAIMS if c.kind == "empirical")
    assert measured["zero_init_no_noise_at_chance"] == pytest.approx([0.08 - base] * 3)
    assert measured["zero_init_noise_best"] == pytest.approx([0.95])
    assert measured["zero_init_noise_mean"] == pytest.approx([0.08 - base, 0.9 - base, 0.95 - base])
    assert measured["he_init_noise_no_effect"] == pytest.approx([0.01, 0.0, -0.02])
    # the controls: the same statistics without noise at zero init, the same difference at simple init
    assert measured["zero_init_noise_best/control"] == pytest.approx([0.08])
    assert measured["zero_init_noise_mean/control"] == pytest.approx([0.08 - base] * 3)
    assert measured["he_init_noise_no_effect/control"] == pytest.approx([0.88, 0.76, 0.45])


def test_measure_pairs_runs_by_learning_rate_and_seed_and_keeps_divergence():
    runs = synthetic_runs(ACC, lrs=(0.1, 0.01), dead={("zero", True, 0.01, 1)})
    measured = gn.measure(gn.extract(runs, CFG), CFG)
    assert len(measured["he_init_noise_no_effect"]) == 6
    assert measured["he_init_noise_no_effect"][:3] == pytest.approx([0.01, 0.0, -0.02])
    assert np.isnan(measured["zero_init_noise_mean"][1])
    assert np.isnan(measured["zero_init_noise_best"][0])  # a run that diverged has no accuracy


def test_smoke_measures_only_the_zero_init_claim():
    cfg = gn.TIERS["smoke"]
    runs = synthetic_runs({k: v for k, v in ACC.items() if k[0] == "zero" and not k[1]})
    measured = gn.measure(gn.extract(runs, cfg), cfg)
    assert set(measured) == {"zero_init_no_noise_at_chance"}


def test_figures_draw_on_a_run_table():
    import matplotlib.pyplot as plt

    runs = synthetic_runs(ACC)
    metrics = gn.extract(runs, CFG)
    for figure in gn.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        if figure.name == "table1":
            best = sorted(round(b.get_height(), 3) for b in fig.axes[0].patches)
            # max per (init, noise), bars in both panels
            assert best == [0.08, 0.5, 0.95, 0.95, 0.96, 0.97]
        plt.close(fig)


@pytest.fixture(scope="module")
def trained():
    pytest.importorskip("torch")
    data = gn.make_data(CFG)
    return data, gn.train(CFG, gn.grid(CFG)["all"], data, [0, 1], "cpu")


def test_zero_init_weights_stay_exactly_zero_without_noise(trained):
    _, runs = trained
    rms = (
        runs[runs["metric"] == "weight_rms"]
        .set_index(["init", "noise", "lr", "seed", "step"])["value"]
        .sort_index()
    )
    assert (rms.loc["zero", False, 0.1] == 0.0).all()
    noisy = rms.loc["zero", True, 0.1]
    assert (noisy.xs(CFG.steps, level="step") > 0).all()
    members = set(zip(runs["variant"], runs["init"], runs["noise"], runs["lr"], strict=True))
    assert members == {(gn.variant(i, n, 0.1), i, n, 0.1) for i in ("zero", "he") for n in (True, False)}


def test_a_member_trains_the_same_beside_other_settings(trained):
    data, runs = trained
    alone = gn.train(CFG, {"inits": ["zero"]}, data, [1], "cpu")
    key = ["step", "split", "metric"]
    for name in (gn.variant("zero", True, 0.1), gn.variant("zero", False, 0.1)):
        packed = runs[(runs["variant"] == name) & (runs["seed"] == 1)].sort_values(key)["value"].to_numpy()
        single = alone[alone["variant"] == name].sort_values(key)["value"].to_numpy()
        np.testing.assert_allclose(packed, single, rtol=1e-5, atol=1e-7, equal_nan=True)
