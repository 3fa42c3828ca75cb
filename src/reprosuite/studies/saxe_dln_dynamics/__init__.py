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
    orthogonal init fails, the fail comes from our set-up, not from the paper's depth independence.
(d, full tier) The optimal learning rate scales as 1/depth (§2 and App. B: O(1/N_l); Fig. 4 right for decoupled
    init, Fig. 6A middle per init). Ours (analytic): slope of log lr* vs log depth, orthogonal init, in
    [−1.3, −0.7].

Protocol, mode dynamics (all tiers). Loss (1/2P)·Σ_i ‖y_i − f(x_i)‖² on P items with inputs X = √P·I (so
Σxx = I), full-batch GD with learning rate λ, time in steps (τ = 1/λ steps). Mode strength u_α(t) = u_αᵀ Σ_fx v_α
with Σ_fx = f(X)ᵀX/P and (u_α, s_α, v_α) the SVD of Σyx. Fig. 3: 32 orthogonal items, 1000 features from a
five-level binary-tree diffusion (flip probability 0.1), N2 = 32 hidden units, λ = 5e-4, u0 = 1e-6, linear and
tanh nets.
Protocol, depth sweep at the full tier (Fig. 6A left and middle, "the same architecture and parameters as in
Fig. 4"; §2 and Supplementary Appendix C, read in the arXiv text): deep linear nets 784 → 1000 → … → 10 without
biases, N_l = 3, 5, 8, 10, 14, 20, 28, 36, 44, 54, 64, 74, 84, 94, 100 layers of units (2–99 weight layers; the
depths below count weight layers), trained on MNIST classification (one-hot 10-dimensional targets, "a 1 in the
index for the correct class, and zeros elsewhere") by batch gradient descent on the 50,000-image training set,
through Σ11 and Σ31 only (Eq. 13: the net propagates a 10-row matrix, not the images; ``mnist.py``). Random
orthogonal (QR of a Gaussian matrix, App. C) vs scaled Gaussian N(0, 1/N) init (§3), and the centred orthogonal
arm; learning rate λ of Eq. 1 on the summed error, twenty rates log-spaced in 1e-9…1e-5, the fastest per depth,
init and seed; learning time = the first iteration with training error E = ½ Σ_μ ‖y^μ − ŷ^μ‖² ≤ 1.3e4 ("nearly
complete learning": the zero map has E = 25,000, the least-squares map 9,856). One job per depth, init family
(orthogonal with its centred arm, or Gaussian) and seed: its 20 (orthogonal: 40) members trained in parts of at
most ``mnist.WEIGHT_BUDGET`` bytes of weights (2 members at 99 layers), 3000 iterations at most.
Protocol, depth sweep at quick (ours, a 2-core stand-in): the same arms on the Fig. 3 hierarchy, loss (1/2P)·Σ,
learned = loss ≤ 5 % of the zero map's loss ½‖Σyx‖² (not of each net's own initial loss, which a Gaussian init's
random output inflates), targets rescaled to spectral norm 1 (``depth_target_norm``).
Both: a run that never meets the criterion within ``depth_steps`` iterations is censored there: a ratio of
iteration counts is then a bound (budget / count, or count / budget), and a ratio where neither count is known
makes that seed unmeasured (never dropped). Where the fastest learning rate is the grid's largest, the count is an
upper bound on a wider grid's; at the shallow reference depth that can only make the deep/shallow ratio smaller.
Tiers: full = Fig. 3 and the MNIST sweep above; quick = 200 features, 12k steps, a hierarchy sweep over depths
2–32 of width 32, 1000 sweep iterations; smoke = a 16-item task with six chosen modes s = [6, 4, 3, 2, 1.5, 1]
(λ = 0.01, u0 = 1e-4), no sweep. The MNIST code path is covered by a unit test on 300 real MNIST images.

Cost (2 loaded CPU cores, one thread per job): smoke ≈ 3 s per job (2 jobs); quick ≈ 75 CPU-s of training (the
centred arm adds ~50 % to each depth job). Full, by the probe (2 updates per part; CPU, one thread, no
early stop counted): the three mode runs minutes each; the MNIST sweep has 150 jobs (15 depths × 2 init families
× 5 seeds) of 20 or 40 members; the largest, 99 layers with the orthogonal and centred arms (40 members in 20
parts), 16.5 CPU-h extrapolated, peak 3.0 GB; its Gaussian twin (20 members, 10 parts) 7.5 CPU-h, 3.0 GB;
2 layers 0.14 CPU-h, 0.8 GB. CPU time grows with the weights: ≈ 740 CPU-h for the whole
sweep, meant for GPUs (not measured there: no GPU was available to us).
A finished part's checkpoint holds its weights: up to 15.6 GB of scratch disk for the largest job.

Deviations from the paper at the full tier:
- the greedy layer-wise (linear autoencoder) pretraining arm of Fig. 6A (green) is not trained; the centred
  orthogonal arm is ours.
- the learning-rate grid: twenty log-spaced rates as in App. C, but in 1e-9…1e-5, not 1e-7…1e-4 (ours). App.
  C chose its range so that the optimum lies inside it at every depth; at our input scale (pixels in [0, 1], the
  largest eigenvalue of Σ11 1.9e6) orthogonal init at 2 weight layers diverges at 1e-5 and is fastest near 1e-6
  (28 iterations; 13 layers: 16 iterations at 4e-7), so App. C's 6 largest rates diverge, and by App. B's
  O(1/N_l) scaling the optimum at 99 layers lies near 2e-8, below App. C's range (our estimate).
- ours where the paper is silent: pixels scaled to [0, 1]; the first 50,000 of the official 60,000 training
  images; the error's factor ½ (E = ½ Σ‖y − ŷ‖², whose gradient is Eq. 1's update; without it the least-squares
  error 19,711 could never meet the 1.3e4 threshold); the budget of 3000 iterations per run (fastest runs:
  16–30 iterations); 5 seeds; the scaled Gaussian is N(0, 1/N) as §3's text says (Fig. 6A's caption says scaled
  uniform weights).
