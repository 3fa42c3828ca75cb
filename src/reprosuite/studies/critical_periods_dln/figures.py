"""Figures of the critical-periods study: pathway strengths against the official ODE (Fig. 2), the deprived
pathway's share against depth, and the matrix-completion critical period. matplotlib and seaborn are imported
inside the functions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .pathways import NO_DEFICIT, target_svd
from .theory import k_trajectory


def draw_pathways(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    strengths = target_svd()[1][:8]
    paths = runs[runs.metric.str.match(r"^K[ab]\d$")]
    paths = paths[paths.seed == paths.seed.min()]  # the first seed
    paths = paths.assign(
        depth=paths.depth.astype(int),
        start=paths.deficit_start.astype(int),
        pathway=paths.metric.str[1],
        mode=paths.metric.str[2].astype(int),
    )
    depths, starts = sorted(paths.depth.unique()), list(cfg.deficit_starts)
    fig, axes = plt.subplots(
        len(depths), len(starts), figsize=(3.4 * len(starts), 2.4 * len(depths)), sharex=True, squeeze=False
    )
    palette = sns.color_palette("tab10", 8)
    for i, depth in enumerate(depths):
        for j, start in enumerate(starts):
            ax = axes[i, j]
            ax.axvspan(start, start + cfg.deficit_length, color="grey", alpha=0.15)
            g = paths[(paths.depth == depth) & (paths.start == start)]
            for mode in range(8):
                for pathway, ls in (("a", "-"), ("b", "--")):
                    c = g[(g["mode"] == mode) & (g.pathway == pathway)].sort_values("step")
                    ax.plot(c.step, c.value, color=palette[mode], ls=ls, lw=1.4)
                k0 = g[(g["mode"] == mode) & (g.step == 0)].value
                if len(k0):
                    ka, kb = k_trajectory(
                        depth,
                        strengths[mode],
                        float(k0.iloc[0]),
                        start,
                        cfg.deficit_length,
                        cfg.lr,
                        cfg.epochs,
                    )
                    ax.plot(np.arange(cfg.epochs + 1), ka, color="k", lw=0.6, ls=":")
                    ax.plot(np.arange(cfg.epochs + 1), kb, color="k", lw=0.6, ls=":")
            if i == 0:
                ax.set_title(f"deficit at {start}–{start + cfg.deficit_length}")
            if j == 0:
                ax.set_ylabel(f"D = {depth}\nK_α (a solid, b dashed)")
            if i == len(depths) - 1:
                ax.set_xlabel("epoch")
    return fig


def draw_share(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = metrics[metrics.metric == "share_b"].copy()
    d["depth"] = d.depth.astype(int)

    def label(start: int) -> str:
        return (
            "no deficit (control)" if start == NO_DEFICIT else f"epochs {start}–{start + cfg.deficit_length}"
        )

    d["deficit"] = [label(int(s)) for s in d.deficit_start]
    order = [label(s) for s in (*cfg.deficit_starts, NO_DEFICIT) if label(s) in set(d.deficit)]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    sns.lineplot(
        d,
        x="depth",
        y="value",
        hue="deficit",
        hue_order=order,
        marker="o",
        errorbar=("ci", 95),
        palette="deep",
        ax=ax,
    )
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    ax.axhline(0.1, color="grey", ls="--", lw=1)
    ax.set(ylabel="deprived pathway's share of the map", ylim=(0, 0.55))
    return fig


def draw_completion(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = metrics[metrics.metric == "test_loss"]
    d = d.assign(depth=d.depth.astype(int), T_critical=d.T_critical.astype(int))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    sns.lineplot(
        d,
        x="T_critical",
        y="value",
        hue="depth",
        marker="o",
        errorbar=("ci", 95),
        palette="viridis",
        ax=axes[0],
    )
    axes[0].set(xlabel="pre-training steps T_critical (switch step)", ylabel="final test loss (target task)")
    deepest = max(cfg.mc_depths)
    first = int(runs.seed.min())
    test_loss = runs[
        (runs.split == "test") & (runs.metric == "loss") & (runs.seed == first) & (runs.depth == deepest)
    ]
    curves = test_loss[test_loss.T_critical.notna()]
    curves = curves.assign(T_critical=curves.T_critical.astype(int))
    sns.lineplot(curves, x="step", y="value", hue="T_critical", palette="rocket_r", ax=axes[1])
    pre = test_loss[test_loss.variant == f"D{deepest}_pretrain"].sort_values("step")
    axes[1].plot(pre.step, pre.value, color="grey", ls="--", lw=1, label="pre-training (its own task)")
    axes[1].legend(fontsize=7, title="T_critical", title_fontsize=8)
    axes[1].set(
        yscale="log", xlabel="step (pre-training + target task)", ylabel="test loss on the target task"
    )
    axes[1].set_title(f"depth {deepest}, seed {first}", fontsize=9)
    return fig
