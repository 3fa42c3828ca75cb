import math

import pytest
import torch

from reprosuite.engine.analysis import ibp
from reprosuite.engine.models import layers


def random_net(sizes, seeds, scheme="gaussian_fan_in", bias=False):
    gens = layers.generators(seeds)
    weights = [layers.init_weight((o, i), scheme, gens) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [layers.init_weight((o,), "gaussian", gens, 0.5) for o in sizes[1:]] if bias else None
    return weights, biases


def end_to_end(weights):
    total = weights[0]
    for w in weights[1:]:
        total = w @ total
    return total


@pytest.mark.parametrize("activation", ["linear", "relu", ["linear", "relu", "relu"]])
@pytest.mark.parametrize("with_spec", [False, True])
def test_interval_bounds_contain_sampled_perturbed_outputs(activation, with_spec):
    weights, biases = random_net([4, 8, 8, 3], [0, 1, 2], bias=True)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (6,), generator=g)
    eps = torch.tensor([0.05, 0.1, 0.3], dtype=torch.float64)
    spec = ibp.margin_spec(y, 3) if with_spec else None
    lower, upper = ibp.interval_forward(weights, x, eps, activation, biases, spec)
    for _ in range(200):
        noise = (2 * torch.rand(3, 6, 4, generator=g, dtype=torch.float64) - 1) * eps.view(-1, 1, 1)
        out = ibp.forward(weights, x + noise, activation, biases)
        if with_spec:
            out = torch.einsum("bjk,sbk->sbj", spec, out)
        assert bool((out >= lower - 1e-12).all()) and bool((out <= upper + 1e-12).all())
    centre = ibp.forward(weights, x, activation, biases)
    if not with_spec:
        assert bool((lower <= centre).all()) and bool((centre <= upper).all())


def test_margin_lower_bounds_equal_the_elided_specification():
    weights, biases = random_net([5, 7, 4], [3, 4], bias=True)
    x = torch.randn(9, 5, dtype=torch.float64)
    y = torch.randint(0, 4, (9,))
    fast = ibp.margin_lower_bounds(weights, x, y, 0.2, "relu", biases)
    lower, _ = ibp.interval_forward(weights, x, 0.2, "relu", biases, ibp.margin_spec(y, 4))
    assert fast.shape == (2, 9, 4)
    torch.testing.assert_close(
        fast.gather(2, y.view(1, -1, 1).expand(2, -1, 1)), torch.zeros(2, 9, 1, dtype=torch.float64)
    )
    others = ~torch.nn.functional.one_hot(y, 4).bool()
    torch.testing.assert_close(fast[:, others].view(2, 9, 3), lower)


def test_ibp_loss_is_cross_entropy_at_zero_radius_and_grows_with_it():
    weights, _ = random_net([5, 6, 4], [0, 1])
    x, y = torch.randn(10, 5, dtype=torch.float64), torch.randint(0, 4, (10,))
    logits = ibp.forward(weights, x, "relu")
    ce = torch.stack([torch.nn.functional.cross_entropy(logits[s], y) for s in range(2)])
    torch.testing.assert_close(ibp.ibp_loss(weights, x, y, 0.0, "relu"), ce)
    losses = [ibp.ibp_loss(weights, x, y, e, "relu") for e in (0.0, 0.1, 0.3)]
    assert bool((losses[0] < losses[1]).all()) and bool((losses[1] < losses[2]).all())


def test_dln_tightness_is_exact_over_ibp_half_width():
    weights, _ = random_net([6, 10, 10, 3], [0, 1])
    eps = torch.rand(6, dtype=torch.float64) + 0.5
    x = torch.zeros(1, 6, dtype=torch.float64)
    lower, upper = ibp.interval_forward(weights, x, 1.0, "linear")
    # IBP half-width of a DLN is (Π|W|) ε; the exact one, max over the box, is |ΠW| ε
    abs_product = end_to_end([w.abs() for w in weights])
    torch.testing.assert_close((upper - lower)[:, 0] / 2, abs_product.sum(-1))
    exact = end_to_end(weights).abs() @ eps
    torch.testing.assert_close(ibp.tightness(weights, eps=eps), exact / (abs_product @ eps))


def test_tightness_is_one_for_one_layer_or_nonnegative_weights_and_at_most_one():
    one_layer, _ = random_net([5, 3], [0, 1])
    torch.testing.assert_close(ibp.tightness(one_layer), torch.ones(2, 3, dtype=torch.float64))
    positive = [w.abs() for w in random_net([5, 8, 8, 3], [2])[0]]
    torch.testing.assert_close(ibp.tightness(positive), torch.ones(1, 3, dtype=torch.float64))
    spec = ibp.pair_spec(3)
    tau = ibp.tightness(random_net([5, 8, 8, 3], [3, 4])[0], spec)
    assert tau.shape == (2, 1, 6) and bool((tau <= 1 + 1e-12).all()) and bool((tau > 0).all())


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_tightness_at_gaussian_init_matches_the_closed_form(depth):
    width = 512
    weights, _ = random_net([64] + [width] * (depth - 1) + [10], list(range(4)), scheme="gaussian")
    tau = float(ibp.tightness(weights).mean())
    theory = ibp.tightness_theory([width] * (depth - 1))
    assert theory == pytest.approx((math.pi / (2 * width)) ** ((depth - 1) / 2))
    assert tau == pytest.approx(theory, rel=0.05)


def test_local_tightness_of_relu_members_is_that_of_the_masked_dln():
    weights, biases = random_net([4, 6, 5, 3], [0, 1], bias=True)
    x = torch.randn(7, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (7,))
    spec = ibp.margin_spec(y, 3)
    local = ibp.tightness(weights, spec, activation=["relu", "linear"], x=x, biases=biases)
    assert local.shape == (2, 7, 2)
    torch.testing.assert_close(local[1], ibp.tightness(weights, spec)[1])
    for i in range(7):  # member 0, sample i: the DLN W_3 D_2 W_2 D_1 W_1 of x_i's activation pattern
        h1 = weights[0][0] @ x[i] + biases[0][0]
        d1 = (h1 >= 0).double()
        d2 = (weights[1][0] @ torch.relu(h1) + biases[1][0] >= 0).double()
        masked = [weights[0][:1], (weights[1][0] * d1).unsqueeze(0), (weights[2][0] * d2).unsqueeze(0)]
        torch.testing.assert_close(local[0, i], ibp.tightness(masked, spec[i : i + 1])[0, 0])
    with pytest.raises(ValueError, match="local"):
        ibp.tightness(weights, activation="relu")


def test_activation_names_are_checked():
    weights, _ = random_net([3, 4, 2], [0, 1])
    with pytest.raises(ValueError, match="unknown activations"):
        ibp.forward(weights, torch.zeros(1, 3, dtype=torch.float64), "tanh")
    with pytest.raises(ValueError, match="2 members"):
        ibp.forward(weights, torch.zeros(1, 3, dtype=torch.float64), ["relu"])
