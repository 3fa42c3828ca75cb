"""Figures of the lazy-to-rich study: losses and NTK alignment per α, and the grokking delay against α."""

from __future__ import annotations

import numpy as np
import pandas as pd


def loss_alignment(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    alphas = sorted(cfg.alphas)
    runs = runs[runs["point"] == "all"]  # the paper's target; the linear-target control is not drawn
    seed = int(runs["seed"].min())
    fig, axes = plt.subplots(1, len(alphas), figsize=(4.4 * len(alphas), 3.8), squeeze=False)
    for ax, alpha in zip(axes[0], alphas, strict=True):
        run = runs[(runs["alpha"] == alpha) & (runs["seed"] == seed) & (runs["step"] > 0)]

        def curve(split, metric, run=run):
            return run[(run["split"] == split) & (run["metric"] == metric)].sort_values("step")

        for split, style in (("train", "--"), ("test", "-")):
            c = curve(split, "mse")
            ax.plot(c["step"], c["value"], style, color="C0", label=f"{split} MSE")
            c = curve(split, "lin_mse")
            ax.plot(c["step"], c["value"], style, color="k", lw=1, label=f"linearised {split} MSE")
        tv = runs[(runs["alpha"] == alpha) & (runs["seed"] == seed) & (runs["metric"] == "target_var")]
        v = float(tv[tv["split"] == "test"]["value"].iloc[0])
        ax.axhline(cfg.threshold * v, color="C3", lw=0.8, ls=":", label="0.1·Var(y_test)")
        ax.set(xscale="log", yscale="log", xlabel="epoch", title=f"α = {alpha:g} (seed {seed})")
        twin = ax.twinx()
        c = curve("test", "alignment")
        twin.plot(c["step"], c["value"], color="C2", lw=1.5, label="NTK alignment")
        twin.set_ylabel("NTK–target alignment", color="C2")
    axes[0, 0].set_ylabel("MSE (centred network)")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def delay_vs_alpha(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    from . import metric_table

    wide = metric_table(metrics)
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    finite_all = wide["delay"][np.isfinite(wide["delay"])]
    top = 1.15 * float(finite_all.max()) if not finite_all.empty else 2.0
    for i, (_, g) in enumerate(wide.groupby("seed")):
        g = g.sort_values("alpha")
        first = i == 0
        axes[0].plot(
            g["alpha"], g["t_train"], "o--", color="C0", alpha=0.6, label="t_train" if first else None
        )
        axes[0].plot(g["alpha"], g["t_test"], "s-", color="C3", alpha=0.6, label="t_test" if first else None)
        finite = g[np.isfinite(g["delay"])]
        axes[1].plot(finite["alpha"], finite["delay"], "o-", color="C1", alpha=0.7)
        never = g[np.isinf(g["delay"])]
        axes[1].plot(never["alpha"], np.full(len(never), top), "^", color="C1", alpha=0.7)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(sorted(cfg.alphas), [f"{a:g}" for a in sorted(cfg.alphas)])
        ax.minorticks_off()
        ax.set_xlabel("α (output scale)")
    axes[0].set(yscale="log", ylabel="epochs to 0.1·Var(y)")
    axes[0].legend(fontsize=8)
    axes[1].set(ylabel="t_test / t_train", title="delay (triangles at top: test never reached)")
    fig.tight_layout()
    return fig
