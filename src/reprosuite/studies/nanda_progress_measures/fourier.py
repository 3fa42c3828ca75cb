"""Fourier progress measures of modular addition (Nanda et al. 2023, arXiv:2301.05217), for ensembles.

Definitions follow the official code (mechanistic-interpretability-grokking/progress-measures-paper, read through
the code search tool): ``transformers.py`` (``make_fourier_basis``, ``calculate_key_freqs``,
``calculate_excluded_loss``, ``calculate_trig_loss``) and ``helpers.py`` (``fft2d``, ``extract_freq_2d``,
``get_component_cos_xpy``/``get_component_sin_xpy``, ``test_logits`` with its bias correction), and the analysis
notebook that draws the paper's figures (``calculate_excluded_loss_2D_full``, ``trig_loss``,
``get_fourier_embedding``; ``neuron_explanation`` over the 8 linear and quadratic terms of each frequency).

- Fourier basis of Z_p (odd p): rows ``1/√p``, then ``cos(2πkx/p)``, ``sin(2πkx/p)`` for k = 1 … p//2, each of unit
  norm (an orthonormal basis, so Parseval holds).
- Embedding spectrum: the norm over d_model of each Fourier component of W_E restricted to the p number tokens.
- Key frequencies: each MLP neuron at the last position, centred over all p² inputs and taken to the 2D Fourier
  basis, gets the frequency k whose linear terms (const ⊗ cos k, const ⊗ sin k, both orders) and quadratic terms
  (cos/sin k ⊗ cos/sin k) explain the largest fraction of its variance; the key frequencies are the distinct
  frequencies of all neurons (official ``np.unique(neuron_freqs)``).
- The directions of ``cos(w_k(a+b))`` and ``sin(w_k(a+b))`` in R^{p²}:
  (cos_k ⊗ cos_k − sin_k ⊗ sin_k)/√2 and (sin_k ⊗ cos_k + cos_k ⊗ sin_k)/√2, unit vectors.
- Restricted loss: logits (p², p) projected onto the key frequencies' directions, plus the bias correction
  ``mean_batch(original) − mean_batch(projected)``; cross-entropy over all p² inputs (``trig_loss``, mode "all").
- Excluded loss: logits minus those projections (no bias correction); cross-entropy over the training inputs
  (``excluded_loss_2D_full``).

Inputs are ensembles: a leading member dimension S everywhere; the p² inputs are ordered row-major over (a, b).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from reprosuite.engine.models.transformer import EnsembleTransformer, gather, linear


def fourier_basis(p: int, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
    """The official orthonormal Fourier basis of Z_p, (p, p): rows const, cos 1, sin 1, …, cos p//2, sin p//2."""
    if p < 3 or p % 2 == 0:
        raise ValueError(f"the Fourier basis is defined here for odd p ≥ 3, got {p}")
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p, dtype=torch.float64)]
    for k in range(1, p // 2 + 1):
        rows += [torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)]
    basis = torch.stack(rows)
    basis = basis / basis.norm(dim=1, keepdim=True)
    return basis.to(dtype=dtype, device=device)


