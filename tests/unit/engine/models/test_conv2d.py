import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from reprosuite.engine.models import conv2d  # noqa: E402

# the classic small MNIST CNN of PyTorch's examples, with its dropout
MNIST_CNN = dict(
    channels=(10, 20),
    kernels=(5, 5),
    pools=(2, 2),
    hidden=(50,),
    conv_dropout=(0.0, 0.5),
    hidden_dropout=(0.5,),
)


def test_output_sizes_and_shapes_for_mnist():
    assert conv2d.conv_out_size(28, 5, 0, 2) == 12 and conv2d.conv_out_size(12, 5, 0, 2) == 4
    assert conv2d.conv_out_size(28, 3, 1, 1) == 28  # "same" padding, no pooling
    net = conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0, 1, 2], **MNIST_CNN, dropout_seeds=[5, 6, 7])
    assert net.flat == 320  # 20 channels × 4 × 4
    assert [tuple(w.shape) for w in net.conv_w] == [(3, 10, 1, 5, 5), (3, 20, 10, 5, 5)]
    assert [tuple(w.shape) for w in net.lin_w] == [(3, 50, 320), (3, 10, 50)]
    assert sum(p.numel() for p in net.parameters()) == 3 * 21_840  # the official Net's parameter count
    for x in (
        torch.randn(4, 784),
        torch.randn(3, 4, 784),
        torch.randn(4, 1, 28, 28),
        torch.randn(3, 4, 1, 28, 28),
    ):
        assert net(x).shape == (3, 4, 10)
        assert net.eval()(x).shape == (3, 4, 10)
        net.train()


def _layers(plain: nn.Sequential, kind) -> list[nn.Module]:
    return [m for m in plain if isinstance(m, kind)]


@pytest.mark.parametrize("dropout", [False, True])
def test_member_equals_a_plain_net_forward_and_gradients(dropout):
    """Dropout off: no dropout at all, or the official net's dropout in eval mode."""
    seeds = [3, 1, 4]
    kw = (
        dict(MNIST_CNN, dropout_seeds=[0, 1, 2])
        if dropout
        else dict(MNIST_CNN, conv_dropout=None, hidden_dropout=None)
    )
    net = conv2d.EnsembleConv2dNet((1, 28, 28), 10, seeds, **kw, dtype=torch.float64)
    net.train(not dropout)
    x = torch.randn(3, 8, 1, 28, 28, dtype=torch.float64)  # per-member inputs
    y = torch.randint(0, 10, (8,))
    out = net(x)
    F.cross_entropy(out.reshape(-1, 10), y.repeat(3), reduction="sum").backward()
    for i in range(len(seeds)):
        plain = net.member(i)
        expected = [
            nn.Conv2d,
            nn.MaxPool2d,
            nn.ReLU,
            nn.Conv2d,
            nn.Dropout2d,
            nn.MaxPool2d,
            nn.ReLU,
            nn.Flatten,
        ]
        expected += [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
        if not dropout:
            expected = [t for t in expected if t not in (nn.Dropout2d, nn.Dropout)]
        assert [type(m) for m in plain] == expected and plain.training == net.training
        ref = plain(x[i])
        torch.testing.assert_close(out[i], ref)
        F.cross_entropy(ref, y, reduction="sum").backward()
        convs, linears = _layers(plain, nn.Conv2d), _layers(plain, nn.Linear)
        for ours_w, ours_b, mod in zip(
            [*net.conv_w, *net.lin_w], [*net.conv_b, *net.lin_b], convs + linears, strict=True
        ):
            torch.testing.assert_close(ours_w.grad[i], mod.weight.grad)
            torch.testing.assert_close(ours_b.grad[i], mod.bias.grad)


def test_shared_input_equals_the_same_input_per_member():
    net = conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0, 1])
    x = torch.randn(5, 784)
    torch.testing.assert_close(net(x), net(x.expand(2, 5, 784)))
    torch.testing.assert_close(net(x), net(x.view(5, 1, 28, 28)))


def test_init_is_pytorch_default_and_per_seed():
    a = conv2d.EnsembleConv2dNet((1, 28, 28), 10, [7, 8])
    b = conv2d.EnsembleConv2dNet((1, 28, 28), 10, [8])
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa[1], pb[0])  # member = its own seed's net
    assert not torch.equal(a.conv_w[0][0], a.conv_w[0][1])
    for w, fan_in in zip([*a.conv_w, *a.lin_w], [25, 250, 320, 50], strict=True):
        bound = 1 / fan_in**0.5  # U(−1/√fan_in, 1/√fan_in), fan_in = in_channels · k² or in_features
        assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
        assert abs(float(w.detach().mean())) < 0.1 * bound


