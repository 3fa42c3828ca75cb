"""The ensemble ResNet: each member is the CIFAR ResNet it stands for, forward, backward and BatchNorm statistics."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from reprosuite.engine.models import resnet

SEEDS = [4, 9]
SMALL = {"blocks": (2, 1, 1, 1), "widths": (8, 16, 16, 32)}  # both kinds of shortcut, a 4 × 4 last map


class Block(nn.Module):
    """The basic block of the CIFAR ResNet (pytorch-cifar's BasicBlock), written as modules."""

    def __init__(self, c_in, c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class Reference(nn.Module):
    def __init__(self, blocks, widths, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        mods, c_in = [], widths[0]
        for stage, (n, c) in enumerate(zip(blocks, widths, strict=True)):
            for b in range(n):
                mods.append(Block(c_in, c, 2 if stage > 0 and b == 0 else 1))
                c_in = c
        self.layers = nn.Sequential(*mods)
        self.linear = nn.Linear(c_in, n_classes)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.linear(F.avg_pool2d(out, 4).flatten(1))


def member(net: resnet.EnsembleResNet, s: int) -> Reference:
    """A Reference carrying member ``s``'s parameters and running statistics (in the module's own order)."""
    ref = Reference(**SMALL)
    convs = [m for m in ref.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in ref.modules() if isinstance(m, nn.BatchNorm2d)]
    stats = net.running_stats()
    with torch.no_grad():
        for i, (conv, bn) in enumerate(zip(convs, bns, strict=True)):
            conv.weight.copy_(net.conv_w[i][s])
            bn.weight.copy_(net.bn_w[i][s])
            bn.bias.copy_(net.bn_b[i][s])
            bn.running_mean.copy_(stats[2 * i][s])
            bn.running_var.copy_(stats[2 * i + 1][s])
        ref.linear.weight.copy_(net.lin_w[s])
        ref.linear.bias.copy_(net.lin_b[s])
    return ref


def test_resnet18_has_the_official_parameter_count():
    net = resnet.EnsembleResNet([0])
    assert sum(p.numel() for p in net.parameters()) == 11_173_962
    assert sum(p.numel() for p in Reference(resnet.RESNET18, resnet.WIDTHS).parameters()) == 11_173_962


def test_each_member_is_the_reference_net_forward_backward_and_running_statistics():
    net = resnet.EnsembleResNet(SEEDS, **SMALL)
    refs = [member(net, s) for s in range(len(SEEDS))]
    x = torch.randn(len(SEEDS), 6, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([1, 2, 3, 4, 5, 6])
    out = net(x)
    loss = torch.stack([F.cross_entropy(o, y) for o in out])
    loss.sum().backward()
    for s, ref in enumerate(refs):
        ref_out = ref(x[s])
        F.cross_entropy(ref_out, y).backward()
        torch.testing.assert_close(out[s], ref_out, rtol=1e-5, atol=1e-6)
        convs = [m for m in ref.modules() if isinstance(m, nn.Conv2d)]
        bns = [m for m in ref.modules() if isinstance(m, nn.BatchNorm2d)]
        stats = net.running_stats()
        for i, (conv, bn) in enumerate(zip(convs, bns, strict=True)):
            torch.testing.assert_close(net.conv_w[i].grad[s], conv.weight.grad, rtol=1e-4, atol=1e-6)
            torch.testing.assert_close(net.bn_w[i].grad[s], bn.weight.grad, rtol=1e-4, atol=1e-6)
            torch.testing.assert_close(stats[2 * i][s], bn.running_mean)  # updated in place by the forward
            torch.testing.assert_close(stats[2 * i + 1][s], bn.running_var)
        torch.testing.assert_close(net.lin_b.grad[s], ref.linear.bias.grad, rtol=1e-4, atol=1e-6)
        assert not torch.equal(stats[0][s], torch.zeros_like(stats[0][s]))
    # evaluation mode: the running statistics, and a shared input
    net.eval()
    x_test = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    for s, ref in enumerate(refs):
        torch.testing.assert_close(net(x_test)[s], ref.eval()(x_test), rtol=1e-5, atol=1e-6)


def test_a_member_depends_only_on_its_seed_and_is_drawn_as_pytorch_s_default():
    pair, alone = resnet.EnsembleResNet([5, 6], **SMALL), resnet.EnsembleResNet([6], **SMALL)
    for a, b in zip(pair.parameters(), alone.parameters(), strict=True):
        assert torch.equal(a[1], b[0])
    assert not torch.equal(pair.conv_w[0][0], pair.conv_w[0][1])
    w = resnet.EnsembleResNet(list(range(8)))
    stem = w.conv_w[0].detach()  # fan-in 3 · 3 · 3
    last = [p.detach() for p in w.conv_w if p.shape[-1] == 1][-1]  # the last shortcut: fan-in 256 · 1 · 1
    assert 0.95 / 27**0.5 < stem.abs().max() <= 1 / 27**0.5
    assert abs(float(stem.std()) - 1 / (3 * 27) ** 0.5) < 0.01  # U(−b, b) has std b/√3
    assert 0.95 / 16 < last.abs().max() <= 1 / 16
    assert torch.equal(w.bn_w[3], torch.ones_like(w.bn_w[3])) and not w.bn_b[3].any()


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="one block count"):
        resnet.EnsembleResNet([0], blocks=(2, 2), widths=(64, 128, 256))
    net = resnet.EnsembleResNet([0, 1], **SMALL)
    with pytest.raises(ValueError, match=r"expected \(S=2"):
        net(torch.zeros(3, 2, 3, 32, 32))
