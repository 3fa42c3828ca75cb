import dataclasses
import typing

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.studies import tversky_xor as tx

CFG = dataclasses.replace(
    config.resolve("tversky_xor", "smoke"),
    intersections=("product", "gmean"),
    feature_counts=(4,),
    epochs=60,
    log_points=8,
    region_points=5,
)


@pytest.mark.parametrize("intersection", ["product", "min", "max", "mean", "gmean", "softmin"])
@pytest.mark.parametrize("difference", ["ignorematch", "substractmatch"])
def test_handbuilt_solution_classifies_xor_under_every_reduction(intersection, difference):
    torch = pytest.importorskip("torch")
    from reprosuite.studies.tversky_xor import training

    data = tx.make_data(CFG)
    scores = training.handbuilt_scores(torch.as_tensor(data["x"]), intersection, difference)
    assert scores.argmax(-1).tolist() == data["y"].tolist()
    assert float((scores[:, 1] - scores[:, 0]).abs().min()) > 0.5


def test_decided_accuracy_does_not_count_ties():
    torch = pytest.importorskip("torch")
    from reprosuite.studies.tversky_xor import training

    y = torch.tensor([0, 1, 1, 0])
    tied = torch.zeros(1, 4, 2) + torch.tensor([0.0, 1e-7]).view(1, 1, 2) * y.view(1, 4, 1)
    assert training.decided_accuracy(tied, y).tolist() == [0.0]
    clear = torch.nn.functional.one_hot(y, 2).float().unsqueeze(0)
    assert training.decided_accuracy(torch.cat([clear, -clear]), y).tolist() == [1.0, 0.0]


def test_config_options_are_the_official_reductions():
    pytest.importorskip("torch")
    from reprosuite.studies.tversky_xor import model

    assert typing.get_args(tx.Intersection) == model.INTERSECTIONS
    assert typing.get_args(tx.Difference) == model.DIFFERENCES
    assert typing.get_args(tx.Init) == model.INITS
    with pytest.raises(config.ConfigError, match="minimum"):
        config.resolve("tversky_xor", "smoke", {"intersections": ["minimum"]})


def test_tiers_deviate_from_the_paper_where_said():
    st = study.get("tversky_xor")
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"seeds", "intersections", "feature_counts", "normalize"}
    assert study.deviations(st, config.resolve(st, "full"), "full") == []


def test_grid_settings_and_data():
    cfg = dataclasses.replace(
        CFG, feature_counts=(1, 16), inits=("uniform", "normal"), normalize=(False, True)
    )
    assert set(tx.grid(cfg)) == {"tversky-product", "tversky-gmean", "reference"}
    names = [s["name"] for s in tx.settings(cfg, "mean")]
    assert len(names) == len(set(names)) == 2 * 2 * 2 * 2 and "mean-substractmatch-f16-uniform" in names
    assert "mean-ignorematch-f1-normal-norm" in names
    assert all(s["name"].endswith("-norm") == s["normalize"] for s in tx.settings(cfg, "min"))
    data = tx.make_data(CFG)
    assert data["x"].shape == (4, 2) and data["y"].tolist() == [0, 1, 1, 0]
    assert data["region"].shape == (25, 2)


def test_training_points_produce_tidy_runs():
    torch = pytest.importorskip("torch")
    data = tx.make_data(CFG)
    runs = tx.train(CFG, tx.grid(CFG)["tversky-gmean"], data, [0, 1], torch.device("cpu"))
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    assert set(runs["variant"]) == {s["name"] for s in tx.settings(CFG, "gmean")}
    # (0, 0) shares no feature with any prototype: gmean takes log 0 and every member diverges (official code)
    diverged = runs[runs["metric"] == "diverged_at"]
    assert diverged["value"].notna().all()

    ref = tx.train(CFG, {"kind": "reference"}, data, [0, 1], "cpu")
    acc = ref[(ref["metric"] == "accuracy") & ref["variant"].str.startswith("linear")]
    assert acc["value"].max() <= 0.75
    assert acc.groupby(["variant", "seed"]).size().min() == CFG.epochs + 1
    hand = ref[ref["variant"].str.startswith("handbuilt-")]
    assert len(hand) == 12 and (hand["value"] == 1.0).all()
    assert (ref["split"] == "region").sum() == 2 * 25


