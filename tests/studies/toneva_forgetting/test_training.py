import dataclasses

import numpy as np
import pytest

from reprosuite import config
from reprosuite.studies import toneva_forgetting as tf
from reprosuite.studies.toneva_forgetting import forgetting as fg
from reprosuite.studies.toneva_forgetting import training

CFG = dataclasses.replace(
    config.resolve("toneva_forgetting", "smoke"), n_train=200, n_test=100, epochs=3, acc_window=2
)


def test_removal_subsets():
    order = np.array([3, 0, 2, 1, 4, 7, 6, 5])
    subsets = training.removal_subsets(order, 0.25, [0, 1])
    assert [s.tolist() for s in subsets["selected"]] == [[1, 2, 4, 5, 6, 7]] * 2  # 3 and 0 removed
    r0, r1 = subsets["random"]
    assert len(r0) == len(r1) == 6 and len(set(r0)) == 6 and not np.array_equal(r0, r1)
    np.testing.assert_array_equal(r0, training.removal_subsets(order, 0.25, [0, 1])["random"][0])
    other = training.removal_subsets(order, 0.25, [0, 1], repeat=1)
    assert not np.array_equal(other["random"][0], r0) and np.array_equal(
        other["selected"][0], subsets["selected"][0]
    )


def test_epoch_stream_presents_every_example_once_per_epoch():
    torch = pytest.importorskip("torch")
    keep = torch.stack([torch.arange(10), torch.arange(10, 20)])
    stream = training.EpochStream(keep, 4, [0, 1])
    assert stream.per_epoch == 3  # 4 + 4 + 2: the last batch is partial, as in run_mnist.py
    for epoch in range(2):
        seen = [stream.at(epoch * 3 + i) for i in range(3)]
        assert all(e == epoch for e, _ in seen) and [b.shape[1] for _, b in seen] == [4, 4, 2]
        batches = torch.cat([b for _, b in seen], dim=1)
        assert sorted(batches[0].tolist()) == list(range(10))
        assert sorted(batches[1].tolist()) == list(range(10, 20))
    # a function of the step alone (resume-safe)
    fresh = training.EpochStream(keep, 4, [0, 1])
    assert torch.equal(fresh.at(4)[1], stream.at(4)[1])


def test_recorded_correctness_is_the_presentation_forward_pass():
    """With lr 0 the model never changes: each presentation's correctness is the fixed model's prediction."""
    torch = pytest.importorskip("torch")
    cfg = dataclasses.replace(CFG, lr=1e-12, momentum=0.0)
    data = tf.make_data(cfg)
    tensors = {k: torch.as_tensor(v) for k, v in data.items()}
    keep = torch.arange(200).expand(2, 200)
    for arch in ("cnn", "mlp"):
        _, per_epoch, correct = training.fit_ensemble(cfg, arch, tensors, keep, [0, 1], [0, 1], True, "test")
        assert per_epoch == 4 and correct.shape == (2, 3, 200)
        model = training.build_model(cfg, arch, [0, 1], "cpu")
        with torch.no_grad():
            pred = (model(tensors["x"]).argmax(-1) == tensors["y"]).numpy().astype(np.int8)
        for s in range(2):
            np.testing.assert_array_equal(correct[s], np.broadcast_to(pred[s], (3, 200)))
            assert set(fg.forgetting_counts(correct[s])) <= {0.0, 3.0}  # never forgotten, or never learned


def test_shuffled_labels_are_one_fixed_permutation():
    y = np.repeat(np.arange(10), 20)
    a, b = training.shuffled_labels(y), training.shuffled_labels(y)
    np.testing.assert_array_equal(a, b)  # the same for every seed and call
    assert np.bincount(a).tolist() == np.bincount(y).tolist() and (a != y).mean() > 0.8


def test_members_learn_their_own_labels():
    """With lr 0 each member's recorded correctness is its fixed prediction against its own labels."""
    torch = pytest.importorskip("torch")
    cfg = dataclasses.replace(CFG, lr=1e-12, momentum=0.0)
    data = tf.make_data(cfg)
    tensors = {k: torch.as_tensor(v) for k, v in data.items()}
    labels = torch.stack([tensors["y"], torch.as_tensor(training.shuffled_labels(data["y"]))])
    keep = torch.arange(200).expand(2, 200)
    _, _, correct = training.fit_ensemble(
        cfg, "mlp", tensors, keep, [0, 0], [0, 0], True, "test", labels=labels
    )
    model = training.build_model(cfg, "mlp", [0, 0], "cpu")
    with torch.no_grad():
        pred = model(tensors["x"]).argmax(-1)
    for s in range(2):
        np.testing.assert_array_equal(correct[s, 0], (pred[s] == labels[s]).numpy().astype(np.int8))
    assert not np.array_equal(correct[0, 0], correct[1, 0])
