"""Layer-local forward-forward training: no gradient crosses a layer; goodness, normalisation and losses."""

import math

import pytest
import torch
from torch.nn import functional as F

from reprosuite.engine.train import forward_forward as ff


def test_goodness_of_a_known_input():
    h = torch.tensor([[1.0, 2.0, 2.0], [0.0, 0.0, 3.0]])
    assert torch.equal(ff.goodness(h), torch.tensor([9.0, 9.0]))
    assert torch.allclose(ff.goodness(h, "mean"), torch.tensor([3.0, 3.0]))
    with pytest.raises(ValueError, match="reduction"):
        ff.goodness(h, "max")


def test_normalisation_removes_the_length():
    h = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    assert torch.allclose(ff.normalise(h, "l2"), torch.tensor([[0.6, 0.8]] * 2))
    assert torch.allclose(ff.normalise(h, "rms"), math.sqrt(2) * torch.tensor([[0.6, 0.8]] * 2))
    assert torch.equal(ff.normalise(h, "none"), h)
    with pytest.raises(ValueError, match="normalisation"):
        ff.normalise(h, "batch")


def test_loss_is_the_logistic_likelihood_and_half_of_bce():
    g_pos, g_neg = torch.tensor([[3.0, 0.5]]), torch.tensor([[1.0, 4.0]])
    loss = ff.ff_loss(g_pos, g_neg, theta=2.0)
    p_pos, p_neg = torch.sigmoid(g_pos - 2), torch.sigmoid(g_neg - 2)
    explicit = -(torch.log(p_pos).mean() + torch.log(1 - p_neg).mean())
    assert torch.allclose(loss, explicit.view(1))
    bce = F.binary_cross_entropy_with_logits(torch.cat([g_pos, g_neg], 1) - 2, torch.tensor([[1.0, 1, 0, 0]]))
    assert torch.allclose(loss / 2, bce)


def test_no_gradient_crosses_layers():
    model = ff.EnsembleFF([6, 5, 4, 3], seeds=[0, 1])
    acts = model(torch.randn(7, 6))
    for k, a in enumerate(acts):
        grads = torch.autograd.grad(
            ff.goodness(a).sum(), list(model.weights) + list(model.biases), allow_unused=True
        )
        n = len(model.weights)
        for j in range(n):
            gw, gb = grads[j], grads[n + j]
            if j < k:
                assert gw is None and gb is None, f"layer {k}'s goodness reaches layer {j}"
            elif j == k:
                assert gw is not None and gw.abs().sum() > 0
    # without detaching (analysis only), the gradient does cross: the test above can fail
    acts = model(torch.randn(7, 6), detach=False)
    assert torch.autograd.grad(ff.goodness(acts[2]).sum(), model.weights[0])[0].abs().sum() > 0


def test_members_are_independent_and_match_a_single_model():
    x = torch.rand(4, 6)
    both = ff.EnsembleFF([6, 5, 3], seeds=[3, 8])(x)
    one = ff.EnsembleFF([6, 5, 3], seeds=[8])(x)
    assert torch.allclose(both[1][1], one[1][0])


def test_straight_through_relu_passes_the_gradient_of_off_units():
    z = torch.tensor([-1.0, 2.0], requires_grad=True)
    out = ff.relu(z, straight_through=True)
    out.sum().backward()
    assert torch.equal(out.detach(), torch.tensor([0.0, 2.0])) and torch.equal(z.grad, torch.ones(2))


def test_peer_loss_updates_the_running_mean_and_vanishes_when_units_agree():
    running = torch.full((1, 3), 0.5)
    h = torch.tensor([[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]])  # (S=1, B=2, d=3)
    assert torch.allclose(ff.peer_loss(h, running, 0.9), torch.zeros(1))
    assert torch.allclose(running, torch.full((1, 3), 0.55))
    h = torch.tensor([[[2.0, 0.0, 0.0]]])
    loss = ff.peer_loss(h, running, 0.0)
    assert torch.allclose(loss, torch.tensor([((2 / 3 - 2) ** 2 + 2 * (2 / 3) ** 2) / 3]))


def test_label_scores_pick_the_label_a_hand_built_net_prefers():
    # one unit that fires only for label 2 written into the first 3 inputs: scores argmax = 2 for any x
    model = ff.EnsembleFF([5, 1], seeds=[0], input_norm="none")
    with torch.no_grad():
        model.weights[0].copy_(torch.tensor([[[0.0, 0.0, 1.0, 0.0, 0.0]]]))
        model.biases[0].zero_()

    def embed(x, labels):
        x = x.clone()
        x[:, :3] = F.one_hot(labels, 3).to(x.dtype)
        return x

    scores = ff.label_scores(model, torch.rand(11, 5), embed, 3, chunk=4)
    assert scores.shape == (1, 1, 11, 3)
    assert torch.equal(scores.argmax(-1), torch.full((1, 1, 11), 2))
