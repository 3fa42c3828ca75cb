"""Ghost Batch Normalisation for batched ensembles: S independent BatchNorm layers, statistics per ghost batch.

Input ``(S, B, C)`` or ``(S, B, L, C)``: members first, then batch, an optional length, **channels last**
(contiguous channels make the per-channel reductions and the elementwise passes fast on CPU). In training
mode the batch is cut into ``B / ghost`` consecutive chunks of ``ghost`` examples and each chunk is normalised
with its own mean and biased variance over (examples, length), exactly what forwarding every chunk separately
through ``nn.BatchNorm1d`` does; ``ghost=None`` (or ``ghost=B``) is plain BatchNorm over the whole batch. In
eval mode the running statistics are used.

Running statistics follow ``nn.BatchNorm1d`` applied to the chunks one after another: with momentum m and k
chunks, r ← (1 − m)^k r + Σ_j m (1 − m)^(k−1−j) s_j, where s_j is chunk j's mean, or its variance unbiased with
the count n = ghost · L of values per channel in the chunk (n / (n − 1), as torch does per forward call).

The gradient of the mean loss over the whole batch equals the gradient that summing the per-chunk mean losses'
gradients and dividing by the number of chunks gives, because each chunk's normalisation depends on that chunk
only: computing all ghost batches in one call is the same update as the chunked loop (``tests/unit/engine/models/
test_ghost_bn.py`` checks both statements against ``torch.nn.functional.batch_norm``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class EnsembleGhostBatchNorm(nn.Module):
    """S BatchNorm layers over C channels with ghost-batch statistics; affine weight 1 and bias 0 at init."""

    def __init__(
        self,
        size: int,
        channels: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        self.size, self.channels, self.eps, self.momentum = size, channels, eps, momentum
        kw = {"dtype": dtype, "device": device}
        self.weight = nn.Parameter(torch.ones(size, channels, **kw))
        self.bias = nn.Parameter(torch.zeros(size, channels, **kw))
        self.register_buffer("running_mean", torch.zeros(size, channels, **kw))
        self.register_buffer("running_var", torch.ones(size, channels, **kw))

    def forward(self, x: Tensor, ghost: int | None = None) -> Tensor:
        if x.dim() not in (3, 4) or x.shape[0] != self.size or x.shape[-1] != self.channels:
            raise ValueError(
                f"expected (S={self.size}, B[, L], C={self.channels}) input, got {tuple(x.shape)}"
            )
        s, b, c = x.shape[0], x.shape[1], x.shape[-1]
        per = x.shape[2] if x.dim() == 4 else 1  # values per channel and example
        if not self.training:
            view = (s, 1, *([1] * (x.dim() - 3)), c)
            scale = self.weight * torch.rsqrt(self.running_var + self.eps)
            shift = self.bias - self.running_mean * scale
            return x * scale.view(view) + shift.view(view)
        g = b if ghost is None else int(ghost)
        if g < 1 or b % g:
            raise ValueError(f"batch {b} is not a multiple of the ghost batch size {g}")
        k = b // g
        xg = x.reshape(s, k, g * per, c)
        mean = xg.mean(dim=2, keepdim=True)  # (S, k, 1, C)
        xc = xg - mean
        var = (xc * xc).mean(dim=2, keepdim=True)
        scale = torch.rsqrt(var + self.eps) * self.weight.view(s, 1, 1, c)
        y = torch.addcmul(self.bias.view(s, 1, 1, c), xc, scale)
        with torch.no_grad():
            n = g * per
            self._update(mean.reshape(s, k, c), var.reshape(s, k, c) * (n / max(n - 1, 1)))
        return y.reshape(x.shape)

    @torch.no_grad()
    def _update(self, means: Tensor, vars_: Tensor) -> None:
        """Running statistics after k sequential BatchNorm calls on the chunks (means/vars (S, k, C))."""
        m, k = self.momentum, means.shape[1]
        w = m * (1 - m) ** torch.arange(k - 1, -1, -1, dtype=means.dtype, device=means.device)  # (k,)
        keep = (1 - m) ** k
        self.running_mean.mul_(keep).add_(torch.einsum("k,skc->sc", w, means.detach()))
        self.running_var.mul_(keep).add_(torch.einsum("k,skc->sc", w, vars_.detach()))
