"""Tables and statistics of the coordinate check and the learning-rate sweep (the claims' per-seed values)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.claims import censored_at
from reprosuite.metrics.curves import loglog_slope


def coord_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Coordinate-check rows: param, width, seed, step, metric, value."""
    r = runs[runs["point"].str.startswith("coord-") & (runs["split"] == "coord")]
    return r[["param", "width", "seed", "step", "metric", "value"]].astype({"width": np.int64})


def sweep_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Final training loss of every sweep member — the mean of its evaluations over the last quarter of
    training, which damps SGD's iterate noise — with diverged runs at +∞: param, width, lr, seed, loss."""
    r = runs[runs["point"].str.startswith("sweep-") & (runs["split"] == "train")]
    r = r.astype({"width": np.int64})
    keys = ["param", "width", "lr", "seed"]
    loss = r[r["metric"] == "loss"].groupby(keys)["value"].mean().rename("loss")
    dead = r[r["metric"] == "diverged_at"].set_index(keys)["value"].notna()
    out = loss.to_frame().join(dead.rename("diverged")).reset_index()
    bad = out["diverged"].fillna(False).astype(bool) | ~np.isfinite(out["loss"])
    out.loc[bad, "loss"] = np.inf
    return out[["param", "width", "lr", "seed", "loss"]]


def coord_slopes(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per (param, seed): slope of the final hidden update vs width."""
    m = metrics[metrics["metric"] == "coord_dh"]
    rows = []
    for (param, seed), g in m.groupby(["param", "seed"]):
        g = g.sort_values("width")
        rows.append((param, seed, loglog_slope(g["width"], g["value"])))
    return pd.DataFrame(rows, columns=["param", "seed", "slope"])


def best_losses(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per (param, width, seed): the best (lowest) final training loss over learning rates, and its lr."""
    m = metrics[metrics["metric"] == "sweep_loss"]
    idx = m.groupby(["param", "width", "seed"])["value"].idxmin()
    best = m.loc[idx, ["param", "width", "seed", "lr", "value"]].rename(columns={"value": "loss"})
    return best.sort_values(["param", "seed", "width"]).reset_index(drop=True)


def transferred_increase(table: pd.DataFrame) -> tuple[float, float]:
    """(largest increase of the loss between consecutive widths at the narrowest width's best lr, its bound):
    one seed's (width, lr, loss) rows; +∞ when a wider net diverged, bounded by log 10 − the narrower loss."""
    loss = table.pivot_table(index="width", columns="lr", values="value", aggfunc="first").sort_index()
    narrow = loss.iloc[0].replace(np.inf, np.nan)
    if narrow.isna().all():
        return math.nan, math.nan
    curve = loss[narrow.idxmin()].to_numpy()
    rises = np.diff(curve)
    i = int(np.nanargmax(rises))  # NaN: two diverged widths in a row (the first one counts)
    bound = math.log(10) - curve[i] if np.isinf(rises[i]) and np.isfinite(curve[i]) else math.nan
    return float(rises[i]), bound


def optimum(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, int]:
    """(log₂ of the optimal lr, censoring flag) of one loss-vs-lr curve: the vertex of the parabola through the
    best grid lr and its neighbours in log₂ lr; at the grid's edge only a bound (−1: the optimum lies at or
    below, +1: at or above); NaN if every run diverged."""
    x, y = np.log2(lrs), np.asarray(losses, dtype=float)
    if not np.isfinite(y).any():
        return math.nan, 0
    i = int(np.argmin(np.where(np.isfinite(y), y, np.inf)))
    if i in (0, len(y) - 1):
        return float(x[i]), -1 if i == 0 else 1
    if not np.isfinite(y[i - 1 : i + 2]).all():
        return float(x[i]), 0
    a, b, _ = np.polyfit(x[i - 1 : i + 2], y[i - 1 : i + 2], 2)
    return (float(-b / (2 * a)) if a > 0 else float(x[i])), 0


def lr_shift(table: pd.DataFrame) -> tuple[float, int]:
    """(log₂ shift of the optimal lr from the narrowest to the widest width, censoring flag) of one seed."""
    ends = []
    for _, g in sorted(table.groupby("width"), key=lambda kv: kv[0]):
        g = g.sort_values("lr")
        ends.append(optimum(g["lr"].to_numpy(), g["value"].to_numpy()))
    (x0, f0), (x1, f1) = ends[0], ends[-1]
    flags = {f for f in (f1, -f0) if f}  # the narrow end's bound enters the shift with the opposite sign
    if len(flags) > 1:
        return math.nan, 0  # bounded from both sides by the grid's edges: unknown
    return x1 - x0, flags.pop() if flags else 0


def claim_values(metrics: pd.DataFrame) -> dict:
    """Per seed, every claim's value and its control's (``"<claim>/control"``): the coordinate-check slopes
    (SP controls μP's, μP controls NTK's and SP's), and μP's sweep claims with SP as control."""
    out: dict = {}
    slopes = coord_slopes(metrics)
    for claim, param, control in (
        ("mup_flat", "mup", "sp"),
        ("ntk_vanishes", "ntk", "mup"),
        ("sp_blows_up", "sp", "mup"),
    ):
        for key, p in ((claim, param), (claim + "/control", control)):
            s = slopes[slopes["param"] == p].sort_values("seed")
            if not s.empty:
                out[key] = s["slope"].tolist()
    sweep = metrics[metrics["metric"] == "sweep_loss"]
    for param, suffix in (("mup", ""), ("sp", "/control")):
        mine = sweep[sweep["param"] == param]
        if mine["width"].nunique() < 2:
            continue
        by_seed = sorted(mine.groupby("seed"), key=lambda kv: kv[0])
        rises = [transferred_increase(g) for _, g in by_seed]
        out["mup_wider_better" + suffix] = censored_at(
            [r for r, _ in rises], [b if math.isfinite(b) else 0.0 for _, b in rises]
        )
        shifts = [lr_shift(g) for _, g in by_seed]
        bounded = [v if f == 0 else f * math.inf for v, f in shifts]  # ±∞: censored, at bound v
        out["mup_lr_transfer" + suffix] = censored_at(bounded, [v for v, _ in shifts])
    return out
