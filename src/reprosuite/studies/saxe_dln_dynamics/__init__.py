"""Saxe, McClelland & Ganguli 2013 — exact learning dynamics of deep linear networks.

Paper: "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks", ICLR 2014,
arXiv:1312.6120 (no official code).

Claims and our pass rules:
(a) With whitened inputs (Σxx = I) each input–output mode α of a three-layer linear net, started decoupled at
    strength u0, follows the sigmoid of Eq. 12, u(t) = s·e^{2st/τ} / (e^{2st/τ} − 1 + s/u0) with τ = 1/λ, and
    reaches u_f at t = (τ/2s)·ln[u_f(s−u0) / (u0(s−u_f))] (Eq. 11; Fig. 3). Ours: every mode's half-learning
    time within 5 % of Eq. 11.
(b) Learning time ∝ 1/s (Eq. 11). Ours: from small random init, slope of log t_half vs log s in [−1.15, −0.85].
(c) Random orthogonal initialisation gives depth-independent learning times, scaled Gaussian N(0, 1/N) slows down
    with depth (Fig. 6A, curves only). Ours: orthogonal, iterations to criterion at the deepest net ≤ 4× those at
    depth 4; Gaussian ≥ 5× orthogonal at every depth ≥ 8.
(d, full tier) The optimal learning rate scales as 1/depth (Fig. 4). Ours: slope of log lr* vs log depth in
    [−1.3, −0.7].

Protocol. Loss (1/2P)·Σ_i ‖y_i − f(x_i)‖² on P items with inputs X = √P·I (so Σxx = I), full-batch GD with
learning rate λ, time in steps (τ = 1/λ steps). Mode strength u_α(t) = u_αᵀ Σ_fx v_α with Σ_fx = f(X)ᵀX/P and
(u_α, s_α, v_α) the SVD of Σyx. Fig. 3: 32 orthogonal items, 1000 features from a five-level binary-tree
diffusion (flip probability 0.1), N2 = 32 hidden units, λ = 5e-4, u0 = 1e-6, linear and tanh nets. Depth sweep
(ours): D weight layers, orthogonal vs Gaussian N(0, 1/N) init, a log-spaced grid of learning rates, iterations
until the loss is ≤ 5 % of the zero map's, the best learning rate per depth. The paper's Fig. 6A trains on MNIST
with a hidden width of 1000, which the suite cannot load: every tier runs the sweep on the Fig. 3 hierarchy,
rescaled to a target of spectral norm 1.
Tiers: full = Fig. 3 and the sweep to depth 96 (width 128); quick = 200 features, 12k steps, depths 2–32 of
width 32; smoke = a 16-item task with six chosen modes s = [6, 4, 3, 2, 1.5, 1] (λ = 0.01, u0 = 1e-4), no sweep.

Cost (2 shared CPU cores, one thread per job): smoke ≈ 3 s per job (2 jobs); quick ≈ 100 CPU-s (~3 min wall);
full not measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Amendment, Claim, Rule, per_seed
from reprosuite.metrics import curves
from reprosuite.study import Figure, Paper

from . import dynamics, figures, training

PAPER = Paper(
    title="Exact solutions to the nonlinear dynamics of learning in deep linear neural networks",
    authors="Saxe, McClelland, Ganguli",
    year=2013,
    arxiv="1312.6120",
    venue="ICLR 2014",
    code="",
)

COST = {
    "smoke": "~10 CPU-s",
    "quick": "~100 CPU-s training, ~3 min wall",
    "full": "not measured (GPU/cluster)",
}


def _lrs(lo: float, hi: float, n: int) -> tuple[float, ...]:
    return tuple(float(x) for x in np.geomspace(lo, hi, n))


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated (Fig. 3 shows one run); ours: 5
    # Mode dynamics (§2, Fig. 3)
    dataset: Literal["modes", "hierarchy"] = "hierarchy"  # Fig. 3: hierarchical diffusion data
    modes: tuple[float, ...] = ()  # ours: singular values of Σyx for dataset "modes"
    n_items: int = 32  # Fig. 3: 32 orthogonal input patterns
    n_features: int = 1000  # Fig. 3: 1000-dimensional feature vectors
    flip_prob: float = 0.1  # Fig. 3: flip probability of the tree diffusion
    hidden: int = 32  # Fig. 3: N2 = 32
    lr: float = 5e-4  # Fig. 3: λ = 0.5e-3
    u0: float = 1e-6  # Fig. 3: u0 = 1e-6 (decoupled strength; also the scale of small random init)
    steps: int = 40_000  # not stated; ours: until the weakest plotted mode has been learned
    log_every: int = 20  # not stated; ours
    n_modes_tracked: int = 7  # Fig. 3 plots seven modes
    tanh: bool = True  # Fig. 3: green traces, a tanh net on the same data
    # Depth sweep (§5, Fig. 6A on MNIST; ours on the Fig. 3 hierarchy)
    depths: tuple[int, ...] = (3, 6, 12, 24, 48, 96)  # not stated for our data; ours
    depth_width: int = 128  # ours (Fig. 6A: MNIST, width 1000; our task has 32 items)
    depth_lrs: tuple[float, ...] = _lrs(
        1e-3, 1.0, 20
    )  # not stated; ours: a log grid for the best lr per depth
    depth_steps: int = 5000  # ours: iteration budget per depth
    # Learned = loss ≤ criterion × the zero map's loss ½‖Σyx‖², not each net's own initial loss: a scaled Gaussian
    # init's random output inflates its initial loss, so 5 % of it is reached by shrinking the output alone.
    criterion: float = 0.05  # ours
    # §3's depth independence assumes the orthogonal initial map is at the target's scale (singular values O(1));
    # the raw ±1 features have s_max ≈ 6.8, and deep nets would first have to grow every layer.
    depth_target_norm: float = 1.0  # ours
    data_seed: int = 1234  # ours


QUICK = replace(
    Config(),
    seeds=3,
    n_features=200,
    steps=12_000,
    log_every=25,
    depths=(2, 4, 8, 16, 32),
    depth_width=32,
    depth_lrs=_lrs(1e-3, 0.3, 8),
    depth_steps=1000,
)
SMOKE = replace(
    QUICK,
    seeds=2,
    dataset="modes",
    modes=(6.0, 4.0, 3.0, 2.0, 1.5, 1.0),
    n_items=16,
    n_features=16,
    flip_prob=0.0,
    hidden=16,
    lr=0.01,
    u0=1e-4,
    steps=4000,
    log_every=10,
    n_modes_tracked=6,
    tanh=False,
    depths=(),
    depth_width=16,
    depth_lrs=(),
    depth_steps=0,
)
TIERS = {"full": Config(), "quick": QUICK, "smoke": SMOKE}
_SMOKE_TASK = "smoke: a 16-item task with six well-separated modes checks Eq. 12 in seconds"
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "n_features": "2-core CPU budget: 200 features keep the hierarchy's leading modes (smoke: 16 outputs)",
    "steps": "2-core CPU budget: long enough for the seven tracked modes at quick; smoke's modes learn by 4000",
    "log_every": "fewer steps, a coarser log grid of the same resolution in modes' time",
    "depths": "2-core CPU budget: depths 2–32 show the trend (smoke: no depth sweep)",
    "depth_width": "2-core CPU budget: width 32 = the number of items (smoke: unused)",
    "depth_lrs": "2-core CPU budget: 8 learning rates up to 0.3 (smoke: no depth sweep)",
    "depth_steps": "2-core CPU budget (smoke: no depth sweep)",
    "dataset": _SMOKE_TASK,
    "modes": _SMOKE_TASK,
    "n_items": _SMOKE_TASK,
    "flip_prob": _SMOKE_TASK,
    "hidden": _SMOKE_TASK,
    "lr": "smoke: λ = 0.01 learns the six modes in 4000 steps",
    "u0": "smoke: u0 = 1e-4 shortens the plateau",
    "n_modes_tracked": "smoke: its task has six modes",
    "tanh": "smoke: the linear nets only",
}
_CRITERION = (
    "depth sweep: learned = loss ≤ 5 % of the zero map's loss ½‖Σyx‖² (was: 5 % of each net's own initial loss, "
    "the first specified protocol) and targets rescaled to spectral norm 1 (depth_target_norm; was: the raw ±1 features)"
)
_CRITERION_WHY = (
    "after the first quick runs: a scaled Gaussian init's random output inflates its initial loss, so the old "
    "criterion was met in ~3 steps by shrinking the output without learning the target"
)
AMENDMENTS = (
    Amendment(
        "2026-11-22",
        ("P3_orthogonal_depth_independent",),
        _CRITERION,
        f"{_CRITERION_WHY}. Orthogonal ratio under the old criterion 8.6, already outside ≤ 4, but its "
        "interval was not recorded (verdict before unknown; a prototype of the first specified protocol gave 2.5, a pass); after: "
        "17.4 [15.8, 18.9]. It moved away from a pass, not towards one",
        "unknown",
        "fail",
    ),
    Amendment(
        "2026-11-22",
        ("P3_gaussian_slower",),
        _CRITERION,
        f"{_CRITERION_WHY}; this claim's value under the old criterion was not recorded (verdict before "
        "unknown); after: Gaussian never reaches the criterion at depth ≥ 4",
        "unknown",
        "pass",
    ),
    Amendment(
        "2026-11-22",
        ("P1_half_time", "P2_time_vs_strength"),
        "quick mode runs: 12 000 steps logged every 25 (was 30 000 every 50)",
        "made with the criterion change, after the first quick run; the reason and the 30k-step values were not "
        "recorded (verdict before unknown); the audit puts the 7th mode's half-time at ≈ 4.9k steps",
        "unknown",
        "pass",
    ),
)

CLAIMS = (
    Claim(
        "P1_half_time",
        "Decoupled modes follow Eq. 12: every mode's half-learning time is within 5 % of Eq. 11.",
        metric="max relative error of half-time",
        rule=Rule.at_most(0.05),
        paper_value=0.0,
        paper_text="exact (Eq. 11–12, Fig. 3 red vs blue)",
    ),
    Claim(
        "P2_time_vs_strength",
        "From small random init, learning time scales as 1/s: slope of log half-time vs log s near −1.",
        metric="slope d log t_half / d log s",
        rule=Rule.between(-1.15, -0.85),
        paper_value=-1.0,
        paper_text="t ∝ 1/s (Eq. 11)",
    ),
    Claim(
        "P3_orthogonal_depth_independent",
        "Orthogonal init: iterations to criterion at the deepest net ≤ 4× those at depth 4.",
        metric="iterations(depth max) / iterations(depth 4), orthogonal",
        rule=Rule.at_most(4.0),
        paper_value=1.0,
        paper_text="depth-independent (Fig. 6A)",
        tiers=("quick", "full"),
    ),
    Claim(
        "P3_gaussian_slower",
        "Scaled Gaussian init needs ≥ 5× the iterations of orthogonal init at every depth ≥ 8.",
        metric="min over depth ≥ 8 of iterations gaussian / orthogonal",
        rule=Rule.at_least(5.0),
        paper_text="Gaussian grows with depth, orthogonal flat (Fig. 6A)",
        tiers=("quick", "full"),
    ),
    Claim(
        "P4_best_lr_vs_depth",
        "The optimal learning rate scales as 1/depth: slope of log best-lr vs log depth near −1.",
        metric="slope d log lr* / d log depth, orthogonal",
        rule=Rule.between(-1.3, -0.7),
        paper_value=-1.0,
        paper_text="lr* ∝ 1/D (Fig. 4)",
        tiers=("full",),
    ),
)


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    return dynamics.task(cfg)


def grid(cfg: Config) -> dict[str, dict]:
    points = {
        "modes-decoupled": {"kind": "modes", "init": "decoupled", "activation": "linear"},
        "modes-random": {"kind": "modes", "init": "random", "activation": "linear"},
    }
    if cfg.tanh:
        points["modes-tanh"] = {"kind": "modes", "init": "random", "activation": "tanh"}
    for depth in cfg.depths:
        points[f"depth-{depth}"] = {"kind": "depth", "depth": depth}
    return points


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    if point["kind"] == "modes":
        return training.modes(cfg, point, data, seeds, device)
    return training.depth_sweep(cfg, point, data, seeds, device)


# --- metrics ----------------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    tau = 1.0 / cfg.lr
    s = dynamics.mode_strengths(cfg)
    rows = []
    for point, df in runs[runs.point.str.startswith("modes")].groupby("point"):
        ht = dynamics.half_times(df, s)
        for seed, g in ht.groupby("seed"):
            theory = np.array([dynamics.half_time(si, cfg.u0, tau) for si in g.s])
            rel = (g.t_half.to_numpy() - theory) / theory
            for a, r in zip(g["mode"], rel, strict=True):
                rows.append((point, seed, f"rel_delay_mode{a}", r))
            rows.append((point, seed, "half_time_err_max", float(np.max(np.abs(rel)))))
            finite = np.isfinite(g.t_half.to_numpy())
            rows.append(
                (point, seed, "half_time_slope", curves.loglog_slope(g.s[finite], g.t_half[finite], 3))
            )
    level = cfg.criterion * dynamics.zero_map_loss(dynamics.depth_targets(cfg, make_data(cfg)))
    depth = runs[runs.point.str.startswith("depth") & (runs.metric == "loss")]
    for (point, variant, seed), g in depth.groupby(["point", "variant", "seed"]):
        g = g.sort_values("step")
        iters = curves.first_reaching(g.step, g.value, level, below=True)
        init, lr = variant.split("-lr")
        rows.append((point, seed, f"iters_{init}_lr{lr}", iters))
    table = pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])
    return pd.concat([table, dynamics.best_lr(table)], ignore_index=True)


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out = {
        "P1_half_time": per_seed(metrics, "half_time_err_max", "modes-decoupled").tolist(),
        "P2_time_vs_strength": per_seed(metrics, "half_time_slope", "modes-random").tolist(),
    }
    d = dynamics.depth_table(metrics)
    if d.empty:
        return out
    wide = d.pivot_table(index=["seed", "depth"], columns="metric", values="value").reset_index()
    deepest = wide.depth.max()
    p3a, p3b, p4 = [], [], []
    for _, g in wide.groupby("seed"):
        g = g.set_index("depth")
        if 4 in g.index:
            p3a.append(g.loc[deepest, "best_iters_orthogonal"] / g.loc[4, "best_iters_orthogonal"])
        deep = g[g.index >= 8]
        p3b.append(float((deep.best_iters_gaussian / deep.best_iters_orthogonal).min()))
        lr = g.best_lr_orthogonal
        ok = np.isfinite(lr)
        p4.append(curves.loglog_slope(lr.index[ok], lr[ok], min_points=3))
    out.update({"P3_orthogonal_depth_independent": p3a, "P3_gaussian_slower": p3b, "P4_best_lr_vs_depth": p4})
    return out


FIGURES = (
    Figure(
        "fig3_modes",
        "Paper Fig. 3 (left): mode strengths of a three-layer linear net follow the analytic sigmoids of Eq. 12 "
        "(dashed), strong modes first; the tanh net (green in the paper) lags. Ours: simulated mode strengths "
        "(solid, the first seed) for decoupled and small random init, and the tanh net where run, against "
        "Eq. 12.",
        figures.draw_modes,
    ),
    Figure(
        "fig3_delay",
        "Paper Fig. 3 (right): delay of the simulated half-learning time relative to Eq. 11, per mode. Ours: the "
        "same relative delay per mode and initialisation, mean and 95 % CI over seeds; zero means exact.",
        figures.draw_delay,
    ),
    Figure(
        "fig6a_depth",
        "Paper Fig. 6A: with random orthogonal init learning time is independent of depth, with scaled Gaussian "
        "init it grows. Ours: iterations to the criterion (loss ≤ 5 % of the zero map's loss) at the best "
        "learning rate, per depth and init (mean, 95 % CI over seeds); points on the dotted line never reached "
        "it within the budget.",
        figures.draw_depth,
        tiers=("quick", "full"),
    ),
    Figure(
        "fig4_best_lr",
        "Paper Fig. 4: the optimal learning rate falls as 1/depth. Ours: the fastest learning rate per depth "
        "and init, with a 1/depth guide.",
        figures.draw_lr,
        tiers=("full",),
    ),
)
