import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.studies import critical_periods_dln as cp
from reprosuite.studies.critical_periods_dln import pathways

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


def test_grid_packs_or_splits_the_completion_depths():
    assert cp.grid(SMALL) == {
        "pathways": {"kind": "pathways", "depths": [1, 2], "control_no_deficit": True},
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
            for start, share in ((0, e), (400, 0.45), (750, l_), (pathways.NO_DEFICIT, 0.5)):
                rows.append(("pathways", seed, "share_b", depth, start, np.nan, share))
        for depth, curve in (losses or {1: [0.7, 0.7001, 0.7, 0.7002], 3: [0.0, 0.3, 0.2, 0.9]}).items():
            for t, v in zip((0, 300, 600, 1200), curve, strict=True):
                rows.append((f"completion-D{depth}", seed, "test_loss", depth, np.nan, t, v))
    columns = ["point", "seed", "metric", "depth", "deficit_start", "T_critical", "value"]
    return pd.DataFrame(rows, columns=columns)


def test_measure_applies_the_pass_rules_per_seed():
    cfg = cp.TIERS["smoke"]
    got = cp.measure(synthetic_metrics(), cfg)
    ids = {c.id for c in cp.CLAIMS}
    assert set(got) == ids | {f"{i}{claims.CONTROL}" for i in ids}
    assert got["early_deficit_deprives"] == pytest.approx([0.03, 0.03])
    assert got["depth_strengthens_deficit"] == pytest.approx([0.25, 0.25])
    assert got["late_deficit_harmless"] == pytest.approx([0.49 / 0.5] * 2)
    assert got["completion_critical_period"] == pytest.approx([0.8, 0.8])
    assert got["completion_depth"] == pytest.approx([0.9, 0.9])
    # the controls, through the same code: no deficit keeps ½; the early deficit in place of the late one;
    # depth 1's wobbling curve (0.7, 0.7001, 0.7, 0.7002) is flat: no trend, no harm to speak of
    assert got["early_deficit_deprives/control"] == pytest.approx([0.5, 0.5])
    assert got["depth_strengthens_deficit/control"] == pytest.approx([1.0, 1.0])
    assert got["late_deficit_harmless/control"] == pytest.approx([0.02 / 0.5] * 2)
    assert got["completion_depth/control"] == pytest.approx([0.0002, 0.0002])
    assert got["completion_critical_period/control"] == [0.0, 0.0]
    # a curve rising by more than the flatness resolution has its rank trend
    rising = cp.measure(
        synthetic_metrics(losses={1: [0.7, 0.702, 0.701, 0.703], 3: [0.0, 0.3, 0.2, 0.9]}), cfg
    )
    assert rising["completion_critical_period/control"] == pytest.approx([0.8, 0.8])
    verdicts = {
        c.id: claims.evaluate(c, got[c.id], "smoke", control=got[f"{c.id}/control"]) for c in cp.CLAIMS
    }
    assert verdicts["early_deficit_deprives"]["control_verdict"] == "fail"
    assert verdicts["completion_depth"]["control_verdict"] == "fail"


def test_extract_shares_from_final_strengths():
    rows = []
    for step, (ka, kb) in ((0, (0.01, 0.01)), (10, (3.0, 1.0))):
        for a in range(8):
            rows += [
                ("pathways", "D2_start0", 2, 0, np.nan, 0, step, "train", f"Ka{a}", ka),
                ("pathways", "D2_start0", 2, 0, np.nan, 0, step, "train", f"Kb{a}", kb),
            ]
    rows.append(("pathways", "D2_start0", 2, 0, np.nan, 0, 10, "train", "diverged_at", np.nan))
    rows.append(("completion-D2", "D2_T5", 2, np.nan, 5, 0, 20, "test", "loss", 0.25))
    columns = ["depth", "deficit_start", "T_critical", "seed", "step", "split", "metric", "value"]
    runs = pd.DataFrame(rows, columns=["point", "variant", *columns])
    m = cp.extract(runs, SMALL).set_index(["metric", "depth"])
    assert (
        m.loc[("share_b", 2), "value"] == pytest.approx(0.25) and m.loc[("share_b", 2), "deficit_start"] == 0
    )
    assert m.loc[("learned", 2), "value"] == pytest.approx(32 / cp.target_svd()[1].sum())
    assert m.loc[("test_loss", 2), "value"] == 0.25 and m.loc[("test_loss", 2), "T_critical"] == 5
    # a member that diverged has no share
    runs.loc[runs.metric == "diverged_at", "value"] = 7.0
    assert np.isnan(cp.extract(runs, SMALL).set_index("metric").loc["share_b", "value"])


def test_figures_draw_on_a_small_run():
    import matplotlib.pyplot as plt

    data = cp.make_data(SMALL)
    parts = []
    for point, kind in (("pathways", pathways.run), ("completion", cp._train_completion)):
        for depth in (1, 2):
            extra = {"control": True} if kind is pathways.run else {}
            parts.append(kind(SMALL, depth, data, [0, 1], "cpu", **extra).assign(point=point))
    runs = pd.concat(parts, ignore_index=True)
    metrics = cp.extract(runs, SMALL)
    got = cp.measure(metrics, SMALL)
    assert np.isfinite(got["early_deficit_deprives"]).all()
    assert got["early_deficit_deprives/control"] == pytest.approx([0.5, 0.5], abs=0.01)  # no deficit: ½
    for figure in cp.FIGURES:
        fig = figure.draw(runs, metrics, SMALL)
        assert fig.axes
        plt.close(fig)


def test_quick_deviates_from_the_official_config_where_explained():
    st = study.get("critical_periods_dln")
    devs = study.deviations(st, config.resolve(st, "quick"), "quick")
    assert {d.field for d in devs} == {
        "depths",
        "log_every",
        "mc_size",
        "mc_rank_pretrain",
        "mc_rank_target",
        "mc_observed",
        "mc_lr",
        "mc_switches",
        "mc_continue",
        "mc_log_points",
    }
