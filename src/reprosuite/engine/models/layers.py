"""Ensemble layers and the suite's feed-forward model families, with a leading member dimension S.

Weights are explicit batched tensors (S, out, in) multiplied with ``torch.matmul``/``baddbmm``; inputs are either
shared by all members, (B, in), or per member, (S, B, in). Member ``s`` is initialised from its own generator
seeded with ``seeds[s]``, so it equals a single model built with that seed (see :func:`init_weight`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": lambda x: x,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "elu": nn.functional.elu,
    "gelu": nn.functional.gelu,
    "sigmoid": torch.sigmoid,
    "sin": torch.sin,
    "leaky_relu": lambda x: nn.functional.leaky_relu(x, 0.1),
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


# Members per group when an ensemble's stacked activations would leave the cache (CPU only): the largest group whose
# activations of one layer, group × batch × width floats, fit in this budget. Measured on the project's 2-core EPYC
# (benchmarks/bench_engine.py, benchmarks/RESULTS.md), 32 members, 1 thread, speed against a per-member loop:
# MLP 100-256-256-10 at full batch 2048 0.54x stacked, 0.84x in groups of 2 (4 MiB); deep linear 6x64 at full
# batch 2048 0.81x stacked, 0.89x in groups of 8; at minibatch 128 stacking all members stays best (1.0-2.3x).
CHUNK_BYTES = 4 * 2**20


def member_chunk(members: int, batch: int, width: int, device: torch.device | str = "cpu", itemsize: int = 4):
    """How many members :class:`EnsembleMLP` runs through its layers at once (see ``CHUNK_BYTES``); all of them
    on a GPU, where one launch for the whole ensemble is what makes batching pay."""
    if torch.device(device).type != "cpu":
        return members
    fit = max(1, min(members, CHUNK_BYTES // max(1, batch * width * itemsize)))
    groups = -(-members // fit)
    return -(-members // groups)  # groups of equal size: 33 members in 17 + 16, not 32 + 1


def ensemble_matmul(x: Tensor, w: Tensor) -> Tensor:
    """x (B, in) or (S, B, in) times wᵀ for w (S, out, in) → (S, B, out)."""
    return torch.matmul(x, w.transpose(-1, -2))


class EnsembleMLP(nn.Module):
    """S independent MLPs ``in → hidden… → out`` with one activation; ``bias=False`` gives deep linear nets."""

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
        self.chunk = chunk  # members per group in forward; None: member_chunk() decides per input size
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        self.sizes = tuple(sizes)
        self.act = ACTIVATIONS[activation]
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

    def forward(self, x: Tensor, return_hidden: bool = False):
        """x (B, in) shared or (S, B, in) → (S, B, out); with ``return_hidden`` also each layer's pre-activation.

        Members go through the layers in groups of ``chunk`` (see :func:`member_chunk`): each member's result is
        the same whatever the grouping; only the speed differs.
        """
        size = self.size
        w0 = self.weights[0]
        chunk = self.chunk or member_chunk(size, x.shape[-2], max(self.sizes), w0.device, w0.element_size())
        if chunk >= size:
            return self._forward(x, None, return_hidden)
        parts = [
            self._forward(x if x.dim() == 2 else x[a : a + chunk], slice(a, a + chunk), return_hidden)
            for a in range(0, size, chunk)
        ]
        if not return_hidden:
            return torch.cat(parts)
        hidden = [torch.cat(layer) for layer in zip(*(h for _, h in parts), strict=True)]
        return torch.cat([out for out, _ in parts]), hidden

    def _forward(self, x: Tensor, members: slice | None, return_hidden: bool):
        hidden = []
        n = len(self.weights)
        for i, w in enumerate(self.weights):
            z = ensemble_matmul(x, w if members is None else w[members])
            if self.biases is not None:
                b = self.biases[i] if members is None else self.biases[i][members]
                z = z + b.unsqueeze(1)
            hidden.append(z)
            x = self.act(z) if i < n - 1 else z
        return (x, hidden) if return_hidden else x

    def product(self) -> Tensor:
        """The end-to-end matrix W_L ··· W_1 (S, out, in) of a linear network."""
        total = self.weights[0]
        for w in self.weights[1:]:
            total = torch.matmul(w, total)
        return total
