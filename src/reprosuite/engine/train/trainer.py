"""The one training loop of the suite: an ensemble of S members trained in lock-step.

A study supplies ``loss_fn(step) -> (S,)`` per-member losses and ``evaluate(step) -> {(split, metric): (S,)}``;
the loop does the rest — logging on a schedule, divergence masking, learning-rate schedule, progress lines with
rate and ETA, and early stopping once every member is done.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from reprosuite.engine.train import checkpoint as ckpt_mod
from reprosuite.engine.train import probe as probe_mod
from reprosuite.engine.train.optim import EnsembleOptimizer


def log_schedule(steps: int, points: int = 100, spacing: str = "log", every: int = 0) -> list[int]:
    """Steps at which to evaluate: 0, ``steps`` and ~``points`` in between, log- or linearly spaced, and with
    ``every`` > 0 also every ``every``-th step (a dense grid for first-crossing times)."""
    if spacing == "log":
        grid = np.unique(np.round(np.geomspace(1, max(steps, 1), points)).astype(int))
    else:
        grid = np.unique(np.round(np.linspace(0, steps, points + 1)).astype(int))
    dense = range(0, steps + 1, every) if every > 0 else ()
    return sorted({0, steps, *(int(s) for s in grid if 0 <= s <= steps), *dense})


class History:
    """Per-member metric values over steps, kept on the device until :meth:`frame` is called.

    Each metric's values live in one float64 buffer of rows (steps × members) that doubles when full; the records
    hold views of its rows. A small tensor allocated per logged value would instead be carved by the C library's
    allocator out of the block a large temporary of the evaluation had just freed, so that the next temporary no
    longer fits there and the heap grows by about its size at every evaluation (a job of 2,000 evaluations grew
    to 7.1 GB where its first steps needed 2.7 GB: ``benchmarks/RESULTS.md``).
    """

    def __init__(self, size: int):
        self.size = size
        self.records: dict[tuple[str, str], tuple[list[int], list[Tensor]]] = {}
        self.diverged_at = torch.full((size,), math.nan, dtype=torch.float64)
        self._buffers: dict[tuple[str, str], Tensor] = {}

    def log(self, step: int, split: str, metric: str, values: Tensor) -> None:
        key = (split, metric)
        steps, vals = self.records.setdefault(key, ([], []))
        values = values.detach().reshape(self.size)
        buf, n = self._buffers.get(key), len(vals)
        # a new buffer when full, on another device, or when the records were changed other than by log
        if (
            buf is None
            or n >= len(buf)
            or buf.device != values.device
            or (n and vals[-1].data_ptr() != buf[n - 1].data_ptr())
        ):
            buf = torch.empty(max(16, 2 * n), self.size, dtype=torch.float64, device=values.device)
            if n:
                buf[:n] = torch.stack([v.to(values.device) for v in vals])
                vals[:] = buf[:n].unbind(0)
            self._buffers[key] = buf
        buf[n].copy_(values)  # the same cast as .to(torch.float64)
        steps.append(step)
        vals.append(buf[n])

    def state_dict(self) -> dict:
        return {
            "keys": [list(k) for k in self.records],
            "steps": [torch.tensor(st, dtype=torch.int64) for st, _ in self.records.values()],
            "values": [torch.stack(v).cpu() for _, v in self.records.values()],
            "diverged_at": self.diverged_at,
        }

    def load_state_dict(self, state: dict) -> None:
        self._buffers = {}
        self.records = {
            (split, metric): (steps.tolist(), list(values.unbind(0)))
            for (split, metric), steps, values in zip(
                state["keys"], state["steps"], state["values"], strict=True
            )
        }
        self.diverged_at = state["diverged_at"].clone()

    def frame(
        self,
        seeds: Sequence[int],
        variants: Sequence[str] | None = None,
        members: Mapping[str, Sequence] | None = None,
    ) -> pd.DataFrame:
        """The tidy long table: one row per (member, step, split, metric).

        ``members`` gives typed columns of member hyperparameters (e.g. ``{"wd": [0.0, 1.0, …]}``, one value per
        member), carried on every row so that later stages select members by value, not by parsing strings.
        """
        variants = list(variants) if variants is not None else [""] * self.size
        members = {k: list(v) for k, v in (members or {}).items()}
        if len(seeds) != self.size or len(variants) != self.size:
            raise ValueError(f"{len(seeds)} seeds / {len(variants)} variants for {self.size} members")
        bad = [k for k, v in members.items() if len(v) != self.size]
        if bad:
            raise ValueError(f"member columns {bad} need one value per member ({self.size})")
        parts = []
        for (split, metric), (steps, vals) in self.records.items():
            v = torch.stack(vals).cpu().numpy()  # (T, S)
            t = len(steps)
            parts.append(
                pd.DataFrame(
                    {
                        "variant": np.tile(variants, t),
                        **{k: np.tile(np.asarray(v), t) for k, v in members.items()},
                        "seed": np.tile(np.asarray(seeds, dtype=np.int64), t),
                        "step": np.repeat(np.asarray(steps, dtype=np.int64), self.size),
                        "split": split,
                        "metric": metric,
                        "value": v.reshape(-1),
                    }
                )
            )
        last = max((s[-1] for s, _ in self.records.values()), default=0)
        parts.append(
            pd.DataFrame(
                {
                    "variant": variants,
                    **{k: np.asarray(v) for k, v in members.items()},
                    "seed": np.asarray(seeds, dtype=np.int64),
                    "step": last,
                    "split": "train",
                    "metric": "diverged_at",
                    "value": self.diverged_at.numpy(),
                }
            )
        )
        return pd.concat(parts, ignore_index=True)


def merge(parts: Sequence[tuple[History, Sequence[int]]], size: int, end: int | None = None) -> History:
    """One History of ``size`` members from the Histories of groups of them trained apart (one group after
    another, to fit memory or cache): ``parts`` = (a group's History, its members' positions). Every record at each
    step any group logged up to ``end`` (default: all of them), NaN for a group that did not log that step (a fit
    stops early once all its members have diverged), which is what one ensemble of all members would log."""
    merged = History(size)
    for history, members in parts:
        merged.diverged_at[list(members)] = history.diverged_at.cpu()
    for key in parts[0][0].records:
        logs = [(history.records[key], list(members)) for history, members in parts]
        steps = sorted({s for (st, _), _ in logs for s in st if end is None or s <= end})
        for step in steps:
            values = torch.full((size,), math.nan, dtype=torch.float64)
            for (st, vals), members in logs:
                if step in st:
                    values[members] = vals[st.index(step)].cpu()
            merged.log(step, key[0], key[1], values)
    return merged


class Progress:
    """Progress lines on stderr (the job's log): steps done, rate, ETA, at most every ``every_s`` seconds."""

    def __init__(self, total: int, label: str = "", every_s: float = 10.0, stream=None, probed: bool = True):
        self.total, self.label, self.every_s = total, label, every_s
        self.stream = stream or sys.stderr
        self.start = self.last = time.perf_counter()
        # a study's own loop is timed by its progress under a probe (fit times its own steps)
        probe = probe_mod.active() if probed else None
        self.timing = None
        if probe is not None:
            self.timing = probe_mod.LoopTiming(label, total)
            self.clock, self.clock_start = probe.clock, probe.clock()
            probe.loops.append(self.timing)

    def update(self, step: int, force: bool = False) -> None:
        now = time.perf_counter()
        if self.timing is not None:
            self.timing.done, self.timing.seconds = step, self.clock() - self.clock_start
            if probe_mod.active() is not None and probe_mod.active().out_of_time() and step < self.total:
                raise probe_mod.ProbeStop(self.label)
        if not force and now - self.last < self.every_s:
            return
        self.last = now
        rate = step / max(now - self.start, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else math.inf
        print(
            f"[{self.label}] step {step}/{self.total} ({100 * step / max(self.total, 1):.0f}%), "
            f"{rate:.0f} steps/s, ETA {eta:.0f}s",
            file=self.stream,
            flush=True,
        )


def fit(
    loss_fn: Callable[[int], Tensor],
    optimizer: EnsembleOptimizer,
    steps: int,
    evaluate: Callable[[int], dict[tuple[str, str], Tensor]],
    log_steps: Sequence[int],
    lr_scale: Callable[[int], float] | None = None,
    done: Callable[[History], bool] | None = None,
    label: str = "",
    generators: Sequence[torch.Generator] = (),
    buffers: Sequence[Tensor] = (),
) -> History:
    """Train ``optimizer.params`` for ``steps`` steps; evaluate at ``log_steps`` (state before that step's update).

    ``done(history)``, checked after each evaluation, stops early; it must depend on the history only, so that a
    resumed run stops where the uninterrupted one did. ``generators`` are the study's own random generators (data
    order, noise): their states are checkpointed with the parameters. ``buffers`` are tensors the study updates
    in place during training (e.g. a per-example record); they are checkpointed and restored in place too.
    """
    history = History(optimizer.size)
    to_log = set(log_steps) | {steps}
    ckpt = ckpt_mod.active()
    path = ckpt.next_path() if ckpt is not None else None
    first = 0
    state = ckpt.load(path) if ckpt is not None else None
    if state is not None:
        first = _restore(state, optimizer, history, generators, buffers)
        print(f"[{label}] resumed from {path} at step {first}", file=sys.stderr, flush=True)
        if state["complete"]:
            return history
    progress = Progress(steps, label, probed=False)
    # under a probe (reprosuite probe): the first steps only, timed, with the evaluations scheduled among them
    probe = probe_mod.active()
    last, timing = steps, None
    clock = time.perf_counter if probe is None else probe.clock
    if probe is not None:
        if probe.max_fits is not None and sum(f.steps > 0 for f in probe.fits) >= probe.max_fits:
            raise probe_mod.ProbeStop(f"{label}: a check runs the job's first {probe.max_fits} fit(s)")
        last = min(steps, first + probe.steps)
        evals = len([s for s in to_log if first <= s <= steps])
        timing = probe_mod.FitTiming(label, steps - first, evals, repeats=probe.repeats)
        probe.fits.append(timing)
        probe.repeats = 1
        # one evaluation is timed at least: the last step run, where none was scheduled up to there
        scheduled = any(first <= s <= last for s in to_log)
        to_log = set() if not probe.evaluate else to_log if scheduled else to_log | {last}
    step = first
    for step in range(first, last + 1):
        # checkpoint: at a step boundary, on schedule or when asked to stop
        if ckpt is not None and step > first and ckpt.due():
            ckpt.save(path, _snapshot(step, False, optimizer, history, generators, buffers))
            if ckpt.stop_signal is not None:
                raise ckpt_mod.Preempted(ckpt.stop_signal)
        # evaluate: log the state reached after `step` updates
        if step in to_log:
            began = clock() if timing is not None else 0.0
            with torch.no_grad():
                for (split, metric), values in evaluate(step).items():
                    history.log(step, split, metric, values)
            if timing is not None:
                probe_mod.synchronize(optimizer.params[0])
                timing.eval_s += (clock() - began) * probe.eval_scale  # chunks: the first run, timed for all
                probe.eval_scale = 1
                timing.ran_evals += 1
            if done is not None and done(history):
                break
        if step == last:
            break
        began = clock() if timing is not None else 0.0  # only a probe times the steps
        # forward: one loss per member
        loss = loss_fn(step)
        # divergence: record the first non-finite step, freeze that member, let the others go on
        bad = ~torch.isfinite(loss.detach()) & optimizer.active
        if bool(bad.any()):
            history.diverged_at[bad.cpu()] = float(step)
            optimizer.active &= ~bad
            if not bool(optimizer.active.any()):
                break
        # backward: summing over members keeps their gradients independent
        optimizer.zero_grad()
        torch.where(optimizer.active, loss, torch.zeros_like(loss)).sum().backward()
        # update
        optimizer.step(1.0 if lr_scale is None else lr_scale(step))
        if timing is not None:
            probe_mod.synchronize(optimizer.params[0])
            timing.step_times.append(clock() - began)
            timing.ran_steps += 1
        progress.update(step + 1)
    progress.update(step, force=True)
    if ckpt is not None:
        # a finished fit is kept too, so that a job chaining several fits resumes at the right one
        ckpt.save(path, _snapshot(step, True, optimizer, history, generators, buffers))
    return history


def _snapshot(step, complete, optimizer, history, generators, buffers=()) -> dict:
    return {
        "buffers": [b.detach().cpu().clone() for b in buffers],
        "step": step,
        "complete": complete,
        "params": [p.detach().cpu().clone() for p in optimizer.params],
        "optimizer": optimizer.state_dict(),
        "history": history.state_dict(),
        "rng": ckpt_mod.rng_state(generators),
    }


def _restore(state, optimizer, history, generators, buffers=()) -> int:
    with torch.no_grad():
        for p, saved in zip(optimizer.params, state["params"], strict=True):
            p.copy_(saved.to(p.device))
        for b, saved in zip(buffers, state.get("buffers", []), strict=True):
            b.copy_(saved.to(b.device))
    optimizer.load_state_dict(state["optimizer"])
    history.load_state_dict(state["history"])
    ckpt_mod.set_rng_state(state["rng"], generators)
    return int(state["step"])
