"""Ensembles of recurrent sequence models, with a leading member dimension S.

:class:`EnsembleRecurrent` unrolls one of four cores over a sequence of input vectors and maps every time step's
core output through ``relu → Linear`` to logits:

- ``rnn``: vanilla RNN, h ← tanh(W_x x + W_h h + b);
- ``lstm``: LSTM with gates (i, g, f, o) from one affine map of [x, h] and a forget-gate bias of +1 added in the
  forward pass, c ← σ(f + 1)·c + σ(i)·tanh(g), h ← σ(o)·tanh(c);
- ``stack``: a vanilla RNN that reads the top of a differentiable stack (Joulin & Mikolov 2015, arXiv:1503.01007):
  each step a softmax over (push, pop, no-op) and a pushed value Linear(h) update every stack cell as the convex
  combination of what each action would leave there (pop fills the bottom with zeros);
- ``tape``: a vanilla RNN that reads the cell under the head of a circular tape; each step it writes MLP(h) into
  that cell, then a softmax over (stay, −1, +1, −n, +n) moves the head, n the input length given to ``forward``
  (the tape is rolled, so the head always sits at cell 0).

Weights are explicit batched tensors; member ``s`` is drawn from its own generator seeded with ``seeds[s]``
(:func:`reprosuite.engine.models.layers.generators`), in the same order for every member, so a member equals the
same model built alone with that seed. Weights are N(0, 1/fan_in), biases zero; as in Haiku's cores, the RNN's
input matrix acts on [x, memory read] and the LSTM's single matrix on [x, h], so fan_in counts all of them
(``fan_in_mode="joint"``); ``"blocks"`` draws each block with its own fan-in (as separate ``nn.Linear`` layers).
A stack deeper than the sequence is cut to T cells (exact: cell i is written only after i + 1 pushes). The input
projection of all time steps is one batched product before the loop; each step then costs one ``bmm`` per recurrent
matrix for the whole ensemble, so the Python overhead of the time loop is paid once for all members.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from reprosuite.engine.models.layers import generators, init_weight

KINDS = ("rnn", "lstm", "stack", "tape")
STACK_ACTIONS = 3  # push, pop, no-op
TAPE_ACTIONS = 5  # stay, left, right, jump left by n, jump right by n


class EnsembleRecurrent(nn.Module):
    """S recurrent nets of one ``kind``; ``forward(x)`` maps inputs (B, T, in) common to all members or (S, B, T, in) per member
    to logits (S, B, T, out). ``cell`` is the size of a stack/tape cell, ``depth`` the number of stack cells (the
    tape has one cell per time step unless ``depth`` is larger), ``mlp`` the hidden sizes of the tape's write MLP.
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden: int,
        output_size: int,
        seeds: Sequence[int],
        cell: int = 8,
        depth: int = 30,
        mlp: Sequence[int] = (64, 64),
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
        fan_in_mode: str = "joint",
    ):
        super().__init__()
        if fan_in_mode not in ("joint", "blocks"):
            raise ValueError(f"fan_in_mode must be 'joint' or 'blocks', got {fan_in_mode!r}")
        if kind not in KINDS:
            raise ValueError(f"unknown recurrent kind {kind!r}; choose from {KINDS}")
        self.kind, self.hidden, self.cell, self.depth = kind, hidden, cell, depth
        gens = generators(seeds)
        memory = cell if kind in ("stack", "tape") else 0
        gates = 4 * hidden if kind == "lstm" else hidden

        def weight(fan_in: int, fan_out: int, parts: Sequence[int] = ()) -> nn.Parameter | list[nn.Parameter]:
            if parts and fan_in_mode == "blocks":  # each block N(0, 1/its own fan-in)
                return [weight(p, fan_out) for p in parts]
            w = init_weight((fan_out, fan_in), "gaussian_fan_in", gens).transpose(1, 2)  # (S, in, out)
            w = w.to(device=device, dtype=dtype)
            if not parts:
                return nn.Parameter(w.contiguous())
            return [nn.Parameter(p.contiguous()) for p in w.split(list(parts), dim=1)]

        def bias(n: int) -> nn.Parameter:
            return nn.Parameter(torch.zeros(len(gens), 1, n, device=device, dtype=dtype))

        # one affine map of the core's whole input, as Haiku's cores: [x, memory read] for the RNN's input
        # matrix (and [x, memory read, h] for the LSTM's single matrix), split into its blocks
        inputs = [input_size, memory] if memory else [input_size]
        if kind == "lstm":
            self.w_x, self.w_h = weight(input_size + hidden, gates, [input_size, hidden])
        else:
            ws = weight(sum(inputs), gates, inputs)
            self.w_x, self.w_h = ws[0], weight(hidden, gates)
            if memory:
                self.w_m = ws[1]  # the read memory cell enters the core like an input
        self.b = bias(gates)
        if memory:
            actions = STACK_ACTIONS if kind == "stack" else TAPE_ACTIONS
            self.w_a, self.b_a = weight(hidden, actions), bias(actions)
            sizes = [hidden, *(mlp if kind == "tape" else ()), memory]
            self.w_write = nn.ParameterList(weight(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True))
            self.b_write = nn.ParameterList(bias(o) for o in sizes[1:])
        self.w_out, self.b_out = weight(hidden, output_size), bias(output_size)

    @property
    def size(self) -> int:
        return self.w_x.shape[0]

    def _write(self, h: Tensor) -> Tensor:
        for i, (w, b) in enumerate(zip(self.w_write, self.b_write, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.w_write) - 1:
                h = torch.relu(h)
        return h

    def forward(self, x: Tensor, input_length: int | None = None, return_entropy: bool = False):
        """Logits (S, B, T, out); with ``return_entropy`` also the mean entropy (nats) of the memory actions per
        member (S,) (zeros without memory). ``input_length`` (the tape's jump) defaults to T."""
        S = self.size
        if x.dim() == 3:
            x = x.unsqueeze(0).expand(S, *x.shape)
        _, B, T, _ = x.shape
        H = self.hidden
        xp = (x.reshape(S, B * T, -1) @ self.w_x).view(S, B, T, -1) + self.b.unsqueeze(1)
        h = x.new_zeros(S, B, H)
        c = x.new_zeros(S, B, H) if self.kind == "lstm" else None
        mem = None
        if self.kind == "stack":  # cells below T can never be reached in T steps: dropping them is exact
            mem = x.new_zeros(S, B, min(self.depth, T), self.cell)
        elif self.kind == "tape":
            mem = x.new_zeros(S, B, max(self.depth, T), self.cell)
        n = T if input_length is None else int(input_length)
        outs, entropy = [], x.new_zeros(S)
        for t in range(T):
            pre = torch.baddbmm(xp[:, :, t], h, self.w_h)
            if mem is not None:
                # a copy of the read cell: the product keeps it, not the whole memory, for backward
                pre = torch.baddbmm(pre, mem[:, :, 0].contiguous(), self.w_m)
            if self.kind == "lstm":
                i, g, f, o = pre.chunk(4, dim=-1)
                c = torch.sigmoid(f + 1.0) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:
                h = torch.tanh(pre)
            if mem is not None:
                logits_a = torch.baddbmm(self.b_a, h, self.w_a)
                a = torch.softmax(logits_a, dim=-1)  # (S, B, A)
                if return_entropy:
                    entropy = entropy - (a * torch.log_softmax(logits_a, -1)).sum(-1).mean(1) / T
                value = self._write(h)  # (S, B, C)
                mem = stack_update(mem, a, value) if self.kind == "stack" else tape_update(mem, a, value, n)
            outs.append(h)
        out = torch.stack(outs, dim=2)  # (S, B, T, H)
        logits = (torch.relu(out).reshape(S, B * T, H) @ self.w_out).view(S, B, T, -1) + self.b_out.unsqueeze(
            1
        )
        return (logits, entropy) if return_entropy else logits


def stack_update(stack: Tensor, actions: Tensor, value: Tensor) -> Tensor:
    """One soft stack step. stack (…, D, C) with cell 0 the top, actions (…, 3) = (push, pop, no-op) weights,
    value (…, C) the pushed vector: each cell becomes Σ_a actions[a] · (what action a leaves there). Each weight
    multiplies the stack before it is shifted, so autograd keeps one reference to ``stack`` per step, not a
    shifted copy per action."""
    push, pop, noop = (actions[..., k, None, None] for k in range(STACK_ACTIONS))
    pushed = torch.cat([(push[..., 0, :] * value).unsqueeze(-2), (push * stack)[..., :-1, :]], dim=-2)
    popped = torch.cat([(pop * stack)[..., 1:, :], torch.zeros_like(stack[..., :1, :])], dim=-2)
    return pushed + popped + noop * stack


def tape_update(tape: Tensor, actions: Tensor, value: Tensor, jump: int) -> Tensor:
    """One soft tape step. tape (…, M, C) with the head at cell 0, actions (…, 5) = weights of (stay, left, right,
    jump left, jump right), value (…, C) written at the head before it moves; a move by k cells rolls the tape so
    that the new head cell is old cell k (left: k = +1, right: k = −1, jumps: ± ``jump``). Each weight multiplies
    the written tape before it is rolled (one saved tensor per step instead of one rolled copy per action)."""
    written = torch.cat([value.unsqueeze(-2), tape[..., 1:, :]], dim=-2)
    out = actions[..., 0, None, None] * written
    for k, shift in enumerate((-1, 1, -jump, jump), start=1):
        out = out + torch.roll(actions[..., k, None, None] * written, shifts=shift, dims=-2)
    return out
