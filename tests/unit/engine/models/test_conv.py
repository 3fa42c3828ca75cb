import pytest

torch = pytest.importorskip("torch")

from reprosuite.engine.models import conv  # noqa: E402


def test_output_length_formula():
    assert conv.conv_out_length(40, 5, 2, 1) == 19
    assert conv.conv_out_length(19, 3, 2, 1) == 10
    assert conv.conv_out_length(10, 3, 2, 1) == 5  # MNIST-1D ConvBase: 25 channels × 5 = 125 features


@pytest.mark.parametrize("impl", conv.IMPLS)
def test_member_equals_a_plain_conv1d_net(impl):
    seeds = [3, 1, 4]
    net = conv.EnsembleConv1dNet(40, 10, seeds, impl=impl, dtype=torch.float64)
    assert net.flat == 125
    x = torch.randn(len(seeds), 8, 40, dtype=torch.float64)  # per-member inputs
    y = torch.randint(0, 10, (8,))
    out = net(x)
    assert out.shape == (3, 8, 10)
    torch.nn.functional.cross_entropy(out.reshape(-1, 10), y.repeat(3), reduction="sum").backward()
    for i in range(len(seeds)):
        plain = net.member(i)
        assert isinstance(plain[0], torch.nn.Conv1d) and plain[0].weight.shape == (25, 1, 5)
        ref = plain(x[i].unsqueeze(1))
        torch.testing.assert_close(out[i], ref)
        torch.nn.functional.cross_entropy(ref, y, reduction="sum").backward()
        torch.testing.assert_close(net.weights[1].grad[i], plain[2].weight.grad)
        torch.testing.assert_close(net.biases[0].grad[i], plain[0].bias.grad)
        torch.testing.assert_close(net.head_w.grad[i], plain[-1].weight.grad)


def test_implementations_agree_and_shared_input_broadcasts():
    seeds = [0, 1]
    x = torch.randn(5, 40)
    outs = [conv.EnsembleConv1dNet(40, 10, seeds, impl=impl)(x) for impl in conv.IMPLS]
    for o in outs[1:]:
        torch.testing.assert_close(o, outs[0], rtol=1e-5, atol=1e-5)
    net = conv.EnsembleConv1dNet(40, 10, seeds)
    torch.testing.assert_close(net(x), net(x.unsqueeze(0).expand(2, 5, 40)))


def test_init_is_pytorch_default_and_per_seed():
    a = conv.EnsembleConv1dNet(40, 10, [7, 8])
    b = conv.EnsembleConv1dNet(40, 10, [8])
    torch.testing.assert_close(a.weights[0][1], b.weights[0][0])  # member = its own seed's net
    bound = 1 / (1 * 5) ** 0.5  # fan_in = in_channels · kernel
    assert a.weights[0].abs().max() <= bound and a.weights[0].abs().max() > 0.8 * bound
    assert a.head_w.abs().max() <= 1 / 125**0.5


def test_bad_config_raises():
    with pytest.raises(ValueError, match="unknown impl"):
        conv.EnsembleConv1dNet(40, 10, [0], impl="fft")
    with pytest.raises(ValueError, match="too short"):
        conv.EnsembleConv1dNet(2, 10, [0])
