"""Checkpoints of training jobs: resume after a kill, a time limit or a preemption with identical results.

The pipeline opens :func:`checkpointing` around a study's ``train``; every call of :func:`trainer.fit` inside it
gets its own file (``fit0.pt``, ``fit1.pt``, … in call order, so studies that chain trainings resume too). A
checkpoint holds the step, the parameters, the optimiser state, the metric history and the RNG states (torch's
global generator and the generators the study registered), so a resumed CPU run is bit-for-bit the run that was
never interrupted. Files are written atomically and read with ``torch.load(weights_only=True)``, which cannot
execute code. SIGTERM and SIGUSR1 (what SLURM sends before a time limit or preemption) save a checkpoint at the
next step boundary and stop the job with :class:`Preempted`.
"""

from __future__ import annotations

import contextlib
import contextvars
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch

from reprosuite import io

_ACTIVE: contextvars.ContextVar[Checkpointer | None] = contextvars.ContextVar("checkpointer", default=None)
SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class Preempted(SystemExit):
    """The job was asked to stop; its state is saved and a rerun resumes it."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


class Checkpointer:
    def __init__(self, directory: str | Path, fingerprint: str, every_s: float = 60.0):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.every_s = every_s
        self.calls = 0
        self.stop_signal: int | None = None
        self.last_save = time.monotonic()

    def next_path(self) -> Path:
        path = self.directory / f"fit{self.calls}.pt"
        self.calls += 1
        return path

    def due(self) -> bool:
        return self.stop_signal is not None or time.monotonic() - self.last_save >= self.every_s

    def load(self, path: Path) -> dict | None:
        """The checkpoint at ``path`` if it exists and belongs to this run's config; else None."""
        if not path.exists():
            return None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # a corrupt checkpoint is not worth failing the job for: start over
            print(f"[checkpoint] ignoring unreadable {path}: {err}", flush=True)
            return None
        return state if state.get("fingerprint") == self.fingerprint else None

    def save(self, path: Path, state: dict) -> None:
        with io.atomic_path(path) as tmp:
            torch.save({**state, "fingerprint": self.fingerprint}, tmp)
        self.last_save = time.monotonic()


def active() -> Checkpointer | None:
    return _ACTIVE.get()


class Slot:
    """The next checkpoint file, for a study's own loop (``trainer.fit`` does the same for optimiser fits).

    ``state`` is what a killed run of this loop saved (None: start afresh, or no checkpointing active);
    ``save(make_state)`` writes ``make_state()`` when a save is due (or ``force``) and then stops the job if a
    signal asked it to, so that a rerun resumes from that state.
    """

    def __init__(self):
        self.ckpt = active()
        self.path = self.ckpt.next_path() if self.ckpt is not None else None
        self.state = self.ckpt.load(self.path) if self.ckpt is not None else None

    def save(self, make_state: Callable[[], dict], force: bool = False) -> None:
        if self.ckpt is None or not (force or self.ckpt.due()):
            return
        self.ckpt.save(self.path, make_state())
        if self.ckpt.stop_signal is not None:
            raise Preempted(self.ckpt.stop_signal)


@contextlib.contextmanager
def checkpointing(directory: str | Path, fingerprint: str, every_s: float = 60.0) -> Iterator[Checkpointer]:
    """Checkpoint every ``fit`` inside the block (the caller removes the directory once its output is safe)."""
    ckpt = Checkpointer(directory, fingerprint, every_s)
    previous = {}

    def on_signal(signum, frame):
        ckpt.stop_signal = signum

    with contextlib.suppress(ValueError):  # signal handlers can only be set in the main thread
        for sig in SIGNALS:
            previous[sig] = signal.signal(sig, on_signal)
    token = _ACTIVE.set(ckpt)
    try:
        yield ckpt
    finally:
        _ACTIVE.reset(token)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def rng_state(generators: Sequence[torch.Generator]) -> dict:
    return {"torch": torch.get_rng_state(), "generators": [g.get_state() for g in generators]}


def set_rng_state(state: dict, generators: Sequence[torch.Generator]) -> None:
    torch.set_rng_state(state["torch"])
    for g, s in zip(generators, state["generators"], strict=True):
        g.set_state(s)
