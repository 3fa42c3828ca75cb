"""The study's figures: Fig. 2's median activation and cross-entropy curves (MLP), Fig. 4's CIFAR-100 curves."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _curves(runs: pd.DataFrame) -> pd.DataFrame:
    from . import LABELS, with_epochs

    curves = with_epochs(runs)
    curves["activation"] = curves["variant"].map(LABELS)
    return curves


def draw_median_activation(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = _curves(runs)
    data = data[data["metric"] == "median_activation"]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    sns.lineplot(data, x="epoch", y="value", hue="activation", errorbar="sd", marker="o", ms=3, ax=ax)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(cfg.compare_epochs, color="grey", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="median over units of mean activation")
    return fig


def draw_cross_entropy(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = _curves(runs)
    data = data[data["metric"] == "loss"].copy()
    data["set"] = data["split"].map({"train": "training", "test": "validation"})
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    sns.lineplot(
        data,
        x="epoch",
        y="value",
        hue="activation",
        style="set",
        errorbar="sd",
        ax=ax,
        dashes=[(1, 0), (2, 2)],
    )
    ax.axvline(cfg.compare_epochs, color="grey", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    return fig


def draw_cifar100(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import CIFAR100, LABELS

    data = runs[(runs["point"] == CIFAR100) & (runs["metric"].isin(["accuracy", "loss"]))].copy()
    data = data[(data["split"] == "test") & (data["metric"] == "accuracy") | (data["split"] == "train")]
    data["value"] = np.where(data["metric"] == "accuracy", 100 * (1 - data["value"]), data["value"])
    data["activation"] = data["variant"].map(LABELS)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (split, label) in zip(
        axes, (("train", "training loss"), ("test", "test error (%)")), strict=True
    ):
        sns.lineplot(
            data[data["split"] == split], x="step", y="value", hue="activation", errorbar="sd", ax=ax
        )
        ax.set(xlabel="iteration", ylabel=label)
    axes[0].set_yscale("log")
    return fig
