"""Figures: loss vs time per width, the width and data bottlenecks, the compute frontier, the finite-width
correction, and train/test losses with data reuse."""

from __future__ import annotations

import numpy as np

from reprosuite.study import Figure


def _points(runs):
    return [p for p in sorted(runs["point"].unique()) if p != "exp"]


def draw_time(runs, metrics, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    pts = _points(runs)
    fig, axes = plt.subplots(1, len(pts), figsize=(4.5 * len(pts), 3.6), squeeze=False)
    for ax, p in zip(axes[0], pts, strict=True):
        d = runs[(runs.point == p) & (runs.metric == "loss") & (runs.split == "test") & (runs.data == 0)]
        inf = d[d.width == 0].groupby("step")["value"].mean()
        ax.plot(inf.index, inf.values, color="0.5", lw=2, ls=":", label="N = ∞")
        d = d[d.width > 0]
        sns.lineplot(
            d, x="step", y="value", hue="width", errorbar=None, palette="viridis", ax=ax, legend=False
        )
        a, b = (float(x[1:]) for x in p.split("_"))
        t = np.logspace(0, cfg.t_max_log10, 20)
        ax.plot(t, d.value.max() * t ** (-(a - 1) / b), "k--", lw=1, label=f"t^−{(a - 1) / b:.2f}")
        ax.set(xscale="log", yscale="log", xlabel="GD step t", ylabel="population loss", title=p)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_bottlenecks(runs, metrics, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    lim = runs[runs.metric == "loss_limit"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    w = lim[lim.width > 0]
    sns.lineplot(w, x="width", y="value", hue="point", marker="o", errorbar="sd", ax=axes[0])
    axes[0].set(xscale="log", yscale="log", xlabel="width N", ylabel="L(t→∞, N)", title="model bottleneck")
    d = lim[lim.data > 0]
    if not d.empty:
        sns.lineplot(d, x="data", y="value", hue="point", marker="o", errorbar="sd", ax=axes[1])
    axes[1].set(xscale="log", yscale="log", xlabel="samples P (N = ∞)", ylabel="L(t→∞, P)", title="data")
    for ax, x0 in ((axes[0], cfg.n_min), (axes[1], cfg.p_min)):
        x = np.array([x0, x0 * 32.0])
        for slope in (-1.0, -0.5):
            ax.plot(x, 0.3 * (x / x0) ** slope, "k:", lw=1)
    fig.tight_layout()
    return fig


def draw_frontier(runs, metrics, cfg):
    import matplotlib.pyplot as plt

    pts = [p for p in _points(runs) if not runs[(runs.point == p) & (runs.split == "frontier")].empty]
    fig, axes = plt.subplots(1, max(len(pts), 1), figsize=(4.5 * max(len(pts), 1), 3.6), squeeze=False)
    for ax, p in zip(axes[0], pts, strict=False):
        d = runs[(runs.point == p) & (runs.metric == "loss") & (runs.split == "test") & (runs.width > 0)]
        m = d.groupby(["width", "step"])["value"].mean().reset_index()
        for n, g in m.groupby("width"):
            ax.plot(n * g.step, g.value, lw=0.8, color="0.7")
        f = runs[(runs.point == p) & (runs.split == "frontier") & (runs.metric == "l_star")]
        f = f.groupby("compute")["value"].mean()
        ax.plot(f.index, f.values, "r-", lw=2, label="frontier L*(C)")
        a, b = (float(x[1:]) for x in p.split("_"))
        c = f.dropna().index.to_numpy()
        if len(c):
            ax.plot(
                c,
                f.dropna().iloc[0] * (c / c[0]) ** (-(a - 1) / (1 + b)),
                "k--",
                lw=1,
                label="C^−(a−1)/(1+b)",
            )
        ax.set(xscale="log", yscale="log", xlabel="compute C = N t", ylabel="loss", title=p)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_correction(runs, metrics, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = runs[runs.metric == "dloss"].groupby(["point", "step", "width"])["value"].mean().reset_index()
    pts = sorted(d.point.unique())
    fig, axes = plt.subplots(1, max(len(pts), 1), figsize=(4.5 * max(len(pts), 1), 3.6), squeeze=False)
    for ax, p in zip(axes[0], pts, strict=False):
        g = d[(d.point == p) & (d.value > 0)]
        sns.lineplot(g, x="width", y="value", hue="step", marker="o", palette="deep", ax=ax)
        ax.set(xscale="log", yscale="log", xlabel="width N", ylabel="ΔL = L(t,N) − L(t,∞)", title=p)
    fig.tight_layout()
    return fig


def draw_train_test(runs, metrics, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = runs[(runs.metric == "loss") & (runs.data > 0)]
    pts = sorted(d.point.unique())
    fig, axes = plt.subplots(1, max(len(pts), 1), figsize=(4.5 * max(len(pts), 1), 3.6), squeeze=False)
    for ax, p in zip(axes[0], pts, strict=False):
        g = d[d.point == p]
        sns.lineplot(g, x="step", y="value", hue="data", style="split", errorbar=None, palette="deep", ax=ax)
        low = g.loc[g.split == "test", "value"].min()  # train losses vanish exponentially: show three decades
        ax.set(xscale="log", yscale="log", xlabel="GD step t", ylabel="loss (N = ∞)", title=p)
        ax.set_ylim(low / 1000, g["value"].max() * 2)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "loss_vs_time",
        "Paper: L(t, N) falls as t^−(a−1)/b until the width floor. Ours: population loss per width (colour), "
        "seed mean, with the t^−(a−1)/b guide.",
        draw_time,
    ),
    Figure(
        "bottlenecks",
        "Paper: L(∞, N) ∝ N^−min(a−1,2b) and L(∞, P) ∝ P^−min(a−1,2b). Ours: converged loss vs width and vs "
        "data (N = ∞), mean ± sd over seeds; dotted guides of slope −1 and −0.5.",
        draw_bottlenecks,
    ),
    Figure(
        "frontier",
        "Paper: compute-optimal L* ∝ C^−(a−1)/(1+b). Ours: loss vs C = N t per width (grey), the simulated "
        "frontier (red) and the guide.",
        draw_frontier,
    ),
    Figure(
        "correction",
        "Paper: the finite-width correction is 1/N early and N^−(a−1) late. Ours: replica-averaged ΔL vs N at "
        "the early and late t (a = 1.5 and a = 2).",
        draw_correction,
    ),
    Figure(
        "train_test",
        "Paper: the train–test gap builds up with data reuse (recorded, not judged). Ours: test (solid) and "
        "train losses of kernel GD per P, mean over draws.",
        draw_train_test,
    ),
)
