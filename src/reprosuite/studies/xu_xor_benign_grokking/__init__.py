"""Xu, Wang, Frei, Vardi, Hu 2023 — benign overfitting and grokking of a two-layer ReLU net on XOR clusters.

Paper: "Benign Overfitting and Grokking in ReLU Networks for XOR Cluster Data", arXiv:2310.02541 (ICLR 2024).
No official code is listed.

Claims (abstract): on XOR cluster data with a constant fraction of flipped training labels, "after the first step
of GD, the network achieves 100% training accuracy, perfectly fitting the noisy labels", with "near-random test
accuracy"; "at a later training step, the network achieves near-optimal test accuracy while still fitting the
random labels" (benign overfitting, reached by grokking).
Pass rules: step-1 noisy-label training accuracy = 1; step-1 clean test accuracy ≤ 0.6 (ours: chance plus the
spread of 1000 test points and the weak step-1 signal); at the last step clean test accuracy ≥ 0.95 (ours: near
the Bayes accuracy, ≈ 1 at ‖μ‖ = 15) while the noisy-label training accuracy is still 1. We also record the
first step at which the clean test accuracy reaches 0.95.

Setup (paper §2; :mod:`.model`): clusters ±μ1 (clean label +1) and ±μ2 (−1), μ1 ⊥ μ2, ‖μ1‖ = ‖μ2‖, x = mean +
N(0, I_d), each training label flipped with probability η; f(x) = Σ_j a_j ReLU(⟨w_j, x⟩) with fixed readouts
a_j ∈ {±1/√m}, first layer N(0, ω²), logistic loss, full-batch GD. We could read the abstract and the OpenReview
reviews, not the experiments section: d 2000, n 100, ‖μ‖ 15, η 0.15, m 200, ω² = 1e-12 and lr 0.1 are our
calibration (ω² read as a variance; ω = 1e-6 and 1e-12 give accuracies within 0.003 at every logged step, as
the first step moves W by O(lr·‖x‖) ≫ ω).

Ours: each seed draws its own training and clean test sets; all seeds of one d form one batched job. At d 2000,
n 100, ‖μ‖ 15 the step-1 fit is marginal: after one step from a tiny init the net is ≈ the linear classifier
Σ_k ỹ_k x_k gated per neuron, whose self term ‖ξ_i‖² ≈ d competes with √n‖μ‖² = 2250 (step-1 fit on 8 of 20
seeds at d 2000, on 20 of 20 at d 5000 and 10000). ``extra_dims`` adds larger d as a diagnostic (figure only).

Tiers: full = 10 seeds, 1000 steps, d ∈ {2000, 5000, 10000}, 1000 test points per seed; quick = 3 seeds, 200
steps, d ∈ {2000, 5000}; smoke = 2 seeds, 40 steps, d 2000, 300 test points.
Cost (2 cores): smoke ≈ 9 s in-process; quick ≈ 50 CPU-s (20 CPU-s of training); full not measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reprosuite import claims
from reprosuite.claims import Claim, Rule
from reprosuite.metrics import curves
from reprosuite.study import Figure, Paper

from . import model as xc

PAPER = Paper(
    title="Benign Overfitting and Grokking in ReLU Networks for XOR Cluster Data",
    authors="Xu, Wang, Frei, Vardi, Hu",
    year=2023,
    arxiv="2310.02541",
    venue="ICLR 2024",
)

# Measured cost per tier (2-core CPU unless stated; see the docstring), shown by `reprosuite list`.
COST = {
    "smoke": "~9 s (in-process, with start-up)",
    "quick": "~50 CPU-s (20 CPU-s training)",
    "full": "not measured",
}

GROK_LEVEL = 0.95  # ours: clean test accuracy counted as near-optimal (docstring)


@dataclass(frozen=True)
class Config:
    # Paper §2 defines the data, network and training; the values are our calibration (docstring), not stated
    # in the text we could read.
    seeds: int = 10  # draws of training set, test set and initialisation; not stated; ours
    d: int = 2000  # input dimension at which the claims are measured
    n: int = 100  # training examples
    mu_norm: float = 15.0  # ‖μ1‖ = ‖μ2‖
    flip: float = 0.15  # label-flip probability η
    width: int = 200  # m ReLU neurons (fixed readout ±1/√m)
    init_var: float = 1e-12  # ω², the variance of the first layer's N(0, ω²) init
    lr: float = 0.1  # full-batch GD on the logistic loss
    steps: int = 1000  # "a later training step"; ours
    n_test: int = 1000  # ours: clean test points per seed
    extra_dims: tuple[int, ...] = (5000, 10000)  # ours: diagnostic dimensions (grid points without claims)
    log_points: int = 60  # ours: logged steps (log-spaced; 1, 2, 3, … included)


QUICK = replace(Config(), seeds=3, steps=200, extra_dims=(5000,), log_points=40)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=2, steps=40, n_test=300, extra_dims=(), log_points=15),
}
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "steps": "2-core CPU budget: the clean test accuracy at d 2000 is near 1 by step 200",
    "extra_dims": "2-core CPU budget: d 10000 (quick) and every diagnostic dimension (smoke) left out",
    "log_points": "fewer logged steps over a shorter run",
    "n_test": "smoke: seconds, for tests",
}

CLAIMS = (
    Claim(
        "step1_fits_noisy_labels",
        "After the first GD step the net fits the noisy training labels: training accuracy 100 %.",
        metric="noisy-label training accuracy after 1 step, per seed",
        rule=Rule.at_least(1.0),
        paper_value=1.0,
        paper_text="after the first step of GD, the network achieves 100% training accuracy (abstract)",
    ),
    Claim(
        "step1_test_near_chance",
        "After the first GD step the clean test accuracy is near random (≤ 0.6).",
        metric="clean test accuracy after 1 step, per seed",
        rule=Rule.at_most(0.6),
        paper_value=0.5,
        paper_text="but achieves near-random test accuracy (abstract)",
    ),
    Claim(
        "later_test_near_optimal",
        "Later in training the clean test accuracy is near-optimal (≥ 0.95).",
        metric="clean test accuracy at the last step, per seed",
        rule=Rule.at_least(GROK_LEVEL),
        paper_text="at a later training step, the network achieves near-optimal test accuracy (abstract)",
    ),
    Claim(
        "later_still_fits_noisy_labels",
        "At that later step the net still fits every noisy (incl. flipped) training label.",
        metric="noisy-label training accuracy at the last step, per seed",
        rule=Rule.at_least(1.0),
        paper_value=1.0,
        paper_text="while still fitting the random labels in the training data (abstract)",
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def dims(cfg: Config) -> list[int]:
    return sorted({cfg.d, *cfg.extra_dims})


def grid(cfg: Config) -> dict[str, dict]:
    return {f"d{d}": {"d": d} for d in dims(cfg)}


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The cluster means (2, max d); a point of dimension d uses the first d coordinates (still orthogonal, same
    norm). The samples are drawn per seed in ``train`` (``xor_clusters.data_rng``): independent replications."""
    return {"mu": xc.cluster_means(max(dims(cfg)), cfg.mu_norm)}


