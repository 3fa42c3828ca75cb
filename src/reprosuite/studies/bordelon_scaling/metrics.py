"""Per-seed metrics from the run tables: exponent fits, drifts, frontier slopes, ΔL slopes, checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import analysis as an


def _point_metrics(point: str, g: pd.DataFrame, cfg, a: float) -> list[tuple]:
    seed = int(g["seed"].iloc[0])
    rows = []
    test = g[(g["split"] == "test")]
    lim = test[test["metric"] == "loss_limit"]
    wl = lim[lim["width"] > 0].sort_values("width")
    if not wl.empty:
        n, linf = wl["width"].to_numpy(float), wl["value"].to_numpy()
        sel = (n >= 32) & (n <= cfg.width_fit_max_frac * max(cfg.features, 1)) if point != "exp" else n >= 0
        if point == "exp":
            sel = n >= cfg.n_min
        rows += [("width_slope", an.slope(n[sel], linf[sel])), ("width_drift", an.drift(n[sel], linf[sel]))]
        top = int(n[-1])
        curve = test[(test["metric"] == "loss") & (test["width"] == top) & (test["data"] == 0)].sort_values(
            "step"
        )
        t, loss = curve["step"].to_numpy(float), curve["value"].to_numpy()
        factor = cfg.floor_factor if a >= 2 else cfg.floor_factor_small_a
        win = an.time_window(t, loss, float(linf[-1]), cfg.t_fit_min, factor)
        rows += [("time_slope", an.slope(t[win], loss[win])), ("time_drift", an.drift(t[win], loss[win]))]
    dl = lim[lim["data"] > 0]
    if not dl.empty:
        sl, dr = [], []
        for _, d in dl.groupby("draw"):
            d = d.sort_values("data")
            p, v = d["data"].to_numpy(float), d["value"].to_numpy()
            sel = (p >= cfg.p_fit[0]) & (p <= cfg.p_fit[1])
            sl.append(an.slope(p[sel], v[sel]))
            dr.append(an.drift(p[sel], v[sel]))
        rows += [("data_slope", float(np.mean(sl))), ("data_drift", float(np.mean(dr)))]
        gap_p = cfg.gap_sizes[len(cfg.gap_sizes) // 2]
        cur = g[(g["metric"] == "loss") & (g["data"] == gap_p)]
        if not cur.empty:
            piv = cur.pivot_table(index="step", columns="split", values="value", aggfunc="mean")
            gap = (piv["test"] - piv["train"]).to_numpy()
            rows += [("gap_final", float(gap[-1])), ("gap_peak", float(gap.max()))]
    fr = g[g["split"] == "frontier"]
    if not fr.empty:
        ns = fr[fr["metric"] == "n_star"].sort_values("step")
        ls = fr[fr["metric"] == "l_star"].sort_values("step")
        out = an.frontier_slopes(ns["compute"].to_numpy(), ns["value"].to_numpy(), ls["value"].to_numpy())
        rows += list(out.items())
    dloss = g[g["metric"] == "dloss"]
    if not dloss.empty:
        avg = dloss.groupby(["step", "width"])["value"].mean()
        early, late = (avg.xs(int(t), level="step").sort_index() for t in cfg.corr_times)
        e = an.slope(early.index.to_numpy(float), early.to_numpy())
        lt = an.slope(late.index.to_numpy(float), late.to_numpy())
        rows += [("corr_early", e), ("corr_late", lt), ("corr_steepening", lt - e)]
    chk = g[g["metric"] == "gd_max_abs_diff"]
    if not chk.empty:
        rows.append(("gd_max_abs_diff", float(chk["value"].max())))
    return [(point, seed, m, float(v)) for m, v in rows]


def extract(runs: pd.DataFrame, cfg, params: dict) -> pd.DataFrame:
    """Per point and seed: the metrics of ``_point_metrics``; ``params`` is the study's grid."""
    rows = []
    for (point, _), g in runs.groupby(["point", "seed"]):
        rows += _point_metrics(point, g, cfg, params[point]["a"] if point in params else 2.0)
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])
