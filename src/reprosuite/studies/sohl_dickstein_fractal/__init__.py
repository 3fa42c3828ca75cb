"""Sohl-Dickstein 2024 — the boundary of neural network trainability is fractal.

Paper: "The boundary of neural network trainability is fractal", arXiv:2402.06184; official code
Sohl-Dickstein/fractal (``the_boundary_of_neural_network_trainability_is_fractal.ipynb``), which
:mod:`.training` and :mod:`.boxcount` follow.

Claim (abstract, Fig. 1–2): the boundary between the (input-layer lr, output-layer lr) pairs for which
full-batch gradient descent of a one-hidden-layer network converges and those for which it diverges is "fractal
over more than ten decades of scale in all tested configurations" (tanh, ReLU, linear, a single training point,
minibatches, initialisation vs lr). The paper zooms by hand and gives no dimension per zoom.

Claims (all empirical; statistic ``share``: the share of seeds meeting a per-seed criterion, exact
Clopper–Pearson interval; pass rules ours). A zoom window is fractal when the box-counting dimension of its
boundary lies in (1.05, 2). Only zooms count: the first (global) window is drawn, never counted, since a smooth
boundary with several components reads above 1.05 at coarse scale (tests: parallel stripes 20 px apart read
1.14 at 128²), while a zoom centred on a boundary point of a smooth boundary shows a near-straight line.
Per seed, minimum over conditions:

- ``fractal_levels``: ≥ 3 fractal zooms;
- ``fractal_span``: the fractal zooms span ≥ 2 decades (log10 widest / narrowest width; smoke and quick);
- ``fractal_span_full``: ≥ 10 decades, the paper's range (full tier only).

Share rule (ours): ≥ 0.25 of seeds. The paper claims every draw; 3 seeds all meeting the criterion give the
exact interval [0.29, 1], so a quarter is the largest share that the quick tier's 3 seeds can establish ("most
draws", 0.5, would need 6 seeds, twice the quick budget).
Negative control of every claim: the same network **linearised** around its initial weights (condition
``tanh-linearised``: a model whose loss is quadratic in the weights, so gradient descent is a linear map and
the trainability boundary is a smooth curve, :func:`.training.tangent_kernels`), with the same data, the same
per-layer learning rates, windows and measure.

Method (official notebook): mean-field network, φ = tanh(√2 z) / √2 relu(z) / identity, no biases, input
dimension = width, N(0, 1) weights; #data = #params = w² + w (w for identity), x, y ~ N(0, 1); full-batch GD on
the MSE with one lr per layer; a run converges when the mean of its last 20 losses (normalised by the first,
clipped at 1e6) is < 1; image rows = output-layer lr; edges = 2×2 windows with both outcomes; the first
window is log10 lr ∈ [−3, 6]² (the notebook's ``mnmx``). Ours: each zoom is a square window centred on a
boundary point found by a sign-change search along the first window's diagonal
(:func:`.training.find_boundary`), so the boundary crosses every zoom; the dimension is one least-squares fit
over box sizes 1, 2, 4, … up to a quarter of the side (the notebook: median of porespy's local slopes),
validated on known smooth and fractal sets (:mod:`.boxcount`): it reads known fractals 0.1–0.25 low, so 1.05
is conservative for true fractals and our dimensions sit below the paper's. Seeds are independent draws of data
and weights, each with its own boundary point. The minibatch and initialisation-vs-lr conditions are not
implemented.

Tiers: full = the paper's width 16, 1000 steps, four conditions and zooms to 10⁻¹¹ decades (ten decades of
zooms) at 1024² pixels; quick = tanh at the notebook's width 8 and 100 steps, 128² pixels, zooms 10⁻¹–10⁻³
decades; smoke = 32², 40 steps, one seed. The control condition runs at every tier.
Cost: smoke ≈ 24 s wall; quick ≈ 100 CPU-s of training (≈ 8 CPU-s per 128² network image and seed, 1 CPU-s per
linearised one); full ~990 CPU-h by the probe (60 jobs, partial; the largest, tanh at the deepest zoom, 124 h):
not run (GPU).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL, Amendment, Claim, Rule
from reprosuite.engine.data import memo
from reprosuite.study import Paper, seed_list

from . import boxcount as mf
from . import figures

PAPER = Paper(
    title="The boundary of neural network trainability is fractal",
    authors="Sohl-Dickstein",
    year=2024,
    arxiv="2402.06184",
    venue="arXiv preprint",
    code="https://github.com/Sohl-Dickstein/fractal",
)

COST = {
    "smoke": "~24 s wall",
    "quick": "~100 CPU-s training",
    "full": "~990 CPU-h by the probe (partial; GPU)",
}

FRACTAL_LO, FRACTAL_HI = 1.05, 2.0  # ours: the pass band of the box dimension (open interval; docstring)
SHARE = 0.25  # ours: the share of seeds that must meet a claim's per-seed criterion (docstring)

# A nonlinearity, optionally "-single": one training point (the notebook's ``single_datapoint``), or
# "-linearised": the network's first-order Taylor model at initialisation (the negative control).
Condition = Literal[
    "tanh",
    "relu",
    "identity",
    "tanh-single",
    "relu-single",
    "identity-single",
    "tanh-linearised",
    "relu-linearised",
    "identity-linearised",
]


@dataclass(frozen=True)
class Config:
    seeds: int = 1  # one draw of data and weights per condition (notebook: jax.random.PRNGKey(0))
    # Fig. 1's conditions that we implement (not the minibatch and initialisation-vs-lr ones)
    conditions: tuple[Condition, ...] = ("tanh", "relu", "identity", "tanh-single")
    # ours: the negative control, a model without nonlinear training dynamics (docstring)
    controls: tuple[Condition, ...] = ("tanh-linearised",)
    width: int = 16  # hidden width = input dimension ("blog post and paper used width=16", notebook)
    steps: int = 1000  # full-batch GD steps (notebook: 500 or 1000 for the paper's images)
    resolution: int = 4096  # pixels per image side (notebook: 4096 "for final products")
    # zoom window widths (decades), each centred on a boundary point; not stated (the paper zooms by hand); ours:
    # 10⁻¹ … 10⁻¹¹, ten decades of zooms (abstract: "more than ten decades")
    zooms: tuple[float, ...] = tuple(10.0**-k for k in range(1, 12))
    global_center: tuple[float, float] = (1.5, 1.5)  # log10 (lr₁, lr₂) of the first image (notebook mnmx)
    global_width: float = (
        9.0  # decades per side of the first image: [−3, 6]² (notebook mnmx = [-3, 6, -3, 6])
    )
    image_max: int = 256  # ours: pixels per side kept in the run table for the figures (strided if larger)
    max_elements: int = 1 << 22  # ours: hidden activations per chunk of members (memory bound)


QUICK = replace(
    Config(),
    seeds=3,
    conditions=("tanh",),
    width=8,
    steps=100,
    resolution=128,
    zooms=(0.1, 0.01, 0.001),
    max_elements=1 << 18,
)
TIERS = {
    "full": replace(Config(), seeds=5, resolution=1024),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=1, steps=40, resolution=32),
}
WHY = {
    "seeds": "the paper shows one draw per condition; several give an interval, fewer at quick: CPU budget",
    "conditions": "2-core CPU budget: quick and smoke run tanh only",
    "width": "2-core CPU budget: the notebook's default width 8 has 4× fewer parameters",
    "steps": "2-core CPU budget; 100 steps resolve the boundary to ~10⁻⁵ decades, enough for zooms to 10⁻³",
    "resolution": "4096² images cost 16× the GPU time of 1024²; 128² and 32² fit the 2-core CPU budget",
    "zooms": "2-core CPU budget: zooms to 10⁻³ decades at quick and smoke",
    "max_elements": "memory of a CPU job",
}

_CONTROL = (
    "the same network linearised around its initial weights (tanh-linearised: quadratic loss, linear "
    "gradient-descent dynamics, a smooth boundary), same data, learning rates, windows and measure"
)
CLAIMS = (
    Claim(
        "fractal_levels",
        "The trainability boundary is fractal at every scale examined: its box-counting dimension lies in "
        "(1.05, 2) at ≥ 3 zoom windows.",
        metric="per seed: number of zoom windows (the first window excluded) with box dimension in (1.05, 2), "
        "minimum over conditions; share of seeds with ≥ 3",
        rule=Rule.at_least(SHARE),
        paper_text="fractal over more than ten decades of scale in all tested configurations (abstract)",
        statistic="share",
        criterion=Rule.at_least(3),
        control=_CONTROL,
    ),
    Claim(
        "fractal_span",
        "The fractal zoom windows span ≥ 2 decades of scale.",
        metric="per seed: log10(widest / narrowest zoom width) among zooms with box dimension in (1.05, 2), "
        "minimum over conditions; share of seeds with ≥ 2",
        rule=Rule.at_least(SHARE),
        paper_text="more than ten decades of scale (abstract)",
        tiers=("smoke", "quick"),
        statistic="share",
        criterion=Rule.at_least(2),
        control=_CONTROL,
    ),
    Claim(
        "fractal_span_full",
        "The fractal zoom windows span ≥ 10 decades of scale.",
        metric="per seed: log10(widest / narrowest zoom width) among zooms with box dimension in (1.05, 2), "
        "minimum over conditions; share of seeds with ≥ 10",
        rule=Rule.at_least(SHARE),
        paper_value=10.0,
        paper_text="more than ten decades of scale (abstract)",
        tiers=("full",),
        statistic="share",
        criterion=Rule.at_least(10),
        control=_CONTROL,
    ),
)

_WHAT = (
    "statistic mean of the per-seed level count / span → share of seeds meeting it (rule ≥ 0.25 of seeds, the "
    "per-seed criterion the old rule); the first window is no longer counted as a level; first window log10 "
    "lr [−1, 4]² → [−3, 6]²; negative control added (tanh-linearised zooms at every tier); smoke zooms "
    "(0.1, 0.001) → (0.1, 0.01, 0.001); full zooms to 10⁻¹⁰ → 10⁻¹¹ decades"
)
_WHY = (
    "the box dimension of one window is not specific to fractals: smooth boundaries with several components "
    "read above 1.05 at coarse scale, so only zooms centred on a boundary point count, and a model whose "
    "boundary is smooth (the linearised network) must not pass; [−3, 6]² is the notebook's first window; level "
    "counts are integers (a t-interval on 3, 4, 4 is inconclusive although every seed meets the rule); without "
    "the first window, ten decades of zooms need a zoom to 10⁻¹¹ and three levels at smoke need three zooms"
)
AMENDMENTS = (
    Amendment("2026-12-06", ("fractal_levels", "fractal_span"), _WHAT, _WHY, "inconclusive", "pass"),
    Amendment(
        "2026-12-06",
        ("fractal_span_full",),
        _WHAT,
        _WHY,
        "inconclusive (measured at tier full only)",
        "inconclusive (measured at tier full only)",
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def parse_condition(condition: Condition) -> tuple[str, bool]:
    """(nonlinearity, single training point?) of a condition name such as ``tanh`` or ``tanh-single``."""
    name, _, suffix = condition.partition("-")
    return name, suffix == "single"


def is_linearised(condition: Condition) -> bool:
    """Whether the condition trains the network's linearisation at initialisation (the negative control)."""
    return condition.endswith("-linearised")


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Per seed: x (w² + w, w), y (w² + w, 1), w1 (w, w), w2 (w, 1), all N(0, 1) (official ``init``/``gen_img``).

    A condition uses the first n rows of x and y (n = w² + w, w for identity, 1 for ``-single``).
    """
    w = cfg.width
    n = w * w + w
    out = {}
    for seed in seed_list(cfg):
        rng = np.random.default_rng([seed, 2402_06184])
        out[f"w1_{seed}"] = rng.standard_normal((w, w))
        out[f"w2_{seed}"] = rng.standard_normal((w, 1))
        out[f"x_{seed}"] = rng.standard_normal((n, w))
        out[f"y_{seed}"] = rng.standard_normal((n, 1))
    return out


def grid(cfg: Config) -> dict[str, dict]:
    points = {}
    for cond in (*cfg.conditions, *cfg.controls):
        points[f"{cond}_global"] = {"condition": cond, "level": 0, "width": cfg.global_width}
        for k, width in enumerate(cfg.zooms, start=1):
            points[f"{cond}_zoom{k}"] = {"condition": cond, "level": k, "width": float(width)}
    return points


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
            linearised=is_linearised(point["condition"]),
        )
        slot = checkpoint.Slot()
        state = slot.state
        if point["level"] == 0:
            center = tuple(cfg.global_center)
        elif state is not None:
            center = tuple(state["center"].tolist())
        else:
            center = _boundary(problem, (point["condition"], seed, lo, hi, cfg.steps), data)
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


DRAWS = ("x", "y", "w1", "w2")  # a seed's data


def _boundary(problem, key: tuple, data: dict):
    """The zoom windows' centre (``training.find_boundary``), once per process: it depends on the condition, seed
    and data, not on the zoom level (a check of the full tier, the tests run every level). ``key``: (condition,
    seed, lo, hi, steps)."""
    from . import training as fr

    seed = key[1]
    arrays = (data[f"{k}_{seed}"] for k in DRAWS)
    return memo.once(
        ("sohl centre", *key, str(problem.x.device)), arrays, lambda: fr.find_boundary(problem, *key[2:5])
    )


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
    frame.insert(0, "condition", point["condition"])
    frame.insert(0, "variant", point["condition"])
    return frame


# --- metrics ----------------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (window, seed): box dimension, converged fraction, width and centre, with a ``condition`` column."""
    keep = runs["metric"].isin(
        ["box_dimension", "converged_fraction", "width_decades", "center_lr1", "center_lr2"]
    )
    columns = ["point", "condition", "seed", "metric", "value"]
    return runs.loc[keep & runs["split"].isin(["train", "window"]), columns].reset_index(drop=True)


