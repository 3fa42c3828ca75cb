"""Shwartz-Ziv, Goldblum, Bansal, Bruss, LeCun, Wilson 2024, "Just How Flexible are Neural Networks in Practice?"
(arXiv:2406.11463; submitted to ICLR 2025). No official code was found.

Sources: the paper's abstract (arXiv v1; its five findings are quoted in the claims below). The paper's body —
its datasets, architectures, learning rates and convergence criteria — could not be read here, so every protocol
number below is **ours** and every paper value is unverified; only the direction of each finding is the paper's.

Effective model complexity (EMC, after Nakkiran et al. 2020, who define it for a training procedure *including its
budget*): the largest training-set size ``n`` that the procedure fits to 100 % training accuracy. Ours: doubling
from ``n = start`` until a run fails, then ``bisections`` bisection steps (:mod:`reprosuite.engine.analysis.emc`).
A trial stops when it fits (checked every ``check_every`` steps); when it is stationary without fitting (the norm
of its gradient averaged over the last check window < ``g_tol`` after ``min_steps``; ours, fixed before any quick
run, replacing a loss-plateau rule that declares slow starters "not fitted"); or at the step budget. A budget hit
is **flagged censored**: it failed within the procedure's budget but was not shown stationary, so the EMC of the
same procedure *run to convergence* is only bounded below (``emc_censored``, ``censored_*`` metrics, figure
``search_traces``; F0 checks every budget hit is flagged). The claims compare the EMCs of the budgeted procedure,
which are exact (no ``censored_at``): calibration showed SGD at a constant lr never becomes stationary on sets
it cannot fit within any CPU budget (the window-averaged gradient stays ~0.02 after 30 000 steps), so judging
the converged EMC would leave every claim undecided by construction; the censored share is reported beside it.
All members of a grid point (seed × true/random labels × learning rate) search together as one batched model,
each with its own ``n``; all seeds see the same nested subsets of the training set and differ in initialisation,
label draw and minibatch order. A condition's EMC per seed is the **largest over the learning-rate grid** ``lrs``
(ours: the tuned procedure; rule fixed in advance).

Claims (statistic per seed, 95 % interval; rules ours):

- ``F0`` (sanity; mean of a 0/1 per seed, ≥ 1): every search log is monotone — every size tried at or below the
  EMC was fitted, every size above failed — and every trial that ended at the budget is flagged censored.
- ``F4a`` (empirical; finding 4, "the difference in capacity to fit correctly labeled and incorrectly labeled
  samples"): log EMC(true labels) − log EMC(random labels), MLP + SGD; mean ≥ log 1.2. Control: the same inputs
  replaced by Gaussian noise (labels then carry no information about inputs, so "true" labels are random labels
  in distribution): it removes the mechanism (learnable input–label structure) and must not pass.
- ``F2`` (empirical, full only; finding 2, "convolutional networks are more parameter-efficient than MLPs ...
  even on randomly labeled data"): log of (EMC/params)_CNN / (EMC/params)_MLP on random labels; mean ≥ 0.
  Control: the CNN on inputs whose pixels are permuted identically for all samples (locality removed).
- ``F3`` (empirical, full only; finding 3, "SGD actually finds minima that fit more training data than full-batch
  gradient descent"): log EMC_SGD − log EMC_GD, MLP, random labels; mean ≥ 0. Control: the convex readout of a
  frozen random ReLU layer, SGD vs GD — both reach the same optimum, so the difference must not pass.
- ``F4b`` (empirical, full only; finding 4, "can be predictive of generalization"): per seed, Spearman ρ over the
  ≥ 8 real-input models between the normalised gap (EMC_true − EMC_random)/EMC_true and the test accuracy of the
  true-label model trained on its EMC-sized set; mean ≥ 0. Control: the same ρ against a shuffled test labelling
  (no generalisable signal).
- ``F5`` (empirical, full only; finding 5, "ReLU activation functions result in finding minima that fit more
  data"): log EMC_ReLU − log EMC_sigmoid, MLP, random labels; mean ≥ 0. Control (ours): the frozen-random-layer
  readout with ReLU vs sigmoid features — only the readout is trained, so the activation changes the features but
  not the optimisation of the hidden layer that the paper's mechanism concerns.

Not a claim — finding 1 ("standard optimizers find minima where the model can only fit training sets with
significantly fewer samples than it has parameters"): EMC/params is recorded (metric ``emc_per_param_*`` and the
figure ``emc_vs_params``) but not judged. Its natural control, a convex model of the same trainable size under the
same procedure, also gives EMC/params < 1 on 10 classes (each sample imposes 9 margin constraints: counting
samples against parameters is a regression intuition), so "< 1" cannot separate optimiser limits from counting.
The binary-label recast (reference: Cover's capacity 2p of a linear model) would compare an SGD-trained net with
the exact capacity of a *different* procedure (the LP), which the same SGD procedure does not reach on the linear
model either; neither version isolates the paper's mechanism, so it is dropped.

Quick tier (MNIST-1D, CPU): only ``F4a`` (and ``F0``) — a calibration showed that the directions of ``F2``,
``F3``, ``F5`` at this scale are set by the learning rate and the stopping rule, not by the mechanisms; they and
``F4b`` (needs ≥ 8 models) run at full tier only: real MNIST, MLPs of three widths and two depths, CNNs of three
widths, SGD vs full-batch GD, ReLU vs sigmoid, true vs random labels, a three-value learning-rate grid, 5 seeds.
Caveats: EMC depends strongly on training hyperparameters (learning rate, budget, stopping rule); the paper's
Hessian check (no negative eigenvalue at a stationary point) is not run; SGD here samples minibatches with
replacement; test accuracy is measured on the model trained on the EMC-sized set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.study import Paper

from .analysis import CLAIMS, FIGURES, LABELS, MODELS, extract, measure

__all__ = ["CLAIMS", "FIGURES", "MODELS", "extract", "measure"]

PAPER = Paper(
    title="Just How Flexible are Neural Networks in Practice?",
    authors="Shwartz-Ziv, Goldblum, Bansal, Bruss, LeCun, Wilson",
    year=2024,
    arxiv="2406.11463",
    venue="submitted to ICLR 2025",
    code="none found",
)

# condition -> architecture, optimiser, inputs; width is a multiple of Config.width (MLP/readout) or .channels (CNN)
CONDITIONS = {
    "mlp": dict(kind="mlp", scale=1, depth=2, act="relu", opt="sgd", inputs="real"),
    "noise": dict(kind="mlp", scale=1, depth=2, act="relu", opt="sgd", inputs="noise"),
    "mlp_s": dict(kind="mlp", scale=0.5, depth=2, act="relu", opt="sgd", inputs="real"),
    "mlp_l": dict(kind="mlp", scale=2, depth=2, act="relu", opt="sgd", inputs="real"),
    "mlp_deep": dict(kind="mlp", scale=1, depth=4, act="relu", opt="sgd", inputs="real"),
    "mlp_gd": dict(kind="mlp", scale=1, depth=2, act="relu", opt="gd", inputs="real"),
    "mlp_sigmoid": dict(kind="mlp", scale=1, depth=2, act="sigmoid", opt="sgd", inputs="real"),
    "cnn_s": dict(kind="cnn", scale=0.5, depth=2, act="relu", opt="sgd", inputs="real"),
    "cnn": dict(kind="cnn", scale=1, depth=2, act="relu", opt="sgd", inputs="real"),
    "cnn_l": dict(kind="cnn", scale=2, depth=2, act="relu", opt="sgd", inputs="real"),
    "cnn_permuted": dict(kind="cnn", scale=1, depth=2, act="relu", opt="sgd", inputs="permuted"),
    "rf": dict(kind="readout", scale=1, depth=1, act="relu", opt="sgd", inputs="real"),
    "rf_gd": dict(kind="readout", scale=1, depth=1, act="relu", opt="gd", inputs="real"),
    "rf_sigmoid": dict(kind="readout", scale=1, depth=1, act="sigmoid", opt="sgd", inputs="real"),
}

COST = {
    "smoke": "~5 CPU-s (2 points: 3.1 + 1.6 CPU-s)",
    "quick": "~34 CPU-s (2 points, 3 seeds × true/random labels batched: 17.5 + 16.7 CPU-s)",
    "full": "14 points × 30 members (5 seeds × true/random × 3 lrs) on MNIST, GPU; the CPU probe runs every "
    "point's first step under 6 GB (peak 2.0 GB) and bounds a point by 14 stages × the step budget",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # ours (the paper's seed count was not read)
    dataset: Literal["mnist", "mnist1d"] = (
        "mnist"  # abstract: MNIST among the datasets (CIFAR/ImageNet not here)
    )
    data_seed: int = 0  # ours: Gaussian-noise inputs, test-label shuffle, MNIST-1D generation
    conditions: tuple[str, ...] = tuple(CONDITIONS)  # ours: the grid of the five findings and their controls
    width: int = 64  # ours: MLP hidden width (scaled ×0.5, ×2 by mlp_s, mlp_l); readout width = 8 × this
    channels: int = 16  # ours: CNN first-layer channels (second layer 2×)
    lrs: tuple[float, ...] = (0.01, 0.03, 0.1)  # ours: per-condition grid; the best EMC per seed is kept
    momentum: float = 0.9  # ours
    batch: int = 128  # ours: SGD minibatch (sampled with replacement)
    budget: int = 50_000  # ours: SGD step budget of one trial (then censored)
    budget_gd: int = 20_000  # ours: full-batch GD step budget
    check_every: int = 250  # ours: steps between fit / stationarity checks
    g_tol: float = 1e-3  # ours: stationary when the full-loss gradient norm is below this
    min_steps: int = 1000  # ours: no stationarity verdict before this step
    start: int = 64  # ours: first n of the doubling
    bisections: int = 3  # ours: bisection steps after the first failure
    n_max: int = 60_000  # MNIST's training set


QUICK = replace(
    Config(),
    seeds=3,
    dataset="mnist1d",
    conditions=("mlp", "noise"),
    width=32,
    lrs=(0.05,),
    batch=32,
    budget=4000,
    check_every=100,
    n_max=4000,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=2, width=16, budget=1000, min_steps=500, n_max=256),
}
WHY = {
    "seeds": "CPU budget (3 seeds batched at quick, 2 at smoke)",
    "dataset": "CPU: MNIST-1D (40 features, generated offline) instead of MNIST",
    "conditions": "only F4a (MLP) and its noise-input control are decidable at CPU scale (see the docstring)",
    "width": "MNIST-1D MLP 40-32-32-10 (2698 parameters) at quick, 40-16-16-10 at smoke",
    "lrs": "one lr (0.05) at quick: a calibration found EMCs within the budget at it",
    "batch": "batch 32 on MNIST-1D (few samples per trial)",
    "budget": "CPU budget (40 CPU-s for the quick tier): 4000 SGD steps per trial, 1000 at smoke",
    "min_steps": "smoke: the 1000-step budget",
    "check_every": "more frequent checks on the small MNIST-1D trials",
    "n_max": "MNIST-1D's 4000 training samples (256 at smoke)",
}


def datasets(cfg: Config) -> tuple[str, ...]:
    return ("mnist",) if cfg.dataset == "mnist" else ()


def grid(cfg: Config) -> dict[str, dict]:
    unknown = [c for c in cfg.conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown conditions {unknown}; choose from {sorted(CONDITIONS)}")
    if cfg.dataset == "mnist1d" and any(CONDITIONS[c]["kind"] == "cnn" for c in cfg.conditions):
        raise ValueError("the CNN conditions need square images (dataset mnist)")
    out = {}
    for c in cfg.conditions:
        a = dict(CONDITIONS[c])
        base = cfg.channels if a["kind"] == "cnn" else cfg.width * (8 if a["kind"] == "readout" else 1)
        a["width"] = max(1, int(round(base * a.pop("scale"))))
        out[c] = a
    return out


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets as ds

    d = ds.load("mnist1d", cfg.data_seed) if cfg.dataset == "mnist1d" else ds.load("mnist")
    rng = np.random.default_rng(cfg.data_seed)
    d["y_test_shuffled"] = rng.permutation(d["y_test"])
    d["perm"] = rng.permutation(d["x"].shape[1])
    return d


def random_labels(seed: int, size: int, classes: int) -> np.ndarray:
    """A seed's random labelling of the training pool (uniform over the classes)."""
    return np.random.default_rng([int(seed), 1]).integers(0, classes, size)


