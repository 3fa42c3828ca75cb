"""Figures of the grokking study: accuracy curves at the grok fraction, and steps to 99 % vs train fraction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.claims import per_seed


def accuracy(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import _point_id

    sel = runs[(runs["point"] == _point_id(cfg.grok_fraction)) & (runs["metric"] == "acc")]
    sel = sel[sel["arm"] == "main"].copy() if "arm" in sel.columns else sel.copy()  # not claim 2's control
    sel["step"] = sel["step"].clip(lower=1)  # log x: the initial state is drawn at step 1
    sel["weight decay"] = sel["wd"].map(lambda wd: f"{wd:g}")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    sns.lineplot(
        data=sel,
        x="step",
        y="value",
        hue="split",
        style="weight decay",
        style_order=[f"{cfg.weight_decay:g}", "0"],
        units="seed",
        estimator=None,
        lw=1.2,
        alpha=0.8,
        ax=ax,
    )
    ax.axhline(cfg.threshold, color="grey", ls=":", lw=1)
    ax.set(xscale="log", xlabel="optimisation step", ylabel="accuracy", ylim=(-0.02, 1.02))
    ax.set_title(f"{cfg.model}, a {cfg.op} b mod {cfg.p}, {cfg.grok_fraction:.0%} training data")
    ax.legend(fontsize=8)
    return fig


def steps_vs_fraction(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import _point_id

    rows = []
    for f in cfg.fractions:
        for name in ("t_train", "t_val"):
            point, wd = _point_id(f), cfg.weight_decay
            for seed, v in per_seed(metrics, name, point, wd=wd, arm="main").items():
                last = per_seed(metrics, "last_step", point, wd=wd, arm="main").get(seed, np.nan)
                reached = math.isfinite(v)
                rows.append(
                    {
                        "fraction": f,
                        "seed": seed,
                        "accuracy ≥ 99 %": name.replace("t_", ""),
                        "step": v if reached else last,
                        "reached": "yes" if reached else "no (run end)",
                    }
                )
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    sns.lineplot(
        data=df, x="fraction", y="step", hue="accuracy ≥ 99 %", estimator="median", errorbar=None, ax=ax
    )
    sns.scatterplot(
        data=df,
        x="fraction",
        y="step",
        hue="accuracy ≥ 99 %",
        style="reached",
        style_order=["yes", "no (run end)"],
        legend=False,
        ax=ax,
        s=40,
    )
    ax.set(yscale="log", xlabel="training data fraction", ylabel="steps until 99 % accuracy")
    ax.set_title(f"{cfg.model}, a {cfg.op} b mod {cfg.p}, weight decay {cfg.weight_decay:g}")
    return fig