def test_dropout_masks_come_from_the_members_seeds():
    net = conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0, 1], **MNIST_CNN, dropout_seeds=[11, 12])
    like = torch.empty(0)
    masks = net._mask((64, 20), 0.5, like)
    for s, seed in enumerate([11, 12]):
        draw = torch.empty(64, 20).bernoulli_(0.5, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(masks[s], 2 * draw)  # kept units scaled by 1/(1 − p)
    assert set(masks.unique().tolist()) == {0.0, 2.0} and abs(float((masks == 0).float().mean()) - 0.5) < 0.05
    assert not torch.equal(masks[0], masks[1])


def test_dropout_in_training_mode_is_the_official_nets():
    """Member i's training-mode output is its plain net's with the masks its generator draws: whole channels of
    the second conv's maps before pooling, units after the hidden layer, scaled by 2."""
    torch.manual_seed(0)
    seeds, dseeds = [3, 4], [21, 22]
    net = conv2d.EnsembleConv2dNet(
        (1, 28, 28), 10, seeds, **MNIST_CNN, dropout_seeds=dseeds, dtype=torch.float64
    )
    x = torch.randn(2, 6, 1, 28, 28, dtype=torch.float64)
    out = net(x)
    for i, seed in enumerate(dseeds):
        g = torch.Generator().manual_seed(seed)
        channel = 2 * torch.empty(6, 20).bernoulli_(0.5, generator=g).double()
        unit = 2 * torch.empty(6, 50).bernoulli_(0.5, generator=g).double()
        conv1, conv2 = _layers(net.member(i), nn.Conv2d)
        fc1, fc2 = _layers(net.member(i), nn.Linear)
        h = torch.relu(F.max_pool2d(conv1(x[i]), 2))
        h = torch.relu(F.max_pool2d(conv2(h) * channel[:, :, None, None], 2))
        ref = fc2(torch.relu(fc1(h.flatten(1))) * unit)
        torch.testing.assert_close(out[i], ref)
    # eval mode: no dropout; the same weights without it
    plain = conv2d.EnsembleConv2dNet((1, 28, 28), 10, seeds, dtype=torch.float64)
    torch.testing.assert_close(net.eval()(x), plain(x))


def test_dropout_is_reproducible_from_the_seed_and_resumes_from_the_generator_state():
    def make(dseeds):
        return conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0, 1], **MNIST_CNN, dropout_seeds=dseeds)

    x = torch.randn(2, 8, 784)
    a, b = make([5, 6]), make([5, 6])
    first, second = a(x), a(x)
    assert torch.equal(first, b(x)) and torch.equal(
        second, b(x)
    )  # the same seeds, the same masks, step by step
    assert not torch.equal(first, second)  # fresh masks every forward
    other = make([5, 7])(x)  # a member's masks come from its own seed alone
    assert torch.equal(other[0], first[0]) and not torch.equal(other[1], first[1])
    # a run resumed from the generators' saved states draws what the uninterrupted one did
    c = make([5, 6])
    c(x)
    states = [g.get_state() for g in c.generators]
    resumed = make([5, 6])
    for g, s in zip(resumed.generators, states, strict=True):
        g.set_state(s)
    assert torch.equal(resumed(x), second)


def test_bad_config_raises():
    with pytest.raises(ValueError, match="dropout seed"):
        conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0], **MNIST_CNN)
    with pytest.raises(ValueError, match="rates"):
        conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0], hidden_dropout=(1.0,), dropout_seeds=[0])
    with pytest.raises(ValueError, match="one rate per layer"):
        conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0], conv_dropout=(0.5,), dropout_seeds=[0])
    with pytest.raises(ValueError, match="too small"):
        conv2d.EnsembleConv2dNet((1, 8, 8), 10, [0])
    with pytest.raises(ValueError, match="one entry per conv layer"):
        conv2d.EnsembleConv2dNet((1, 28, 28), 10, [0], kernels=(5,))


# a small net of the ELU paper's CIFAR-100 shape: stacks of 1 × 1 and k × k convolutions, ceiling pooling down to
# a 1 × 1 map, element dropout after a stack's last layer
STACKS = dict(
    channels=(6, 6, 8, 8, 9, 10),
    kernels=(5, 1, 3, 1, 2, 1),
    pools=(2, 1, 2, 1, 2, 2),
    paddings=(2, 0, 1, 0, 0, 0),
    hidden=(),
    conv_dropout=(0.0, 0.0, 0.1, 0.0, 0.3, 0.0),
    conv_dropout_kind="element",
    ceil_mode=True,
    init="he",
)


