"""A stacked ensemble MLP's forward and backward as one autograd node, bit for bit what autograd computes.

:class:`~reprosuite.engine.models.layers.EnsembleMLP` runs its stacked members through ``bmm``, a bias add and an
activation per layer; autograd records about ten nodes per layer (views, expands, the product, the add, the
activation) and replays them in backward. For tiny nets, where a layer's products take tens of microseconds, that
bookkeeping is a large share of a step. :func:`apply` runs the same kernels in one
:class:`torch.autograd.Function` — ``bmm`` for the product, ``sum`` over the batch for a bias's gradient,
``bmm`` with the weight for the gradient passed down, the activation's own ``*_backward`` kernel as
``tools/autograd/derivatives.yaml`` names it, and for a weight's gradient the product gradᵀ·h (autograd forms
(hᵀ·grad)ᵀ, the same sums, and copies it contiguous) — so every value and gradient is the one autograd gives, bit
for bit on the CPUs it was tested on (``tests/unit/engine/models/test_chain.py``; other devices take the plain
path). benchmarks/bench_engine.py, one thread, 2026-12-07: the tiny
deep linear net 6×16 (64 members, batch 128) 2.30 → 2.07 ms a step, 9.9× → 11.0× a plain loop of nn.Linear models.

A differentiation of the backward itself (``create_graph=True``) recomputes the forward through autograd's graph
and differentiates that: the right higher derivatives, but summed in another order than the plain graph's (1e-7
relative apart in float32). A graph built to be differentiated twice is therefore built under :func:`autograd_only`
(``engine.analysis.hessian`` does), which gives the plain path's bits; inputs that need a gradient, inputs with
extra leading dimensions and functorch transforms (``torch.func``) take the plain path too (:func:`fits`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor

aten = torch.ops.aten

# activation name → its backward as autograd computes it from (grad, pre-activation, output). relu, tanh and
# sigmoid differentiate through their output (so their forward may overwrite the pre-activation in place: it is not
# kept), the others through their input.
BACKWARD: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
    "relu": lambda g, z, a: aten.threshold_backward(g, a, 0),
    "tanh": lambda g, z, a: aten.tanh_backward(g, a),
    "sigmoid": lambda g, z, a: aten.sigmoid_backward(g, a),
    "elu": lambda g, z, a: aten.elu_backward(g, 1.0, 1, 1, False, z),
    "gelu": lambda g, z, a: aten.gelu_backward(g, z, approximate="none"),
    "sin": lambda g, z, a: g * z.cos(),
    "leaky_relu": lambda g, z, a: aten.leaky_relu_backward(g, z, 0.1, False),
}
BY_OUTPUT = frozenset({"relu", "tanh", "sigmoid"})
ACTIVATIONS = frozenset({"linear", *BACKWARD})


_plain_only = 0  # depth of autograd_only() blocks


@contextmanager
def autograd_only() -> Iterator[None]:
    """Forwards within the block are recorded by autograd node by node (for a graph to be differentiated twice)."""
    global _plain_only
    _plain_only += 1
    try:
        yield
    finally:
        _plain_only -= 1


def fits(x: Tensor, size: int, activation: str) -> bool:
    """Whether :func:`apply` may run a forward of ``size`` stacked members on ``x``: on a CPU (where it was measured
    and its bits tested; a GPU's BLAS may order a product's sums by its operands' layout), gradients are being
    recorded outside :func:`autograd_only`, ``x`` is (B, in) shared or (S, B, in) per member and needs no gradient,
    the activation is one it knows, and no functorch transform is active."""
    return (
        not _plain_only
        and x.device.type == "cpu"
        and torch.is_grad_enabled()
        and activation in ACTIVATIONS
        and not x.requires_grad
        and (x.dim() == 2 or (x.dim() == 3 and x.shape[0] == size))
        and not torch._C._are_functorch_transforms_active()
    )


def apply(
    x: Tensor,
    weights: Sequence[Tensor],
    biases: Sequence[Tensor] | None,
    activation: str,
    forward: Callable[[Tensor], Tensor],
    plain: Callable[[Tensor, list[Tensor], list[Tensor] | None], Tensor],
) -> Tensor:
    """``x`` (B, in) or (S, B, in) through the layers ``x @ wᵀ + b`` with ``activation`` between them → (S, B, out),
    as one autograd node. ``forward`` computes the activation of a fresh pre-activation (in place only for those
    that differentiate through their output); ``plain(x, weights, biases)`` is the same forward through autograd,
    used only to differentiate the backward again."""
    args = (plain, activation, forward, x, len(weights), biases is not None)
    return _Chain.apply(*args, *weights, *(biases or ()))


class _Chain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, plain, activation, forward, x, layers, has_bias, *params):
        weights, biases = params[:layers], params[layers:] if has_bias else None
        size = weights[0].shape[0]
        inputs, pre = [], []
        h = x
        for i, w in enumerate(weights):
            h = h.expand(size, *h.shape) if h.dim() == 2 else h  # as torch.matmul broadcasts a shared input
            inputs.append(h)
            z = torch.bmm(h, w.transpose(1, 2))
            if biases is not None:
                z.add_(biases[i].unsqueeze(1))
            if i == layers - 1 or activation == "linear":
                h = z
            else:
                pre.append(None if activation in BY_OUTPUT else z)
                h = forward(z)
        ctx.plain, ctx.activation, ctx.layers, ctx.has_bias = plain, activation, layers, has_bias
        ctx.pre = pre  # pre-activations of the activations that differentiate through their input
        ctx.save_for_backward(x, *inputs, *params)
        return h

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors
        layers = ctx.layers
        x, inputs, params = saved[0], saved[1 : layers + 1], saved[layers + 1 :]
        weights, biases = params[:layers], params[layers:] if ctx.has_bias else None
        needs = ctx.needs_input_grad[6:]
        if torch.is_grad_enabled():  # create_graph: differentiate autograd's own graph of the forward
            wanted = [p for p, n in zip(params, needs, strict=True) if n]
            with torch.enable_grad():
                out = ctx.plain(x, list(weights), None if biases is None else list(biases))
            found = iter(torch.autograd.grad(out, wanted, grad, create_graph=True))
            return (None,) * 6 + tuple(next(found) if n else None for n in needs)
        grad_w: list[Tensor | None] = [None] * layers
        grad_b: list[Tensor | None] = [None] * layers
        backward = BACKWARD.get(ctx.activation)
        lowest = min((i % layers for i, n in enumerate(needs) if n), default=layers)
        for i in reversed(range(lowest, layers)):
            if biases is not None and needs[layers + i]:
                grad_b[i] = grad.sum(1)
            if needs[i]:  # gradᵀ·h: autograd's hᵀ·grad transposed, without its copy to a contiguous gradient
                grad_w[i] = grad.transpose(1, 2).bmm(inputs[i])
            if i > lowest:
                grad = grad.bmm(weights[i])
                if backward is not None:
                    grad = backward(grad, ctx.pre[i - 1], inputs[i])
        return (None,) * 6 + tuple(grad_w) + (tuple(grad_b) if biases is not None else ())
