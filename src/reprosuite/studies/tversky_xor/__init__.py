"""Doumbouya, Jurafsky, Manning 2025 — one Tversky projection layer represents XOR.

Paper: "Tversky Neural Networks: Psychologically Plausible Deep Learning with Differentiable Tversky
Similarity", arXiv:2506.11035 (ICLR 2026); official library mdoumbouya/tversky (the paper's experiment code is
mdoumbouya/tversky-networks-iclr2026, not in our index).

Claims (SUITE.md): a single Tversky projection layer — features Ω, prototypes Π, similarity
S = θ f(X∩Π) − α f(X−Π) − β f(Π−X) (:mod:`reprosuite.studies.tversky_xor.model`) — represents XOR, which a single linear
layer cannot (abstract: "unlike the linear projection layer can model non-linear functions such as xor");
gradient descent learns it under some settings and fails under others (the paper's XOR grid of intersection
and difference reductions, feature counts and initialisations).

Pass rules (SUITE.md): (1) the linear baseline never exceeds 0.75 accuracy on any seed (XOR is not linearly
separable: 3 of 4 points at best); (2) a hand-built Tversky solution reaches 100 % under every reduction;
(3) at least one setting of the grid converges (100 % training accuracy) on every seed; (4) the overall
success rate lies in [0.1, 0.7] — reviewers cite 47–77 % failure (SUITE.md, unverified).

The hand-built solution (ours): features f₀ = (1, −2), f₁ = (−2, 1), so on {0,1}² only (1,0) has f₀ and only
(0,1) has f₁, while (0,0) and (1,1) have no feature; prototypes π₀ = (1, 1) (no feature) and π₁ = (−1, −1)
(both, salience 1 each); θ = 2, α = β = 1. Then S(x, π₀) − S(x, π₁) = 2 for (0,0) and (1,1) and
−2·f(X∩Π₁) < 0 for the others, under every reduction: XOR is "has one of the two features".

Looked up (search tool): the official ``differentiable_tversky_v2.py`` (reductions and their exact formulas,
including gmean's log 0 and substractmatch's comparison of summed saliences) and ``nn.py`` (θ, α, β
initialised 1, 0.5, 0.5; features and prototypes ``nn.init.uniform_``, i.e. U(0, 1); threshold 0). The XOR
protocol is third-party (jeffreyksmithjr/verskyt ``benchmarks/xor_suite.py``, which states it reproduces the
paper): data {0,1}² with labels 0,1,1,0, cross-entropy on the similarities, Adam lr 0.1, 1000 full-batch
epochs, converged = 100 % accuracy (here: every point's true class wins by a margin > 1e-4, ``TIE_TOL``:
at the linear layer's constant-predictor optimum float32 ties otherwise score 4/4 by chance); its full replication grid (6 intersections × 2 differences × normalise ×
features {1,2,4,8,16,32} × 3 inits × 9 seeds) and per-reduction targets (product+substractmatch 53 %,
mean+substractmatch 51 %, max+ignorematch 47 %, gmean 0 %) are unverified against the paper text, which we
could not read beyond its abstract. It also reports that uniform initialisation converges more often than
normal, and 16 features best (verskyt docs, unverified).

Protocol. quick = SUITE.md grid: intersection {product, mean, max, gmean} × difference {ignorematch,
substractmatch} × features {1, 4, 16, 32} × init {uniform, normal} × 3 seeds, Adam (AdamW, weight decay 0)
lr 0.1, 1000 epochs, all 64 settings × seeds of one intersection batched in one job; linear baseline =
nn.Linear(2, 2) at lr {0.01, 0.1, 1}. full = the larger grid above (6 × 2 × 2 × 6 × 2 × 9). A ``gmean``
member always diverges at the first step: (0, 0) shares no feature with any prototype, so log 0 gives a NaN
gradient (as in the official code); it counts as not converged.

Measured (2 CPU cores shared with other workers, load 5–8, 1 thread per job; start-up ≈ 3.5 CPU-s per
process): smoke ≈ 26 CPU-s / 43 s wall for the whole pipeline (2 training jobs, ~2 CPU-s of training); quick ≈ 58
CPU-s / 155 s wall (5 training jobs, 5–9 CPU-s each; ≈ 40 s wall on an idle 2-core machine). Quick results:
linear baseline max accuracy 0.75 on every seed; hand-built 1.0; 4 of 64 settings converge on all 3 seeds
(max/substractmatch f1 uniform and f32 normal, mean/substractmatch f4 uniform, product/ignorematch f4
uniform); success rate 0.33 [0.12, 0.55] (per seed 0.42, 0.33, 0.25; product 0.29, mean 0.44, max 0.60,
gmean 0; ignorematch 0.26 vs substractmatch 0.41; uniform 0.43 vs normal 0.24). All four claims pass.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Tversky Neural Networks: Psychologically Plausible Deep Learning with Differentiable Tversky Similarity",
    authors="Doumbouya, Jurafsky, Manning",
    year=2025,
    arxiv="2506.11035",
    venue="ICLR 2026",
    code="https://github.com/mdoumbouya/tversky",
)

# Measured cost per tier (2-core CPU unless stated; see the docstring), shown by `reprosuite list`.
COST = {"smoke": "~26 CPU-s", "quick": "~58 CPU-s", "full": "not measured"}

# The hand-built XOR solution (module docstring): features, prototypes (class 0, class 1), θ, α, β.
HANDBUILT_FEATURES = ((1.0, -2.0), (-2.0, 1.0))
HANDBUILT_PROTOTYPES = ((1.0, 1.0), (-1.0, -1.0))
HANDBUILT_THETA, HANDBUILT_ALPHA, HANDBUILT_BETA = 2.0, 1.0, 1.0
# A point counts as classified only if its true class wins by more than this margin. Cross-entropy drives a
# linear layer on XOR to the constant predictor (all logits equal, loss log 2), where float32 rounding of
# equal logits otherwise "classifies" all four points at random (seen: accuracy 1.0 at one step of 1000).
TIE_TOL = 1e-4


@dataclass(frozen=True)
class Config:
    seeds: int
    # The paper's XOR experiment (its §3.1 per verskyt's xor_suite, whose protocol we follow; see the docstring).
    intersections: tuple[str, ...]
    differences: tuple[str, ...]
    feature_counts: tuple[int, ...]
    inits: tuple[str, ...]  # features and prototypes: uniform U(0, 1) (official) or normal N(0, 1)
    normalize: tuple[bool, ...]  # the official ``normalize`` flag (unit-length inputs and prototypes)
    epochs: int  # full-batch steps on the 4 XOR points
    lr: float  # Adam
    theta: float = 1.0  # official initial θ, α, β (nn.py)
    alpha: float = 0.5
    beta: float = 0.5
    baseline_lrs: tuple[float, ...] = (0.01, 0.1, 1.0)  # the linear layer, Adam
    log_points: int = 60
    region_points: int = 41  # decision-region grid per axis over [−0.5, 1.5]²


TIERS = {
    "smoke": Config(
        seeds=2,
        intersections=("max",),
        differences=("ignorematch", "substractmatch"),
        feature_counts=(4, 16),
        inits=("uniform",),
        normalize=(False,),
        epochs=300,
        lr=0.1,
        log_points=20,
        region_points=21,
    ),
    "quick": Config(
        seeds=3,
        intersections=("product", "mean", "max", "gmean"),
        differences=("ignorematch", "substractmatch"),
        feature_counts=(1, 4, 16, 32),
        inits=("uniform", "normal"),
        normalize=(False,),
        epochs=1000,
        lr=0.1,
    ),
    "full": Config(
        seeds=9,
        intersections=("product", "min", "max", "mean", "gmean", "softmin"),
        differences=("ignorematch", "substractmatch"),
        feature_counts=(1, 2, 4, 8, 16, 32),
        inits=("uniform", "normal"),
        normalize=(False, True),
        epochs=1000,
        lr=0.1,
    ),
}

CLAIMS = (
    Claim(
        "linear_cannot",
        "A single linear layer cannot represent XOR: its accuracy never exceeds 3/4 during training.",
        metric="max accuracy (margin > 1e-4) over training steps and learning rates, per seed",
        rule=Rule.at_most(0.75),
        paper_value=0.75,
        paper_text="a linear projection cannot model xor (abstract); 3 of 4 points at best",
    ),
    Claim(
        "tversky_represents",
        "A hand-built single Tversky projection layer classifies XOR perfectly under every reduction.",
        metric="min accuracy over intersection × difference reductions (deterministic: one value)",
        rule=Rule.at_least(1.0),
        paper_value=1.0,
        paper_text="the Tversky projection layer can model xor (abstract, Fig. 1)",
    ),
    Claim(
        "some_setting_learns",
        "Gradient descent learns XOR reliably in some settings: ≥ 1 setting converges on every seed.",
        metric="number of grid settings reaching 100 % accuracy on all seeds (one value)",
        rule=Rule.at_least(1.0),
        paper_text="convergence depends on reductions, feature count and init (paper's XOR grid)",
    ),
    Claim(
        "success_rate",
        "Gradient descent fails in a sizeable share of settings: the overall success rate is in [0.1, 0.7].",
        metric="fraction of grid settings converging, per seed",
        rule=Rule.between(0.1, 0.7),
        paper_text="reviewers cite 47–77 % failure (unverified); verskyt: 0–53 % per reduction",
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The four XOR points of {0,1}² and their labels, and the decision-region grid."""
    axis = np.linspace(-0.5, 1.5, cfg.region_points)
    gx, gy = np.meshgrid(axis, axis)
    return {
        "x": np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
        "y": np.array([0, 1, 1, 0], dtype=np.int64),
        "region": np.stack([gx.ravel(), gy.ravel()], axis=1),  # row-major over (y, x)
    }


