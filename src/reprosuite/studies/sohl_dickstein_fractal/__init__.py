"""Sohl-Dickstein 2024 — the boundary of neural network trainability is fractal.

Paper: "The boundary of neural network trainability is fractal", arXiv:2402.06184; official code
Sohl-Dickstein/fractal (``the_boundary_of_neural_network_trainability_is_fractal.ipynb``).

Claim (SUITE.md): the boundary between (layer-1 lr, layer-2 lr) pairs for which full-batch gradient descent
converges and those for which it diverges is fractal over many decades of scale (abstract: "fractal over more
than ten decades of scale in all tested configurations"). Pass rule: box-counting dimension in (1.05, 2) at ≥ 3
zoom levels spanning ≥ 2 decades (≥ 10 decades at full tier). SUITE.md's "dimensions 1.17–1.98 across 6
conditions" is a third-party summary we could not check against the paper text.

Looked up (search tool, corpus ``code``; repository Sohl-Dickstein/fractal, the notebook above): the network
(``net``: mean-field parametrisation, φ = tanh(√2 z) / √2 relu(z) / identity, output divided by √w twice, no
biases, input dimension = width, ``N(0, 1)`` weights), the data (``gen_img``: #data = #params = w² + w, or w
for the identity network; x, y ~ N(0, 1), one target), full-batch GD on the MSE with one lr per layer
(``hparams_f``), the loss read out before each update, the convergence criterion (``convergence_measure``:
losses normalised by the first, non-finite and > 1e6 clipped to 1e6, converged iff the mean of the last 20 is
< 1; measure −Σv if converged else Σ1/v), the image layout (rows = output-layer lr, columns = input-layer lr,
both log10-spaced), the edges (``extract_edges``: 2×2 windows with a sign change of the measure), the
notebook's defaults (width 8, 100 steps, 512² images; "blog post and paper used width=16" and 500 or 1000
steps, 4096² "for final products") and its dimension estimate (median of porespy box-count slopes). The zooms of
the paper were picked by hand (click-and-drag in ``onrelease``); the notebook's first window is not stored in
text we could read. Ours: the global window is log10 lr ∈ [−1, 4]² (it holds the converged corner and the
diverged rest for all three nonlinearities); each zoom is a square window of the given width in decades centred
on a boundary point found by a sign-change search along the global window's diagonal
(:func:`reprosuite.studies.sohl_dickstein_fractal.training.find_boundary`, bracket < 1e-14 of the diagonal), so the boundary passes
through the centre of every zoom. The dimension is a least-squares fit of log N(box) on log(1/size) over box
sizes 1, 2, 4, … up to a quarter of the image side (:mod:`reprosuite.studies.sohl_dickstein_fractal.boxcount`).

Seeds are independent numpy draws of data and initial weights (``make_data``); every seed gets its own
boundary point and zoom windows. Conditions: ``tanh``, ``relu``, ``identity`` and ``tanh-single`` (one training
point, the notebook's ``single_datapoint``); the paper's minibatch and parameter-initialisation-vs-lr
conditions are not implemented.

Protocol. smoke: tanh, width 8, 40 steps, 32² images, global + zooms 0.1 / 0.001 decades, 1 seed.
quick (SUITE.md calibration): tanh, width 8, float64, 100 steps, 128² images, global (5 decades) + zooms
0.1 / 0.01 / 0.001 decades, 3 seeds; one training job per zoom level, all seeds in it. full: width 16, 1000
steps, 1024² images (set ``resolution`` 4096 on a GPU), tanh / relu / identity / tanh-single, global + zooms
10⁻¹ … 10⁻¹⁰ decades (the global 5-decade window to 10⁻¹⁰ spans 10.7 decades), 5 seeds.

Measured at quick tier (2 CPU cores shared with other workers, load 14–17 during the run, 1 thread per job):
box dimension per seed — global (5 decades) 1.05 / 1.08 / 1.14, zoom 0.1 decades 1.45 / 1.66 / 1.53, 0.01 decades
1.19 / 1.67 / 1.75, 0.001 decades 1.25 / 1.72 / 1.69 (means 1.09 / 1.55 / 1.54 / 1.55; SUITE.md calibration 1.17 /
1.50 / 1.50 / 1.57). ``fractal_levels`` 3 / 4 / 4 (mean 3.67, 95 % CI [2.23, 5.10]) and ``fractal_span`` 2.0 /
3.7 / 3.7 decades (mean 3.13, CI [0.70, 5.57]): every seed meets the SUITE.md rule, but seed 0's global image
(1.0499) falls just under 1.05, so the counts differ between seeds and the t-interval over 3 seeds straddles
the thresholds: both claims are *inconclusive*. The full tier (5 seeds, ten zoom levels to 10⁻¹⁰ decades, 1000
steps) is what the claim needs; a reduced full-tier run (32² images, 100 steps) of relu at 10⁻¹⁰ decades runs
and finds a straight boundary (D = 1.02): 100 steps resolve the fractal only down to ~10⁻⁵ decades.
Cost: training 194 CPU-s in all (4 jobs of 48–49 CPU-s, i.e. ~13 CPU-s per 128² image and seed plus ~3.5 CPU-s
start-up), 16 min wall under that load (≈ 100 s on an idle 2-core machine); smoke ≈ 24 s wall in-process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

from . import boxcount as mf

PAPER = Paper(
    title="The boundary of neural network trainability is fractal",
    authors="Sohl-Dickstein",
    year=2024,
    arxiv="2402.06184",
    venue="arXiv preprint",
    code="https://github.com/Sohl-Dickstein/fractal",
)

COST = {"smoke": "~24 s wall", "quick": "~194 CPU-s training", "full": "not measured (GPU)"}

FRACTAL_LO, FRACTAL_HI = 1.05, 2.0  # SUITE.md pass band for the box dimension (open interval)


@dataclass(frozen=True)
class Config:
    seeds: int  # independent draws of data and initial weights
    conditions: tuple[str, ...]  # nonlinearity, "-single" = one training point (paper's conditions, Fig. 1)
    width: int  # hidden width = input dimension (paper 16; notebook default 8)
    steps: int  # full-batch GD steps (paper 500 or 1000; notebook default 100)
    resolution: int  # pixels per image side (paper up to 4096; notebook default 512)
    zooms: tuple[
        float, ...
    ]  # zoom window widths (decades), centred on a boundary point (ours, see docstring)
    global_center: tuple[float, float] = (1.5, 1.5)  # log10 (lr₁, lr₂) of the first image (ours)
    global_width: float = 5.0  # decades per side of the first image (ours)
    image_max: int = 256  # pixels per side kept in the run table for the figures (strided if larger)
    max_elements: int = 1 << 18  # hidden activations per chunk of members (memory bound)


TIERS = {
    "smoke": Config(seeds=1, conditions=("tanh",), width=8, steps=40, resolution=32, zooms=(0.1, 0.001)),
    "quick": Config(
        seeds=3, conditions=("tanh",), width=8, steps=100, resolution=128, zooms=(0.1, 0.01, 0.001)
    ),
    "full": Config(
        seeds=5,
        conditions=("tanh", "relu", "identity", "tanh-single"),
        width=16,
        steps=1000,
        resolution=1024,
        zooms=tuple(10.0**-k for k in range(1, 11)),
        max_elements=1 << 22,
    ),
}

CLAIMS = (
    Claim(
        "fractal_levels",
        "The trainability boundary is fractal at every scale examined: its box-counting dimension lies in "
        "(1.05, 2) at ≥ 3 zoom levels.",
        metric="number of zoom levels (global image included) with box dimension in (1.05, 2), per seed "
        "(minimum over conditions)",
        rule=Rule.at_least(3),
        paper_text="fractal over more than ten decades of scale in all tested configurations (abstract); "
        "dimensions 1.17–1.98 (third-party summary, unverified)",
    ),
    Claim(
        "fractal_span",
        "The fractal levels span ≥ 2 decades of scale.",
        metric="log10(widest / narrowest window) among levels with box dimension in (1.05, 2), per seed "
        "(minimum over conditions)",
        rule=Rule.at_least(2),
        paper_text="more than ten decades of scale (abstract)",
        tiers=("smoke", "quick"),
    ),
    Claim(
        "fractal_span_full",
        "The fractal levels span ≥ 10 decades of scale.",
        metric="log10(widest / narrowest window) among levels with box dimension in (1.05, 2), per seed "
        "(minimum over conditions)",
        rule=Rule.at_least(10),
        paper_value=10.0,
        paper_text="more than ten decades of scale (abstract)",
        tiers=("full",),
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def parse_condition(condition: str) -> tuple[str, bool]:
    """(nonlinearity, single training point?) of a condition name such as ``tanh`` or ``tanh-single``."""
    name, _, suffix = condition.partition("-")
    if name not in ("tanh", "relu", "identity") or suffix not in ("", "single"):
        raise ValueError(
            f"unknown condition {condition!r}: expected tanh|relu|identity, optionally '-single'"
        )
    return name, suffix == "single"


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Per seed: x (w² + w, w), y (w² + w, 1), w1 (w, w), w2 (w, 1), all N(0, 1) (official ``init``/``gen_img``).

    A condition uses the first n rows of x and y (n = w² + w, w for identity, 1 for ``-single``).
    """
    w = cfg.width
    n = w * w + w
    out = {}
    for seed in range(cfg.seeds):
        rng = np.random.default_rng([seed, 2402_06184])
        out[f"w1_{seed}"] = rng.standard_normal((w, w))
        out[f"w2_{seed}"] = rng.standard_normal((w, 1))
        out[f"x_{seed}"] = rng.standard_normal((n, w))
        out[f"y_{seed}"] = rng.standard_normal((n, 1))
    return out


