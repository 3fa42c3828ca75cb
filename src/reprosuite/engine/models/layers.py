"""Ensemble layers and the suite's feed-forward model families, with a leading member dimension S.

Weights are explicit batched tensors (S, out, in) multiplied with ``torch.matmul``/``bmm`` (or, in
:class:`EnsembleMLP` on a CPU where one member's activations are large, member by member with ``torch.addmm`` on
views of them); inputs are either shared by all members, (B, in), or per member, (S, B, in). A stacked
:class:`EnsembleMLP` forward that records gradients runs as one autograd node (:mod:`.chain`, the same bits). Member ``s`` is
initialised from its own generator seeded with ``seeds[s]``, so it equals a single model built with that seed (see
:func:`init_weight`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from reprosuite.engine.models import chain

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": lambda x: x,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "elu": nn.functional.elu,
    "gelu": nn.functional.gelu,
    "sigmoid": torch.sigmoid,
    "sin": torch.sin,
    "leaky_relu": lambda x: nn.functional.leaky_relu(x, 0.1),
    "srelu": lambda x: torch.clamp(x, min=-1.0),  # shifted ReLU max(−1, x) (Clevert et al. 2015)
}

# in-place forms of the activations whose backward needs only their output: applied to a fresh pre-activation that
# nothing else keeps, they spare a write of the layer's activations (exact: the same values)
IN_PLACE: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "sigmoid": torch.sigmoid_,
}


def generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU generator per member: initialisation is drawn on CPU, so a seed gives the same net on any device."""
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


def init_weight(
    shape: tuple[int, ...],
    scheme: str | Sequence[str],
    gens: Sequence[torch.Generator],
    scale: float | Sequence[float] = 1.0,
) -> Tensor:
    """Member-stacked weight (S, *shape), float64 on CPU (cast by the caller).

    Schemes: ``gaussian`` N(0, scale²); ``gaussian_fan_in`` N(0, scale²/fan_in); ``he`` N(0, 2·scale²/fan_in);
    ``orthogonal`` scale·Q from the QR of a Gaussian matrix (Saxe et al. 2013 §3); ``zeros``;
    ``uniform`` U(−scale, scale); ``uniform_fan_in`` U(−scale/√fan_in, scale/√fan_in) (PyTorch's default for
    nn.Linear with scale 1).
    ``scheme`` and ``scale`` may be given per member.
    """
    scales = [float(scale)] * len(gens) if isinstance(scale, int | float) else [float(s) for s in scale]
    schemes = [scheme] * len(gens) if isinstance(scheme, str) else list(scheme)
    fan_in = shape[-1] if len(shape) > 1 else shape[0]
    out = []
    for g, sc, scheme in zip(gens, scales, schemes, strict=True):
        if scheme == "zeros":
            w = torch.zeros(shape, dtype=torch.float64)
        elif scheme == "gaussian":
            w = sc * torch.randn(shape, generator=g, dtype=torch.float64)
        elif scheme == "gaussian_fan_in":
            w = sc / math.sqrt(fan_in) * torch.randn(shape, generator=g, dtype=torch.float64)
        elif scheme == "he":
            w = sc * math.sqrt(2.0 / fan_in) * torch.randn(shape, generator=g, dtype=torch.float64)
        elif scheme == "uniform":
            w = (2 * torch.rand(shape, generator=g, dtype=torch.float64) - 1) * sc
        elif scheme == "uniform_fan_in":
            bound = sc / math.sqrt(fan_in)
            w = (2 * torch.rand(shape, generator=g, dtype=torch.float64) - 1) * bound
        elif scheme == "orthogonal":
            rows, cols = shape
            a = torch.randn(max(rows, cols), min(rows, cols), generator=g, dtype=torch.float64)
            q, r = torch.linalg.qr(a)
            q = q * torch.sign(torch.diagonal(r))  # unique Haar-distributed Q
            w = sc * (q if rows >= cols else q.T)
        else:
            raise ValueError(f"unknown init scheme {scheme!r}")
        out.append(w)
    return torch.stack(out)


