"""The two networks, as batched ensembles with Ghost Batch Normalisation after every hidden layer.

- ``f1``: the official ``models/mnist_f1.py`` — Linear(784, 512) → BN → ReLU, four times Linear(512, 512) → BN →
  ReLU, Linear(512, 10); linear layers with bias.
- ``cnn1d`` (ours, for MNIST-1D): conv(1→c₁, k5, s2) → BN → ReLU, conv(c₁→c₂, k3, s2) → BN → ReLU,
  conv(c₂→c₃, k3, s2) → BN → ReLU, Linear(3·c₃, 10); bias-free convolutions (BN follows), no padding;
  channels (c₁, c₂, c₃) from the config. Activations are kept channels last, (S, B, L, C).

PyTorch's default initialisation (weights and biases U(−1/√fan_in, 1/√fan_in)), drawn per member from that
member's seed; BN weight 1, bias 0. ``forward(x, ghost)`` takes the ghost batch size of the BN layers (None: the
whole batch, i.e. ordinary BatchNorm).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models import layers
from reprosuite.engine.models.ghost_bn import EnsembleGhostBatchNorm

KERNELS = ((5, 2), (3, 2), (3, 2))  # (kernel, stride) of the three convolutions


def _uniform(shape, fan_in, gens):
    return layers.init_weight(shape, "uniform", gens, 1.0 / math.sqrt(fan_in)).float()


class GhostNet(nn.Module):
    """S members of ``f1`` (``kind="f1"``, inputs (B, 784)) or ``cnn1d`` (inputs (B, L)); output (S, B, 10)."""

    def __init__(
        self,
        kind: str,
        in_dim: int,
        seeds: Sequence[int],
        n_classes: int = 10,
        width: int = 512,
        channels: Sequence[int] = (16, 32, 32),
    ):
        super().__init__()
        gens = layers.generators(seeds)
        self.kind, self.size = kind, len(gens)
        self.specs = [(c, k, st) for c, (k, st) in zip(channels, KERNELS, strict=True)]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        self.norms = nn.ModuleList()
        if kind == "f1":
            dims = [in_dim] + [width] * 5
            for a, b in zip(dims[:-1], dims[1:], strict=True):
                self.weights.append(nn.Parameter(_uniform((b, a), a, gens)))
                self.biases.append(nn.Parameter(_uniform((b,), a, gens)))
                self.norms.append(EnsembleGhostBatchNorm(self.size, b))
            flat = width
        elif kind == "cnn1d":
            c_in, n = 1, in_dim
            for c_out, k, s in self.specs:
                self.weights.append(nn.Parameter(_uniform((c_out, c_in * k), c_in * k, gens)))
                self.norms.append(EnsembleGhostBatchNorm(self.size, c_out))
                c_in, n = c_out, (n - k) // s + 1
            flat = c_in * n
        else:
            raise ValueError(f"unknown network {kind!r}")
        self.head_w = nn.Parameter(_uniform((n_classes, flat), flat, gens))
        self.head_b = nn.Parameter(_uniform((n_classes,), flat, gens))
        self.flat = flat

    def forward(self, x: Tensor, ghost: int | None = None) -> Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.size, *x.shape)  # (S, B, D)
        if self.kind == "f1":
            for w, b, bn in zip(self.weights, self.biases, self.norms, strict=True):
                x = torch.relu(bn(torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2)), ghost))
        else:
            x = x.unsqueeze(3)  # (S, B, L, 1): channels last throughout
            for (c_out, k, stride), w, bn in zip(self.specs, self.weights, self.norms, strict=True):
                s, bsz, _, c = x.shape
                win = x.unfold(2, k, stride)  # (S, B, L', C, k): im2col, one batched matmul per layer
                n = win.shape[2]
                z = torch.bmm(win.reshape(s, bsz * n, c * k), w.transpose(1, 2)).view(s, bsz, n, c_out)
                x = torch.relu(bn(z, ghost))
            x = x.transpose(2, 3).flatten(2)  # (S, B, C·L'), channel-major as nn.Flatten on (B, C, L')
        return torch.baddbmm(self.head_b.unsqueeze(1), x, self.head_w.transpose(1, 2))

    def member(self, i: int, x: Tensor) -> Tensor:
        """Member ``i`` evaluated by plain torch layers (``F.conv1d``/``F.linear``/``F.batch_norm`` in training
        mode on the whole batch, without touching the running statistics): the reference the tests use."""
        h = x
        if self.kind == "f1":
            for w, b, bn in zip(self.weights, self.biases, self.norms, strict=True):
                h = F.linear(h, w[i], b[i])
                h = torch.relu(F.batch_norm(h, None, None, bn.weight[i], bn.bias[i], True, 0.0, bn.eps))
        else:
            h = h.unsqueeze(1)
            for (_, _, stride), w, bn in zip(self.specs, self.weights, self.norms, strict=True):
                c_out = w.shape[1]
                h = F.conv1d(h, w[i].view(c_out, h.shape[1], -1), stride=stride)
                h = torch.relu(F.batch_norm(h, None, None, bn.weight[i], bn.bias[i], True, 0.0, bn.eps))
            h = h.flatten(1)
        return F.linear(h, self.head_w[i], self.head_b[i])

    def buffers_list(self) -> list[Tensor]:
        return [t for bn in self.norms for t in (bn.running_mean, bn.running_var)]
