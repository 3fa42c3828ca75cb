"""Figures of the fractal-boundary study: the zoom sequence of one seed and the box dimension per window width.

matplotlib and seaborn are imported inside the drawing functions (see :mod:`reprosuite.study`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.study import Figure


def cdf_stretch(x: np.ndarray, buffer: float = 0.25) -> np.ndarray:
    """The official ``cdf_img``: rank-equalise, converged (negative) to [−1, −buffer], diverged to [buffer, 1],
    sign flipped (so converged is positive = blue in ``Spectral``)."""
    u = np.sort(x.ravel())
    neg = int((u < 0).sum())
    v = np.concatenate([np.linspace(-1, -buffer, neg), np.linspace(buffer, 1, u.size - neg)])
    return -np.interp(x, u, v)


def _image(runs: pd.DataFrame, point: str, seed: int) -> np.ndarray | None:
    sel = runs[(runs["point"] == point) & (runs["seed"] == seed)]
    img = sel[sel["split"] == "image"].sort_values("step")["value"].to_numpy()
    if img.size == 0:
        return None
    side = int(round(math.sqrt(img.size)))
    return img.reshape(side, side)


def draw_zooms(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from . import levels_table

    table = levels_table(metrics)
    cond = cfg.conditions[0]
    seed = int(table["seed"].min())
    rows = table[(table["condition"] == cond) & (table["seed"] == seed)].sort_values(
        "width_decades", ascending=False
    )
    fig, axes = plt.subplots(1, len(rows), figsize=(3.4 * len(rows), 3.6), squeeze=False)
    rows = list(rows.itertuples())
    for i, (ax, r) in enumerate(zip(axes[0], rows, strict=True)):
        img = _image(runs, r.point, seed)
        if img is None or math.isnan(r.center_lr1):
            ax.set_axis_off()
            continue
        half = r.width_decades / 2
        ext = [-half, half, -half, half]  # axes relative to the window centre (log10 lr)
        ax.imshow(
            cdf_stretch(img),
            origin="lower",
            extent=ext,
            cmap="Spectral",
            vmin=-1,
            vmax=1,
            interpolation="nearest",
            aspect="auto",
        )
        if i + 1 < len(rows) and not math.isnan(rows[i + 1].center_lr1):
            nxt = rows[i + 1]
            dx, dy = nxt.center_lr1 - r.center_lr1, nxt.center_lr2 - r.center_lr2
            hw = nxt.width_decades / 2
            ax.add_patch(Rectangle((dx - hw, dy - hw), 2 * hw, 2 * hw, fill=False, ec="k", lw=1))
            ax.plot([dx], [dy], "k+", ms=10)
        ax.set_title(f"{r.width_decades:g} decades, D = {r.box_dimension:.2f}", fontsize=9)
        ax.set_xlabel(f"log10 lr₁ − {r.center_lr1:.6g}", fontsize=8)
        ax.set_ylabel(f"log10 lr₂ − {r.center_lr2:.6g}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(False)
    fig.suptitle(
        f"{cond}, width {cfg.width}, {cfg.steps} steps, seed {seed}: blue = converged, red = diverged"
    )
    fig.tight_layout()
    return fig


def draw_dimension(runs: pd.DataFrame, metrics: pd.DataFrame, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from . import FRACTAL_HI, FRACTAL_LO, levels_table

    table = levels_table(metrics)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.axhspan(FRACTAL_LO, FRACTAL_HI, color="0.9", label=f"pass band ({FRACTAL_LO:g}, {FRACTAL_HI:g})")
    colours = sns.color_palette(n_colors=max(1, table["condition"].nunique()))
    for i, (cond, sel) in enumerate(table.groupby("condition")):
        jitter = 1.0 + 0.08 * (i - (table["condition"].nunique() - 1) / 2)
        ax.scatter(sel["width_decades"] * jitter, sel["box_dimension"], color=colours[i], label=cond, s=25)
        mean = sel.groupby("width_decades")["box_dimension"].mean()
        ax.plot(mean.index * jitter, mean.values, color=colours[i], lw=1)
    ax.set_xscale("log")
    ax.axhline(1.0, color="k", lw=0.8, ls=":")
    ax.set(
        xlabel="window width (decades of learning rate)",
        ylabel="box-counting dimension of the boundary",
        ylim=(0.8, 2.1),
    )
    ax.invert_xaxis()
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "trainability_zooms",
        "Paper Fig. 1/2: the image of converged (blue) and diverged (red) training over (input-layer lr, "
        "output-layer lr), with successive zooms into the boundary showing structure at every scale. Ours: the "
        "same image (official convergence measure and colour stretch) for the first condition and seed, the "
        "global window and each zoom (centred on a boundary point found by bisection; the box marks the next "
        "zoom), titled with the window width and the box-counting dimension of the boundary.",
        draw_zooms,
    ),
    Figure(
        "box_dimension",
        "Paper: the boundary's fractal dimension (porespy box counting) is between 1 and 2 at every zoom "
        "level. Ours: the least-squares box-counting dimension per window width (decades), per seed and "
        "condition, the linearised network (negative control) included; the grey band is the pass region "
        "(1.05, 2); the first (widest) window is drawn but not counted.",
        draw_dimension,
    ),
)
