"""The figures of the μP study: the coordinate check (update size vs width) and the learning-rate sweep."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

LABELS = {"sp": "SP", "ntk": "NTK", "mup": "μP"}


def draw_coord_check(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import PARAMS, coord_slopes, coord_table

    coord = coord_table(runs)
    coord = coord[(coord["metric"] == "dh") & (coord["step"] > 0)]
    slopes = coord_slopes(metrics).groupby("param")["slope"].mean()
    fig, axes = plt.subplots(1, len(PARAMS), figsize=(4.2 * len(PARAMS), 3.6), sharey=True, squeeze=False)
    for ax, param in zip(axes[0], PARAMS, strict=True):
        sel = coord[coord["param"] == param].rename(columns={"step": "t"})
        if sel.empty:
            ax.set_axis_off()
            continue
        sns.lineplot(sel, x="width", y="value", hue="t", marker="o", palette="viridis", ax=ax, errorbar="sd")
        ax.set(xscale="log", yscale="log", xlabel="width n", ylabel="‖h_t − h_0‖/√n (last hidden layer)")
        ax.set_title(f"{LABELS[param]}: slope at t = {cfg.coord_steps}: {slopes.get(param, math.nan):+.2f}")
        ax.set_xticks(sorted(sel["width"].unique()), [str(w) for w in sorted(sel["width"].unique())])
        ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    return fig


def draw_loss_vs_lr(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import sweep_table

    sweep = sweep_table(runs)
    sweep = sweep.assign(loss=sweep["loss"].replace(np.inf, np.nan))
    params = [p for p in cfg.sweep_params if p in set(sweep["param"])]
    fig, axes = plt.subplots(1, max(len(params), 1), figsize=(4.6 * max(len(params), 1), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, param in zip(axes, params, strict=False):
        sel = sweep[sweep["param"] == param]
        sns.lineplot(sel, x="lr", y="loss", hue="width", marker="o", palette="flare", ax=ax, errorbar="sd")
        ax.set(xscale="log", xlabel="learning rate (base-width units)", ylabel="training loss")
        ax.set_title(f"{LABELS[param]}, {cfg.sweep_steps} SGD steps")
    fig.tight_layout()
    return fig
