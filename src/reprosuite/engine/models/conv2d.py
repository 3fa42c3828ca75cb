"""A batched ensemble of small 2-D CNNs: S independent nets evaluated together, one batched op per layer.

Each conv block is ``Conv2d(C_in, C, k, padding p) → [channel dropout] → MaxPool2d(m) → ReLU → [element
dropout]`` (one of the two dropouts, ``conv_dropout_kind``); then flatten, hidden blocks ``Linear → ReLU →
[dropout]`` and a linear classifier. ``activation`` replaces ReLU by another of
:data:`reprosuite.engine.models.layers.ACTIVATIONS`; ``ceil_mode`` pools as ``MaxPool2d(ceil_mode=True)`` (a 1 × 1
map is never pooled). Channels (10, 20), kernels (5, 5), pools (2, 2), hidden (50,), channel dropout 0.5 on the
second block and dropout 0.5 after the hidden layer give the classic small MNIST CNN of PyTorch's examples
(``mnist/main.py`` before 2019): 28×28 → 10×24×24 → pool 10×12×12 → 20×8×8 → pool 20×4×4 = 320 → 50 → 10 (its
``log_softmax`` output is left to the loss: cross-entropy of the logits is the same).

Layout: the activations of all members are kept as one (B, S·C, H, W) tensor, member-major along the channels, in
channels-last memory order, so that each convolution is one ``F.conv2d`` with ``groups=S`` and max-pooling, ReLU and
channel dropout act on all members at once; the flattened features become (S, B, F) for the linear layers, one
batched matmul each. Measured (CPU time per training step, forward + backward, that MNIST CNN, batch 64 per
member, 1 thread, 2-core machine under load, best of 3): S = 10 members 5.4–6.0 ms per member, against 8.0–8.4 ms
for a loop over plain ``nn.Module`` nets and 12 ms for the same grouped convolutions in the default (channels-first)
order, whose max-pooling alone ran 3× slower; evaluation without gradients, 1000 images, S = 10: 55 ms per
member. Grouped convolutions do not pay for large members: VGG-16's S = 5 members ran at 0.51× (B 16) and 0.67×
(B 128) the speed of a loop over plain nets; a study runs such members as one-member nets in turn, which take a
batch below :data:`CHANNELS_FIRST_BELOW` in the default order, where it runs faster.

Initialisation is PyTorch's default for ``nn.Conv2d``/``nn.Linear``: weights and biases U(−1/√fan_in, 1/√fan_in)
with fan_in = in_channels · k² (in_features for a linear layer), or with ``init="he"`` weights N(0, 2/fan_in) and
biases 0 (He et al. 2015), or with ``init="fan_out"`` the convolutions' weights N(0, 2/(k² · out_channels)) and
biases 0 and the linear layers PyTorch's default (the VGG of torchvision's early releases); drawn per member from that member's generator
(:func:`reprosuite.engine.models.layers.generators`), float64 on CPU, then cast; member ``s`` equals a one-member
ensemble built with ``seeds[s]``.

Dropout (training mode only, as ``nn.Dropout2d`` and ``F.dropout``: a whole channel of an example, or a unit, zeroed
with probability p, the survivors scaled by 1/(1−p)) draws its masks on CPU in float32 from one generator per
member seeded with ``dropout_seeds[s]`` (the same masks on any device and dtype); :attr:`EnsembleConv2dNet.generators`
are those generators, for the training loop to checkpoint (``trainer.fit(generators=...)``) so that a resumed run
draws the masks the uninterrupted one did. Element dropout of the conv blocks (``conv_dropout_kind="element"``),
whose masks are as large as the feature maps, draws them on the model's device instead, from generators there (the
same masks on one kind of device).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models import layers

# A one-member net takes batches smaller than this channels-first: VGG-16 on 32 × 32 images, one thread, CPU s per
# training step, channels-first / channels-last: B 16 0.92 / 1.04, B 128 7.24 / 6.61 (a plain nn.Module 0.93 and
# 7.20; benchmarks/bench_conv.py).
CHANNELS_FIRST_BELOW = 64


def conv_out_size(size: int, kernel: int, padding: int, pool: int, ceil_mode: bool = False) -> int:
    """Side of a square map after a conv block: ``nn.Conv2d`` (stride 1) then ``MaxPool2d(pool)`` (floor, or with
    ``ceil_mode`` ceiling; a 1 × 1 map is left as it is)."""
    side = size + 2 * padding - kernel + 1
    if side <= 1:
        return side
    return -(-side // pool) if ceil_mode else side // pool


def _uniform(shape, fan_in, gens):
    return layers.init_weight(shape, "uniform", gens, 1.0 / math.sqrt(fan_in))


def _rates(values: Sequence[float] | None, n: int, what: str) -> list[float]:
    rates = [0.0] * n if values is None else [float(p) for p in values]
    if len(rates) != n:
        raise ValueError(f"{what} needs one rate per layer ({n}), got {len(rates)}")
    if any(not 0.0 <= p < 1.0 for p in rates):
        raise ValueError(f"{what} rates must lie in [0, 1): {rates}")
    return rates


class EnsembleConv2dNet(nn.Module):
    """S independent 2-D CNNs (conv blocks, hidden linear blocks, a linear classifier) with a leading member axis.

    Inputs, ``image = (C_in, H, W)``: shared by all members as (B, C_in, H, W) or flattened (B, C_in·H·W), or per
    member as (S, B, C_in, H, W) or (S, B, C_in·H·W). The output is (S, B, classes). ``conv_dropout`` and
    ``hidden_dropout`` give a rate per conv and hidden block (0: none); any nonzero rate needs ``dropout_seeds``.
    """

    def __init__(
        self,
        image: Sequence[int],
        n_classes: int,
        seeds: Sequence[int],
        channels: Sequence[int] = (10, 20),
        kernels: Sequence[int] = (5, 5),
        pools: Sequence[int] = (2, 2),
        paddings: Sequence[int] | None = None,
        hidden: Sequence[int] = (50,),
        conv_dropout: Sequence[float] | None = None,
        hidden_dropout: Sequence[float] | None = None,
        dropout_seeds: Sequence[int] | None = None,
        activation: str = "relu",
        ceil_mode: bool = False,
        conv_dropout_kind: str = "channel",
        init: str = "default",
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        if activation not in layers.ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(layers.ACTIVATIONS)}")
        if conv_dropout_kind not in ("channel", "element"):
            raise ValueError(f"conv_dropout_kind is 'channel' or 'element', not {conv_dropout_kind!r}")
        if init not in ("default", "he", "fan_out"):
            raise ValueError(f"init is 'default', 'he' or 'fan_out', not {init!r}")
        self.activation, self.ceil_mode, self.conv_dropout_kind = activation, ceil_mode, conv_dropout_kind
        self.act = layers.ACTIVATIONS[activation]
        paddings = [0] * len(channels) if paddings is None else list(paddings)
        if not len(channels) == len(kernels) == len(pools) == len(paddings):
            raise ValueError("channels, kernels, pools and paddings need one entry per conv layer")
        self.image = tuple(int(v) for v in image)
        c_in, side, side_w = self.image
        self.specs = list(zip(channels, kernels, pools, paddings, strict=True))
        self.conv_dropout = _rates(conv_dropout, len(self.specs), "conv_dropout")
        self.hidden_dropout = _rates(hidden_dropout, len(hidden), "hidden_dropout")
        gens = layers.generators(seeds)
        self.size = len(gens)
        if any(self.conv_dropout) or any(self.hidden_dropout):
            if dropout_seeds is None or len(dropout_seeds) != self.size:
                raise ValueError("dropout needs one dropout seed per member")
            if conv_dropout_kind == "element":  # masks of whole feature maps: drawn where they are used
                self.generators = [torch.Generator(device=device).manual_seed(int(s)) for s in dropout_seeds]
            else:
                self.generators = layers.generators(dropout_seeds)
        else:
            self.generators = []

        def param(t: Tensor) -> nn.Parameter:
            return nn.Parameter(t.to(device=device, dtype=dtype))

        self.conv_w, self.conv_b = nn.ParameterList(), nn.ParameterList()
        for c_out, k, m, p in self.specs:
            fan_in = c_in * k * k
            if init == "he":  # N(0, 2 / fan_in), biases 0 (He et al. 2015)
                w, b = layers.init_weight((c_out, fan_in), "he", gens), torch.zeros(self.size, c_out)
            elif init == "fan_out":  # N(0, 2 / (k² · c_out)), biases 0
                w = layers.init_weight((c_out, fan_in), "gaussian", gens, math.sqrt(2.0 / (k * k * c_out)))
                b = torch.zeros(self.size, c_out)
            else:
                w, b = _uniform((c_out, fan_in), fan_in, gens), _uniform((c_out,), fan_in, gens)
            self.conv_w.append(param(w.view(self.size, c_out, c_in, k, k)))
            self.conv_b.append(param(b))
            c_in = c_out
            side, side_w = (conv_out_size(v, k, p, m, ceil_mode) for v in (side, side_w))
            if min(side, side_w) < 1:
                raise ValueError(f"image {self.image} is too small for the conv stack")
        self.flat = c_in * side * side_w
        self.lin_w, self.lin_b = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in zip((self.flat, *hidden), (*hidden, n_classes), strict=True):
            if init == "he":
                self.lin_w.append(param(layers.init_weight((fan_out, fan_in), "he", gens)))
                self.lin_b.append(param(torch.zeros(self.size, fan_out)))
            else:
                self.lin_w.append(param(_uniform((fan_out, fan_in), fan_in, gens)))
                self.lin_b.append(param(_uniform((fan_out,), fan_in, gens)))

    def _mask(self, shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
        """(S, *shape) keep-masks scaled by 1/(1−p), member ``s`` from its own generator."""
        masks = torch.stack(
            [
                torch.empty(shape, dtype=torch.float32, device=g.device).bernoulli_(1.0 - p, generator=g)
                for g in self.generators
            ]
        )
        return masks.div_(1.0 - p).to(device=like.device, dtype=like.dtype)

    def _element_mask(self, x: Tensor, c: int, p: float) -> Tensor:
        """(B, S·C, H, W) keep-masks scaled by 1/(1−p), member ``s``'s channels from its own generator, drawn on
        ``x``'s device."""
        b, _, h, w = x.shape
        masks = [
            torch.rand((b, c, h, w), generator=g, device=x.device, dtype=torch.float32) >= p
            for g in self.generators
        ]
        return torch.cat(masks, dim=1).to(x.dtype).div_(1.0 - p)

    def forward(self, x: Tensor) -> Tensor:
        c_in, h, w = self.image
        if x.dim() in (2, 4):  # shared by all members
            x = x.unsqueeze(0).expand(self.size, *x.shape)
        bsz = x.shape[1]
        # (S, B, C_in, H, W) → (B, S·C_in, H, W), channels-last: the layout where grouped convolutions and pooling
        # run fastest on a CPU; a single member's small batches run faster channels-first
        x = x.reshape(self.size, bsz, c_in, h, w).transpose(0, 1).reshape(bsz, self.size * c_in, h, w)
        channels_last = self.size > 1 or bsz >= CHANNELS_FIRST_BELOW
        x = x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
        for i, ((c_out, _, pool, pad), wt, b) in enumerate(
            zip(self.specs, self.conv_w, self.conv_b, strict=True)
        ):
            x = F.conv2d(x, wt.reshape(-1, *wt.shape[2:]), b.reshape(-1), padding=pad, groups=self.size)
            p = self.conv_dropout[i]
            channel = self.conv_dropout_kind == "channel"
            if self.training and p > 0 and channel:  # whole channels of an example: (B, S·C, 1, 1)
                x = x * self._mask((bsz, c_out), p, x).transpose(0, 1).reshape(bsz, -1, 1, 1)
            if pool > 1 and min(x.shape[-2:]) > 1:  # a 1 × 1 map pools to itself
                x = F.max_pool2d(x, pool, ceil_mode=self.ceil_mode)
            x = self.act(x)
            if self.training and p > 0 and not channel:  # every unit of the block's output
                x = x * self._element_mask(x, c_out, p)
        # (B, S·C, H', W') → (S, B, C·H'·W'), channel-major per member as nn.Flatten on (B, C, H', W')
        x = x.reshape(bsz, self.size, -1).transpose(0, 1)
        last = len(self.lin_w) - 1
        for i, (wt, b) in enumerate(zip(self.lin_w, self.lin_b, strict=True)):
            x = torch.baddbmm(b.unsqueeze(1), x, wt.transpose(1, 2))
            if i < last:
                x = self.act(x)
                p = self.hidden_dropout[i]
                if self.training and p > 0:
                    x = x * self._mask(tuple(x.shape[1:]), p, x)
        return x

    def member(self, i: int) -> nn.Sequential:
        """A plain ``nn.Sequential`` (``nn.Conv2d``, ``nn.Dropout2d``, ``nn.MaxPool2d``, the activation,
        ``nn.Linear``, ``nn.Dropout``) holding a copy of member ``i``'s weights, in ``self``'s training mode."""
        mods: list[nn.Module] = []

        def copy(mod: nn.Module, wt: Tensor, b: Tensor) -> nn.Module:
            mod = mod.to(device=wt.device, dtype=wt.dtype)
            with torch.no_grad():
                mod.weight.copy_(wt[i])
                mod.bias.copy_(b[i])
            return mod

        c_in, side = self.image[0], self.image[1]
        channel = self.conv_dropout_kind == "channel"
        for (c_out, k, pool, pad), p, wt, b in zip(
            self.specs, self.conv_dropout, self.conv_w, self.conv_b, strict=True
        ):
            mods.append(copy(nn.Conv2d(c_in, c_out, k, padding=pad), wt, b))
            mods += [nn.Dropout2d(p)] if p > 0 and channel else []
            side = side + 2 * pad - k + 1
            mods += [nn.MaxPool2d(pool, ceil_mode=self.ceil_mode)] if pool > 1 and side > 1 else []
            side = conv_out_size(side, 1, 0, pool, self.ceil_mode)
            mods.append(self._act_module())
            mods += [nn.Dropout(p)] if p > 0 and not channel else []
            c_in = c_out
        mods.append(nn.Flatten())
        last = len(self.lin_w) - 1
        for j, (wt, b) in enumerate(zip(self.lin_w, self.lin_b, strict=True)):
            mods.append(copy(nn.Linear(wt.shape[2], wt.shape[1]), wt, b))
            if j < last:
                mods.append(self._act_module())
                mods += [nn.Dropout(self.hidden_dropout[j])] if self.hidden_dropout[j] > 0 else []
        return nn.Sequential(*mods).train(self.training)

    def _act_module(self) -> nn.Module:
        modules = {"relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh, "leaky_relu": lambda: nn.LeakyReLU(0.1)}
        return modules[self.activation]() if self.activation in modules else _Activation(self.act)


class _Activation(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)
