"""Figures of the JEPA/MAE study: per-feature learning curves against the ODE (the paper's Fig. 2) and critical
times against depth. matplotlib and seaborn are imported inside the functions."""

from __future__ import annotations

import pandas as pd

from .theory import CASES, OBJECTIVES, case_values, fixed_point, ode_curve, tau_per_step


def draw_curves(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    values = case_values(cfg)
    feats = runs[runs.metric.str.match(r"^w\d+$") & (runs.seed == runs.seed.min())]
    shown = sorted({min(cfg.depths), max(cfg.depths)})
    rows = [(obj, d) for obj in OBJECTIVES for d in shown]
    fig, axes = plt.subplots(
        len(rows), len(CASES), figsize=(4.0 * len(CASES), 2.6 * len(rows)), squeeze=False
    )
    palette = sns.color_palette("viridis", cfg.features)
    for r, (obj, depth) in enumerate(rows):
        for c, case in enumerate(CASES):
            ax = axes[r, c]
            lam, rho = values[case]
            g = feats[(feats.objective == obj) & (feats.depth == depth) & (feats.case == case)]
            for i in range(cfg.features):
                curve = g[g.metric == f"w{i}"].sort_values("step")
                tau = curve.step.to_numpy() * tau_per_step(cfg, depth, obj)
                star = float(fixed_point(obj, depth, rho[i]))
                ax.plot(
                    tau[1:],
                    curve.value.to_numpy()[1:] / star,
                    color=palette[i],
                    lw=2,
                    alpha=0.7,
                    label=f"λ={lam[i]:.2f} ρ={rho[i]:.2f}",
                )
                if len(tau) > 1:
                    ax.plot(
                        tau[1:], ode_curve(obj, depth, lam[i], rho[i], cfg.eps, tau)[1:] / star, "k--", lw=0.6
                    )
            ax.axhline(cfg.half, color="grey", lw=0.6, ls=":")
            ax.set_xscale("log")
            ax.set_title(f"{obj.upper()}, L = {depth}, case '{case}'", fontsize=9)
            if c == 0:
                ax.set_ylabel("w̄_i / w̄_i*")
            if r == len(rows) - 1:
                ax.set_xlabel("normalised time τ = L·t")
            if r == 0:
                ax.legend(fontsize=6)
    return fig


def draw_times(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    values = case_values(cfg)
    t = metrics[metrics.metric == "t"]
    t = t[t.case.isin(["rho", "anti"])].copy()
    t["feature (λ, ρ)"] = [
        f"λ={values[c][0][i]:.2f}, ρ={values[c][1][i]:.2f}" for c, i in zip(t.case, t.feature, strict=True)
    ]
    # relative to the feature-mean per (objective, case, depth): the order, not the depth's overall slowdown
    t["relative"] = t.value / t.groupby(["seed", "objective", "case", "depth"]).value.transform("mean")
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    for r, case in enumerate(["rho", "anti"]):
        for c, obj in enumerate(OBJECTIVES):
            ax = axes[r, c]
            g = t[(t.case == case) & (t.objective == obj)]
            sns.lineplot(
                g,
                x="depth",
                y="relative",
                hue="feature (λ, ρ)",
                palette="viridis",
                marker="o",
                errorbar=None,  # mean over seeds, which agree to rounding
                ax=ax,
                legend=c == 1,
            )
            ax.set_title(f"{obj.upper()}, case '{case}'", fontsize=9)
            ax.set_ylabel("critical time / mean over features")
            if c == 1:
                ax.legend(fontsize=6, title="feature", title_fontsize=7)
    return fig
