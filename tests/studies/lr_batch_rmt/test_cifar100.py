"""The full tier's VGG-16 on CIFAR-100: the network against the official one, the data split, the Hessian and
learning-rate points on small CIFAR-format arrays with the network narrowed to a few channels."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import lr_batch_rmt as lb
from reprosuite.studies.lr_batch_rmt import cifar100

torch = pytest.importorskip("torch")
nn = torch.nn

CFG = dataclasses.replace(
    lb.FULL,
    seeds=2,
    vgg_channels=(4,) * 13,
    batch_sizes=(16, 32),
    control_batch=64,
    slope_max_batch=32,
    sgd_log2_lr=(-4.0, 0.0),
    adam_log2_lr=(-8.0, -4.0),
    lr_step_log2=2.0,
    epochs=1,
    eval_examples=64,
    hessian_batches=2,
    power_iters=3,
)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {
        "x": rng.integers(0, 256, (600, 3072), dtype=np.uint8),
        "y": (np.arange(600) % 100).astype(np.int64),
    }


def official_vgg16(channels, classes: int = 100) -> nn.Module:
    """VGG-16 as the official vgg.py builds it (batch_norm False): conv → ReLU, M after the pooled convolutions,
    then the classifier."""
    layers, c_in = [], 3
    for i, c in enumerate(channels):
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
        layers += [nn.MaxPool2d(2, 2)] if i in (1, 3, 6, 9, 12) else []
        c_in = c
    classifier = [nn.Dropout(), nn.Linear(c_in, 512), nn.ReLU(), nn.Dropout(), nn.Linear(512, 512), nn.ReLU()]
    return nn.Sequential(*layers, nn.Flatten(), *classifier, nn.Linear(512, classes))


def test_vgg16_is_the_official_network():
    """15,291,300 parameters; with the official module's weights set to a member's, the same logits (dropout off);
    initialisation N(0, 2 / (9 · out_channels)) for the convolutions, zero biases, PyTorch's default for the
    linear layers."""
    model = cifar100.build_model(cifar100.VGG16, [0, 1], "cpu")
    ref = official_vgg16(cifar100.VGG16)
    assert (
        sum(p[0].numel() for p in model.parameters())
        == sum(p.numel() for p in ref.parameters())
        == 15_291_300
    )
    convs = [m for m in ref if isinstance(m, nn.Conv2d)]
    linears = [m for m in ref if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for mod, w, b in (
            *zip(convs, model.conv_w, model.conv_b, strict=True),
            *zip(linears, model.lin_w, model.lin_b, strict=True),
        ):
            mod.weight.copy_(w[1].reshape(mod.weight.shape))
            mod.bias.copy_(b[1])
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    model.train(False)
    ref.train(False)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[1], ref(x), rtol=1e-4, atol=1e-5)
    model.requires_grad_(False)
    for w, b, c in zip(model.conv_w, model.conv_b, cifar100.VGG16, strict=True):
        assert float(w.std()) == pytest.approx((2 / (9 * c)) ** 0.5, rel=0.03) and not b.any()
    for w, b in zip(model.lin_w, model.lin_b, strict=True):
        bound = w.shape[2] ** -0.5
        assert float(w.abs().max()) <= bound and float(b.abs().max()) <= bound and float(w.std()) > bound / 2
    assert not torch.equal(model.conv_w[0][0], model.conv_w[0][1])  # a member per seed


def test_the_full_tier_is_vgg16_on_cifar100_and_the_others_the_mlp():
    assert (lb.FULL.model, lb.FULL.dataset, lb.FULL.momentum, lb.FULL.augment) == (
        "vgg16",
        "cifar100",
        0.9,
        True,
    )
    assert lb.datasets(lb.FULL) == ("cifar100",) and lb.datasets(lb.TIERS["quick"]) == ()
    assert set(lb.grid(lb.FULL)) == {"hessian", "B16", "B32", "B64", "B128", "B256", "B512"}
    for tier in ("quick", "smoke"):
        cfg = lb.TIERS[tier]
        assert (cfg.model, cfg.dataset, cfg.momentum, cfg.augment) == ("mlp", "mnist1d", 0.0, False)
    st = study.get("lr_batch_rmt")
    for bad, match in (
        ({"dataset": "mnist1d"}, "VGG-16 trains on CIFAR-100"),
        ({"model": "mlp"}, "VGG-16 trains on CIFAR-100"),
        ({"model": "mlp", "dataset": "mnist1d"}, "augment"),
        ({"momentum": 1.0}, "momentum"),
        ({"vgg_channels": (8,) * 12}, "13 convolutions"),
    ):
        with pytest.raises((config.ConfigError, ValueError), match=match):
            cfg = dataclasses.replace(lb.FULL, **bad)
            config.check_grid(st, cfg)
            cifar100.build_model(cfg.vgg_channels, [0], "cpu")


def test_make_data_reads_the_official_codes_training_split(monkeypatch, tmp_path):
    from reprosuite.engine.data import official

    monkeypatch.setenv(official.ENV, str(tmp_path))
    monkeypatch.setenv(official.STAND_IN_ENV, "1")  # the official files' shapes without the files
    d = lb.make_data(lb.FULL)
    c = official.load("cifar100")
    assert d["x"].shape == (45_000, 3072) and d["x"].dtype == np.uint8 and d["y"].dtype == np.int64
    np.testing.assert_array_equal(d["x"], c.x_train[:45_000].reshape(45_000, -1))
    np.testing.assert_array_equal(d["y"], c.y_train[:45_000])
    x, _ = cifar100.tensors({"x": d["x"][:4], "y": d["y"][:4]}, "cpu")
    raw = d["x"][:4].reshape(4, 3, 32, 32) / 255.0
    mean, std = (np.array(v)[:, None, None] for v in (cifar100.MEAN, cifar100.STD))
    np.testing.assert_allclose(x.numpy(), (raw - mean) / std, rtol=1e-5, atol=1e-6)


def test_the_hessian_point_is_the_whole_training_sets_in_chunks(data, monkeypatch):
    """λ_max per B and of the full batch for every seed; the full batch in chunks (weighted by their share, the
    last one short) gives the eigenvalue of the loss over all images at once."""
    monkeypatch.setattr(cifar100, "HESSIAN_CHUNK", 250)  # 600 images: 250 + 250 + 100
    runs = lb.train(CFG, lb.grid(CFG)["hessian"], data, [0, 1], "cpu")
    assert set(runs["metric"]) == {"lambda_B16", "lambda_B32", "lambda_B64", "lambda_full"}
    assert runs["value"].notna().all() and sorted(runs["seed"].unique()) == [0, 1]
    monkeypatch.setattr(cifar100, "HESSIAN_CHUNK", 600)  # one part
    whole = lb.train(CFG, lb.grid(CFG)["hessian"], data, [0, 1], "cpu")
    np.testing.assert_allclose(runs["value"], whole["value"], rtol=1e-4)


def test_learning_rate_points_train_every_rate_and_resume_bit_for_bit(data, tmp_path, kill_fits):
    small = {k: v[:320] for k, v in data.items()}  # 20 updates per fit at B = 16
    point = lb.grid(CFG)["B16"]
    runs = lb.train(CFG, point, small, [0, 1], "cpu")
    members = runs[["optimizer", "log2_lr", "seed"]].drop_duplicates()
    assert sorted(map(tuple, members.to_numpy().tolist())) == sorted(
        (opt, k, s)
        for opt, ks in (("sgd", (-4.0, -2.0, 0.0)), ("adam", (-8.0, -6.0, -4.0)))
        for k in ks
        for s in (0, 1)
    )
    loss = runs[runs["metric"] == "loss"]
    assert sorted(loss["step"].unique()) == [0, 320 // 16]
    start = loss[loss["step"] == 0].groupby("seed")["value"].nunique()
    assert (start == 1).all()  # every rate of a seed starts from that seed's weights
    # member s depends on its own seed only: seed 1 alone gives seed 1's rows
    sgd = dataclasses.replace(CFG, optimizers=("sgd",))
    alone = lb.train(sgd, point, small, [1], "cpu")
    both = runs[(runs["seed"] == 1) & (runs["optimizer"] == "sgd")].reset_index(drop=True)
    pd.testing.assert_series_equal(alone["value"], both["value"], check_exact=True)
    # the crops and flips are drawn: without them, other losses
    plain = lb.train(dataclasses.replace(sgd, augment=False), point, small, [1], "cpu")
    trained = alone["step"] > 0
    assert not np.allclose(plain[trained]["value"].dropna(), alone[trained]["value"].dropna())
    # the stability test reads these runs: η_max per optimiser and seed
    metrics = lb.extract(runs.assign(point="B16"), CFG)
    assert set(metrics["optimizer"].dropna()) == {"sgd", "adam"}
    # a job killed in its second rate's fit resumes to the same run table: the crop, flip and dropout
    # generators are checkpointed with the weights
    resumed = kill_fits.resumed(
        lambda: lb.train(CFG, point, small, [0, 1], "cpu"),
        lambda kw: kw["label"] == "sgd B=16 lr 2^-2 seed 1",
        12,
        tmp_path,
    )
    pd.testing.assert_frame_equal(resumed, runs, check_exact=True)
