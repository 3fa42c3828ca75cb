"""A study to copy: ``cp src/reprosuite/studies/_template.py src/reprosuite/studies/<author>_<topic>.py``.

Discovery skips names starting with ``_``, so this file is not part of the suite; ``tests/unit/test_template.py``
checks that it follows the interface and runs. Replace every part by your paper's; keep the order of the sections.

Paper: <authors> <year>, "<title>", <venue> (arXiv:0000.00000; official code <repo>).

Claims (each with the paper's number and where it is stated; our pass rule, "ours" where the paper gives none):
1. ``loss_falls`` — full-batch gradient descent on least squares drives the training loss below 1 % of its
   initial value (textbook: linear convergence at rate 1 − η·λ_min; ours: the 1 % level).

Protocol: the paper's in ``Config``'s defaults (sections cited per field); the tiers change only what ``WHY``
explains, and ``reprosuite show <study>`` prints the deviations. Cost per tier in ``COST``, measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule, per_seed
from reprosuite.metrics import curves
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="<title>",
    authors="<authors>",
    year=2000,
    arxiv="0000.00000",
    venue="<venue>",
    code="<official repository>",
)

COST = {"smoke": "~2 CPU-s", "quick": "~3 CPU-s", "full": "~5 CPU-s"}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # §4: five runs
    n: int = 512  # §4: training examples
    dim: int = 32  # §4: input dimension
    steps: int = 2000  # §4: gradient-descent steps
    lr: float = 0.3  # §4: learning rate (below 2 / λ_max of the loss Hessian 2XᵀX/n)
    init: Literal["normal", "zeros"] = "zeros"  # §4: weights start at zero
    level: float = 0.01  # ours: "converged" = 1 % of the initial loss


QUICK = replace(Config(), steps=500, seeds=3)
TIERS = {"full": Config(), "quick": QUICK, "smoke": replace(QUICK, steps=100, seeds=2)}
WHY = {
    "steps": "CPU budget; the loss crosses its level within 100 steps at this lr",
    "seeds": "CPU budget",
}


# ---------------------------------------------------------------------------------------------------- data
def grid(cfg: Config) -> dict[str, dict]:
    """One training job per grid point; here one point, all seeds batched."""
    return {"gd": {"lr": cfg.lr}}


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cfg.n, cfg.dim))
    return {"x": x.astype(np.float32), "y": (x @ rng.standard_normal(cfg.dim)).astype(np.float32)}


# ---------------------------------------------------------------------------------------------------- training
def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    x, y = (torch.as_tensor(data[k], device=device) for k in ("x", "y"))
    model = layers.EnsembleMLP([cfg.dim, 1], seeds, init=cfg.init, bias=False, device=device)

    def loss_fn(step: int) -> torch.Tensor:  # (S,) one loss per member
        return fn.mse(model(x).squeeze(-1), y)

    def evaluate(step: int) -> dict[tuple[str, str], torch.Tensor]:
        return {("train", "loss"): fn.mse(model(x).squeeze(-1), y)}

    opt = optim.SGD(list(model.parameters()), lr=point["lr"])
    history = trainer.fit(
        loss_fn, opt, cfg.steps, evaluate, trainer.log_schedule(cfg.steps), label="template"
    )
    return history.frame(seeds, members={"lr": [point["lr"]] * len(seeds)})


# ---------------------------------------------------------------------------------------------------- metrics
def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per seed: the first step at which the training loss is below ``level`` × its initial value (censored
    at the budget: :data:`curves.NEVER`)."""
    rows = []
    loss = runs[runs["metric"] == "loss"].sort_values("step")
    for (point, seed), g in loss.groupby(["point", "seed"]):
        level = cfg.level * float(g["value"].iloc[0])
        rows.append(
            (point, seed, "t_converged", curves.first_reaching(g["step"], g["value"], level, below=True))
        )
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


# ---------------------------------------------------------------------------------------------------- claims
CLAIMS = (
    Claim(
        id="loss_falls",
        statement="gradient descent reaches 1 % of the initial training loss within the step budget",
        metric="per seed: first step with loss ≤ 1 % of the initial loss",
        rule=Rule.at_most(2000),
        paper_text="linear convergence (textbook)",
    ),
)


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, pd.Series]:
    return {"loss_falls": per_seed(metrics, "t_converged", "gd")}


# ---------------------------------------------------------------------------------------------------- figures
def draw_loss(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(5, 3.5))
    sns.lineplot(runs[runs["metric"] == "loss"], x="step", y="value", errorbar="sd", ax=ax)
    ax.set(xlabel="step", ylabel="training MSE", yscale="log")
    return fig


FIGURES = (
    Figure(
        name="loss",
        caption="Paper: <what its figure shows>. Ours: the training loss per step, mean ± sd over seeds.",
        draw=draw_loss,
    ),
)
