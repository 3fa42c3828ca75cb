import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.metrics.stats import spearman
from reprosuite.studies import toneva_forgetting as tf

CFG = dataclasses.replace(
    config.resolve("toneva_forgetting", "smoke"), n_train=200, n_test=100, epochs=3, acc_window=2
)


def test_data_and_grid():
    data = tf.make_data(CFG)
    assert data["x"].shape == (200, 40) and data["x_test"].shape == (100, 40)
    assert set(np.unique(data["y"])) == set(range(10))
    assert set(tf.grid(CFG)) == {"cnn", "mlp"}
    with pytest.raises(ValueError, match="claim_fraction"):
        tf.grid(dataclasses.replace(CFG, fractions=(0.5,)))


def test_tiers_deviate_from_the_paper_where_explained():
    st = study.get("toneva_forgetting")
    assert tf.TIERS["full"] == tf.Config() and not study.deviations(st, config.resolve(st, "full"), "full")
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    convbase = {"channels", "kernels", "strides", "paddings", "pools", "cnn_hidden", "removal_dropout"}
    budget = {"dataset", "n_train", "n_test", "epochs", "seeds", "fractions", "removal_repeats", "acc_window"}
    assert quick == convbase | budget | {"lr", "momentum", "cifar10_runs"}
    with pytest.raises(config.ConfigError, match="conv_impl"):
        config.resolve(st, "smoke", {"conv_impl": "fft"})


def test_mnist_and_cifar10_are_the_full_tiers_datasets_only():
    assert tf.datasets(tf.Config()) == ("mnist", "cifar10")
    assert tf.datasets(tf.TIERS["quick"]) == tf.datasets(tf.TIERS["smoke"]) == ()
    st = study.get("toneva_forgetting")
    assert study.required_datasets(st, config.resolve(st, "full")) == ("mnist", "cifar10")
    assert set(tf.grid(tf.Config())) == {"cnn", "mlp", "resnet18_cifar10"}
    with pytest.raises(ValueError, match="claim_fraction 0.25 is not among cifar10_fractions"):
        tf.grid(dataclasses.replace(tf.Config(), cifar10_fractions=(0.1, 0.3)))
    with pytest.raises(ValueError, match="stride 1"):
        tf.grid(dataclasses.replace(tf.Config(), strides=(2, 1)))
    with pytest.raises(ValueError, match="no pooling"):
        tf.grid(dataclasses.replace(CFG, removal_dropout=0.5))


def test_training_point_gives_tidy_runs():
    pytest.importorskip("torch")
    data = tf.make_data(CFG)
    runs = tf.train(CFG, tf.grid(CFG)["cnn"], data, [0, 1], "cpu")
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    assert set(runs["variant"]) == {
        "full",
        "shuffled",
        "selected-0.25-r0",
        "random-0.25-r0",
        "control-0.25-r0",
    }
    members = set(zip(runs["variant"], runs["mode"], runs["fraction"], runs["repeat"], strict=True))
    assert members == {
        ("full", "full", 0.0, 0),
        ("shuffled", "shuffled", 0.0, 0),  # the negative control's forgetting runs
        ("selected-0.25-r0", "selected", 0.25, 0),
        ("random-0.25-r0", "random", 0.25, 0),
        ("control-0.25-r0", "control", 0.25, 0),
    }
    acc = runs[(runs["metric"] == "accuracy") & (runs["split"] == "test")]
    assert acc.groupby(["variant", "seed"])["step"].max().eq(CFG.epochs).all()
    counts = runs[runs["metric"] == "forgetting_count"]
    assert len(counts) == 2 * 2 * 200 and counts["value"].between(0, CFG.epochs).all()
    loss = runs[(runs["metric"] == "loss") & (runs["split"] == "test") & (runs["variant"] == "full")]
    first, last = loss[loss["step"] == 0]["value"], loss[loss["step"] == CFG.epochs]["value"]
    assert (last.to_numpy() < first.to_numpy()).all()  # learns something in 3 epochs
    mlp = tf.train(CFG, tf.grid(CFG)["mlp"], data, [0, 1], "cpu")
    assert set(mlp["variant"]) == {"full"}  # no removal retraining on the MLP point
    pd.testing.assert_frame_equal(
        mlp, tf.train(CFG, tf.grid(CFG)["mlp"], data, [0, 1], "cpu")
    )  # deterministic


def synthetic_runs(cifar10: bool = False) -> pd.DataFrame:
    rows = []
    cnn = {0: [0, 0, 1, 3, 5], 1: [0, 1, 1, 2, 5]}  # count 5 with learned 0 = never learned (P = 5)
    mlp = {0: [0, 1, 0, 2, 5], 1: [1, 0, 2, 3, 5]}
    shuffled = {0: [2, 0, 1, 0, 5], 1: [1, 2, 0, 1, 5]}
    for point, mode, table in (("cnn", "full", cnn), ("mlp", "full", mlp), ("cnn", "shuffled", shuffled)):
        for seed, counts in table.items():
            full = (point, mode, mode, 0.0, 0, seed)
            for i, c in enumerate(counts):
                rows.append((*full, i, "example", "forgetting_count", float(c)))
                rows.append((*full, i, "example", "learned", float(i < 4)))
            for epoch, acc in enumerate([0.5, 0.8, 0.9]):
                rows.append((*full, epoch, "test", "accuracy", acc))
    for seed in (0, 1):
        for mode, final in (("selected", 0.95), ("random", 0.9 - 0.01 * seed), ("control", 0.9)):
            for r, shift in ((0, 0.01), (1, -0.01)):  # two repeats, averaging to `final`
                member = ("cnn", f"{mode}-0.25-r{r}", mode, 0.25, r, seed)
                for epoch, acc in enumerate([0.5, final + shift - 0.02, final + shift]):
                    rows.append((*member, epoch, "test", "accuracy", acc))
    columns = ["point", "variant", "mode", "fraction", "repeat", "seed", "step", "split", "metric", "value"]
    runs = pd.DataFrame(rows, columns=columns)
    if cifar10:  # ResNet-18's runs on CIFAR-10: the CNN's numbers, the shuffled-label runs' minus one event
        resnet = runs[runs["point"] == "cnn"].assign(point="resnet18_cifar10")
        shuffled = (resnet["mode"] == "shuffled") & (resnet["metric"] == "forgetting_count")
        resnet.loc[shuffled, "value"] = (resnet.loc[shuffled, "value"] - 1).clip(lower=0)
        runs = pd.concat([runs, resnet], ignore_index=True)
    return runs


