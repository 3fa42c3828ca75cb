"""The one-hidden-layer MLP of the official code and the group-composition-via-representations (GCR) measures.

Model (official ``utils/models.OneLayerMLP``): untied embeddings W_x, W_y (|G|×E), concatenated, W (2E×H),
ReLU, W_U (H×|G|), no biases, init randn/√fan_in. Stacked over S seeds (a leading member dimension), and
computed in the factored form ``relu((W_x W[:E])[a] + (W_y W[E:])[b]) W_U`` (the same function, without the
2E×H product per pair).

Measures (official ``utils/metrics.py``), per seed, with the projector of irrep ρ onto the span of its matrix
coefficients written (d/|G|) χ(x y⁻¹) (:mod:`reprosuite.engine.analysis.groups`):

- logit similarity (``logit_trace_similarity``): cosine between the logits on all |G|² pairs, centred over the
  answer c, and the cube χ_ρ(a b c⁻¹); computed through the fibre sums over ab = g, never forming the cube;
- embedding / unembedding FVE (``percent_total_embed``, ``percent_unembed``): ‖P_ρ X‖² / ‖X‖² for X = W_x W[:E],
  W_y W[E:] (over the input element) and W_Uᵀ (over the answer);
- restricted / excluded loss (``total_hidden_excluded_and_restricted_loss``): the hidden layer projected onto the
  functions f(ab) with f in the chosen irreps' span (fibre average over ab = g, then P), unembedded; the loss of
  the projection on all pairs, and of the remainder on the training pairs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

CHUNK = 2**25  # elements of one (S, pairs, |G|) logits chunk in evaluation


def init_params(seeds: list[int], order: int, embed: int, hidden: int, device) -> list[torch.Tensor]:
    """W_x, W_y (S, |G|, E), W[:E], W[E:] (S, E, H), W_U (S, H, |G|): randn/√fan_in as the official init (W drawn
    whole, 2E×H, and kept as its two halves, which saves the slicing in every backward pass)."""
    out = [[], [], [], [], []]
    for s in seeds:
        gen = torch.Generator().manual_seed(int(s))
        wx = torch.randn((order, embed), generator=gen) / math.sqrt(embed)
        wy = torch.randn((order, embed), generator=gen) / math.sqrt(embed)
        w = torch.randn((2 * embed, hidden), generator=gen) / math.sqrt(2 * embed)
        wu = torch.randn((hidden, order), generator=gen) / math.sqrt(hidden)
        for i, t in enumerate((wx, wy, w[:embed], w[embed:], wu)):
            out[i].append(t)
    return [torch.stack(ts).contiguous().to(device).requires_grad_(True) for ts in out]


def embeds(params) -> tuple[torch.Tensor, torch.Tensor]:
    """The total embeddings W_x W[:E] and W_y W[E:], each (S, |G|, H)."""
    wx, wy, w1, w2, _ = params
    return wx @ w1, wy @ w2


def hidden_of(params, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """ReLU hidden layer (S, N, H) for pairs ``a``, ``b`` ((N,) shared or (S, N) per seed)."""
    xa, yb = embeds(params)
    rows = torch.arange(xa.shape[0], device=xa.device)[:, None]
    if a.dim() == 1:
        return torch.relu(xa[:, a] + yb[:, b])
    return torch.relu(xa[rows, a] + yb[rows, b])


def all_pairs_logits(params) -> torch.Tensor:
    """Logits on all |G|² pairs in row-major (a, b) order, (S, |G|², |G|), by broadcasting (no gather)."""
    xa, yb = embeds(params)
    s, n, h = xa.shape
    return torch.relu(xa[:, :, None] + yb[:, None]).reshape(s, n * n, h) @ params[-1]


def logits_of(params, a, b) -> torch.Tensor:
    return hidden_of(params, a, b) @ params[-1]


def _chunks(n_pairs: int, members: int, order: int):
    step = max(1, CHUNK // max(1, members * order))
    for lo in range(0, n_pairs, step):
        yield slice(lo, min(n_pairs, lo + step))


def evaluate_all(params, a, b, c, is_train, cubes: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Losses and accuracies (train/test) and the logit similarity to each cube K_ρ[g, c] = χ_ρ(g c⁻¹), from
    the logits on all pairs in chunks. ``a, b, c`` (N,) all pairs (c = ab), ``is_train`` (S, N) float."""
    s, order = params[0].shape[0], params[-1].shape[-1]
    n = a.shape[0]
    loss = torch.zeros(s, n, dtype=torch.float64, device=a.device)
    correct = torch.zeros(s, n, dtype=torch.float64, device=a.device)
    fibre = torch.zeros(s, order, order, dtype=torch.float64, device=a.device)  # Σ_{ab=g} centred logits
    norm2 = torch.zeros(s, dtype=torch.float64, device=a.device)
    for sl in _chunks(n, s, order):
        lg = logits_of(params, a[sl], b[sl]).double()
        loss[:, sl] = -torch.log_softmax(lg, -1).gather(-1, c[sl].expand(s, -1)[..., None])[..., 0]
        correct[:, sl] = (lg.argmax(-1) == c[sl]).double()
        centred = lg - lg.mean(-1, keepdim=True)
        norm2 += centred.pow(2).sum((1, 2))
        fibre.index_add_(1, c[sl], centred)
    out = {}
    for split, w in (("train", is_train), ("test", 1 - is_train)):
        out[f"{split}_loss"] = (loss * w).sum(1) / w.sum(1).clamp_min(1)
        out[f"{split}_acc"] = (correct * w).sum(1) / w.sum(1).clamp_min(1)
    out["all_loss"] = loss.mean(1)
    for i, k in enumerate(cubes):
        out[f"sim_{i}"] = _cosine(fibre, norm2, k)
    return out


