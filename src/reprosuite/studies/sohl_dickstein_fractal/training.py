"""Trainability landscapes over (layer-1 lr, layer-2 lr) grids (Sohl-Dickstein 2024, arXiv:2402.06184).

Follows the official code (Sohl-Dickstein/fractal, ``the_boundary_of_neural_network_trainability_is_fractal.ipynb``,
cells ``net``/``init``/``loss``/``train_step``/``convergence_measure``/``gen_img``):

* network, mean-field parametrisation: ``h = φ(x W₁ / √w)``, ``f = h W₂ / √w / √w`` (the last layer's
  pre-activation divided once more by √w), with φ = ``tanh(√2 z)``, ``√2 relu(z)`` or identity; input dimension
  = width ``w``, one output, weights ``N(0, 1)``, no biases;
* data: ``x ~ N(0, 1)`` of shape (n, w) and targets ``y ~ N(0, 1)`` with n = #params = w² + w (n = w for the
  identity network), full-batch gradient descent on the mean squared error, float64, a separate learning rate
  per layer (``hparams[i]`` for layer i);
* the loss before each update is recorded; the convergence measure of a trajectory is the official one:
  non-finite losses become 1e6, losses are divided by the first and clipped at 1e6, the run *converged* when
  the mean of the last 20 normalised losses is below 1, and the measure is ``-Σ v`` if converged, ``Σ 1/v``
  otherwise (negative = trainable, positive = diverged).

Every grid pixel is one member of a batched computation: member m has its own (lr₁, lr₂) and its own copy of
the weights. The first layer of all members is one GEMM, ``x (n, w) @ W₁ (w, M·w)``, and its gradient another,
``xᵀ (w, n) @ δ (n, M·w)``; the second layer is an elementwise product-and-sum. Gradients are written out by
hand (no autograd); :func:`train_pixels_reference` is the plain per-pixel autograd loop they are tested against.
Members are processed in chunks of at most ``max_elements`` activations (n·M·w) to bound memory.

Initial weights and data are arrays given by the caller (the study draws them with numpy per seed; the official
notebook uses ``jax.random.PRNGKey(0)`` for a single draw).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

NONLINEARITIES = ("tanh", "relu", "identity")
MAX_VAL = 1e6  # official convergence_measure(max_val=1e6)
TAIL = 20  # official: mean of the last 20 normalised losses


@dataclass(frozen=True)
class Problem:
    """One draw of data and initial weights: x (n, w), y (n, 1), w1 (w, w), w2 (w, 1), all float64."""

    x: Tensor
    y: Tensor
    w1: Tensor
    w2: Tensor
    nonlinearity: str
    # the network linearised around its initial weights (a model whose loss is quadratic in the weights)
    linearised: bool = False

    @property
    def width(self) -> int:
        return self.w1.shape[0]


def n_data(width: int, nonlinearity: str) -> int:
    """Number of training points: #params = w² + w (official), or w for the identity network."""
    return width if nonlinearity == "identity" else width * width + width