def grid(cfg: Config) -> dict[str, dict]:
    points = {}
    for cond in cfg.conditions:
        parse_condition(cond)
        points[f"{cond}_global"] = {"condition": cond, "level": 0, "width": cfg.global_width}
        for k, width in enumerate(cfg.zooms, start=1):
            points[f"{cond}_zoom{k}"] = {"condition": cond, "level": k, "width": float(width)}
    return points


def condition_of(point: str) -> str:
    return point.rsplit("_", 1)[0]


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import checkpoint, trainer

    from . import training as fr

    nonlinearity, single = parse_condition(point["condition"])
    lo = (cfg.global_center[0] - cfg.global_width / 2, cfg.global_center[1] - cfg.global_width / 2)
    hi = (cfg.global_center[0] + cfg.global_width / 2, cfg.global_center[1] + cfg.global_width / 2)
    parts = []
    for seed in seeds:
        problem = fr.make_problem(
            data[f"x_{seed}"],
            data[f"y_{seed}"],
            data[f"w1_{seed}"],
            data[f"w2_{seed}"],
            nonlinearity,
            n_points=1 if single else None,
            device=device,
        )
        slot = checkpoint.Slot()
        state = slot.state
        if point["level"] == 0:
            center = tuple(cfg.global_center)
        elif state is not None:
            center = tuple(state["center"].tolist())
        else:
            center = fr.find_boundary(problem, lo, hi, cfg.steps)
        window = {"center_lr1": math.nan, "center_lr2": math.nan, "width_decades": point["width"]}
        if center is None:  # both corners of the global window on the same side: no boundary point found
            parts.append(_rows(point, seed, cfg, window, None, math.nan, math.nan))
            continue
        window.update(center_lr1=center[0], center_lr2=center[1])
        lr1, lr2 = fr.lr_grid(center, point["width"], cfg.resolution)
        label = f"fractal {point['condition']} {point['width']:g} decades seed {seed}"
        n_chunks = fr.chunks(lr1.numel(), problem, cfg.max_elements)
        progress = trainer.Progress(cfg.steps * n_chunks, label)

        def on_chunk(results, slot=slot, center=center, n_chunks=n_chunks):
            # checkpoint on schedule, and always once the image is complete (a seed is never redone)
            slot.save(
                lambda: {"center": torch.tensor(center, dtype=torch.float64), "done": results},
                force=len(results["measure"]) == n_chunks,
            )

        done = state["done"] if state is not None else None
        out = fr.train_grid(problem, lr1, lr2, cfg.steps, cfg.max_elements, progress, done, on_chunk)
        progress.update(progress.total, force=True)
        measure = out["measure"].numpy().reshape(cfg.resolution, cfg.resolution)
        converged = out["converged"].numpy().reshape(cfg.resolution, cfg.resolution)
        dim = mf.image_dimension(converged)
        parts.append(_rows(point, seed, cfg, window, measure, dim, float(converged.mean())))
    return pd.concat(parts, ignore_index=True)