# How EnsembleMLP runs its members through the layers on a CPU, by the size of one member's activations of its
# widest layer, batch × max(sizes[1:]) × itemsize (the input, often the widest, is no activation). Measured
# 2026-12-06 on the project's 2-core EPYC (benchmarks/bench_engine.py, idle machine unless stated, 1 thread, speed
# against one plain nn.Linear model trained after another; a sweep of batch sizes under load, ±20 % run to run):
# - below MEMBER_BYTES: all S members stacked in one batched matmul per layer. Wins for small nets and minibatches:
#   tiny nets 9-41x; deep linear 6x64 at batch 128 2.3x (1.4x per member); MLP 100-256-256-10 at 128 1.05x;
#   MLP 40-256-256-10 at B 64, 36 members 1.29x; 784-50x20-10 at minibatch 64, 240 members 1.67x (1.2-1.5x per
#   member, loaded).
# - from MEMBER_BYTES on: one member after another, each layer one ``torch.addmm(bias, x, wᵀ)`` (``mm`` without
#   bias) on the member's view of the stacked weight — nn.Linear's own kernel — so that a member's activations stay
#   in cache from layer to layer; one batched optimiser step for all. MLP 100-256-256-10 at full batch 2048: 0.90x
#   (stacked 0.54x); deep linear 6x64 at 2048: 0.81x (0.73x); MLP 40-256-256-10 at B 512: 0.98x (0.88x); loaded
#   sweep at batch 256-1024: 1.06-1.15x against 0.77-1.04x stacked. The plain loop stays ahead at full batch: it
#   runs each member's backward right after its forward, with its activations still in cache, where the ensemble
#   runs every member's forward before any backward.
# Groups of members (``chunk`` between 1 and S; the earlier default where S stacked activations passed 4 MiB)
# never beat the better of the two in the sweep (MLP 100-256-256-10 at full batch 2048 in groups of 2: 0.87x
# against 1.22x per member; 784-50x20-10 in groups of 20: 1.1x against 1.6x stacked), so the default no longer
# groups; a group size can still be given. Neither path reaches the plain loop where the parameters, not the
# activations, dominate: 784-400-400-10 at minibatch 32 (kirkpatrick_ewc's full tier, 25 members) 0.59x stacked,
# 0.75-0.85x per member (loaded): the loop trains one member for all its steps with its weights, gradients and
# momentum (5.7 MB) in cache while every ensemble step streams all members' (143 MB); interleaved step by step the
# plain models take 138 ms a step against 148 per member and 170 stacked. On a GPU all members stay stacked: one
# launch for the whole ensemble is what makes batching pay.
MEMBER_BYTES = 256 * 2**10
# member_chunk's answer (and EnsembleMLP's ``chunk``) for one member at a time through addmm / mm
PER_MEMBER = 0
# Where one member's step works on TURN_BYTES or more on a CPU — its activations, batch × Σ layer widths ×
# itemsize, plus its weights, Σ fan_in × fan_out × itemsize — the members are trained one after another, each for
# all its steps (train_parts), as a plain loop does: its weights, gradients, optimiser state and activations then
# stay in cache from step to step, where every step of the ensemble streams all members' through memory. A
# one-member ensemble runs nn.Linear's kernels with its activation in place, and its SGD torch.optim's own
# update (optim.EnsembleOptimizer.single), at least as fast as the plain model in our runs. bench_engine.py
# (RESULTS.md, "Members in turn"), 1 thread, against one plain model after another: kirkpatrick_ewc's full tier
# (784-400-400-10 at minibatch 32, 2.0 MB a member) 0.59x stacked, in turn above 1x; MLP 100-256-256-10 at full
# batch 2048 (4.7 MB) 0.90x per member within each step, in turn above 1x; below the threshold stacked or
# per-member steps win: MLP 100-256-256-10 at minibatch 128 (0.64 MB), deep linear 6x64 at 128 (0.3 MB),
# grad_noise's 784-50x20-10 at 64 (0.6 MB), lr_batch_rmt's 40-256-256-10 at 64 (0.4 MB).
TURN_BYTES = 2**20


def train_parts(members: int, batch: int, sizes: Sequence[int], device="cpu", itemsize: int = 4) -> int:
    """How many of an :class:`EnsembleMLP`'s ``members`` to train at once (see ``TURN_BYTES``): all of them, or on
    a CPU where one member's step works on ``TURN_BYTES`` or more, one (the members in turn, each for all its
    steps). Each member's result is the same either way; use :func:`parts` to split the members."""
    if torch.device(device).type != "cpu":
        return members
    activations = batch * sum(sizes[1:]) * itemsize
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)) * itemsize
    return 1 if activations + weights >= TURN_BYTES else members


def parts(items: Sequence, size: int) -> list[list]:
    """``items`` (members) in consecutive parts of ``size``: the groups that :func:`train_parts` trains at once."""
    if size < 1:
        raise ValueError(f"a part holds at least one member, not {size}")
    return [list(items[a : a + size]) for a in range(0, len(items), size)]


