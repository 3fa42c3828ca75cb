"""Figures of the linear-grokking study: losses against accuracies, and the delay against λ with predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprosuite.metrics import linear_grokking as lg


def _pick(values, target):
    values = sorted(values)
    return min(values, key=lambda v: abs(v - target))


def loss_vs_accuracy(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    d_out = cfg.d_outs[0]
    wd = 0.0 if 0.0 in cfg.weight_decays else cfg.weight_decays[0]
    sel = runs[(runs["point"] == f"dout{d_out}") & runs["split"].isin(["train", "test"])]
    sel = sel[sel["whitened"] == 0]  # the paper's members, not the whitened control
    lams = sorted(set(sel["lam"]))
    shown = sorted({_pick(lams, 0.3), _pick(lams, 0.8)})
    seed = int(sel["seed"].min())
    fig, axes = plt.subplots(2, len(shown), figsize=(5.2 * len(shown), 6.5), sharex=True, squeeze=False)
    for col, lam in enumerate(shown):
        run = sel[(sel["wd"] == wd) & (sel["lam"] == lam) & (sel["seed"] == seed)]
        run = run[run["step"] > 0]
        ax = axes[0, col]
        for split, style in (("train", "--"), ("test", "-")):
            c = run[(run["split"] == split) & (run["metric"] == "mse")].sort_values("step")
            ax.plot(c["step"], c["value"], style, color="k", label=f"{split} MSE")
        for i, eps in enumerate(cfg.epsilons):
            ax.axhline(lg.loss_level(eps, cfg.acc_level, d_out), color=f"C{i}", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", title=f"λ = {lam:.2f} (seed {seed}, wd {wd:g})", ylabel="MSE")
        ax.legend(fontsize=8)
        ax = axes[1, col]
        for i, eps in enumerate(cfg.epsilons):
            for split, style in (("train", "--"), ("test", "-")):
                c = run[(run["split"] == split) & (run["metric"] == f"accuracy_eps{eps:g}")].sort_values(
                    "step"
                )
                ax.plot(c["step"], c["value"], style, color=f"C{i}", label=f"{split} acc, ε={eps:g}")
        ax.axhline(cfg.acc_level, color="gray", lw=0.8, ls=":")
        ax.set(xscale="log", xlabel="GD step", ylabel="accuracy (error < ε)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def mp_prediction(cfg, eps: float, wd: float, d_out: int, lams: np.ndarray) -> np.ndarray:
    """t_test/t_train predicted from the Marchenko–Pastur law (module docstring)."""
    out = []
    for lam in lams:
        tr, te = lg.predicted_times(lg.mp_quadrature(lam, 400), eps, cfg.acc_level, cfg.lr, wd, d_out, 10**7)
        out.append(te / tr)
    return np.array(out)


def delay_vs_lambda(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt

    from . import metric_table

    wide = metric_table(metrics)
    wide = wide[wide["whitened"] == 0]
    panels = sorted({(int(d), float(w)) for d, w in zip(wide["d_out"], wide["wd"], strict=True)})
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4), squeeze=False, sharey=True)
    grid_lam = np.linspace(0.05, 0.95, 37)
    for ax, (d_out, wd) in zip(axes[0], panels, strict=True):
        sub = wide[(wide["d_out"] == d_out) & (wide["wd"] == wd)]
        for i, eps in enumerate(cfg.epsilons):
            g = sub[sub["eps"] == eps]
            finite = g[np.isfinite(g["ratio"])]
            stats = finite.groupby("lam")["ratio"].agg(["mean", "std"]).reset_index()
            ax.errorbar(
                stats["lam"],
                stats["mean"],
                yerr=stats["std"].fillna(0),
                fmt="o",
                color=f"C{i}",
                ms=4,
                label=f"measured, ε={eps:g}",
            )
            emp = (g["pred_test"] / g["pred_train"]).groupby(g["lam"]).mean()
            ax.plot(emp.index, emp.to_numpy(), "x", color=f"C{i}", label="prediction, own spectrum")
            ax.plot(
                grid_lam,
                mp_prediction(cfg, eps, wd, d_out, grid_lam),
                "-",
                color=f"C{i}",
                lw=1,
                label="prediction, Marchenko–Pastur",
            )
            never = g[~np.isfinite(g["t_test"]) & np.isfinite(g["t_train"])]["lam"].unique()
            if never.size:
                ax.plot(
                    never, np.full(never.size, 30.0), "^", color=f"C{i}", ms=7, label="test never reached"
                )
        ax.set(yscale="log", ylim=(0.9, 40), xlabel="λ = d_in / N_train", title=f"d_out {d_out}, wd {wd:g}")
    axes[0, 0].set_ylabel(f"t_test / t_train (accuracy {cfg.acc_level:g})")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig
