"""The paper's protocol (``Config()``): real MNIST and the official 2-D CNN, at a few hundred examples."""

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from reprosuite.engine.data import official
from reprosuite.studies import toneva_forgetting as tf
from reprosuite.studies.toneva_forgetting import training

torch = pytest.importorskip("torch")

# 256 examples: 4 steps per epoch (the removal at 25 %: 192, 3 steps)
CFG = dataclasses.replace(
    tf.Config(),
    n_train=256,
    n_test=200,
    epochs=2,
    seeds=2,
    fractions=(0.25,),
    acc_window=1,
    cifar10_runs=False,
)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    root = os.environ.get(official.ENV)
    if not root or official.missing(["mnist"], root):
        pytest.skip(f"the official MNIST is not in ${official.ENV}")
    return tf.make_data(CFG)


def test_data_is_mnist_standardised(data):
    assert data["x"].shape == (256, 784) and data["x_test"].shape == (200, 784)
    assert data["x"].dtype == np.float32 and set(np.unique(data["y"])) == set(range(10))
    full = tf.make_data(dataclasses.replace(CFG, n_train=60_000, n_test=10_000))
    # the training set's pixel moments: the official Normalize((0.1307,), (0.3081,)) to 4 digits
    assert abs(float(full["x"].mean(dtype=np.float64))) < 1e-5
    assert float(full["x"].std(dtype=np.float64)) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(full["x"][:256], data["x"])
    # a background pixel: (0 − 0.1307) / 0.3081
    assert float(full["x"].min()) == pytest.approx(-0.1307 / 0.3081, abs=2e-4)


def test_models_are_the_official_cnn_and_an_mnist_mlp():
    from reprosuite.engine.models import conv2d, layers

    cnn = training.build_model(CFG, "cnn", [0, 1], "cpu")
    assert isinstance(cnn, conv2d.EnsembleConv2dNet) and cnn.flat == 320 and cnn.generators == []
    assert sum(p.numel() for p in cnn.parameters()) == 2 * 21_840
    dropped = training.build_model(CFG, "cnn", [0, 1], "cpu", dropout=CFG.removal_dropout)
    assert dropped.conv_dropout == [0.0, 0.5] and dropped.hidden_dropout == [0.5]
    assert len(dropped.generators) == 2
    mlp = training.build_model(CFG, "mlp", [0, 1], "cpu")
    assert isinstance(mlp, layers.EnsembleMLP) and mlp.sizes == (784, 100, 100, 10)
    with pytest.raises(ValueError, match="dropout"):
        training.build_model(CFG, "mlp", [0], "cpu", dropout=0.5)


def test_recorded_correctness_is_the_presentation_forward_pass(data):
    """With lr ≈ 0 the model never changes: each presentation's correctness is the fixed model's prediction."""
    cfg = dataclasses.replace(CFG, lr=1e-12, momentum=0.0)
    tensors = {k: torch.as_tensor(v) for k, v in data.items()}
    keep = torch.arange(256).expand(2, 256)
    _, per_epoch, correct = training.fit_ensemble(cfg, "cnn", tensors, keep, [0, 1], [0, 1], True, "test")
    assert per_epoch == 4 and correct.shape == (2, 2, 256)
    with torch.no_grad():
        model = training.build_model(cfg, "cnn", [0, 1], "cpu")
        pred = (model(tensors["x"]).argmax(-1) == tensors["y"]).numpy().astype(np.int8)
    for s in range(2):
        np.testing.assert_array_equal(correct[s], np.broadcast_to(pred[s], (2, 256)))


def test_job_killed_in_a_dropout_fit_resumes_to_the_same_run_table(data, tmp_path, kill_fits):

    point = tf.grid(CFG)["cnn"]
    reference = tf.train(CFG, point, data, [0, 1], "cpu")
    assert set(reference["variant"]) == {
        "full",
        "shuffled",
        "selected-0.25-r0",
        "random-0.25-r0",
        "control-0.25-r0",
    }
    without = tf.train(dataclasses.replace(CFG, removal_dropout=0.0), point, data, [0, 1], "cpu")
    removal = reference["fraction"] > 0
    pd.testing.assert_frame_equal(reference[~removal], without[~removal])  # the forgetting runs: no dropout
    assert not reference[removal]["value"].equals(without[removal]["value"])  # the removal runs: dropout
    # the removal fit (the one with dropout generators), in its second epoch: masks drawn at steps 0–3
    resumed = kill_fits.resumed(
        lambda: tf.train(CFG, point, data, [0, 1], "cpu"), lambda kw: bool(kw.get("generators")), 4, tmp_path
    )
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)