def component_names(p: int) -> list[str]:
    return ["const"] + [f"{t} {k}" for k in range(1, p // 2 + 1) for t in ("cos", "sin")]


def embedding_component_norms(embed: Tensor, p: int) -> Tensor:
    """Norms of the Fourier components of the number-token embeddings: embed (S, V ≥ p, d) → (S, p).

    Official notebook ``get_fourier_embedding``: ``(W_E[:, :-1] @ fourier_basis.T).norm(dim=0)``.
    """
    basis = fourier_basis(p, embed.dtype, embed.device)
    return torch.matmul(basis, embed[:, :p]).norm(dim=-1)


def frequency_energy(component_norms: Tensor) -> Tensor:
    """Squared norm per frequency k = 1 … p//2 (its cos and sin components together): (S, p) → (S, p//2)."""
    sq = component_norms[..., 1:].pow(2)
    return sq[..., 0::2] + sq[..., 1::2]


def fft2d(acts: Tensor, p: int) -> Tensor:
    """Activations over all inputs (S, p², n) → their 2D Fourier transform (S, p, p, n) (official ``fft2d``)."""
    basis = fourier_basis(p, acts.dtype, acts.device)
    s, _, n = acts.shape
    grid = acts.reshape(s, p, p, n)
    return torch.einsum("sxyn,fx,gy->sfgn", grid, basis, basis)


def neuron_frequencies(neurons: Tensor, p: int) -> tuple[Tensor, Tensor]:
    """Each neuron's frequency and the fraction of its variance it explains: neurons (S, p², n) → (S, n) twice.

    Frequencies are 1 … p//2; a neuron that never varies over the inputs (a dead ReLU) gets frequency 0 and
    fraction 0 (the official code divides by its zero variance and gets NaN).
    """
    centred = neurons - neurons.mean(dim=1, keepdim=True)
    four = fft2d(centred, p)  # (S, p, p, n)
    total = four.pow(2).sum(dim=(1, 2))  # (S, n)
    fracs = []
    for k in range(1, p // 2 + 1):
        c, s_ = 2 * k - 1, 2 * k
        linear = four[:, 0, [c, s_]].pow(2).sum(1) + four[:, [c, s_], 0].pow(2).sum(1)
        quad = four[:, [c, s_]][:, :, [c, s_]].pow(2).sum(dim=(1, 2))
        fracs.append((linear + quad) / total.clamp_min(1e-30))
    frac = torch.stack(fracs, dim=1)  # (S, p//2, n)
    best, idx = frac.max(dim=1)
    alive = total > 0
    return torch.where(alive, idx + 1, torch.zeros_like(idx)), torch.where(
        alive, best, torch.zeros_like(best)
    )


def key_frequency_mask(neurons: Tensor, p: int) -> Tensor:
    """Key frequencies of each member as a bool mask over k = 1 … p//2, (S, p//2): the distinct frequencies of its
    neurons (dead neurons, frequency 0, left out)."""
    freqs, _ = neuron_frequencies(neurons, p)
    mask = torch.zeros(freqs.shape[0], p // 2 + 1, dtype=torch.bool, device=neurons.device)
    mask.scatter_(1, freqs, True)
    return mask[:, 1:]


def xpy_directions(p: int, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
    """Unit directions of cos(w_k(a+b)) and sin(w_k(a+b)) in R^{p²}, (p//2, 2, p²), k = 1 … p//2."""
    basis = fourier_basis(p, dtype, device)
    out = []
    for k in range(1, p // 2 + 1):
        c, s = basis[2 * k - 1], basis[2 * k]
        cos_dir = (torch.outer(c, c) - torch.outer(s, s)).flatten() / math.sqrt(2)
        sin_dir = (torch.outer(s, c) + torch.outer(c, s)).flatten() / math.sqrt(2)
        out.append(torch.stack([cos_dir, sin_dir]))
    return torch.stack(out)


def key_component(logits: Tensor, mask: Tensor, directions: Tensor) -> Tensor:
    """The part of logits (S, p², C) along the (a+b) directions of the masked frequencies (S, p//2) → (S, p², C)."""
    coef = torch.einsum("kjn,snc->skjc", directions, logits)  # (S, p//2, 2, C)
    coef = coef * mask[:, :, None, None].to(coef.dtype)
    return torch.einsum("kjn,skjc->snc", directions, coef)


def _ce(logits: Tensor, labels: Tensor, weight: Tensor | None) -> Tensor:
    s, n, c = logits.shape
    loss = F.cross_entropy(logits.reshape(s * n, c), labels.expand(s, n).reshape(-1), reduction="none")
    loss = loss.view(s, n)
    if weight is None:
        return loss.mean(dim=1)
    return (loss * weight).sum(dim=1) / weight.sum(dim=1)


def restricted_loss(logits: Tensor, labels: Tensor, mask: Tensor, weight: Tensor | None = None) -> Tensor:
    """Cross-entropy of the logits restricted to the key frequencies (with bias correction), (S,).

    logits (S, p², p) over all inputs in row-major (a, b) order; labels (p²,); ``weight`` (S, p²) selects inputs
    (official: all of them).
    """
    p = logits.shape[-1]
    directions = xpy_directions(p, logits.dtype, logits.device)
    trig = key_component(logits, mask, directions)
    trig = trig + (logits.mean(dim=1, keepdim=True) - trig.mean(dim=1, keepdim=True))
    return _ce(trig, labels, weight)


def excluded_loss(logits: Tensor, labels: Tensor, mask: Tensor, weight: Tensor | None) -> Tensor:
    """Cross-entropy of the logits with the key frequencies' (a+b) components removed, (S,) (official: train set)."""
    p = logits.shape[-1]
    directions = xpy_directions(p, logits.dtype, logits.device)
    return _ce(logits - key_component(logits, mask, directions), labels, weight)


def forward_with_neurons(model: EnsembleTransformer, tokens: Tensor) -> tuple[Tensor, Tensor]:
    """A one-layer transformer without LayerNorm on tokens (B, T) or (S, B, T) → (logits, MLP neurons at the last
    position) of shapes (S, B, n_out) and (S, B, d_mlp). The logits equal ``model(tokens)``."""
    if model.n_layers != 1 or model.norm != "none":
        raise ValueError("forward_with_neurons needs a one-layer transformer without LayerNorm")
    s, t, d = model.size, model.seq_len, model.d_model
    if tokens.shape[-1] != t:
        raise ValueError(f"expected sequences of length {t}, got {tuple(tokens.shape)}")
    x0 = (model.embed.unsqueeze(2) + model.pos).reshape(s, -1, d)  # (S, V·T, d)
    flat = tokens * t + torch.arange(t, device=tokens.device)
    x = gather(x0, flat.reshape(*tokens.shape[:-2], -1)).view(s, tokens.shape[-2], t, d)
    q, k, v = linear(x, model.wqkv[0]).split(d, dim=-1)
    x = x[:, :, -1:] + linear(model._attend(q[:, :, -1:], k, v, last_only=True), model.wo[0])
    neurons = torch.relu(linear(x, model.w_in[0]))
    x = x + linear(neurons, model.w_out[0])
    return linear(x[:, :, -1], model.unembed), neurons[:, :, -1]


def forward_fixed_last(
    model: EnsembleTransformer, first: Tensor, second: Tensor, last: int
) -> tuple[Tensor, Tensor]:
    """The same logits and neurons as :func:`forward_with_neurons` for sequences ``first second last`` with a fixed
    last token (``a b =``), computed cheaply: (S, B, n_out) and (S, B, d_mlp).

    An exact rewrite for a one-layer model without LayerNorm read at position 2: the query and the residual stream
    at that position do not depend on the input, so the attention scores and values of positions 0 and 1 are
    per-token tables (S, V, heads) and (S, V, d) gathered per example, and only the MLP runs per example.
    ``first``/``second`` are token ids (B,) shared or (S, B) per member.
    """
    if model.n_layers != 1 or model.norm != "none" or model.seq_len != 3:
        raise ValueError("forward_fixed_last needs a one-layer, three-token transformer without LayerNorm")
    d, h = model.d_model, model.heads
    wq, wk, wv = model.wqkv[0].split(d, dim=1)  # (S, d, d) each
    x = model.embed.unsqueeze(2) + model.pos  # (S, V, T, d)
    x2 = x[:, last, 2]  # (S, d): the residual stream at "="
    q = torch.matmul(wq, x2.unsqueeze(-1)).squeeze(-1)  # (S, d)
    member = torch.arange(d, device=q.device) // (d // h)
    heads = (member.unsqueeze(1) == torch.arange(h, device=q.device)).to(q.dtype)  # (d, h)
    k = torch.matmul(x, wk.transpose(1, 2).unsqueeze(1))  # (S, V, T, d)
    v = torch.matmul(x, wv.transpose(1, 2).unsqueeze(1))
    score = torch.matmul(k * q[:, None, None, :], heads) / math.sqrt(d // h)  # (S, V, T, h)
    table = torch.cat([score, v], dim=-1)  # (S, V, T, h + d)
    g0 = gather(table[:, :, 0], first)  # (S, B, h + d)
    g1 = gather(table[:, :, 1], second)
    s2, v2 = table[:, last, 2].split([h, d], dim=-1)  # (S, h), (S, d)
    s0, v0 = g0.split([h, d], dim=-1)
    s1, v1 = g1.split([h, d], dim=-1)
    w = torch.softmax(torch.stack([s0, s1, s2.unsqueeze(1).expand_as(s0)], dim=-1), dim=-1)  # (S, B, h, 3)
    w = torch.matmul(w.transpose(-1, -2), heads.T)  # (S, B, 3, d)
    z = w[:, :, 0] * v0 + w[:, :, 1] * v1 + w[:, :, 2] * v2.unsqueeze(1)  # (S, B, d)
    resid = x2.unsqueeze(1) + linear(z, model.wo[0])
    neurons = torch.relu(linear(resid, model.w_in[0]))
    resid = resid + linear(neurons, model.w_out[0])
    return linear(resid, model.unembed), neurons


def sum_squared_weights(params) -> Tensor:
    """Sum of squared parameters per member, (S,) (official ``sum_sq_weights``, summed over parameters)."""
    return sum(p.detach().pow(2).flatten(1).sum(dim=1) for p in params)
