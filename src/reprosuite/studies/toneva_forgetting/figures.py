"""The figures of the study: the histogram of forgetting counts, and test accuracy against the fraction removed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .analysis import CIFAR10, POINTS

NAMES = {"cnn": "CNN", "mlp": "MLP", CIFAR10: "ResNet-18, CIFAR-10"}


def draw_counts(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    ex = runs[
        (runs["split"] == "example")
        & (runs["metric"].isin(["forgetting_count", "learned"]))
        & (runs["mode"] == "full")  # not the shuffled-label control
    ]
    wide = ex.pivot_table(index=["point", "seed", "step"], columns="metric", values="value").reset_index()
    points = [p for p in POINTS if p in set(wide["point"])]
    fig, axes = plt.subplots(1, len(points), figsize=(5 * len(points), 3.6), squeeze=False)
    for ax, point in zip(axes[0], points, strict=True):
        sel = wide[wide["point"] == point]
        c = sel["forgetting_count"].to_numpy()
        ok = sel["learned"].to_numpy() == 1
        top = int(c[ok].max()) if ok.any() else 0
        labels = [str(k) for k in range(top + 1)] + ["never\nlearned"]
        freq = [np.mean(ok & (c == k)) for k in range(top + 1)] + [np.mean(~ok)]
        ax.bar(range(len(freq)), freq, color=["C2"] + ["C0"] * top + ["C3"])
        ax.set_xticks(range(len(freq)), labels, fontsize=7)
        mean = c[ok].mean() if ok.any() else 0.0
        poisson = [math.exp(-mean) * mean**k / math.factorial(k) * ok.mean() for k in range(top + 1)]
        ax.plot(range(top + 1), poisson, "k.--", lw=0.8, label=f"Poisson, same mean ({mean:.2f})")
        ax.set(
            xlabel="forgetting events",
            ylabel="fraction of training examples",
            title=f"{NAMES[point]}: {100 * np.mean(ok & (c == 0)):.1f} % unforgettable "
            f"({sel['seed'].nunique()} seeds)",
        )
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_removal(runs: pd.DataFrame, metrics: pd.DataFrame, cfg, point: str = "cnn"):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import removal_table

    rem = removal_table(metrics, point)
    names = {"selected": "least forgettable", "random": "random", "control": "by shuffled-label counts"}
    rem["removed"] = rem["mode"].map(names)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    sns.lineplot(data=rem, x="fraction", y="accuracy", hue="removed", marker="o", errorbar=("ci", 95), ax=ax)
    cifar = point == CIFAR10
    dataset = "CIFAR-10" if cifar else {"mnist": "MNIST", "mnist1d": "MNIST-1D"}[cfg.dataset]
    ax.set(xlabel="fraction of training set removed", ylabel=f"test accuracy ({NAMES[point].split(',')[0]})")
    epochs = cfg.cifar10_epochs if cifar else cfg.epochs
    ax.set_title(f"{dataset}, {epochs} epochs, {rem['seed'].nunique()} seeds", fontsize=9)
    return fig