def seed_data(cfg: Config, mu: np.ndarray, seed: int) -> tuple[dict, dict]:
    """The training set (noisy labels) and clean test set of one seed."""
    rng = xc.data_rng(seed)
    return xc.sample(mu, cfg.n, cfg.flip, rng), xc.sample(mu, cfg.n_test, 0.0, rng)


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import optim, trainer

    torch.set_flush_denormal(True)
    d = int(point["d"])
    mu = np.asarray(data["mu"])[:, :d]
    sets = [seed_data(cfg, mu, s) for s in seeds]

    def stack(split: int, key: str, dtype=torch.float32):
        return torch.as_tensor(np.stack([s[split][key] for s in sets])).to(device=device, dtype=dtype)

    x, y_noisy, flipped = stack(0, "x"), stack(0, "y_noisy"), stack(0, "flipped", torch.bool)
    x_test, y_test = stack(1, "x"), stack(1, "y")
    w, a = xc.init_params(seeds, cfg.width, d, math.sqrt(cfg.init_var), device=device)
    opt = optim.SGD([w], lr=cfg.lr)

    def loss_fn(step: int):
        return xc.logistic_loss(xc.forward(w, a, x), y_noisy)

    def evaluate(step: int):
        f = xc.forward(w, a, x)
        return {
            ("train", "loss"): xc.logistic_loss(f, y_noisy),
            ("train", "accuracy"): xc.sign_accuracy(f, y_noisy),
            ("train", "accuracy_flipped"): xc.sign_accuracy(f, y_noisy, flipped),
            ("train", "accuracy_unflipped"): xc.sign_accuracy(f, y_noisy, ~flipped),
            ("test", "accuracy"): xc.sign_accuracy(xc.forward(w, a, x_test), y_test),
        }

    history = trainer.fit(
        loss_fn, opt, cfg.steps, evaluate, trainer.log_schedule(cfg.steps, cfg.log_points), label=f"xor d{d}"
    )
    runs = history.frame(seeds)
    n_flipped = pd.DataFrame(
        {
            "variant": "",
            "seed": seeds,
            "step": 0,
            "split": "train",
            "metric": "n_flipped",
            "value": [float(s[0]["flipped"].sum()) for s in sets],
        }
    )
    return pd.concat([runs, n_flipped], ignore_index=True)