def member_chunk(members: int, batch: int, width: int, device: torch.device | str = "cpu", itemsize: int = 4):
    """How :class:`EnsembleMLP` runs ``members`` members through its layers (see ``MEMBER_BYTES``): all of them
    stacked (returns ``members``), or on a CPU where one member's activations of a layer, ``batch × width ×
    itemsize`` bytes, reach ``MEMBER_BYTES``, one member at a time through ``addmm`` (returns ``PER_MEMBER``)."""
    if torch.device(device).type == "cpu" and batch * width * itemsize >= MEMBER_BYTES:
        return PER_MEMBER
    return members


def ensemble_matmul(x: Tensor, w: Tensor) -> Tensor:
    """x (B, in) or (S, B, in) times wᵀ for w (S, out, in) → (S, B, out)."""
    return torch.matmul(x, w.transpose(-1, -2))


class EnsembleMLP(nn.Module):
    """S independent MLPs ``in → hidden… → out`` with one activation; ``bias=False`` gives deep linear nets.

    ``chunk`` (None: :func:`member_chunk` decides per batch size, once for each) sets how the members go through
    the layers: all stacked (``chunk ≥ S``) or in groups of ``chunk``, in batched matmuls ``x @ wᵀ + b``, each
    member's result the same whatever the group size; or (``chunk = PER_MEMBER``, 0) one member after another as
    ``torch.addmm(b, x, wᵀ)``, which fuses the bias add into the matrix product (bias-free layers: ``torch.mm``):
    that path gives each member what a plain nn.Linear model with its weights gives, and the stacked result only
    within float rounding.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        seeds: Sequence[int],
        activation: str = "relu",
        init: str | Sequence[str] = "uniform_fan_in",
        init_scale: float | Sequence[float] = 1.0,
        bias: bool = True,
        bias_init: str = "zeros",
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
        chunk: int | None = None,
    ):
        super().__init__()
        # members per group in forward (PER_MEMBER: one at a time through addmm); None: member_chunk() decides
        self.chunk = chunk
        self._plans: dict[tuple, int] = {}  # member_chunk's answer per (batch, device, dtype)
        self.single: bool | None = None  # one member (set at the first forward, with the parameter lists)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        self.sizes = tuple(sizes)
        self.activation = activation
        self.width = max(self.sizes[1:])  # the widest layer output: what member_chunk weighs
        self.act = ACTIVATIONS[activation]
        self.act_ = IN_PLACE.get(activation, self.act)
        gens = generators(seeds)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList() if bias else None
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            w = init_weight((fan_out, fan_in), init, gens, init_scale)
            self.weights.append(nn.Parameter(w.to(device=device, dtype=dtype)))
            if bias:
                # "uniform": PyTorch's default bias init U(−1/√fan_in, 1/√fan_in)
                b = init_weight((fan_out,), bias_init, gens, 1.0 / math.sqrt(fan_in))
                self.biases.append(nn.Parameter(b.to(device=device, dtype=dtype)))

    @property
    def size(self) -> int:
        return self.weights[0].shape[0]

    def _apply(self, *args, **kwargs):
        """.to(), .double(), …: the parameter lists are read again at the next forward."""
        self.single = None
        return super()._apply(*args, **kwargs)

    def plan(self, batch: int) -> int:
        """Members per group for a batch of this size (``PER_MEMBER``: one at a time), see :func:`member_chunk`."""
        if self.chunk is not None:
            return self.chunk
        w0 = self.weights[0]
        key = (batch, w0.device, w0.dtype, w0.shape[0])
        chunk = self._plans.get(key)
        if chunk is None:
            chunk = self._plans[key] = member_chunk(
                w0.shape[0], batch, self.width, w0.device, w0.element_size()
            )
        return chunk

    def forward(self, x: Tensor, return_hidden: bool = False):
        """x (B, in) shared or (S, B, in) → (S, B, out); with ``return_hidden`` also each layer's pre-activation.

        Members go through the layers as :meth:`plan` says: stacked or in groups, each member's result the same
        whatever the grouping, or one member at a time through ``addmm`` (equal to nn.Linear, and to the stacked
        result within rounding); only the speed differs.
        """
        if self.single is None:  # the parameters, and whether there is one member, fixed once
            self.single = self.weights[0].shape[0] == 1
            self._params = (list(self.weights), None if self.biases is None else list(self.biases))
        weights, biases = self._params
        if self.single and x.dim() <= 3:  # one member (trained in turn): a plain MLP, no batched matmul
            return self._forward_one(x if x.dim() == 2 else x[0], weights, biases, return_hidden)
        size = weights[0].shape[0]
        chunk = self.plan(x.shape[-2])
        if chunk == PER_MEMBER and x.dim() <= 3:
            return self._forward_members(x, weights, biases, return_hidden)
        if chunk >= size or chunk == PER_MEMBER:  # inputs with more leading dimensions broadcast stacked
            return self._forward(x, weights, biases, return_hidden)
        parts = []
        for a in range(0, size, chunk):
            members = slice(a, a + chunk)
            parts.append(
                self._forward(
                    x if x.dim() == 2 else x[members],
                    [w[members] for w in weights],
                    None if biases is None else [b[members] for b in biases],
                    return_hidden,
                )
            )
        if not return_hidden:
            return torch.cat(parts)
        hidden = [torch.cat(layer) for layer in zip(*(h for _, h in parts), strict=True)]
        return torch.cat([out for out, _ in parts]), hidden

    def _forward(self, x: Tensor, weights: list[Tensor], biases: list[Tensor] | None, return_hidden: bool):
        if not return_hidden and chain.fits(x, weights[0].shape[0], self.activation):
            return chain.apply(x, weights, biases, self.activation, self.act_, self._plain)  # the same bits
        return self._plain(x, weights, biases, return_hidden)

    def _plain(
        self, x: Tensor, weights: list[Tensor], biases: list[Tensor] | None, return_hidden: bool = False
    ):
        """The stacked forward through autograd, layer by layer (with ``return_hidden``, the pre-activations)."""
        hidden = []
        last = len(weights) - 1
        act = self.act
        for i, w in enumerate(weights):
            z = torch.matmul(x, w.transpose(-1, -2))
            if biases is not None:  # in place on the fresh product: the same sums, one allocation fewer
                z = z.add_(biases[i].unsqueeze(1))
            if return_hidden:
                hidden.append(z)
            x = act(z) if i < last else z
        return (x, hidden) if return_hidden else x

    def _forward_one(
        self, h: Tensor, weights: list[Tensor], biases: list[Tensor] | None, return_hidden: bool
    ):
        """A one-member ensemble as nn.Linear layers run it (``addmm``, or ``mm`` without bias), on the parameters'
        ``squeeze(0)`` views, whose backward is a view too, the activation in place where it can be: (1, B, out)."""
        hidden = []
        last = len(weights) - 1
        for i, w in enumerate(weights):
            wt = w.squeeze(0).t()
            z = torch.mm(h, wt) if biases is None else torch.addmm(biases[i].squeeze(0), h, wt)
            if return_hidden:
                hidden.append(z.unsqueeze(0))
            h = z if i == last else self.act(z) if return_hidden else self.act_(z)
        return (h.unsqueeze(0), hidden) if return_hidden else h.unsqueeze(0)

    def _forward_members(
        self, x: Tensor, weights: list[Tensor], biases: list[Tensor] | None, return_hidden: bool
    ):
        """One member after another, each layer as nn.Linear runs it on a 2-D input: ``addmm(b, x, wᵀ)``, or ``mm``
        without bias. ``unbind`` gives every member's (out, in) view of the stacked parameter; its backward stacks
        the members' gradients into the (S, out, in) gradient in one copy."""
        ws = [w.unbind(0) for w in weights]
        bs = None if biases is None else [b.unbind(0) for b in biases]
        xs = x.unbind(0) if x.dim() == 3 else None
        last = len(weights) - 1
        act = self.act
        outs = []
        hidden: list[list[Tensor]] = [[] for _ in weights]
        for s in range(len(ws[0])):
            h = x if xs is None else xs[s]
            for i in range(last + 1):
                wt = ws[i][s].t()
                z = torch.mm(h, wt) if bs is None else torch.addmm(bs[i][s], h, wt)
                if return_hidden:
                    hidden[i].append(z)
                h = act(z) if i < last else z
            outs.append(h)
        out = torch.stack(outs)
        return (out, [torch.stack(h) for h in hidden]) if return_hidden else out

    def product(self) -> Tensor:
        """The end-to-end matrix W_L ··· W_1 (S, out, in) of a linear network."""
        total = self.weights[0]
        for w in self.weights[1:]:
            total = torch.matmul(w, total)
        return total
