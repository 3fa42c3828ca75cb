"""An ensemble of ResNets for 32 × 32 images: S independent nets with stacked parameters, run member after member.

The net is the CIFAR ResNet-18 of He et al. 2016 as Kuang Liu's ``pytorch-cifar`` writes it (shipped in the Cutout
repository, ``model/resnet.py``, that Toneva et al.'s ``run_cifar.py`` trains): a 3 × 3 stem convolution of 64
channels with BatchNorm and ReLU (no max-pooling), four stages of ``blocks`` basic blocks with 64, 128, 256 and
512 channels (stride 2 at the first block of stages 2–4), average pooling over the last 4 × 4 map and a linear
classifier. A basic block is ``conv 3×3 → BN → ReLU → conv 3×3 → BN``, plus the input (through a 1 × 1 convolution
with BN where the shape changes), then ReLU. Convolutions have no bias. ResNet-18 has 11,173,962 parameters for
10 classes.

Parameters are stacked with a leading member axis (S, …), as the engine's optimisers expect; each member runs its
own forward on its own slice (``unbind``: one gradient tensor per stacked parameter on the way back). Unlike the
small nets' grouped convolutions, a member of this size fills a device by itself, so running members in turn costs
little; but an ensemble keeps every member's activations until its one backward pass (0.80–0.98× a loop over plain
nets on a CPU, ``benchmarks/bench_conv.py``), so a study trains one-member ensembles one after another, which
matched the loop (1.00×). BatchNorm's running statistics are buffers (S, C) that each member's forward updates in place (training
mode, momentum 0.1, eps 1e-5, as ``nn.BatchNorm2d``); :meth:`EnsembleResNet.running_stats` lists them for the
training loop to checkpoint.

Initialisation is PyTorch's default: convolution and linear weights U(−1/√fan_in, 1/√fan_in) (``kaiming_uniform_``
with a = √5), the linear bias likewise, BN weight 1 and bias 0; drawn per member from that member's generator
(:func:`reprosuite.engine.models.layers.generators`) in the order the module is built, float64 on CPU, then cast;
member ``s`` equals a one-member ensemble built with ``seeds[s]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models import layers

RESNET18 = (2, 2, 2, 2)  # basic blocks per stage
WIDTHS = (64, 128, 256, 512)  # channels per stage
BN_MOMENTUM, BN_EPS = 0.1, 1e-5  # nn.BatchNorm2d's defaults


class EnsembleResNet(nn.Module):
    """S independent CIFAR ResNets (basic blocks). Inputs (B, C, 32, 32) shared by all members or (S, B, C, 32, 32)
    per member; output (S, B, classes)."""

    def __init__(
        self,
        seeds: Sequence[int],
        n_classes: int = 10,
        blocks: Sequence[int] = RESNET18,
        widths: Sequence[int] = WIDTHS,
        in_channels: int = 3,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        if len(blocks) != len(widths) or min(blocks) < 1:
            raise ValueError(f"one block count ≥ 1 per stage: blocks {tuple(blocks)}, widths {tuple(widths)}")
        gens = layers.generators(seeds)
        self.size = len(gens)
        self.in_channels = in_channels
        self.conv_w = nn.ParameterList()
        self.bn_w, self.bn_b = nn.ParameterList(), nn.ParameterList()
        self.convs: list[tuple[int, int]] = []  # (stride, padding) of each conv, each followed by its BN

        def conv_bn(c_in: int, c_out: int, k: int, stride: int) -> int:
            fan_in = c_in * k * k
            w = layers.init_weight((c_out, fan_in), "uniform", gens, 1.0 / math.sqrt(fan_in))
            self.conv_w.append(
                nn.Parameter(w.view(self.size, c_out, c_in, k, k).to(device=device, dtype=dtype))
            )
            self.bn_w.append(nn.Parameter(torch.ones(self.size, c_out, device=device, dtype=dtype)))
            self.bn_b.append(nn.Parameter(torch.zeros(self.size, c_out, device=device, dtype=dtype)))
            i = len(self.convs)
            self.register_buffer(f"bn{i}_mean", torch.zeros(self.size, c_out, device=device, dtype=dtype))
            self.register_buffer(f"bn{i}_var", torch.ones(self.size, c_out, device=device, dtype=dtype))
            self.convs.append((stride, k // 2))
            return i

        # the module's order of construction: stem, then per block conv1, conv2 and the shortcut's conv
        self.stem = conv_bn(in_channels, widths[0], 3, 1)
        self.blocks: list[tuple[int, int, int | None]] = []
        c_in = widths[0]
        for stage, (n, c) in enumerate(zip(blocks, widths, strict=True)):
            for b in range(n):
                stride = 2 if stage > 0 and b == 0 else 1
                first, second = conv_bn(c_in, c, 3, stride), conv_bn(c, c, 3, 1)
                shortcut = conv_bn(c_in, c, 1, stride) if stride != 1 or c_in != c else None
                self.blocks.append((first, second, shortcut))
                c_in = c
        bound = 1.0 / math.sqrt(c_in)
        self.lin_w = nn.Parameter(
            layers.init_weight((n_classes, c_in), "uniform", gens, bound).to(device=device, dtype=dtype)
        )
        self.lin_b = nn.Parameter(
            layers.init_weight((n_classes,), "uniform", gens, bound).to(device=device, dtype=dtype)
        )

    def running_stats(self) -> list[Tensor]:
        """BatchNorm's running means and variances, (S, C) each, updated in place in training mode."""
        return [getattr(self, f"bn{i}_{kind}") for i in range(len(self.convs)) for kind in ("mean", "var")]

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:  # shared by all members
            x = x.unsqueeze(0).expand(self.size, *x.shape)
        if x.dim() != 5 or x.shape[0] != self.size or x.shape[2] != self.in_channels:
            raise ValueError(
                f"expected (S={self.size}, B, {self.in_channels}, H, W) inputs, got {tuple(x.shape)}"
            )
        # one slice per member of every stacked parameter
        conv_w, bn_w, bn_b = ([p.unbind(0) for p in group] for group in (self.conv_w, self.bn_w, self.bn_b))
        lin_w, lin_b = self.lin_w.unbind(0), self.lin_b.unbind(0)
        stats = self.running_stats()
        out = []
        for s in range(self.size):

            def conv_bn(i: int, h: Tensor, relu: bool, s: int = s) -> Tensor:
                stride, pad = self.convs[i]
                h = F.conv2d(h, conv_w[i][s], stride=stride, padding=pad)
                mean, var = stats[2 * i], stats[2 * i + 1]
                h = F.batch_norm(
                    h, mean[s], var[s], bn_w[i][s], bn_b[i][s], self.training, BN_MOMENTUM, BN_EPS
                )
                return F.relu(h) if relu else h

            h = conv_bn(self.stem, x[s], True)
            for first, second, shortcut in self.blocks:
                skip = h if shortcut is None else conv_bn(shortcut, h, False)
                h = F.relu(conv_bn(second, conv_bn(first, h, True), False) + skip)
            h = F.avg_pool2d(h, 4).flatten(1)  # the official net's pooling: the 4 × 4 map of a 32 × 32 image
            out.append(F.linear(h, lin_w[s], lin_b[s]))
        return torch.stack(out)
