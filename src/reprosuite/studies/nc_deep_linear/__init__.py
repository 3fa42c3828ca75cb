"""Dang, Tran, Osher, Tran-The, Ho, Nguyen 2023 — Neural Collapse in Deep Linear Networks.

"Neural Collapse in Deep Linear Networks: From Balanced to Imbalanced Data", ICML 2023, arXiv:2301.00437;
official code Fsoft-AIC/Neural-Collapse-in-Deep-Linear-Networks.

Setting (official ``synthetic_experiment_{balanced,imbalanced}.py``, commit 0e2a53d): the unconstrained-features
model with free features H (N × d) and M bias-free linear layers W_M ⋯ W_1 (optionally a last-layer bias b),
loss ‖W_M ⋯ W_1 H + b1ᵀ − Y‖²_F/(2N) + λ_W/2 Σ_m ‖W_m‖²_F + λ_H/2 ‖H‖²_F on one-hot targets Y, full-batch SGD
with momentum. The paper proves every metric below is 0 at the global minimum and shows them falling towards 0
in its synthetic experiments, without a table of final values (``paper_value`` is the theoretical 0 or 1).
Claims and our pass rules (per seed: the worst case over depths and layers; statistic: the mean over seeds with a
Student-t 95 % interval):
- balanced, bias-free: class means and every classifier W_M ⋯ W_m form an orthogonal frame — NC2 vs I < 0.05
  (empirical), NC3 vs I < 0.05 (sanity, see below);
- balanced, last-layer bias: they form a simplex ETF — NC2 vs I − 11ᵀ/K < 0.05 (empirical), NC3 vs the ETF on
  centred means < 0.05 (sanity);
- both: within-class variability collapses at every layer — NC1 < 1e-3 (empirical);
- imbalanced, bias-free: classifier rows are orthogonal with lengths s_k^M from the closed form of the official
  ``compute_s`` (:mod:`~reprosuite.studies.nc_deep_linear.collapse`), so rank-ordered by class size —
  Spearman(class size, row norm of W_M ⋯ W_1) = +1 (equal sizes pooled; empirical; the mean of values ≤ 1
  reaches the rule ≥ 1 only when every seed is 1, with a zero-width interval: the "every seed" claim, decisive
  with 3 seeds where a share's exact interval could not be); the official ``compute_NC2_W`` distance
  ‖P_mP_mᵀ/‖P_mP_mᵀ‖_F − D_m/‖D_m‖_F‖_F < 0.05 with P_m = W_M ⋯ W_m, D_m = diag(s_k^{2(M−m+1)}) (analytic:
  our simulation against the paper's closed form; scale-invariant), and, for the absolute scale, every row norm
  of W_M ⋯ W_1 within 5 % of s_k^M (analytic; ours).
Negative controls (ours): the collapse claims are measured on the same variants trained with λ_W = λ_H = 0 in
the depth-3 job (``control_depths``): the paper's collapse is the global minimum of the weight-decayed loss, and
without weight decay nothing selects it. The rank order is measured on the balanced runs ranked against the
imbalanced sizes: equal classes have equal theoretical lengths, so nothing orders them. NC3 as the official code
defines it compares W_M ⋯ W_1 H̄ — the network's outputs on the class means — with I (or the ETF): a net that
fits its one-hot targets makes it so with or without weight decay, so the NC3 claims are sanity checks.

Protocol (official code): K = 4 classes, hidden 64, N = 400 samples — [100]·4 balanced, [200, 100, 50, 50]
imbalanced — λ_W = λ_H = 5e-4 in the loss (the bias not decayed), SGD lr 0.1 momentum 0.9, 30 000 full-batch
iterations, H and W initialised N(0, 0.1²) (the bias keeps nn.Linear's U(±1/√d)), depths 1, 3, 6, 9, float32.

The MLP on MNIST and CIFAR-10 (full tier; official README "Multilayer perceptron experiment", balanced, whose
command trains on CIFAR-10; ``models/mlp.py``, ``datasets.py``, ``train_1st_order.py``, ``utils.py``, ``args.py``,
``validate_NC.py`` at commit 1869cb1; details in :mod:`~reprosuite.studies.nc_deep_linear.mlp`): MNIST's 60,000
training images resized to 3 × 32 × 32 and standardised (0.1307, 0.3081), CIFAR-10's 50,000 normalised per colour
channel with the official constants (mean 0.4914, 0.4822, 0.4465; std 0.2023, 0.1994, 0.2010); 6 blocks Linear → ReLU → BatchNorm of width d ∈ {512, 1024, 2048}, one more
BatchNorm giving the features H, then M ∈ {1, 3, 6, 9} linear layers (bias-free, or a bias on the last);
nn.MSELoss on one-hot targets + 1e-4/2 Σ‖W_fc‖² + 1e-4/2 Σ_batch ‖h‖² (``--sep_decay``: the backbone undecayed);
Adam lr 1e-4, batch 128, 200 epochs, lr ÷ 10 every 50 epochs (StepLR, args.py defaults); NC metrics on the whole
training set with BatchNorm in eval mode. Its claims (``mlp_*`` on MNIST, ``mlp_cifar10_*`` on CIFAR-10, full tier
only, NC1/NC2/NC3 ≤ 0.1, reasons and controls in :mod:`~reprosuite.studies.nc_deep_linear.mlp_claims`) take the
worst case over widths, depths and layers per seed; the synthetic claims keep their free-features thresholds on
the synthetic runs.
Tiers: full = the official synthetic experiment and the MLP on MNIST and on CIFAR-10 (24 points each: 3 widths ×
4 depths × bias or not), 5 seeds; quick = the synthetic experiment at 5000 iterations (the least of the 5k–30k planned for this
tier), 3 seeds; smoke = hidden 32, depths 1 and 3, 2000 iterations, 1 seed. The MLP's code path is covered by
unit tests on 200 real MNIST images and on CIFAR-10-format images.

Implementation (synthetic): one job per depth; its ensemble members are (variant, seed) pairs — balanced, balanced with bias
and imbalanced share every shape (N = 400 in both), the bias of bias-free members is masked to zero; at the
control depths the same variants again with weight decay 0 (variant suffix ``_wd0``, the same seeds). The forward
contracts W_M ⋯ W_1 from the K side (K·d² per layer rather than N·d²). Weight decay lives in the loss as in the
official code. At the log steps the layer views are formed in float64 torch and the metrics computed in numpy.
The closed form was checked against training (M = 1 and 3, 20k iterations): the row norms of W_M ⋯ W_1 and the
class-mean norms match s_k^M and s_k^M/(s_k^{2M} + Nλ_H) to 4 digits.

Cost (2 busy CPU cores, one thread, stages one after another): smoke ~31 CPU-s (~5 s of it training, the rest
7 process start-ups); quick ~70 CPU-s of training (4 points of 9 members, 18 at the control depth 3); full: the
synthetic points ~24 CPU-min (probe: 4 jobs of 5–8 min, peak 0.4 GB); the MLP points probed on this CPU
(2 updates and one evaluation each; seconds per update, hours, peak memory): on MNIST (93,600 updates,
21 evaluations) d = 512: 0.19–0.39 s, 5–10 h, 1.4–1.8 GB; d = 1024: 0.84–1.9 s, 22–50 h, 2.0–3.4 GB; d = 2048
(in parts of at most 3 members, ``mlp.STATE_BUDGET``): 2.9–5.2 s, 79–275 h, 4.7–6.3 GB; on CIFAR-10 (78,000
updates, probed on stand-in arrays of its shapes) d = 512: 0.23–0.39 s, 5–9 h, 1.9–2.3 GB; d = 1024: 0.83–1.8 s,
18–39 h, 2.6–3.8 GB; d = 2048: 2.7–4.3 s, 69–163 h, 5.2–6.7 GB. All 48 MLP jobs ~2,700 CPU-h (MNIST 1,540,
CIFAR-10 1,160), or ~330 PFLOP ≈ 5 GPU-h at 20 TFLOP/s (an estimate: no GPU probe).

Deviations from the paper at the full tier:
- The deep nets (ResNet18, VGG16 with linear heads, on CIFAR-10) are not trained. The imbalanced MLP runs (official
  README: CIFAR-10, width 2048, M ∈ {1, 3, 6}, weight decay 1e-5, 12,000 epochs) are not trained either: no claim
  on imbalanced real data is checked; the imbalanced claims rest on the synthetic experiment.
- The MLP on CIFAR-10 has no result in this repository yet: it needs the official CIFAR-10 files (``reprosuite
  data fetch cifar10``). Its code is tested on CIFAR-10-format images, and its cost was probed on stand-in arrays
  of CIFAR-10's shapes.
- MLP: the paper's text past its abstract could not be read here, so its protocol is the official code's (README
  commands, args.py defaults), unchecked against the paper's figures. Ours: 468 full batches per epoch (the
  official loader keeps the last 96 images as a partial batch; CIFAR-10: 390 batches, the last 80 images left out);
  the 32 × 32 resize interpolates the standardised
  image in torch, not the uint8 image in PIL; README's width "1028" read as 1024; NC metrics every 10 epochs,
  not every epoch; NC1 at every linear layer's input (the official measures H only, logged as ``nc1_h``).
- 5 seeds (the official scripts run one).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.study import Figure, Paper

from . import figures
from .analysis import NC_METRICS as NC_METRICS
from .analysis import extract as extract
from .analysis import final_state as final_state
from .analysis import measure as measure
from .claims import AMENDMENTS as AMENDMENTS  # the interface reads these names here
from .claims import CLAIMS as CLAIMS
from .mlp_claims import DATASETS as MLP_DATASETS
from .synthetic import WD0 as WD0
from .synthetic import member_metrics as member_metrics
from .synthetic import sizes as _sizes

PAPER = Paper(
    title="Neural Collapse in Deep Linear Networks: From Balanced to Imbalanced Data",
    authors="Dang et al.",
    year=2023,
    arxiv="2301.00437",
    venue="ICML 2023",
    code="https://github.com/Fsoft-AIC/Neural-Collapse-in-Deep-Linear-Networks",
)

COST = {
    "smoke": "~31 CPU-s",
    "quick": "~70 CPU-s training",
    "full": "synthetic ~24 CPU-min; the MLP ~2,700 CPU-h probed (MNIST 1,540, CIFAR-10 1,160; 5–275 h per job, "
    "peak ≤ 6.7 GB), ~5 GPU-h estimated",
}

Variant = Literal["balanced", "balanced_bias", "imbalanced"]
VARIANTS: tuple[Variant, ...] = ("balanced", "balanced_bias", "imbalanced")


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours
    n_classes: int = 4  # official synthetic scripts: 4 classes
    hidden: int = 64  # official --hidden
    depths: tuple[int, ...] = (1, 3, 6, 9)  # official README: --depth_linear ∈ {1, 3, 6, 9}
    balanced_sizes: tuple[int, ...] = (100, 100, 100, 100)  # official NUM_CLASS_SAMPLES (balanced)
    imbalanced_sizes: tuple[int, ...] = (200, 100, 50, 50)  # official NUM_CLASS_SAMPLES (imbalanced)
    variants: tuple[Variant, ...] = VARIANTS  # the official balanced (± bias) and imbalanced scripts
    steps: int = 30_000  # official --num_iteration
    lr: float = 0.1  # official SGD lr
    momentum: float = 0.9  # official SGD momentum
    lambda_w: float = 5e-4  # official --weight_decay
    lambda_h: float = 5e-4  # official --feature_decay
    init_std: float = 0.1  # official N(0, 0.1²) for H and every W
    log_points: int = 40  # ours: metrics logged at 40 evenly spaced iterations
    dtype: Literal["float32", "float64"] = "float32"  # the official scripts run in float32
    # ours: the depths whose job also trains every variant with λ_W = λ_H = 0, the negative control of the
    # collapse claims (the paper's global minimum, hence its collapse, is that of the weight-decayed loss)
    control_depths: tuple[int, ...] = (3,)
    # the MLP on MNIST (official README "Multilayer perceptron experiment", balanced; train_1st_order.py, args.py)
    mlp_widths: tuple[int, ...] = (
        512,
        1024,
        2048,
    )  # README: --width in [512, 1028, 2048] (1028 read as 1024)
    mlp_depths: tuple[int, ...] = (1, 3, 6, 9)  # README: --depth_linear in [1, 3, 6, 9]; () = not trained
    mlp_bias: tuple[bool, ...] = (False, True)  # README: --no-bias (bias-free) or last-layer bias
    mlp_relu_depth: int = 6  # README: --depth_relu 6
    mlp_epochs: int = 200  # args.py --epochs default (the README's balanced command sets none)
    mlp_batch: int = 128  # args.py --batch_size default
    mlp_lr: float = 1e-4  # README: --lr 0.0001 --optimizer Adam
    mlp_lr_every: int = 50  # args.py --patience: StepLR step size in epochs
    mlp_lr_gamma: float = 0.1  # args.py --gamma
    mlp_weight_decay: float = 1e-4  # args.py --weight_decay, on the fc weights only (--sep_decay)
    mlp_feature_decay: float = 1e-4  # args.py --feature_decay_rate, on the features H (--sep_decay)
    mlp_log_points: int = 20  # ours: NC metrics every 10 epochs (validate_NC.py measures every epoch)


QUICK = replace(Config(), seeds=3, steps=5000, mlp_depths=())
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=1, hidden=32, depths=(1, 3), steps=2000, log_points=10),
}
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "steps": "2-core CPU budget (5000 of the official 30 000 iterations)",
    "hidden": "smoke: seconds, for tests",
    "depths": "smoke: seconds, for tests",
    "log_points": "smoke: fewer iterations, fewer logged points",
    "mlp_depths": "2-core CPU budget: the MLP on MNIST (GPU hours) is trained at the full tier only",
}


def grid(cfg: Config) -> dict[str, dict]:
    if min(cfg.depths) < 1:
        raise ValueError(f"depths must be >= 1, got {cfg.depths}")
    if sum(cfg.balanced_sizes) != sum(cfg.imbalanced_sizes):
        raise ValueError("balanced and imbalanced runs share one ensemble: their sample counts must be equal")
    for sizes in (cfg.balanced_sizes, cfg.imbalanced_sizes):
        if len(sizes) != cfg.n_classes:
            raise ValueError(f"{len(sizes)} class sizes for {cfg.n_classes} classes")
    points = {f"M{m}": {"depth": m, "control": m in cfg.control_depths} for m in cfg.depths}
    if cfg.mlp_depths and min(cfg.mlp_depths) < 1:
        raise ValueError(f"mlp_depths must be >= 1, got {cfg.mlp_depths}")
    for dataset in MLP_DATASETS if cfg.mlp_depths else ():
        prefix = "mlp_" if dataset == "mnist" else f"mlp_{dataset}_"
        for w in cfg.mlp_widths:
            for m in cfg.mlp_depths:
                for b in cfg.mlp_bias:
                    point = {"kind": "mlp", "width": w, "depth": m, "bias": b}
                    if dataset != "mnist":
                        point = {"kind": "mlp", "dataset": dataset, **point}
                    points[f"{prefix}w{w}_M{m}_{'bias' if b else 'nobias'}"] = point
    return points


def datasets(cfg: Config) -> tuple[str, ...]:
    """The official dataset files ``make_data`` reads (checked before any job runs)."""
    return MLP_DATASETS if cfg.mlp_depths else ()


def resources(cfg: Config, point: dict) -> dict:
    """An MLP job holds its images as float32 on the device (MNIST 60,000 × 1024, CIFAR-10 50,000 × 3072) beside
    every dataset's arrays and an ensemble of up to 5 × 27 M parameters."""
    return {"mem_mb": 8000} if point.get("kind") == "mlp" else {}


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Labels per variant (sorted by class: free features make the sample order irrelevant); with the MLP also
    the official training splits: MNIST (60,000 standardised 28 × 28 images; the job resizes them to 32 × 32)
    and CIFAR-10 (50,000 uint8 images of 3 × 32 × 32, channels first; the job normalises them)."""
    out = {
        f"labels_{v}": np.repeat(np.arange(cfg.n_classes), _sizes(cfg, v)).astype(np.int64)
        for v in cfg.variants
    }
    if cfg.mlp_depths:
        from reprosuite.engine.data import datasets as data_sets
        from reprosuite.engine.data import official

        mnist = data_sets.load("mnist")
        cifar = official.load("cifar10")
        out.update(
            mnist_x=mnist["x"],
            mnist_y=mnist["y"],
            cifar10_x=cifar.x_train.reshape(len(cifar.x_train), -1),
            cifar10_y=cifar.y_train.astype(np.int64),
        )
    return out


def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    """A synthetic depth point (every variant's seeds as members) or an MLP point (its seeds as members)."""
    if point.get("kind") == "mlp":
        from .mlp import train_mlp

        return train_mlp(cfg, point, data, seeds, device)
    from .synthetic import train as train_synthetic

    return train_synthetic(cfg, point, data, seeds, device)


FIGURES = (
    Figure(
        name="nc_curves",
        caption=(
            "Paper: NC1–NC3 of the synthetic unconstrained-features model fall towards 0 over 30k SGD "
            "iterations for depths M ∈ {1, 3, 6, 9}, balanced (orthogonal frame without bias, simplex "
            "ETF with bias) and imbalanced (orthogonal, lengths from the closed form). Ours: the same "
            "metrics (worst layer; lines = seed mean, band = seed range) vs iteration per depth; "
            "dashed = our pass thresholds."
        ),
        draw=figures.draw_nc_curves,
    ),
    Figure(
        name="imbalanced_norms",
        caption=(
            "Paper: with imbalanced classes [200, 100, 50, 50] the classifier rows and class means are "
            "orthogonal with lengths set by class size (closed form of compute_s). Ours: final row norms of "
            "W_M⋯W_1 and class-mean norms of H per class and depth (bars = seed mean, whiskers = seed range) "
            "against the closed form (black)."
        ),
        draw=figures.draw_imbalanced_norms,
    ),
    Figure(
        name="mlp_nc_curves",
        caption=(
            "Paper: NC1–NC3 of an MLP (6 ReLU + M linear layers) trained on MNIST fall over training, towards "
            "an orthogonal frame without bias and a simplex ETF with a last-layer bias. Ours: NC1 (worst linear "
            "layer), NC2 and NC3 against the setting's frame vs epoch per depth M, width 512 (lines = seed mean, "
            "band = seed range); dashed = our pass threshold 0.1."
        ),
        draw=figures.draw_mlp_curves,
        tiers=("full",),
    ),
    Figure(
        name="mlp_cifar10_nc_curves",
        caption=(
            "Paper: NC1–NC3 of the same MLP trained on CIFAR-10 (the official README's command) fall over "
            "training, towards an orthogonal frame without bias and a simplex ETF with a last-layer bias. Ours: "
            "NC1 (worst linear layer), NC2 and NC3 against the setting's frame vs epoch per depth M, width 512 "
            "(lines = seed mean, band = seed range); dashed = our pass threshold 0.1."
        ),
        draw=partial(figures.draw_mlp_curves, dataset="cifar10"),
        tiers=("full",),
    ),
)