def _cosine(fibre: torch.Tensor, norm2: torch.Tensor, cube: torch.Tensor) -> torch.Tensor:
    """cos(centred logits, χ(abc⁻¹)) from the fibre sums over ab = g and the centred logits' squared norm."""
    order = cube.shape[0]
    cube_norm = math.sqrt(order) * float(cube.pow(2).sum().sqrt())  # ‖χ(abc⁻¹)‖ over all (a, b, c)
    return (fibre * cube).sum((1, 2)) / (norm2.sqrt() * cube_norm).clamp_min(1e-12)


def logit_similarity(logits: torch.Tensor, c: torch.Tensor, cube: torch.Tensor) -> torch.Tensor:
    """Official ``logit_trace_similarity`` of logits (S, |G|², |G|) on all pairs (answers ``c``) with the cube
    K[g, c'] = χ(g c'⁻¹), per seed (the same computation as :func:`evaluate_all`'s, in one piece)."""
    lg = logits.double()
    centred = lg - lg.mean(-1, keepdim=True)
    fibre = torch.zeros(lg.shape[0], cube.shape[0], cube.shape[0], dtype=torch.float64)
    fibre.index_add_(1, c, centred)
    return _cosine(fibre, centred.pow(2).sum((1, 2)), cube.double())


def fve(x: torch.Tensor, projectors: list[torch.Tensor]) -> list[torch.Tensor]:
    """‖P_ρ X‖² / ‖X‖² per projector, X (S, |G|, H) over its group index: a list of (S,)."""
    x = x.double()
    total = x.pow(2).sum((1, 2))
    return [(p @ x).pow(2).sum((1, 2)) / total for p in projectors]


def restricted_excluded(
    params, a, b, c, is_train, projector: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(restricted loss on all pairs, excluded loss on the training pairs), per seed, for a per-seed projector
    (S, |G|, |G|) onto a sum of irreps' spans: the hidden layer restricted to the functions f(ab), f in that span."""
    s, order = params[0].shape[0], params[-1].shape[-1]
    n = a.shape[0]
    hid = hidden_of(params, a, b).double()  # (S, N, H)
    mean = torch.zeros(s, order, hid.shape[-1], dtype=torch.float64, device=a.device)
    mean.index_add_(1, c, hid)
    mean /= n / order  # fibre average over ab = g (each fibre has |G| pairs)
    part = projector.double() @ mean  # (S, |G|, H)
    w_u = params[-1].double()
    restricted = torch.zeros(s, dtype=torch.float64, device=a.device)
    excluded = torch.zeros(s, dtype=torch.float64, device=a.device)
    for sl in _chunks(n, s, order):
        kept = part[:, c[sl]]
        for target, h, w in ((restricted, kept, None), (excluded, hid[:, sl] - kept, is_train[:, sl])):
            ce = -torch.log_softmax(h @ w_u, -1).gather(-1, c[sl].expand(s, -1)[..., None])[..., 0]
            target += ce.sum(1) if w is None else (ce * w).sum(1)
    return restricted / n, excluded / is_train.sum(1)


def key_mask(sims: np.ndarray, threshold: float) -> np.ndarray:
    """Official ``determine_key_reps``: irrep key where its final logit similarity exceeds ``threshold``."""
    return np.asarray(sims) > threshold


def gcr_logits(group, irreps, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hand-built GCR logits Σ_ρ χ_ρ(a b c⁻¹) over ``irreps`` for pairs ``a, b``: (N, |G|)."""
    ab = group.table[a, b]
    return sum(group.character_cube(r)[ab] for r in irreps)


def sq_weights(params) -> torch.Tensor:
    return sum(p.detach().double().pow(2).sum(tuple(range(1, p.dim()))) for p in params)
