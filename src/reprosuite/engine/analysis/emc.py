"""Effective model complexity (EMC): the largest training-set size that a training procedure fits exactly.

EMC (Nakkiran et al. 2020, "Deep double descent", §3) is the largest ``n`` such that the procedure, run on ``n``
samples, reaches 100 % training accuracy. It is found here by **doubling** ``n`` from ``start`` until a run fails,
then by ``bisections`` bisection steps between the largest fitted and the smallest failed size.

A run that ends because its step budget ran out (neither fitted nor stationary) is **censored**: the search treats
it as not fitted, and the EMC it reports is then only a lower bound (``Search.censored``). Likewise when ``n_max``
itself is fitted. The search is driven either by a callback (:func:`search`) or step by step (:meth:`Search.next`
and :meth:`Search.report`) so that many searches can advance together, e.g. the members of one batched model
each with its own ``n``; :meth:`Search.from_trials` rebuilds a search from its log (for resuming a job).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Trial:
    n: int
    fitted: bool
    censored: bool = False


class Search:
    """One EMC search: doubling from ``start`` (capped at ``n_max``), then ``bisections`` bisection steps."""

    def __init__(self, start: int = 64, bisections: int = 3, n_max: int | None = None):
        if start < 1 or bisections < 0 or (n_max is not None and n_max < start):
            raise ValueError(f"bad EMC search: start={start}, bisections={bisections}, n_max={n_max}")
        self.start, self.bisections, self.n_max = start, bisections, n_max
        self.trials: list[Trial] = []

    @classmethod
    def from_trials(cls, trials: Sequence[Trial | tuple], **kwargs) -> Search:
        s = cls(**kwargs)
        for t in trials:
            t = t if isinstance(t, Trial) else Trial(int(t[0]), bool(t[1]), bool(t[2]))
            if s.next() != t.n:
                raise ValueError(f"trial log does not follow this search: expected n={s.next()}, got {t.n}")
            s.trials.append(t)
        return s

    @property
    def lo(self) -> int:
        """The largest fitted size so far (0 if none)."""
        return max((t.n for t in self.trials if t.fitted), default=0)

    @property
    def hi(self) -> int | None:
        """The smallest size that failed so far (None while every run fitted)."""
        return min((t.n for t in self.trials if not t.fitted), default=None)

    def next(self) -> int | None:
        """The next size to try, or None when the search is over."""
        if not self.trials:
            return self.start
        lo, hi = self.lo, self.hi
        if hi is None:
            if self.n_max is not None and lo >= self.n_max:
                return None
            nxt = 2 * lo
            return nxt if self.n_max is None else min(nxt, self.n_max)
        first_fail = next(i for i, t in enumerate(self.trials) if not t.fitted)
        done_bisections = len(self.trials) - first_fail - 1
        if done_bisections >= self.bisections or hi - lo <= 1:
            return None
        return (lo + hi) // 2

    def report(self, fitted: bool, censored: bool = False) -> None:
        n = self.next()
        if n is None:
            raise RuntimeError("the search is over; nothing to report")
        if fitted and censored:
            raise ValueError("a fitted run is not censored")
        self.trials.append(Trial(n, bool(fitted), bool(censored)))

    @property
    def done(self) -> bool:
        return self.next() is None

    @property
    def emc(self) -> int:
        """The EMC found: the largest fitted size (0 if even ``start`` failed)."""
        return self.lo

    @property
    def censored(self) -> bool:
        """Whether the EMC is only a lower bound: a larger size ran out of budget, or ``n_max`` was fitted."""
        if any(t.censored and t.n > self.emc for t in self.trials):
            return True
        return self.hi is None and self.n_max is not None and self.emc >= self.n_max

    @property
    def consistent(self) -> bool:
        """Whether the log is monotone: every size tried at or below the EMC was fitted, every size above failed."""
        return all(t.fitted == (t.n <= self.emc) for t in self.trials)


def search(
    fits: Callable[[int], tuple[bool, bool]], start: int = 64, bisections: int = 3, n_max: int | None = None
) -> Search:
    """Run one EMC search with ``fits(n) -> (fitted, censored)``; returns the finished :class:`Search`."""
    s = Search(start, bisections, n_max)
    while (n := s.next()) is not None:
        fitted, censored = fits(n)
        s.report(fitted, censored and not fitted)
    return s
