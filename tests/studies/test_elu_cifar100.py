"""ELU's CIFAR-100 comparison (§4.3, full tier): preprocessing, schedule, network, and the chained fits of every
activation on small CIFAR-format arrays with the network narrowed to a few channels."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import elu_bias_shift as elu
from reprosuite.studies.elu_bias_shift import cifar100

torch = pytest.importorskip("torch")

CFG = dataclasses.replace(
    elu.Config(),
    cifar100_activations=("elu", "relu"),
    cifar100_channels=(4,) * 10,
    cifar100_batch_size=10,
    cifar100_iterations=6,
    cifar100_lr_steps=(4,),
    cifar100_lrs=(0.01, 0.001),
    cifar100_eval_every=3,
)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    out = {}
    for split, n in (("", 40), ("_test", 20)):
        out[f"cifar100_x{split}"] = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        out[f"cifar100_y{split}"] = (np.arange(n) % 100).astype(np.int64)
    return out


def test_whitening_is_pylearn2s_gcn_then_zca():
    rng = np.random.default_rng(4)
    raw, raw_t = (
        rng.integers(0, 256, (400, 48), dtype=np.uint8),
        rng.integers(0, 256, (30, 48), dtype=np.uint8),
    )
    x, xt = raw.astype(np.float64), raw_t.astype(np.float64)

    def gcn(v):  # pylearn2 CIFAR100(gcn=55.)
        v = v - v.mean(axis=1, keepdims=True)
        return v / np.sqrt((v**2).sum(axis=1, keepdims=True)) * 55.0

    g, gt = gcn(x), gcn(xt)
    mean = g.mean(axis=0)
    cov = (g - mean).T @ (g - mean) / len(g) + 0.1 * np.eye(48)  # pylearn2 ZCA(filter_bias=0.1)
    eigs, vecs = np.linalg.eigh(cov)
    p = (vecs / np.sqrt(eigs)) @ vecs.T
    ours, ours_t = cifar100.whiten(raw, raw_t, 55.0, 0.1, "cpu")
    assert ours.shape == (400, 48) and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), (g - mean) @ p, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours_t.numpy(), (gt - mean) @ p, rtol=1e-4, atol=1e-4)
    # whitened: the training images' covariance is P C P, eigenvalues λ / (λ + 0.1) < 1
    w = ours.double().numpy()
    assert np.abs(w.mean(axis=0)).max() < 1e-4
    assert 0.95 < np.linalg.eigvalsh(w.T @ w / 400)[-1] < 1.0


def test_the_schedule_and_the_network_are_section_4_3s():
    cfg = elu.Config()
    lrs = [
        cfg.cifar100_lrs[0] * cifar100.lr_factor(cfg, s)
        for s in (0, 34_999, 35_000, 85_000, 135_000, 164_999)
    ]
    assert lrs == pytest.approx([0.01, 0.01, 0.005, 0.0005, 0.00005, 0.00005])
    net = cifar100.build_model(cfg, "elu", [0], "cpu")
    assert net.flat == 300 and net.activation == "elu" and net.ceil_mode
    convs = [(3, 192, 5), (192, 192, 1), (192, 240, 3), (240, 240, 1), (240, 260, 2)]
    convs += [(260, 260, 1), (260, 280, 2), (280, 280, 1), (280, 300, 2), (300, 300, 1)]
    expected = sum(i * o * k * k + o for i, o, k in convs) + 300 * 100 + 100
    assert sum(p.numel() for p in net.parameters()) == expected
    assert sum(1 for p in net.conv_w) + 1 == 11  # eleven convolutional layers, the last as the classifier
    assert net(torch.zeros(2, 3, 32, 32)).shape == (1, 2, 100)


def test_the_cifar100_point_is_the_full_tiers_only():
    assert "cifar100" in elu.grid(elu.Config()) and elu.datasets(elu.Config()) == ("mnist", "cifar100")
    assert set(elu.grid(elu.TIERS["quick"])) == {"all"} and elu.datasets(elu.TIERS["smoke"]) == ()
    st = study.get("elu_bias_shift")
    for bad, match in (
        ({"cifar100_kernels": (5, 1)}, "one entry per layer"),
        ({"cifar100_lrs": (0.1,)}, "one rate more"),
        ({"cifar100_eval_every": 7_000}, "multiple"),
        ({"cifar100_activations": ("elu", "swish", "relu")}, "unknown"),
        ({"cifar100_activations": ("elu", "srelu")}, "compares ELU with ReLU"),
    ):
        with pytest.raises(config.ConfigError, match=match):
            config.check_grid(st, dataclasses.replace(elu.Config(), **bad))


def test_every_activation_trains_in_turn_is_measured_and_a_killed_job_resumes_bit_for_bit(
    data, tmp_path, kill_fits, monkeypatch
):

    # the whitening of 3,072 pixels takes seconds per call (tested above): standardised pixels instead here
    monkeypatch.setattr(
        cifar100, "whiten", lambda x, xt, *_: (torch.as_tensor(x) / 255.0, torch.as_tensor(xt) / 255.0)
    )
    point = elu.grid(CFG)["cifar100"]
    runs = elu.train(CFG, point, data, [0, 1], "cpu")
    assert set(runs["variant"]) == {"elu", "relu", "relu_b"}
    test = runs[(runs["split"] == "test") & (runs["metric"] == "accuracy")]
    assert sorted(test["step"].unique()) == [0, 3, 6]
    train_loss = runs[(runs["split"] == "train") & (runs["metric"] == "loss")]
    assert sorted(train_loss["step"].unique()) == [3, 6] and (train_loss["value"] > 0).all()
    # the same initial weights for run s of every activation; the control arm's from other seeds
    nets = {a: cifar100.build_model(CFG, a, [0, 1], "cpu") for a in ("elu", "relu")}
    assert all(
        torch.equal(a, b) for a, b in zip(nets["elu"].parameters(), nets["relu"].parameters(), strict=True)
    )
    metrics = elu.extract(runs.assign(point="cifar100"), CFG)
    final = test[test["step"] == 6].pivot_table(index="seed", columns="variant", values="value")
    measured = elu.measure(metrics, CFG)
    np.testing.assert_allclose(measured["elu_cifar100_error"], final["elu"] - final["relu"])
    np.testing.assert_allclose(measured["elu_cifar100_error/control"], final["relu_b"] - final["relu"])
    resumed = kill_fits.resumed(
        lambda: elu.train(CFG, point, data, [0, 1], "cpu"),
        lambda kw: kw["label"] == "elu cifar100 relu seed 1",
        4,
        tmp_path,
    )
    pd.testing.assert_frame_equal(resumed, runs, check_exact=True)
