"""Width parametrisations of an MLP: standard (SP), NTK and maximal-update (μP), for SGD.

A parametrisation says, per layer, how the initial weights, a constant forward multiplier and the learning rate
scale with width. We use the convention of the ``mup`` package (microsoft/mup, ``mup/layer.py`` and
``mup/optim.py``): every quantity is expressed relative to a *base* shape, so that at the base shapes all three
parametrisations coincide with SP, and away from it only the width multipliers ``m_in = fan_in / base_fan_in``
and ``m_out = fan_out / base_fan_out`` enter. A layer is ``input`` when only its fan-out grows with width
(``m_in = 1``), ``hidden`` when both grow, ``output`` when only its fan-in grows. Weights are
``W_eff = multiplier · w`` with ``w ~ N(0, init_std²)``, trained by SGD at ``lr · lr_mult`` on ``w``.

- SP: ``init_std = gain/√fan_in``, multiplier 1, ``lr_mult = 1`` everywhere (PyTorch-style fan-in init).
- NTK: ``w ~ N(0, gain²/base_fan_in)`` and multiplier ``1/√m_in`` — the 1/√fan_in of the NTK
  parametrisation, relative to the base — with ``lr_mult = 1``. The effective initial weights equal SP's at
  every width; under SGD it is SP with the learning rate of every width-fan-in layer divided by ``m_in``.
- μP (``mup``'s SGD form): input and hidden layers are initialised as SP; the output layer ``MuReadout`` has
  ``init_std = gain/√base_fan_in`` (SP's init times ``√m_in``, ``_rescale_parameters``) and multiplier
  ``1/m_in`` (``forward`` divides its input by ``width_mult``). ``MuSGD`` multiplies the learning rate of
  vector-like weights (one width dimension: input and output layers) by their width multiplier and divides
  that of matrix-like weights (hidden) by ``m_in/m_out`` (1 for square hidden layers).

In the abc-notation of Tensor Programs IV (Yang & Hu 2021, arXiv:2011.14522, §3 and Table 3: ``W = n^{-a} w``,
``w ~ N(0, n^{-2b})``, SGD lr ``η n^{-c}``): SP has a = 0, b₁ = 0, b_{l≥2} = 1/2, c = 0; NTK has a₁ = 0,
a_{l≥2} = 1/2, b = 0, c = 0; μP has a₁ = −1/2, a_{2..L} = 0, a_{L+1} = 1/2, b = 1/2, c = 0. The ``mup`` form above
is TP4's μP moved along the symmetry (a, b, c) → (a + θ, b − θ, c − 2θ), which leaves SGD training unchanged
(θ = 1/2 on the input and output layers): e.g. the readout's effective weight has a + b = 1 either way, so
logits start at O(1/√n) and every layer's update moves its pre-activations by Θ(1).

:func:`layer_scalings` is plain Python (no torch); :class:`ParametrizedMLP` and :class:`LayerwiseSGD` are the
ensemble model and optimiser used for training (member dimension S first, as in :mod:`reprosuite.engine.models.layers`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from reprosuite.engine.models.layers import ACTIVATIONS, generators
from reprosuite.engine.train import optim

PARAMETRIZATIONS = ("sp", "ntk", "mup")


@dataclass(frozen=True)
class LayerScaling:
    """One layer under one parametrisation: ``W_eff = multiplier · w``, ``w ~ N(0, init_std²)``, lr × lr_mult."""

    kind: str  # "input", "hidden", "output" or "fixed" (no width dimension)
    init_std: float
    multiplier: float
    lr_mult: float

    @property
    def effective_std(self) -> float:
        """Standard deviation of the effective initial weights ``multiplier · w``."""
        return self.multiplier * self.init_std


def layer_kind(fan_in: int, fan_out: int, base_in: int, base_out: int) -> str:
    """Which dimensions of a (fan_out, fan_in) weight scale with width, relative to its base shape."""
    grows_in, grows_out = fan_in != base_in, fan_out != base_out
    if grows_in and grows_out:
        return "hidden"
    if grows_out:
        return "input"
    if grows_in:
        return "output"
    return "fixed"


def layer_scalings(
    param: str,
    sizes: Sequence[int],
    base_sizes: Sequence[int],
    gains: float | Sequence[float] = 1.0,
) -> list[LayerScaling]:
    """Per-layer init std, forward multiplier and lr multiplier of an MLP ``sizes`` under ``param``.

    ``base_sizes`` are the layer sizes of the base model (same depth; the input and output sizes normally equal
    ``sizes``'). A layer's kind is decided as in ``mup``: by which of its dimensions differ from the base
    (``mup``'s ``InfShape``): at the base every layer is ``fixed`` and every parametrisation is SP.
    ``gains`` are the init gains (e.g. √2 for ReLU layers), one per layer or one for all.
    """
    if param not in PARAMETRIZATIONS:
        raise ValueError(f"unknown parametrisation {param!r}; choose from {PARAMETRIZATIONS}")
    if len(sizes) != len(base_sizes) or len(sizes) < 2:
        raise ValueError(f"sizes {tuple(sizes)} and base sizes {tuple(base_sizes)} must have the same depth")
    n_layers = len(sizes) - 1
    gains = [float(gains)] * n_layers if isinstance(gains, int | float) else [float(g) for g in gains]
    if len(gains) != n_layers:
        raise ValueError(f"{len(gains)} gains for {n_layers} layers")
    out = []
    for fan_in, fan_out, b_in, b_out, gain in zip(
        sizes[:-1], sizes[1:], base_sizes[:-1], base_sizes[1:], gains, strict=True
    ):
        kind = layer_kind(fan_in, fan_out, b_in, b_out)
        m_in, m_out = fan_in / b_in, fan_out / b_out
        sp_std = gain / math.sqrt(fan_in)
        if param == "sp" or kind == "fixed":
            out.append(LayerScaling(kind, sp_std, 1.0, 1.0))
        elif param == "ntk":
            out.append(LayerScaling(kind, gain / math.sqrt(b_in), 1.0 / math.sqrt(m_in), 1.0))
        elif kind == "input":  # μP, vector-like: SP init, MuSGD lr × width_mult (the fan-out multiplier)
            out.append(LayerScaling(kind, sp_std, 1.0, m_out))
        elif kind == "hidden":  # μP, matrix-like: SP init, MuSGD lr / (fan-in mult / fan-out mult)
            out.append(LayerScaling(kind, sp_std, 1.0, m_out / m_in))
        else:  # μP readout: init × √width_mult, forward ÷ width_mult, MuSGD lr × width_mult
            out.append(LayerScaling(kind, sp_std * math.sqrt(m_in), 1.0 / m_in, m_in))
    return out


def mlp_sizes(d_in: int, width: int, d_out: int, depth: int) -> list[int]:
    """Layer sizes of an MLP with ``depth`` hidden layers of ``width``."""
    return [d_in, *([width] * depth), d_out]


class ParametrizedMLP(nn.Module):
    """S bias-free MLPs of one shape, member ``s`` under its own per-layer scalings (``scalings[s][layer]``).

    ``w_l[s]`` is drawn from member ``s``'s generator (seed ``seeds[s]``) as a standard normal times its
    ``init_std``; the forward pass multiplies each layer's product by the member's multiplier.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        seeds: Sequence[int],
        scalings: Sequence[Sequence[LayerScaling]],
        activation: str = "relu",
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        if len(scalings) != len(seeds):
            raise ValueError(f"{len(scalings)} scalings for {len(seeds)} members")
        self.sizes = tuple(sizes)
        self.act = ACTIVATIONS[activation]
        gens = generators(seeds)
        self.weights = nn.ParameterList()
        multipliers, lr_mults = [], []
        for layer, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            stds = [member[layer].init_std for member in scalings]
            w = torch.stack(
                [
                    std * torch.randn((fan_out, fan_in), generator=g, dtype=torch.float64)
                    for std, g in zip(stds, gens, strict=True)
                ]
            )
            self.weights.append(nn.Parameter(w.to(device=device, dtype=dtype)))
            multipliers.append([member[layer].multiplier for member in scalings])
            lr_mults.append([member[layer].lr_mult for member in scalings])
        # (layers, S): kept as buffers so they follow the module's device
        self.register_buffer("multipliers", torch.tensor(multipliers, dtype=dtype, device=device))
        self.register_buffer("lr_mults", torch.tensor(lr_mults, dtype=dtype, device=device))

    def effective_weight(self, layer: int) -> Tensor:
        """The effective weights ``multiplier · w`` of one layer, (S, out, in)."""
        return self.multipliers[layer].view(-1, 1, 1) * self.weights[layer]

    def forward(self, x: Tensor, return_hidden: bool = False):
        """x (B, in) or (S, B, in) → logits (S, B, out); with ``return_hidden`` also each hidden post-activation."""
        hidden = []
        n = len(self.weights)
        for i, w in enumerate(self.weights):
            z = torch.matmul(x, w.transpose(-1, -2)) * self.multipliers[i].view(-1, 1, 1)
            if i < n - 1:
                x = self.act(z)
                hidden.append(x)
            else:
                x = z
        return (x, hidden) if return_hidden else x


class LayerwiseSGD(optim.SGD):
    """Plain SGD (no momentum, no weight decay) with a per-member lr (S,) times a per-layer, per-member
    multiplier: parameter ``i`` of member ``s`` moves by ``−lr[s] · lr_mults[i][s] · grad`` (``MuSGD``'s param
    groups, batched over members)."""

    def __init__(self, params: Sequence[Tensor], lr, lr_mults: Tensor | Sequence[Sequence[float]]):
        super().__init__(params, lr)
        like = self.params[0]
        self.lr_mults = [optim.member_tensor(m, self.size, like) for m in lr_mults]
        if len(self.lr_mults) != len(self.params):
            raise ValueError(f"{len(self.lr_mults)} lr multipliers for {len(self.params)} parameters")

    @torch.no_grad()
    def step(self, lr_scale: float = 1.0) -> None:
        lr = self._member_lr(lr_scale)
        for p, mult in zip(self.params, self.lr_mults, strict=True):
            if p.grad is not None:
                p.sub_(optim.per_member(lr * mult, p) * p.grad)
