"""Claims, pass rules and verdicts.

A claim is checked on one measured value per seed. The verdict compares the 95 % confidence interval of the
mean (Student t over seeds) with the pass region of the claim's rule: **pass** when the whole interval lies in
the region, **fail** when none of it does, **inconclusive** when it straddles the boundary or nothing could be
measured. With a single seed there is no interval and the point estimate decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

VERDICTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Rule:
    """A pass region ``lo <= value <= hi`` (either bound may be open-ended)."""

    lo: float = -math.inf
    hi: float = math.inf

    @classmethod
    def at_least(cls, x: float) -> Rule:
        return cls(lo=x)

    @classmethod
    def at_most(cls, x: float) -> Rule:
        return cls(hi=x)

    @classmethod
    def between(cls, lo: float, hi: float) -> Rule:
        return cls(lo=lo, hi=hi)

    def contains(self, x: float) -> bool:
        return self.lo <= x <= self.hi

    def __str__(self) -> str:
        if self.lo == -math.inf:
            return f"<= {self.hi:g}"
        if self.hi == math.inf:
            return f">= {self.lo:g}"
        return f"in [{self.lo:g}, {self.hi:g}]"


@dataclass(frozen=True)
class Claim:
    """A claim of a paper: what is measured, the paper's number, and our pass rule."""

    id: str
    statement: str
    metric: str
    rule: Rule
    paper_value: float | None = None
    paper_text: str = ""
    tiers: tuple[str, ...] = ("smoke", "quick", "full")


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval; all-equal samples (even ±inf) give a zero-width CI."""
    x = np.asarray(values, dtype=float)
    if x.size == 0 or np.isnan(x).any():
        return math.nan, math.nan, math.nan
    if np.all(x == x[0]):
        return float(x[0]), float(x[0]), float(x[0])
    if not np.isfinite(x).all() or x.size < 2:
        return float(np.mean(x)), math.nan, math.nan
    # the Student-t quantile, as scipy.stats.t.ppf (scipy.special: 0.3 s to import, scipy.stats 0.9 s)
    from scipy.special import stdtrit

    m = float(np.mean(x))
    half = float(stdtrit(x.size - 1, 0.5 + level / 2) * np.std(x, ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def verdict(rule: Rule, values: Sequence[float]) -> str:
    x = np.asarray(values, dtype=float)
    if x.size == 0 or np.isnan(x).any():
        return "inconclusive"
    mean, lo, hi = mean_ci(x)
    if math.isnan(lo):
        # No interval: a single seed, or infinities mixed with finite values. Decide only if all seeds agree.
        inside = [rule.contains(v) for v in x]
        return "pass" if all(inside) else "fail" if not any(inside) else "inconclusive"
    if rule.contains(lo) and rule.contains(hi):
        return "pass"
    if hi < rule.lo or lo > rule.hi:
        return "fail"
    return "inconclusive"


def per_seed(metrics, metric: str, point: str | None = None, **members):
    """The values of one per-seed ``metric`` (at grid ``point``, and where typed member columns equal
    ``members``), as a Series indexed by seed in seed order: the input of a claim's :func:`measure`."""
    sel = metrics["metric"] == metric
    if point is not None:
        sel &= metrics["point"] == point
    for column, value in members.items():
        sel &= metrics[column] == value
    return metrics[sel].set_index("seed")["value"].sort_index()


def evaluate(claim: Claim, values: Sequence[float] | None, tier: str, note: str = "") -> dict:
    """One row of the claims table."""
    values = [] if values is None else [float(v) for v in values]
    if tier not in claim.tiers:
        note = note or f"measured at tier {'/'.join(claim.tiers)} only"
        values = []
    elif not values:
        note = note or "not measured"
    mean, lo, hi = mean_ci(values)
    return {
        "claim": claim.id,
        "statement": claim.statement,
        "metric": claim.metric,
        "paper_value": math.nan if claim.paper_value is None else float(claim.paper_value),
        "paper_text": claim.paper_text,
        "rule": str(claim.rule),
        "measured": mean,
        "ci_low": lo,
        "ci_high": hi,
        "n_seeds": len(values),
        "per_seed": values,
        "verdict": verdict(claim.rule, values),
        "note": note,
    }
