"""Toneva et al. 2019 — example forgetting during training: many examples are never forgotten, and removing them
costs little.

Paper: "An Empirical Study of Example Forgetting during Deep Neural Network Learning", arXiv:1812.05159 (ICLR
2019); official code mtoneva/example_forgetting (``run_mnist.py``, ``order_examples_by_forgetting.py``).

Claims (the paper gives no thresholds; rules ours; statistic ``mean`` with a Student-t interval):

- ``unforgettable`` (empirical): ≥ 5 % of the CNN's examples unforgettable in every one of the seeds' runs (the
  official script's statistic: one value over all runs, judged without an interval; it falls as runs are
  added, so quick's 3 runs and full's 5 are not the same statistic; the per-run share is reported as
  ``unforgettable_frac``). Control: the same CNN trained on shuffled labels.
- ``heavy_tail`` (sanity): variance / mean ≥ 1 of the learned examples' counts. It holds by construction once
  some examples are never forgotten (zero-inflated Poisson: 1 + πλ), so it is not evidence of a heavy tail;
  P(count ≥ 2) against a Poisson law of the same mean (``tail_ratio_2``) is reported without a claim and does
  not show a tail heavier than Poisson.
- ``cross_arch_spearman`` (empirical): Spearman between the CNN's and the MLP's per-example counts (each with
  its own init and data order) > 0.3 per seed. Control: the CNN's counts against the shuffled-label CNN's.
- ``selected_removal`` (empirical): selected removal ≥ random removal + 1 pp test accuracy at 25 % removed, per
  seed; test accuracy = the mean over the last ``acc_window`` epochs (the official script logs per-epoch and
  best accuracy; which the figures use is unverified). Control: the 25 % least forgettable by the
  shuffled-label runs' counts removed instead, against the same random removal.

- ``cifar10_unforgettable`` and ``cifar10_selected_removal`` (empirical, full tier only): the first and last
  claims' rules, statistics and controls on ResNet-18's CIFAR-10 runs.

The shuffled-label control keeps the inputs, the class frequencies, the seeds, inits and data orders; only the
labels are permuted (one fixed permutation for all seeds), so an example's forgetting no longer reflects how
typical it is of its class — the mechanism the paper's claims rest on.

Definitions (official code; :mod:`~reprosuite.studies.toneva_forgetting.forgetting`): correctness is recorded at
every presentation, in its minibatch, from the forward pass before the update, in training mode (every example
once per epoch, the last partial batch kept); a forgetting event is a correct → incorrect transition between
consecutive presentations; unforgettable = learned and never forgotten; a never-learned example counts P (the number of
presentations) events; examples are ordered by their counts summed over the seeds' runs and the least
forgettable removed first (``--remove_n``, ``--keep_lowest_n 0``); random removal draws a subset of the same size.

Protocol (official code read: ``run_mnist.py`` and ``order_examples_by_forgetting.py`` at commits 8941c8f and
d4602d8, the README's commands at 0971995): MNIST, 60,000 train / 10,000 test, standardised with the training
set's pixel mean and standard deviation (the official ``Normalize((0.1307,), (0.3081,))`` rounds them to 4 digits; ours
are exact, :func:`reprosuite.engine.data.datasets.load`); the official ``Net``: ``Conv2d(1, 10, 5) → max-pool 2 →
ReLU → Conv2d(10, 20, 5) → [Dropout2d] → max-pool 2 → ReLU → Linear(320, 50) → ReLU → [dropout] → Linear(50,
10)`` (:mod:`reprosuite.engine.models.conv2d`, members batched), PyTorch's default init; SGD lr 0.01, momentum
0.5, batch 64, 200 epochs, a fresh permutation every epoch, the last partial batch kept; test accuracy after
every epoch in eval mode. The README runs the forgetting runs with ``--no_dropout`` (seeds 1–5) and the MNIST
removal runs without that flag, so with the net's dropout (p 0.5); we read it so (``dropout`` 0,
``removal_dropout`` 0.5). Dropout masks come from per-member generators that ``trainer.fit`` checkpoints.
Point ``cnn`` = the CNN's forgetting run chained (resumable ``trainer.fit`` calls) with the removal retrainings —
per fraction one ensemble of seeds × repeats × {selected, random}, paired by init, data-order and dropout seed,
trained as long on the reduced set; point ``mlp`` = the MLP's forgetting run. The control's runs are members of
the ``cnn`` point's ensembles (the shuffled-label forgetting run beside the real one, the control removal at 25 %
beside the selected and random ones). Correctness is accumulated in a buffer that ``trainer.fit(buffers=...)``
checkpoints with the weights. Point ``resnet18_cifar10`` (full tier) chains the same forgetting runs, control and
removal retrainings for ResNet-18 on CIFAR-10 with the official ``run_cifar.py`` protocol
(:mod:`~reprosuite.studies.toneva_forgetting.cifar`: SGD 0.1 with Nesterov momentum 0.9 and weight decay 5e-4,
batch 128, 200 epochs, the learning rate × 0.2 after epochs 60, 120 and 160, crops and flips, Cutout in the
removal runs).

Tiers: full = ``Config()``. Its deviations from the paper: the second architecture, an MLP 784 → 100 → 100 → 10
with PyTorch's default init, is ours (the official MNIST script has the CNN only); the removal
fractions 0.1–0.6 at 7 points (the README removes 0 to 59,000 examples in steps of 1,000), each with one retraining
per seed (as the README) and the claim's test accuracy averaged over the last 10 epochs, are ours; the negative
controls are ours; CIFAR-10's removal at 10, 25 and 40 % only (the README: 0 to 49,000 in steps of 1,000), and
its curve's fraction 0 is the forgetting run, without Cutout (the README retrains with Cutout at 0 removed);
augmentation draws from per-member generators of ours (the official script from torch's and numpy's global
ones); permuted MNIST, CIFAR-100 and the noise experiments are not run. The CIFAR-10 runs have no result in this
repository yet: they need ``reprosuite data fetch cifar10`` and GPU-hours. Quick = MNIST-1D (4000
train / 1000 test, length 40) with MNIST-1D's ``ConvBase`` (3 conv layers of 25 channels, kernels 5/3/3, stride 2,
padding 1, ReLU, linear 125 → 10; :mod:`reprosuite.engine.models.conv`) and an MLP 40 → 100 → 100 → 10, SGD lr
0.05, momentum 0.9 (ours, calibrated), 30 epochs, 3 seeds, fractions 0.25 and 0.5 × 2 repeats; smoke = quick on
1000 training examples, 5 epochs, 2 seeds, one fraction and repeat.

Cost (2 shared CPU cores): smoke ≈ 18 CPU-s; quick ≈ 70 CPU-s of training (the control's members add ≈ 40 % to
the ``cnn`` point's example presentations); full, probed on 1 thread: ``cnn`` 20.4 CPU-h (8 fits, 1.06 M steps of
10–15 members, peak 1.6 GB), ``mlp`` 12 min, ``resnet18_cifar10`` ≈ 4,500 CPU-h (45 one-member fits, 2.84 M
ResNet-18 steps, peak 3.1 GB; on stand-in arrays of CIFAR-10's shapes): a GPU job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL, per_seed
from reprosuite.study import Figure, Paper

from . import cifar, figures, training
from . import forgetting as fg
from .analysis import CIFAR10, FULL_DATA, SHUFFLED, removal_table
from .analysis import example_counts as example_counts  # the interface and the tests use these names
from .analysis import extract as extract
from .claims import AMENDMENTS as AMENDMENTS  # the interface reads these names here
from .claims import CLAIMS as CLAIMS

PAPER = Paper(
    title="An Empirical Study of Example Forgetting during Deep Neural Network Learning",
    authors="Toneva, Sordoni, Combes, Trischler, Bengio, Gordon",
    year=2019,
    arxiv="1812.05159",
    venue="ICLR 2019",
    code="https://github.com/mtoneva/example_forgetting",
)

COST = {
    "smoke": "~18 CPU-s (smoke test, in-process)",
    "quick": "~70 CPU-s training (cnn with the control's members ~60, mlp ~8)",
    "full": "~4,550 CPU-h, probed on 1 thread and extrapolated: cnn 20.4 h, mlp 12 min, resnet18_cifar10 "
    "4,533 h (ResNet-18 on CIFAR-10, one member at a time, peak 3.1 GB)",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # official README: --seed 1 to 5 (forgetting runs and each removal)
    dataset: Literal["mnist", "mnist1d"] = "mnist"  # official run_mnist.py --dataset mnist
    n_train: int = 60_000  # official: all of MNIST's training set
    n_test: int = 10_000  # official: all of MNIST's test set
    epochs: int = 200  # official run_mnist.py: presentations per example (one per epoch)
    batch_size: int = 64  # official run_mnist.py
    lr: float = 0.01  # official run_mnist.py (SGD)
    momentum: float = 0.5  # official run_mnist.py
    channels: tuple[int, ...] = (10, 20)  # official Net: Conv2d 1 → 10 → 20
    kernels: tuple[int, ...] = (5, 5)  # official Net
    strides: tuple[int, ...] = (1, 1)  # official Net (nn.Conv2d's default; the 2-D CNN takes stride 1 only)
    paddings: tuple[int, ...] = (0, 0)  # official Net
    pools: tuple[int, ...] = (2, 2)  # official Net: max_pool2d(·, 2) after each conv (2-D CNN only)
    cnn_hidden: tuple[int, ...] = (50,)  # official Net: Linear 320 → 50 → 10 (2-D CNN only)
    dropout: float = 0.0  # official README: the forgetting runs pass --no_dropout
    removal_dropout: float = 0.5  # official README: the removal command omits --no_dropout (Net's p = 0.5)
    mlp_hidden: tuple[int, ...] = (100, 100)  # ours: the second architecture (cross-architecture Spearman)
    fractions: tuple[float, ...] = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6)  # Fig. 5's x axis; ours: these points
    claim_fraction: float = 0.25  # ours: selected vs random compared at 25 % removed
    removal_repeats: int = 1  # official README: one retraining per seed and removal size
    acc_window: int = 10  # not stated; ours: test accuracy = mean over the last acc_window epochs
    conv_impl: Literal["unfold", "grouped", "vmap"] = (
        "unfold"  # engine implementation, 1-D CNN (same numbers)
    )
    # CIFAR-10 (official run_cifar.py and the README's commands; the grid point resnet18_cifar10)
    cifar10_runs: bool = True  # README: run_cifar.py --dataset cifar10 --data_augmentation, seeds 1–5
    cifar10_blocks: tuple[int, ...] = (2, 2, 2, 2)  # run_cifar.py's default model: ResNet18
    cifar10_widths: tuple[int, ...] = (64, 128, 256, 512)  # ResNet18's channels per stage
    cifar10_epochs: int = 200  # run_cifar.py's default
    cifar10_batch_size: int = 128  # run_cifar.py's default
    cifar10_lr: float = 0.1  # run_cifar.py's default (SGD)
    cifar10_momentum: float = 0.9  # run_cifar.py: SGD(momentum=0.9, nesterov=True)
    cifar10_weight_decay: float = 5e-4  # run_cifar.py
    cifar10_milestones: tuple[int, ...] = (60, 120, 160)  # run_cifar.py: MultiStepLR milestones
    cifar10_gamma: float = 0.2  # run_cifar.py: MultiStepLR gamma
    cifar10_padding: int = 4  # run_cifar.py: RandomCrop(32, padding=4)
    cifar10_cutout: int = 16  # README: Fig. 5's removal runs pass --cutout (Cutout's length 16, one hole)
    cifar10_fractions: tuple[float, ...] = (0.1, 0.25, 0.4)  # ours: 3 points of Fig. 5 Left (the README: 50)


FULL = Config()
QUICK = replace(
    FULL,
    dataset="mnist1d",
    n_train=4000,
    n_test=1000,
    epochs=30,
    lr=0.05,
    momentum=0.9,
    channels=(25, 25, 25),
    kernels=(5, 3, 3),
    strides=(2, 2, 2),
    paddings=(1, 1, 1),
    pools=(1, 1, 1),
    cnn_hidden=(),
    removal_dropout=0.0,
    seeds=3,
    fractions=(0.25, 0.5),
    removal_repeats=2,
    acc_window=5,
    cifar10_runs=False,
)
TIERS = {
    "full": FULL,
    "quick": QUICK,
    "smoke": replace(
        QUICK, seeds=2, n_train=1000, epochs=5, fractions=(0.25,), removal_repeats=1, acc_window=2
    ),
}
_CONVBASE = "MNIST-1D's ConvBase (Greydanus 2020; the official CNN is for 28×28 images)"
WHY = {
    "dataset": "2-core CPU budget: MNIST-1D (4000 / 1000 sequences of length 40) trains in minutes, MNIST at "
    "the paper's protocol in CPU-hours",
    "n_train": "all of MNIST-1D's training set (smoke: its first 1000, seconds, for tests)",
    "n_test": "all of MNIST-1D's test set",
    "channels": _CONVBASE,
    "kernels": _CONVBASE,
    "strides": _CONVBASE,
    "paddings": _CONVBASE,
    "pools": _CONVBASE + ": no pooling",
    "cnn_hidden": _CONVBASE + ": no hidden linear layer",
    "removal_dropout": _CONVBASE + ": no dropout",
    "lr": "ours, calibrated for the MNIST-1D CNN (the official value is for its MNIST CNN)",
    "momentum": "ours, calibrated with the learning rate",
    "epochs": "2-core CPU budget (the calibrated lr fits MNIST-1D in 30 epochs; smoke 5)",
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "fractions": "2-core CPU budget: the claim's 25 % and one more (smoke: the claim's only)",
    "removal_repeats": "quick: two retrainings per seed and fraction, averaged, with fewer seeds",
    "acc_window": "a shorter run: a window in proportion",
    "cifar10_runs": "2-core CPU budget: ResNet-18 on CIFAR-10 takes GPU-hours per run (the full tier only)",
}


# --- data and grid ----------------------------------------------------------------------------------------


def datasets(cfg: Config) -> tuple[str, ...]:
    """The official dataset files ``make_data`` reads (checked before any job runs)."""
    return ("mnist",) * (cfg.dataset == "mnist") + ("cifar10",) * cfg.cifar10_runs


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets

    d = datasets.load(cfg.dataset)  # flattened, standardised on the training split
    if cfg.n_train > len(d["y"]) or cfg.n_test > len(d["y_test"]):
        raise ValueError(f"{cfg.dataset} has {len(d['y'])}/{len(d['y_test'])} train/test examples")
    out = {
        "x": d["x"][: cfg.n_train],
        "y": d["y"][: cfg.n_train],
        "x_test": d["x_test"][: cfg.n_test],
        "y_test": d["y_test"][: cfg.n_test],
    }
    if cfg.cifar10_runs:  # all of CIFAR-10, uint8 rows (N, 3072), channels first; the job normalises them
        from reprosuite.engine.data import official

        c = official.load("cifar10")
        for split, x, y in (("", c.x_train, c.y_train), ("_test", c.x_test, c.y_test)):
            out[f"cifar10_x{split}"] = x.reshape(len(x), -1)
            out[f"cifar10_y{split}"] = y.astype(np.int64)
    return out


def grid(cfg: Config) -> dict[str, dict]:
    for name in ("fractions", "cifar10_fractions") if cfg.cifar10_runs else ("fractions",):
        if not any(math.isclose(f, cfg.claim_fraction) for f in getattr(cfg, name)):
            raise ValueError(f"claim_fraction {cfg.claim_fraction} is not among {name} {getattr(cfg, name)}")
    if cfg.dataset == "mnist" and any(s != 1 for s in cfg.strides):
        raise ValueError(f"the 2-D CNN's convolutions take stride 1, not {cfg.strides}")
    if cfg.dataset == "mnist1d" and (
        any(p != 1 for p in cfg.pools) or cfg.cnn_hidden or cfg.dropout or cfg.removal_dropout
    ):
        raise ValueError("MNIST-1D's ConvBase has no pooling, hidden linear layer or dropout")
    points = {"cnn": {"arch": "cnn", "removal": True}, "mlp": {"arch": "mlp", "removal": False}}
    if cfg.cifar10_runs:
        points[CIFAR10] = {"arch": "resnet18", "dataset": "cifar10", "removal": True}
    return points


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    arch = point["arch"]
    if arch == "resnet18":  # CIFAR-10
        tensors, fractions = cifar.tensors(data, device), cfg.cifar10_fractions

        def fit(keep, member_seeds, order_seeds, record, label, labels=None, removal=False):
            return cifar.fit_ensemble(
                cfg, tensors, keep, member_seeds, order_seeds, record, label, labels, removal
            )

    else:
        tensors = {
            k: torch.as_tensor(v, device=device) for k, v in data.items() if not k.startswith("cifar10_")
        }
        fractions = cfg.fractions

        def fit(keep, member_seeds, order_seeds, record, label, labels=None, removal=False):
            dropout = cfg.removal_dropout if removal else cfg.dropout if arch == "cnn" else 0.0
            return training.fit_ensemble(
                cfg, arch, tensors, keep, member_seeds, order_seeds, record, label, labels, dropout
            )

    y = tensors["y"].cpu().numpy()
    n = len(y)
    seeds = list(seeds)
    offset = training.MLP_ORDER_OFFSET if arch == "mlp" else 0
    # the forgetting ensemble of a point with removal runs carries the negative control: the same seeds (init and
    # data order) trained on shuffled labels
    modes = [FULL_DATA, SHUFFLED] if point["removal"] else [FULL_DATA]
    labels = torch.stack(
        [
            torch.as_tensor(training.shuffled_labels(y) if m is SHUFFLED else y, device=device)
            for m in modes
            for _ in seeds
        ]
    )
    keep = torch.arange(n, device=device).expand(len(labels), n)
    member_seeds = seeds * len(modes)
    history, per_epoch, correct = fit(
        keep, member_seeds, [s + offset for s in member_seeds], True, f"{arch} forgetting", labels=labels
    )
    columns = {k: [m[k] for m in modes for _ in seeds] for k in FULL_DATA}
    parts = [training.epoch_frame(history, per_epoch, member_seeds, columns["mode"], columns)]
    counts = {m["mode"]: [] for m in modes}
    for i, seed in enumerate(member_seeds):
        member = modes[i // len(seeds)]
        counts[member["mode"]].append(fg.forgetting_counts(correct[i]))
        parts += training.example_rows(member, seed, correct[i])
    if point["removal"]:
        order = fg.order_by_forgetting(np.stack(counts["full"]))
        control_order = fg.order_by_forgetting(np.stack(counts["shuffled"]))
        for fraction in fractions:
            members, kept = [], []
            at_claim = math.isclose(fraction, cfg.claim_fraction)
            for r in range(cfg.removal_repeats):
                subsets = training.removal_subsets(order, fraction, seeds, r)
                if at_claim:  # the control: least forgettable by the shuffled-label runs' counts
                    subsets["control"] = [fg.keep_after_removal(control_order, fraction)] * len(seeds)
                for mode, kept_sets in subsets.items():
                    for i, seed in enumerate(seeds):
                        members.append((mode, r, seed))
                        kept.append(kept_sets[i])
            keep = torch.as_tensor(np.stack(kept), device=device)
            member_seeds = [training.removal_seed(seed, r) for _, r, seed in members]
            history, per_epoch, _ = fit(
                keep, member_seeds, member_seeds, False, f"{arch} removal {fraction:g}", removal=True
            )
            variants = [f"{mode}-{fraction:g}-r{r}" for mode, r, _ in members]
            columns = {
                "mode": [mode for mode, _, _ in members],
                "fraction": [float(fraction)] * len(members),
                "repeat": [r for _, r, _ in members],
            }
            parts.append(
                training.epoch_frame(history, per_epoch, [seed for _, _, seed in members], variants, columns)
            )
    return pd.concat(parts, ignore_index=True)


# --- metrics ----------------------------------------------------------------------------------------------


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for key, metric, point, member in (
        ("unforgettable", "unforgettable_all_runs", "cnn", FULL_DATA),
        ("unforgettable" + CONTROL, "unforgettable_all_runs", "cnn", SHUFFLED),
        ("heavy_tail", "dispersion_index", "cnn", FULL_DATA),
        ("cross_arch_spearman", "spearman_cnn_mlp", "cnn", FULL_DATA),
        ("cross_arch_spearman" + CONTROL, "spearman_cnn_shuffled", "cnn", FULL_DATA),
        ("cifar10_unforgettable", "unforgettable_all_runs", CIFAR10, FULL_DATA),
        ("cifar10_unforgettable" + CONTROL, "unforgettable_all_runs", CIFAR10, SHUFFLED),
    ):
        values = per_seed(metrics, metric, point, mode=member["mode"])
        if not values.empty:
            out[key] = values
    for prefix, point in (("", "cnn"), ("cifar10_", CIFAR10)):
        rem = removal_table(metrics, point)
        at = rem[np.isclose(rem["fraction"], cfg.claim_fraction)]
        if not at.empty:
            wide = at.pivot_table(index="seed", columns="mode", values="accuracy")
            for key, mode in (("selected_removal", "selected"), ("selected_removal" + CONTROL, "control")):
                if {mode, "random"} <= set(wide.columns):
                    out[prefix + key] = (wide[mode] - wide["random"]).sort_index()
    return out


# --- figures ----------------------------------------------------------------------------------------------


FIGURES = (
    Figure(
        "forgetting_histogram",
        "Paper Fig. 1: histograms of forgetting events per example — a large share of examples is never "
        "forgotten, a tail is forgotten many times. Ours: forgetting events per training example (MNIST; "
        "MNIST-1D in quick and smoke; all seeds pooled) for the CNN and the MLP, and at the full tier ResNet-18 "
        "on CIFAR-10; green = unforgettable, red = "
        "never learned; dashed = a Poisson law with the learned examples' mean (what evenly spread forgetting "
        "would give).",
        figures.draw_counts,
    ),
    Figure(
        "removal_curve",
        "Paper Fig. 5: test accuracy after removing a growing fraction of the training set, least forgettable "
        "first vs at random — selected removal keeps accuracy longer. Ours: the CNN's test accuracy (mean of "
        "the last epochs, 95 % CI over seeds) after removing examples ordered by the summed forgetting counts "
        "of the seeds' runs vs random subsets; fraction 0 is the full-data run.",
        figures.draw_removal,
    ),
    Figure(
        "cifar10_removal_curve",
        "Paper Fig. 5 Left: CIFAR-10 test accuracy of ResNet-18 after removing a growing fraction of the training "
        "set, least forgettable first vs at random. Ours: the same at three fractions (mean of the last epochs, "
        "95 % CI over seeds), Cutout in the removal runs as the official command; fraction 0 is the forgetting run "
        "(all examples, without Cutout).",
        partial(figures.draw_removal, point=CIFAR10),
        tiers=("full",),
    ),
)
