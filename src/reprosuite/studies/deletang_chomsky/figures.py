"""Figures: accuracy per length (paper Fig. 2 style) and the score table (paper Table 2 layout)."""

from __future__ import annotations

import pandas as pd


def _curves(runs: pd.DataFrame) -> pd.DataFrame:
    ev = runs[(runs["split"] == "eval") & runs["metric"].str.startswith("acc@")].copy()
    ev = ev[ev["step"] == ev.groupby(["point", "seed"])["step"].transform("max")]
    ev["length"] = ev["metric"].str[4:].astype(int)
    return ev


def draw_lengths(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    ev = _curves(runs)
    task_list = sorted(ev["task"].unique())
    fig, axes = plt.subplots(1, len(task_list), figsize=(4.5 * len(task_list), 3.5), squeeze=False)
    for ax, task in zip(axes[0], task_list, strict=True):
        sns.lineplot(ev[ev["task"] == task], x="length", y="value", hue="arch", errorbar="sd", ax=ax)
        ax.axvspan(0.5, cfg.l_train + 0.5, color="0.9", zorder=0)
        ax.axhline(0.5, color="0.5", ls=":", lw=1)
        ax.set(title=task, xlabel="string length", ylabel="per-token accuracy", ylim=(0, 1.05))
    fig.tight_layout()
    return fig


def draw_table(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    ood = metrics[metrics["metric"] == "ood"].copy()
    parts = ood["point"].str.rpartition("_")
    ood["task"], ood["arch"] = parts[0], parts[2]
    mean = ood.pivot_table(index="task", columns="arch", values="value", aggfunc="mean")
    best = ood.pivot_table(index="task", columns="arch", values="value", aggfunc="max")
    labels = mean.map(lambda v: f"{100 * v:.1f}") + best.map(lambda v: f"\n({100 * v:.1f})")
    fig, ax = plt.subplots(figsize=(1.4 * mean.shape[1] + 2, 0.8 * mean.shape[0] + 1.5))
    sns.heatmap(mean, annot=labels.fillna(""), fmt="", vmin=0.5, vmax=1.0, cmap="viridis", ax=ax)
    ax.set(title="OOD score: mean over seeds (max)", xlabel="architecture", ylabel="task")
    fig.tight_layout()
    return fig
