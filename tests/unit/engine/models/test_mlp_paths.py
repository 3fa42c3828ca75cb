"""EnsembleMLP's per-member path (one ``addmm`` per member and layer) against plain nn.Linear models and against
the stacked path; the rule that chooses it."""

import pytest
import torch
from torch import nn

from reprosuite.engine.models import layers
from reprosuite.engine.train import optim

ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "linear": nn.Identity}


def plain(net: layers.EnsembleMLP, member: int, activation: str) -> nn.Sequential:
    """Member ``member`` as a plain nn.Sequential of nn.Linear layers with its weights."""
    mods: list[nn.Module] = []
    n = len(net.weights)
    for i, w in enumerate(net.weights):
        lin = nn.Linear(w.shape[2], w.shape[1], bias=net.biases is not None, dtype=w.dtype)
        with torch.no_grad():
            lin.weight.copy_(w[member])
            if net.biases is not None:
                lin.bias.copy_(net.biases[i][member])
        mods.append(lin)
        if i < n - 1:
            mods.append(ACTS[activation]())
    return nn.Sequential(*mods)


def _grads(module: nn.Module) -> list[torch.Tensor]:
    return [p.grad for p in module.parameters()]


@pytest.mark.parametrize(("activation", "bias"), [("relu", True), ("tanh", True), ("linear", False)])
@pytest.mark.parametrize("shared_input", [True, False])
def test_per_member_output_and_gradient_equal_plain_linear_models(activation, bias, shared_input):
    g = torch.Generator().manual_seed(0)
    sizes, size, batch = [7, 12, 9, 4], 4, 33
    net = layers.EnsembleMLP(
        sizes, range(size), activation=activation, bias=bias, bias_init="uniform", chunk=layers.PER_MEMBER
    )
    x = (
        torch.randn(batch, sizes[0], generator=g)
        if shared_input
        else torch.randn(size, batch, 7, generator=g)
    )
    y = torch.randn(size, batch, sizes[-1], generator=g)
    singles = [plain(net, s, activation) for s in range(size)]
    out = net(x)
    assert out.shape == (size, batch, sizes[-1])
    ((out - y) ** 2).mean(dim=(1, 2)).sum().backward()
    for p in net.parameters():  # gradients reach the stacked (S, out, in) / (S, out) parameters
        assert p.grad is not None and p.grad.shape == p.shape
    for s, m in enumerate(singles):
        xs = x if shared_input else x[s]
        ref = m(xs)
        ((ref - y[s]) ** 2).mean().backward()
        torch.testing.assert_close(out[s], ref, rtol=1e-6, atol=1e-7)
        ours = [w.grad[s] for w in net.weights]
        if bias:
            ours = [v for pair in zip(ours, [b.grad[s] for b in net.biases], strict=True) for v in pair]
        for a, b in zip(ours, _grads(m), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shared_input", [True, False])
def test_per_member_path_gives_the_stacked_result_within_rounding(bias, shared_input):
    """addmm fuses the bias add into the product, so the per-member path agrees with the stacked one to float
    rounding, not bit for bit; values, hidden pre-activations and gradients."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40, 6, generator=g)
    if not shared_input:
        x = x.expand(5, -1, -1) + torch.randn(5, 1, 6, generator=g)
    y = torch.randn(5, 40, 3, generator=g)
    outs = []
    for chunk in (5, 2, layers.PER_MEMBER):
        net = layers.EnsembleMLP([6, 16, 16, 3], range(5), activation="relu", bias=bias, chunk=chunk)
        out, hidden = net(x, return_hidden=True)
        ((out - y) ** 2).mean(dim=(1, 2)).sum().backward()
        outs.append([out, *hidden, *_grads(net)])
    stacked, grouped, per_member = outs
    for a, b, c in zip(stacked, grouped, per_member, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=0)  # grouping: the same bits
        assert c.shape == a.shape
        torch.testing.assert_close(c, a, rtol=1e-5, atol=1e-6)


def test_member_on_the_per_member_path_follows_a_single_model_trained_alone():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(64, 5, generator=g), torch.randn(64, 3, generator=g)
    lrs = [0.01, 0.03, 0.05]
    net = layers.EnsembleMLP([5, 8, 8, 3], [3, 7, 11], bias_init="uniform", chunk=layers.PER_MEMBER)
    singles = [plain(net, s, "relu") for s in range(3)]
    opt = optim.SGD(list(net.parameters()), lr=lrs, momentum=0.9)
    refs = [torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9) for m, lr in zip(singles, lrs, strict=True)]
    for _ in range(20):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
        for m, r in zip(singles, refs, strict=True):
            r.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            r.step()
    for s, m in enumerate(singles):
        torch.testing.assert_close(net(x)[s], m(x), rtol=1e-5, atol=1e-6)


def test_per_member_path_supports_input_gradients_and_double_backward():
    """Input gradients (adversarial attacks) and Hessian-vector products (power iteration) on the addmm path."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(10, 4, generator=g)
    nets = [
        layers.EnsembleMLP([4, 8, 2], range(3), activation="tanh", chunk=c) for c in (3, layers.PER_MEMBER)
    ]
    results = []
    for net in nets:
        xr = x.clone().requires_grad_(True)
        loss = (net(xr) ** 2).sum()
        params = list(net.parameters())
        grads = torch.autograd.grad(loss, [xr, *params], create_graph=True)
        hvp = torch.autograd.grad(sum((gp * gp.detach()).sum() for gp in grads[1:]), params)
        results.append([grads[0], *hvp])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def test_choice_rule():
    # the batch at which one member's activations of a 256-wide layer reach the threshold
    at = layers.MEMBER_BYTES // 4 // 256
    assert layers.member_chunk(32, at, 256) == layers.PER_MEMBER
    assert layers.member_chunk(32, at - 1, 256) == 32  # just below: all members stacked
    assert layers.member_chunk(32, at // 2, 256, itemsize=8) == layers.PER_MEMBER  # float64 counts double
    assert layers.member_chunk(32, 128, 256) == 32  # minibatch 128: stacked
    assert layers.member_chunk(64, 128, 16) == 64  # tiny nets: stacked
    assert layers.member_chunk(240, 64, 784) == 240  # grad_noise_deep_mlp's full-tier minibatch: stacked
    assert layers.member_chunk(32, 2048, 256) == layers.PER_MEMBER  # MLP 100-256-256-10 at full batch 2048
    assert layers.member_chunk(32, 2048, 64) == layers.PER_MEMBER  # deep linear 6x64 at full batch 2048
    assert layers.member_chunk(32, 2048, 256, device="meta") == 32  # not a CPU: all members stacked


def test_plan_is_decided_once_per_batch_size_and_can_be_forced():
    net = layers.EnsembleMLP([100, 256, 256, 10], range(4), activation="relu")
    big = layers.MEMBER_BYTES // (256 * 4)
    assert net.plan(128) == 4 and net.plan(big) == layers.PER_MEMBER
    assert net(torch.zeros(big, 100)).shape == (4, big, 10)
    assert len(net._plans) == 2
    net.double()  # the plan follows the parameters' dtype (itemsize) and device
    assert net.plan(big // 2) == layers.PER_MEMBER
    wide_input = layers.EnsembleMLP([784, 50, 10], range(4))  # weighs its widest output (50), not the input
    assert wide_input.plan(1000) == 4 and wide_input.plan(2000) == layers.PER_MEMBER
    forced = layers.EnsembleMLP([3, 4, 2], range(2), chunk=layers.PER_MEMBER)
    assert forced.plan(1) == layers.PER_MEMBER and forced(torch.zeros(1, 3)).shape == (2, 1, 2)


@pytest.mark.parametrize(
    ("activation", "bias"), [("relu", True), ("tanh", True), ("sigmoid", True), ("linear", False)]
)
@pytest.mark.parametrize("own_batch", [True, False])
def test_one_member_is_a_plain_model_bit_for_bit(activation, bias, own_batch):
    """A one-member ensemble (members trained in turn) runs nn.Linear's kernels, its activation in place: the
    plain model's output and gradients exactly, and its hidden pre-activations untouched by the in-place activation."""
    acts = {**ACTS, "sigmoid": nn.Sigmoid}
    g = torch.Generator().manual_seed(4)
    net = layers.EnsembleMLP([6, 20, 20, 3], [5], activation=activation, bias=bias, bias_init="uniform")
    mods: list[nn.Module] = []
    for i, w in enumerate(net.weights):
        lin = nn.Linear(w.shape[2], w.shape[1], bias=bias)
        with torch.no_grad():
            lin.weight.copy_(w[0])
            if bias:
                lin.bias.copy_(net.biases[i][0])
        mods += [lin, acts[activation]()] if i < len(net.weights) - 1 else [lin]
    ref = nn.Sequential(*mods)
    x, y = torch.randn(50, 6, generator=g), torch.randn(50, 3, generator=g)
    out = net(x[None] if own_batch else x)
    assert out.shape == (1, 50, 3)
    ((out - y) ** 2).mean(dim=(1, 2)).sum().backward()
    expected = ref(x)
    ((expected - y) ** 2).mean().backward()
    assert torch.equal(out[0], expected)
    ours = [w.grad[0] for w in net.weights]
    if bias:
        ours = [v for pair in zip(ours, [b.grad[0] for b in net.biases], strict=True) for v in pair]
    for a, b in zip(ours, _grads(ref), strict=True):
        assert torch.equal(a, b)
    _, hidden = net(x, return_hidden=True)
    pre = x @ net.weights[0][0].T + (net.biases[0][0] if bias else 0)
    torch.testing.assert_close(hidden[0][0], pre)  # the pre-activation, not its activation
    if activation == "relu":
        assert (hidden[0] < 0).any()


def test_one_member_path_follows_the_parameters_after_a_dtype_change():
    net = layers.EnsembleMLP([3, 4, 2], [0])
    assert net(torch.zeros(2, 3)).dtype == torch.float32
    net.double()
    assert net(torch.zeros(2, 3, dtype=torch.float64)).dtype == torch.float64


def test_train_parts_rule():
    # one member's step: activations batch × Σ widths plus weights Σ fan_in·fan_out, 4 bytes each, against 1 MiB
    assert (
        layers.train_parts(25, 32, (784, 400, 400, 10)) == 1
    )  # kirkpatrick_ewc's full tier: 2.0 MB, in turn
    assert layers.train_parts(36, 512, (40, 256, 256, 10)) == 1  # lr_batch_rmt at B 512: 1.3 MB
    assert layers.train_parts(36, 64, (40, 256, 256, 10)) == 36  # at B 64: 0.4 MB, one ensemble
    assert layers.train_parts(32, 2048, (100, 256, 256, 10)) == 1  # MLP at full batch 2048
    assert layers.train_parts(32, 128, (100, 256, 256, 10)) == 32  # at minibatch 128: 0.6 MB
    assert layers.train_parts(240, 64, (784, *(50,) * 20, 10)) == 240  # grad_noise_deep_mlp's full tier
    assert layers.train_parts(64, 128, (16,) * 7) == 64  # tiny nets
    assert layers.train_parts(25, 32, (784, 400, 400, 10), device="meta") == 25  # not a CPU: together
    # the threshold itself: weights alone of 512 x 512 float32 = 1 MiB
    assert layers.train_parts(4, 0, (512, 512)) == 1 and layers.train_parts(4, 0, (512, 511)) == 4
    assert layers.parts(list("abcde"), 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert layers.parts(list("abc"), 3) == [["a", "b", "c"]]
    with pytest.raises(ValueError, match="at least one member"):
        layers.parts([1, 2], 0)
