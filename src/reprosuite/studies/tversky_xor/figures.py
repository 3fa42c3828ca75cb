"""Figures of the XOR study: convergence rate per setting, and decision regions.

matplotlib and seaborn are imported inside the drawing functions (see :mod:`reprosuite.study`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def draw_convergence(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import convergence_table

    conv = convergence_table(metrics)
    conv["reductions"] = conv["intersection"] + " / " + conv["difference"]
    conv["features, init"] = conv["features"].astype(str) + ", " + conv["init"]
    table = conv.pivot_table(index="reductions", columns="features, init", values="converged", aggfunc="mean")
    cols = sorted(table.columns, key=lambda c: (c.split(", ")[1], int(c.split(", ")[0])))
    table = table[cols]
    fig, ax = plt.subplots(figsize=(1.0 * len(cols) + 3, 0.45 * len(table) + 1.8))
    sns.heatmap(
        table, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", cbar_kws={"label": "rate"}, ax=ax
    )
    ax.set(xlabel="number of features, initialisation", ylabel="intersection / difference reduction")
    ax.set_title(
        f"XOR convergence rate over {conv['seed'].nunique()} seeds (overall {conv.converged.mean():.2f})"
    )
    return fig


def draw_regions(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    from . import make_data

    region = runs[runs["split"] == "region"]
    panels = [("handbuilt", "hand-built (product / ignorematch)"), ("linear", "linear layer (lr 0.1)")]
    learned = region[~region["variant"].isin(["handbuilt", "linear"])]
    panels[1:1] = [(v, f"learned: {v}") for v in sorted(learned["variant"].unique())]
    data = make_data(cfg)
    n = cfg.region_points
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.4), squeeze=False)
    for ax, (variant, title) in zip(axes[0], panels, strict=True):
        sel = region[region["variant"] == variant].sort_values("step")
        if sel.empty:
            ax.set_axis_off()
            continue
        margin = sel["value"].to_numpy().reshape(n, n)  # [y index, x index]
        axis = np.linspace(-0.5, 1.5, n)
        ax.contourf(
            axis, axis, (margin > 0).astype(float), levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fdae6b"]
        )
        if margin.min() < 0 < margin.max():
            ax.contour(axis, axis, margin, levels=[0], colors="k", linewidths=1)
        for (px, py), label in zip(data["x"], data["y"], strict=True):
            ax.scatter(px, py, c="C1" if label else "C0", edgecolor="k", s=90, marker="s" if label else "o")
        ax.set(title=title, xlabel="x₁", ylabel="x₂", aspect="equal")
        ax.title.set_fontsize(8)
    return fig
