"""Saxe, McClelland & Ganguli 2013 — exact learning dynamics of deep linear networks.

Paper: "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks", ICLR 2014,
arXiv:1312.6120 (no official code).

Claims, each with its kind, our pass rule and its negative control (statistic: the mean over seeds with a
Student-t 95 % interval; iteration counts censored at the budget enter as bounds, see below):
(a) With whitened inputs (Σxx = I) each input–output mode α of a three-layer linear net, started decoupled at
    strength u0, follows the sigmoid of Eq. 12, u(t) = s·e^{2st/τ} / (e^{2st/τ} − 1 + s/u0) with τ = 1/λ, and
    reaches u_f at t = (τ/2s)·ln[u_f(s−u0) / (u0(s−u_f))] (Eq. 11; Fig. 3). Ours (analytic: our simulation
    against the closed form): every mode's half-learning time within 5 % of Eq. 11. Its seeds differ only in the
    rotation R of the decoupled init, which cancels in W2W1: one run, repeated.
(b) Learning time ∝ 1/s (Eq. 11). Ours (analytic): from small random init, slope of log t_half vs log s in
    [−1.15, −0.85].
(c) Random orthogonal initialisation gives depth-independent learning times, scaled Gaussian N(0, 1/N) slows down
    with depth (Fig. 6A, curves only). Ours (empirical): orthogonal, iterations to criterion at the deepest net
    ≤ 4× those at depth 4 (control: the same ratio for Gaussian init); Gaussian ≥ 5× orthogonal at every
    depth ≥ 8 (control: orthogonal against orthogonal, each seed's run against the next seed's). Set-up check
    (empirical, control Gaussian init): the same depth ratio for orthogonal init with the network's initial
    output subtracted, f(x) = W_tot x − W_tot(0) x. At quick a random orthogonal W_tot has 32 unit singular
    values, an initial loss ≈ 8× the zero map's, and the deep net must unlearn that random map before it meets
    the criterion; the centred arm keeps the isometric start without the random map, so if it passes where plain
    orthogonal init fails, the fail comes from our set-up (Fig. 6A trains on MNIST, whose protocol we could not
    verify), not from the paper's depth independence.
(d, full tier) The optimal learning rate scales as 1/depth (Fig. 4; derived in §3). Ours (analytic): slope of log
    lr* vs log depth in [−1.3, −0.7].

Protocol. Loss (1/2P)·Σ_i ‖y_i − f(x_i)‖² on P items with inputs X = √P·I (so Σxx = I), full-batch GD with
learning rate λ, time in steps (τ = 1/λ steps). Mode strength u_α(t) = u_αᵀ Σ_fx v_α with Σ_fx = f(X)ᵀX/P and
(u_α, s_α, v_α) the SVD of Σyx. Fig. 3: 32 orthogonal items, 1000 features from a five-level binary-tree
diffusion (flip probability 0.1), N2 = 32 hidden units, λ = 5e-4, u0 = 1e-6, linear and tanh nets. Depth sweep
(ours): D weight layers, orthogonal vs Gaussian N(0, 1/N) init (and the centred orthogonal arm), a log-spaced
grid of learning rates, iterations until the loss is ≤ 5 % of the zero map's loss ½‖Σyx‖² (not of each net's
own initial loss, which a Gaussian init's random output inflates: 5 % of it is met by shrinking the output
alone), the fewest over learning rates per depth and seed. A run that never meets the criterion within the
budget of ``depth_steps`` iterations is censored there: a ratio of iteration counts is then a bound (budget /
count, or count / budget), and a ratio where neither count is known makes that seed unmeasured (never dropped).
Where the fastest learning rate is the grid's largest, the count is an upper bound on a wider grid's; at the
shallow reference depth that can only make the deep/shallow ratio smaller than a wider grid would.
The paper's Fig. 6A trains on MNIST with a hidden width of 1000; every tier here runs the sweep on the Fig. 3
hierarchy (see the deviations below), rescaled to a target of spectral norm 1 (``depth_target_norm``: §3's depth
independence assumes an initial map at the target's scale; the raw ±1 features have s_max ≈ 6.8).
Tiers: full = Fig. 3 and the sweep over depths 2–96 (width 128); quick = 200 features, 12k steps, depths 2–32 of
width 32, 1000 sweep iterations; smoke = a 16-item task with six chosen modes s = [6, 4, 3, 2, 1.5, 1]
(λ = 0.01, u0 = 1e-4), no sweep.

Cost (2 shared CPU cores, one thread per job): smoke ≈ 3 s per job (2 jobs); quick ≈ 75 CPU-s of training (the
centred arm adds ~50 % to each depth job); full ~35 CPU-h estimated by the probe (10 jobs: the three mode
runs minutes each, each depth of the sweep 3.4–7.5 h on a loaded CPU — an upper bound, as a depth stops once
every member has met the criterion; peak 2.8 GB: depths 64 and 96 train their 300 members in 2 and 3 parts,
``training.WEIGHT_BUDGET``).

Deviations from the paper at the full tier:
- the depth sweep (claims c, d) runs on the Fig. 3 hierarchy (32 items, 1000 features, target rescaled to
  spectral norm 1) with width 128 and depths 2–96, not on MNIST with 1000 hidden units and depths up to ~100 as
  in Fig. 6A: an MNIST depth sweep (a data path for the 784-pixel inputs, the paper's target and criterion on
  MNIST, which we have not verified) is not implemented yet (ours). Depth 4, the reference of claim (c), is in
  the full grid.
- the greedy layer-wise (autoencoder) pretraining arm that the paper compares with random orthogonal and
  scaled Gaussian init is not trained; the centred-orthogonal arm is ours.
- 20 log-spaced learning rates in 1e-3…1, 5000 iterations per run, and the criterion (loss ≤ 5 % of the zero
  map's loss) are ours; the paper's grid and criterion could not be read.
- 5 seeds (Fig. 3 shows one run); 40,000 steps for the mode dynamics (not stated).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Amendment, Claim, Rule
from reprosuite.study import Figure, Paper

from . import dynamics, figures, training
from .analysis import extract as extract
from .analysis import measure as measure

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
    "quick": "~75 CPU-s training",
    "full": "~35 CPU-h (probe: 10 jobs, depth sweep 3.4–7.5 h each at most: early stopping not counted; peak 2.8 GB)",
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
    depths: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 96)  # not stated for our data; ours (Fig. 6A: up to ~100)
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
_GAUSS = "scaled Gaussian init N(0, 1/N), the same ratio (no dynamical isometry)"
_GRID = (
    "depth sweep: a centred orthogonal arm added (grid parameter inits); full-tier depths (3, 6, 12, 24, 48, 96) "
    "→ (2, 4, 8, 16, 32, 64, 96)"
)
_GRID_WHY = (
    "the centred arm tests whether the orthogonal fail comes from the set-up (the random initial map the net "
    "must unlearn first); the full tier lacked depth 4, the reference of the depth-independence claim"
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
        "recorded (verdict before unknown); by Eq. 11 the 7th mode is half-learned at ≈ 4.9k steps",
        "unknown",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("P1_half_time", "P2_time_vs_strength"),
        "kind empirical → analytic; " + _GRID,
        "they compare our simulation with the paper's closed form (Eqs. 11–12): a check of the dynamics, not an "
        "experimental finding. " + _GRID_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("P3_orthogonal_depth_independent",),
        "negative control: scaled Gaussian init, the same ratio; a seed whose counts are censored at the "
        "iteration budget is a bound, not ∞; " + _GRID,
        "Fig. 6A's contrast: without an isometric init the learning time is not depth-independent, so the claim "
        "may not pass there. " + _GRID_WHY + " (the added claim P3_orthogonal_centred_depth_independent)",
        "fail",
        "fail",
    ),
    Amendment(
        "2026-12-06",
        ("P3_gaussian_slower",),
        "negative control: orthogonal against orthogonal (each seed against the next); censored counts are "
        "bounds (a depth where neither init reaches the criterion makes the seed unmeasured: it was skipped "
        "silently); " + _GRID,
        "two runs of the same isometric init cannot differ 5-fold; a ratio over a depth where neither init "
        "learned is unknown, and the budget only bounds the others. " + _GRID_WHY,
        "pass",
        "inconclusive",
    ),
    Amendment(
        "2026-12-06",
        ("P4_best_lr_vs_depth",),
        "kind empirical → analytic; " + _GRID,
        "lr* ∝ 1/depth is the scaling the paper derives (§3) for an isometric start; our sweep checks it. "
        + _GRID_WHY,
        "inconclusive",
        "inconclusive",
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
        kind="analytic",
    ),
    Claim(
        "P2_time_vs_strength",
        "From small random init, learning time scales as 1/s: slope of log half-time vs log s near −1.",
        metric="slope d log t_half / d log s",
        rule=Rule.between(-1.15, -0.85),
        paper_value=-1.0,
        paper_text="t ∝ 1/s (Eq. 11)",
        kind="analytic",
    ),
    Claim(
        "P3_orthogonal_depth_independent",
        "Orthogonal init: iterations to criterion at the deepest net ≤ 4× those at depth 4.",
        metric="iterations(depth max) / iterations(depth 4), orthogonal",
        rule=Rule.at_most(4.0),
        paper_value=1.0,
        paper_text="depth-independent (Fig. 6A)",
        tiers=("quick", "full"),
        control=_GAUSS,
    ),
    Claim(
        "P3_gaussian_slower",
        "Scaled Gaussian init needs ≥ 5× the iterations of orthogonal init at every depth ≥ 8.",
        metric="min over depth ≥ 8 of iterations gaussian / orthogonal",
        rule=Rule.at_least(5.0),
        paper_text="Gaussian grows with depth, orthogonal flat (Fig. 6A)",
        tiers=("quick", "full"),
        control="orthogonal against orthogonal (each seed against the next seed's run)",
    ),
    Claim(
        "P4_best_lr_vs_depth",
        "The optimal learning rate scales as 1/depth: slope of log best-lr vs log depth near −1.",
        metric="slope d log lr* / d log depth, orthogonal",
        rule=Rule.between(-1.3, -0.7),
        paper_value=-1.0,
        paper_text="lr* ∝ 1/D (Fig. 4)",
        tiers=("full",),
        kind="analytic",
    ),
    Claim(
        "P3_orthogonal_centred_depth_independent",
        "Set-up check of Fig. 6A: orthogonal init with its initial output subtracted (no random initial map to "
        "unlearn) needs at the deepest net ≤ 4× the iterations at depth 4.",
        metric="iterations(depth max) / iterations(depth 4), centred orthogonal",
        rule=Rule.at_most(4.0),
        paper_value=1.0,
        paper_text="depth-independent (Fig. 6A; §3: an isometric start learns in a depth-independent time)",
        tiers=("quick", "full"),
        control=_GAUSS,
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
        inits = [*training.INITS, training.CENTRED]  # the centred orthogonal arm: the set-up check of P3
        points[f"depth-{depth}"] = {"kind": "depth", "depth": depth, "inits": inits}
    return points


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    if point["kind"] == "modes":
        return training.modes(cfg, point, data, seeds, device)
    return training.depth_sweep(cfg, point, data, seeds, device)


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
