"""A member-batched Transformer encoder as in the official code (``models/transformer.py``,
``make_transformer_encoder``): a linear embedding of the one-hot tokens scaled by √d plus sin/cos positions,
pre-LayerNorm blocks of non-causal multi-head attention and a ReLU MLP (widening 4), dropout after each sub-layer,
a final LayerNorm and a linear read-out at every position. Weights are (S, …) tensors, member ``s`` drawn from a
generator seeded with ``seeds[s]``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models.layers import generators, init_weight


def sincos(length: int, d: int, device) -> Tensor:
    pos = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32, device=device) / d)
    out = torch.zeros(length, d, device=device)
    out[:, 0::2], out[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return out


class EnsembleEncoder(nn.Module):
    def __init__(
        self,
        input_size: int,
        output_size: int,
        seeds: Sequence[int],
        d: int = 64,
        layers: int = 5,
        heads: int = 8,
        widening: int = 4,
        dropout: float = 0.1,
        device="cpu",
    ):
        super().__init__()
        if d % heads:
            raise ValueError(f"model width {d} is not divisible by {heads} heads")
        self.d, self.heads, self.dropout = d, heads, dropout
        gens = generators(seeds)
        S = len(gens)

        def w(i: int, o: int) -> nn.Parameter:
            t = init_weight((o, i), "gaussian_fan_in", gens).transpose(1, 2)
            return nn.Parameter(t.float().to(device).contiguous())

        def zeros(*shape) -> nn.Parameter:
            return nn.Parameter(torch.zeros(S, *shape, device=device))

        def ones(*shape) -> nn.Parameter:
            return nn.Parameter(torch.ones(S, *shape, device=device))

        self.embed = w(input_size, d)
        self.qkv = nn.ParameterList(w(d, 3 * d) for _ in range(layers))
        self.proj = nn.ParameterList(w(d, d) for _ in range(layers))
        self.fc1 = nn.ParameterList(w(d, widening * d) for _ in range(layers))
        self.fc1_b = nn.ParameterList(zeros(1, widening * d) for _ in range(layers))
        self.fc2 = nn.ParameterList(w(widening * d, d) for _ in range(layers))
        self.fc2_b = nn.ParameterList(zeros(1, d) for _ in range(layers))
        self.ln = nn.ParameterList(p for _ in range(2 * layers + 1) for p in (ones(1, d), zeros(1, d)))
        self.out, self.out_b = w(d, output_size), zeros(1, output_size)

    @property
    def size(self) -> int:
        return self.embed.shape[0]

    def _ln(self, x: Tensor, i: int) -> Tensor:
        g, b = self.ln[2 * i], self.ln[2 * i + 1]
        return F.layer_norm(x, x.shape[-1:]) * g + b

    def _drop(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.dropout, self.training) if self.dropout > 0 else x

    def forward(self, x: Tensor) -> Tensor:
        """x (S, B, T, V) one-hot (or (B, T, V) common to all members) → logits (S, B, T, out)."""
        S = self.size
        if x.dim() == 3:
            x = x.unsqueeze(0).expand(S, *x.shape)
        _, B, T, V = x.shape
        d, nh = self.d, self.heads
        h = (x.reshape(S, B * T, V) @ self.embed).view(S, B, T, d) * math.sqrt(d)
        h = (h + sincos(T, d, x.device)).reshape(S, B * T, d)
        for i in range(len(self.qkv)):
            q, k, v = (self._ln(h, 2 * i) @ self.qkv[i]).view(S * B, T, 3, nh, d // nh).unbind(2)
            a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
            a = a.transpose(1, 2).reshape(S, B * T, d)
            h = h + self._drop(a @ self.proj[i])
            m = torch.relu(torch.baddbmm(self.fc1_b[i], self._ln(h, 2 * i + 1), self.fc1[i]))
            h = h + self._drop(torch.baddbmm(self.fc2_b[i], m, self.fc2[i]))
        h = self._ln(h, 2 * len(self.qkv))
        return torch.baddbmm(self.out_b, h, self.out).view(S, B, T, -1)
