"""Humayun, Balestriero, Baraniuk 2024 — Deep Networks Always Grok and Here is Why.

ICML 2024, arXiv:2402.15555; official code AhmedImtiazPrio/grok-adversarial.

Claims checked (SUITE.md):

- delayed robustness: adversarial (PGD) accuracy is reached long after the training set is fit — per seed,
  t_rob / t_interp ≥ 10, with t_interp the first logged step with 100 % train accuracy and t_rob the first
  logged step with test PGD accuracy ≥ 0.9 × its final value;
- local complexity (LC, density of linear-region boundaries near the training points) falls, rises, then falls
  again: per seed, final LC ≤ 0.5 × the peak reached after the first minimum.

The paper shows these curves (MNIST MLP, CIFAR-10 CNN/ResNet, Figs. 1, 5–7) and reports no table of t_rob or LC
ratios; ``paper_value`` is left empty.

Looked up (``search``/``read_file`` on AhmedImtiazPrio/grok-adversarial, commits 1767226 and b0b3b33):
``local_complexity.py`` + ``samplers.py`` — P = n/2 orthonormal directions, vertices x ± r·v_p (cross-polytope,
centroid excluded), a neuron counts when ``sign`` of its pre-activation differs between vertices, summed over
layers; ``attacks.py`` — L∞ PGD, α·sign(∇) steps clipped to the ε-ball and the data range, cross-entropy;
``configs.py`` — CIFAR: 40 vertices, r = 0.005, ε = 50/255, α = 4/255, 10 iterations;
``config_base_mnist_mlp``/``train_mlp_mnist.py`` — 1000 MNIST points, batch 200, AdamW lr 1e-3 wd 0.01, MSE on
one-hot targets, every parameter (PyTorch default init) multiplied by the init scale α, width 200, depth =
number of linear layers (4), 50 frame vertices, float64. The paper text (arXiv html v2, Fig. 4 caption) gives
the same LC definition.

Our protocol: scikit-learn digits (standardised, 64-d; no MNIST download in the suite) instead of MNIST, ReLU
(the paper's MNIST MLP; the LC is defined for piecewise-linear nets), one job per init scale α ∈ {1, 8}
(SUITE risk: delayed generalisation may need α = 8), three seeds as ensemble members. The claims are measured
at ``claim_scale`` (α = 8); α = 1 is recorded and drawn. PGD ε and the frame radius r are in standardised
units (ours, the paper's values are for [0, 1] pixels): ε = 0.3, α_PGD = ε/10, 10 steps; r = 0.5 with 20
vertices. LC is measured at ``n_lc`` train points, PGD on the test split.

Runtime (2 shared CPU cores under load ~7, 1 thread per job): smoke 18 s CPU (one α = 8 point, 300 steps,
width 32; 2.4 min wall under that load); quick 3 min 23 s CPU in all, 6.6 min wall under load (two jobs in
parallel, 8000 steps × 3 seeds at width 200, ~22 steps/s each with 30 evaluations of PGD and LC).

Quick-tier result (8000 of the paper's ~1e5 steps): delayed_robustness **inconclusive** — at α = 8 only
seed 0 interpolates (step 5868), the test accuracy stays at chance (0.08–0.13) and the PGD accuracy is 0
for every seed, so t_rob is undefined; lc_double_descent **fails** — at α = 8 LC (62–71 of 600 neurons)
only wanders ±5 % (no 10 % ascent yet). At α = 1 (recorded, not claimed) train/test fit by step ~100, PGD
accuracy peaks at ~0.6 by step 22 (t_rob/t_interp ≈ 0.15–0.21) and LC falls 66–70 → 38–41 with no ascent.
A 30 000-step, one-seed calibration run showed the late phases starting: α = 8 interpolates at ~1e4 steps,
test accuracy climbs to 0.33 by 3e4 (delayed generalisation under way) while LC rises 70 → 80 (the ascent);
α = 1 shows a late LC drop 43 → 22 with PGD accuracy 0.57 → 0.64 between 1e4 and 3e4 steps (a mild
delayed robustness, too small for the 0.9×-final threshold since early PGD accuracy is already 0.59).
The claims need the full tier (2e5 steps, the paper's scale) to be decided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Deep Networks Always Grok and Here is Why",
    authors="Humayun, Balestriero, Baraniuk",
    year=2024,
    arxiv="2402.15555",
    venue="ICML 2024",
    code="https://github.com/AhmedImtiazPrio/grok-adversarial",
)


@dataclass(frozen=True)
class Config:
    seeds: int = 5
    dataset: str = "digits"  # the suite has no MNIST download; paper §4: MNIST
    n_train: int = 1000  # official train_points
    width: int = 200  # official width
    depth: int = 4  # official depth = number of linear layers
    activation: str = "relu"  # paper's MNIST MLP (official config default GeLU)
    init_scales: tuple[float, ...] = (1.0, 8.0)  # official initialization_scale; SUITE: {1, 8}
    claim_scale: float = 8.0  # the init scale the claims are measured at (SUITE risk)
    lr: float = 1e-3  # official AdamW lr
    weight_decay: float = 0.01  # official weight_decay
    batch_size: int = 200  # official batch_size
    steps: int = 200_000  # official MNIST optimization_steps 1e6, logger to 1e5
    log_points: int = 40  # SUITE: ~40 log-spaced evaluations
    pgd_eps: float = 0.3  # ours (standardised units)
    pgd_alpha: float = 0.03  # ours: ε/10 (official CIFAR ε/12.5)
    pgd_steps: int = 10  # official atk_itrs
    n_adv: int = 297  # test points attacked (the whole digits test split)
    lc_radius: float = 0.5  # ours (standardised units)
    lc_directions: int = 10  # P; 2P frame vertices (official CIFAR 40, MNIST 50)
    n_lc: int = 1000  # train points at which LC is measured
    rise: float = 0.1  # ours: LC has passed its first minimum once it rises 10 % above it


TIERS = {
    "smoke": Config(
        seeds=2, n_train=200, width=32, init_scales=(8.0,), steps=300, log_points=10, n_adv=64, n_lc=64
    ),
    "quick": Config(seeds=3, steps=8000, log_points=30, n_adv=150, n_lc=150),
    "full": Config(steps=200_000, lc_directions=25),
}

COST = {"smoke": "18 s CPU", "quick": "3.4 min CPU (2 jobs)", "full": "GPU, 2e5 steps × 2 scales × 5 seeds"}


def grid(cfg: Config) -> dict[str, dict]:
    if cfg.claim_scale not in cfg.init_scales:
        raise ValueError(f"claim_scale {cfg.claim_scale} is not among init_scales {cfg.init_scales}")
    return {_point(a): {"init_scale": float(a)} for a in cfg.init_scales}


def _point(scale: float) -> str:
    return f"alpha{scale:g}"


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets

    d = datasets.load(cfg.dataset, seed=0)
    if cfg.n_train > len(d["y"]):
        raise ValueError(f"n_train {cfg.n_train} > {len(d['y'])} training examples of {cfg.dataset}")
    return {
        "x": d["x"][: cfg.n_train],
        "y": d["y"][: cfg.n_train],
        "x_test": d["x_test"],
        "y_test": d["y_test"],
    }


def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.analysis import robustness
    from reprosuite.engine.models import layers
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    torch.set_flush_denormal(True)
    alpha = float(point["init_scale"])
    x, y = (torch.as_tensor(data[k]).to(device) for k in ("x", "y"))
    x_test, y_test = (torch.as_tensor(data[k]).to(device) for k in ("x_test", "y_test"))
    n_classes = int(max(y.max(), y_test.max())) + 1
    sizes = [x.shape[1]] + [cfg.width] * (cfg.depth - 1) + [n_classes]
    # official: PyTorch's default nn.Linear init, then every parameter (biases too) times α
    model = layers.EnsembleMLP(
        sizes,
        seeds,
        activation=cfg.activation,
        init="uniform_fan_in",
        bias_init="uniform_fan_in",
        device=device,
    )
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(alpha)
    targets = torch.nn.functional.one_hot(y, n_classes).to(x.dtype)  # official loss: MSE on one-hot
    stream = fn.MinibatchStream(len(y), cfg.batch_size, seeds, device)
    lo, hi = float(x.min()), float(x.max())
    x_adv, y_adv = x_test[: cfg.n_adv], y_test[: cfg.n_adv]
    x_lc = x[: cfg.n_lc]
    directions = robustness.orthonormal_directions(
        x.shape[1], cfg.lc_directions, torch.Generator().manual_seed(0)
    )

    def loss_fn(step: int) -> torch.Tensor:
        idx = stream.at(step)  # (S, B)
        out = model(x[idx])  # (S, B, C)
        return ((out - targets[idx]) ** 2).mean(dim=(1, 2))

    def evaluate(step: int) -> dict[tuple[str, str], torch.Tensor]:
        out, out_test = model(x), model(x_test)
        return {
            ("train", "loss"): fn.mse(out, targets),
            ("train", "accuracy"): fn.accuracy(out, y),
            ("test", "accuracy"): fn.accuracy(out_test, y_test),
            ("test", "pgd_accuracy"): robustness.adversarial_accuracy(
                model, x_adv, y_adv, cfg.pgd_eps, cfg.pgd_alpha, cfg.pgd_steps, lo, hi
            ),
            ("train", "lc"): robustness.local_complexity(model, x_lc, cfg.lc_radius, directions)
            .to(torch.float64)
            .mean(dim=1),
        }

    opt = optim.AdamW(list(model.parameters()), lr=cfg.lr, weight_decay=cfg.weight_decay)
    log_steps = trainer.log_schedule(cfg.steps, cfg.log_points, spacing="log")
    history = trainer.fit(loss_fn, opt, cfg.steps, evaluate, log_steps, label=f"grok-lc α={alpha:g}")
    return history.frame(seeds)


# ---------------------------------------------------------------------------------------------------- metrics
def first_step(steps: np.ndarray, ok: np.ndarray) -> float:
    """The first logged step where ``ok`` holds (NaN if never)."""
    hits = np.flatnonzero(ok)
    return float(steps[hits[0]]) if hits.size else math.nan


def robustness_delay(steps, train_acc, pgd_acc) -> tuple[float, float, float]:
    """(t_interp, t_rob, t_rob / t_interp) of one run's curves (sorted by step).

    A run whose final PGD accuracy is 0 never became robust: its t_rob (and the ratio) is NaN, not step 0.
    """
    steps, train_acc, pgd_acc = (np.asarray(a, dtype=float) for a in (steps, train_acc, pgd_acc))
    t_interp = first_step(steps, train_acc >= 1.0)
    t_rob = first_step(steps, pgd_acc >= 0.9 * pgd_acc[-1]) if pgd_acc[-1] > 0 else math.nan
    ratio = t_rob / t_interp if t_interp > 0 else math.nan
    return t_interp, t_rob, ratio


def lc_descent_ascent_descent(lc, rise: float) -> tuple[float, float, float]:
    """(first minimum, peak after it, final / peak) of an LC curve.

    The first minimum is the running minimum at the first step where LC climbs ``rise`` above it; with no such
    climb there is no ascent and final / peak is +inf (the claim cannot hold).
    """
    lc = np.asarray(lc, dtype=float)
    best, at = lc[0], 0
    for i, v in enumerate(lc):
        if v < best:
            best, at = v, i
        elif v > (1 + rise) * best:
            peak = float(lc[at:].max())
            return float(best), peak, float(lc[-1] / peak)
    return float(best), math.nan, math.inf


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (init-scale point, seed): t_interp, t_rob, their ratio, LC minimum/peak/final ratio, final accuracies."""
    rows = []
    runs = runs[runs["metric"] != "diverged_at"]
    for (point, seed), member in runs.groupby(["point", "seed"]):
        curves = member.pivot_table(index="step", columns=["split", "metric"], values="value").sort_index()
        steps = curves.index.to_numpy()
        t_interp, t_rob, ratio = robustness_delay(
            steps, curves["train", "accuracy"], curves["test", "pgd_accuracy"]
        )
        lc_min, lc_peak, lc_ratio = lc_descent_ascent_descent(curves["train", "lc"], cfg.rise)
        values = {
            "t_interp": t_interp,
            "t_rob": t_rob,
            "rob_delay": ratio,
            "lc_min": lc_min,
            "lc_peak": lc_peak,
            "lc_final_over_peak": lc_ratio,
            "final_train_acc": curves["train", "accuracy"].iloc[-1],
            "final_test_acc": curves["test", "accuracy"].iloc[-1],
            "final_pgd_acc": curves["test", "pgd_accuracy"].iloc[-1],
        }
        rows += [(point, seed, k, float(v)) for k, v in values.items()]
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


