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


def take_rows(t: Tensor, rows: Tensor | None) -> Tensor:
    """``t`` itself (updated in place) when ``rows`` is None, else a copy of those rows."""
    return t if rows is None else t.index_select(0, rows)


def put_rows(t: Tensor, rows: Tensor | None, new: Tensor) -> None:
    """Write back what :func:`take_rows` took (nothing to do when it was ``t`` itself)."""
    if rows is not None:
        t.index_copy_(0, rows, new)


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

    def _rows(self) -> Tensor | None:
        """Indices of the active members, or None when every member is active (the common case).

        Updates are done in place on the parameters and state when every member is active; otherwise on the
        active members' rows only (gathered, updated, scattered back), so that diverged members cost nothing.
        """
        return None if bool(self.active.all()) else self.active.nonzero().squeeze(1)

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
        rows = self._rows()
        lr, decay, momentum = (
            take_rows(v, rows) for v in (self.lr * lr_scale, self.weight_decay, self.momentum)
        )
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            w, g = take_rows(p, rows), take_rows(p.grad, rows)
            if self.use_decay:
                g = g + per_member(decay, w) * w
            if self.use_momentum:
                if self.buffers[i] is None:  # the first step sets the buffer to the gradient, as torch does
                    self.buffers[i] = torch.zeros_like(p)
                    buf = take_rows(self.buffers[i], rows).add_(g)
                else:
                    buf = take_rows(self.buffers[i], rows).mul_(per_member(momentum, w)).add_(g)
                put_rows(self.buffers[i], rows, buf)
                g = buf
            w.sub_(per_member(lr, w) * g)
            put_rows(p, rows, w)


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
        rows = self._rows()
        lr, decay = take_rows(self.lr * lr_scale, rows), take_rows(self.weight_decay, rows)
        shrink = None if not bool((decay != 0).any()) else 1 - lr * decay
        step_size = lr / bc1
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            w, g, m_r, v_r = (take_rows(t, rows) for t in (p, p.grad, m, v))
            # the order and rounding of torch.optim.AdamW's single-tensor update, in place
            if shrink is not None:
                w.mul_(per_member(shrink, w))
            m_r.lerp_(g, 1 - self.beta1)
            v_r.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            denom = v_r.sqrt().div_(bc2_sqrt).add_(self.eps)
            w.addcdiv_(m_r, denom.div_(per_member(step_size, w)), value=-1.0)
            for t, new in ((p, w), (m, m_r), (v, v_r)):
                put_rows(t, rows, new)
