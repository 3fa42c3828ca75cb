"""Figures of the progress-measures study: losses with the three phases, progress measures, W_E spectrum."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from reprosuite.claims import per_seed

PHASES = (("memorisation", "#dbe9f6"), ("circuit formation", "#fde9c9"), ("cleanup", "#dff2dc"))


def _paper_wd(draw):
    """Draw the members with the paper's weight decay only (the weight-decay-0 control is left out)."""

    @functools.wraps(draw)
    def wrapped(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
        runs = runs[runs["wd"] == cfg.weight_decay] if "wd" in runs.columns else runs
        metrics = metrics[metrics["wd"] == cfg.weight_decay] if "wd" in metrics.columns else metrics
        return draw(runs, metrics, cfg)

    return wrapped


def _phases(metrics: pd.DataFrame) -> list[tuple[str, str, float, float]]:
    """Phase spans from the seed medians: [0, t_memorise], [t_memorise, t_test_onset], [onset, t_test_end]."""

    def med(name: str) -> float:
        v = per_seed(metrics, name).to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        return float(np.median(v)) if v.size else math.nan

    bounds = [0.0, med("t_memorise"), med("t_test_onset"), med("t_test_end")]
    out = []
    for (name, colour), lo, hi in zip(PHASES, bounds[:-1], bounds[1:], strict=True):
        if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
            out.append((name, colour, lo, hi))
    return out


def _shade(ax, metrics: pd.DataFrame, legend: bool = False) -> None:
    for name, colour, lo, hi in _phases(metrics):
        ax.axvspan(lo, hi, color=colour, alpha=0.8, lw=0, zorder=0, label=name if legend else None)


def _curves(runs: pd.DataFrame, pairs: list[tuple[str, str, str]]) -> pd.DataFrame:
    parts = []
    for split, metric, label in pairs:
        sel = runs[(runs["split"] == split) & (runs["metric"] == metric)].copy()
        sel["curve"] = label
        parts.append(sel)
    return pd.concat(parts, ignore_index=True)


@_paper_wd
def losses(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    df = _curves(runs, [("train", "loss", "train loss"), ("test", "loss", "test loss")])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis in (ax, ax2):
        _shade(axis, metrics, legend=axis is ax)
    sns.lineplot(data=df, x="step", y="value", hue="curve", units="seed", estimator=None, lw=1.1, ax=ax)
    ax.set(yscale="log", xlabel="step (full-batch epoch)", ylabel="cross-entropy loss")
    acc = _curves(runs, [("train", "acc", "train"), ("test", "acc", "test")])
    sns.lineplot(data=acc, x="step", y="value", hue="curve", units="seed", estimator=None, lw=1.1, ax=ax2)
    ax2.set(xlabel="step (full-batch epoch)", ylabel="accuracy", ylim=(-0.02, 1.02))
    ax.legend(fontsize=8)
    fig.suptitle(f"1-layer transformer, (a + b) mod {cfg.p}, {cfg.fraction:.0%} training data")
    fig.tight_layout()
    return fig


@_paper_wd
def progress(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [
        (
            axes[0, 0],
            [
                ("progress", "excluded_loss", "excluded loss"),
                ("train", "loss", "train"),
                ("test", "loss", "test"),
            ],
            "log",
            "excluded loss (key frequencies removed, train set)",
        ),
        (
            axes[0, 1],
            [
                ("progress", "restricted_loss", "restricted loss"),
                ("train", "loss", "train"),
                ("test", "loss", "test"),
            ],
            "log",
            "restricted loss (key frequencies only, all inputs)",
        ),
        (
            axes[1, 0],
            [("params", "sum_sq_weights", "sum of squared weights")],
            "linear",
            "sum of squared weights",
        ),
        (
            axes[1, 1],
            [
                ("embed", "n_share", f"frequencies with {cfg.share:.0%} of W_E energy"),
                ("embed", "gini", "Gini"),
            ],
            "linear",
            "embedding sparsity in the Fourier basis",
        ),
    ]
    for ax, pairs, yscale, title in panels:
        _shade(ax, metrics, legend=ax is axes[0, 0])
        df = _curves(runs, pairs)
        if ax is axes[1, 1]:
            twin = ax.twinx()
            g = df[df["curve"] == "Gini"]
            sns.lineplot(data=g, x="step", y="value", units="seed", estimator=None, color="C3", lw=1, ax=twin)
            twin.set(ylabel="Gini of per-frequency norms", ylim=(0, 1))
            df = df[df["curve"] != "Gini"]
        sns.lineplot(data=df, x="step", y="value", hue="curve", units="seed", estimator=None, lw=1.1, ax=ax)
        ax.set(yscale=yscale, xlabel="step", ylabel=title.split(" (")[0], title=title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


@_paper_wd
def spectrum(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    last = runs["step"].max()
    energy = runs[
        (runs["split"] == "embed") & runs["metric"].str.startswith("energy_k") & (runs["step"] == last)
    ]
    df = energy.assign(
        k=energy["metric"].str.removeprefix("energy_k").astype(int), norm=np.sqrt(energy["value"])
    )
    keys = runs[(runs["split"] == "fourier") & runs["metric"].str.startswith("key_k") & (runs["value"] > 0)]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.18 * cfg.p), 4.2))
    sns.barplot(data=df, x="k", y="norm", hue="seed", ax=ax, palette="deep")
    for seed_i, (_, g) in enumerate(keys.groupby("seed")):
        ks = g["metric"].str.removeprefix("key_k").astype(int).to_numpy()
        ax.scatter(
            ks - 1,
            np.full(ks.shape, -0.03 * df["norm"].max() * (seed_i + 1)),
            marker="^",
            s=18,
            color=sns.color_palette("deep")[seed_i],
            clip_on=False,
        )
    ax.set(
        xlabel="frequency k", ylabel="norm of W_E at frequency k", title=f"W_E Fourier spectrum, step {last}"
    )
    ax.tick_params(axis="x", labelsize=6)
    fig.tight_layout()
    return fig
