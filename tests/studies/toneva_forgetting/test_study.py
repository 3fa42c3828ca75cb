import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config
from reprosuite.metrics.stats import spearman
from reprosuite.studies import toneva_forgetting as tf
from reprosuite.studies.toneva_forgetting import forgetting as fg

CFG = dataclasses.replace(
    config.resolve("toneva_forgetting", "smoke"), n_train=200, n_test=100, epochs=3, acc_window=2
)


def test_data_grid_and_tiers():
    data = tf.make_data(CFG)
    assert data["x"].shape == (200, 40) and data["x_test"].shape == (100, 40)
    assert set(np.unique(data["y"])) == set(range(10))
    assert set(tf.grid(CFG)) == {"cnn", "mlp"}
    quick = config.resolve("toneva_forgetting", "quick")
    assert (quick.n_train, quick.epochs, quick.batch_size, quick.seeds) == (4000, 30, 64, 3)
    assert quick.claim_fraction in quick.fractions
    full = config.resolve("toneva_forgetting", "full")
    assert full.seeds >= 5 and full.claim_fraction in full.fractions


def test_removal_subsets():
    order = np.array([3, 0, 2, 1, 4, 7, 6, 5])
    subsets = tf.removal_subsets(order, 0.25, [0, 1])
    assert [s.tolist() for s in subsets["selected"]] == [[1, 2, 4, 5, 6, 7]] * 2  # 3 and 0 removed
    r0, r1 = subsets["random"]
    assert len(r0) == len(r1) == 6 and len(set(r0)) == 6 and not np.array_equal(r0, r1)
    np.testing.assert_array_equal(r0, tf.removal_subsets(order, 0.25, [0, 1])["random"][0])
    other = tf.removal_subsets(order, 0.25, [0, 1], repeat=1)
    assert not np.array_equal(other["random"][0], r0) and np.array_equal(
        other["selected"][0], subsets["selected"][0]
    )


def test_epoch_stream_presents_every_example_once_per_epoch():
    torch = pytest.importorskip("torch")
    keep = torch.stack([torch.arange(10), torch.arange(10, 20)])
    stream = tf.EpochStream(keep, 4, [0, 1])
    assert stream.per_epoch == 3  # 4 + 4 + 2: the last batch is partial, as in run_mnist.py
    for epoch in range(2):
        seen = [stream.at(epoch * 3 + i) for i in range(3)]
        assert all(e == epoch for e, _ in seen) and [b.shape[1] for _, b in seen] == [4, 4, 2]
        batches = torch.cat([b for _, b in seen], dim=1)
        assert sorted(batches[0].tolist()) == list(range(10))
        assert sorted(batches[1].tolist()) == list(range(10, 20))
    # a function of the step alone (resume-safe)
    fresh = tf.EpochStream(keep, 4, [0, 1])
    assert torch.equal(fresh.at(4)[1], stream.at(4)[1])


def test_recorded_correctness_is_the_presentation_forward_pass():
    """With lr 0 the model never changes: each presentation's correctness is the fixed model's prediction."""
    torch = pytest.importorskip("torch")
    cfg = dataclasses.replace(CFG, lr=1e-12, momentum=0.0)
    data = tf.make_data(cfg)
    tensors = {k: torch.as_tensor(v) for k, v in data.items()}
    keep = torch.arange(200).expand(2, 200)
    for arch in ("cnn", "mlp"):
        _, per_epoch, correct = tf.fit_ensemble(cfg, arch, tensors, keep, [0, 1], [0, 1], True, "test")
        assert per_epoch == 4 and correct.shape == (2, 3, 200)
        model = tf.build_model(cfg, arch, [0, 1], "cpu")
        with torch.no_grad():
            pred = (model(tensors["x"]).argmax(-1) == tensors["y"]).numpy().astype(np.int8)
        for s in range(2):
            np.testing.assert_array_equal(correct[s], np.broadcast_to(pred[s], (3, 200)))
            assert set(fg.forgetting_counts(correct[s])) <= {0.0, 3.0}  # never forgotten, or never learned