def members(cfg: Config, seeds) -> list[tuple[int, str, float]]:
    return [(int(s), lab, float(lr)) for s in seeds for lab in LABELS for lr in cfg.lrs]


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.analysis import emc
    from reprosuite.engine.train import checkpoint, trainer

    from . import fitting

    torch.set_flush_denormal(True)
    classes = int(data["y"].max()) + 1
    x, x_test = torch.as_tensor(data["x"]), torch.as_tensor(data["x_test"])
    if point["inputs"] == "noise":
        g = torch.Generator().manual_seed(int(cfg.data_seed) + 1)
        x, x_test = torch.randn(x.shape, generator=g), torch.randn(x_test.shape, generator=g)
    elif point["inputs"] == "permuted":
        perm = torch.as_tensor(data["perm"])
        x, x_test = x[:, perm], x_test[:, perm]
    mem = members(cfg, seeds)
    ys = [data["y"] if lab == "true" else random_labels(s, len(data["y"]), classes) for s, lab, _ in mem]
    y = torch.as_tensor(np.stack(ys)).long().to(device)
    x, x_test = x.to(device), x_test.to(device)
    y_test, y_shuf = (torch.as_tensor(data[k]).long().to(device) for k in ("y_test", "y_test_shuffled"))
    n_max = min(cfg.n_max, len(x))
    kw = dict(start=cfg.start, bisections=cfg.bisections, n_max=n_max)
    slot = checkpoint.Slot()
    state = slot.state or {"stage": 0, "records": [], "trials": [[] for _ in mem]}
    searches = [emc.Search.from_trials(t, **kw) for t in state["trials"]]
    records, stage = list(state["records"]), int(state["stage"])
    hp = dict(
        classes=classes,
        momentum=cfg.momentum,
        batch=cfg.batch,
        budget=cfg.budget,
        budget_gd=cfg.budget_gd,
        check_every=cfg.check_every,
        g_tol=cfg.g_tol,
        min_steps=cfg.min_steps,
        eval_chunk=512 if point["kind"] == "cnn" else 4096,
    )
    budget = cfg.budget_gd if point["opt"] == "gd" else cfg.budget
    stages = math.ceil(math.log2(max(n_max / cfg.start, 1))) + 1 + cfg.bisections
    label = f"emc {point['kind']}-{point['width']} {point['opt']} {point['act']} {point['inputs']}"
    progress = trainer.Progress(stages * budget, label)
    while active := [m for m, s in enumerate(searches) if not s.done]:
        n = [searches[m].next() for m in active]
        res = fitting.run_trial(
            point,
            x,
            y[active],
            n,
            [mem[m][2] for m in active],
            [mem[m][0] for m in active],
            stage,
            point["opt"],
            hp,
            x_test,
            y_test,
            y_shuf,
            lambda i, k=stage: progress.update(k * budget + i),
        )
        for j, m in enumerate(active):
            searches[m].report(bool(res["fitted"][j]), bool(res["censored"][j]))
            rec = {
                k: float(res[k][j])
                for k in (
                    "fitted",
                    "censored",
                    "steps",
                    "acc",
                    "loss",
                    "drift",
                    "test_acc",
                    "test_acc_shuf",
                )
            }
            records.append({"member": m, "stage": stage, "n": float(n[j]), **rec})
        stage += 1
        slot.save(
            lambda stage=stage: {
                "stage": stage,
                "records": records,
                "trials": [[(t.n, t.fitted, t.censored) for t in s.trials] for s in searches],
            }
        )
    progress.update(progress.total, force=True)
    return _frame(cfg, point, mem, searches, records, classes, data["x"].shape[1], budget)


