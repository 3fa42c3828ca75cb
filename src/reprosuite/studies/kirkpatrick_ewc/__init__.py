"""Kirkpatrick et al. 2017 — elastic weight consolidation keeps old tasks where SGD forgets and L2 cannot learn.

Paper: "Overcoming catastrophic forgetting in neural networks", PNAS 2017, arXiv:1612.00796 (no official code).

Claims (Fig. 2A: SGD, L2 and EWC on three permuted-MNIST tasks A, B, C trained in sequence): plain SGD forgets
the old tasks (catastrophic forgetting); an L2 penalty anchoring the weights at the old task's solution (the same
strength on every weight) keeps the old task but is too rigid to learn the new ones; EWC — the anchor weighted
by the diagonal Fisher information, L(θ) = L_new(θ) + Σ_old λ/2 Σ_i F_i (θ_i − θ*_old,i)² — keeps both.
The paper shows curves; our pass rules, per seed and paired across methods (all methods of a seed share the
initialisation, the minibatch order and the permutations): (1) final task-A accuracy, EWC − SGD ≥ 10 pp;
(2) the last task's final accuracy, EWC − L2 ≥ 0; (3) SGD's task-A accuracy at the end of task A minus at the
end of training ≥ 20 pp.

Protocol: task A = the identity permutation, later tasks fixed random pixel permutations shared by all seeds;
MLP with two hidden ReLU layers of 400 units (Fig. 2A; PyTorch's default init), plain SGD, each task trained for
a fixed number of epochs (the paper trains to convergence). After each task the empirical diagonal Fisher (mean
squared per-example gradient of the log-likelihood of the true label,
:func:`~reprosuite.studies.kirkpatrick_ewc.ewc.diagonal_fisher`) and the anchor are stored; each later task adds
one quadratic penalty per earlier task (the paper's multi-task form). Test accuracy on every task is recorded
after every epoch. λ: the paper chose it by hyperparameter search and we could not read its value for Fig. 2A
(third-party ``approaches/ewc.py`` code uses λ = 5000 on a Fisher summed over minibatches, not comparable with
our per-example mean); ours were calibrated on digits: EWC λ = 100, L2 λ = 1. Learning rate, batch size and
epochs are ours too. Data: MNIST is not available offline; quick and smoke use scikit-learn digits (8×8,
1,500 train / 297 test, standardised), full MNIST-1D (4,000 train / 1,000 test, 40 inputs) with the 10 tasks of
Fig. 2B. Members = seeds × {SGD, EWC, L2} in one ensemble; the tasks are chained ``trainer.fit`` calls in one
job, so a killed job resumes inside the task it was in.

Cost (2 shared CPU cores): smoke ≈ 3 CPU-s of training; quick 52 CPU-s for the whole pipeline (34 CPU-s
training); full not measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule, per_seed
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Overcoming catastrophic forgetting in neural networks",
    authors="Kirkpatrick et al.",
    year=2017,
    arxiv="1612.00796",
    venue="PNAS 2017",
    code="",
)

COST = {"smoke": "~3 CPU-s training", "quick": "~52 CPU-s (34 CPU-s training)", "full": "not measured"}

METHODS = ("sgd", "ewc", "l2")


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours
    dataset: Literal["mnist", "digits", "mnist1d"] = "mnist"  # Fig. 2A: permuted MNIST
    n_tasks: int = 3  # Fig. 2A: tasks A, B, C (Fig. 2B: up to 10)
    hidden: tuple[int, ...] = (400, 400)  # Fig. 2A: two hidden layers of 400 units
    epochs: int = 20  # per task; the paper trains to convergence; ours
    batch_size: int = 32  # not verified; ours
    lr: float = 0.1  # plain SGD; not verified; ours
    ewc_lambda: float = 100.0  # the paper searched λ; ours, calibrated on digits
    l2_lambda: float = 1.0  # λ of Fig. 2A's L2 anchor; ours, calibrated on digits
    fisher_batch: int = 256  # examples per batch of the Fisher computation (every training example is used)
    perm_seed: int = 0  # seed of the task permutations (shared by all training seeds)


QUICK = replace(Config(), seeds=3, dataset="digits", hidden=(256, 256), epochs=15)
TIERS = {
    "full": replace(Config(), dataset="mnist1d", n_tasks=10),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=2, hidden=(64, 64), epochs=2, batch_size=64),
}
WHY = {
    "dataset": "the full tier on real MNIST is not sized yet (its cost is unmeasured): MNIST-1D (full), digits (quick, smoke: CPU budget)",
    "n_tasks": "full: Fig. 2B's sequence of 10 tasks, a longer test of the same claims",
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "hidden": "2-core CPU budget: narrower layers for digits' 64 inputs",
    "epochs": "2-core CPU budget",
    "batch_size": "smoke: seconds, for tests",
}

CLAIMS = (
    Claim(
        "ewc_keeps_old_task",
        "EWC keeps the first task: its final task-A accuracy is at least SGD's + 10 pp.",
        metric="final task-A accuracy, EWC − SGD (paired per seed)",
        rule=Rule.at_least(0.10),
        paper_text="Fig. 2A: EWC keeps task A near its trained accuracy while SGD drops",
    ),
    Claim(
        "ewc_learns_new_task",
        "EWC still learns new tasks: its accuracy on the last task is at least the L2 anchor's.",
        metric="final last-task accuracy, EWC − L2 (paired per seed)",
        rule=Rule.at_least(0.0),
        paper_text="Fig. 2A: L2 'too rigid' to learn task C; EWC learns it",
    ),
    Claim(
        "sgd_forgets",
        "Plain SGD forgets: task-A accuracy falls by at least 20 pp between the end of task A and the end.",
        metric="SGD task-A accuracy after task A − at the end",
        rule=Rule.at_least(0.20),
        paper_text="Fig. 2A: catastrophic forgetting of task A under SGD",
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets

    from . import ewc

    data = datasets.load(cfg.dataset)
    data["perms"] = ewc.permutations(cfg.n_tasks, data["x"].shape[1], cfg.perm_seed)
    return data


def datasets(cfg: Config) -> tuple[str, ...]:
    """The official dataset files ``make_data`` reads (checked before any job runs)."""
    return ("mnist",) if cfg.dataset == "mnist" else ()


def grid(cfg: Config) -> dict[str, dict]:
    return {"permuted": {"methods": list(METHODS)}}


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    from . import ewc

    methods = list(point["methods"])
    members = [(m, s) for m in methods for s in seeds]
    member_seeds = [s for _, s in members]
    strength = torch.tensor(
        [{"sgd": 0.0, "ewc": cfg.ewc_lambda, "l2": cfg.l2_lambda}[m] for m, _ in members], device=device
    )
    is_ewc = torch.tensor([m == "ewc" for m, _ in members], device=device)
    perms = torch.as_tensor(data["perms"], device=device)
    x = torch.as_tensor(data["x"], dtype=torch.float32, device=device)
    y = torch.as_tensor(data["y"], device=device)
    x_test = torch.as_tensor(data["x_test"], dtype=torch.float32, device=device)
    y_test = torch.as_tensor(data["y_test"], device=device)
    sizes = [x.shape[1], *cfg.hidden, int(data["y"].max()) + 1]
    model = layers.EnsembleMLP(
        sizes, member_seeds, activation="relu", init="uniform_fan_in", bias_init="uniform", device=device
    )
    params = list(model.parameters())
    opt = optim.SGD(params, lr=cfg.lr)
    stream = fn.MinibatchStream(x.shape[0], cfg.batch_size, member_seeds, device=device)
    per_epoch = stream.per_epoch
    steps = cfg.epochs * per_epoch
    anchors: list[list] = []  # per finished task: (anchor params, importance) per parameter
    parts = []

    def evaluate(step):
        out = {}
        for k in range(cfg.n_tasks):
            out[(f"task{k}", "accuracy")] = fn.accuracy(model(x_test[:, perms[k]]), y_test)
        return out

    for task in range(cfg.n_tasks):
        xt = x[:, perms[task]]

        def loss_fn(step, xt=xt, task=task):
            idx = stream.at(task * steps + step)  # (S, B)
            loss = fn.cross_entropy(model(xt[idx]), y[idx])
            for anchor, importance in anchors:
                loss = loss + ewc.quadratic_penalty(params, anchor, importance, strength)
            return loss

        log_steps = [e * per_epoch for e in range(0 if task == 0 else 1, cfg.epochs + 1)]
        history = trainer.fit(loss_fn, opt, steps, evaluate, log_steps, label=f"ewc task {task}")
        frame = history.frame(member_seeds, [m for m, _ in members])
        frame["step"] += task * steps
        frame.loc[frame["metric"] == "diverged_at", "value"] += task * steps
        parts.append(frame)
        if task < cfg.n_tasks - 1:
            with torch.no_grad():
                fisher = ewc.diagonal_fisher(model, xt, y, cfg.fisher_batch)
                anchor = [p.detach().clone() for p in params]
                importance = [
                    torch.where(is_ewc.view(-1, *[1] * (f.dim() - 1)), f, torch.ones_like(f)) for f in fisher
                ]
            anchors.append((anchor, importance))
    runs = pd.concat(parts, ignore_index=True)
    # one diverged_at row per member: the first divergence over all tasks (a frozen member stays frozen)
    diverged = runs["metric"] == "diverged_at"
    first = runs[diverged].groupby(["variant", "seed"], as_index=False).agg(value=("value", "min"))
    first["step"], first["split"], first["metric"] = cfg.n_tasks * steps, "train", "diverged_at"
    return pd.concat([runs[~diverged], first], ignore_index=True)


# --- metrics ----------------------------------------------------------------------------------------------


def task_curves(runs: pd.DataFrame) -> pd.DataFrame:
    """Accuracy rows with the task index parsed: columns variant, seed, step, task, accuracy."""
    acc = runs[(runs["metric"] == "accuracy") & runs["split"].str.startswith("task")].copy()
    acc["task"] = acc["split"].str.removeprefix("task").astype(int)
    return acc.rename(columns={"value": "accuracy"})[["variant", "seed", "step", "task", "accuracy"]]


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (method, seed, task): the final accuracy and the accuracy right after the task's own training."""
    acc = task_curves(runs)
    total = int(acc["step"].max())
    steps_per_task = total // cfg.n_tasks
    rows = []
    for (variant, seed), g in acc.groupby(["variant", "seed"]):
        final = g[g["step"] == total].set_index("task")["accuracy"]
        for k, v in final.items():
            rows.append(("permuted", seed, variant, int(k), "final_accuracy", v))
        for k in range(cfg.n_tasks):
            after = g[(g["step"] == (k + 1) * steps_per_task) & (g["task"] == k)]["accuracy"]
            if not after.empty:
                rows.append(("permuted", seed, variant, k, "after_own_task", float(after.iloc[0])))
    return pd.DataFrame(rows, columns=["point", "seed", "method", "task", "metric", "value"])


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    last = cfg.n_tasks - 1
    out: dict[str, list[float]] = {}
    ewc_a, sgd_a = (
        per_seed(metrics, "final_accuracy", method="ewc", task=0),
        per_seed(metrics, "final_accuracy", method="sgd", task=0),
    )
    if not ewc_a.empty and not sgd_a.empty:
        out["ewc_keeps_old_task"] = (ewc_a - sgd_a).dropna().tolist()
    ewc_n, l2_n = (per_seed(metrics, "final_accuracy", method=m, task=last) for m in ("ewc", "l2"))
    if not ewc_n.empty and not l2_n.empty:
        out["ewc_learns_new_task"] = (ewc_n - l2_n).dropna().tolist()
    after, final = per_seed(metrics, "after_own_task", method="sgd", task=0), sgd_a
    if not after.empty and not final.empty:
        out["sgd_forgets"] = (after - final).dropna().tolist()
    return out