def make_problem(
    x, y, w1, w2, nonlinearity: str, n_points: int | None = None, device="cpu", linearised: bool = False
) -> Problem:
    """A :class:`Problem` from arrays (numpy or torch): the first ``n_points`` rows of x, y are the data
    (default :func:`n_data`); ``linearised`` trains the network's first-order Taylor model at its initial
    weights instead (:func:`_train_chunk_linearised`)."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; expected one of {NONLINEARITIES}")
    w = len(w1)
    n = n_data(w, nonlinearity) if n_points is None else n_points
    if len(x) < n:
        raise ValueError(f"{len(x)} data points given, {n} needed")
    t = [torch.as_tensor(a, dtype=torch.float64).to(device) for a in (x[:n], y[:n], w1, w2)]
    return Problem(t[0], t[1].reshape(n, 1), t[2], t[3].reshape(w, 1), nonlinearity, linearised)


def convergence_measure(losses: Tensor) -> tuple[Tensor, Tensor]:
    """Official measure of loss trajectories (T, M) → (measure (M,), converged (M,) bool)."""
    v = torch.where(torch.isfinite(losses), losses, torch.full_like(losses, MAX_VAL))
    v = v / v[0]
    v = torch.where(v > MAX_VAL, torch.full_like(v, MAX_VAL), v)
    converged = v[-TAIL:].mean(0) < 1
    measure = torch.where(converged, -v.sum(0), (1.0 / v).sum(0))
    return measure, converged


def _train_chunk(problem: Problem, lr1: Tensor, lr2: Tensor, steps: int, tick: Callable[[], None]) -> Tensor:
    """Losses (steps, M) of M members trained in lock-step from the same initial weights.

    Scales are folded into the stored first layer, ``U = c·W₁`` with ``c = √2/√w`` (tanh) or ``1/√w``, so the
    hidden layer is ``φ̃(x U)`` with φ̃ = tanh, relu or identity, and the readout ``a·Σ h W₂`` with
    ``a = √2/w`` (relu) or ``1/w``; the W₁ update ``W₁ -= η₁ ∇W₁`` becomes ``U -= η₁ c² xᵀ ∂L/∂(xU)``.
    Buffers are preallocated and updated in place: the step is memory-bound.
    """
    x, y = problem.x, problem.y
    n, w = x.shape
    m = lr1.shape[0]
    nl = problem.nonlinearity
    c = (math.sqrt(2.0) if nl == "tanh" else 1.0) / math.sqrt(w)
    a = (math.sqrt(2.0) if nl == "relu" else 1.0) / w
    u = (problem.w1 * c)[:, None, :].expand(w, m, w).reshape(w, m * w).contiguous()  # (in, member·out)
    w2 = problem.w2[:, 0].expand(m, w).contiguous()  # (member, hidden)
    lr_u = (lr1 * c * c)[:, None].expand(m, w).reshape(m * w).contiguous()
    lr_w2 = lr2[:, None].contiguous()
    xt = x.t().contiguous()
    hid = torch.empty(n, m * w, dtype=x.dtype, device=x.device)
    tmp = torch.empty(n, m, w, dtype=x.dtype, device=x.device)
    grad_u = torch.empty(w, m * w, dtype=x.dtype, device=x.device)
    losses = torch.empty(steps, m, dtype=x.dtype, device=x.device)
    h = hid.view(n, m, w)
    for step in range(steps):
        torch.mm(x, u, out=hid)
        if nl == "tanh":
            hid.tanh_()
        elif nl == "relu":
            mask = hid > 0
            hid.clamp_(min=0)
        torch.mul(h, w2, out=tmp)
        r = tmp.sum(-1) * a - y  # (n, m)
        losses[step] = (r * r).mean(0)
        g = (r * (2.0 * a / n)).unsqueeze(-1)  # ∂L/∂(h·W₂) per unit, (n, m, 1)
        torch.mul(h, g, out=tmp)
        grad2 = tmp.sum(0)  # (m, w)
        torch.mul(w2, g, out=tmp)  # ∂L/∂h
        if nl == "tanh":  # ∂L/∂z = ∂L/∂h (1 − h²)
            h.mul_(h).mul_(tmp)
            tmp.sub_(h)
        elif nl == "relu":
            tmp.mul_(mask.view(n, m, w))
        torch.mm(xt, tmp.view(n, m * w), out=grad_u)
        u.addcmul_(grad_u, lr_u, value=-1.0)
        w2.addcmul_(grad2, lr_w2, value=-1.0)
        tick()
    return losses


def _forward(problem: Problem, w1: Tensor, w2: Tensor) -> Tensor:
    """The official network's output (n,) at weights (w1, w2)."""
    h = problem.x
    for layer in (w1, w2):
        z = h @ layer / math.sqrt(layer.shape[0])
        if problem.nonlinearity == "tanh":
            h = torch.tanh(z * math.sqrt(2.0))
        elif problem.nonlinearity == "relu":
            h = torch.relu(z) * math.sqrt(2.0)
        else:
            h = z
    return (z / math.sqrt(problem.width))[:, 0]


