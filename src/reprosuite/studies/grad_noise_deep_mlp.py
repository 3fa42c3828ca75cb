"""Neelakantan et al. 2015 — annealed gradient noise lets a 20-layer ReLU MLP train from a poor initialisation.

Paper: Neelakantan, Vilnis, Le, Sutskever, Kaiser, Kurach, Martens, "Adding Gradient Noise Improves Learning for
Very Deep Networks", arXiv:1511.06807 (no official code). Read: the revised text submitted to ICLR 2017, whose
Table 1 numbers Experiment 6 = zero init.

Claim (SUITE.md): adding g_t ← g_t + N(0, σ_t²), σ_t² = η/(1 + t)^γ with η = 0.01, γ = 0.55, lets a 20 × 50 ReLU
MLP train from zero or poor initialisation, and does not matter from a good (He) initialisation.
Paper Table 1 (MNIST, best / average test accuracy over 40 runs = 20 seeds × learning rates 0.1 and 0.01):
zero init + clip 10: no noise 11.4 / 10.1 %, noise 94.5 / 49.7 %; simple init N(0, 0.1²): no clipping 89.9 / 43.1
vs 96.7 / 52.7 %, clip 10 95.7 / 51.6 vs 97.0 / 53.6 %; He init + clip 10: 97.4 / 91.7 vs 97.2 / 91.7 %.
Pass rules (SUITE.md), on the final test accuracy of each run, chance = the accuracy of the best constant
predictor (the test split's majority-class rate; on MNIST 11.35 %, which is the paper's no-noise "best"):
zero init without noise ≤ chance + 2 pp in every run (per run, mean ± CI); zero init with noise best run ≥ 80 %
(one value: the maximum over runs) and mean ≥ chance + 20 pp; He init, noise minus no noise (paired by seed and
learning rate) within ±1 pp.

Looked up in the paper (§3, §4.1, Table 1): 20 hidden layers of 50 ReLU units; SGD without momentum at fixed
learning rates 0.1 and 0.01; η = 0.01 for this experiment, γ = 0.55; Simple Init = N(0, 0.1²); Good Init = He et
al. (2015); "all the weights ... initialized at zero"; gradient clipping thresholds 100 and 10. The paper adds
the noise "to the gradient after clipping" (§4.2, §4.3, §4.5; §4.1 is silent), so
:class:`~reprosuite.engine.train.gradients.GradientTransform` clips (global norm per member, as
``clip_grad_norm_``) then adds noise. Not stated, chosen here: batch size 64 (SUITE.md), biases start at zero
and get noise like the weights, t counts updates from 0, training length (SUITE.md: up to 30k steps).

Why zero init cannot learn without noise: every hidden unit outputs relu(0) = 0, so every weight gradient
δ_l h_{l−1}ᵀ and every hidden bias gradient (W_{l+1}ᵀ δ_{l+1} ⊙ relu'(0) = 0) is exactly zero; only the output
bias learns, i.e. the class prior. With noise the weights random-walk with variance lr²·Σ_t σ_t² ≈
lr²·η·t^0.45/0.45 (std ≈ 0.11 after 7k steps, 0.15 after 30k, He's √(2/50) = 0.2 at ~100k) and the network
starts to learn once a signal survives 20 layers (SUITE.md prototype: at ~20k steps on digits).

Data: scikit-learn digits (1,500 train / 297 test images, standardised pixels) — handwritten digit images like
MNIST, on which a 20 × 50 MLP reaches the paper's ~97 % regime; MNIST is not available to the suite. The full
tier runs the Table 1 grid × learning rates {0.1, 0.01} × 20 seeds for 60k steps on digits.

Implementation: one job trains every (init, noise, learning rate, seed) as a member of one ensemble; members of
the same seed share their initial weights (where the init draws any) and their minibatch order, so noise / no
noise are compared pairwise.

Quick tier: the whole Table 1 grid (3 inits × noise / none × 3 seeds = 18 members) for 6k steps — what 3 min of
CPU allows (~23 ms of CPU per step of the 18-member ensemble on the shared 2-core machine). That is a quarter of
what zero init + noise needs: a calibration run (3 seeds, same setting) sat at chance until 18k, 22k and 23k
steps and was at 83–96 % by 25k (hidden-weight std 0.11 at 7k steps, as the random walk predicts). So at the
quick tier the two zero-init-with-noise claims fail because the protocol is too short, not because the paper is
wrong; simple init N(0, 0.1²), which starts at the weight scale zero init's random walk reaches only after
~5k steps, shows the effect within the budget (noise 86–92 % after 6k steps, no noise at chance). The He-init claim is
inconclusive with 3 seeds: noise moves single runs by ±1–2 pp (297 test images, 1 image = 0.34 pp). The full
tier (60k steps, 40 runs per setting) is what checks the zero-init and He claims.

Quick tier measured (3 seeds): zero init, no noise: every run 4.7 pp below chance (7.1 % vs 11.8 %), pass;
zero init + noise: best 8.4 %, mean 3.8 pp below chance — fail (needs ~25k steps); He init, noise − none:
+1.0, −1.3, +2.4 pp, mean +0.7 [−4.0, +5.3] pp — inconclusive.

Runtime (2 CPU cores shared with other jobs at load 5–9, one thread): smoke 1 job (zero init only, 300
steps), 7 s of CPU with its start-up, 26 s of CPU for the whole study (5 processes); quick 1 job, 135 s of CPU
training, 154 s of CPU for the whole study (6.7 min wall at that load).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Adding Gradient Noise Improves Learning for Very Deep Networks",
    authors="Neelakantan et al.",
    year=2015,
    arxiv="1511.06807",
    venue="arXiv preprint",
    code="",
)

# Measured cost per tier (2-core CPU unless stated; see the docstring), shown by `reprosuite list`.
COST = {"smoke": "~26 CPU-s", "quick": "~154 CPU-s", "full": "not measured (60k steps, 20 seeds)"}

INITS = {"zero": "zeros", "simple": "gaussian", "he": "he"}  # Table 1 names → engine init schemes


@dataclass(frozen=True)
class Config:
    seeds: int
    steps: int  # not in the paper; SUITE.md: up to 30k
    inits: tuple[str, ...] = ("zero", "simple", "he")  # Table 1: Bad (zero), Simple, Good (He) Init
    lrs: tuple[float, ...] = (0.1,)  # §4.1: 0.1 and 0.01
    dataset: str = "digits"
    data_seed: int = 0
    depth: int = 20  # §4.1: 20 hidden layers
    width: int = 50  # §4.1: 50 units each
    simple_std: float = 0.1  # §4.1: Simple Init N(0, 0.1²)
    batch_size: int = 64  # not in the paper; SUITE.md
    clip: float = 10.0  # Table 1: clipping threshold 10 (zero and He init)
    noise_eta: float = 0.01  # §4.1: η = 0.01
    noise_gamma: float = 0.55  # §3, Eq. 1
    log_points: int = 30


TIERS = {
    "smoke": Config(seeds=1, steps=300, inits=("zero",), log_points=6),
    "quick": Config(seeds=3, steps=6000),
    "full": Config(seeds=20, steps=60_000, lrs=(0.1, 0.01), log_points=60),
}


def variant(init: str, noise: bool, lr: float) -> str:
    return f"{init}-{'noise' if noise else 'none'}-lr{lr:g}"


def parse_variant(name: str) -> tuple[str, bool, float]:
    init, noise, lr = name.split("-")
    return init, noise == "noise", float(lr.removeprefix("lr"))


def grid(cfg: Config) -> dict[str, dict]:
    unknown = set(cfg.inits) - set(INITS)
    if unknown:
        raise ValueError(f"unknown inits {sorted(unknown)}; choose from {sorted(INITS)}")
    return {"all": {"inits": list(cfg.inits)}}


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets

    return datasets.load(cfg.dataset, cfg.data_seed)


def chance(y_test: np.ndarray) -> float:
    """Test accuracy of the best constant predictor: the majority-class rate."""
    return float(np.bincount(y_test).max() / len(y_test))


# ---------------------------------------------------------------------------------------------------- training
def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import gradients, optim, trainer

    members = [
        (init, noise, lr, seed)
        for init in point["inits"]
        for noise in (True, False)
        for lr in cfg.lrs
        for seed in seeds
    ]
    member_seeds = [m[3] for m in members]
    x, x_test = (torch.as_tensor(data[n], device=device) for n in ("x", "x_test"))
    y, y_test = (torch.as_tensor(data[n], device=device) for n in ("y", "y_test"))
    sizes = [x.shape[1]] + [cfg.width] * cfg.depth + [int(y.max()) + 1]
    model = layers.EnsembleMLP(
        sizes,
        member_seeds,
        activation="relu",
        init=[INITS[m[0]] for m in members],
        init_scale=[cfg.simple_std if m[0] == "simple" else 1.0 for m in members],
        bias=True,
        device=device,
    )
    opt = gradients.GradientTransform(
        optim.SGD(list(model.parameters()), lr=[m[2] for m in members]),
        clip=cfg.clip,
        noise_eta=[cfg.noise_eta if m[1] else 0.0 for m in members],
        noise_gamma=cfg.noise_gamma,
        seeds=member_seeds,
    )

    stream = fn.MinibatchStream(len(y), cfg.batch_size, member_seeds, device)

    def loss_fn(step: int) -> torch.Tensor:
        idx = stream.at(step)  # (S, B)
        return fn.cross_entropy(model(x[idx]), y[idx])

    def evaluate(step: int) -> dict[tuple[str, str], torch.Tensor]:
        logits, logits_test = model(x), model(x_test)
        squares = sum(w.pow(2).flatten(1).sum(1) for w in model.weights)
        entries = sum(w[0].numel() for w in model.weights)
        return {
            ("train", "loss"): fn.cross_entropy(logits, y),
            ("train", "accuracy"): fn.accuracy(logits, y),
            ("test", "loss"): fn.cross_entropy(logits_test, y_test),
            ("test", "accuracy"): fn.accuracy(logits_test, y_test),
            ("train", "weight_rms"): (squares / entries).sqrt(),  # exactly 0 while zero init has no noise
        }

    log_steps = trainer.log_schedule(cfg.steps, cfg.log_points, spacing="linear")
    history = trainer.fit(loss_fn, opt, cfg.steps, evaluate, log_steps, label="gradient noise")
    return history.frame(member_seeds, [variant(*m[:3]) for m in members])


# ---------------------------------------------------------------------------------------------------- metrics
def final_accuracy(runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy at the last step per (variant, seed); diverged members get NaN."""
    last = runs[runs["step"] == runs["step"].max()]
    acc = last[(last["split"] == "test") & (last["metric"] == "accuracy")].set_index(["variant", "seed"])
    dead = last[(last["metric"] == "diverged_at") & last["value"].notna()].set_index(["variant", "seed"])
    out = acc["value"].copy()
    out[out.index.isin(dead.index)] = np.nan
    return out.reset_index()


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (variant, seed): final test accuracy and its excess over chance."""
    base = chance(make_data(cfg)["y_test"])
    rows = []
    for _, r in final_accuracy(runs).iterrows():
        rows.append(("all", r["seed"], f"{r['variant']}.test_accuracy", r["value"]))
        rows.append(("all", r["seed"], f"{r['variant']}.above_chance", r["value"] - base))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


# ---------------------------------------------------------------------------------------------------- claims
CLAIMS = (
    Claim(
        id="zero_init_no_noise_at_chance",
        statement="zero init without gradient noise does not learn: final test accuracy ≤ chance + 2 pp",
        metric="per run: final test accuracy − majority-class rate",
        rule=Rule.at_most(0.02),
        paper_text="best 11.4 %, average 10.1 % (MNIST; majority class 11.35 %)",
    ),
    Claim(
        id="zero_init_noise_best",
        statement="zero init with gradient noise: the best run reaches ≥ 80 % test accuracy",
        metric="maximum over runs of the final test accuracy (one value)",
        rule=Rule.at_least(0.80),
        paper_value=0.945,
        paper_text="best 94.5 % over 40 runs (MNIST)",
        tiers=("quick", "full"),
    ),
    Claim(
        id="zero_init_noise_mean",
        statement="zero init with gradient noise: mean final test accuracy ≥ chance + 20 pp",
        metric="per run: final test accuracy − majority-class rate",
        rule=Rule.at_least(0.20),
        paper_text="average 49.7 % over 40 runs, half at lr 0.01 (MNIST; majority class 11.35 %)",
        tiers=("quick", "full"),
    ),
    Claim(
        id="he_init_noise_no_effect",
        statement="He init: gradient noise changes the final test accuracy by at most 1 pp",
        metric="per seed and lr: final test accuracy with noise − without",
        rule=Rule.between(-0.01, 0.01),
        paper_value=0.0,
        paper_text="best 97.4 vs 97.2 %, average 91.7 vs 91.7 % (MNIST, clip 10)",
        tiers=("quick", "full"),
    ),
)


def _runs(metrics: pd.DataFrame, init: str, noise: bool, name: str) -> pd.DataFrame:
    """Rows of one (init, noise) setting and metric, with lr and seed columns, sorted by (lr, seed)."""
    sel = metrics[metrics["metric"].str.endswith("." + name)].copy()
    parsed = [parse_variant(m.removesuffix("." + name)) for m in sel["metric"]]
    keep = [p[0] == init and p[1] == noise for p in parsed]
    sel["lr"] = [p[2] for p in parsed]
    return sel[keep].sort_values(["lr", "seed"])


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out = {"zero_init_no_noise_at_chance": _runs(metrics, "zero", False, "above_chance")["value"].tolist()}
    noisy = _runs(metrics, "zero", True, "test_accuracy")["value"]
    if len(noisy):
        out["zero_init_noise_best"] = [float(noisy.max()) if noisy.notna().all() else math.nan]
        out["zero_init_noise_mean"] = _runs(metrics, "zero", True, "above_chance")["value"].tolist()
    he = {
        n: _runs(metrics, "he", n, "test_accuracy").set_index(["lr", "seed"])["value"] for n in (True, False)
    }
    if len(he[True]):
        out["he_init_noise_no_effect"] = (he[True] - he[False]).sort_index().tolist()
    return out


# ---------------------------------------------------------------------------------------------------- figures
# Table 1 (MNIST, clipping threshold 10): (best, average) test accuracy
PAPER_TABLE1 = {
    ("zero", False): (0.114, 0.101),
    ("zero", True): (0.945, 0.497),
    ("simple", False): (0.957, 0.516),
    ("simple", True): (0.970, 0.536),
    ("he", False): (0.974, 0.917),
    ("he", True): (0.972, 0.917),
}


NOISE_LABELS = {True: "noise η = 0.01", False: "no noise"}


def _label(runs: pd.DataFrame) -> pd.DataFrame:
    parsed = runs["variant"].map(parse_variant)
    runs = runs.copy()
    runs["init"] = [p[0] for p in parsed]
    runs["gradient noise"] = [NOISE_LABELS[p[1]] for p in parsed]
    runs["lr"] = [p[2] for p in parsed]
    return runs


def draw_accuracy_curves(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = _label(runs[runs["metric"].isin(["accuracy", "weight_rms"])])
    inits = [i for i in INITS if i in set(data["init"])]
    base = chance(make_data(cfg)["y_test"])
    fig, axes = plt.subplots(2, len(inits), figsize=(4 * len(inits), 6), sharex=True, squeeze=False)
    for col, init in enumerate(inits):
        for row, (split, metric) in enumerate((("test", "accuracy"), ("train", "weight_rms"))):
            ax = axes[row, col]
            sel = data[(data["init"] == init) & (data["split"] == split) & (data["metric"] == metric)]
            sns.lineplot(
                sel,
                x="step",
                y="value",
                hue="gradient noise",
                hue_order=[NOISE_LABELS[True], NOISE_LABELS[False]],
                style="lr" if len(cfg.lrs) > 1 else None,
                errorbar=("pi", 100),
                ax=ax,
                legend=row == 0 and col == 0,
            )
            if row == 0:
                ax.axhline(base, color="grey", ls="--", lw=1)
                ax.set(title=f"{init} init", ylim=(0, 1), ylabel="test accuracy" if col == 0 else "")
            else:
                ax.axhline(math.sqrt(2 / cfg.width), color="grey", ls=":", lw=1)
                ax.set(ylabel="weight RMS" if col == 0 else "", xlabel="step")
    return fig


def draw_table1(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt

    acc = _label(final_accuracy(runs))
    inits = [i for i in INITS if i in set(acc["init"])]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    width = 0.38
    for ax, (title, how, k) in zip(
        axes, (("best run", "max", 0), ("average over runs", "mean", 1)), strict=True
    ):
        for j, (noise, colour) in enumerate(((False, "C1"), (True, "C0"))):
            sel = acc[acc["gradient noise"] == NOISE_LABELS[noise]]
            values = [sel[sel["init"] == i]["value"].agg(how) for i in inits]
            pos = np.arange(len(inits)) + (j - 0.5) * width
            ax.bar(pos, values, width, color=colour, label=f"ours, {NOISE_LABELS[noise]}")
            paper = [PAPER_TABLE1[(i, noise)][k] for i in inits]
            ax.scatter(pos, paper, color="black", marker="_", s=300, lw=2, zorder=3)
        ax.set(
            xticks=np.arange(len(inits)), xticklabels=[f"{i} init" for i in inits], title=title, ylim=(0, 1)
        )
    axes[0].set_ylabel("final test accuracy")
    axes[1].scatter([], [], color="black", marker="_", s=300, lw=2, label="paper (MNIST, clip 10)")
    axes[1].legend(fontsize=8, loc="upper left")
    return fig


FIGURES = (
    Figure(
        name="accuracy_curves",
        caption=(
            "Paper §4.1: a 20 × 50 ReLU MLP on MNIST fails to learn from zero init without gradient noise and "
            "learns with it; from He init noise makes no difference. Ours (digits, lr 0.1, clip 10): test "
            "accuracy vs step per init (top; line = seed mean, band = seed range, dashed = majority-class "
            "rate) and the RMS of all weights (bottom; dotted = He scale √(2/50)): under noise the zero-init "
            "weights random-walk away from 0, without it they stay exactly 0."
        ),
        draw=draw_accuracy_curves,
    ),
    Figure(
        name="table1",
        caption=(
            "Paper Table 1: best and average test accuracy over 40 runs (MNIST, clip 10; the simple-init row is "
            "Experiment 3). Ours: best and average final test accuracy over seeds (and learning rates) per "
            "init, without (orange) and with (blue) gradient noise; black ticks = the paper's numbers."
        ),
        draw=draw_table1,
    ),
)
