"""A batched ensemble of small 1-D CNNs: S independent nets evaluated together, one batched op per layer.

The architecture is MNIST-1D's ``ConvBase`` (Greydanus 2020, arXiv:2011.14439; ``mnist1d/models.py``):
``Conv1d(1, C, 5, stride 2, pad 1) → ReLU → Conv1d(C, C, 3, 2, 1) → ReLU → Conv1d(C, C, 3, 2, 1) → ReLU →
flatten → Linear(C·L', classes)``, generalised to any channel/kernel/stride list.

Three implementations give the same numbers (``tests/unit/engine/test_conv.py``): ``unfold`` (default) —
im2col windows and one batched matmul per layer; ``grouped`` — members stacked along the channel axis and one
``F.conv1d`` with ``groups=S``; ``vmap`` — ``torch.vmap`` over ``F.conv1d``. Measured (CPU time per training
step, forward + backward, MNIST-1D length 40, C = 25, batch 64, 1 thread, 2-core machine at load 7–9, best of
3): S = 3 members — unfold 5.8 ms, grouped 6.2 ms, vmap 7.6 ms; S = 6 — unfold 10.4, grouped 11.1, vmap 13.5 ms;
a Python loop over S plain ``F.conv1d`` nets took ~1.5× the wall time of unfold (S = 3). The cost grows about
linearly with S: at these sizes every implementation is overhead-bound, not FLOP-bound.

Initialisation is PyTorch's default for ``nn.Conv1d``/``nn.Linear``: weights and biases U(−1/√fan_in, 1/√fan_in)
with fan_in = in_channels · kernel (in_features for the linear layer), drawn per member from that member's
generator (:func:`reprosuite.engine.models.layers.generators`), float64 on CPU, then cast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models import layers

IMPLS = ("unfold", "grouped", "vmap")


def conv_out_length(length: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a 1-D convolution (``nn.Conv1d``'s formula, dilation 1)."""
    return (length + 2 * padding - kernel) // stride + 1


def _uniform(shape, fan_in, gens):
    return layers.init_weight(shape, "uniform", gens, 1.0 / math.sqrt(fan_in))


class EnsembleConv1dNet(nn.Module):
    """S independent 1-D CNNs: convolutions (ReLU after each) then one linear classifier.

    Inputs are (B, L) or (B, C_in, L) shared by all members, or (S, B, L) / (S, B, C_in, L) per member; the
    output is (S, B, classes).
    """

    def __init__(
        self,
        length: int,
        n_classes: int,
        seeds: Sequence[int],
        channels: Sequence[int] = (25, 25, 25),
        kernels: Sequence[int] = (5, 3, 3),
        strides: Sequence[int] = (2, 2, 2),
        paddings: Sequence[int] = (1, 1, 1),
        in_channels: int = 1,
        impl: str = "unfold",
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"unknown impl {impl!r}; choose from {IMPLS}")
        if not len(channels) == len(kernels) == len(strides) == len(paddings):
            raise ValueError("channels, kernels, strides and paddings need one entry per conv layer")
        self.impl, self.in_channels, self.length = impl, in_channels, length
        self.specs = list(zip(channels, kernels, strides, paddings, strict=True))
        gens = layers.generators(seeds)
        self.size = len(gens)
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        c_in, n = in_channels, length
        for c_out, k, s, p in self.specs:
            fan_in = c_in * k
            w = _uniform((c_out, c_in * k), fan_in, gens).view(self.size, c_out, c_in, k)
            b = _uniform((c_out,), fan_in, gens)
            self.weights.append(nn.Parameter(w.to(device=device, dtype=dtype)))
            self.biases.append(nn.Parameter(b.to(device=device, dtype=dtype)))
            c_in, n = c_out, conv_out_length(n, k, s, p)
            if n < 1:
                raise ValueError(f"input length {length} is too short for the conv stack")
        self.flat = c_in * n
        self.head_w = nn.Parameter(
            _uniform((n_classes, self.flat), self.flat, gens).to(device=device, dtype=dtype)
        )
        self.head_b = nn.Parameter(_uniform((n_classes,), self.flat, gens).to(device=device, dtype=dtype))

    def _conv_grouped(self, x: Tensor, w: Tensor, b: Tensor, stride: int, padding: int) -> Tensor:
        # x (S, B, C, L) → (B, S·C, L); w (S, O, C, k) → (S·O, C, k); groups = S keeps the members apart
        s, bsz, c, n = x.shape
        out = F.conv1d(
            x.transpose(0, 1).reshape(bsz, s * c, n),
            w.reshape(-1, *w.shape[2:]),
            b.reshape(-1),
            stride=stride,
            padding=padding,
            groups=s,
        )
        return out.view(bsz, s, w.shape[1], -1).transpose(0, 1)

    def _conv_vmap(self, x: Tensor, w: Tensor, b: Tensor, stride: int, padding: int) -> Tensor:
        return torch.vmap(lambda xi, wi, bi: F.conv1d(xi, wi, bi, stride=stride, padding=padding))(x, w, b)

    def _conv_unfold(self, x: Tensor, w: Tensor, b: Tensor, stride: int, padding: int) -> Tensor:
        # im2col: (S, B, C, L) → windows (S, B·L', C·k), one batched matmul with w (S, O, C·k)
        s, bsz, c, _ = x.shape
        k = w.shape[-1]
        win = F.pad(x, (padding, padding)).unfold(-1, k, stride)  # (S, B, C, L', k)
        n = win.shape[3]
        win = win.permute(0, 1, 3, 2, 4).reshape(s, bsz * n, c * k)
        z = torch.baddbmm(b.unsqueeze(1), win, w.reshape(s, w.shape[1], c * k).transpose(1, 2))
        return z.view(s, bsz, n, w.shape[1]).transpose(2, 3)

    def forward(self, x: Tensor) -> Tensor:
        shared = x.dim() == (2 if self.in_channels == 1 else 3)
        if shared:
            x = x.unsqueeze(0).expand(self.size, *x.shape)
        if x.dim() == 3:  # (S, B, L): one input channel
            x = x.unsqueeze(2)
        conv = {"grouped": self._conv_grouped, "vmap": self._conv_vmap, "unfold": self._conv_unfold}[
            self.impl
        ]
        for (_, _, stride, padding), w, b in zip(self.specs, self.weights, self.biases, strict=True):
            x = torch.relu(conv(x, w, b, stride, padding))
        x = x.flatten(2)  # (S, B, C·L'), channel-major as nn.Flatten on (B, C, L')
        return layers.ensemble_matmul(x, self.head_w) + self.head_b.unsqueeze(1)

    def member(self, i: int) -> nn.Sequential:
        """A plain ``nn.Sequential`` of ``nn.Conv1d``/``nn.Linear`` holding a copy of member ``i``'s weights."""
        mods: list[nn.Module] = []
        c_in = self.in_channels
        for (c_out, k, s, p), w, b in zip(self.specs, self.weights, self.biases, strict=True):
            conv = nn.Conv1d(c_in, c_out, k, stride=s, padding=p).to(device=w.device, dtype=w.dtype)
            with torch.no_grad():
                conv.weight.copy_(w[i])
                conv.bias.copy_(b[i])
            mods += [conv, nn.ReLU()]
            c_in = c_out
        head = nn.Linear(self.flat, self.head_w.shape[1]).to(
            device=self.head_w.device, dtype=self.head_w.dtype
        )
        with torch.no_grad():
            head.weight.copy_(self.head_w[i])
            head.bias.copy_(self.head_b[i])
        return nn.Sequential(*mods, nn.Flatten(), head)
