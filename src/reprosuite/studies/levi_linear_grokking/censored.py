"""The lag claims of the linear-grokking study with never-reached test times handled as censored values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.claims import Sample
from reprosuite.metrics import linear_grokking as lg


def ratio_spearman(g: pd.DataFrame, steps: int) -> tuple[float, float]:
    """Spearman(λ, t_test/t_train) of one (ε, wd) group with never-reached test times at both ends: at their
    bound (the budget over t_train) and beyond every ratio."""
    at_bound = np.where(np.isinf(g["ratio"]), steps / g["t_train"], g["ratio"])
    return lg.spearman(g["lam"], at_bound), lg.spearman(g["lam"], g["ratio"])


def lag_values(wide: pd.DataFrame, cfg) -> dict[str, Sample]:
    """test_lags_train and lag_rises_with_lambda from one table (the paper's members, or the control's). The
    rank correlation is censored (a lower bound) where never-reached test times alone change it."""
    valid = wide[np.isfinite(wide["t_train"])]
    lag, rho, flags = [], [], []
    for _, rows in valid.groupby("seed"):
        lag.append(float((rows["t_test"] > rows["t_train"]).mean()))
        pairs = [
            ratio_spearman(g, cfg.steps)
            for _, g in rows.groupby(["point", "wd", "eps"])
            if g["lam"].nunique() >= 3
        ]
        pairs = [(a, b) for a, b in pairs if not (math.isnan(a) or math.isnan(b))]
        rho.append(float(np.mean([min(a, b) for a, b in pairs])) if pairs else math.nan)
        flags.append(int(any(a != b for a, b in pairs)))
    return {"test_lags_train": Sample(tuple(lag)), "lag_rises_with_lambda": Sample(tuple(rho), tuple(flags))}
