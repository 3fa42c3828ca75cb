"""Ensembles of two small sequence models over token ids, with a leading member dimension S.

1. :class:`EnsembleEmbeddingMLP` — token embeddings of ``a`` and ``b`` (dim e), concatenated, one ReLU hidden
   layer, ``p`` logits.
2. :class:`EnsembleTransformer` — a small decoder-only transformer as in the official code of Power et al. 2022
   (openai/grok ``grok/transformer.py``): token embedding N(0, 1) plus fixed sinusoidal positions, blocks of
   multi-head self-attention and a ReLU MLP without biases, post-LayerNorm (``x = LN(x + f(x))``) by default,
   causal attention, logits read at the last input position (the ``=`` token).

Weights are explicit batched tensors ``(S, …)``; member ``s`` is initialised from its own generator seeded with
``seeds[s]`` (:func:`reprosuite.engine.models.layers.generators`), drawn in the same order for every member, so it equals
a single model built with that seed. Inputs are token ids shared by all members, ``(B, …)``, or per member,
``(S, B, …)``.

Two exact rewrites keep these models cheap on a CPU (they change no result beyond float rounding):
- whatever a first layer computes from one token at one position (its embedding, LayerNorm, Q/K/V projections;
  the embedding-MLP's first-layer product) is computed once per (token, position) on a ``(V·T, ·)`` table and
  gathered per example, instead of once per example;
- the last block computes queries, attention output and MLP at the last position only: nothing else is read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models.layers import generators, init_weight


def param(w: Tensor, dtype: torch.dtype, device) -> nn.Parameter:
    return nn.Parameter(w.to(device=device, dtype=dtype, copy=True))  # never alias a shared init tensor


def gather(table: Tensor, index: Tensor) -> Tensor:
    """Rows of a per-member table (S, N, k) at ``index`` (M,) shared or (S, M) per member → (S, M, k)."""
    if index.dim() == 1:
        return table.index_select(1, index)
    s, n, k = table.shape
    # one flat row lookup: index_select is a row copy, far faster on CPU than gather with an expanded index
    offset = torch.arange(s, device=index.device).unsqueeze(1) * n
    return table.reshape(s * n, k).index_select(0, (index + offset).reshape(-1)).view(s, -1, k)


def linear(x: Tensor, w: Tensor) -> Tensor:
    """x (S, …, in) times wᵀ for w (S, out, in) as one batched GEMM per member (not one per example)."""
    s, *mid, n_in = x.shape
    return torch.bmm(x.reshape(s, -1, n_in), w.transpose(1, 2)).view(s, *mid, w.shape[1])


def sinusoidal_positions(length: int, d_model: int) -> Tensor:
    """The official code's fixed position code: sin(pos / 10000^(i/d)) at even i, cos at odd i (float64)."""
    pos = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    i = torch.arange(d_model)
    angle = pos / 10000 ** ((i - i % 2).to(torch.float64) / d_model)
    return torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle))


