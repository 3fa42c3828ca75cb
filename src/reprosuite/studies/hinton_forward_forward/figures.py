"""Figures: test error per epoch of every trained model; goodness of positives and negatives per layer."""

from __future__ import annotations

import pandas as pd

NAMES = {
    "ff": "forward-forward",
    "control": "FF, labels independent (control)",
    "linear": "linear probe (raw pixels)",
    "bp": "backprop",
    "unsup": "unsupervised FF + readout",
    "unsup_random": "random features + readout (control)",
}


def by_model(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with ``point`` naming the model: the member variant where a job trains several (FF and control)."""
    return runs.assign(point=runs["variant"].where(runs["variant"].fillna("") != "", runs["point"]))


def _epochs(g: pd.DataFrame) -> pd.Series:
    """Steps as epochs: every job logs once per epoch, the first log at step 0."""
    steps = sorted(g["step"].unique())
    per_epoch = steps[1] - steps[0] if len(steps) > 1 else 1
    return g["step"] / per_epoch


def draw_errors(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    runs = by_model(runs)
    acc = runs[(runs["split"] == "test") & (runs["metric"] == "accuracy")].copy()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (point, g) in enumerate(acc.groupby("point", sort=False)):
        g = g.assign(epoch=_epochs(g), error=100 * (1 - g["value"]))
        sns.lineplot(
            g, x="epoch", y="error", errorbar=("pi", 100), ax=ax, label=NAMES.get(point, point), color=f"C{i}"
        )
    final = metrics[(metrics["model"] == "ff") & (metrics["metric"] == "test_accuracy")]["value"]
    if len(final):
        ax.axhline(100 * (1 - final.mean()), color="C0", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="test error (%)", yscale="log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_goodness(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    runs = by_model(runs)
    g = runs[runs["metric"].str.startswith("goodness_")].copy()
    g["phase"] = g["metric"].str.extract(r"goodness_(pos|neg)")[0].map({"pos": "positive", "neg": "negative"})
    g["layer"] = g["metric"].str.extract(r"layer(\d+)")[0].astype(int) + 1
    g["epoch"] = _epochs(g)
    layers = sorted(g["layer"].unique())
    points = [p for p in ("ff", "control") if p in set(g["point"])]
    fig, axes = plt.subplots(
        len(points), len(layers), figsize=(3 * len(layers), 2.6 * len(points)), squeeze=False
    )
    for r, point in enumerate(points):
        for c, layer in enumerate(layers):
            ax = axes[r, c]
            sel = g[(g["point"] == point) & (g["layer"] == layer)]
            sns.lineplot(sel, x="epoch", y="value", hue="phase", errorbar=None, ax=ax)
            if cfg.theta is not None:
                ax.axhline(cfg.theta, color="0.5", ls="--", lw=0.8)
            ax.set(title=f"{NAMES[point]}, layer {layer}", ylabel="mean goodness")
            ax.title.set_fontsize(8)
    fig.tight_layout()
    return fig
