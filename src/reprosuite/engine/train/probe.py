"""Measuring a training job's cost from its first steps, at its real shapes (``reprosuite probe``).

Inside :func:`probing`, every :func:`reprosuite.engine.train.trainer.fit` runs only its first ``steps`` updates
(evaluating on its own schedule up to there, or once at the last step it ran where none was scheduled), times
the updates and the evaluations apart, and records how many of each the whole fit would run. A loop of a study's
own that reports through :class:`~reprosuite.engine.train.trainer.Progress` is timed by its progress lines and
stopped with :class:`ProbeStop` once the probe's time limit is spent. A job that trains several fits alike in turn
(groups of members at the same shapes) asks :func:`alike` how many to run: under a probe the first only, counted
for all; an evaluation that goes through its data in chunks asks :func:`chunks` which to run: under a probe the
first, timed for all. :mod:`reprosuite.costs` extrapolates the job from these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field


class ProbeStop(Exception):
    """The probe stops the job: its time limit ran out inside a loop it cannot shorten, or (a check) the job's
    first fits are done. The timings so far are kept."""


@dataclass
class FitTiming:
    """One fit under the probe: the steps and evaluations the whole fit would run, those it ran, their time."""

    label: str
    steps: int
    evals: int
    ran_steps: int = 0
    ran_evals: int = 0
    step_times: list[float] = field(default_factory=list)
    eval_s: float = 0.0
    repeats: int = 1  # fits alike that this one stands for (:func:`alike`), itself included

    def step_s(self) -> float:
        """Seconds per update: the median after the first (which pays for allocation and warm-up)."""
        times = sorted(self.step_times[1:] or self.step_times)
        return times[len(times) // 2] if times else 0.0

    def projected_s(self) -> float:
        """The whole fit's seconds, times the fits alike it stands for."""
        per_eval = self.eval_s / self.ran_evals if self.ran_evals else 0.0
        return (self.steps * self.step_s() + self.evals * per_eval) * self.repeats

    def ran_s(self) -> float:
        return sum(self.step_times) + self.eval_s


@dataclass
class LoopTiming:
    """A study's own loop, timed by its progress lines: units done of ``total`` in ``seconds``."""

    label: str
    total: int
    done: int = 0
    seconds: float = 0.0


class Probe:
    """The probe of one job. ``clock`` times its steps, evaluations and loops: the process's CPU time for a CPU job
    (``cpu_clock``: one thread, so its CPU seconds are the seconds it takes on a core of its own, however busy the
    probing machine is), wall time for a GPU job (whose work runs on the device). Its time limit is wall time."""

    def __init__(
        self,
        steps: int,
        limit_s: float,
        cpu_clock: bool = False,
        evaluate: bool = True,
        fits: int | None = None,
    ):
        if steps < 1:
            raise ValueError(f"a probe runs at least one step per fit, not {steps}")
        if fits is not None and fits < 1:
            raise ValueError(f"a probe runs at least one fit, not {fits}")
        self.steps, self.limit_s = steps, limit_s
        # a check (``evaluate=False``, ``fits``): no evaluation, and the job stops when its first fits are done
        self.evaluate, self.max_fits = evaluate, fits
        self.clock = time.process_time if cpu_clock else time.perf_counter
        self.start = time.perf_counter()
        self.fits: list[FitTiming] = []
        self.loops: list[LoopTiming] = []
        self.repeats = 1  # for the next fit (:func:`alike`)
        self.eval_scale = 1  # for the evaluation under way (:func:`chunks`)

    def out_of_time(self) -> bool:
        return time.perf_counter() - self.start > self.limit_s


_ACTIVE: Probe | None = None


def active() -> Probe | None:
    return _ACTIVE


@contextmanager
def probing(
    steps: int,
    limit_s: float = 120.0,
    cpu_clock: bool = False,
    evaluate: bool = True,
    fits: int | None = None,
) -> Iterator[Probe]:
    """Fits run their first ``steps`` updates only; loops timed by progress lines stop after ``limit_s``.
    ``evaluate=False``: fits evaluate nothing; ``fits``: the job stops (:class:`ProbeStop`) at its fit ``fits + 1``
    (fits without updates to run not counted)."""
    global _ACTIVE
    _ACTIVE = probe = Probe(steps, limit_s, cpu_clock, evaluate, fits)
    try:
        yield probe
    finally:
        _ACTIVE = None


def alike(count: int) -> int:
    """How many of ``count`` fits alike to run: a job that trains them in turn, each with the same code at the same
    shapes (e.g. groups of members, the largest first), runs all ``count`` of them; under a probe it runs the first
    only, and its projected time stands for all ``count`` (an upper bound where the others are smaller)."""
    if count < 1:
        raise ValueError(f"a job runs at least one fit, not {count}")
    probe = active()
    if probe is None:
        return count
    probe.repeats = count
    return 1


def chunks(starts: Sequence[int]) -> Sequence[int]:
    """The chunks of an evaluation to run (their starts): all of them; under a probe the first only, and the
    evaluation's time counts ``len(starts)`` times (an upper bound where the last chunk is smaller). For an
    evaluation that goes through its data in equal chunks, once per evaluation."""
    probe = active()
    if probe is None or len(starts) <= 1:
        return starts
    probe.eval_scale = len(starts)
    return starts[:1]


def synchronize(tensor) -> None:
    """Wait for the device, so that a timer around GPU work measures the work and not its launch."""
    if tensor.is_cuda:
        import torch

        torch.cuda.synchronize(tensor.device)