# --- metrics ----------------------------------------------------------------------------------------------


def _curve(runs: pd.DataFrame, split: str, metric: str) -> pd.DataFrame:
    sel = runs[(runs["split"] == split) & (runs["metric"] == metric)]
    return sel[["point", "seed", "step", "value"]]


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    rows = []
    for (point, seed), g in runs.groupby(["point", "seed"]):
        by = {
            (sp, me): s.set_index("step")["value"].sort_index()
            for (sp, me), s in g.groupby(["split", "metric"])
        }
        train_acc, test_acc = by["train", "accuracy"], by["test", "accuracy"]
        last = int(train_acc.index.max())
        rows += [
            (point, seed, "step1_train_accuracy", train_acc.get(1, math.nan)),
            (point, seed, "step1_test_accuracy", test_acc.get(1, math.nan)),
            (point, seed, "step1_flipped_accuracy", by["train", "accuracy_flipped"].get(1, math.nan)),
            (point, seed, "final_train_accuracy", train_acc[last]),
            (point, seed, "final_flipped_accuracy", by["train", "accuracy_flipped"][last]),
            (point, seed, "final_test_accuracy", test_acc[last]),
            (point, seed, "diverged", float(by["train", "diverged_at"].notna().any())),
        ]
        trained = test_acc[test_acc.index >= 1]
        rows.append((point, seed, "grok_step", curves.first_reaching(trained.index, trained, GROK_LEVEL)))
        if ("train", "n_flipped") in by:
            rows.append((point, seed, "n_flipped", float(by["train", "n_flipped"].iloc[0])))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


CLAIM_METRICS = {
    "step1_fits_noisy_labels": "step1_train_accuracy",
    "step1_test_near_chance": "step1_test_accuracy",
    "later_test_near_optimal": "final_test_accuracy",
    "later_still_fits_noisy_labels": "final_train_accuracy",
}


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out = {}
    for claim, metric in CLAIM_METRICS.items():
        values = claims.per_seed(metrics, metric, f"d{cfg.d}")
        if not values.empty:
            out[claim] = values.tolist()
    return out


# --- figures ----------------------------------------------------------------------------------------------

CURVES = (
    ("train", "accuracy", "train, noisy labels"),
    ("train", "accuracy_flipped", "train, flipped examples"),
    ("test", "accuracy", "clean test"),
)


def draw_accuracy(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    points = sorted(runs["point"].unique(), key=lambda p: int(p.removeprefix("d")))
    fig, axes = plt.subplots(1, len(points), figsize=(5.2 * len(points), 3.8), squeeze=False, sharey=True)
    for ax, point in zip(axes[0], points, strict=True):
        parts = []
        for split, metric, label in CURVES:
            c = _curve(runs[runs["point"] == point], split, metric)
            parts.append(c[c["step"] >= 1].assign(curve=label))
        data = pd.concat(parts, ignore_index=True)
        sns.lineplot(data=data, x="step", y="value", hue="curve", units="seed", estimator=None, lw=1, ax=ax)
        ax.axvline(1, color="grey", ls=":", lw=1)
        ax.axhline(0.5, color="grey", ls="--", lw=0.8)
        ax.set(
            xscale="log", xlabel="GD step", ylabel="accuracy", title=f"{point}: d = {point[1:]}, n = {cfg.n}"
        )
        ax.legend(fontsize=7, loc="lower right")
    return fig


FIGURES = (
    Figure(
        "accuracy_vs_step",
        "Paper (abstract, its training-curve figure): after one GD step the net fits the noisy training labels "
        "with near-random test accuracy, and later reaches near-optimal test accuracy while still fitting the "
        "flipped labels. Ours: noisy-label training accuracy, accuracy on the flipped examples alone and clean "
        "test accuracy vs GD step (log scale, one line per seed; dotted line: step 1; dashed: chance), one panel "
        "per input dimension d (the claims are measured at d = 2000; larger d is the theory's regime).",
        draw_accuracy,
    ),
)
