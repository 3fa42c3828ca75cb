import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import elu_bias_shift as elu

CFG = dataclasses.replace(elu.TIERS["smoke"], seeds=2, epochs=2, compare_epochs=2, depth=3, width=16)


def test_grid_needs_elu_and_relu_and_mnist_is_a_required_dataset():
    assert elu.grid(CFG) == {"all": {"activations": ["elu", "relu", "leaky_relu"], "control": True}}
    with pytest.raises(ValueError, match="ReLU"):
        elu.grid(dataclasses.replace(CFG, activations=("elu", "leaky_relu")))
    assert elu.datasets(elu.Config()) == ("mnist", "cifar100") and elu.datasets(CFG) == ()


def test_config_refuses_unknown_activations_and_tiers_deviate_where_explained():
    st = study.get("elu_bias_shift")
    with pytest.raises(config.ConfigError, match="selu"):
        config.resolve(st, "smoke", {"activations": ["elu", "relu", "selu"]})
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"dataset", "epochs", "cifar100_runs"}


def synthetic_runs(losses: dict[str, list[float]], medians: dict[str, list[float]], seeds=(0, 1), dead=()):
    """A run table as ``train`` writes it: evaluations after every epoch of 23 steps."""
    rows = []
    for act in losses:
        for seed in seeds:
            for epoch, (loss, median) in enumerate(zip(losses[act], medians[act], strict=True)):
                step = 23 * epoch
                rows.append((act, seed, step, "train", "loss", loss + 0.01 * seed))
                rows.append((act, seed, step, "train", "median_activation", median))
                rows.append((act, seed, step, "test", "loss", loss))
                rows.append((act, seed, step, "test", "accuracy", 1 - loss / 3))
            last = 23 * (len(losses[act]) - 1)
            rows.append((act, seed, last, "train", "diverged_at", 5.0 if (act, seed) in dead else np.nan))
    return pd.DataFrame(rows, columns=["variant", "seed", "step", "split", "metric", "value"])


LOSSES = {
    "elu": [2.3, 0.5, 0.3, 0.2],
    "relu": [2.3, 0.6, 0.25, 0.3],
    "leaky_relu": [2.3, 0.7, 0.4, 0.3],
    "relu_b": [2.3, 0.55, 0.35, 0.25],
}
MEDIANS = {
    "elu": [0.1, 0.1, -0.2, -0.3],
    "relu": [0.3, 0.4, 0.5, 0.6],
    "leaky_relu": [0.2, 0.2, 0.3, 0.3],
    "relu_b": [0.3, 0.45, 0.4, 0.5],
}


def test_extract_and_measure_compare_elu_with_relu_per_seed_and_the_control_in_elus_place():
    cfg = dataclasses.replace(CFG, compare_epochs=2)
    metrics = elu.extract(synthetic_runs(LOSSES, MEDIANS), cfg)
    assert set(metrics.columns) == {"point", "seed", "metric", "value"}
    lookup = metrics.set_index(["seed", "metric"])["value"]
    assert lookup[0, "elu_faster_than_relu"] == pytest.approx(1 / 2)  # epochs 1, 2: below, above
    assert lookup[0, "elu_faster_than_leaky_relu"] == 1.0
    # the distance to zero at epoch 2, not the last epoch, and not the signed difference: |0.5| − |−0.2|
    assert lookup[1, "elu_median_gap_relu"] == pytest.approx(0.5 - 0.2)
    assert lookup[1, "relu_b_median_gap_relu"] == pytest.approx(0.5 - 0.4)
    assert lookup[0, "relu_b_faster_than_relu"] == pytest.approx(1 / 2)
    assert lookup[0, "relu.test_error"] == pytest.approx(0.1)
    measured = elu.measure(metrics, cfg)
    ids = [c.id for c in elu.CLAIMS if "smoke" in c.tiers]
    assert set(measured) == set(ids) | {i + "/control" for i in ids}
    assert list(measured["elu_loss_falls_faster"]) == pytest.approx([0.5, 0.5])
    assert list(measured["elu_median_activation_lower"]) == pytest.approx([0.3, 0.3])
    assert list(measured["elu_median_activation_lower/control"]) == pytest.approx([0.1, 0.1])
    assert list(measured["elu_median_nearer_zero_than_lrelu"]) == pytest.approx([0.1, 0.1])
    assert list(measured["elu_loss_falls_faster_than_lrelu/control"]) == pytest.approx([0.5, 0.5])


