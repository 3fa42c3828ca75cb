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
checkpoints with the weights.

Tiers: full = ``Config()``. Its deviations from the paper: the second architecture, an MLP 784 → 100 → 100 → 10
with PyTorch's default init, is ours (the official MNIST script has the CNN only); the removal
fractions 0.1–0.6 at 7 points (the README removes 0 to 59,000 examples in steps of 1,000), each with one retraining
per seed (as the README) and the claim's test accuracy averaged over the last 10 epochs, are ours; the negative
controls are ours; permuted MNIST, CIFAR-10/100 and the noise experiments are not run. Quick = MNIST-1D (4000
train / 1000 test, length 40) with MNIST-1D's ``ConvBase`` (3 conv layers of 25 channels, kernels 5/3/3, stride 2,
padding 1, ReLU, linear 125 → 10; :mod:`reprosuite.engine.models.conv`) and an MLP 40 → 100 → 100 → 10, SGD lr
0.05, momentum 0.9 (ours, calibrated), 30 epochs, 3 seeds, fractions 0.25 and 0.5 × 2 repeats; smoke = quick on
1000 training examples, 5 epochs, 2 seeds, one fraction and repeat.

Cost (2 shared CPU cores): smoke ≈ 18 CPU-s; quick ≈ 70 CPU-s of training (the control's members add ≈ 40 % to
the ``cnn`` point's example presentations); full ≈ 23 CPU-h (probed: ``COST``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL, Amendment, Claim, Rule, per_seed
from reprosuite.study import Figure, Paper

from . import figures, training
from . import forgetting as fg
from .analysis import FULL_DATA, SHUFFLED, removal_table
from .analysis import example_counts as example_counts  # the interface and the tests use these names
from .analysis import extract as extract

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
    "full": "~23 CPU-h, probed on 1 thread and extrapolated: cnn 22.9 h (8 fits, 1.06 M steps of 10–15 "
    "members, peak 1.5 GB), mlp 21 min (peak 0.8 GB)",
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
}

_SHUFFLED = "the same CNN, seeds, init and data order trained on shuffled labels (one fixed permutation)"
CLAIMS = (
    Claim(
        "unforgettable",
        "Many examples are never forgotten: ≥ 5 % of training examples are unforgettable (CNN).",
        metric="fraction of examples learned and never forgotten in every one of the seeds' runs (counts summed "
        "over the runs = 0, the official script's statistic): one value over all seeds, no interval",
        rule=Rule.at_least(0.05),
        paper_text="91.7 / 75.3 / 31.3 % unforgettable on MNIST / permuted MNIST / CIFAR-10 (unverified: we "
        "could not read the paper's text)",
        control=_SHUFFLED,
    ),
    Claim(
        "heavy_tail",
        "Forgetting counts are overdispersed relative to a Poisson law with the same mean (holds by construction "
        "given the unforgettable examples: not a test of a heavy tail).",
        metric="variance / mean of the learned examples' forgetting counts (CNN), per seed; Poisson = 1",
        rule=Rule.at_least(1.0),
        paper_text="histograms of forgetting events: most examples never forgotten, a long tail (Fig. 1)",
        kind="sanity",
    ),
    Claim(
        "cross_arch_spearman",
        "Forgetting statistics transfer across architectures: Spearman(CNN counts, MLP counts) > 0.3.",
        metric="Spearman rank correlation of per-example forgetting counts, CNN vs MLP, per seed",
        rule=Rule.at_least(0.3),
        paper_text="forgetting statistics are consistent across seeds and architectures",
        control="the CNN's counts against those of the CNN trained on shuffled labels (same seed), same Spearman",
    ),
    Claim(
        "selected_removal",
        "Removing the 25 % least-forgettable examples keeps test accuracy ≥ 1 pp above removing 25 % at random.",
        metric="test accuracy (selected removal) − test accuracy (random removal) at 25 % removed, per seed",
        rule=Rule.at_least(0.01),
        paper_text="removing unforgettable examples preserves generalisation (Fig. 5)",
        control="removal ordered by the shuffled-label runs' summed counts instead (no forgetting signal of the "
        "task), against the same random removal, same inits",
    ),
)

