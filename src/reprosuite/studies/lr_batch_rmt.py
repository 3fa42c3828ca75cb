"""Granziol, Zohren, Roberts 2022 — learning rates as a function of batch size, from random matrix theory.

"Learning Rates as a Function of Batch Size: A Random Matrix Theory Approach to Neural Network Training",
JMLR 23(173):1–65, 2022, arXiv:2006.09092 (no official code release found).

Claims (SUITE.md): the extremal eigenvalues of the mini-batch Hessian H_B exceed those of the full (empirical)
Hessian and shrink as the batch size B grows (the batch Hessian is the empirical Hessian plus a fluctuation
matrix whose spectral norm falls with B, the paper's spiked field-dependent random-matrix model); hence the
largest stable learning rate grows ~linearly in B for SGD and ~√B for adaptive methods such as Adam, while B is
small against the dataset. The paper checks this on VGG-16 / WideResNet on CIFAR-100 and ImageNet (plus an MLP on
Gaussian-mixture data for the spectrum); it reports the scaling rules (exponents 1 and ½) rather than a table of
eigenvalues, so ``paper_value`` is the exponent, or ``None`` where the paper gives only a direction.

Looked up (search tool: the JMLR abstract page jmlr.org/papers/v23/20-1258 and the arXiv 2006.09092 text at
hf.zsm.im/papers/2006.09092.md): title, venue, the claims above and the datasets/architectures. Not verified:
the exact protocol of the paper's learning-rate sweeps; ours follows SUITE.md (MNIST-1D, 2×256 ReLU MLP,
B ∈ {16…512}, learning-rate grid 2^k, 3 epochs, λ_max by power iteration over 10 batches).

Protocol. Hessian point: at initialisation (PyTorch's default U(±1/√fan_in) weights, zero biases), λ_max of the
cross-entropy Hessian of 10 mini-batches per B (per-member data order from
:class:`~reprosuite.engine.train.functional.MinibatchStream`), averaged, and of the full training set, by power
iteration with Hessian-vector products (:mod:`reprosuite.engine.analysis.hessian`). Learning-rate points, one per B:
every learning rate of the grid × seed is an ensemble member, trained with plain SGD (no momentum) and,
separately, with Adam (β = 0.9, 0.999, no weight decay) for ``epochs`` epochs; a member is *stable* when it did
not diverge and its final training loss (on the first ``eval_examples`` training examples) is below ``stable_ratio`` × its initial loss; η_max is the largest
stable learning rate on the grid (NaN when the top of the grid is still stable). Per seed, the slope of log η_max vs log B is a least-squares fit over
B ≤ ``slope_max_batch``. Pass rules (ours, SUITE.md): Spearman(B, λ_max(H_B)) ≤ −0.9; λ_max(H_16) ≥ 1.5×
λ_max(H_full); SGD slope in [0.6, 1.2]; Adam slope in [0.25, 0.75].

Quick tier measured (3 seeds): λ_max(H_B) falls monotonically with B (Spearman −1 every seed: pass), from 1.29–1.39
at B = 16 to 0.74–0.83 at B = 512 and 0.70–0.81 full batch; λ_max(H_16)/λ_max(H_full) = 1.79 [1.48, 2.10]
(inconclusive: the CI touches 1.5). Adam's η_max goes 2^-5 → 2^-4 over B = 16…128: slope 0.37 [0.22, 0.51],
inconclusive (0.40, pass, before the optimiser's update was rewritten in place in session 3: the new rounding,
torch.optim.AdamW's lerp form, moved one seed's η_max at B = 32 up one grid step; the 2^k grid is that coarse). SGD's
η_max goes 2^0 → 2^1 and then plateaus: slope 0.33 [0.19, 0.48], **fail**. Why: at initialisation of this small
MLP on MNIST-1D the batch Hessian's top eigenvalue is only 1.8× the full one at B = 16, so the curvature bound
2/λ_max(H_B) moves by less than a factor 2 over B = 16…512; the paper's linear rule needs the fluctuation term
(∝ 1/B) to dominate λ_max(H_B), which it does not here. The 2^k grid also resolves η_max only to a factor 2 (the
full tier uses 2^(k/2)). The stability threshold (loss must fall by 10 %) was set after seeing the quick runs,
where members stuck at chance level (loss ≈ ln 10 ≈ the initial loss) had counted as stable; it does not change
the SGD verdict (slope 0.33 either way) and makes Adam's η_max measurable (before, its top grid rate was "stable"
at chance level, so η_max was censored).

Runtime (2 shared CPU cores under load average 7–8, so wall ≈ 4× CPU): smoke 54 s wall, 43 s CPU (3 training jobs:
hessian + 2 batch sizes; start-ups dominate); quick 833 s wall, 248 s CPU (7 jobs: hessian 152 s wall, B16 282 s,
B32 255 s, B64…B512 18–49 s each) — above the 3-minute budget even in CPU time; the B16/B32 points (750/375 steps
× 60 members) are the cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.metrics.stats import spearman
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title=(
        "Learning Rates as a Function of Batch Size: A Random Matrix Theory Approach to Neural Network Training"
    ),
    authors="Granziol, Zohren, Roberts",
    year=2022,
    arxiv="2006.09092",
    venue="JMLR 23(173)",
)

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Config:
    seeds: int = 3
    dataset: str = "mnist1d"  # SUITE.md quick protocol (the paper: CIFAR-100 / ImageNet, §7)
    hidden: tuple[int, ...] = (256, 256)  # SUITE.md: 2×256 MLP
    activation: str = "relu"
    batch_sizes: tuple[int, ...] = (16, 32, 64, 128, 256, 512)  # SUITE.md: B ∈ {16…512}
    slope_max_batch: int = 128  # SUITE.md: slope over B ≤ 128 (the theory needs B ≪ N)
    sgd_log2_lr: tuple[float, float] = (-6.0, 5.0)  # grid 2^k, k from … to …, step lr_step_log2
    adam_log2_lr: tuple[float, float] = (-14.0, -1.0)
    lr_step_log2: float = 1.0  # SUITE.md: grid 2^k
    epochs: int = 3  # SUITE.md: 3 epochs per learning rate
    eval_examples: int = 4000  # training examples on which the initial and final loss are measured
    # stable: never diverged and the final loss fell below stable_ratio × the initial loss; a member stuck at
    # chance level (ln 10 ≈ the initial loss) did not train, so the loss must fall by at least 10 %
    stable_ratio: float = 0.9
    hessian_batches: int = 10  # SUITE.md: λ_max over 10 batches
    power_iters: int = 20
    optimizers: tuple[str, ...] = OPTIMIZERS


TIERS = {
    "smoke": Config(
        seeds=2,
        hidden=(64, 64),
        batch_sizes=(16, 64),
        slope_max_batch=64,
        sgd_log2_lr=(-4.0, 4.0),
        adam_log2_lr=(-12.0, -2.0),
        lr_step_log2=1.0,
        epochs=1,
        hessian_batches=2,
        power_iters=8,
    ),
    "quick": Config(seeds=3, sgd_log2_lr=(-4.0, 4.0), adam_log2_lr=(-13.0, -3.0), eval_examples=1000),
    "full": Config(seeds=5, lr_step_log2=0.5, hessian_batches=20, power_iters=50),
}

COST = {"smoke": "54 s wall / 43 s CPU (loaded)", "quick": "833 s wall / 248 s CPU (loaded)"}


def grid(cfg: Config) -> dict[str, dict]:
    points = {"hessian": {"kind": "hessian"}}
    points.update({f"B{b}": {"kind": "lr", "batch": int(b)} for b in cfg.batch_sizes})
    return points


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets

    d = datasets.load(cfg.dataset, seed=0)
    return {"x": d["x"], "y": d["y"]}


def lr_grid(lo: float, hi: float, step: float) -> list[float]:
    """log2 learning rates lo, lo + step, …, hi."""
    return [float(v) for v in np.round(np.arange(lo, hi + step / 2, step), 6)]


# ---------------------------------------------------------------------------------------------------- training
def _model(cfg: Config, n_in: int, n_out: int, seeds: list[int], device):
    from reprosuite.engine.models import layers

    sizes = (n_in, *cfg.hidden, n_out)
    return layers.EnsembleMLP(sizes, seeds, activation=cfg.activation, device=device)


def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    import torch

    torch.set_flush_denormal(True)
    x = torch.as_tensor(data["x"], device=device)
    y = torch.as_tensor(data["y"], device=device)
    if point["kind"] == "hessian":
        return _hessian_point(cfg, x, y, seeds, device)
    return pd.concat(
        [_lr_point(cfg, opt, int(point["batch"]), x, y, seeds, device) for opt in cfg.optimizers],
        ignore_index=True,
    )


def _hessian_point(cfg: Config, x, y, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.analysis import hessian
    from reprosuite.engine.train import functional

    model = _model(cfg, x.shape[1], int(y.max()) + 1, seeds, device)
    params = list(model.parameters())
    gen = torch.Generator().manual_seed(int(seeds[0]))
    rows = []

    def record(metric: str, values: torch.Tensor) -> None:
        rows.extend(
            ("", s, 0, "hessian", metric, float(v)) for s, v in zip(seeds, values.tolist(), strict=True)
        )

    for b in cfg.batch_sizes:
        stream = functional.MinibatchStream(len(y), b, seeds, device)
        estimates = []
        for i in range(cfg.hessian_batches):
            idx = stream.at(i)  # (S, B)

            def loss(idx=idx):
                return functional.cross_entropy(model(x[idx]), y[idx])

            estimates.append(hessian.top_eigenvalue(loss, params, cfg.power_iters, gen))
        record(f"lambda_B{b}", torch.stack(estimates).mean(0))
    full = hessian.top_eigenvalue(lambda: functional.cross_entropy(model(x), y), params, cfg.power_iters, gen)
    record("lambda_full", full)
    return pd.DataFrame(rows, columns=["variant", "seed", "step", "split", "metric", "value"])


def _lr_point(cfg: Config, opt_name: str, batch: int, x, y, seeds: list[int], device) -> pd.DataFrame:
    from reprosuite.engine.train import functional, optim, trainer

    span = cfg.sgd_log2_lr if opt_name == "sgd" else cfg.adam_log2_lr
    log2_lrs = lr_grid(*span, cfg.lr_step_log2)
    member_seeds = [s for _ in log2_lrs for s in seeds]  # lr-major, seeds within
    variants = [f"{opt_name}|{k:g}" for k in log2_lrs for _ in seeds]
    lrs = [2.0**k for k in log2_lrs for _ in seeds]
    model = _model(cfg, x.shape[1], int(y.max()) + 1, member_seeds, device)
    params = list(model.parameters())
    if opt_name == "sgd":
        opt = optim.SGD(params, lr=lrs, momentum=0.0, weight_decay=0.0)
    else:
        opt = optim.AdamW(params, lr=lrs, weight_decay=0.0)
    stream = functional.MinibatchStream(len(y), batch, member_seeds, device)
    steps = cfg.epochs * stream.per_epoch

    def loss_fn(step: int):
        idx = stream.at(step)
        return functional.cross_entropy(model(x[idx]), y[idx])

    def evaluate(step: int):
        n_eval = min(cfg.eval_examples, len(y))
        return {("train", "loss"): functional.cross_entropy(model(x[:n_eval]), y[:n_eval])}

    history = trainer.fit(loss_fn, opt, steps, evaluate, [0, steps], label=f"{opt_name} B={batch}")
    return history.frame(member_seeds, variants)


# ---------------------------------------------------------------------------------------------------- metrics
def stable_lrs(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (point, optimiser, log2 lr, seed): whether the member trained stably (see module docstring)."""
    sel = runs[runs["split"] == "train"]
    sel = sel[sel["variant"].str.contains("|", regex=False)]
    rows = []
    for (point, variant, seed), member in sel.groupby(["point", "variant", "seed"]):
        loss = member[member["metric"] == "loss"].sort_values("step")["value"].to_numpy()
        diverged = member.loc[member["metric"] == "diverged_at", "value"].notna().any()
        first, last = loss[0], loss[-1]
        ok = bool(not diverged and np.isfinite(last) and last < cfg.stable_ratio * first)
        opt_name, log2_lr = variant.split("|")
        rows.append((point, int(point.removeprefix("B")), opt_name, float(log2_lr), seed, ok, last))
    return pd.DataFrame(
        rows, columns=["point", "batch", "optimizer", "log2_lr", "seed", "stable", "final_loss"]
    )


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per seed: λ_max per B and full batch (point ``hessian``), log2 η_max per optimiser and B."""
    rows = []
    hess = runs[runs["split"] == "hessian"]
    for (seed, metric), v in hess.groupby(["seed", "metric"]):
        rows.append(("hessian", seed, metric, float(v["value"].iloc[0])))
    stab = stable_lrs(runs, cfg)
    for (point, opt_name, seed), member in stab.groupby(["point", "optimizer", "seed"]):
        ok = member[member["stable"]]
        top = (cfg.sgd_log2_lr if opt_name == "sgd" else cfg.adam_log2_lr)[1]
        value = float(ok["log2_lr"].max()) if len(ok) else math.nan
        # stable at the top of the grid: η_max lies beyond the grid, unmeasured
        value = math.nan if value >= top else value
        rows.append((point, seed, f"{opt_name}.log2_lr_max", value))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def _per_seed(metrics: pd.DataFrame, metric: str) -> pd.Series:
    sel = metrics[metrics["metric"] == metric]
    return sel.set_index("seed")["value"].sort_index()


def lambda_table(metrics: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """(seed × B) λ_max(H_B)."""
    return pd.DataFrame({b: _per_seed(metrics, f"lambda_B{b}") for b in cfg.batch_sizes})


def lr_table(metrics: pd.DataFrame, opt_name: str, cfg: Config) -> pd.DataFrame:
    """(seed × B) log2 η_max."""
    sel = metrics[metrics["metric"] == f"{opt_name}.log2_lr_max"]
    table = sel.pivot(index="seed", columns="point", values="value")
    return table[[f"B{b}" for b in cfg.batch_sizes if f"B{b}" in table.columns]].rename(
        columns=lambda p: int(p.removeprefix("B"))
    )


def slope(log2_batches: np.ndarray, log2_lrs: np.ndarray) -> float:
    """Least-squares slope of log η_max on log B; NaN if any η_max is missing (no stable rate on the grid)."""
    if not np.isfinite(log2_lrs).all() or len(log2_lrs) < 2:
        return math.nan
    return float(np.polyfit(log2_batches, log2_lrs, 1)[0])


CLAIMS = (
    Claim(
        id="lambda_decreases_with_batch",
        statement="λ_max of the mini-batch Hessian decreases as the batch size grows",
        metric="Spearman(B, λ_max(H_B)) per seed",
        rule=Rule.at_most(-0.9),
        paper_value=None,
        paper_text="extremal batch-Hessian eigenvalues shrink with B towards the empirical Hessian's (Thm. 1)",
    ),
    Claim(
        id="batch_exceeds_full",
        statement="λ_max of a small-batch Hessian (B = 16) exceeds the full-batch Hessian's",
        metric="λ_max(H_16) / λ_max(H_full) per seed",
        rule=Rule.at_least(1.5),
        paper_value=None,
        paper_text="the magnitude of the batch Hessian's extremal eigenvalues exceeds the empirical Hessian's",
    ),
    Claim(
        id="sgd_linear_scaling",
        statement="SGD's largest stable learning rate grows ~linearly with B",
        metric="slope of log η_max vs log B over B ≤ slope_max_batch (SGD)",
        rule=Rule.between(0.6, 1.2),
        paper_value=1.0,
        paper_text="linear scaling rule for SGD",
    ),
    Claim(
        id="adam_sqrt_scaling",
        statement="Adam's largest stable learning rate grows ~√B",
        metric="slope of log η_max vs log B over B ≤ slope_max_batch (Adam)",
        rule=Rule.between(0.25, 0.75),
        paper_value=0.5,
        paper_text="square-root scaling rule for adaptive optimisers",
    ),
)


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    lam = lambda_table(metrics, cfg)
    if not lam.empty:
        batches = np.log2(np.asarray(cfg.batch_sizes, dtype=float))
        out["lambda_decreases_with_batch"] = [spearman(batches, row.to_numpy()) for _, row in lam.iterrows()]
        full = _per_seed(metrics, "lambda_full").reindex(lam.index)
        out["batch_exceeds_full"] = (lam[min(cfg.batch_sizes)] / full).tolist()
    for opt_name, claim_id in (("sgd", "sgd_linear_scaling"), ("adam", "adam_sqrt_scaling")):
        table = lr_table(metrics, opt_name, cfg)
        if table.empty:
            continue
        cols = [b for b in table.columns if b <= cfg.slope_max_batch]
        x = np.log2(np.asarray(cols, dtype=float))
        out[claim_id] = [slope(x, row[cols].to_numpy(dtype=float)) for _, row in table.iterrows()]
    return out


# ---------------------------------------------------------------------------------------------------- figures
def draw_lambda(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    lam = lambda_table(metrics, cfg).reset_index().melt(id_vars="seed", var_name="B", value_name="lambda_max")
    fig, ax = plt.subplots(figsize=(5, 4))
    sns.lineplot(lam, x="B", y="lambda_max", marker="o", errorbar=("pi", 100), ax=ax, label="mini-batch H_B")
    full = _per_seed(metrics, "lambda_full")
    ax.axhline(full.mean(), color="black", ls="--", lw=1, label="full batch (seed mean)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("λ_max of the loss Hessian")
    ax.legend(fontsize=8)
    return fig


def draw_lr(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(5, 4))
    for i, opt_name in enumerate(cfg.optimizers):
        table = lr_table(metrics, opt_name, cfg)
        if table.empty:
            continue
        long = table.reset_index().melt(id_vars="seed", var_name="B", value_name="log2_lr")
        long["eta_max"] = 2.0 ** long["log2_lr"]
        sns.lineplot(
            long, x="B", y="eta_max", marker="o", errorbar=("pi", 100), ax=ax, label=opt_name, color=f"C{i}"
        )
        b0 = min(cfg.batch_sizes)
        anchor = 2.0 ** np.nanmean(table[b0])
        bs = np.asarray(cfg.batch_sizes, dtype=float)
        power = 1.0 if opt_name == "sgd" else 0.5
        ax.plot(bs, anchor * (bs / b0) ** power, color=f"C{i}", ls=":", lw=1, label=f"slope {power:g} guide")
    ax.axvline(cfg.slope_max_batch, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("batch size B")
    ax.set_ylabel("largest stable learning rate η_max")
    ax.legend(fontsize=8)
    return fig


FIGURES = (
    Figure(
        name="lambda_vs_batch",
        caption=(
            "Paper: the batch Hessian's largest eigenvalue exceeds the full Hessian's and falls towards it as B "
            "grows (VGG/WideResNet on CIFAR-100). Ours: λ_max(H_B) at initialisation of a 2×256 ReLU MLP on "
            "MNIST-1D, mean over mini-batches (line = seed mean, band = seed range), dashed = full batch."
        ),
        draw=draw_lambda,
    ),
    Figure(
        name="lr_vs_batch",
        caption=(
            "Paper: the maximal learning rate scales linearly in B for SGD and as √B for Adam. Ours: the largest "
            "learning rate of the 2^k grid that still lowers the training loss after the epochs, per "
            "optimiser (line = seed mean, band = seed range), with slope-1 and slope-½ guides; the slope is "
            "fitted left of the grey line."
        ),
        draw=draw_lr,
    ),
)