def _rows(point, seed, cfg, window, measure, dim, frac) -> pd.DataFrame:
    rows = [("window", 0, k, float(v)) for k, v in window.items()]
    rows += [("train", cfg.steps, "box_dimension", dim), ("train", cfg.steps, "converged_fraction", frac)]
    frame = pd.DataFrame(rows, columns=["split", "step", "metric", "value"])
    if measure is not None:
        stride = math.ceil(measure.shape[0] / cfg.image_max)
        img = measure[::stride, ::stride]
        frame = pd.concat(
            [
                frame,
                pd.DataFrame(
                    {"split": "window", "step": 0, "metric": ["image_side"], "value": [img.shape[0]]}
                ),
                pd.DataFrame(
                    {"split": "image", "step": np.arange(img.size), "metric": "measure", "value": img.ravel()}
                ),
            ],
            ignore_index=True,
        )
    frame.insert(0, "seed", seed)
    frame.insert(0, "variant", point["condition"])
    return frame


# --- metrics ----------------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    keep = runs["metric"].isin(
        ["box_dimension", "converged_fraction", "width_decades", "center_lr1", "center_lr2"]
    )
    out = runs.loc[keep & runs["split"].isin(["train", "window"]), ["point", "seed", "metric", "value"]]
    return out.reset_index(drop=True)