_CONTROL_WHY = (
    "every empirical claim needs a negative control without the mechanism (labels unrelated to inputs)"
)
AMENDMENTS = (
    Amendment(
        "2026-12-06",
        ("unforgettable",),
        "metric: the mean of per-run unforgettable fractions → the official statistic, the share of examples "
        "unforgettable in every one of the seeds' runs (one value); negative control added: shuffled labels "
        "(members of the CNN's forgetting ensemble)",
        "the official order_examples_by_forgetting.py counts examples whose counts summed over all runs are 0; "
        "the per-run fraction is larger (an example must stay unforgotten in one run only); " + _CONTROL_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("heavy_tail",),
        "kind empirical → sanity",
        "holds by construction: the never-forgotten examples alone make variance / mean ≥ 1 (a zero-inflated "
        "Poisson law has 1 + πλ), so it cannot test a heavy tail; P(count ≥ 2) relative to a Poisson law "
        "(tail_ratio_2) is reported without a claim",
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("cross_arch_spearman",),
        "negative control added: Spearman of the CNN's counts against the shuffled-label CNN's",
        _CONTROL_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("selected_removal",),
        "negative control added: removal ordered by the shuffled-label runs' counts, at 25 % (members of the "
        "removal ensemble, paired with the random removal's inits)",
        _CONTROL_WHY,
        "inconclusive",
        "inconclusive",
    ),
    Amendment(
        "2026-12-07",
        ("unforgettable", "heavy_tail", "cross_arch_spearman", "selected_removal"),
        "full tier: MNIST-1D with its 1-D ConvBase (100 epochs, lr 0.05, momentum 0.9, 2 retrainings per seed "
        "and fraction) → the official MNIST protocol (run_mnist.py's CNN, 200 epochs, lr 0.01, momentum 0.5, "
        "one retraining per seed and fraction as the README, dropout in the removal runs as its command)",
        "the full tier is the paper's protocol; it ran on MNIST-1D while the suite could not read MNIST. Quick "
        "and smoke unchanged (their runs bit for bit the same)",
        "full tier not run",
        "full tier not run",
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def datasets(cfg: Config) -> tuple[str, ...]:
    """The official dataset files ``make_data`` reads (checked before any job runs)."""
    return ("mnist",) if cfg.dataset == "mnist" else ()


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets

    d = datasets.load(cfg.dataset)  # flattened, standardised on the training split
    if cfg.n_train > len(d["y"]) or cfg.n_test > len(d["y_test"]):
        raise ValueError(f"{cfg.dataset} has {len(d['y'])}/{len(d['y_test'])} train/test examples")
    return {
        "x": d["x"][: cfg.n_train],
        "y": d["y"][: cfg.n_train],
        "x_test": d["x_test"][: cfg.n_test],
        "y_test": d["y_test"][: cfg.n_test],
    }


def grid(cfg: Config) -> dict[str, dict]:
    if not any(math.isclose(f, cfg.claim_fraction) for f in cfg.fractions):
        raise ValueError(
            f"claim_fraction {cfg.claim_fraction} is not among the removal fractions {cfg.fractions}"
        )
    if cfg.dataset == "mnist" and any(s != 1 for s in cfg.strides):
        raise ValueError(f"the 2-D CNN's convolutions take stride 1, not {cfg.strides}")
    if cfg.dataset == "mnist1d" and (
        any(p != 1 for p in cfg.pools) or cfg.cnn_hidden or cfg.dropout or cfg.removal_dropout
    ):
        raise ValueError("MNIST-1D's ConvBase has no pooling, hidden linear layer or dropout")
    return {"cnn": {"arch": "cnn", "removal": True}, "mlp": {"arch": "mlp", "removal": False}}


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    tensors = {k: torch.as_tensor(v, device=device) for k, v in data.items()}
    n = len(data["y"])
    arch = point["arch"]
    seeds = list(seeds)
    offset = training.MLP_ORDER_OFFSET if arch == "mlp" else 0
    # the CNN's forgetting ensemble carries the negative control: the same seeds (init and data order) trained
    # on shuffled labels
    modes = [FULL_DATA, SHUFFLED] if point["removal"] else [FULL_DATA]
    labels = torch.stack(
        [
            torch.as_tensor(
                training.shuffled_labels(data["y"]) if m is SHUFFLED else data["y"], device=device
            )
            for m in modes
            for _ in seeds
        ]
    )
    keep = torch.arange(n, device=device).expand(len(labels), n)
    member_seeds = seeds * len(modes)
    history, per_epoch, correct = training.fit_ensemble(
        cfg, arch, tensors, keep, member_seeds, [s + offset for s in member_seeds], True, f"{arch} forgetting",
        labels=labels, dropout=cfg.dropout if arch == "cnn" else 0.0,
    )  # fmt: skip
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
        for fraction in cfg.fractions:
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
            history, per_epoch, _ = training.fit_ensemble(
                cfg, arch, tensors, keep, member_seeds, member_seeds, False, f"{arch} removal {fraction:g}",
                dropout=cfg.removal_dropout,
            )  # fmt: skip
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
    for key, metric, member in (
        ("unforgettable", "unforgettable_all_runs", FULL_DATA),
        ("unforgettable" + CONTROL, "unforgettable_all_runs", SHUFFLED),
        ("heavy_tail", "dispersion_index", FULL_DATA),
        ("cross_arch_spearman", "spearman_cnn_mlp", FULL_DATA),
        ("cross_arch_spearman" + CONTROL, "spearman_cnn_shuffled", FULL_DATA),
    ):
        values = per_seed(metrics, metric, "cnn", mode=member["mode"])
        if not values.empty:
            out[key] = values
    rem = removal_table(metrics)
    at = rem[np.isclose(rem["fraction"], cfg.claim_fraction)]
    if not at.empty:
        wide = at.pivot_table(index="seed", columns="mode", values="accuracy")
        for key, mode in (("selected_removal", "selected"), ("selected_removal" + CONTROL, "control")):
            if {mode, "random"} <= set(wide.columns):
                out[key] = (wide[mode] - wide["random"]).sort_index()
    return out


# --- figures ----------------------------------------------------------------------------------------------


FIGURES = (
    Figure(
        "forgetting_histogram",
        "Paper Fig. 1: histograms of forgetting events per example — a large share of examples is never "
        "forgotten, a tail is forgotten many times. Ours: forgetting events per training example (MNIST; "
        "MNIST-1D in quick and smoke; all seeds pooled) for the CNN and the MLP; green = unforgettable, red = "
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
)
