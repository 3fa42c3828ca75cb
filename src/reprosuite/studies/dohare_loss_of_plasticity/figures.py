"""The figures of the study: online error binned per 2T steps, and the plasticity probes over the stream."""

from __future__ import annotations

import pandas as pd

LABELS = {"backprop": "backprop", "l2": "L2", "cbp": "continual backprop", "stationary": "backprop, no flips"}
PALETTE = {"backprop": "C3", "L2": "C2", "continual backprop": "C0", "backprop, no flips": "0.55"}
HUE_ORDER = list(LABELS.values())


def _steps_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))


def binned_errors(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    err = runs[(runs["split"] == "train") & (runs["metric"] == "error")].copy()
    err["bin"] = (err["step"] - 1) // cfg.bin_size
    out = err.groupby(["variant", "seed", "bin"], as_index=False)["value"].mean()
    out["step"] = (out["bin"] + 1) * cfg.bin_size
    return out


def draw_error(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    binned = binned_errors(runs, cfg)
    binned["method"] = binned["variant"].map(LABELS)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.lineplot(
        data=binned,
        x="step",
        y="value",
        hue="method",
        hue_order=HUE_ORDER,
        palette=PALETTE,
        errorbar=("ci", 95),
        ax=ax,
    )
    _steps_axis(ax)
    total = int(binned["step"].max())
    for lo, hi in ((cfg.window, 2 * cfg.window), (total - cfg.window, total)):
        ax.axvspan(lo, hi, color="0.9", zorder=0)
    ax.set(xlabel="example (online step)", ylabel=f"squared error (bins of {cfg.bin_size:,})")
    ax.set_title("Slowly-changing regression, 5-unit ReLU learner (shaded: claim windows)", fontsize=9)
    fig.tight_layout()
    return fig


def draw_probes(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    probe = runs[runs["split"] == "probe"].copy()
    probe["method"] = probe["variant"].map(LABELS)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, (metric, label) in zip(
        axes,
        (("effective_rank", "effective rank of hidden features"), ("dead_units", "dead hidden units")),
        strict=True,
    ):
        sns.lineplot(
            data=probe[probe["metric"] == metric],
            x="step",
            y="value",
            hue="method",
            hue_order=HUE_ORDER,
            palette=PALETTE,
            errorbar=("ci", 95),
            ax=ax,
        )
        _steps_axis(ax)
        ax.set(xlabel="example (online step)", ylabel=label, ylim=(0, cfg.hidden + 0.2))
    fig.tight_layout()
    return fig


MNIST_LABELS = {
    "mnist_backprop": "backprop",
    "mnist_l2": "L2",
    "mnist_cbp": "continual backprop",
    "mnist_same": "backprop, one permutation",
}
MNIST_PALETTE = {
    "backprop": "C3",
    "L2": "C2",
    "continual backprop": "C0",
    "backprop, one permutation": "0.55",
}


def draw_mnist(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    order = list(MNIST_LABELS.values())
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    acc = runs[(runs["split"] == "mnist") & (runs["metric"] == "accuracy")].copy()
    acc["task"] = acc["step"] // cfg.mnist_examples
    acc["accuracy"] = 100 * acc["value"]
    acc["method"] = acc["variant"].map(MNIST_LABELS)
    dead = runs[(runs["split"] == "mnist_probe") & (runs["metric"] == "dead_units")].copy()
    dead["task"] = dead["step"] // cfg.mnist_examples
    dead["method"] = dead["variant"].map(MNIST_LABELS)
    for ax, table, y, label in (
        (axes[0], acc, "accuracy", "online accuracy per task (%)"),
        (axes[1], dead, "value", "dead hidden units at task start"),
    ):
        sns.lineplot(
            data=table,
            x="task",
            y=y,
            hue="method",
            hue_order=order,
            palette=MNIST_PALETTE,
            errorbar=("ci", 95),
            ax=ax,
        )
        ax.set(xlabel="task", ylabel=label)
    if not acc.empty:
        total = int(acc["task"].max())
        fit, w = cfg.mnist_fit_tasks, cfg.mnist_window
        for lo, hi in ((fit, fit + w), (total - w, total)):
            axes[0].axvspan(lo, hi, color="0.9", zorder=0)
    axes[0].set_title("Online permuted MNIST (shaded: claim windows)", fontsize=9)
    fig.tight_layout()
    return fig