def levels_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per (condition, point, seed): window width, box dimension, fractal (dimension in (1.05, 2))."""
    wide = metrics.pivot_table(index=["point", "seed"], columns="metric", values="value", dropna=False)
    wide = wide.reset_index()
    wide["condition"] = wide["point"].map(condition_of)
    dim = wide["box_dimension"]
    wide["fractal"] = (dim > FRACTAL_LO) & (dim < FRACTAL_HI)
    return wide


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    table = levels_table(metrics)
    if table.empty or "box_dimension" not in table:
        return {}
    levels, spans = [], []
    for _, per_seed in table.groupby("seed", sort=True):
        counts, widths = [], []
        for _, per_cond in per_seed.groupby("condition"):
            fractal = per_cond[per_cond["fractal"]]
            counts.append(float(len(fractal)))
            w = fractal["width_decades"]
            widths.append(float(np.log10(w.max() / w.min())) if len(w) else 0.0)
        levels.append(min(counts))
        spans.append(min(widths))
    return {"fractal_levels": levels, "fractal_span": spans, "fractal_span_full": spans}


# --- figures ----------------------------------------------------------------------------------------------


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


def draw_zooms(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

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


def draw_dimension(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    table = levels_table(metrics)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.axhspan(FRACTAL_LO, FRACTAL_HI, color="0.9", label="pass band (1.05, 2)")
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
        "condition; the grey band is the pass region (1.05, 2).",
        draw_dimension,
    ),
)
