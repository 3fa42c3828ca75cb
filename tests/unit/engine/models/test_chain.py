"""The stacked MLP's one-node forward/backward (engine.models.chain) gives autograd's own values, bit for bit."""

import itertools

import pytest

torch = pytest.importorskip("torch")

from reprosuite.engine.analysis import hessian  # noqa: E402
from reprosuite.engine.models import chain, layers  # noqa: E402
from reprosuite.engine.train import optim  # noqa: E402


def _net(activation, bias, dtype=torch.float32, members=4):
    return layers.EnsembleMLP(
        (5, 7, 6, 3), range(members), activation=activation, bias=bias, bias_init="uniform", dtype=dtype
    )


def _autograd(net):
    """The same net with its stacked forward recorded by autograd node by node."""
    net._forward = lambda x, w, b, hidden: net._plain(x, w, b, hidden)
    return net


def _train(net, x, y, steps=6):
    opt = optim.SGD(list(net.parameters()), lr=0.05, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
    return [p.detach().clone() for p in net.parameters()] + [p.grad.clone() for p in net.parameters()]


@pytest.mark.parametrize(
    "activation, bias, shared, dtype",
    list(itertools.product(sorted(chain.ACTIVATIONS), [True, False], [True, False], [torch.float32]))
    + [("tanh", True, True, torch.float64), ("relu", False, False, torch.float64)],
)
def test_training_through_the_chain_equals_autograd_bit_for_bit(activation, bias, shared, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*(() if shared else (4,)), 9, 5, generator=g, dtype=dtype)
    y = torch.randn(4, 9, 3, generator=g, dtype=dtype)
    fused = _net(activation, bias, dtype)
    out = fused(x)
    assert type(out.grad_fn).__name__ == "_ChainBackward"  # the chain ran
    assert torch.equal(out, _autograd(_net(activation, bias, dtype))(x))
    a, b = _train(_net(activation, bias, dtype), x, y), _train(_autograd(_net(activation, bias, dtype)), x, y)
    for got, want in zip(a, b, strict=True):
        assert torch.equal(got, want)
    assert not torch.equal(a[0], _net(activation, bias, dtype).weights[0].detach())  # it did train


def test_members_in_groups_through_the_chain_equal_all_stacked():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(4, 9, 5, generator=g), torch.randn(4, 9, 3, generator=g)
    stacked = _train(_net("tanh", True), x, y)
    groups = _net("tanh", True)
    groups.chunk = 3  # members 0-2, then 3: the chain runs on each group's sliced parameters
    for got, want in zip(_train(groups, x, y), stacked, strict=True):
        assert torch.equal(got, want)


def test_frozen_layers_get_no_gradient_and_the_rest_autograds():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(9, 5, generator=g), torch.randn(4, 9, 3, generator=g)
    grads = []
    for net in (_net("relu", True), _autograd(_net("relu", True))):
        net.weights[0].requires_grad_(False)
        net.biases[0].requires_grad_(False)
        ((net(x) - y) ** 2).sum().backward()
        assert net.weights[0].grad is None and net.biases[0].grad is None
        grads.append([p.grad for p in net.parameters() if p.requires_grad])
    for got, want in zip(*grads, strict=True):
        assert torch.equal(got, want)


def test_hessian_vector_products_equal_autograd_bit_for_bit():
    """hessian.hvp builds its graph node by node (chain.autograd_only): the plain path's bits."""
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(9, 5, generator=g), torch.randn(4, 9, 3, generator=g)
    results = []
    for net in (_net("tanh", True), _autograd(_net("tanh", True))):
        params = list(net.parameters())
        vectors = [
            torch.randn(p.shape, generator=torch.Generator().manual_seed(i)) for i, p in enumerate(params)
        ]
        results.append(hessian.hvp(lambda net=net: ((net(x) - y) ** 2).mean(dim=(1, 2)), params, vectors))
    for got, want in zip(*results, strict=True):
        assert torch.equal(got, want)


def test_a_backward_differentiated_again_outside_autograd_only_is_right_to_rounding():
    """create_graph through the chain itself: its backward differentiates autograd's graph of the forward."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(9, 5, generator=g, dtype=torch.float64)
    results = []
    for net in (_net("sin", True, torch.float64), _autograd(_net("sin", True, torch.float64))):
        params = list(net.parameters())
        grads = torch.autograd.grad((net(x) ** 2).sum(), params, create_graph=True)
        results.append(torch.autograd.grad(sum((gp * gp.detach()).sum() for gp in grads), params))
    for got, want in zip(*results, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_plain_path_where_the_chain_does_not_fit():
    x = torch.randn(9, 5)
    net = _net("relu", True)
    with chain.autograd_only():
        assert type(net(x).grad_fn).__name__ != "_ChainBackward"
    assert type(net(x.requires_grad_(True)).grad_fn).__name__ != "_ChainBackward"  # input gradients
    assert type(net(torch.randn(2, 4, 9, 5)).grad_fn).__name__ != "_ChainBackward"  # extra leading dims
    with torch.no_grad():
        assert net(torch.randn(9, 5)).grad_fn is None
    assert not chain.fits(torch.empty(9, 5, device="meta"), 4, "relu")  # not a CPU
    # torch.func transforms take the plain path (a custom Function without vmap rules would raise)
    params = {k: v.detach() for k, v in net.named_parameters()}
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(net, p, (torch.randn(9, 5),)).sum())(params)
    assert set(jac) == set(params)