def test_training_point_gives_tidy_runs():
    pytest.importorskip("torch")
    data = tf.make_data(CFG)
    runs = tf.train(CFG, tf.grid(CFG)["cnn"], data, [0, 1], "cpu")
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    assert set(runs["variant"]) == {"full", "selected-0.25-r0", "random-0.25-r0"}
    acc = runs[(runs["metric"] == "accuracy") & (runs["split"] == "test")]
    assert acc.groupby(["variant", "seed"])["step"].max().eq(CFG.epochs).all()
    counts = runs[runs["metric"] == "forgetting_count"]
    assert len(counts) == 2 * 200 and counts["value"].between(0, CFG.epochs).all()
    loss = runs[(runs["metric"] == "loss") & (runs["split"] == "test") & (runs["variant"] == "full")]
    first, last = loss[loss["step"] == 0]["value"], loss[loss["step"] == CFG.epochs]["value"]
    assert (last.to_numpy() < first.to_numpy()).all()  # learns something in 3 epochs
    mlp = tf.train(CFG, tf.grid(CFG)["mlp"], data, [0, 1], "cpu")
    assert set(mlp["variant"]) == {"full"}  # no removal retraining on the MLP point
    pd.testing.assert_frame_equal(
        mlp, tf.train(CFG, tf.grid(CFG)["mlp"], data, [0, 1], "cpu")
    )  # deterministic


def synthetic_runs() -> pd.DataFrame:
    rows = []
    cnn = {0: [0, 0, 1, 3, 5], 1: [0, 1, 1, 2, 5]}  # count 5 with learned 0 = never learned (P = 5)
    mlp = {0: [0, 1, 0, 2, 5], 1: [1, 0, 2, 3, 5]}
    for point, table in (("cnn", cnn), ("mlp", mlp)):
        for seed, counts in table.items():
            for i, c in enumerate(counts):
                rows.append((point, "full", seed, i, "example", "forgetting_count", float(c)))
                rows.append((point, "full", seed, i, "example", "learned", float(i < 4)))
            for epoch, acc in enumerate([0.5, 0.8, 0.9]):
                rows.append((point, "full", seed, epoch, "test", "accuracy", acc))
    for seed in (0, 1):
        for mode, final in (("selected", 0.95), ("random", 0.9 - 0.01 * seed)):
            for r, shift in ((0, 0.01), (1, -0.01)):  # two repeats, averaging to `final`
                for epoch, acc in enumerate([0.5, final + shift - 0.02, final + shift]):
                    rows.append(("cnn", f"{mode}-0.25-r{r}", seed, epoch, "test", "accuracy", acc))
    return pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])


def test_extract_and_measure_known_values():
    metrics = tf.extract(synthetic_runs(), CFG)  # acc_window 2
    lookup = metrics.set_index(["point", "seed", "metric"])["value"]
    assert lookup["cnn", 0, "unforgettable_frac"] == pytest.approx(2 / 5)
    assert lookup["cnn", 0, "never_learned_frac"] == pytest.approx(1 / 5)
    assert lookup["cnn", 0, "dispersion_index"] == pytest.approx(np.var([0, 0, 1, 3], ddof=1) / 1.0)
    assert lookup["cnn", 0, "test_acc.full"] == pytest.approx(0.85)
    assert lookup["cnn", 1, "test_acc.random-0.25-r0"] == pytest.approx((0.88 + 0.90) / 2)
    measured = tf.measure(metrics, CFG)
    assert set(measured) == {c.id for c in tf.CLAIMS}
    assert measured["unforgettable"] == pytest.approx([0.4, 0.2])
    assert measured["cross_arch_spearman"] == pytest.approx(
        [spearman([0, 0, 1, 3, 5], [0, 1, 0, 2, 5]), spearman([0, 1, 1, 2, 5], [1, 0, 2, 3, 5])]
    )
    assert measured["selected_removal"] == pytest.approx([0.05, 0.06])
    rem = tf.removal_table(metrics)
    assert set(rem["fraction"]) == {0.0, 0.25} and len(rem) == 8


def test_figures_draw():
    import matplotlib.pyplot as plt

    runs = synthetic_runs()
    metrics = tf.extract(runs, CFG)
    for figure in tf.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes and figure.caption
        plt.close(fig)