def test_extract_and_measure_known_values():
    metrics = tf.extract(synthetic_runs(), CFG)  # acc_window 2
    assert list(metrics.columns) == ["point", "seed", "mode", "fraction", "repeat", "metric", "value"]
    lookup = metrics[metrics["mode"] == "full"].set_index(["point", "seed", "metric"])["value"]
    assert lookup["cnn", 0, "unforgettable_frac"] == pytest.approx(2 / 5)
    assert lookup["cnn", 0, "never_learned_frac"] == pytest.approx(1 / 5)
    assert lookup["cnn", 0, "dispersion_index"] == pytest.approx(np.var([0, 0, 1, 3], ddof=1) / 1.0)
    assert lookup["cnn", 0, "test_acc"] == pytest.approx(0.85)
    acc = metrics[metrics["metric"] == "test_acc"].set_index(["point", "mode", "fraction", "repeat", "seed"])
    assert acc.loc[("cnn", "random", 0.25, 0, 1), "value"] == pytest.approx((0.88 + 0.90) / 2)
    measured = tf.measure(metrics, CFG)
    mnist = [c for c in tf.CLAIMS if not c.id.startswith("cifar10_")]
    controls = {c.id + "/control" for c in mnist if c.control}
    assert set(measured) == {c.id for c in mnist} | controls  # the CIFAR-10 claims: no runs, no values
    assert controls == {"unforgettable/control", "cross_arch_spearman/control", "selected_removal/control"}
    # the official statistic: unforgettable in both runs (summed count 0): example 0 only; one value
    assert list(measured["unforgettable"]) == pytest.approx([0.2])
    assert list(lookup.xs("unforgettable_frac", level="metric").loc["cnn"]) == pytest.approx([0.4, 0.2])
    assert list(measured["unforgettable/control"]) == [0.0]  # no example at 0 in both shuffled runs
    assert list(measured["heavy_tail"]) == pytest.approx(
        [np.var([0, 0, 1, 3], ddof=1) / 1.0, np.var([0, 1, 1, 2], ddof=1)]
    )
    assert list(measured["cross_arch_spearman"]) == pytest.approx(
        [spearman([0, 0, 1, 3, 5], [0, 1, 0, 2, 5]), spearman([0, 1, 1, 2, 5], [1, 0, 2, 3, 5])]
    )
    assert list(measured["cross_arch_spearman/control"]) == pytest.approx(
        [spearman([0, 0, 1, 3, 5], [2, 0, 1, 0, 5]), spearman([0, 1, 1, 2, 5], [1, 2, 0, 1, 5])]
    )
    assert list(measured["selected_removal"]) == pytest.approx([0.05, 0.06])
    assert list(measured["selected_removal/control"]) == pytest.approx([0.0, 0.01])
    rem = tf.removal_table(metrics)
    assert set(rem["fraction"]) == {0.0, 0.25} and len(rem) == 10
    assert tf.CLAIMS[1].kind == "sanity" and not tf.CLAIMS[1].control


def test_the_cifar10_claims_read_resnet18_s_runs_only():
    metrics = tf.extract(synthetic_runs(cifar10=True), CFG)
    measured = tf.measure(metrics, CFG)
    assert {c.id for c in tf.CLAIMS} | {c.id + "/control" for c in tf.CLAIMS if c.control} == set(measured)
    assert list(measured["cifar10_unforgettable"]) == pytest.approx([0.2])
    # shuffled counts minus one: [1, 0, 0, 0, 4] and [0, 1, 0, 0, 4]; examples 2 and 3 at 0 in both, learned
    assert list(measured["cifar10_unforgettable/control"]) == pytest.approx([0.4])
    assert list(measured["cifar10_selected_removal"]) == pytest.approx([0.05, 0.06])
    assert list(measured["cifar10_selected_removal/control"]) == pytest.approx([0.0, 0.01])
    assert "cifar10_cross_arch_spearman" not in measured and "cifar10_heavy_tail" not in measured
    # the CNN's claims are unchanged by ResNet-18's runs beside them
    alone = tf.measure(tf.extract(synthetic_runs(), CFG), CFG)
    for key, values in alone.items():
        pd.testing.assert_series_equal(values, measured[key])
    assert {c.id: c.tiers for c in tf.CLAIMS if c.id.startswith("cifar10_")} == {
        "cifar10_unforgettable": ("full",),
        "cifar10_selected_removal": ("full",),
    }


def test_figures_draw():
    import matplotlib.pyplot as plt

    runs = synthetic_runs(cifar10=True)
    metrics = tf.extract(runs, CFG)
    for figure in tf.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes and figure.caption
        plt.close(fig)