def test_a_median_far_below_zero_is_not_nearer_zero():
    medians = dict(MEDIANS, elu=[0.1, 0.1, -0.9, -0.9])
    metrics = elu.extract(synthetic_runs(LOSSES, medians), dataclasses.replace(CFG, compare_epochs=2))
    assert (elu.measure(metrics, CFG)["elu_median_activation_lower"] < 0).all()


def test_compare_epochs_beyond_training_use_the_last_epoch_and_diverged_seeds_are_nan():
    cfg = dataclasses.replace(CFG, compare_epochs=10)
    metrics = elu.extract(synthetic_runs(LOSSES, MEDIANS, dead={("relu", 1)}), cfg)
    measured = elu.measure(metrics, cfg)
    assert measured["elu_median_activation_lower"][0] == pytest.approx(0.6 - 0.3)
    assert np.isnan(measured["elu_loss_falls_faster"][1]) and np.isnan(
        measured["elu_median_activation_lower"][1]
    )
    assert np.isnan(measured["elu_loss_falls_faster/control"][1])  # the control's pair includes ReLU
    assert not np.isnan(measured["elu_loss_falls_faster_than_lrelu"][1])


def test_figures_draw_on_a_run_table():
    import matplotlib.pyplot as plt

    runs = synthetic_runs(LOSSES, MEDIANS)
    metrics = elu.extract(runs, CFG)
    for figure in elu.FIGURES:
        if "smoke" in figure.tiers:
            fig = figure.draw(runs, metrics, CFG)
            assert fig.axes
            plt.close(fig)
    # the CIFAR-100 figure (full tier): the MLP's table and the CNN's beside it, as the pipeline gives them
    cnn = synthetic_runs(LOSSES, MEDIANS).assign(point="cifar100")
    cnn = cnn[cnn["metric"] != "median_activation"]
    both = pd.concat([runs.assign(point="all"), cnn], ignore_index=True)
    (figure,) = [f for f in elu.FIGURES if f.tiers == ("full",)]
    fig = figure.draw(both, elu.extract(both, CFG), CFG)
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "test error (%)"
    plt.close(fig)


@pytest.fixture(scope="module")
def trained():
    pytest.importorskip("torch")
    data = elu.make_data(CFG)
    point = elu.grid(CFG)["all"]
    return data, elu.train(CFG, point, data, [0, 1], "cpu")


def test_training_logs_every_epoch_for_every_member(trained):
    data, runs = trained
    assert set(runs["variant"]) == {"elu", "relu", "leaky_relu", "relu_b"} and set(runs["seed"]) == {0, 1}
    steps_per_epoch = len(data["y"]) // CFG.batch_size
    assert sorted(runs["step"].unique()) == [e * steps_per_epoch for e in range(CFG.epochs + 1)]
    loss = runs[(runs["metric"] == "loss") & (runs["split"] == "train")].set_index(
        ["variant", "seed", "step"]
    )
    for act in ("elu", "relu", "leaky_relu"):
        assert loss.loc[(act, 0, CFG.epochs * steps_per_epoch), "value"] < loss.loc[(act, 0, 0), "value"]
    # ReLU units are never negative, so neither is the median of their means; ELU units can be
    median = runs[runs["metric"] == "median_activation"]
    assert (median[median["variant"] == "relu"]["value"] >= 0).all()
    # the control arm is ReLU from another seed set: a different initial net, not a copy of the ReLU arm
    first = median[median["step"] == 0].set_index(["variant", "seed"])["value"]
    assert first["relu_b", 0] != first["relu", 0]


def test_a_member_trains_the_same_beside_other_activations(trained):
    data, runs = trained
    alone = elu.train(CFG, {"activations": ["relu"], "control": False}, data, [1], "cpu")
    key = ["step", "split", "metric"]
    packed = runs[(runs["variant"] == "relu") & (runs["seed"] == 1)].sort_values(key)["value"].to_numpy()
    single = alone.sort_values(key)["value"].to_numpy()
    np.testing.assert_allclose(packed, single, rtol=1e-5, atol=1e-6, equal_nan=True)
