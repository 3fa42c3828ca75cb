"""The figures of the in-context regression study: SPD/ILWD vs exemplars, the noise × ridge-λ map, SPD vs depth."""

from __future__ import annotations

import numpy as np
import pandas as pd

LEARNERS = {"ols": "OLS", "gd": "one-step GD", "knn": "3-NN"}


def draw_spd_vs_exemplars(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import final_curves

    curves = final_curves(runs)
    curves = curves[(curves["depth"] == max(cfg.depths)) & (curves["noise_var"] == min(cfg.noise_vars))]
    curves = curves[curves["learner"].isin(list(LEARNERS))].copy()
    curves["learner"] = curves["learner"].map(LEARNERS)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, kind in zip(axes, ("spd", "ilwd"), strict=True):
        sel = curves[curves["kind"] == kind]
        if not sel.empty:
            sns.lineplot(sel, x="k", y="value", hue="learner", marker="o", errorbar=("pi", 100), ax=ax)
        ax.set_yscale("log")
        ax.axvline(cfg.dim, color="grey", ls="--", lw=1)
        ax.set_xlabel("number of in-context exemplars k")
        ax.set_ylabel(f"{kind.upper()}(ICL, learner) / d")
    return fig


def draw_ridge_heatmap(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import final_curves

    curves = final_curves(runs)
    sel = curves[(curves["kind"] == "spd") & (curves["depth"] == max(cfg.depths))]
    sel = sel[sel["learner"].str.match(r"^(ols|ridge)")].copy()
    sel["lambda"] = sel["learner"].str.removeprefix("ridge").replace("ols", "0").astype(float).round(3)
    sel["noise σ²"] = sel["noise_var"].round(3)
    table = sel.groupby(["noise σ²", "lambda"])["value"].mean().unstack()
    fig, ax = plt.subplots(figsize=(5, 4))
    sns.heatmap(
        np.log10(table), annot=True, fmt=".1f", cmap="viridis_r", ax=ax, cbar_kws={"label": "log10 SPD"}
    )
    ax.set_xlabel("ridge λ")
    return fig


def draw_spd_vs_depth(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import final_curves

    curves = final_curves(runs)
    sel = curves[(curves["kind"] == "spd") & (curves["noise_var"] == min(cfg.noise_vars))]
    sel = sel[sel["learner"].isin(list(LEARNERS))].copy()
    sel["learner"] = sel["learner"].map(LEARNERS)
    mean = sel.groupby(["depth", "learner", "seed"], as_index=False)["value"].mean()
    fig, ax = plt.subplots(figsize=(5, 4))
    sns.lineplot(mean, x="depth", y="value", hue="learner", marker="o", errorbar=("pi", 100), ax=ax)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylabel("SPD(ICL, learner) / d, mean over k")
    return fig
