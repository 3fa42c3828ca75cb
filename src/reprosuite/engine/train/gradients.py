"""Gradient transforms for ensemble optimisers: per-member global-norm clipping and annealed gradient noise.

:class:`GradientTransform` wraps an :class:`~reprosuite.engine.train.optim.EnsembleOptimizer`: its ``step`` rewrites
``p.grad`` of every parameter, member by member, then calls the inner optimiser, so the update rule stays the
inner one's. Two transforms, applied in this order:

1. **clipping** to a global norm c_s per member, as ``torch.nn.utils.clip_grad_norm_`` does for one model:
   g ← g · min(1, c_s / (‖g‖ + 1e-6)), ‖g‖ the norm over all of member s's parameters. c_s = inf: no clipping.
2. **annealed Gaussian noise** (Neelakantan et al. 2015, arXiv:1511.06807, §3 Eq. 1): g_t ← g_t + N(0, σ_t²) with
   σ_t² = η_s / (1 + t)^γ, t the number of updates made before this one (0 at the first). η_s = 0: no noise.
   The paper adds the noise "to the gradient after clipping" (§4.2, §4.3, §4.5; §4.1 does not say otherwise),
   hence the order.

Member s draws its noise from its own generator seeded with ``seeds[s] + NOISE_SEED_OFFSET`` (the offset keeps
the noise stream apart from the initialisation stream, which :func:`~reprosuite.engine.models.layers.generators` seeds
with ``seeds[s]``), so a member's trajectory depends on its seed only, not on the ensemble around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from reprosuite.engine.train.optim import EnsembleOptimizer, member_tensor, per_member

NOISE_SEED_OFFSET = 1_000_003
CLIP_EPS = 1e-6  # as torch.nn.utils.clip_grad_norm_


def noise_variance(step: int, eta: float | Tensor, gamma: float) -> float | Tensor:
    """σ_t² = η / (1 + t)^γ (Neelakantan et al. 2015, Eq. 1)."""
    return eta / (1.0 + step) ** gamma


def global_norm(grads: Sequence[Tensor]) -> Tensor:
    """Per-member L2 norm over all the member's gradient entries: (S,), float64."""
    return torch.stack([g.detach().flatten(1).double().pow(2).sum(1) for g in grads]).sum(0).sqrt()


class GradientTransform:
    """Clip then add annealed noise to the gradients of ``inner.params``, per member, before ``inner.step``.

    ``clip`` and ``noise_eta`` are a float or one value per member; ``seeds`` (one per member) are needed when any
    member gets noise. ``grad_norm`` holds each member's gradient norm before clipping at the last step.
    """

    def __init__(
        self,
        inner: EnsembleOptimizer,
        clip: float | Sequence[float] = math.inf,
        noise_eta: float | Sequence[float] = 0.0,
        noise_gamma: float = 0.55,
        seeds: Sequence[int] | None = None,
    ):
        self.inner = inner
        like = inner.params[0]
        self.clip = member_tensor(clip, inner.size, like.double())
        self.noise_eta = member_tensor(noise_eta, inner.size, like.double())
        if bool((self.clip <= 0).any()) or bool((self.noise_eta < 0).any()):
            raise ValueError("clip thresholds must be > 0 and noise scales η >= 0")
        self.noise_gamma = float(noise_gamma)
        self.noisy = [int(i) for i in torch.nonzero(self.noise_eta > 0).flatten()]
        if self.noisy and (seeds is None or len(seeds) != inner.size):
            raise ValueError(f"gradient noise needs one seed per member ({inner.size})")
        self.generators = {
            s: torch.Generator(device=like.device).manual_seed(int(seeds[s]) + NOISE_SEED_OFFSET)
            for s in self.noisy
        }
        self.numel = sum(p[0].numel() for p in inner.params)  # entries per member
        self.t = 0
        self.grad_norm = torch.zeros(inner.size, dtype=torch.float64, device=like.device)

    # the trainer talks to the wrapper as to the optimiser itself
    @property
    def params(self) -> list[Tensor]:
        return self.inner.params

    @property
    def size(self) -> int:
        return self.inner.size

    @property
    def active(self) -> Tensor:
        return self.inner.active

    @active.setter
    def active(self, value: Tensor) -> None:
        self.inner.active = value

    def zero_grad(self) -> None:
        self.inner.zero_grad()

    def state_dict(self) -> dict:
        """The inner optimiser's state, the update count and the noise generators' states (for checkpoints)."""
        return {
            "inner": self.inner.state_dict(),
            "t": self.t,
            "noise_rng": [self.generators[s].get_state() for s in self.noisy],
        }

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state["inner"])
        self.t = int(state["t"])
        for s, rng in zip(self.noisy, state["noise_rng"], strict=True):
            self.generators[s].set_state(rng)

    def sigma(self, step: int | None = None) -> Tensor:
        """Per-member noise standard deviation σ_t (S,) at update ``step`` (default: the next one)."""
        t = self.t if step is None else step
        return noise_variance(t, self.noise_eta, self.noise_gamma).sqrt()

    @torch.no_grad()
    def _clip(self, grads: list[Tensor]) -> None:
        self.grad_norm = global_norm(grads)
        if bool(torch.isinf(self.clip).all()):
            return
        factor = (self.clip / (self.grad_norm + CLIP_EPS)).clamp(max=1.0)
        for g in grads:
            g.mul_(per_member(factor.to(g.dtype), g))

    @torch.no_grad()
    def _add_noise(self, grads: list[Tensor]) -> None:
        like = grads[0]
        noise = torch.zeros(self.size, self.numel, dtype=like.dtype, device=like.device)  # (S, entries)
        for s, gen in self.generators.items():
            torch.randn(self.numel, generator=gen, dtype=like.dtype, device=like.device, out=noise[s])
        noise.mul_(self.sigma().to(like.dtype)[:, None])
        offset = 0
        for g in grads:
            n = g[0].numel()
            g.add_(noise[:, offset : offset + n].view_as(g))
            offset += n

    @torch.no_grad()
    def step(self, lr_scale: float = 1.0) -> None:
        for p in self.params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = [p.grad for p in self.params]
        self._clip(grads)
        if self.noisy:
            self._add_noise(grads)
        self.inner.step(lr_scale)
        self.t += 1