class EnsembleEmbeddingMLP(nn.Module):
    """S embedding-MLPs: ``[E[a], E[b]] → ReLU(W1 · + b1) → W2 · + b2``, logits over ``n_out`` classes.

    Initialisation as PyTorch's defaults: embeddings N(0, 1), linear weights and biases U(±1/√fan_in).
    """

    def __init__(
        self,
        vocab: int,
        embed: int,
        hidden: int,
        n_out: int,
        seeds: Sequence[int],
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        gens = generators(seeds)
        self.embed = param(init_weight((vocab, embed), "gaussian", gens), dtype, device)
        self.w1 = param(init_weight((hidden, 2 * embed), "uniform_fan_in", gens), dtype, device)
        self.b1 = param(
            init_weight((hidden,), "uniform_fan_in", gens, 1 / math.sqrt(2 * embed)), dtype, device
        )
        self.w2 = param(init_weight((n_out, hidden), "uniform_fan_in", gens), dtype, device)
        self.b2 = param(init_weight((n_out,), "uniform_fan_in", gens, 1 / math.sqrt(hidden)), dtype, device)

    @property
    def size(self) -> int:
        return self.embed.shape[0]

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Operands (B,) shared or (S, B) per member → logits (S, B, n_out)."""
        e = self.embed.shape[-1]
        # first layer per token: W1 [E[a]; E[b]] = (E W1aᵀ)[a] + (E W1bᵀ)[b]
        ua = torch.matmul(self.embed, self.w1[:, :, :e].transpose(1, 2))  # (S, V, hidden)
        ub = torch.matmul(self.embed, self.w1[:, :, e:].transpose(1, 2))
        h = torch.relu(gather(ua, a) + gather(ub, b) + self.b1.unsqueeze(1))  # (S, B, hidden)
        return torch.baddbmm(self.b2.unsqueeze(1), h, self.w2.transpose(1, 2))


class EnsembleTransformer(nn.Module):
    """S decoder-only transformers over token sequences of length ``seq_len``; logits at the last position.

    ``norm``: ``"post"`` (official code: ``LN(x + f(x))``), ``"pre"`` (``x + f(LN(x))`` and a final LN) or
    ``"none"``. ``causal`` masks attention to later positions (official code); the last position sees all.
    Weights follow the official modules: no biases, ``nn.Linear``'s U(±1/√fan_in), embeddings N(0, 1), MLP width
    ``d_mlp`` (the official ``4 · d_model``), unembedding to ``n_out`` classes.
    """

    def __init__(
        self,
        vocab: int,
        n_out: int,
        seq_len: int,
        d_model: int,
        heads: int,
        d_mlp: int,
        layers: int,
        seeds: Sequence[int],
        norm: str = "post",
        causal: bool = True,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not a multiple of heads {heads}")
        if norm not in ("post", "pre", "none"):
            raise ValueError(f"norm must be post, pre or none, got {norm!r}")
        self.seq_len, self.d_model, self.heads, self.n_layers = seq_len, d_model, heads, layers
        self.norm, self.causal = norm, causal
        gens = generators(seeds)
        s = len(seeds)
        ones = torch.ones(s, d_model, dtype=torch.float64)
        self.embed = param(init_weight((vocab, d_model), "gaussian", gens), dtype, device)
        self.register_buffer("pos", sinusoidal_positions(seq_len, d_model).to(device=device, dtype=dtype))
        self.wqkv, self.wo, self.w_in, self.w_out = (nn.ParameterList() for _ in range(4))
        self.ln1_w, self.ln1_b, self.ln2_w, self.ln2_b = (nn.ParameterList() for _ in range(4))
        for _ in range(layers):
            self.wqkv.append(
                param(init_weight((3 * d_model, d_model), "uniform_fan_in", gens), dtype, device)
            )
            self.wo.append(param(init_weight((d_model, d_model), "uniform_fan_in", gens), dtype, device))
            self.w_in.append(param(init_weight((d_mlp, d_model), "uniform_fan_in", gens), dtype, device))
            self.w_out.append(param(init_weight((d_model, d_mlp), "uniform_fan_in", gens), dtype, device))
            if norm != "none":
                for w, b in ((self.ln1_w, self.ln1_b), (self.ln2_w, self.ln2_b)):
                    w.append(param(ones, dtype, device))
                    b.append(param(torch.zeros_like(ones), dtype, device))
        if norm == "pre":
            self.lnf_w, self.lnf_b = (
                param(ones, dtype, device),
                param(torch.zeros_like(ones), dtype, device),
            )
        self.unembed = param(init_weight((n_out, d_model), "uniform_fan_in", gens), dtype, device)

    @property
    def size(self) -> int:
        return self.embed.shape[0]

    def _ln(self, x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        """LayerNorm over the last dim with per-member affine (S, d); x is (S, …, d)."""
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        return F.layer_norm(x, x.shape[-1:]) * w.view(shape) + b.view(shape)

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, last_only: bool) -> Tensor:
        """q (S, B, Tq, d), k/v (S, B, T, d) → (S, B, Tq, d), heads split along d.

        Written as broadcast products and matmuls with the 0/1 head-membership matrix (d, heads) rather than as
        a batch of (Tq × dk)·(dk × T) matmuls: with T = 4 positions the latter is B·S·heads tiny GEMMs, ~2×
        slower on a CPU.
        """
        d, h = q.shape[-1], self.heads
        member = torch.arange(d, device=q.device) // (d // h)
        heads = (member.unsqueeze(1) == torch.arange(h, device=q.device)).to(q.dtype)  # (d, h)
        scores = torch.matmul(q.unsqueeze(3) * k.unsqueeze(2), heads) / math.sqrt(d // h)  # (S, B, Tq, T, h)
        if self.causal and not last_only:
            t = k.shape[2]
            future = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1).unsqueeze(-1)
            scores = scores.masked_fill(future, float("-inf"))
        weights = torch.matmul(torch.softmax(scores, dim=-2), heads.T)  # (S, B, Tq, T, d)
        return (weights * v.unsqueeze(2)).sum(dim=-2)

    def _block(self, i: int, x: Tensor, qkv: Tensor | None, last_only: bool) -> Tensor:
        """Block ``i`` on x (S, B, T, d); ``qkv`` precomputed (S, B, T, 3d) or None; → (S, B, T or 1, d)."""
        d = self.d_model
        pre, post = self.norm == "pre", self.norm == "post"
        if qkv is None:
            h = self._ln(x, self.ln1_w[i], self.ln1_b[i]) if pre else x
            qkv = linear(h, self.wqkv[i])
        q, k, v = qkv.split(d, dim=-1)
        if last_only:
            q, x = q[:, :, -1:], x[:, :, -1:]
        a = linear(self._attend(q, k, v, last_only), self.wo[i])
        x = self._ln(x + a, self.ln1_w[i], self.ln1_b[i]) if post else x + a
        h = self._ln(x, self.ln2_w[i], self.ln2_b[i]) if pre else x
        m = linear(torch.relu(linear(h, self.w_in[i])), self.w_out[i])
        return self._ln(x + m, self.ln2_w[i], self.ln2_b[i]) if post else x + m

    def forward(self, tokens: Tensor) -> Tensor:
        """Token ids (B, T) shared or (S, B, T) per member → logits at the last position (S, B, n_out)."""
        s, t, d = self.size, self.seq_len, self.d_model
        if tokens.shape[-1] != t:
            raise ValueError(f"expected sequences of length {t}, got {tuple(tokens.shape)}")
        # first block's inputs per (token, position): x0 = E[token] + pos, and its Q/K/V projections
        x0 = (self.embed.unsqueeze(2) + self.pos).reshape(s, -1, d)  # (S, V·T, d)
        h0 = self._ln(x0, self.ln1_w[0], self.ln1_b[0]) if self.norm == "pre" else x0
        table = torch.cat([x0, linear(h0, self.wqkv[0])], dim=-1)  # (S, V·T, 4d)
        flat = tokens * t + torch.arange(t, device=tokens.device)  # row of (token, position)
        rows = gather(table, flat.reshape(*tokens.shape[:-2], -1))  # (S, B·T, 4d)
        rows = rows.view(s, tokens.shape[-2], t, 4 * d)
        x, qkv = rows.split([d, 3 * d], dim=-1)
        for i in range(self.n_layers):
            x = self._block(i, x, qkv if i == 0 else None, last_only=i == self.n_layers - 1)
        x = x[:, :, -1]  # (S, B, d)
        if self.norm == "pre":
            x = self._ln(x, self.lnf_w, self.lnf_b)
        return linear(x, self.unembed)


def weight_norm(params: Sequence[Tensor]) -> Tensor:
    """The L2 norm of all of a member's parameters, (S,)."""
    return torch.sqrt(sum(p.detach().pow(2).flatten(1).sum(dim=1) for p in params))
