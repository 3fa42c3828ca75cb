"""Figures: distance from initialisation vs updates, accuracy by regime, accuracy vs updates."""

from __future__ import annotations

import pandas as pd

ORDER = ("sb", "lb", "lb_lr", "lb_lr_gbn", "lb_lr_gbn_half", "lb_lr_gbn_ra")


def distance(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    """Left: ‖w_t − w₀‖ of every run against log t (log growth is a straight line). Right: H1's small-batch run
    at constant lr without wd and its random-walk control, each divided by its final distance."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = runs[(runs["metric"] == "distance") & (runs["step"] > 0)].copy()
    d["run"] = d["point"] + ":" + d["variant"].astype(str)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    sns.lineplot(d[d["variant"] != "walk"], x="step", y="value", hue="run", errorbar="sd", ax=a)
    a.set(xscale="log", xlabel="updates t", ylabel="‖w_t − w₀‖", title="all runs")
    a.legend(fontsize=7)
    h = d[d["point"] == "walk"].copy()
    if len(h):
        last = h.sort_values("step").groupby(["variant", "seed"])["value"].transform("last")
        h["relative"] = h["value"] / last
        sns.lineplot(h, x="step", y="relative", hue="variant", errorbar="sd", ax=b)
    b.set(xscale="log", xlabel="updates t", ylabel="d(t) / d(T)", title="H1: SGD vs random walk")
    return fig


def accuracy(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    m = metrics[(metrics["metric"] == "acc") & metrics["point"].isin(ORDER)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.barplot(
        m, x="point", y="value", order=[p for p in ORDER if p in set(m["point"])], errorbar=("ci", 95), ax=ax
    )
    lo = m["value"].min() if len(m) else 0
    ax.set(xlabel="regime", ylabel="final test accuracy (%)", ylim=(max(0, lo - 5), 100))
    ax.tick_params(axis="x", labelrotation=20)
    return fig


def updates(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    a = runs[(runs["metric"] == "accuracy") & (runs["split"] == "test")]
    a = a[a["point"].isin(("sb", "lb_lr_gbn", "lb_lr_gbn_ra")) & (a["step"] > 0)]
    fig, ax = plt.subplots(figsize=(6, 4))
    sns.lineplot(a, x="step", y="value", hue="point", errorbar="sd", ax=ax)
    ax.set(xscale="log", xlabel="updates", ylabel="test accuracy (%)")
    return fig
