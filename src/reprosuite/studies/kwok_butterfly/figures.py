"""Figures (seaborn; imported inside the functions)."""

from __future__ import annotations

import pandas as pd

from reprosuite.study import Figure

ONE_WEIGHT_X = 1e-8  # where the one-weight points sit on the σ axis (left of every σ)


def _children(metrics: pd.DataFrame, cfg, stat: str = "barrier_ce") -> pd.DataFrame:
    """One row per (point, seed, child): its role's spawn time, σ (one weight at ONE_WEIGHT_X) and ``stat``."""
    from . import roles

    info = {r["role"]: r for r in roles(cfg)}
    sel = metrics[metrics["metric"].str.startswith(f"{stat}/")].copy()
    sel["role"] = sel["metric"].str.split("/").str[1]
    sel = sel[sel["role"].isin([r for r in info if r not in ("parent", "sham")])]
    sel["spawn_epoch"] = sel["role"].map(lambda r: info[r]["spawn"])
    sel["sigma"] = sel["role"].map(lambda r: ONE_WEIGHT_X if info[r]["kind"] == "one" else info[r]["sigma"])
    sel["spawn"] = sel["spawn_epoch"].map(lambda t: f"t = {t:g} ep")
    return sel


def draw_sigma(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = _children(metrics, cfg)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, point in zip(axes, ("main", "control"), strict=True):
        sub = d[d["point"] == point]
        sns.lineplot(
            sub, x="sigma", y="value", hue="spawn", marker="o", errorbar="sd", ax=ax, err_style="bars"
        )
        ax.set(
            xscale="log", yscale="symlog", xlabel="σ (leftmost: one weight)", ylabel="train-CE barrier at T"
        )
        ax.set_yscale("symlog", linthresh=cfg.floor)
        ax.set_title(f"{point} (lr {cfg.lr if point == 'main' else cfg.lr * cfg.control_lr_factor:g})")
    fig.tight_layout()
    return fig


def draw_spawn(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = _children(metrics, cfg)
    d = d[d["sigma"] == ONE_WEIGHT_X].copy()
    d["x"] = d["spawn_epoch"].clip(lower=1e-2)
    fig, ax = plt.subplots(figsize=(5, 3.8))
    sns.lineplot(d, x="x", y="value", hue="point", units="seed", estimator=None, marker="o", alpha=0.6, ax=ax)
    ax.axhline(cfg.floor, color="grey", ls=":", lw=1)
    ax.set(xscale="log", xlabel="spawn time t (epochs; t = 0 at 0.01)", ylabel="train-CE barrier at T")
    ax.set_yscale("symlog", linthresh=cfg.floor)
    fig.tight_layout()
    return fig


def draw_l2(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = runs[(runs["metric"] == "l2_rel") & (runs["variant"].str.startswith("one_t"))].copy()
    d["step"] = d["step"].clip(lower=1)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    sns.lineplot(d, x="step", y="value", hue="variant", style="point", errorbar="sd", ax=ax)
    ax.set(xscale="log", yscale="symlog", xlabel="step", ylabel="‖θ − θ_parent‖ / ‖θ_parent‖")
    ax.set_yscale("symlog", linthresh=1e-6)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        name="barrier_vs_sigma",
        caption="Paper Fig. 1 right: barrier at T vs perturbation σ (one weight leftmost), one colour per spawn "
        "time. Ours: train-CE barrier at the end of training, mean ± sd over seeds; left the paper's lr, right "
        "the lr ÷ 100 control.",
        draw=draw_sigma,
    ),
    Figure(
        name="barrier_vs_spawn",
        caption="Barrier at T of one-weight children vs spawn time, one line per seed, main lr vs the lr ÷ 100 "
        "control (dotted: the 1e-3 floor).",
        draw=draw_spawn,
    ),
    Figure(
        name="l2_over_training",
        caption="Distance of the one-weight children from their parent over training (relative to the parent's "
        "norm), main vs control, mean ± sd over seeds.",
        draw=draw_l2,
    ),
)
