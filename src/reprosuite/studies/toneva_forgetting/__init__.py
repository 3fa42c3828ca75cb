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
every presentation, in its minibatch, from the forward pass before the update (every example once per epoch,
the last partial batch kept); a forgetting event is a correct → incorrect transition between consecutive
presentations; unforgettable = learned and never forgotten; a never-learned example counts P (the number of
presentations) events; examples are ordered by their counts summed over the seeds' runs and the least
forgettable removed first (``--remove_n``, ``--keep_lowest_n 0``); random removal draws a subset of the same size.

Protocol: the official MNIST script trains a 2-conv CNN with SGD lr 0.01, momentum 0.5, batch 64, 200 epochs.
Ours: MNIST-1D (4000 train / 1000 test, length 40; MNIST is not available offline) with MNIST-1D's ``ConvBase``
(3 conv layers of 25 channels, kernels 5/3/3, stride 2, padding 1, ReLU, linear 125 → 10; members batched by
:mod:`reprosuite.engine.models.conv`) and, as the second architecture, an MLP 40 → 100 → 100 → 10, both with
PyTorch's default init. Point ``cnn`` = the CNN's forgetting run chained (resumable ``trainer.fit`` calls) with
the removal retrainings — per fraction one ensemble of seeds × repeats × {selected, random}, paired by init
and data-order seed, trained as long on the reduced set; point ``mlp`` = the MLP's forgetting run. The control's
runs are members of the ``cnn`` point's ensembles (the shuffled-label forgetting run beside the real one, the
control removal at 25 % beside the selected and random ones). Correctness is accumulated in a buffer that
``trainer.fit(buffers=...)`` checkpoints with the weights.
Tiers: full = 100 epochs, 5 seeds, fractions 0.1–0.6 × 2 repeats; quick = 30 epochs, 3 seeds, fractions 0.25
and 0.5; smoke = 1000 training examples, 5 epochs, 2 seeds.

Cost (2 shared CPU cores): smoke ≈ 18 CPU-s; quick ≈ 70 CPU-s of training (the control's members add ≈ 40 % to
the ``cnn`` point's example presentations); full not measured (≈ 25 CPU-min by scaling quick).
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
    "full": "not measured (5 seeds, 100 epochs, 7 fractions × 2 repeats: ~25 CPU-min by scaling quick)",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours
    n_train: int = 4000  # ours: all of MNIST-1D's training set
    n_test: int = 1000  # ours: all of MNIST-1D's test set
    epochs: int = 200  # official run_mnist.py: presentations per example (one per epoch)
    batch_size: int = 64  # official run_mnist.py
    lr: float = 0.01  # official run_mnist.py (SGD)
    momentum: float = 0.5  # official run_mnist.py
    channels: tuple[int, ...] = (25, 25, 25)  # ours: MNIST-1D ConvBase (the official CNN is for 28×28 images)
    kernels: tuple[int, ...] = (5, 3, 3)  # MNIST-1D ConvBase
    strides: tuple[int, ...] = (2, 2, 2)  # MNIST-1D ConvBase
    paddings: tuple[int, ...] = (1, 1, 1)  # MNIST-1D ConvBase
    mlp_hidden: tuple[int, ...] = (100, 100)  # ours: the second architecture (cross-architecture Spearman)
    fractions: tuple[float, ...] = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6)  # Fig. 5's x axis; ours: these points
    claim_fraction: float = 0.25  # ours: selected vs random compared at 25 % removed
    removal_repeats: int = (
        2  # ours: retrainings per seed and fraction (own init, order, random subset), averaged
    )
    acc_window: int = 10  # not stated; ours: test accuracy = mean over the last acc_window epochs
    conv_impl: Literal["unfold", "grouped", "vmap"] = "unfold"  # engine implementation (same numbers)


