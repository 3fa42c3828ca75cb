"""Hoffer, Hubara, Soudry 2017: large-batch training generalises worse because it makes fewer updates.

Paper: "Train longer, generalize better: closing the generalization gap in large batch training of neural
networks", NeurIPS 2017 (arXiv:1705.08741). Official code ``eladhoffer/bigBatch`` (read: ``main_normal.py``,
``main_gbn.py``, ``models/mnist_f1.py``, ``README.md``, ``run_experiments.sh``).

Sources used: the abstract (distance from initialisation grows logarithmically with the number of updates in the
initial high-lr phase, a "random walk on a random landscape"; the gap "stems from the relatively small number of
updates rather than the batch size, and can be completely eliminated by adapting the training regime"; Ghost
Batch Normalization "enables significant decrease in the generalization gap without increasing the number of
updates"). From the official code: ``main_gbn.py`` cuts each batch into ``--mini-batch-size`` chunks (default
128), forwards and back-propagates each chunk separately (BN statistics per ghost batch), divides the summed
gradients by the number of chunks, clips the gradient norm at 5, and with ``--lr_bb_fix`` multiplies every lr
of the regime by (B / mini)^½, with ``--regime_bb_fix`` every regime epoch (and the epoch count) by
⌈B / mini⌉ (``main_normal.py`` does the same with 256 in place of mini). ``models/mnist_f1.py``: F1 =
784-512×5-10 with BatchNorm + ReLU, SGD lr 0.1, momentum 0.9, wd 1e-4, lr 0.01 / 0.001 / 0.0001 from epochs
10 / 20 / 30. README and ``run_experiments.sh``: F1 MNIST with B = 4096, 50 epochs, ghost 128. The paper's
Table 1 accuracies could not be read here: every paper value below is **unverified**, and no rule uses one.

Claims (accuracy in percentage points, pp; differences paired by initialisation seed; 95 % t-intervals):

- ``H0`` (sanity; max; ≤ 1e-5, ours) — in float64, the batched net with ghost = batch equals each member through
  ``F.batch_norm``; one call with ghost batches gives the official chunk loop's gradient and running statistics.
- ``H1`` (empirical; mean of r; r in [0.67, 1.5], ours) — ‖w_t − w₀‖ grows like log t in the constant-lr phase:
  r = [d(T) − d(T/10)] / [d(T/10) − d(T/100)] is 1 for log growth, √10 for diffusion, → 0 for saturation.
  Small batch, constant lr, **no weight decay** (with it the distance saturates), T = 10⁴ updates. Control: an
  isotropic random walk with the same momentum and dimension (no landscape, so no slowing): r ≈ √10, outside.
  Paper: Fig. 2, qualitative.
- ``H2`` (empirical; mean; SB − LB ≥ 1 pp, ours) — at the same epochs and lr, the large batch generalises
  worse. Control: LB with SB's number of updates (+LR+GBN+RA), which the paper says removes the gap.
- ``H3`` (empirical; mean; (LB+LR+GBN+RA) − SB ≥ −0.5 pp, non-inferiority, ours; paper "completely
  eliminated") — adapting the regime closes the gap. Control: the same regime without RA (SB's epochs, so
  1/ratio of the updates): the mechanism, the number of updates, is absent.
- ``H4`` (empirical; mean; (LB+LR+GBN) − (LB+LR) ≥ 0, ours; **full tier only**) — GBN reduces the gap at a fixed
  number of updates. Control: ghost = B_L / 2 (statistics of half the large batch: the small-batch noise of
  the normalisation is absent). At MNIST-1D scale the effect (≈ +0.7 pp) is below the seed spread of five seeds
  and its control is not separated from it, so the quick tier cannot decide it within its budget: full only.
- H5, √ lr scaling, (LB+LR) − LB: **recorded, not a claim** (no control removes the mechanism without changing
  the lr itself); metric ``acc`` of points ``lb_lr`` and ``lb``, figure ``accuracy``.

Protocol: ``Config`` defaults are the official F1 MNIST protocol (real MNIST, 60 000 / 10 000; SB 128, LB 4096,
ghost 128, lr 0.1 (× √32 for LB+LR), wd 1e-4, 50 epochs with lr ÷ 10 at 10 / 20 / 30, RA × 32 epochs and decay
points, clip 5); H1 there uses F1 at SB 128 for 10⁴ updates. Quick and smoke use MNIST-1D (4 000 / 1 000,
``datasets.load("mnist1d", seed=42)``) and a small 1-D CNN with BN (``nets.py``, channels 16 / 32 / 32): B_S 32,
B_L 256 (ratio 8), ghost 32, lr 0.05, wd 5e-4, 12 epochs with lr ÷ 10 at 50 % and 75 % (RA: 96 epochs), clip 5,
3 seeds trained as one batched model per regime; H1 on 3 seeds, 10⁴ updates at B_S, constant lr, no wd. The
quick tier was cut from a 5-seed, 20-epoch, 32 / 64 / 64-channel prototype to fit its CPU budget (RA alone costs
8 × SB): fewer seeds (the prototype's paired spreads leave H2 and H3 decidable with 3), fewer epochs (every
regime keeps its update ratio) and half the channels. Deviations at every tier: the last partial batch of an
epoch is dropped (the official loader keeps it), lr scaling and RA use the ratio B_L / B_S (the official GBN
script's B / mini with mini = SB = ghost), test accuracy is the final one (the official log also reports the best
epoch). Full tier only: H4 and its ghost = B_L / 2 arm. Not built: ResNet-44 / C1 / C3 / WRN on CIFAR (the CIFAR
files are not available here), ImageNet, Fig. 2's batch-size sweep of distance curves.

Caveats: at toy scale RA exceeds SB (training 8× longer at a decayed lr), so the non-inferiority margin does not
decide H3; H1's r depends on the window (10²–10⁴ updates) — with weight decay it collapses toward 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule, per_seed
from reprosuite.study import Figure, Paper

from . import figures

PAPER = Paper(
    title="Train longer, generalize better: closing the generalization gap in large batch training of neural "
    "networks",
    authors="Hoffer, Hubara, Soudry",
    year=2017,
    arxiv="1705.08741",
    venue="NeurIPS 2017",
    code="https://github.com/eladhoffer/bigBatch",
)

COST = {
    "smoke": "3.7 CPU-s of training (7 jobs)",
    "quick": "83 CPU-s of training on 2 contended cores (sanity 0.3, SB 7.0, LB 4.2, LB+LR 4.1, LB+LR+GBN 3.9, "
    "RA 23.6, H1 + walk 40.1)",
    "full": "CPU probe (one thread, 5 members): SB 1.4 h, LB / LB+LR / +GBN 0.7–0.9 h each, RA 28 h, the walk "
    "1.9 h (partial); peak 2.1 GB: a GPU is advised",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # ours (the paper reports single runs)
    dataset: Literal["mnist", "mnist1d"] = "mnist"  # README / run_experiments.sh: F1 on MNIST
    model: Literal["f1", "cnn1d"] = "f1"  # models/mnist_f1.py
    n_train: int = 60_000  # the whole MNIST training split
    batch_small: int = 128  # main_gbn.py --mini-batch-size 128 (the small-batch reference)
    batch_large: int = 4096  # README: mnist_f1 --b 4096
    ghost: int = 128  # README: --mini-batch-size 128
    lr: float = 0.1  # models/mnist_f1.py regime
    momentum: float = 0.9  # models/mnist_f1.py regime
    wd: float = 1e-4  # models/mnist_f1.py regime
    clip: float = 5.0  # main_gbn.py / main_normal.py: clip_grad_norm(model.parameters(), 5.)
    epochs: int = 50  # README: --epochs 50
    decays: tuple[int, ...] = (10, 20, 30)  # models/mnist_f1.py: lr ÷ 10 at epochs 10, 20, 30
    h4_arms: bool = True  # ours: the ghost = B_L / 2 control arm of H4
    h1_steps: int = 10_000  # ours: three decades of updates (paper Fig. 2 spans ~10⁴)
    h1_seeds: int = 5  # ours
    h1_wd: float = 0.0  # ours: without weight decay (with it the distance saturates)
    dist_points: int = 80  # ours: log-spaced distance evaluations
    acc_points: int = 10  # ours: test-accuracy evaluations per run (epochs, evenly spaced)
    n_eval_train: int = 10_000  # ours: training examples for the train accuracy
    channels: tuple[int, ...] = (16, 32, 32)  # ours: the 1-D CNN's widths (model "cnn1d" only)


QUICK = replace(
    Config(),
    dataset="mnist1d",
    model="cnn1d",
    n_train=4000,
    batch_small=32,
    batch_large=256,
    ghost=32,
    lr=0.05,
    wd=5e-4,
    epochs=12,
    decays=(6, 9),
    seeds=3,
    h4_arms=False,
    h1_seeds=3,
    n_eval_train=4000,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK,
        seeds=2,
        n_train=1000,
        epochs=3,
        decays=(2,),
        h1_steps=300,
        h1_seeds=2,
        dist_points=20,
        acc_points=3,
        n_eval_train=1000,
    ),
}
_TOY = "CPU budget: MNIST-1D and a 20k-parameter 1-D CNN stand in for MNIST and F1"
WHY = {
    "dataset": _TOY,
    "model": _TOY,
    "n_train": "MNIST-1D's 4 000 training sequences (smoke: 1 000)",
    "batch_small": "ratio B_L / B_S = 8 kept at MNIST-1D size (4 000 examples give 125 SB updates per epoch)",
    "batch_large": "ratio 8 on 4 000 examples (15 LB updates per epoch); 4096 exceeds the data set",
    "ghost": "ghost = the small batch, as in the official F1 run (ghost 128 = SB 128)",
    "lr": "ours: SGD lr tuned for the 1-D CNN with BN",
    "wd": "ours: the usual 5e-4 for a small CNN",
    "epochs": "CPU budget: 12 (RA multiplies them by 8: 96 epochs, 1 440 updates of 256); smoke 3",
    "decays": "lr ÷ 10 at 50 % and 75 % of the epochs (ours; smoke: at epoch 2)",
    "h4_arms": "H4 is decided at full only: its ≈ 0.7 pp effect is below the 5-seed spread on MNIST-1D",
    "h1_seeds": "CPU budget: 10⁴ small-batch updates per seed",
    "seeds": "CPU budget: 3 (a 5-seed prototype without clipping had paired sd ≈ 0.7 pp for SB − LB against "
    "a 2.4 pp margin and ≈ 0.2 pp for RA − SB; smoke: 2, the fewest an interval needs)",
    "h1_steps": "smoke: 300 updates (decades 3, 30, 300)",
    "dist_points": "smoke: fewer evaluations",
    "acc_points": "smoke: fewer evaluations",
    "n_eval_train": "the whole (smaller) training set",
}
REGIMES = ("sb", "lb", "lb_lr", "lb_lr_gbn", "lb_lr_gbn_ra")


# ---------------------------------------------------------------------------------------------------- data
def datasets(cfg: Config) -> tuple[str, ...]:
    return ("mnist",) if cfg.dataset == "mnist" else ()


def grid(cfg: Config) -> dict[str, dict]:
    if cfg.batch_large % cfg.batch_small or cfg.batch_large % cfg.ghost or cfg.batch_small % cfg.ghost:
        raise ValueError("batch_large must be a multiple of batch_small and both multiples of ghost")
    ratio = cfg.batch_large // cfg.batch_small
    lr_fix = cfg.lr * math.sqrt(ratio)
    big = {"batch": cfg.batch_large, "epochs": cfg.epochs, "decays": list(cfg.decays), "wd": cfg.wd}
    base = {"kind": "regime", "extra_log": [], "ghost": None, "lr": cfg.lr, **big}
    ra = {"epochs": cfg.epochs * ratio, "decays": [d * ratio for d in cfg.decays]}
    pts = {
        "sanity": {"kind": "sanity", "batch": cfg.batch_large, "ghost": cfg.ghost, "label": "sanity"},
        "sb": {**base, "batch": cfg.batch_small, "label": "SB"},
        "lb": {**base, "label": "LB"},
        "lb_lr": {**base, "lr": lr_fix, "label": "LB+LR"},
        "lb_lr_gbn": {**base, "lr": lr_fix, "ghost": cfg.ghost, "label": "LB+LR+GBN"},
        "lb_lr_gbn_ra": {**base, "lr": lr_fix, "ghost": cfg.ghost, **ra, "label": "LB+LR+GBN+RA"},
    }
    if cfg.h4_arms:
        half = cfg.batch_large // 2
        pts["lb_lr_gbn_half"] = {**base, "lr": lr_fix, "ghost": half, "label": f"LB+LR+GBN{half}"}
    t = cfg.h1_steps
    pts["walk"] = {
        **base,
        "batch": cfg.batch_small,
        "steps": t,
        "decays": [],
        "wd": cfg.h1_wd,
        "label": "SB const lr",
        "extra_log": [t // 100, t // 10, t],
    }
    return pts


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets as ds

    d = ds.load("mnist", seed=0) if cfg.dataset == "mnist" else ds.load("mnist1d", seed=42)
    if cfg.n_train:
        d["x"], d["y"] = d["x"][: cfg.n_train], d["y"][: cfg.n_train]
    return {k: np.ascontiguousarray(v) for k, v in d.items()}


# ---------------------------------------------------------------------------------------------------- training
def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    from . import runs

    if point["kind"] == "sanity":
        return runs.sanity(cfg, point, data, seeds, device)
    if "steps" in point:
        return runs.train_walk(cfg, point, data, seeds, device)
    return runs.train_regime(cfg, point, data, seeds, device)


def resources(cfg: Config, point: dict) -> dict:
    return {"mem_mb": 8000} if cfg.dataset == "mnist" else {}


# ---------------------------------------------------------------------------------------------------- metrics
def decade_ratio(steps, dist, t: int) -> float:
    """r = [d(t) − d(t/10)] / [d(t/10) − d(t/100)] from a distance curve logged at those steps."""
    d = dict(zip(np.asarray(steps).tolist(), np.asarray(dist, dtype=float).tolist(), strict=True))
    lo, mid, hi = d[t // 100], d[t // 10], d[t]
    return (hi - mid) / (mid - lo) if mid != lo else math.nan


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    rows = []
    for (point, seed), g in runs.groupby(["point", "seed"]):
        if point == "sanity":
            h0 = g[g["metric"].str.startswith("h0_")]
            rows += [(point, seed, m, v) for m, v in zip(h0["metric"], h0["value"], strict=True)]
            rows.append((point, seed, "h0_max", float(h0["value"].max())))
            continue
        sgd = g[g["variant"] == "sgd"]
        acc = sgd[(sgd["split"] == "test") & (sgd["metric"] == "accuracy")].sort_values("step")
        tr = sgd[(sgd["split"] == "train") & (sgd["metric"] == "accuracy")].sort_values("step")
        rows += [
            (point, seed, "acc", float(acc["value"].iloc[-1])),
            (point, seed, "train_acc", tr["value"].iloc[-1]),
        ]
        rows.append((point, seed, "updates", float(acc["step"].iloc[-1])))
        if point == "walk":
            for variant in ("sgd", "walk"):
                d = g[(g["variant"] == variant) & (g["metric"] == "distance")].sort_values("step")
                rows.append((point, seed, f"r_{variant}", decade_ratio(d["step"], d["value"], cfg.h1_steps)))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


# ---------------------------------------------------------------------------------------------------- claims
_PAIRED = "per seed: final test accuracy difference (pp), same initialisation and data order"
CLAIMS = (
    Claim(
        id="H0",
        statement="Ghost BN with ghost = batch is BatchNorm; one call with ghost batches gives the chunked "
        "loop's gradient and running statistics",
        metric="per seed: max absolute difference (float64) over outputs, gradients and running statistics",
        rule=Rule.at_most(1e-5),
        kind="sanity",
        paper_text="main_gbn.py: chunks forwarded separately, gradients summed / number of chunks",
    ),
    Claim(
        id="H1",
        statement="‖w_t − w₀‖ grows logarithmically with the number of updates at constant lr",
        metric="per seed: r = [d(T) − d(T/10)] / [d(T/10) − d(T/100)], T = h1_steps (log growth: 1)",
        rule=Rule.between(0.67, 1.5),
        paper_text="abstract, Fig. 2: logarithmic growth ('ultra-slow diffusion'), qualitative",
        control="isotropic random walk with momentum 0.9 in the same dimension (no landscape): r ≈ √10",
    ),
    Claim(
        id="H2",
        statement="large batches at the same epochs and lr generalise worse than small batches",
        metric=f"{_PAIRED}: SB − LB",
        rule=Rule.at_least(1.0),
        paper_text="Table 1 'LB' below the baseline (values unverified)",
        control="LB with SB's number of updates (+LR+GBN+RA): SB − (LB+LR+GBN+RA)",
    ),
    Claim(
        id="H3",
        statement="with √ lr scaling, Ghost BN and regime adaptation (SB's number of updates) the gap closes",
        metric=f"{_PAIRED}: (LB+LR+GBN+RA) − SB",
        rule=Rule.at_least(-0.5),
        paper_text="abstract: 'can be completely eliminated by adapting the training regime'; Table 1 '+RA'",
        control="the same regime without RA (SB's epochs): (LB+LR+GBN) − SB",
    ),
    Claim(
        id="H4",
        statement="Ghost BN reduces the gap without more updates",
        metric=f"{_PAIRED}: (LB+LR+GBN) − (LB+LR)",
        rule=Rule.at_least(0.0),
        tiers=("full",),
        paper_text="abstract: GBN 'enables significant decrease in the generalization gap'; Table 1 '+GBN'",
        control="ghost = B_L / 2 (no small-batch statistics): (LB+LR+GBN_half) − (LB+LR)",
    ),
)


def _diff(metrics: pd.DataFrame, a: str, b: str) -> pd.Series | None:
    x, y = per_seed(metrics, "acc", a), per_seed(metrics, "acc", b)
    if x.empty or y.empty:
        return None
    return (x - y).dropna()


def measure(metrics: pd.DataFrame, cfg: Config) -> dict:
    out = {
        "H0": per_seed(metrics, "h0_max", "sanity"),
        "H1": per_seed(metrics, "r_sgd", "walk"),
        "H1/control": per_seed(metrics, "r_walk", "walk"),
        "H2": _diff(metrics, "sb", "lb"),
        "H2/control": _diff(metrics, "sb", "lb_lr_gbn_ra"),
        "H3": _diff(metrics, "lb_lr_gbn_ra", "sb"),
        "H3/control": _diff(metrics, "lb_lr_gbn", "sb"),
        "H4": _diff(metrics, "lb_lr_gbn", "lb_lr"),
        "H4/control": _diff(metrics, "lb_lr_gbn_half", "lb_lr"),
    }
    return {k: v for k, v in out.items() if v is not None}


FIGURES = (
    Figure(
        "distance",
        "Paper Fig. 2: ‖w_t − w₀‖ vs log t. Ours: SB at constant lr without wd (mean ± sd over "
        "seeds), the regimes' runs and the random-walk control of the same dimension.",
        figures.distance,
    ),
    Figure(
        "accuracy",
        "Paper Table 1 layout: final test accuracy by regime, mean and 95 % CI over seeds (H5, "
        "LB+LR vs LB, is recorded here, not judged).",
        figures.accuracy,
    ),
    Figure(
        "updates", "Test accuracy vs number of updates for SB, LB+LR+GBN and LB+LR+GBN+RA.", figures.updates
    ),
)
