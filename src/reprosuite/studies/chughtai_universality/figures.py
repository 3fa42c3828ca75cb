"""Figures: logit similarity per irrep over training, irrep frequency, FVE vs null, grokking curves."""

from __future__ import annotations

import pandas as pd


def _main(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    return runs[runs["point"] == f"{cfg.many_group}_wd{cfg.weight_decay:g}"]


def similarity(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    sims = _main(runs, cfg)
    sims = sims[(sims["split"] == "sim") & (sims["step"] > 0)]
    seeds = sorted(sims["seed"].unique())
    cols = min(4, len(seeds))
    rows = -(-len(seeds) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False, sharey=True)
    for ax, seed in zip(axes.flat, seeds, strict=False):
        sns.lineplot(
            sims[sims["seed"] == seed], x="step", y="value", hue="metric", ax=ax, legend=ax is axes.flat[0]
        )
        ax.axhline(cfg.key_threshold, ls="--", c="grey", lw=0.8)
        ax.axhline(cfg.order_threshold, ls=":", c="grey", lw=0.8)
        ax.set(xscale="log", title=f"seed {seed}", ylabel="logit similarity")
    for ax in list(axes.flat)[len(seeds) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def frequency(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    key = metrics[
        metrics["metric"].str.startswith("key_") & ~metrics["metric"].isin(["key_code", "key_differs"])
    ]
    key = key[~key["metric"].str.startswith(("key_code", "key_set", "key_differs"))]
    key = key.assign(irrep=key["metric"].str[4:], run=key["point"].str.split("_").str[-1])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.barplot(key, x="irrep", y="value", hue="run", errorbar=None, ax=ax)
    ax.set(ylabel="share of seeds where key", xlabel=f"irrep of {cfg.many_group} (real dimension + letter)")
    return fig


def fve(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    m = metrics[metrics["metric"].isin(["fve_wa", "fve_wb", "fve_wu", "null"])]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.stripplot(m, x="point", y="value", hue="metric", dodge=True, ax=ax)
    ax.set(ylabel="FVE of the key irreps / null", ylim=(-0.05, 1.05))
    return fig


def grokking(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    acc = runs[(runs["metric"] == "acc") & (runs["step"] > 0)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.lineplot(
        acc, x="step", y="value", hue="point", style="split", units="seed", estimator=None, lw=0.7, ax=ax
    )
    ax.set(xscale="log", ylabel="accuracy")
    return fig