def flags_ok(records: list[dict], budget: int) -> bool:
    """Every trial that ran to the budget without fitting is flagged censored, and only those are."""
    return all(bool(r["censored"]) == (not r["fitted"] and r["steps"] >= budget) for r in records)


def _frame(cfg, point, mem, searches, records, classes, dim, budget) -> pd.DataFrame:
    from . import fitting

    rows = []
    for r in records:
        s, lab, lr = mem[r["member"]]
        for k in ("n", "fitted", "censored", "steps", "acc", "loss", "drift"):
            rows.append((s, lab, lr, r["stage"], "search", k, r[k]))
    params = fitting.count_params(point, dim, classes)
    for m, (s, lab, lr) in enumerate(mem):
        se = searches[m]
        at = [r for r in records if r["member"] == m and r["n"] == se.emc and r["fitted"]]
        last = max((r["stage"] for r in records if r["member"] == m), default=0)
        for k, v in (
            ("emc", se.emc),
            ("emc_censored", se.censored),
            ("consistent", se.consistent),
            ("flags_ok", flags_ok([r for r in records if r["member"] == m], budget)),
            ("params", params),
            ("test_acc", at[0]["test_acc"] if at else math.nan),
            ("test_acc_shuf", at[0]["test_acc_shuf"] if at else math.nan),
        ):
            rows.append((s, lab, lr, last, "emc", k, float(v)))
    return pd.DataFrame(rows, columns=["seed", "labels", "lr", "step", "split", "metric", "value"])