FULL = replace(Config(), epochs=100, lr=0.05, momentum=0.9)
QUICK = replace(FULL, seeds=3, epochs=30, fractions=(0.25, 0.5), acc_window=5)
TIERS = {
    "full": FULL,
    "quick": QUICK,
    "smoke": replace(
        QUICK, seeds=2, n_train=1000, epochs=5, fractions=(0.25,), removal_repeats=1, acc_window=2
    ),
}
WHY = {
    "lr": "ours, calibrated for the MNIST-1D CNN (the official value is for its MNIST CNN)",
    "momentum": "ours, calibrated with the learning rate",
    "epochs": "2-core CPU budget (the calibrated lr fits MNIST-1D in fewer epochs)",
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "fractions": "2-core CPU budget: the claim's 25 % and one more (smoke: the claim's only)",
    "acc_window": "a shorter run: a window in proportion",
    "n_train": "smoke: seconds, for tests",
    "removal_repeats": "smoke: seconds, for tests",
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
)


# --- data and grid ----------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets

    d = datasets.load("mnist1d")
    if cfg.n_train > len(d["y"]) or cfg.n_test > len(d["y_test"]):
        raise ValueError(f"MNIST-1D has {len(d['y'])}/{len(d['y_test'])} train/test examples")
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
    return {"cnn": {"arch": "cnn", "removal": True}, "mlp": {"arch": "mlp", "removal": False}}


def _epoch_frame(history, per_epoch: int, seeds, variants, members: dict) -> pd.DataFrame:
    runs = history.frame(seeds, variants, members=members)
    runs["step"] = runs["step"] // per_epoch  # step = epoch
    return runs


def _example_rows(member: dict, seed: int, correct: np.ndarray) -> list[pd.DataFrame]:
    n = correct.shape[1]
    return [
        pd.DataFrame(
            {
                "variant": member["mode"],
                **member,
                "seed": seed,
                "step": np.arange(n),  # the example index
                "split": "example",
                "metric": metric,
                "value": values,
            }
        )
        for metric, values in (
            ("forgetting_count", fg.forgetting_counts(correct)),
            ("learned", fg.learned(correct).astype(float)),
        )
    ]


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
        labels=labels,
    )  # fmt: skip
    columns = {k: [m[k] for m in modes for _ in seeds] for k in FULL_DATA}
    parts = [_epoch_frame(history, per_epoch, member_seeds, columns["mode"], columns)]
    counts = {m["mode"]: [] for m in modes}
    for i, seed in enumerate(member_seeds):
        member = modes[i // len(seeds)]
        counts[member["mode"]].append(fg.forgetting_counts(correct[i]))
        parts += _example_rows(member, seed, correct[i])
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
                cfg, arch, tensors, keep, member_seeds, member_seeds, False, f"{arch} removal {fraction:g}"
            )
            variants = [f"{mode}-{fraction:g}-r{r}" for mode, r, _ in members]
            columns = {
                "mode": [mode for mode, _, _ in members],
                "fraction": [float(fraction)] * len(members),
                "repeat": [r for _, r, _ in members],
            }
            parts.append(
                _epoch_frame(history, per_epoch, [seed for _, _, seed in members], variants, columns)
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
        "forgotten, a tail is forgotten many times. Ours: forgetting events per MNIST-1D training example "
        "(all seeds pooled) for the CNN and the MLP; green = unforgettable, red = never learned; dashed = "
        "a Poisson law with the learned examples' mean (what evenly spread forgetting would give).",
        figures.draw_counts,
    ),
    Figure(
        "removal_curve",
        "Paper Fig. 5: test accuracy after removing a growing fraction of the training set, least forgettable "
        "first vs at random — selected removal keeps accuracy longer. Ours: the CNN's test accuracy (mean of "
        "the last epochs, 95 % CI over seeds) on MNIST-1D after removing examples ordered by the summed "
        "forgetting counts of the seeds' runs vs random subsets; fraction 0 is the full-data run.",
        figures.draw_removal,
    ),
)
