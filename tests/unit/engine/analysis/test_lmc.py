import math

import pytest
import torch

from reprosuite.engine.analysis import lmc


def mlp_loss(params, x, y):
    w1, w2 = params
    return torch.nn.functional.cross_entropy(torch.relu(x @ w1.T) @ w2.T, y)


def test_identical_nets_have_zero_barrier():
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(16, 5, generator=g), torch.randn(3, 16, generator=g)]
    x, y = torch.randn(64, 5, generator=g), torch.randint(0, 3, (64,), generator=g)
    alphas = lmc.alpha_grid(11)
    curve = lmc.loss_curve(lambda p: mlp_loss(p, x, y), params, [p.clone() for p in params], alphas)
    assert curve.shape == (11,)
    assert abs(float(lmc.barrier(alphas, curve))) < 1e-6
    assert abs(float(lmc.max_gap(alphas, curve))) < 1e-6


def test_convex_loss_has_no_barrier():
    g = torch.Generator().manual_seed(1)
    a, b = [torch.randn(4, 3, generator=g)], [torch.randn(4, 3, generator=g)]
    x, y = torch.randn(50, 3, generator=g), torch.randint(0, 4, (50,), generator=g)
    alphas = lmc.alpha_grid(21)
    # softmax regression: the cross-entropy is convex in the weights, so the curve lies under its chord
    curve = lmc.loss_curve(lambda p: torch.nn.functional.cross_entropy(x @ p[0].T, y), a, b, alphas)
    assert float(lmc.barrier(alphas, curve)) <= 1e-12
    assert float(lmc.max_gap(alphas, curve)) <= 1e-12


def test_known_bump_and_stacked_members():
    alphas = lmc.alpha_grid(5)  # 0, .25, .5, .75, 1
    # member 0: end points 1 and 3, a bump of height 2 over the chord at α = ½ (chord there 2, loss 4)
    # member 1: flat line at 0.5 → barrier 0; member 2: peak at α = ¼ where the chord is 1.5
    curves = torch.tensor([[1.0, 2.5, 4.0, 2.5, 3.0], [0.5] * 5, [1.0, 5.0, 2.0, 2.0, 3.0]])
    assert lmc.barrier(alphas, curves).tolist() == pytest.approx([2.0, 0.0, 3.5])
    assert lmc.chord(alphas, curves)[0].tolist() == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0])
    # max_gap takes the largest gap wherever it lies
    assert lmc.max_gap(alphas, torch.tensor([4.0, 0.0, 3.9, 0.0, 0.0])).item() == pytest.approx(3.9 - 2.0)
    assert lmc.barrier(alphas, torch.tensor([4.0, 0.0, 3.9, 0.0, 0.0])).item() == 0.0


def test_interpolation_of_stacked_parameters():
    a, b = [torch.zeros(2, 3)], [torch.ones(2, 3)]
    assert torch.equal(lmc.interpolate(a, b, 0.25)[0], torch.full((2, 3), 0.25))
    assert torch.equal(lmc.interpolate(a, b, 0.0)[0], a[0]) and torch.equal(
        lmc.interpolate(a, b, 1.0)[0], b[0]
    )


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="end points"):
        lmc.alpha_grid(1)
    with pytest.raises(ValueError, match="α points"):
        lmc.barrier(lmc.alpha_grid(3), torch.zeros(4))
    with pytest.raises(ValueError, match="increase from 0 to 1"):
        lmc.barrier(torch.tensor([0.0, 0.6, 0.5, 1.0]), torch.zeros(4))
    with pytest.raises(ValueError, match="shapes differ"):
        lmc.interpolate([torch.zeros(2)], [torch.zeros(3)], 0.5)
    assert math.isfinite(float(lmc.barrier(lmc.alpha_grid(2), torch.tensor([1.0, 2.0]))))
