"""Figures of the Saxe et al. study: mode strengths against Eq. 12 (Fig. 3), their delays, and the depth sweep
(Figs. 6A and 4). matplotlib and seaborn are imported inside the functions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .dynamics import depth_table, mode_curve, mode_strengths


def draw_modes(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = mode_strengths(cfg)
    modes = runs[runs.point.str.startswith("modes") & runs.metric.str.startswith("mode")]
    modes = modes[modes.seed == modes.seed.min()]  # the first seed
    points = sorted(modes.point.unique())
    fig, axes = plt.subplots(1, len(points), figsize=(4.2 * len(points), 3.6), sharey=True, squeeze=False)
    palette = sns.color_palette("viridis", len(s))
    for ax, point in zip(axes[0], points, strict=True):
        g = modes[modes.point == point]
        t = np.linspace(0, g.step.max(), 400)
        for a in range(len(s)):
            c = g[g.metric == f"mode{a}"]
            ax.plot(c.step, c.value, color=palette[a], lw=2, alpha=0.6, label=f"s={s[a]:.2f}")
            ax.plot(t, mode_curve(t, s[a], cfg.u0, 1 / cfg.lr), color="k", lw=0.8, ls="--")
        ax.set(title=point, xlabel="step (GD iterations)")
    axes[0, 0].set_ylabel("mode strength u_α(t)")
    axes[0, -1].legend(fontsize=7, title="simulated; dashed: Eq. 12", title_fontsize=7, loc="lower right")
    return fig


def draw_delay(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = metrics[metrics.metric.str.startswith("rel_delay_mode")].copy()
    d["mode"] = d.metric.str.removeprefix("rel_delay_mode").astype(int)
    d["s"] = mode_strengths(cfg)[d["mode"].to_numpy()]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    sns.pointplot(data=d, x="s", y="value", hue="point", ax=ax, errorbar=("ci", 95), native_scale=True)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="singular value s of the mode", ylabel="(t_half sim − Eq. 11) / Eq. 11")
    return fig


def draw_depth(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = depth_table(metrics)
    d = d[d.metric.str.startswith("best_iters_")].copy()
    d["init"] = d.metric.str.removeprefix("best_iters_")
    cap = 2 * cfg.depth_steps  # runs that never reach the criterion (inf) are drawn on this line
    d["plotted"] = d.value.clip(upper=cap)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    sns.lineplot(data=d, x="depth", y="plotted", hue="init", marker="o", errorbar=("ci", 95), ax=ax)
    ax.axhline(cap, color="grey", ls=":", lw=1)
    ax.text(d.depth.min(), cap, "not reached in budget", va="bottom", fontsize=8, color="grey")
    ax.set(xscale="log", yscale="log", xlabel="depth (weight layers)", ylabel="iterations to criterion")
    _depth_ticks(ax, d.depth)
    return fig


def draw_lr(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = depth_table(metrics)
    d = d[d.metric.str.startswith("best_lr_")].copy()
    d["init"] = d.metric.str.removeprefix("best_lr_")
    fig, ax = plt.subplots(figsize=(5, 3.6))
    sns.lineplot(data=d, x="depth", y="value", hue="init", marker="o", errorbar=("ci", 95), ax=ax)
    depths = np.array(sorted(d.depth.unique()), dtype=float)
    ref = d[d.init == "orthogonal"].groupby("depth").value.mean()
    if not ref.empty:
        ax.plot(depths, ref.iloc[0] * depths[0] / depths, "k--", lw=0.8, label="∝ 1/depth")
    ax.set(xscale="log", yscale="log", xlabel="depth (weight layers)", ylabel="fastest learning rate")
    _depth_ticks(ax, d.depth)
    ax.legend()
    return fig


def _depth_ticks(ax, depths) -> None:
    ticks = sorted({int(x) for x in depths})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
