"""Optimisers for ensembles: every parameter has a leading member dimension S, every hyperparameter is (S,).

Update rules follow ``torch.optim.SGD`` (coupled weight decay, dampening 0) and ``torch.optim.AdamW``
(decoupled weight decay) exactly, so member ``s`` of an ensemble follows the same trajectory as a single model
trained with the stock optimiser; ``tests/unit/engine/test_equivalence.py`` checks it. Members flagged inactive
(diverged) are left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def member_tensor(value: float | Sequence[float] | Tensor, size: int, like: Tensor) -> Tensor:
    """A hyperparameter as a (S,) tensor on ``like``'s device and dtype."""
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return t.expand(size).clone() if t.dim() == 0 else t


def per_member(v: Tensor, p: Tensor) -> Tensor:
    """A (S,) tensor viewed to broadcast over parameter ``p`` (S, ...)."""
    return v.view(-1, *([1] * (p.dim() - 1)))


class EnsembleOptimizer:
    def __init__(self, params: Sequence[Tensor], lr, weight_decay=0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError("no parameters to optimise")
        self.size = self.params[0].shape[0]
        for p in self.params:
            if p.shape[0] != self.size:
                raise ValueError(f"parameter with leading dim {p.shape[0]} in an ensemble of {self.size}")
        like = self.params[0]
        self.lr = member_tensor(lr, self.size, like)
        self.weight_decay = member_tensor(weight_decay, self.size, like)
        self.active = torch.ones(self.size, dtype=torch.bool, device=like.device)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _member_lr(self, lr_scale: float) -> Tensor:
        """This step's per-member learning rates: 0 for diverged members, whose gradients are also set to 0 in
        place (they may be NaN), so that every update rule leaves them exactly as they were while all members are
        updated in place in one pass. (Updating only the active rows, gathered and scattered back, was 1.2-2.0x
        slower with half the members diverged: ``benchmarks/bench_optim.py``, RESULTS.md.)"""
        lr = self.lr * lr_scale
        if bool(self.active.all()):
            return lr
        diverged = (~self.active).nonzero().squeeze(1)
        for p in self.params:
            if p.grad is not None:
                p.grad.index_fill_(0, diverged, 0.0)  # whole rows: 7x faster than a broadcast masked_fill_
        return lr * self.active

    @torch.no_grad()
    def step(self, lr_scale: float = 1.0) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Everything a resumed run needs besides the parameters (tensors moved to CPU)."""
        return {"active": self.active.cpu(), **{k: _cpu(v) for k, v in self._state().items()}}

    def load_state_dict(self, state: dict) -> None:
        device = self.params[0].device
        self.active = state["active"].to(device)
        self._load({k: _to(v, device) for k, v in state.items() if k != "active"})

    def _state(self) -> dict:
        return {}

    def _load(self, state: dict) -> None:
        pass


def _cpu(v):
    if isinstance(v, Tensor):
        return v.detach().cpu().clone()
    return [_cpu(x) for x in v] if isinstance(v, list) else v


def _to(v, device):
    if isinstance(v, Tensor):
        return v.to(device)
    return [_to(x, device) for x in v] if isinstance(v, list) else v


class SGD(EnsembleOptimizer):
    """SGD with optional momentum and L2 weight decay, as ``torch.optim.SGD(dampening=0)``."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = member_tensor(momentum, self.size, self.params[0])
        self.use_momentum = bool((self.momentum != 0).any())
        self.use_decay = bool((self.weight_decay != 0).any())  # skip a pass over every parameter when off
        self.buffers: list[Tensor | None] = [None] * len(self.params)

    def _state(self) -> dict:
        return {"buffers": self.buffers}

    def _load(self, state: dict) -> None:
        self.buffers = state["buffers"]

    @torch.no_grad()
    def step(self, lr_scale: float = 1.0) -> None:
        lr = self._member_lr(lr_scale)
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.use_decay:
                g = g + per_member(self.weight_decay, p) * p
            if self.use_momentum:
                if self.buffers[i] is None:  # the first step sets the buffer to the gradient, as torch does
                    self.buffers[i] = g.clone()
                else:
                    self.buffers[i].mul_(per_member(self.momentum, p)).add_(g)
                g = self.buffers[i]
            p.sub_(per_member(lr, p) * g)


class AdamW(EnsembleOptimizer):
    """AdamW with decoupled weight decay, as ``torch.optim.AdamW``."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, weight_decay)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def _state(self) -> dict:
        return {"t": self.t, "m": self.m, "v": self.v}

    def _load(self, state: dict) -> None:
        self.t, self.m, self.v = state["t"], state["m"], state["v"]

    @torch.no_grad()
    def step(self, lr_scale: float = 1.0) -> None:
        self.t += 1
        bc1 = 1 - self.beta1**self.t
        bc2_sqrt = (1 - self.beta2**self.t) ** 0.5
        lr = self._member_lr(lr_scale)
        shrink = 1 - lr * self.weight_decay if bool((self.weight_decay != 0).any()) else None
        step_size = lr / bc1
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            # torch.optim.AdamW's single-tensor update in its order (lerp_ for m), in place; the per-member step
            # size divides the denominator where torch scales by a scalar (equal up to rounding). A diverged
            # member has lr 0: shrink 1 and m / (denom / 0) = 0, so it stays as it was
            if shrink is not None:
                p.mul_(per_member(shrink, p))
            m.lerp_(g, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            denom = v.sqrt().div_(bc2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom.div_(per_member(step_size, p)), value=-1.0)