def grid(cfg: Config) -> dict[str, dict]:
    points = {f"tversky-{inter}": {"kind": "tversky", "intersection": inter} for inter in cfg.intersections}
    points["reference"] = {"kind": "reference"}
    return points


def settings(cfg: Config, intersection: str) -> list[dict]:
    """The grid settings of one intersection reduction, each with its name (the run's ``variant``)."""
    out = []
    for diff, count, init, norm in itertools.product(
        cfg.differences, cfg.feature_counts, cfg.inits, cfg.normalize
    ):
        name = f"{intersection}-{diff}-f{count}-{init}" + ("-norm" if norm else "")
        out.append({"name": name, "difference": diff, "n_features": count, "init": init, "normalize": norm})
    return out


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    if point["kind"] == "tversky":
        return _train_tversky(cfg, point["intersection"], data, seeds, device)
    return _reference(cfg, data, seeds, device)


def decided_accuracy(logits, y):
    """Per member (S,): fraction of points whose true logit beats every other by more than ``TIE_TOL``."""
    import torch

    own = torch.nn.functional.one_hot(y, logits.shape[-1]).bool().expand_as(logits)
    true = logits.masked_fill(~own, -torch.inf).amax(-1)
    other = logits.masked_fill(own, -torch.inf).amax(-1)
    return ((true - other) > TIE_TOL).to(logits.dtype).mean(-1)