def levels_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per (condition, point, seed): window width, box dimension, fractal (dimension in (1.05, 2)),
    zoom (not the first window)."""
    wide = metrics.pivot_table(index=["point", "seed"], columns="metric", values="value", dropna=False)
    wide = wide.reset_index()
    wide["condition"] = wide["point"].map(metrics.drop_duplicates("point").set_index("point")["condition"])
    dim = wide["box_dimension"]
    wide["fractal"] = (dim > FRACTAL_LO) & (dim < FRACTAL_HI)
    wide["zoom"] = ~wide["point"].str.endswith("_global")
    return wide


def _levels_and_spans(table: pd.DataFrame, conditions) -> tuple[list[float], list[float]]:
    """Per seed (in seed order): the number of fractal zooms and their span in decades, minimum over
    ``conditions``; empty when none of them was measured."""
    table = table[table["condition"].isin(conditions) & table["zoom"]]
    levels, spans = [], []
    for _, per_seed in table.groupby("seed", sort=True):
        counts, widths = [], []
        for _, per_cond in per_seed.groupby("condition"):
            fractal = per_cond[per_cond["fractal"]]
            counts.append(float(len(fractal)))
            w = fractal["width_decades"]
            # rounded: a ratio of decimal widths such as 0.1 / 0.001 must give exactly 2 decades
            widths.append(round(float(np.log10(w.max() / w.min())), 9) if len(w) else 0.0)
        levels.append(min(counts))
        spans.append(min(widths))
    return levels, spans


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    table = levels_table(metrics)
    if table.empty or "box_dimension" not in table:
        return {}
    out: dict[str, list[float]] = {}
    for suffix, conditions in (("", cfg.conditions), (CONTROL, cfg.controls)):
        levels, spans = _levels_and_spans(table, conditions)
        if levels:
            out |= {f"fractal_levels{suffix}": levels, f"fractal_span{suffix}": spans}
            out[f"fractal_span_full{suffix}"] = spans
    return out


FIGURES = figures.FIGURES