def synthetic_runs() -> pd.DataFrame:
    """Two settings × two seeds: 'a' converges on both seeds, 'b' only on seed 0 and diverges on seed 1."""
    rows = []
    final = {("a", 0): 1.0, ("a", 1): 1.0, ("b", 0): 1.0, ("b", 1): 1.0}
    for (name, seed), acc in final.items():
        variant = f"product-{'ignorematch' if name == 'a' else 'substractmatch'}-f4-uniform"
        for step, value in ((0, 0.5), (10, acc)):
            rows.append(("tversky-product", variant, seed, step, "train", "accuracy", value))
        dead = 3.0 if (name, seed) == ("b", 1) else np.nan
        rows.append(("tversky-product", variant, seed, 10, "train", "diverged_at", dead))
    for seed in (0, 1):  # gmean fails by construction: left out of the success rate
        variant = "gmean-ignorematch-f4-uniform"
        rows.append(("tversky-gmean", variant, seed, 0, "train", "accuracy", 0.5))
        rows.append(("tversky-gmean", variant, seed, 10, "train", "accuracy", 0.5))
        rows.append(("tversky-gmean", variant, seed, 10, "train", "diverged_at", 1.0))
    for seed, best in ((0, 0.75), (1, 0.5)):
        for step, value in ((0, 0.25), (5, best), (10, 0.5)):
            rows.append(("reference", "linear-lr0.1", seed, step, "train", "accuracy", value))
    for name, value in (("product-ignorematch", 1.0), ("gmean-substractmatch", 1.0)):
        rows.append(("reference", f"handbuilt-{name}", 0, 0, "train", "accuracy", value))
    for i in range(25):
        rows.append(("reference", "handbuilt", 0, i, "region", "margin", float(i % 5 - 2)))
        rows.append(
            ("tversky-product", "product-ignorematch-f4-uniform", 0, i, "region", "margin", 1.0 - i % 3)
        )
    runs = pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])
    runs.insert(0, "study", "tversky_xor")
    return runs


def test_extract_and_measure():
    metrics = tx.extract(synthetic_runs(), CFG)
    assert set(metrics.columns) == {"point", "seed", "metric", "value"}
    lookup = metrics.set_index(["seed", "metric"])["value"]
    assert lookup[1, "converged.product-substractmatch-f4-uniform"] == 0.0  # diverged counts as failure
    assert lookup[1, "converged.product-ignorematch-f4-uniform"] == 1.0
    assert lookup[0, "linear_converged.linear-lr0.1"] == 0.0
    measured = tx.measure(metrics, CFG)
    controls = {c.id + claims.CONTROL for c in tx.CLAIMS if c.control}
    assert set(measured) == {c.id for c in tx.CLAIMS} | controls
    assert measured["linear_cannot"] == [0.75, 0.5]
    assert measured["tversky_represents"] == [1.0]
    assert measured["some_setting_learns"] == [1.0]
    assert measured["success_rate"] == [1.0, 0.5]  # gmean's members are not counted
    # the control: the linear layer's learning rates as settings, through the same functions
    assert measured["some_setting_learns/control"] == [0.0]
    assert measured["success_rate/control"] == [0.0, 0.0]


def test_claim_kinds_and_controls():
    kinds = {c.id: c.kind for c in tx.CLAIMS}
    assert kinds == {
        "linear_cannot": "sanity",
        "tversky_represents": "sanity",
        "some_setting_learns": "empirical",
        "success_rate": "empirical",
    }
    assert all(c.control for c in tx.CLAIMS if c.kind == "empirical")


def test_figures_draw():
    import matplotlib.pyplot as plt

    runs = synthetic_runs()
    metrics = tx.extract(runs, CFG)
    for figure in tx.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)
