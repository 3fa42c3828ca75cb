"""Spawn-and-perturb training of stacked copies (torch; imported inside ``train``).

One stacked model holds, for every seed, a parent and its children. All members of a seed start from the same
initialisation and see the same minibatch order, so a child equals its parent bit for bit until its spawn step,
where a perturbation δ is added to its weights before that step's update (``lmc/experiment/perturb.py`` of the
official code applies it at ``perturb_step`` the same way). After training, each child is compared with its
parent by the loss barrier along the straight line between them (:mod:`reprosuite.engine.analysis.lmc`).

Perturbations follow ``lmc/butterfly/butterfly.py`` (``get_gaussian_noise``, ``scale_noise`` with
``normalize_perturb=false``, ``mask_noise``): Gaussian noise with each layer's initialisation standard deviation,
times σ; a single-weight perturbation keeps one entry chosen uniformly over all perturbed entries. Only the
weight matrices are perturbed (biases excluded; the LayerNorms carry no parameters).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from reprosuite.engine.analysis import lmc
from reprosuite.engine.models import layers

NOISE_STREAM = 52_361  # tags the perturbation streams, apart from initialisation and data order


def init_std(fan_in: int) -> float:
    """The standard deviation of PyTorch's default ``nn.Linear`` weight init U(−1/√fan_in, 1/√fan_in)."""
    return 1.0 / math.sqrt(3.0 * fan_in)


def triangle(step: int, steps: int, warmup: float) -> float:
    """The triangle schedule's lr factor: linear warm-up over ``warmup`` of the steps, then linear decay to 0."""
    w = max(1, round(warmup * steps))
    if step < w:
        return (step + 1) / w
    return max(0.0, (steps - step) / max(1, steps - w))


class LNMLP(torch.nn.Module):
    """Stacked MLPs ``in → hidden… → out``: Linear → LayerNorm (no affine) → ReLU per hidden layer."""

    def __init__(self, sizes, member_seeds, device):
        super().__init__()
        self.net = layers.EnsembleMLP(
            sizes, member_seeds, init="uniform_fan_in", bias_init="uniform", device=device
        )
        self.sizes = tuple(sizes)

    @property
    def weights(self) -> list[Tensor]:
        return list(self.net.weights)

    def params(self) -> list[Tensor]:
        return [*self.net.weights, *self.net.biases]

    def forward(self, x: Tensor, params: list[Tensor] | None = None) -> Tensor:
        """x (B, in) common to all members or (S, B, in) → logits (S, B, out); ``params`` overrides the weights and biases."""
        ps = params if params is not None else self.params()
        n = len(self.sizes) - 1
        ws, bs = ps[:n], ps[n:]
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            x = torch.baddbmm(b.unsqueeze(1), x.expand(w.shape[0], *x.shape[-2:]), w.transpose(1, 2))
            if i < n - 1:
                x = torch.relu(F.layer_norm(x, (x.shape[-1],)))
        return x


def perturbations(sizes, roles: list[dict], member_seeds: list[int]) -> list[Tensor]:
    """δ per weight matrix, stacked over members (S, out, in), float64 on CPU: zero for parents and shams.

    Member m draws from its own stream (seed, role index), so a seed's children are independent draws and a
    resumed run draws the same δ.
    """
    shapes = [(o, i) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    total = sum(o * i for o, i in shapes)
    out = [torch.zeros(len(roles), o, i, dtype=torch.float64) for o, i in shapes]
    for m, (role, seed) in enumerate(zip(roles, member_seeds, strict=True)):
        if role["kind"] == "none" or role["sigma"] == 0:
            continue
        state = np.random.SeedSequence([int(seed), NOISE_STREAM, int(role["index"])]).generate_state(1)[0]
        g = torch.Generator().manual_seed(int(state))
        noise = [init_std(i) * torch.randn(o, i, generator=g, dtype=torch.float64) for o, i in shapes]
        if role["kind"] == "one":  # mask_noise: keep one entry, uniform over all perturbed entries
            flat = torch.zeros(total, dtype=torch.float64)
            flat[int(torch.randint(total, (1,), generator=g))] = 1.0
            masks = torch.split(flat, [o * i for o, i in shapes])
            noise = [n * k.view_as(n) for n, k in zip(noise, masks, strict=True)]
        for layer, n in enumerate(noise):
            out[layer][m] = role["sigma"] * n
    return out


def member_ce(model: LNMLP, params, x: Tensor, y: Tensor, chunk: int = 1024) -> tuple[Tensor, Tensor]:
    """Mean cross-entropy and error per member (S,) over the examples x (N, in) common to all members, in chunks."""
    ce = err = 0.0
    for a in range(0, x.shape[0], chunk):
        logits = model(x[a : a + chunk], params)
        s, b, c = logits.shape
        ce = ce + F.cross_entropy(
            logits.reshape(s * b, c), y[a : a + chunk].repeat(s), reduction="none"
        ).view(s, b).sum(1)
        err = err + (logits.argmax(-1) != y[a : a + chunk]).sum(1).to(logits.dtype)
    return ce / x.shape[0], err / x.shape[0]


def barriers(model: LNMLP, parent_of: Tensor, x: Tensor, y: Tensor, points: int) -> dict[str, Tensor]:
    """Per member: the train-CE and train-error interpolation curves to its seed's parent (S, A) and their
    barriers; a parent's curve is flat (itself to itself)."""
    theta = [p.detach() for p in model.params()]
    parents = [p[parent_of] for p in theta]
    alphas = lmc.alpha_grid(points)
    curves = [member_ce(model, lmc.interpolate(parents, theta, float(a)), x, y) for a in alphas]
    ce = torch.stack([c for c, _ in curves], -1).double()
    err = torch.stack([e for _, e in curves], -1).double()
    return {
        "ce_curve": ce,
        "err_curve": err,
        "barrier_ce": lmc.barrier(alphas, ce),
        "barrier_err": lmc.barrier(alphas, err),
    }


def distance(model: LNMLP, parent_of: Tensor) -> tuple[Tensor, Tensor]:
    """Per member: ‖θ − θ_parent‖ over all parameters, raw and divided by ‖θ_parent‖."""
    theta = [p.detach().double() for p in model.params()]
    sq = sum(((p - p[parent_of]) ** 2).flatten(1).sum(1) for p in theta)
    norm = sum((p[parent_of] ** 2).flatten(1).sum(1) for p in theta)
    return sq.sqrt(), sq.sqrt() / norm.sqrt()