def _region_rows(margin, variant: str, seed: int) -> pd.DataFrame:
    """Score margin S(x, π₁) − S(x, π₀) over the region grid; ``step`` indexes the grid point (row-major)."""
    values = margin.detach().double().cpu().numpy()
    return pd.DataFrame(
        {
            "variant": variant,
            "seed": seed,
            "step": np.arange(values.size),
            "split": "region",
            "metric": "margin",
            "value": values,
        }
    )


def _train_tversky(cfg: Config, intersection: str, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    from . import model as tversky

    x, y = torch.as_tensor(data["x"], dtype=torch.float32), torch.as_tensor(data["y"])
    x, y = x.to(device), y.to(device)
    members = [(st, seed) for st in settings(cfg, intersection) for seed in seeds]
    layer = tversky.EnsembleTverskyProjection(
        2,
        2,
        [seed for _, seed in members],
        n_features=[st["n_features"] for st, _ in members],
        intersection=intersection,
        difference=[st["difference"] for st, _ in members],
        init=[st["init"] for st, _ in members],
        normalize=[st["normalize"] for st, _ in members],
        theta=cfg.theta,
        alpha=cfg.alpha,
        beta=cfg.beta,
        device=device,
    )
    opt = optim.AdamW(list(layer.parameters()), lr=cfg.lr, weight_decay=0.0)

    def evaluate(step):
        logits = layer(x)
        return {
            ("train", "loss"): fn.cross_entropy(logits, y),
            ("train", "accuracy"): decided_accuracy(logits, y),
        }

    history = trainer.fit(
        lambda step: fn.cross_entropy(layer(x), y),
        opt,
        cfg.epochs,
        evaluate,
        trainer.log_schedule(cfg.epochs, cfg.log_points),
        label=f"tversky {intersection}",
    )
    runs = history.frame([s for _, s in members], [st["name"] for st, _ in members])
    # decision regions of the first member that learned XOR (if any)
    with torch.no_grad():
        accuracy = decided_accuracy(layer(x), y)
        learned = ((accuracy == 1) & opt.active).nonzero().flatten().tolist()
        if learned:
            i = learned[0]
            scores = layer(torch.as_tensor(data["region"], dtype=torch.float32, device=device))[i]
            runs = pd.concat(
                [runs, _region_rows(scores[:, 1] - scores[:, 0], members[i][0]["name"], members[i][1])],
                ignore_index=True,
            )
    return runs


def _handbuilt_scores(x, intersection: str, difference: str):
    """Similarities (B, 2) of the hand-built solution under one pair of reductions."""
    import torch

    from . import model as tversky

    alpha, beta, theta = torch.tensor([[HANDBUILT_ALPHA], [HANDBUILT_BETA], [HANDBUILT_THETA]]).double()
    return tversky.contrast_similarity(
        x.double().cpu(),  # the hand-built solution is fixed: scored on CPU whatever the training device
        torch.tensor([HANDBUILT_PROTOTYPES], dtype=torch.float64),
        torch.tensor([HANDBUILT_FEATURES], dtype=torch.float64),
        alpha,
        beta,
        theta,
        intersection,
        difference,
    )[0]


def _reference(cfg: Config, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """The linear-layer baseline (trained, every step logged) and the hand-built Tversky solution."""
    import torch

    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    from . import model as tversky

    x, y = torch.as_tensor(data["x"], dtype=torch.float32), torch.as_tensor(data["y"])
    x, y = x.to(device), y.to(device)
    members = [(lr, seed) for lr in cfg.baseline_lrs for seed in seeds]
    model = tversky.linear_baseline(2, 2, [s for _, s in members], device=device)
    opt = optim.AdamW(list(model.parameters()), lr=[lr for lr, _ in members], weight_decay=0.0)

    def evaluate(step):
        logits = model(x)
        return {
            ("train", "loss"): fn.cross_entropy(logits, y),
            ("train", "accuracy"): decided_accuracy(logits, y),
        }

    history = trainer.fit(
        lambda step: fn.cross_entropy(model(x), y),
        opt,
        cfg.epochs,
        evaluate,
        range(cfg.epochs + 1),  # every step: the claim is about the best accuracy ever reached
        label="xor linear",
    )
    parts = [history.frame([s for _, s in members], [f"linear-lr{lr:g}" for lr, _ in members])]
    region = torch.as_tensor(data["region"], dtype=torch.float32, device=device)
    with torch.no_grad():
        scores = model(region)[cfg.baseline_lrs.index(0.1) * len(seeds) if 0.1 in cfg.baseline_lrs else 0]
        parts.append(_region_rows(scores[:, 1] - scores[:, 0], "linear", seeds[0]))
        for inter in tversky.INTERSECTIONS:
            for diff in tversky.DIFFERENCES:
                logits = _handbuilt_scores(x, inter, diff).unsqueeze(0)
                acc = float(decided_accuracy(logits, y.cpu())[0])
                parts.append(
                    pd.DataFrame(
                        {
                            "variant": [f"handbuilt-{inter}-{diff}"],
                            "seed": [seeds[0]],
                            "step": [0],
                            "split": ["train"],
                            "metric": ["accuracy"],
                            "value": [acc],
                        }
                    )
                )
        scores = _handbuilt_scores(region, "product", "ignorematch")
        parts.append(_region_rows(scores[:, 1] - scores[:, 0], "handbuilt", seeds[0]))
    return pd.concat(parts, ignore_index=True)


# --- metrics ----------------------------------------------------------------------------------------------


def final_accuracy(runs: pd.DataFrame) -> pd.DataFrame:
    """Per Tversky member (point, variant, seed): final accuracy and converged (100 %, never diverged)."""
    tv = runs[runs["point"].str.startswith("tversky-") & (runs["split"] == "train")]
    acc = tv[tv["metric"] == "accuracy"]
    last = acc[acc["step"] == acc.groupby("point")["step"].transform("max")]
    last = last.set_index(["point", "variant", "seed"])["value"].rename("accuracy")
    diverged = tv[tv["metric"] == "diverged_at"].set_index(["point", "variant", "seed"])["value"].notna()
    out = last.to_frame().join(diverged.rename("diverged")).reset_index()
    out["diverged"] = out["diverged"].fillna(False).astype(bool)
    out["converged"] = ((out["accuracy"] >= 1.0) & ~out["diverged"]).astype(float)
    return out


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    rows = []
    for r in final_accuracy(runs).itertuples():
        rows.append((r.point, r.seed, f"converged.{r.variant}", r.converged))
        rows.append((r.point, r.seed, f"final_accuracy.{r.variant}", r.accuracy))
    ref = runs[(runs["point"] == "reference") & (runs["split"] == "train") & (runs["metric"] == "accuracy")]
    linear = ref[ref["variant"].str.startswith("linear")]
    for seed, value in linear.groupby("seed")["value"].max().items():
        rows.append(("reference", seed, "linear_max_accuracy", value))
    hand = ref[ref["variant"].str.startswith("handbuilt")]
    for r in hand.itertuples():
        rows.append(
            ("reference", r.seed, f"handbuilt_accuracy.{r.variant.removeprefix('handbuilt-')}", r.value)
        )
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def convergence_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per (setting, seed) with ``converged`` and the setting's factors parsed from its name."""
    conv = metrics[metrics["metric"].str.startswith("converged.")].copy()
    conv["setting"] = conv["metric"].str.removeprefix("converged.")
    parts = conv["setting"].str.split("-", expand=True)
    conv["intersection"], conv["difference"] = parts[0], parts[1]
    conv["features"] = parts[2].str.removeprefix("f").astype(int)
    conv["init"] = parts[3] + np.where(conv["setting"].str.endswith("-norm"), " (norm)", "")
    return conv.rename(columns={"value": "converged"})


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    linear = metrics[metrics["metric"] == "linear_max_accuracy"].sort_values("seed")
    if not linear.empty:
        out["linear_cannot"] = linear["value"].tolist()
    hand = metrics[metrics["metric"].str.startswith("handbuilt_accuracy.")]
    if not hand.empty:
        out["tversky_represents"] = [float(hand["value"].min())]
    conv = convergence_table(metrics)
    if not conv.empty:
        per_setting = conv.groupby("setting")["converged"].min()
        out["some_setting_learns"] = [float((per_setting == 1).sum())]
        out["success_rate"] = conv.groupby("seed")["converged"].mean().sort_index().tolist()
    return out


# --- figures ----------------------------------------------------------------------------------------------


def draw_convergence(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    conv = convergence_table(metrics)
    conv["reductions"] = conv["intersection"] + " / " + conv["difference"]
    conv["features, init"] = conv["features"].astype(str) + ", " + conv["init"]
    table = conv.pivot_table(index="reductions", columns="features, init", values="converged", aggfunc="mean")
    cols = sorted(table.columns, key=lambda c: (c.split(", ")[1], int(c.split(", ")[0])))
    table = table[cols]
    fig, ax = plt.subplots(figsize=(1.0 * len(cols) + 3, 0.45 * len(table) + 1.8))
    sns.heatmap(
        table, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", cbar_kws={"label": "rate"}, ax=ax
    )
    ax.set(xlabel="number of features, initialisation", ylabel="intersection / difference reduction")
    ax.set_title(
        f"XOR convergence rate over {conv['seed'].nunique()} seeds (overall {conv.converged.mean():.2f})"
    )
    return fig


def draw_regions(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt

    region = runs[runs["split"] == "region"]
    panels = [("handbuilt", "hand-built (product / ignorematch)"), ("linear", "linear layer (lr 0.1)")]
    learned = region[~region["variant"].isin(["handbuilt", "linear"])]
    panels[1:1] = [(v, f"learned: {v}") for v in sorted(learned["variant"].unique())]
    data = make_data(cfg)
    n = cfg.region_points
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.4), squeeze=False)
    for ax, (variant, title) in zip(axes[0], panels, strict=True):
        sel = region[region["variant"] == variant].sort_values("step")
        if sel.empty:
            ax.set_axis_off()
            continue
        margin = sel["value"].to_numpy().reshape(n, n)  # [y index, x index]
        axis = np.linspace(-0.5, 1.5, n)
        ax.contourf(
            axis, axis, (margin > 0).astype(float), levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fdae6b"]
        )
        if margin.min() < 0 < margin.max():
            ax.contour(axis, axis, margin, levels=[0], colors="k", linewidths=1)
        for (px, py), label in zip(data["x"], data["y"], strict=True):
            ax.scatter(px, py, c="C1" if label else "C0", edgecolor="k", s=90, marker="s" if label else "o")
        ax.set(title=title, xlabel="x₁", ylabel="x₂", aspect="equal")
        ax.title.set_fontsize(8)
    return fig


FIGURES = (
    Figure(
        "convergence_heatmap",
        "Paper: a single Tversky projection layer learns XOR for some settings of intersection/difference "
        "reduction, feature count and initialisation, not for others (its XOR grid, 1000 epochs). Ours: the "
        "fraction of seeds reaching 100 % training accuracy per setting (rows: reductions; columns: number "
        "of features and initialisation of features and prototypes).",
        draw_convergence,
    ),
    Figure(
        "decision_regions",
        "Paper Fig. 1: a Tversky projection layer separates XOR, a linear layer cannot. Ours: predicted "
        "class over [−0.5, 1.5]² (orange = class 1, black line = equal similarity) for the hand-built "
        "solution, one converged run per intersection reduction, and the linear baseline, which converges to "
        "the constant predictor (cross-entropy's optimum on XOR; its margin is ≈ 0 everywhere, the boundary "
        "drawn is rounding noise); markers are the four XOR points (squares = class 1).",
        draw_regions,
    ),
)