@pytest.mark.parametrize("activation", ["elu", "srelu", "leaky_relu"])
def test_stacks_with_another_activation_ceiling_pools_and_element_dropout_equal_a_plain_net(activation):
    net = conv2d.EnsembleConv2dNet(
        (3, 12, 12), 7, [2, 5], **STACKS, activation=activation, dropout_seeds=[0, 1], dtype=torch.float64
    )
    # 12 → 12, pool 6 → 6 → 6, pool 3 → 3 → 2, pool (ceil) 1 → 1 → 1 (not pooled)
    assert net.flat == 10
    x = torch.randn(2, 4, 3, 12, 12, dtype=torch.float64)
    net.eval()
    for i in range(2):
        plain = net.member(i)
        assert sum(isinstance(m, nn.Dropout) for m in plain) == 2 and not any(
            isinstance(m, nn.Dropout2d) for m in plain
        )
        torch.testing.assert_close(net(x)[i], plain(x[i]))
    if activation == "srelu":
        assert float(net.act(torch.tensor(-5.0))) == -1.0 and float(net.act(torch.tensor(2.0))) == 2.0


def test_element_dropout_zeroes_units_at_its_rate_from_each_members_generator():
    kw = dict(STACKS, conv_dropout=(0.0, 0.0, 0.0, 0.0, 0.0, 0.5), pools=(1, 1, 1, 1, 1, 1))
    net = conv2d.EnsembleConv2dNet((3, 8, 8), 7, [2, 5], **kw, dropout_seeds=[0, 1])
    x = torch.randn(4, 3, 8, 8)
    masks = net._element_mask(torch.ones(64, 2 * 10, 8, 8), 10, 0.5)
    assert set(masks.unique().tolist()) == {0.0, 2.0}  # survivors scaled by 1 / (1 − p)
    assert abs(float((masks == 0).float().mean()) - 0.5) < 0.01
    again = conv2d.EnsembleConv2dNet((3, 8, 8), 7, [2, 5], **kw, dropout_seeds=[0, 1])
    assert torch.equal(again._element_mask(torch.ones(64, 20, 8, 8), 10, 0.5), masks)  # the seeds' masks
    assert not torch.equal(masks[:, :10], masks[:, 10:])  # one stream per member
    net.train()
    assert not torch.equal(net(x), net(x))  # fresh masks per call
    he = conv2d.EnsembleConv2dNet(
        (3, 32, 32), 7, [0, 1, 2, 3], **STACKS | {"channels": (64,) * 6, "conv_dropout": None}
    )
    w = he.conv_w[2].detach()  # fan-in 64 · 3 · 3
    assert abs(float(w.std()) - (2 / 576) ** 0.5) < 0.003 and not he.conv_b[2].detach().any()
    with pytest.raises(ValueError, match="unknown activation"):
        conv2d.EnsembleConv2dNet((3, 8, 8), 7, [0], **kw, activation="swish")


def test_a_one_member_net_takes_small_batches_channels_first_with_the_same_results():
    """Below ``CHANNELS_FIRST_BELOW`` a one-member net runs channels-first (faster there on a CPU), at and above it
    channels-last, as an ensemble always does: either way the plain net's logits and gradients."""
    net = conv2d.EnsembleConv2dNet(
        (3, 12, 12), 5, [3], channels=(4, 6), kernels=(3, 3), pools=(2, 2), paddings=(1, 1)
    )
    plain = net.member(0)
    seen = []
    conv = F.conv2d

    def spy(x, *args, **kwargs):
        seen.append(x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous())
        return conv(x, *args, **kwargs)

    for batch, channels_last in ((8, False), (conv2d.CHANNELS_FIRST_BELOW, True)):
        x = torch.randn(batch, 3, 12, 12, generator=torch.Generator().manual_seed(batch))
        seen.clear()
        conv2d.F.conv2d = spy
        try:
            ours = net(x)[0]
        finally:
            conv2d.F.conv2d = conv
        assert seen[0] is channels_last
        torch.testing.assert_close(ours, plain(x), rtol=1e-5, atol=1e-6)
        ours.square().sum().backward()
        plain(x).square().sum().backward()
        torch.testing.assert_close(net.conv_w[0].grad[0], plain[0].weight.grad, rtol=1e-4, atol=1e-6)
        net.zero_grad()
        plain.zero_grad()


def test_fan_out_init_draws_the_convolutions_from_their_output_fan():
    net = conv2d.EnsembleConv2dNet((3, 8, 8), 5, [0, 1], channels=(64, 32), kernels=(3, 3), pools=(2, 2),
                                   paddings=(1, 1), hidden=(20,), init="fan_out")  # fmt: skip
    net.requires_grad_(False)
    for w, b, c in zip(net.conv_w, net.conv_b, (64, 32), strict=True):
        assert float(w.std()) == pytest.approx((2 / (9 * c)) ** 0.5, rel=0.05) and not b.any()
    for w, b in zip(net.lin_w, net.lin_b, strict=True):  # PyTorch's default for the linear layers
        assert float(w.abs().max()) <= w.shape[2] ** -0.5 and b.any()
    with pytest.raises(ValueError, match="'fan_out'"):
        conv2d.EnsembleConv2dNet((3, 8, 8), 5, [0], init="fan_in")
