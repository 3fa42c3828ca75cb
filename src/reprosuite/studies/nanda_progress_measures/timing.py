"""When a loss falls or rises on a log scale, and the lead of one such step over another (ours; the paper shows
curves only, Nanda et al. 2023 Fig. 6), and the per-seed leads of the claims."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.claims import Sample, censored_at, per_seed


def fall_step(steps: np.ndarray, values: np.ndarray, span: float, q: float = 0.5) -> float:
    """First step after the maximum where log L has covered fraction ``q`` of its fall to the final level.

    The final level is the median over the last 10 % of the logged steps (robust to a late loss spike); ∞ when
    the maximum is less than ``span`` times that level (no fall).
    """
    steps, v = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
    i = int(np.argmax(v))
    top, end = v[i], float(np.median(v[steps >= 0.9 * steps[-1]]))
    if not (end > 0 and top >= span * end):
        return math.inf
    level = math.exp(math.log(top) - q * (math.log(top) - math.log(end)))
    hit = np.flatnonzero(v[i:] <= level)
    return float(steps[i + hit[0]])


def rise_step(steps: np.ndarray, values: np.ndarray, until: float, span: float, q: float = 0.5) -> float:
    """First step after the minimum (over steps ≤ ``until``) where log L has covered fraction ``q`` of its rise
    to the later maximum; ∞ when that maximum is less than ``span`` times the minimum (no rise)."""
    steps, v = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
    upto = np.flatnonzero(steps <= until)
    if upto.size == 0:
        return math.inf
    i = int(upto[np.argmin(v[upto])])
    low, top = v[i], float(np.max(v[i:]))
    if not (low > 0 and top >= span * low):
        return math.inf
    level = math.exp(math.log(low) + q * (math.log(top) - math.log(low)))
    hit = np.flatnonzero(v[i:] >= level)
    return float(steps[i + hit[0]])


def lead(t_test: float, t_other: float) -> float:
    """t_test − t_other: NaN when the test loss never drops, −∞ when the other measure never moves."""
    if math.isinf(t_test):
        return math.nan
    if math.isinf(t_other):
        return -math.inf
    return t_test - t_other


def series(g: pd.DataFrame, split: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one logged series of a member's run table, in step order."""
    s = g[(g["split"] == split) & (g["metric"] == metric)].sort_values("step")
    return s["step"].to_numpy(), s["value"].to_numpy()


def leads(metrics: pd.DataFrame, metric: str, wd: float) -> Sample:
    """Per seed the lead ``metric``, a −∞ lead (the measure never moved) censored at t_test − the last step."""
    lead_, t_test, last = (per_seed(metrics, m, wd=wd) for m in (metric, "t_test", "last_step"))
    return censored_at(lead_.tolist(), (t_test - last).tolist())
