"""Fits on the simulated loss surfaces: log–log slopes, the straightness (half-window drift) of a power law,
the time-exponent window before the width floor, and the compute-optimal frontier."""

from __future__ import annotations

import math

import numpy as np


def slope(x, y) -> float:
    """OLS slope of log y on log x (NaN with < 2 points or a non-positive y)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or (y <= 0).any() or not np.isfinite(y).all():
        return math.nan
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def drift(x, y) -> float:
    """|slope of the lower half − slope of the upper half| of the window (halves share the middle point)."""
    n = len(x)
    if n < 4:
        return math.nan
    mid = n // 2
    return abs(slope(x[: mid + 1], y[: mid + 1]) - slope(x[mid:], y[mid:]))


def time_window(t, loss, floor: float, t_min: float, factor: float) -> np.ndarray:
    """The t of the time-bottleneck window: t ≥ t_min and L(t) ≥ factor · L(∞) (before the width floor)."""
    t, loss = np.asarray(t, dtype=float), np.asarray(loss, dtype=float)
    return (t >= t_min) & (loss >= factor * floor)


def frontier(widths, loss_at, computes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute-optimal frontier: for each C, N* = argmin_N L(C/N, N) on the width grid with a parabolic
    refinement in log N, and L* there; NaN where the minimum sits at an end of the grid.
    ``loss_at(i, t)`` is the loss of width i at (real) times t."""
    logn = np.log(np.asarray(widths, dtype=float))
    surface = np.array([np.log(loss_at(i, np.asarray(computes) / n)) for i, n in enumerate(widths)])  # (N, C)
    n_star, l_star = np.full(len(computes), np.nan), np.full(len(computes), np.nan)
    for j in range(len(computes)):
        col = surface[:, j]
        i = int(np.argmin(col))
        if i == 0 or i == len(widths) - 1:
            continue
        x, y = logn[i - 1 : i + 2], col[i - 1 : i + 2]
        c2, c1, c0 = np.polyfit(x, y, 2)
        xs = -c1 / (2 * c2) if c2 > 0 else x[1]
        n_star[j], l_star[j] = math.exp(xs), math.exp(c0 + c1 * xs + c2 * xs * xs)
    return np.asarray(computes, dtype=float), n_star, l_star


def frontier_slopes(computes, n_star, l_star, min_points: int = 4) -> dict[str, float]:
    """Slopes of log N*, log t* = log C − log N* and log L* on log C over the interior frontier points."""
    ok = np.isfinite(n_star)
    if ok.sum() < min_points:
        return {"n_slope": math.nan, "t_slope": math.nan, "l_slope": math.nan, "asymmetry": math.nan}
    c, n, ls = computes[ok], n_star[ok], l_star[ok]
    ns = slope(c, n)
    return {"n_slope": ns, "t_slope": 1 - ns, "l_slope": slope(c, ls), "asymmetry": 1 - 2 * ns}