def tangent_kernels(problem: Problem) -> tuple[Tensor, Tensor, Tensor]:
    """(K₁, K₂, r₀): the per-layer tangent kernels Kₗ = Jₗ Jₗᵀ (n, n) of the output with respect to layer l's
    weights at initialisation, and the initial residual f(θ₀) − y (n,)."""
    j1, j2 = torch.autograd.functional.jacobian(
        lambda a, b: _forward(problem, a, b), (problem.w1, problem.w2)
    )
    n = problem.x.shape[0]
    j1, j2 = j1.reshape(n, -1), j2.reshape(n, -1)
    r0 = _forward(problem, problem.w1, problem.w2) - problem.y[:, 0]
    return j1 @ j1.t(), j2 @ j2.t(), r0


def _train_chunk_linearised(
    problem: Problem, lr1: Tensor, lr2: Tensor, steps: int, tick: Callable[[], None]
) -> Tensor:
    """Losses (steps, M) of the linearised network f(θ₀) + J (θ − θ₀) under the same per-layer gradient descent.

    Its loss is quadratic in the weights, so the residual evolves linearly: r ← r − (2/n)(η₁ K₁ + η₂ K₂) r.
    Without the nonlinear dynamics, the converged/diverged boundary is a smooth curve in (η₁, η₂) (where the
    iteration matrix's spectral radius crosses 1, to within the finite-step measure).
    """
    k1, k2, r0 = tangent_kernels(problem)
    n = r0.shape[0]
    m = lr1.shape[0]
    kk = torch.cat([k1, k2]) * (2.0 / n)  # (2n, n)
    r = r0[:, None].expand(n, m).contiguous()
    kr = torch.empty(2 * n, m, dtype=r.dtype, device=r.device)
    losses = torch.empty(steps, m, dtype=r.dtype, device=r.device)
    for step in range(steps):
        losses[step] = (r * r).mean(0)
        torch.mm(kk, r, out=kr)
        r.addcmul_(kr[:n], lr1, value=-1.0).addcmul_(kr[n:], lr2, value=-1.0)
        tick()
    return losses


