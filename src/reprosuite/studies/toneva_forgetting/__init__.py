"""Toneva et al. 2019 — example forgetting during training: many examples are never forgotten, and removing them
costs little.

Paper: "An Empirical Study of Example Forgetting during Deep Neural Network Learning", arXiv:1812.05159 (ICLR
2019); official code mtoneva/example_forgetting (``run_mnist.py``, ``order_examples_by_forgetting.py``).

Claims: some examples are forgotten often and many never ("unforgettable", Fig. 1; the percentages in the
claim are unverified); the count distribution has a long tail (Fig. 1); forgetting statistics are consistent
across seeds and architectures; removing the least-forgettable examples preserves test accuracy better than
removing random ones (Fig. 5). Our pass rules (the paper gives no thresholds): ≥ 5 % of the CNN's examples
unforgettable; heavy tail = the learned examples' counts overdispersed relative to a Poisson law of the same
mean (variance / mean ≥ 1; Poisson 1, geometric 1 + mean); Spearman between the CNN's and the MLP's
per-example counts (each with its own init and data order) > 0.3 per seed; selected removal ≥ random removal
+ 1 pp test accuracy at 25 % removed, test accuracy = the mean over the last ``acc_window`` epochs (the
official script logs per-epoch and best accuracy; which the figures use is unverified).

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
and data-order seed, trained as long on the reduced set; point ``mlp`` = the MLP's forgetting run. Correctness
is accumulated in a buffer that ``trainer.fit(buffers=...)`` checkpoints with the weights.
Tiers: full = 100 epochs, 5 seeds, fractions 0.1–0.6 × 2 repeats; quick = 30 epochs, 3 seeds, fractions 0.25
and 0.5; smoke = 1000 training examples, 5 epochs, 2 seeds.

Cost (2 shared CPU cores): smoke ≈ 12 CPU-s; quick 79 CPU-s of training (``cnn`` 70, ``mlp`` 10), 108 CPU-s
for the workflow; full not measured (≈ 20 CPU-min by scaling quick).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule, per_seed
from reprosuite.metrics.stats import spearman
from reprosuite.study import Figure, Paper

from . import figures, training
from . import forgetting as fg

PAPER = Paper(
    title="An Empirical Study of Example Forgetting during Deep Neural Network Learning",
    authors="Toneva, Sordoni, Combes, Trischler, Bengio, Gordon",
    year=2019,
    arxiv="1812.05159",
    venue="ICLR 2019",
    code="https://github.com/mtoneva/example_forgetting",
)

COST = {
    "smoke": "~12 CPU-s (smoke test, in-process)",
    "quick": "~79 CPU-s training (cnn 70, mlp 10), 108 CPU-s workflow; ~1.5 min wall idle",
    "full": "not measured (5 seeds, 100 epochs, 7 fractions × 2 repeats: ~20 CPU-min by scaling quick)",
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

CLAIMS = (
    Claim(
        "unforgettable",
        "Many examples are never forgotten: ≥ 5 % of training examples are unforgettable (CNN).",
        metric="fraction of examples learned and never forgotten, per seed",
        rule=Rule.at_least(0.05),
        paper_text="91.7 / 75.3 / 31.3 % unforgettable on MNIST / permuted MNIST / CIFAR-10 (unverified: we "
        "could not read the paper's text)",
    ),
    Claim(
        "heavy_tail",
        "Forgetting counts are heavy-tailed: overdispersed relative to a Poisson law with the same mean.",
        metric="variance / mean of the learned examples' forgetting counts (CNN), per seed; Poisson = 1",
        rule=Rule.at_least(1.0),
        paper_text="histograms of forgetting events: most examples never forgotten, a long tail (Fig. 1)",
    ),
    Claim(
        "cross_arch_spearman",
        "Forgetting statistics transfer across architectures: Spearman(CNN counts, MLP counts) > 0.3.",
        metric="Spearman rank correlation of per-example forgetting counts, CNN vs MLP, per seed",
        rule=Rule.at_least(0.3),
        paper_text="forgetting statistics are consistent across seeds and architectures",
    ),
    Claim(
        "selected_removal",
        "Removing the 25 % least-forgettable examples keeps test accuracy ≥ 1 pp above removing 25 % at random.",
        metric="test accuracy (selected removal) − test accuracy (random removal) at 25 % removed, per seed",
        rule=Rule.at_least(0.01),
        paper_text="removing unforgettable examples preserves generalisation (Fig. 5)",
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


FULL_DATA = {"mode": "full", "fraction": 0.0, "repeat": 0}  # the member columns of the forgetting runs


def _epoch_frame(history, per_epoch: int, seeds, variants, members: dict) -> pd.DataFrame:
    runs = history.frame(seeds, variants, members=members)
    runs["step"] = runs["step"] // per_epoch  # step = epoch
    return runs


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    tensors = {k: torch.as_tensor(v, device=device) for k, v in data.items()}
    n = len(data["y"])
    arch = point["arch"]
    offset = training.MLP_ORDER_OFFSET if arch == "mlp" else 0
    keep = torch.arange(n, device=device).expand(len(seeds), n)
    history, per_epoch, correct = training.fit_ensemble(
        cfg, arch, tensors, keep, list(seeds), [s + offset for s in seeds], True, f"{arch} forgetting"
    )
    full = {k: [v] * len(seeds) for k, v in FULL_DATA.items()}
    parts = [_epoch_frame(history, per_epoch, seeds, ["full"] * len(seeds), full)]
    counts = []
    for i, seed in enumerate(seeds):
        c = fg.forgetting_counts(correct[i])
        counts.append(c)
        for metric, values in (("forgetting_count", c), ("learned", fg.learned(correct[i]).astype(float))):
            parts.append(
                pd.DataFrame(
                    {
                        "variant": "full",
                        **FULL_DATA,
                        "seed": seed,
                        "step": np.arange(n),  # the example index
                        "split": "example",
                        "metric": metric,
                        "value": values,
                    }
                )
            )
    if point["removal"]:
        order = fg.order_by_forgetting(np.stack(counts))
        for fraction in cfg.fractions:
            members, kept = [], []
            for r in range(cfg.removal_repeats):
                subsets = training.removal_subsets(order, fraction, seeds, r)
                for mode in ("selected", "random"):
                    for i, seed in enumerate(seeds):
                        members.append((mode, r, seed))
                        kept.append(subsets[mode][i])
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


def example_counts(runs: pd.DataFrame, point: str) -> pd.DataFrame:
    """(seed × example) forgetting counts of one architecture's forgetting run."""
    sel = runs[
        (runs["point"] == point) & (runs["split"] == "example") & (runs["metric"] == "forgetting_count")
    ]
    return sel.pivot_table(index="seed", columns="step", values="value", aggfunc="first")


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per seed: the forgetting statistics of each architecture's full-data run, and the test accuracy of every
    run (member columns mode, fraction, repeat; the statistics belong to the full-data run)."""
    rows = []
    counts = {p: example_counts(runs, p) for p in grid(cfg)}
    learned_runs = runs[(runs["split"] == "example") & (runs["metric"] == "learned")]
    learned = {p: learned_runs[learned_runs["point"] == p].pivot_table(index="seed", columns="step", values="value")
               for p in grid(cfg)}  # fmt: skip
    for point, table in counts.items():
        for seed, c in table.iterrows():
            c = c.to_numpy()
            ok = learned[point].loc[seed].to_numpy() == 1
            rows.append((point, seed, "unforgettable_frac", float(np.mean(ok & (c == 0)))))
            rows.append((point, seed, "never_learned_frac", float(np.mean(~ok))))
            rows.append((point, seed, "mean_count", float(c[ok].mean()) if ok.any() else math.nan))
            rows.append((point, seed, "forgotten_2plus_frac", float(np.mean(ok & (c >= 2)))))
            disp = fg.dispersion_index(c[ok]) if ok.sum() >= 2 else math.nan
            rows.append((point, seed, "dispersion_index", disp))
            rows.append((point, seed, "tail_ratio_2", fg.tail_ratio(c[ok], 2) if ok.any() else math.nan))
        seeds = list(table.index)
        for a, b in zip(seeds, seeds[1:] + seeds[:1], strict=True):
            if a != b:
                rows.append((point, a, "spearman_next_seed", spearman(table.loc[a], table.loc[b])))
    if not counts["cnn"].empty and not counts["mlp"].empty:
        for seed in counts["cnn"].index.intersection(counts["mlp"].index):
            rho = spearman(counts["cnn"].loc[seed], counts["mlp"].loc[seed])
            rows.append(("cnn", seed, "spearman_cnn_mlp", rho))
    stats = pd.DataFrame(rows, columns=["point", "seed", "metric", "value"]).assign(**FULL_DATA)
    acc = runs[(runs["split"] == "test") & (runs["metric"] == "accuracy")]
    member = ["point", *FULL_DATA, "seed"]
    last = (
        acc.sort_values("step")
        .groupby(member)["value"]
        .agg(lambda v: float(v.to_numpy()[-cfg.acc_window :].mean()))
    )
    accuracy = last.reset_index().assign(metric="test_acc")
    return pd.concat([stats, accuracy], ignore_index=True)[["point", "seed", *FULL_DATA, "metric", "value"]]


def removal_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Rows (seed, mode, fraction, accuracy) for the CNN, averaged over removal repeats; fraction 0 is the
    full-data forgetting run."""
    sel = metrics[(metrics["point"] == "cnn") & (metrics["metric"] == "test_acc")]
    full = sel[sel["mode"] == "full"]
    table = pd.concat(
        [full.assign(mode="selected"), full.assign(mode="random"), sel[sel["mode"] != "full"]],
        ignore_index=True,
    ).rename(columns={"value": "accuracy"})[["seed", "mode", "fraction", "accuracy"]]
    return table.groupby(["seed", "mode", "fraction"], as_index=False)["accuracy"].mean()


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for claim, metric in (
        ("unforgettable", "unforgettable_frac"),
        ("heavy_tail", "dispersion_index"),
        ("cross_arch_spearman", "spearman_cnn_mlp"),
    ):
        values = per_seed(metrics, metric, "cnn", mode="full")
        if not values.empty:
            out[claim] = values
    rem = removal_table(metrics)
    at = rem[np.isclose(rem["fraction"], cfg.claim_fraction)]
    if not at.empty:
        wide = at.pivot_table(index="seed", columns="mode", values="accuracy")
        if {"selected", "random"} <= set(wide.columns):
            out["selected_removal"] = (wide["selected"] - wide["random"]).sort_index()
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