# ---------------------------------------------------------------------------------------------------- claims
CLAIMS = (
    Claim(
        id="delayed_robustness",
        statement="adversarial robustness appears long after the training set is fit (delayed robustness)",
        metric="t_rob / t_interp at the claim init scale (t_rob: PGD acc ≥ 0.9× final; t_interp: 100 % train)",
        rule=Rule.at_least(10.0),
        paper_text="PGD accuracy rises 1–2 decades of steps after interpolation (MNIST MLP, CIFAR CNN/ResNet)",
    ),
    Claim(
        id="lc_double_descent",
        statement="local complexity at the training points falls, rises, then falls again",
        metric="final LC / LC peak after the first minimum at the claim init scale",
        rule=Rule.at_most(0.5),
        paper_text="three phases: descent, ascent, then region migration lowers LC near the data",
    ),
)


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    at = metrics[metrics["point"] == _point(cfg.claim_scale)].set_index(["metric", "seed"])["value"]
    seeds = sorted(metrics["seed"].unique())
    return {
        "delayed_robustness": [float(at.get(("rob_delay", s), np.nan)) for s in seeds],
        "lc_double_descent": [float(at.get(("lc_final_over_peak", s), np.nan)) for s in seeds],
    }


# ---------------------------------------------------------------------------------------------------- figures
def draw_curves(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    runs = runs[runs["metric"] != "diverged_at"].copy()
    runs["curve"] = runs["split"] + " " + runs["metric"]
    runs["x"] = runs["step"] + 1
    points = sorted(runs["point"].unique())
    fig, axes = plt.subplots(2, len(points), figsize=(5 * len(points), 6.5), squeeze=False, sharex=True)
    for j, point in enumerate(points):
        part = runs[runs["point"] == point]
        acc = part[part["metric"].isin(["accuracy", "pgd_accuracy"])]
        sns.lineplot(acc, x="x", y="value", hue="curve", errorbar=("pi", 100), ax=axes[0, j])
        axes[0, j].set(xscale="log", ylabel="accuracy", title=f"{point}")
        lc = part[part["metric"] == "lc"]
        sns.lineplot(lc, x="x", y="value", units="seed", estimator=None, color="purple", ax=axes[1, j])
        axes[1, j].set(xscale="log", xlabel="step + 1", ylabel="local complexity (train)")
        m = metrics[metrics["point"] == point].set_index(["metric", "seed"])["value"]
        for metric, colour in (("t_interp", "k"), ("t_rob", "r")):
            for t in m.xs(metric, level="metric").dropna():
                for ax in axes[:, j]:
                    ax.axvline(t + 1, color=colour, lw=0.6, ls="--")
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        name="accuracy_lc",
        caption=(
            "Paper (Figs. 1, 5–7): train/test accuracy interpolate early, PGD accuracy rises much later (delayed "
            "robustness) while the local complexity at training points falls, rises and falls again. Ours: "
            "digits MLP per init scale, train/test/PGD accuracy (seed range) and LC per seed vs step (log x); "
            "dashed: t_interp (black) and t_rob (red) per seed."
        ),
        draw=draw_curves,
    ),
)
