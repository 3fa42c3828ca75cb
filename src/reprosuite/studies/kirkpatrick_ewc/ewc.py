"""Pixel-permuted tasks and the consolidation penalties: the diagonal Fisher and the quadratic (EWC / L2) anchor.

- :func:`permutations`: one fixed permutation of the input dimensions per task, task 0 the identity.
- :func:`diagonal_fisher` (the empirical Fisher: mean over examples of the squared per-example gradient of
  the log-likelihood of the true label) and :func:`quadratic_penalty` (EWC with the Fisher as importance, or an
  L2 anchor with unit importance), per member (torch; imported lazily so the numpy parts stay torch-free).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def permutations(n_tasks: int, dim: int, seed: int) -> np.ndarray:
    """(n_tasks, dim) input permutations; task 0 is the identity."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 31_337]))
    perms = [np.arange(dim)] + [rng.permutation(dim) for _ in range(n_tasks - 1)]
    return np.stack(perms)


# --- consolidation penalties (torch) ---------------------------------------------------------------------


def diagonal_fisher(model, x, y, batch_size: int = 256) -> list:
    """Empirical diagonal Fisher per member of an :class:`~reprosuite.engine.models.layers.EnsembleMLP` classifier.

    Mean over the examples of the squared per-example gradient of −log p(y|x) with respect to every weight and
    bias, as tensors shaped like the parameters (S, ...), in the order of ``model.parameters()`` (weights, then
    biases). Per-example gradients of a linear layer are outer
    products δ_b a_bᵀ of the pre-activation gradient and the layer input, so their squares sum to
    Σ_b δ_b² (a_b²)ᵀ without materialising one gradient per example.
    """
    import torch
    from torch.nn import functional as F

    weights = list(model.weights)
    biases = list(model.biases) if model.biases is not None else []
    fisher_w = [torch.zeros_like(w) for w in weights]
    fisher_b = [torch.zeros_like(b) for b in biases]
    n = x.shape[0]
    for start in range(0, n, batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        with torch.enable_grad():
            inputs, pre = [], []
            a = xb.expand(model.size, *xb.shape) if xb.dim() == 2 else xb
            for i, w in enumerate(weights):
                inputs.append(a.detach())
                z = torch.matmul(a, w.detach().transpose(-1, -2))
                if biases:
                    z = z + biases[i].detach().unsqueeze(1)
                if i == 0:
                    z.requires_grad_()  # a leaf: the later pre-activations depend on it
                pre.append(z)
                a = model.act(z) if i < len(weights) - 1 else z
            s, b, c = a.shape
            nll = F.cross_entropy(a.reshape(s * b, c), yb.expand(s, b).reshape(-1), reduction="sum")
            grads = torch.autograd.grad(nll, pre)
        with torch.no_grad():
            for i, (delta, inp) in enumerate(zip(grads, inputs, strict=True)):
                fisher_w[i] += torch.einsum("sbo,sbi->soi", delta**2, inp**2)
                if biases:
                    fisher_b[i] += (delta**2).sum(dim=1)
    return [f / n for f in fisher_w] + [f / n for f in fisher_b]  # the order of model.parameters()


def quadratic_penalty(params: Sequence, anchors: Sequence, importance: Sequence, strength) -> object:
    """Per-member Σ_i strength_s/2 · F_i (θ_i − θ*_i)² over parameters (S, ...); (S,) tensor.

    EWC: ``importance`` = the diagonal Fisher at the anchor; L2 anchor: ones; plain SGD: strength 0.
    """
    import torch

    total = None
    for p, a, f in zip(params, anchors, importance, strict=True):
        term = (f * (p - a) ** 2).flatten(1).sum(dim=1)
        total = term if total is None else total + term
    strength = torch.as_tensor(strength, dtype=total.dtype, device=total.device)
    return 0.5 * strength * total


def consolidate(previous, anchor: Sequence, importance: Sequence) -> tuple[list, list]:
    """One quadratic with the gradient of a sum of them: Σ_k F_k (θ − θ*_k)² = F (θ − θ̄)² + const with
    F = Σ_k F_k and θ̄ = Σ_k F_k θ*_k / F (θ*_k where F = 0), so each step pays for one penalty however many
    tasks are anchored. ``previous`` is the (anchor, importance) pair so far, or None."""
    import torch

    if previous is None:
        return list(anchor), list(importance)
    merged_a, merged_f = [], []
    for a0, f0, a, f in zip(*previous, anchor, importance, strict=True):
        total = f0 + f
        mean = torch.where(total > 0, (f0 * a0 + f * a) / torch.where(total > 0, total, 1.0), a)
        merged_a.append(mean)
        merged_f.append(total)
    return merged_a, merged_f
