"""Figures of the ungrokking study: accuracy after retraining vs f2, and the retraining curves."""

from __future__ import annotations

import math

import pandas as pd


def accuracy_vs_f2(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import SEMI_BAND, critical_fraction, retrain_table

    table = retrain_table(metrics)
    n = cfg.p**2
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    sns.lineplot(
        data=table, x="f2", y="test", marker="o", errorbar=None, color="C0", label="test (mean)", ax=ax
    )
    sns.scatterplot(data=table, x="f2", y="test", color="C0", alpha=0.4, s=18, ax=ax, label="test (per seed)")
    sns.lineplot(data=table, x="f2", y="train", marker="s", errorbar=None, color="C1", label="train", ax=ax)
    mean = table.groupby("f2")["test"].mean()
    crit = critical_fraction(mean.index.to_numpy(), mean.to_numpy())
    ax.axhspan(*SEMI_BAND, color="grey", alpha=0.12, label="semi-grokking band")
    if math.isfinite(crit) and crit > mean.index.min():  # a crossing inside the f2 range
        ax.axvline(crit, color="k", ls="--", lw=1, label=f"critical f2 ≈ {crit:.2f} ({crit * n:.0f} eqs)")
    ax.set(
        xlabel=f"retrain fraction f2 of all {n} equations (phase 1: {cfg.fraction1:g})",
        ylabel="accuracy after retraining",
        ylim=(-0.03, 1.03),
        title=f"(a + b) mod {cfg.p}: grokked nets retrained for {cfg.steps2} steps",
    )
    ax.legend(fontsize=7, loc="center right")
    return fig


def retrain_curves(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    acc = runs[(runs["metric"] == "accuracy") & (runs["phase"] == 2)]
    acc = (acc[acc["wd"] == cfg.weight_decay] if "wd" in acc.columns else acc).copy()  # not the wd-0 control
    acc["f2"] = acc["fraction"].map(lambda f: f"{f:g}")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, split in zip(axes, ("test", "train"), strict=True):
        sns.lineplot(
            data=acc[acc["split"] == split],
            x="step",
            y="value",
            hue="f2",
            errorbar=None,
            palette="viridis",
            ax=ax,
        )
        ax.set(title=f"phase 2 {split} accuracy (seed mean)", xlabel="retrain step", ylabel="accuracy")
        ax.legend(title="f2", fontsize=7)
    return fig
