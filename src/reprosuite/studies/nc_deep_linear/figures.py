"""Figures of the neural-collapse study: NC1–NC3 over training and the imbalanced norms against the closed form.
matplotlib and seaborn are imported inside the functions."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import collapse

W_LABEL, H_LABEL = "‖row k of W_M⋯W_1‖", "‖class mean h̄_k‖"
_VARIANT_TITLES = {
    "balanced": "balanced, no bias (vs I)",
    "balanced_bias": "balanced, bias (vs ETF)",
    "imbalanced": "imbalanced (vs closed form)",
}


def draw_nc_curves(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = runs[
        runs["metric"].isin(["nc1", "nc2", "nc3"]) & runs["variant"].isin(list(_VARIANT_TITLES))
    ].copy()
    data["depth"] = data["point"].str.removeprefix("M").astype(int)
    variants = [v for v in _VARIANT_TITLES if v in set(data["variant"])]
    fig, axes = plt.subplots(3, len(variants), figsize=(4 * len(variants), 8.5), sharex=True, squeeze=False)
    for row, name in enumerate(["nc1", "nc2", "nc3"]):
        for col, variant in enumerate(variants):
            ax = axes[row, col]
            sel = data[(data["metric"] == name) & (data["variant"] == variant)]
            sns.lineplot(
                sel,
                x="step",
                y="value",
                hue="depth",
                palette="viridis",
                errorbar=("pi", 100),
                ax=ax,
                legend=row == 0 and col == 0,
            )
            ax.set_yscale("log")
            ax.set_title(_VARIANT_TITLES[variant] if row == 0 else "")
            ax.set_ylabel(name.upper())
            threshold = 1e-3 if name == "nc1" else 0.05
            ax.axhline(threshold, color="grey", ls="--", lw=1)
    axes[0, 0].legend(title="depth M", fontsize=8)
    return fig


def draw_imbalanced_norms(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import final_state  # the package, loaded by the time a figure is drawn

    last = final_state(runs[runs["variant"] == "imbalanced"])
    last = last[last["metric"].str.match(r"^[wh]_norm_\d+$")].copy()
    last["which"] = np.where(last["metric"].str.startswith("w"), W_LABEL, H_LABEL)
    last["class"] = last["metric"].str.rsplit("_", n=1).str[1].astype(int)
    labels = [f"{k}\n(n={n})" for k, n in enumerate(cfg.imbalanced_sizes)]
    last["class size"] = last["class"].map(dict(enumerate(labels)))
    depths = sorted({int(p.removeprefix("M")) for p in last["point"]})
    fig, axes = plt.subplots(2, len(depths), figsize=(3.2 * len(depths), 6), squeeze=False)
    for col, depth in enumerate(depths):
        w_theory, h_theory = collapse.closed_form_norms(
            cfg.imbalanced_sizes, depth, cfg.lambda_w, cfg.lambda_h
        )
        for row, (which, theory) in enumerate(((W_LABEL, w_theory), (H_LABEL, h_theory))):
            ax = axes[row, col]
            sel = last[(last["point"] == f"M{depth}") & (last["which"] == which)]
            sns.barplot(sel, x="class size", y="value", order=labels, errorbar=("pi", 100), ax=ax, color="C0")
            ax.scatter(
                range(len(theory)), theory, color="black", marker="_", s=600, lw=2, zorder=3, label="theory"
            )
            ax.set_title(f"M = {depth}" if row == 0 else "")
            ax.set_ylabel(which if col == 0 else "")
            ax.set_xlabel("class (size)" if row == 1 else "")
    axes[0, 0].legend(fontsize=8)
    return fig


_MLP = {
    "nobias": ("bias-free (vs I)", "nc2_i", "nc3_i"),
    "bias": ("last-layer bias (vs ETF)", "nc2_etf", "nc3_etf"),
}
_TRAIN_SIZES = {"mnist": 60_000, "cifar10": 50_000}
_MLP_POINT = re.compile(r"^mlp_(?:(?P<dataset>[a-z]\w*)_)?w(?P<width>\d+)_M(?P<depth>\d+)_(?:bias|nobias)$")


def draw_mlp_curves(runs: pd.DataFrame, metrics: pd.DataFrame, cfg, width: int = 512, dataset: str = "mnist"):
    import matplotlib.pyplot as plt
    import seaborn as sns

    parsed = runs["point"].str.extract(_MLP_POINT)
    parsed["dataset"] = parsed["dataset"].fillna("mnist")
    mine = parsed["width"].notna() & (parsed["dataset"] == dataset) & (runs["split"] == "train")
    data = runs[mine].assign(
        width=parsed["width"][mine].astype(float), depth=parsed["depth"][mine].astype(float)
    )
    if data.empty:
        fig, ax = plt.subplots()
        ax.text(0.5, 0.5, f"no MLP runs on {dataset} at this tier", ha="center")
        return fig
    widths = sorted(data["width"].unique())
    data = data[data["width"] == (width if width in widths else widths[0])]
    data["depth"] = data["depth"].astype(int)
    data["variant"] = data["variant"].str.rsplit("_", n=1).str[-1]  # bias / nobias
    per_epoch = max(1, _TRAIN_SIZES[dataset] // cfg.mlp_batch)
    data["epoch"] = data["step"] / per_epoch
    fig, axes = plt.subplots(3, 2, figsize=(8, 8.5), sharex=True, squeeze=False)
    for col, (variant, (title, nc2, nc3)) in enumerate(_MLP.items()):
        for row, (name, label) in enumerate((("nc1", "NC1"), (nc2, "NC2"), (nc3, "NC3"))):
            ax = axes[row, col]
            sel = data[(data["variant"] == variant) & (data["metric"] == name)]
            sns.lineplot(
                sel,
                x="epoch",
                y="value",
                hue="depth",
                palette="viridis",
                errorbar=("pi", 100),
                ax=ax,
                legend=row == 0 and col == 0,
            )
            ax.set_yscale("log")
            ax.set_title(title if row == 0 else "")
            ax.set_ylabel(label)
            ax.axhline(0.1, color="grey", ls="--", lw=1)
    if axes[0, 0].get_legend() is not None:
        axes[0, 0].legend(title="depth M", fontsize=8)
    return fig
