"""Claims, pass rules, statistics and verdicts.

A claim is checked on one measured value per seed, summarised by the claim's **statistic** with a 95 % interval:

- ``mean``: the mean with a Student-t interval (continuous outcomes);
- ``share``: the share of seeds meeting the claim's per-seed ``criterion``, with the exact Clopper–Pearson
  interval — for claims worded "every run" or "per seed", and for integer-valued outcomes;
- ``median``: the median with its distribution-free interval from order statistics (none below 6 seeds);
- ``geomean``: the geometric mean with a Student-t interval on the log scale — for heavy-tailed ratios.

The verdict compares the interval with the pass region of the claim's rule: **pass** when the whole interval lies
in the region, **fail** when none of it does, **inconclusive** when it straddles the boundary or nothing could be
measured. Without an interval (one seed, too few seeds for a median's, infinite values) it decides only when
every seed's value falls on the same side. A value that is only a bound — a run that never reached a level within
its budget — is **censored** (:func:`censored_at`): the verdict is taken at both ends of what the censored values
could be (at their bounds, and beyond any bound); where the two differ, censoring alone would decide, and the
verdict is inconclusive with a note saying so.

A claim's **kind** says what a verdict means: ``empirical`` (an experimental finding of the paper: the suite's
headline counts these), ``analytic`` (our simulation against a closed form the paper derives) or ``sanity``
(holds by construction or by mathematics: shown, never counted as a reproduced finding). An empirical claim names
a **negative control**, a configuration without the paper's mechanism, measured by the same ``measure`` under the
key ``"<claim id>/control"`` and judged by the same rule and statistic: the claim passes only when its control
does not; a claim whose control passes too is **not discriminating**, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

VERDICTS = ("pass", "fail", "inconclusive", "not discriminating")
KINDS = ("empirical", "analytic", "sanity")
STATISTICS = ("mean", "share", "median", "geomean")
CONTROL = "/control"  # measure()'s key suffix for a claim's negative control
# A verdict is "near threshold" when an end of its interval lies within this share of the threshold's magnitude
# (or of the interval's width, if larger) from the threshold: another CPU or another seed list could flip it.
NEAR = 0.05


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
    """A claim of a paper: what is measured, the paper's number, our pass rule, the statistic that summarises the
    seeds, the kind of claim, and the negative control of an empirical claim."""

    id: str
    statement: str
    metric: str
    rule: Rule
    paper_value: float | None = None
    paper_text: str = ""
    tiers: tuple[str, ...] = ("smoke", "quick", "full")
    kind: str = "empirical"
    statistic: str = "mean"
    criterion: Rule | None = None  # statistic "share": the per-seed criterion whose share ``rule`` bounds
    control: str = ""  # the negative control: the configuration without the paper's mechanism

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.statistic not in STATISTICS:
            raise ValueError(f"claim {self.id!r}: statistic {self.statistic!r} is not one of {STATISTICS}")
        if (self.statistic == "share") != (self.criterion is not None):
            raise ValueError(
                f"claim {self.id!r}: a per-seed criterion goes with statistic 'share', and only there"
            )
        if self.control and self.kind != "empirical":
            raise ValueError(f"claim {self.id!r}: only empirical claims have a negative control")


@dataclass(frozen=True)
class Amendment:
    """A change to a registered claim (rule, statistic, control, kind or tier protocol) after it was first run:
    when, which claims, what changed, why, and the verdict before and after (``reprosuite.registry``)."""

    date: str
    claims: tuple[str, ...]
    what: str
    why: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.date}: {self.what} — {self.why} (verdict {self.before} → {self.after})"


@dataclass(frozen=True)
class Sample:
    """Per-seed values of a claim; ``censored[i]`` is +1 where value i is only a lower bound (the run had not
    reached the level when its budget ran out: the value is that budget's bound), −1 for an upper bound, 0 exact."""

    values: tuple[float, ...]
    censored: tuple[int, ...] = field(default=())

    def __post_init__(self):
        if not self.censored:
            object.__setattr__(self, "censored", (0,) * len(self.values))
        if len(self.censored) != len(self.values):
            raise ValueError(f"{len(self.values)} values but {len(self.censored)} censoring flags")


def censored_at(values: Sequence[float], bounds: Sequence[float] | float) -> Sample:
    """A :class:`Sample` from values where ±inf means "never reached within the budget": each infinite value is
    replaced by its bound (the budget, or what it implies for the measured quantity) and flagged censored."""
    vals = [float(v) for v in values]
    bnds = [float(bounds)] * len(vals) if isinstance(bounds, int | float) else [float(b) for b in bounds]
    if len(bnds) != len(vals):
        raise ValueError(f"{len(vals)} values but {len(bnds)} bounds")
    flags = [0 if math.isfinite(v) or math.isnan(v) else (1 if v > 0 else -1) for v in vals]
    return Sample(tuple(b if f else v for v, b, f in zip(vals, bnds, flags, strict=True)), tuple(flags))


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


def median_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Median and its distribution-free interval: the order statistics x_(k) and x_(n+1−k) with the largest k
    such that the binomial(n, ½) coverage is ≥ ``level`` (NaN bounds below 6 values, where none reaches 95 %)."""
    x = np.sort(np.asarray(values, dtype=float))
    if x.size == 0 or np.isnan(x).any():
        return math.nan, math.nan, math.nan
    med = float(np.median(x))
    n = x.size
    probs = [math.comb(n, i) / 2**n for i in range(n + 1)]
    k = 0
    for j in range(1, n // 2 + 1):  # coverage of [x_(j), x_(n+1-j)] = 1 - 2 P(Bin(n, 1/2) < j)
        if 1 - 2 * sum(probs[:j]) >= level:
            k = j
    if k == 0:
        return med, math.nan, math.nan
    return med, float(x[k - 1]), float(x[n - k])


def share_ci(successes: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Share k/n with the exact Clopper–Pearson interval."""
    if n == 0:
        return math.nan, math.nan, math.nan
    from scipy.special import betaincinv  # the beta quantile, as scipy.stats.beta.ppf (a lighter import)

    alpha = 1 - level
    lo = 0.0 if successes == 0 else float(betaincinv(successes, n - successes + 1, alpha / 2))
    hi = 1.0 if successes == n else float(betaincinv(successes + 1, n - successes, 1 - alpha / 2))
    return successes / n, lo, hi


def summarise(claim: Claim, values: Sequence[float]) -> tuple[float, float, float]:
    """The claim's statistic of ``values`` and its 95 % interval."""
    x = np.asarray(values, dtype=float)
    if x.size == 0 or np.isnan(x).any():
        return math.nan, math.nan, math.nan
    if claim.statistic == "share":
        return share_ci(sum(claim.criterion.contains(v) for v in x), x.size)
    if claim.statistic == "median":
        return median_ci(x)
    if claim.statistic == "geomean":
        if (x <= 0).any():
            return math.nan, math.nan, math.nan
        m, lo, hi = mean_ci(np.log(x))
        return (
            math.exp(m),
            math.exp(lo) if not math.isnan(lo) else lo,
            math.exp(hi) if not math.isnan(hi) else hi,
        )
    return mean_ci(x)


def _decide(rule: Rule, estimate: float, lo: float, hi: float, per_seed: np.ndarray) -> str:
    if math.isnan(estimate):
        return "inconclusive"
    if math.isnan(lo):
        # No interval: a single seed, too few for the statistic's, or infinities. Decide only if all seeds agree.
        inside = [rule.contains(v) for v in per_seed]
        return "pass" if all(inside) else "fail" if not any(inside) else "inconclusive"
    if rule.contains(lo) and rule.contains(hi):
        return "pass"
    if hi < rule.lo or lo > rule.hi:
        return "fail"
    return "inconclusive"


def verdict(rule: Rule, values: Sequence[float], claim: Claim | None = None) -> str:
    """The verdict of exact values under ``rule`` (with ``claim``'s statistic; the mean by default)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0 or np.isnan(x).any():
        return "inconclusive"
    claim = claim or Claim("", "", "", rule)
    estimate, lo, hi = summarise(claim, x)
    # a share always has its exact interval; the fallback compares the share itself
    return _decide(rule, estimate, lo, hi, np.array([estimate]) if claim.statistic == "share" else x)


def judge(claim: Claim, sample: Sample) -> tuple[str, str]:
    """(verdict, note) of a possibly censored sample: the verdict taken with every censored value at its bound
    and beyond any bound; inconclusive, with a note, when censoring alone decides."""
    x = np.asarray(sample.values, dtype=float)
    flags = np.asarray(sample.censored)
    if not flags.any():
        return verdict(claim.rule, x, claim), ""
    at_bound = verdict(claim.rule, x, claim)
    beyond = verdict(claim.rule, np.where(flags > 0, math.inf, np.where(flags < 0, -math.inf, x)), claim)
    n = int((flags != 0).sum())
    if at_bound == beyond:
        return at_bound, f"{n} censored value(s) (not reached within the budget): same verdict at any value"
    return (
        "inconclusive",
        f"decided by censoring alone: {n} seed(s) did not reach the level within the budget",
    )


def near_threshold(rule: Rule, lo: float, hi: float) -> bool:
    """Whether an end of the interval lies within :data:`NEAR` of a finite threshold of ``rule``."""
    if math.isnan(lo) or math.isnan(hi):
        return False
    width = hi - lo if math.isfinite(hi - lo) else 0.0
    for t in (rule.lo, rule.hi):
        if math.isfinite(t):
            tol = max(NEAR * abs(t), NEAR * width, 1e-12)
            if min(abs(lo - t), abs(hi - t)) <= tol:
                return True
    return False


def per_seed(metrics, metric: str, point: str | None = None, **members):
    """The values of one per-seed ``metric`` (at grid ``point``, and where typed member columns equal
    ``members``), as a Series indexed by seed in seed order: the input of a claim's :func:`measure`."""
    sel = metrics["metric"] == metric
    if point is not None:
        sel &= metrics["point"] == point
    for column, value in members.items():
        sel &= metrics[column] == value
    return metrics[sel].set_index("seed")["value"].sort_index()


def _as_sample(values) -> Sample:
    if values is None:
        return Sample(())
    if isinstance(values, Sample):
        return values
    return Sample(tuple(float(v) for v in values))


def evaluate(claim: Claim, values, tier: str, note: str = "", control=None) -> dict:
    """One row of the claims table: the claim's statistic, interval and verdict, and its control's."""
    sample, ctrl = _as_sample(values), _as_sample(control)
    if tier not in claim.tiers:
        note = note or f"measured at tier {'/'.join(claim.tiers)} only"
        sample, ctrl = Sample(()), Sample(())
    elif not sample.values:
        note = note or "not measured"
    estimate, lo, hi = summarise(claim, sample.values)
    result, censoring = judge(claim, sample)
    c_estimate, c_lo, c_hi = summarise(claim, ctrl.values)
    c_result = judge(claim, ctrl)[0] if ctrl.values else ("none" if not claim.control else "not measured")
    if claim.kind == "empirical" and claim.control and result == "pass":
        if c_result == "pass":
            result = "not discriminating"
            note = "; ".join(filter(None, [note, "the negative control passes too"]))
        elif c_result == "not measured":
            result = "inconclusive"
            note = "; ".join(filter(None, [note, "the negative control was not measured"]))
    return {
        "claim": claim.id,
        "kind": claim.kind,
        "statement": claim.statement,
        "metric": claim.metric,
        "statistic": claim.statistic,
        "paper_value": math.nan if claim.paper_value is None else float(claim.paper_value),
        "paper_text": claim.paper_text,
        "rule": str(claim.rule)
        if claim.criterion is None
        else f"share of seeds with {claim.criterion} {claim.rule}",
        "measured": estimate,
        "ci_low": lo,
        "ci_high": hi,
        "n_seeds": len(sample.values),
        "per_seed": list(sample.values),
        "censored": list(sample.censored),
        "verdict": result,
        "near_threshold": near_threshold(claim.rule, lo, hi),
        "control": claim.control,
        "control_measured": c_estimate,
        "control_ci_low": c_lo,
        "control_ci_high": c_hi,
        "control_verdict": c_result,
        "note": "; ".join(filter(None, [note, censoring])),
    }