- 40,000 steps for the mode dynamics (not stated); 5 seeds (Fig. 3 shows one run).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite import study
from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

from . import dynamics, figures, mnist, training
from .amendments import AMENDMENTS as AMENDMENTS
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
    "full": "~740 CPU-h (probe: 153 jobs; the MNIST sweep's largest 16.5 CPU-h, peak 3.0 GB; for GPUs)",
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
    # Depth sweep (Fig. 6A with Fig. 4's set-up, §2–3 and Supplementary Appendix C): MNIST at the full tier
    depth_data: Literal["hierarchy", "mnist"] = "mnist"  # App. C: deep linear nets trained on MNIST
    # App. C: N_l = 3, 5, 8, 10, 14, 20, 28, 36, 44, 54, 64, 74, 84, 94, 100 layers of units = N_l − 1 weight layers
    depths: tuple[int, ...] = (2, 4, 7, 9, 13, 19, 27, 35, 43, 53, 63, 73, 83, 93, 99)
    depth_width: int = 1000  # App. C: hidden layers of size 1000
    # App. C: twenty log-spaced rates, 1e-7…1e-4 "to ensure that the optimal learning rate always lay in the
    # interior"; ours: 1e-9…1e-5, as at our input scale 1e-5 already diverges at two weight layers (see deviations)
    depth_lrs: tuple[float, ...] = _lrs(1e-9, 1e-5, 20)
    depth_steps: int = 3000  # not stated; ours: iteration budget per run (the fastest runs take 16–30)
    # App. C: the 50,000-image training set (ours: the first 50,000 of the official 60,000)
    mnist_train: int = 50_000
    # App. C: learned = training error below 1.3e4; ours: the error is E = ½ Σ_μ ‖y − ŷ‖² (Eq. 1's gradient)
    mnist_threshold: float = 1.3e4
    # Hierarchy sweep (quick): learned = loss ≤ criterion × the zero map's loss ½‖Σyx‖², not each net's own
    # initial loss: a scaled Gaussian init's random output inflates it, so 5 % of it is met by shrinking the output.
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
    depth_data="hierarchy",
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
    "depth_data": "2-core CPU budget: the sweep on the 32-item Fig. 3 hierarchy, not 99 layers of 1000 units on "
    "MNIST (smoke: no depth sweep)",
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
_GAUSS = "scaled Gaussian init N(0, 1/N), the same ratio (no dynamical isometry)"

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
    data = dynamics.task(cfg)
    if cfg.depth_data == "mnist" and cfg.depths:
        data.update(mnist.moments(cfg.mnist_train))
    return data


def datasets(cfg: Config) -> tuple[str, ...]:
    """The official dataset files ``make_data`` reads (checked before any job runs)."""
    return ("mnist",) if cfg.depth_data == "mnist" and cfg.depths else ()


def grid(cfg: Config) -> dict[str, dict]:
    points = {
        "modes-decoupled": {"kind": "modes", "init": "decoupled", "activation": "linear"},
        "modes-random": {"kind": "modes", "init": "random", "activation": "linear"},
    }
    if cfg.tanh:
        points["modes-tanh"] = {"kind": "modes", "init": "random", "activation": "tanh"}
    for depth in cfg.depths:
        inits = [*training.INITS, training.CENTRED]  # the centred orthogonal arm: the set-up check of P3
        if cfg.depth_data == "mnist":  # paper scale: one job per depth, init family and seed (ours)
            for family, group in (("orth", ["orthogonal", training.CENTRED]), ("gauss", ["gaussian"])):
                for seed in study.seed_list(cfg):
                    point = {"kind": "depth", "depth": depth, "inits": group, "seed": seed}
                    points[f"depth-{depth}-{family}-s{seed}"] = point
        else:
            points[f"depth-{depth}"] = {"kind": "depth", "depth": depth, "inits": inits}
    return points


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    if point["kind"] == "modes":
        return training.modes(cfg, point, data, seeds, device)
    if cfg.depth_data == "mnist":
        return mnist.depth_sweep(cfg, point, data, seeds, device)
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
        "init it grows. Ours: iterations to the criterion (full: MNIST training error ≤ 1.3e4; quick: loss ≤ 5 % "
        "of the zero map's loss) at the best learning rate, per depth (weight layers) and init (mean, 95 % CI "
        "over seeds); points on the dotted line never reached it within the budget.",
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
