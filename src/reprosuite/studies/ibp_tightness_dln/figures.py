"""The figures of the IBP-tightness study: tightness at initialisation, and during training."""

from __future__ import annotations

import numpy as np
import pandas as pd


def draw_init(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import init_table, theory

    init = init_table(runs)
    fig, ax = plt.subplots(figsize=(5.2, 4))
    palette = sns.color_palette("viridis", len(cfg.depths))
    sns.lineplot(
        init,
        x="width",
        y="tightness",
        hue="depth",
        palette=palette,
        marker="o",
        linestyle="",
        errorbar=("ci", 95),
        err_style="bars",
        ax=ax,
    )
    n = np.geomspace(min(cfg.widths), max(cfg.widths), 100)
    for colour, depth in zip(palette, sorted(init["depth"].unique()), strict=True):
        ax.plot(n, [theory(depth, w) for w in n], color=colour, lw=1, ls="--")
    ax.plot([], [], color="grey", ls="--", label="(π/2n)^((L−1)/2)")
    ax.set(xscale="log", yscale="log", xlabel="hidden width n", ylabel="tightness τ at initialisation")
    ax.legend(title="depth L", fontsize=8)
    return fig


def draw_training(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import theory

    tr = runs[(runs["point"] == "train") & (runs["split"] == "test")].copy()
    tr = tr.rename(columns={"mode": "training"})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    sns.lineplot(
        tr[tr["metric"] == "tightness"], x="step", y="value", hue="training", errorbar=("pi", 100), ax=axes[0]
    )
    axes[0].axhline(
        theory(cfg.train_depth, cfg.train_width), color="grey", ls="--", lw=1, label="init, closed form"
    )
    axes[0].set(yscale="log", ylabel="tightness τ (test, all margins)", xlabel="step")
    axes[0].legend(fontsize=8)
    acc = tr[tr["metric"].isin(["accuracy", "certified_accuracy"])]
    sns.lineplot(acc, x="step", y="value", hue="training", style="metric", errorbar=("pi", 100), ax=axes[1])
    axes[1].set(ylabel=f"test accuracy (certified at ε = {cfg.eps:g})", xlabel="step", ylim=(0, 1))
    axes[1].legend(fontsize=7)
    return fig
