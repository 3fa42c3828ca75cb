"""The figures of the learning-rate / batch-size study: λ_max against B, and η_max against B per optimiser."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprosuite.claims import per_seed


def draw_lambda(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import lambda_table

    lam = lambda_table(metrics, cfg).reset_index().melt(id_vars="seed", var_name="B", value_name="lambda_max")
    fig, ax = plt.subplots(figsize=(5, 4))
    sns.lineplot(lam, x="B", y="lambda_max", marker="o", errorbar=("pi", 100), ax=ax, label="mini-batch H_B")
    full = per_seed(metrics, "lambda_full")
    ax.axhline(full.mean(), color="black", ls="--", lw=1, label="full batch (seed mean)")
    ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="λ_max of the loss Hessian")
    ax.set_xscale("log", base=2)
    ax.legend(fontsize=8)
    return fig


def draw_lr(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import lr_table

    fig, ax = plt.subplots(figsize=(5, 4))
    for i, opt_name in enumerate(cfg.optimizers):
        table = lr_table(metrics, opt_name, cfg)
        if table.empty:
            continue
        long = table.reset_index().melt(id_vars="seed", var_name="B", value_name="log2_lr")
        long["eta_max"] = 2.0 ** long["log2_lr"]
        sns.lineplot(
            long, x="B", y="eta_max", marker="o", errorbar=("pi", 100), ax=ax, label=opt_name, color=f"C{i}"
        )
        b0 = min(cfg.batch_sizes)
        anchor = 2.0 ** np.nanmean(table[b0])
        bs = np.asarray(cfg.batch_sizes, dtype=float)
        power = 1.0 if opt_name == "sgd" else 0.5
        ax.plot(bs, anchor * (bs / b0) ** power, color=f"C{i}", ls=":", lw=1, label=f"slope {power:g} guide")
    ax.axvline(cfg.slope_max_batch, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="batch size B", ylabel="largest stable learning rate η_max")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.legend(fontsize=8)
    return fig
