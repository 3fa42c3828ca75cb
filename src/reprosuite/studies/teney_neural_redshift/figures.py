"""Figures of the Neural Redshift study: mean-frequency heatmaps per activation, and sample functions.

matplotlib and seaborn are imported inside the drawing functions (see :mod:`reprosuite.study`).
"""

from __future__ import annotations

import math

import pandas as pd

from reprosuite.study import Figure


def draw_heatmaps(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import frequency_table

    table = frequency_table(metrics)
    acts = [a for a in cfg.activations if a in set(table["activation"])]
    fig, axes = plt.subplots(1, len(acts), figsize=(3.6 * len(acts), 3.4), squeeze=False)
    vmax = float(table["value"].max())
    for ax, act in zip(axes[0], acts, strict=True):
        grid_ = table[table["activation"] == act].pivot_table(
            index="amplitude", columns="depth", values="value", aggfunc="mean"
        )
        grid_.index = [f"{a:.3g}" for a in grid_.index]
        sns.heatmap(
            grid_,
            ax=ax,
            vmin=0,
            vmax=vmax,
            cmap="Spectral_r",
            annot=len(grid_) <= 8,
            fmt=".2f",
            cbar=ax is axes[0][-1],
            annot_kws={"fontsize": 7},
        )
        ax.invert_yaxis()
        ax.set(title=act, xlabel="hidden layers", ylabel="weight amplitude a")
    fig.suptitle(f"mean frequency of random networks (mean of {table['seed'].nunique()} seeds)")
    fig.tight_layout()
    return fig


def draw_samples(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    sel = runs[runs["split"] == "function"]
    acts = [a for a in cfg.activations if a in set(sel["point"])]
    nets = sorted(set(zip(sel["depth"].astype(int), sel["amplitude"], strict=True)))
    fig, axes = plt.subplots(len(acts), len(nets), figsize=(2.2 * len(nets), 2.2 * len(acts)), squeeze=False)
    for r, act in enumerate(acts):
        for c, (depth, amp) in enumerate(nets):
            ax = axes[r][c]
            net = sel[(sel["point"] == act) & (sel["depth"] == depth) & (sel["amplitude"] == amp)]
            img = net.sort_values("step")["value"].to_numpy()
            ax.set_xticks([])
            ax.set_yticks([])
            if img.size == 0:
                continue
            side = int(round(math.sqrt(img.size)))
            ext = [-cfg.extent, cfg.extent, -cfg.extent, cfg.extent]
            ax.imshow(img.reshape(side, side), cmap="gray", origin="lower", extent=ext, interpolation="none")
            if r == 0:
                ax.set_title(f"{depth} layer{'s' if depth > 1 else ''}, a = {amp:g}", fontsize=8)
            if c == 0:
                ax.set_ylabel(act)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "mean_frequency_heatmaps",
        "Paper Fig. 2: mean frequency of random networks' outputs over a 2-D input grid, by weight amplitude and "
        "depth, per activation: flat for ReLU, rising with amplitude and depth for tanh, sin and Gaussian. Ours: "
        "the same measure (official definition) averaged over seeds, one panel per activation.",
        draw_heatmaps,
    ),
    Figure(
        "sample_functions",
        "Paper Fig. 1/3: functions implemented by random networks over [−1, 1]² — smooth for ReLU at every "
        "scale, increasingly oscillatory for the others at large amplitude and depth. Ours: one seed's random "
        "network per activation (rows) at the smallest and largest depth and amplitude (columns).",
        draw_samples,
    ),
)
