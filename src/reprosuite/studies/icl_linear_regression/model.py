"""An ensemble transformer for in-context regression on real-valued tokens, with a leading member dimension S.

:class:`reprosuite.engine.models.transformer.EnsembleTransformer` reads token ids and only its last position, so it cannot
take real vectors; this model reuses its pieces (``linear``, ``param``, ``sinusoidal_positions``, the
initialisation helpers) for the Garg et al. 2022 / Akyürek et al. 2022 set-up: a prompt x₁, y₁, x₂, y₂, … is a
sequence of tokens in R^{d+1} — x-tokens (0, x), y-tokens (y, 0, …, 0) — read in linearly, plus fixed sinusoidal
positions; pre-LayerNorm blocks of multi-head attention and a GELU MLP (width 4·d_model); a final LayerNorm and a
linear read-out of one number at every position (the prediction of y_i is read at x-token i).

The attention mask is an argument: causal for training, or any (T, T) boolean "may attend" mask together with
explicit position ids, which lets one pass score many probe queries against every prefix of a context (each probe
attends to the context prefix and itself, at the position of the x-token it stands in for).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models.layers import generators, init_weight
from reprosuite.engine.models.transformer import linear, param, sinusoidal_positions


def prompt_tokens(x: Tensor, y: Tensor) -> Tensor:
    """x (…, n, d), y (…, n) → tokens (…, 2n, d + 1): x-tokens (0, x) at even, y-tokens (y, 0…) at odd positions."""
    zeros = torch.zeros_like(y).unsqueeze(-1)
    xt = torch.cat([zeros, x], dim=-1)
    yt = torch.cat([y.unsqueeze(-1), torch.zeros_like(x)], dim=-1)
    return torch.stack([xt, yt], dim=-2).flatten(-3, -2)


def probe_layout(n: int, m: int) -> tuple[Tensor, Tensor]:
    """Positions and attention mask for a prompt of n pairs followed by m probes per prefix length k = 0…n−1.

    Probe j of prefix k sits at the position of x-token k+1 (2k) and attends to the first k pairs and itself;
    the prompt itself is causal. Returns position ids (2n + n·m,) and the mask (T, T), True = may attend.
    """
    t_ctx = 2 * n
    t = t_ctx + n * m
    pos = torch.cat([torch.arange(t_ctx), (2 * torch.arange(n)).repeat_interleave(m)])
    mask = torch.zeros(t, t, dtype=torch.bool)
    mask[:t_ctx, :t_ctx] = torch.ones(t_ctx, t_ctx, dtype=torch.bool).tril()
    for k in range(n):
        rows = slice(t_ctx + k * m, t_ctx + (k + 1) * m)
        mask[rows, : 2 * k] = True
    idx = torch.arange(t_ctx, t)
    mask[idx, idx] = True
    return pos, mask


def probe_outputs(net: nn.Module, x: Tensor, y: Tensor, probes: Tensor, m: int, chunk: int) -> Tensor:
    """Outputs (S, T, 2n + n·m) of ``net`` on T prompts x (T, n, d), y (S, T, n), each followed by m probe inputs
    per prefix length (probes (T, n·m, d); :func:`probe_layout`), ``chunk`` prompts per forward pass.

    The prompts do not interact, so the chunk size bounds the memory of a pass, whose activations are
    (S, chunk, 2n + n·m, d_model) (4·d_model wide in the MLP), without changing the outputs: bit for bit on a CPU
    as long as every product of a pass is large enough for BLAS (ATen multiplies matrices with K·M·N < 400 in a
    loop of its own, which rounds differently). The inputs shared by the members are expanded, not copied, until
    one chunk's tokens are built.
    """
    s, (t, n, _) = y.shape[0], x.shape
    pos, mask = probe_layout(n, m)
    out = None
    for i in range(0, t, chunk):
        j = min(i + chunk, t)
        ctx = prompt_tokens(x[i:j].expand(s, -1, -1, -1), y[:, i:j])
        probe = prompt_tokens(probes[i:j], probes.new_zeros(j - i, n * m))[:, 0::2]
        part = net(torch.cat([ctx, probe.expand(s, -1, -1, -1)], dim=2), pos, mask)
        if out is None:
            out = part.new_empty(s, t, part.shape[-1])
        out[:, i:j] = part
    return out


class EnsembleICLTransformer(nn.Module):
    """S pre-LN transformers mapping real token sequences (S, B, T, d_in) to one output per position (S, B, T)."""

    def __init__(
        self,
        d_in: int,
        max_len: int,
        d_model: int,
        heads: int,
        layers: int,
        seeds: Sequence[int],
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not a multiple of heads {heads}")
        self.d_model, self.heads, self.n_layers = d_model, heads, layers
        gens = generators(seeds)
        ones = torch.ones(len(seeds), d_model, dtype=torch.float64)
        zeros = torch.zeros_like(ones)
        self.read_in = param(init_weight((d_model, d_in), "uniform_fan_in", gens), dtype, device)
        self.register_buffer("pos", sinusoidal_positions(max_len, d_model).to(device=device, dtype=dtype))
        names = ("wqkv", "wo", "w_in", "w_out", "ln1_w", "ln1_b", "ln2_w", "ln2_b")
        for name in names:
            setattr(self, name, nn.ParameterList())
        for _ in range(layers):
            self.wqkv.append(
                param(init_weight((3 * d_model, d_model), "uniform_fan_in", gens), dtype, device)
            )
            self.wo.append(param(init_weight((d_model, d_model), "uniform_fan_in", gens), dtype, device))
            self.w_in.append(
                param(init_weight((4 * d_model, d_model), "uniform_fan_in", gens), dtype, device)
            )
            self.w_out.append(
                param(init_weight((d_model, 4 * d_model), "uniform_fan_in", gens), dtype, device)
            )
            for w, b in ((self.ln1_w, self.ln1_b), (self.ln2_w, self.ln2_b)):
                w.append(param(ones, dtype, device))
                b.append(param(zeros, dtype, device))
        self.lnf_w, self.lnf_b = param(ones, dtype, device), param(zeros, dtype, device)
        self.read_out = param(init_weight((1, d_model), "uniform_fan_in", gens), dtype, device)

    @property
    def size(self) -> int:
        return self.read_in.shape[0]

    def _ln(self, x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        return F.layer_norm(x, x.shape[-1:]) * w.view(shape) + b.view(shape)

    def forward(self, tokens: Tensor, positions: Tensor | None = None, mask: Tensor | None = None) -> Tensor:
        """tokens (S, B, T, d_in); positions (T,) ids (default 0…T−1); mask (T, T) or None for causal."""
        s, b, t, _ = tokens.shape
        d, h = self.d_model, self.heads
        pos = self.pos[:t] if positions is None else self.pos[positions.to(self.pos.device)]
        x = linear(tokens, self.read_in) + pos  # (S, B, T, d)
        for i in range(self.n_layers):
            qkv = linear(self._ln(x, self.ln1_w[i], self.ln1_b[i]), self.wqkv[i])
            q, k, v = (z.reshape(s * b, t, h, d // h).transpose(1, 2) for z in qkv.split(d, dim=-1))
            a = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None if mask is None else mask.to(q.device), is_causal=mask is None
            )  # (S·B, h, T, d/h)
            x = x + linear(a.transpose(1, 2).reshape(s, b, t, d), self.wo[i])
            m = F.gelu(linear(self._ln(x, self.ln2_w[i], self.ln2_b[i]), self.w_in[i]))
            x = x + linear(m, self.w_out[i])
        return linear(self._ln(x, self.lnf_w, self.lnf_b), self.read_out).squeeze(-1)
