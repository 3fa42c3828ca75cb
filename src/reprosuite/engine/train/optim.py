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


# SGD updates ensembles whose largest parameter has at most this many bytes with torch._foreach_* operations
SMALL_BYTES = 128 * 2**10


def first(value: float | Sequence[float] | Tensor) -> float:
    """A hyperparameter's value for the first member, as a Python float (what torch.optim computes with)."""
    return float(torch.as_tensor(value, dtype=torch.float64).reshape(-1)[0])


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
        self._scratch: Tensor | None = None
        # one member on a CPU (members trained in turn, layers.train_parts): SGD takes torch.optim's own
        # single-tensor update with Python numbers, one pass over the parameters fewer and the stock optimiser's
        # rounding. AdamW keeps the ensemble's update, so that a member's Adam trajectory does not depend on how
        # the members are grouped: its normalised step turns a last-bit difference into 1e-3 within 20 steps
        self.single = self.size == 1 and like.device.type == "cpu"
        self.floats = {"lr": first(lr), "weight_decay": first(weight_decay)}  # as given, unrounded (single)

    def scratch(self, p: Tensor) -> Tensor:
        """A buffer shaped like ``p`` for a step's intermediate (``out=`` of the same operation as before, so the
        same rounding): one allocation for all parameters and steps, instead of a fresh tensor per parameter and
        step, which on a CPU costs page faults for every large parameter (the step of a 784-400-400-10 member
        took 1.6x longer than torch.optim's without it)."""
        n = max(q.numel() for q in self.params)
        if self._scratch is None or self._scratch.dtype != p.dtype or self._scratch.device != p.device:
            self._scratch = torch.empty(n, dtype=p.dtype, device=p.device)
        return self._scratch[: p.numel()].view_as(p)

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
    """SGD with optional momentum (``nesterov``: Nesterov's) and L2 weight decay, as
    ``torch.optim.SGD(dampening=0)``."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr, weight_decay)
        if nesterov and not bool((member_tensor(momentum, self.size, self.params[0]) > 0).all()):
            raise ValueError("Nesterov momentum needs a momentum > 0 for every member")
        self.nesterov = bool(nesterov)
        self.momentum = member_tensor(momentum, self.size, self.params[0])
        self.floats["momentum"] = first(momentum)
        self.use_momentum = bool((self.momentum != 0).any())
        self.use_decay = bool((self.weight_decay != 0).any())  # skip a pass over every parameter when off
        self.buffers: list[Tensor | None] = [None] * len(self.params)
        # small parameters: the same operations on all of them at once (torch._foreach_*, the same kernels per
        # tensor, so the same rounding), where a Python loop's overhead per operation would dominate
        self.small = max(p.numel() * p.element_size() for p in self.params) <= SMALL_BYTES
        self._views: dict[str, list[Tensor]] | None = None

    def _state(self) -> dict:
        return {"buffers": self.buffers}

    def _load(self, state: dict) -> None:
        self.buffers = state["buffers"]

    @torch.no_grad()
    def step(self, lr_scale: float = 1.0) -> None:
        if self.single:
            return self._step_single(lr_scale)
        lr = self._member_lr(lr_scale)
        started = {b is None for b in self.buffers}
        if self.small and len(started) == 1 and all(p.grad is not None for p in self.params):
            return self._step_small(lr)
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.use_decay:  # g + wd·p (the sum is the same either way round)
                g = torch.mul(p, per_member(self.weight_decay, p), out=self.scratch(p)).add_(g)
            if self.use_momentum:
                if self.buffers[i] is None:  # the first step sets the buffer to the gradient, as torch does
                    self.buffers[i] = g.clone()
                else:
                    self.buffers[i].mul_(per_member(self.momentum, p)).add_(g)
                if self.nesterov:  # g + momentum·buffer
                    g = torch.mul(self.buffers[i], per_member(self.momentum, p)).add_(g)
                else:
                    g = self.buffers[i]
            p.sub_(torch.mul(g, per_member(lr, p), out=self.scratch(p)))  # p − lr·g

    def _step_small(self, lr: Tensor) -> None:
        """The update of :meth:`step`, operation by operation, each on every parameter at once."""
        params = self.params
        if self._views is None:  # (S,) hyperparameters viewed as (S, 1, …) against each parameter, made once
            self._lr_now = torch.empty_like(self.lr)
            self._views = {
                name: [per_member(v, p) for p in params]
                for name, v in (
                    ("lr", self._lr_now),
                    ("decay", self.weight_decay),
                    ("momentum", self.momentum),
                )
            }
        self._lr_now.copy_(lr)
        grads = [p.grad for p in params]
        if self.use_decay:
            decayed = torch._foreach_mul(params, self._views["decay"])
            torch._foreach_add_(decayed, grads)
            grads = decayed
        if self.use_momentum:
            if self.buffers[0] is None:
                self.buffers = [g.clone() for g in grads]
            else:
                torch._foreach_mul_(self.buffers, self._views["momentum"])
                torch._foreach_add_(self.buffers, grads)
            if self.nesterov:
                ahead = torch._foreach_mul(self.buffers, self._views["momentum"])
                torch._foreach_add_(ahead, grads)
                grads = ahead
            else:
                grads = self.buffers
        torch._foreach_sub_(params, torch._foreach_mul(grads, self._views["lr"]))

    def _step_single(self, lr_scale: float) -> None:
        """torch.optim.SGD's single-tensor step (dampening 0) for a one-member ensemble."""
        if not bool(self.active[0]):  # diverged: left as it was
            return
        lr, decay, momentum = (
            self.floats["lr"] * lr_scale,
            self.floats["weight_decay"],
            self.floats["momentum"],
        )
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad if decay == 0 else p.grad.add(p, alpha=decay)
            if momentum != 0:
                if self.buffers[i] is None:
                    self.buffers[i] = g.clone()
                else:
                    self.buffers[i].mul_(momentum).add_(g)
                g = g.add(self.buffers[i], alpha=momentum) if self.nesterov else self.buffers[i]
            p.add_(g, alpha=-lr)


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
            denom = torch.sqrt(v, out=self.scratch(p)).div_(bc2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom.div_(per_member(step_size, p)), value=-1.0)
