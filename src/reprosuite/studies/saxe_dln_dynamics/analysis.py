"""Per-seed metrics and claim values of the Saxe et al. study (numpy/pandas only): half-times against Eq. 11,
iterations to the criterion per depth, init and learning rate, and the claims' ratios of iteration counts with
censoring at the budget and their negative controls."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL, Sample, per_seed
from reprosuite.metrics import curves

from . import dynamics, training


def extract(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    tau = 1.0 / cfg.lr
    s = dynamics.mode_strengths(cfg)
    rows = []
    for point, df in runs[runs.point.str.startswith("modes")].groupby("point"):
        ht = dynamics.half_times(df, s)
        for seed, g in ht.groupby("seed"):
            theory = np.array([dynamics.half_time(si, cfg.u0, tau) for si in g.s])
            rel = (g.t_half.to_numpy() - theory) / theory
            for a, r in zip(g["mode"], rel, strict=True):
                rows.append((point, seed, f"rel_delay_mode{a}", r))
            rows.append((point, seed, "half_time_err_max", float(np.max(np.abs(rel)))))
            finite = np.isfinite(g.t_half.to_numpy())
            rows.append(
                (point, seed, "half_time_slope", curves.loglog_slope(g.s[finite], g.t_half[finite], 3))
            )
    if cfg.depth_data == "mnist":  # App. C: a fixed threshold on the training error E
        level = cfg.mnist_threshold
    else:
        level = cfg.criterion * dynamics.zero_map_loss(dynamics.depth_targets(cfg, dynamics.task(cfg)))
    depth = runs[runs.point.str.startswith("depth") & (runs.metric == "loss")]
    for (point, variant, seed), g in depth.groupby(["point", "variant", "seed"]):
        g = g.sort_values("step")
        iters = curves.first_reaching(g.step, g.value, level, below=True)
        init, lr = variant.split("-lr")
        rows.append((point, seed, f"iters_{init}_lr{lr}", iters))
    table = pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])
    return pd.concat([table, dynamics.best_lr(table)], ignore_index=True)


def _ratio(num: float, den: float, budget: float) -> tuple[float, int]:
    """num / den of two iteration counts, either of which may be ∞ (never reached within ``budget``): the value
    and its censoring flag (+1 a lower bound, −1 an upper bound); NaN when neither reached the criterion."""
    if math.isinf(num) and math.isinf(den):
        return math.nan, 0
    if math.isinf(num):
        return budget / den, 1
    if math.isinf(den):
        return num / budget, -1
    return num / den, 0


def _censored_min(pairs: list[tuple[float, int]]) -> tuple[float, int]:
    """The minimum of possibly censored values; NaN if any is unknown (a depth is never dropped silently)."""
    if not pairs or any(math.isnan(v) for v, _ in pairs):
        return math.nan, 0
    exact_or_upper = [v for v, f in pairs if f <= 0]
    lower = [v for v, f in pairs if f > 0]
    if any(f < 0 for _, f in pairs):
        return min(exact_or_upper), -1
    if exact_or_upper and min(exact_or_upper) <= min(lower, default=math.inf):
        return min(exact_or_upper), 0
    return min(lower), 1


def _sample(pairs: list[tuple[float, int]]) -> Sample:
    return Sample(tuple(v for v, _ in pairs), tuple(f for _, f in pairs))


def _depth_independent(iters: pd.DataFrame, budget: float) -> list[tuple[float, int]]:
    """Per seed (rows), iterations at the deepest net / at depth 4 (columns: depths)."""
    deepest = iters.columns.max()
    if 4 not in iters.columns:
        return [(math.nan, 0)] * len(iters)
    return [_ratio(row[deepest], row[4], budget) for _, row in iters.iterrows()]


def _slower(num: pd.DataFrame, den: pd.DataFrame, budget: float) -> list[tuple[float, int]]:
    """Per seed, the minimum over depths ≥ 8 of num / den (tables of iterations, seeds × depths)."""
    cols = [d for d in num.columns if d >= 8]
    return [
        _censored_min([_ratio(num.iloc[i][d], den.iloc[i][d], budget) for d in cols]) for i in range(len(num))
    ]


def measure(metrics: pd.DataFrame, cfg) -> dict[str, object]:
    out: dict[str, object] = {
        "P1_half_time": per_seed(metrics, "half_time_err_max", "modes-decoupled").tolist(),
        "P2_time_vs_strength": per_seed(metrics, "half_time_slope", "modes-random").tolist(),
    }
    d = dynamics.depth_table(metrics)
    if d.empty:
        return out
    wide = d.pivot_table(index=["seed", "depth"], columns="metric", values="value").reset_index()
    budget = float(cfg.depth_steps)

    def iters(init: str) -> pd.DataFrame:  # seeds × depths
        return wide.pivot(index="seed", columns="depth", values=f"best_iters_{init}").sort_index()

    orth, gauss = iters("orthogonal"), iters("gaussian")
    # the control of the depth-independence claims: the same ratio for scaled Gaussian init (Fig. 6A's contrast)
    gauss_ratio = _sample(_depth_independent(gauss, budget))
    out["P3_orthogonal_depth_independent"] = _sample(_depth_independent(orth, budget))
    out["P3_orthogonal_depth_independent" + CONTROL] = gauss_ratio
    if f"best_iters_{training.CENTRED}" in wide.columns:
        out["P3_orthogonal_centred_depth_independent"] = _sample(
            _depth_independent(iters(training.CENTRED), budget)
        )
        out["P3_orthogonal_centred_depth_independent" + CONTROL] = gauss_ratio
    out["P3_gaussian_slower"] = _sample(_slower(gauss, orth, budget))
    # control: orthogonal against orthogonal, each seed against the next one (another seed set, same init)
    shifted = orth.iloc[np.roll(np.arange(len(orth)), -1)].set_axis(orth.index)
    out["P3_gaussian_slower" + CONTROL] = _sample(_slower(orth, shifted, budget))
    p4 = []
    for _, g in wide.groupby("seed"):
        lr = g.set_index("depth").best_lr_orthogonal
        ok = np.isfinite(lr)
        p4.append(curves.loglog_slope(lr.index[ok], lr[ok], min_points=3))
    out["P4_best_lr_vs_depth"] = p4
    return out