def train_grid(
    problem: Problem,
    lr1: Tensor,
    lr2: Tensor,
    steps: int,
    max_elements: int = 1 << 18,
    progress=None,
    done: dict[str, list[Tensor]] | None = None,
    on_chunk: Callable[[dict[str, list[Tensor]]], None] | None = None,
) -> dict[str, Tensor]:
    """Train one member per (lr1[i], lr2[i]) pair; returns ``measure``, ``converged`` and ``final_loss`` (M,).

    Members run in chunks of at most ``max_elements`` hidden activations. ``done`` holds the per-chunk results
    of an interrupted run (they are not recomputed); ``on_chunk(results)`` is called after each new chunk (the
    caller checkpoints there). ``progress`` (a :class:`reprosuite.engine.train.trainer.Progress`) counts steps over
    all chunks.
    """
    if lr1.shape != lr2.shape or lr1.dim() != 1:
        raise ValueError(
            f"lr1 and lr2 must be 1-D of equal length, got {tuple(lr1.shape)}, {tuple(lr2.shape)}"
        )
    n, w = problem.x.shape
    chunk = max(1, max_elements // (n * w))
    lr1 = lr1.to(problem.x)
    lr2 = lr2.to(problem.x)
    results = {k: list(v) for k, v in (done or {}).items()} or {
        "measure": [],
        "converged": [],
        "final_loss": [],
    }
    ticks = [len(results["measure"]) * steps]

    def tick():
        ticks[0] += 1
        if progress is not None:
            progress.update(ticks[0])

    for k, start in enumerate(range(0, lr1.shape[0], chunk)):
        if k < len(results["measure"]):
            continue
        step_fn = _train_chunk_linearised if problem.linearised else _train_chunk
        losses = step_fn(problem, lr1[start : start + chunk], lr2[start : start + chunk], steps, tick)
        mea, conv = convergence_measure(losses)
        results["measure"].append(mea.cpu())
        results["converged"].append(conv.cpu())
        results["final_loss"].append(losses[-1].cpu())
        if on_chunk is not None:
            on_chunk(results)
    return {k: torch.cat(v) for k, v in results.items()}


def chunks(n_members: int, problem: Problem, max_elements: int = 1 << 18) -> int:
    """Number of chunks :func:`train_grid` will use (for progress totals)."""
    n, w = problem.x.shape
    return math.ceil(n_members / max(1, max_elements // (n * w)))


def lr_grid(center: tuple[float, float], width: float, resolution: int) -> tuple[Tensor, Tensor]:
    """log10-spaced grid around ``center`` = (log10 lr₁, log10 lr₂), ``width`` decades per axis.

    Row i = layer-2 (output) lr, column j = layer-1 (input) lr, as the official ``gen_img`` (``meshgrid(gg2,
    gg1)``: image rows follow the output-layer lr). Returned flattened row-major, float64.
    """
    c1, c2 = center
    g1 = torch.logspace(c1 - width / 2, c1 + width / 2, resolution, dtype=torch.float64)
    g2 = torch.logspace(c2 - width / 2, c2 + width / 2, resolution, dtype=torch.float64)
    lr2, lr1 = torch.meshgrid(g2, g1, indexing="ij")
    return lr1.reshape(-1), lr2.reshape(-1)


def find_boundary(
    problem: Problem,
    start: tuple[float, float],
    end: tuple[float, float],
    steps: int,
    points: int = 33,
    rounds: int = 12,
    tol: float = 1e-14,
    return_bracket: bool = False,
):
    """(log10 lr₁, log10 lr₂) of a point on the trainability boundary on the segment ``start``–``end``, or None.

    Scans ``points`` evenly spaced points of the segment (in log10 lr), keeps the first adjacent pair whose
    convergence differs and rescans between them, ``rounds`` times or until the bracket is shorter than ``tol``
    (as a fraction of the segment): the returned midpoint lies within that bracket of a converged/diverged
    switch. (The official zooms were chosen by hand, click-and-drag in the notebook; this makes them
    reproducible.) With ``return_bracket`` the two bracketing points are returned too.
    """
    lo, hi = 0.0, 1.0
    for _ in range(rounds):
        t = torch.linspace(lo, hi, points, dtype=torch.float64)
        l1 = start[0] + t * (end[0] - start[0])
        l2 = start[1] + t * (end[1] - start[1])
        conv = train_grid(problem, 10.0**l1, 10.0**l2, steps)["converged"].cpu()
        change = (conv[1:] != conv[:-1]).nonzero().flatten()
        if change.numel() == 0:
            return None
        i = int(change[0])
        lo, hi = float(t[i]), float(t[i + 1])
        if hi - lo < tol:
            break

    def at(t):
        return start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])

    return (at((lo + hi) / 2), (at(lo), at(hi))) if return_bracket else at((lo + hi) / 2)


def train_pixels_reference(problem: Problem, lr1: Tensor, lr2: Tensor, steps: int) -> Tensor:
    """Loss trajectories (steps, M) by a plain per-pixel autograd loop (the official net/loss/update)."""
    out = torch.empty(steps, lr1.shape[0], dtype=torch.float64)
    for i in range(lr1.shape[0]):
        theta = [problem.w1.clone().requires_grad_(True), problem.w2.clone().requires_grad_(True)]
        for step in range(steps):
            loss = ((_forward(problem, *theta) - problem.y.reshape(-1)) ** 2).mean()
            out[step, i] = loss.detach()
            g1, g2 = torch.autograd.grad(loss, theta)
            with torch.no_grad():
                theta[0] -= lr1[i] * g1
                theta[1] -= lr2[i] * g2
    return out