# --- figures ----------------------------------------------------------------------------------------------


def draw_accuracy(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    acc = task_curves(runs)
    total = int(acc["step"].max())
    per_task = total // cfg.n_tasks
    tasks = sorted(acc["task"].unique())
    shown = tasks if len(tasks) <= 4 else [*tasks[:3], tasks[-1]]
    fig, axes = plt.subplots(len(shown), 1, figsize=(7, 1.9 * len(shown) + 0.6), sharex=True, squeeze=False)
    names = {"sgd": "SGD", "ewc": f"EWC (λ={cfg.ewc_lambda:g})", "l2": f"L2 (λ={cfg.l2_lambda:g})"}
    colors = {"sgd": "C3", "ewc": "C0", "l2": "C2"}
    for ax, k in zip(axes[:, 0], shown, strict=True):
        sel = acc[(acc["task"] == k) & (acc["step"] >= k * per_task)].copy()
        sel["epoch"] = sel["step"] / per_task * cfg.epochs
        for variant, g in sel.groupby("variant"):
            sns.lineplot(
                data=g,
                x="epoch",
                y="accuracy",
                ax=ax,
                color=colors.get(variant),
                label=names.get(variant, variant),
                errorbar=("pi", 100),
            )
        for b in range(1, cfg.n_tasks):
            ax.axvline(b * cfg.epochs, color="0.7", lw=0.8, ls="--")
        ax.set(ylabel=f"task {chr(65 + k) if k < 26 else k}\ntest acc.", ylim=(0, 1.02))
        ax.legend(fontsize=7, loc="lower left")
    axes[-1, 0].set_xlabel("training epoch (tasks in sequence, dashed = task switch)")
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "task_accuracy",
        "Paper Fig. 2A: test accuracy on permuted-MNIST tasks A, B, C over sequential training — SGD forgets "
        "A, L2 keeps A but fails to learn B and C, EWC keeps A and learns the new tasks. Ours: the same on "
        "pixel-permuted digits (MNIST-1D at full tier), one panel per task from the moment its training starts, "
        "one line per method (mean over seeds, band = min–max).",
        draw_accuracy,
    ),
)
