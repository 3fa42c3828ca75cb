import math

import numpy as np
import pytest

from reprosuite.studies.xu_xor_benign_grokking import model as xc


def test_cluster_means_are_orthogonal_with_the_given_norm():
    mu = xc.cluster_means(10, 3.0)
    assert mu.shape == (2, 10)
    assert np.allclose(np.linalg.norm(mu, axis=1), 3.0) and mu[0] @ mu[1] == 0
    with pytest.raises(ValueError):
        xc.cluster_means(1, 1.0)


def test_sample_labels_clusters_and_flips():
    mu = xc.cluster_means(50, 20.0)
    s = xc.sample(mu, 4000, 0.2, np.random.default_rng(0))
    # clean label: +1 for ±μ1 (clusters 0, 1), −1 for ±μ2 (clusters 2, 3)
    assert np.array_equal(s["y"], np.where(s["cluster"] < 2, 1.0, -1.0))
    assert np.array_equal(s["y_noisy"] != s["y"], s["flipped"])
    assert abs(s["flipped"].mean() - 0.2) < 0.03
    # points sit around their cluster mean with unit isotropic noise
    for c, (row, sign) in enumerate([(0, 1), (0, -1), (1, 1), (1, -1)]):
        resid = s["x"][s["cluster"] == c] - sign * mu[row]
        assert abs(resid.mean()) < 0.05 and abs(resid.var() - 1.0) < 0.05
    # XOR: no linear direction through the origin separates the clean labels (means are symmetric)
    assert abs((s["x"] * s["y"][:, None]).mean(0)).max() < 0.5
    with pytest.raises(ValueError):
        xc.sample(mu, 10, 0.5, np.random.default_rng(0))


def test_data_rng_is_a_function_of_the_seed():
    mu = xc.cluster_means(5, 1.0)
    a, b = xc.sample(mu, 7, 0.1, xc.data_rng(3)), xc.sample(mu, 7, 0.1, xc.data_rng(3))
    assert np.array_equal(a["x"], b["x"]) and not np.array_equal(
        a["x"], xc.sample(mu, 7, 0.1, xc.data_rng(4))["x"]
    )


def test_network_against_a_loop_reference():
    torch = pytest.importorskip("torch")
    w, a = xc.init_params([0, 1], m=6, d=4, init_std=0.5, dtype=torch.float64)
    assert w.shape == (2, 6, 4) and a.shape == (2, 6) and w.requires_grad
    assert torch.allclose(a.abs(), torch.full_like(a, 1 / math.sqrt(6)))
    assert abs(float(w.detach().std()) - 0.5) < 0.2
    # member 0 equals a single net built from seed 0
    w0, a0 = xc.init_params([0], m=6, d=4, init_std=0.5, dtype=torch.float64)
    assert torch.equal(w0[0], w[0]) and torch.equal(a0[0], a[0])
    x = torch.randn(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    f = xc.forward(w, a, x).detach()
    for s in range(2):
        for i in range(5):
            ref = sum(float(a[s, j]) * max(0.0, float(w[s, j].detach() @ x[i])) for j in range(6))
            assert abs(float(f[s, i]) - ref) < 1e-12
    y = torch.tensor([1.0, -1, 1, -1, 1], dtype=torch.float64)
    loss = xc.logistic_loss(f, y)
    ref = [np.mean([math.log1p(math.exp(-float(y[i] * f[s, i]))) for i in range(5)]) for s in range(2)]
    assert np.allclose(loss.detach().numpy(), ref)


def test_sign_accuracy_with_mask_and_ties():
    torch = pytest.importorskip("torch")
    f = torch.tensor([[1.0, -2.0, 0.0, 3.0]])
    y = torch.tensor([1.0, 1.0, 1.0, -1.0])
    assert xc.sign_accuracy(f, y).tolist() == [0.25]  # f = 0 counts as wrong
    mask = torch.tensor([True, True, False, False])
    assert xc.sign_accuracy(f, y, mask).tolist() == [0.5]
