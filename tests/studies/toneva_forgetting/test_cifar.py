"""The CIFAR-10 runs of the full tier (official run_cifar.py): normalisation, schedule, and the chained forgetting
and removal runs of ResNet-18 (narrowed to a few channels) on small CIFAR-format arrays."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from reprosuite.studies import toneva_forgetting as tf
from reprosuite.studies.toneva_forgetting import cifar

torch = pytest.importorskip("torch")

CFG = dataclasses.replace(
    tf.Config(),
    seeds=2,
    acc_window=1,
    cifar10_epochs=2,
    cifar10_batch_size=16,
    cifar10_blocks=(1, 1, 1, 1),
    cifar10_widths=(4, 4, 8, 8),
    cifar10_milestones=(1,),
    cifar10_fractions=(0.25,),
)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    """64 training and 32 test images in CIFAR's layout (uint8 rows of 3 × 32 × 32, channels first), each class
    a brighter or darker shade of its own channel, plus noise."""
    rng = np.random.default_rng(0)
    out = {}
    for split, n in (("", 64), ("_test", 32)):
        y = np.arange(n) % 10
        x = rng.integers(0, 120, (n, 3, 32, 32))
        x[np.arange(n), y % 3] += 12 * y[:, None, None]
        out[f"cifar10_x{split}"] = x.reshape(n, -1).astype(np.uint8)
        out[f"cifar10_y{split}"] = y.astype(np.int64)
    return out


def test_images_are_normalised_as_the_official_transforms():
    x = np.random.default_rng(1).integers(0, 256, (5, 3072), dtype=np.uint8)
    ours = cifar.images(x, "cpu").numpy()
    mean = np.array([125.3, 123.0, 113.9]) / 255
    std = np.array([63.0, 62.1, 66.7]) / 255
    ref = (x.reshape(5, 3, 32, 32) / 255 - mean[:, None, None]) / std[:, None, None]
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    assert ours.shape == (5, 3, 32, 32) and ours.dtype == np.float32


def test_the_schedule_is_multisteplr_stepped_with_the_epoch_after_each_epoch():
    cfg = tf.Config()
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=cfg.cifar10_lr)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(cfg.cifar10_milestones), gamma=0.2)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scheduler.step(epoch) is deprecated; run_cifar.py calls it so
        for epoch in range(cfg.cifar10_epochs):
            lrs.append(opt.param_groups[0]["lr"])
            sched.step(epoch)
    ours = [cfg.cifar10_lr * cifar.lr_factor(cfg, e) for e in range(cfg.cifar10_epochs)]
    np.testing.assert_allclose(ours, lrs, rtol=1e-12)
    assert ours[60] == 0.1 and ours[61] == pytest.approx(0.02) and ours[199] == pytest.approx(0.1 * 0.2**3)


def test_make_data_reads_all_of_cifar10(monkeypatch, tmp_path):
    from reprosuite.engine.data import official

    monkeypatch.setenv(official.ENV, str(tmp_path))
    monkeypatch.setenv(official.STAND_IN_ENV, "1")  # the official files' shapes without the files
    cfg = dataclasses.replace(tf.TIERS["smoke"], cifar10_runs=True)
    d = tf.make_data(cfg)
    assert d["cifar10_x"].shape == (50_000, 3072) and d["cifar10_x"].dtype == np.uint8
    assert d["cifar10_x_test"].shape == (10_000, 3072)
    assert d["cifar10_y"].dtype == np.int64 and set(np.unique(d["cifar10_y"])) == set(range(10))
    assert d["x"].shape == (1000, 40)  # the MNIST-1D arrays beside them, as before
    assert not any(k.startswith("cifar10_") for k in tf.make_data(tf.TIERS["smoke"]))


def test_resnet18_point_chains_forgetting_and_removal_runs_and_resumes_bit_for_bit(data, tmp_path, kill_fits):

    point = tf.grid(CFG)["resnet18_cifar10"]
    assert point == {"arch": "resnet18", "dataset": "cifar10", "removal": True}
    runs = tf.train(CFG, point, data, [0, 1], "cpu")
    assert set(zip(runs["variant"], runs["mode"], runs["fraction"], strict=True)) == {
        ("full", "full", 0.0),
        ("shuffled", "shuffled", 0.0),
        ("selected-0.25-r0", "selected", 0.25),
        ("random-0.25-r0", "random", 0.25),
        ("control-0.25-r0", "control", 0.25),
    }
    counts = runs[runs["metric"] == "forgetting_count"]
    assert len(counts) == 2 * 2 * 64 and counts["value"].between(0, CFG.cifar10_epochs).all()
    acc = runs[(runs["metric"] == "accuracy") & (runs["split"] == "test")]
    assert acc.groupby(["variant", "seed"])["step"].max().eq(CFG.cifar10_epochs).all()
    # Cutout in the removal runs only
    plain = tf.train(dataclasses.replace(CFG, cifar10_cutout=0), point, data, [0, 1], "cpu")
    removal = runs["fraction"] > 0
    pd.testing.assert_frame_equal(runs[~removal], plain[~removal])
    assert not runs[removal]["value"].equals(plain[removal]["value"])
    # a job killed mid-way through the removal fit resumes to the same run table: the augmentation generators
    # and BatchNorm's running statistics are checkpointed with the weights
    # in the removal fit's second epoch (3 updates per epoch over the 48 kept examples)
    resumed = kill_fits.resumed(
        lambda: tf.train(CFG, point, data, [0, 1], "cpu"), lambda kw: "removal" in kw["label"], 4, tmp_path
    )
    pd.testing.assert_frame_equal(resumed, runs, check_exact=True)
