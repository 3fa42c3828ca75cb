"""The figures of the gradient-noise study: accuracy curves per init, and Table 1 as bars."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# Table 1 (MNIST, clipping threshold 10): (best, average) test accuracy
PAPER_TABLE1 = {
    ("zero", False): (0.114, 0.101),
    ("zero", True): (0.945, 0.497),
    ("simple", False): (0.957, 0.516),
    ("simple", True): (0.970, 0.536),
    ("he", False): (0.974, 0.917),
    ("he", True): (0.972, 0.917),
}


NOISE_LABELS = {True: "noise η = 0.01", False: "no noise"}


def _label(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.assign(**{"gradient noise": runs["noise"].map(NOISE_LABELS)})


def draw_accuracy_curves(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import INITS, chance, make_data

    data = _label(runs[runs["metric"].isin(["accuracy", "weight_rms"])])
    inits = [i for i in INITS if i in set(data["init"])]
    base = chance(make_data(cfg)["y_test"])
    fig, axes = plt.subplots(2, len(inits), figsize=(4 * len(inits), 6), sharex=True, squeeze=False)
    for col, init in enumerate(inits):
        for row, (split, metric) in enumerate((("test", "accuracy"), ("train", "weight_rms"))):
            ax = axes[row, col]
            sel = data[(data["init"] == init) & (data["split"] == split) & (data["metric"] == metric)]
            sns.lineplot(
                sel,
                x="step",
                y="value",
                hue="gradient noise",
                hue_order=[NOISE_LABELS[True], NOISE_LABELS[False]],
                style="lr" if len(cfg.lrs) > 1 else None,
                errorbar=("pi", 100),
                ax=ax,
                legend=row == 0 and col == 0,
            )
            if row == 0:
                ax.axhline(base, color="grey", ls="--", lw=1)
                ax.set(title=f"{init} init", ylim=(0, 1), ylabel="test accuracy" if col == 0 else "")
            else:
                ax.axhline(math.sqrt(2 / cfg.width), color="grey", ls=":", lw=1)
                ax.set(ylabel="weight RMS" if col == 0 else "", xlabel="step")
    return fig


def draw_table1(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    from . import INITS, final_accuracy

    acc = _label(final_accuracy(runs))
    inits = [i for i in INITS if i in set(acc["init"])]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    width = 0.38
    for ax, (title, how, k) in zip(
        axes, (("best run", "max", 0), ("average over runs", "mean", 1)), strict=True
    ):
        for j, (noise, colour) in enumerate(((False, "C1"), (True, "C0"))):
            sel = acc[acc["gradient noise"] == NOISE_LABELS[noise]]
            values = [sel[sel["init"] == i]["value"].agg(how) for i in inits]
            pos = np.arange(len(inits)) + (j - 0.5) * width
            ax.bar(pos, values, width, color=colour, label=f"ours, {NOISE_LABELS[noise]}")
            paper = [PAPER_TABLE1[(i, noise)][k] for i in inits]
            ax.scatter(pos, paper, color="black", marker="_", s=300, lw=2, zorder=3)
        ax.set(
            xticks=np.arange(len(inits)), xticklabels=[f"{i} init" for i in inits], title=title, ylim=(0, 1)
        )
    axes[0].set_ylabel("final test accuracy")
    axes[1].scatter([], [], color="black", marker="_", s=300, lw=2, label="paper (MNIST, clip 10)")
    axes[1].legend(fontsize=8, loc="upper left")
    return fig
