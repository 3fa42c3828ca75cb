"""Curve helpers shared by studies: first crossing of a level, log–log slope, Haar-orthogonal matrices.

"Never reached within the budget" has one meaning everywhere: :data:`NEVER` (``math.inf``), a value censored
at the run's budget — a run that has not crossed the level by its last logged step crossed it later, if at all.
It is never NaN (NaN means "not measured" and makes a claim inconclusive); :func:`censored` tells the two apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

NEVER = math.inf


def censored(value: float) -> bool:
    """Whether a crossing time is censored: the level was not reached within the budget."""
    return math.isinf(value) and value > 0


def first_reaching(
    steps: Sequence[float],
    values: Sequence[float],
    level: float,
    *,
    below: bool = False,
    interpolate: bool = False,
) -> float:
    """The first step at which ``values`` reach ``level`` (``>= level``, or ``<= level`` with ``below``), or
    :data:`NEVER`.

    ``steps`` must be increasing. With ``interpolate`` the crossing between the last logged step short of the
    level and the first one at it is placed by linear interpolation (for continuous time, e.g. gradient-flow
    curves); without, it is the first logged step (iterations are integers). NaN values never count as reached.
    """
    s, v = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
    if s.shape != v.shape:
        raise ValueError(f"steps {s.shape} and values {v.shape} differ in shape")
    hit = np.flatnonzero(v <= level if below else v >= level)
    if hit.size == 0:
        return NEVER
    i = int(hit[0])
    if not interpolate or i == 0:
        return float(s[i])
    t0, t1, v0, v1 = s[i - 1], s[i], v[i - 1], v[i]
    return float(t0 + (level - v0) * (t1 - t0) / (v1 - v0))


def loglog_slope(x: Sequence[float], y: Sequence[float], min_points: int = 2) -> float:
    """Least-squares slope of log y against log x; NaN unless every value is finite and positive and there are
    at least ``min_points`` points."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.size != b.size:
        raise ValueError(f"{a.size} x values but {b.size} y values")
    if a.size < min_points or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.nan
    if (a <= 0).any() or (b <= 0).any():
        return math.nan
    return float(np.polyfit(np.log(a), np.log(b), 1)[0])


def haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """An (n, n) orthogonal matrix drawn from the Haar measure (QR of a Gaussian matrix, signs fixed by R's
    diagonal; Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))
