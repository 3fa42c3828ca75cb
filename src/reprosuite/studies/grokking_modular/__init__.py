"""Power et al. 2022 — grokking: validation accuracy jumps to ~100 % long after the training set is memorised.

Paper: Power, Burda, Edwards, Babuschkin, Misra, "Grokking: Generalization Beyond Overfitting on Small
Algorithmic Datasets", arXiv:2201.02177 (2022). Official code: https://github.com/openai/grok
(``grok/transformer.py``, ``grok/training.py``, ``grok/data.py``), the source of ``Config``'s defaults.

Claims, our pass rules and negative controls (t_x: the first logged step with accuracy ≥ 99 % on split x, ∞ if
never; every claim is empirical):
1. grokking — validation accuracy reaches 99 % long after training accuracy (Fig. 1 left, x/y mod 97 at 50 %:
   train ~10³ steps, validation ~10⁵; delays of 10–1000×). Per seed t_val / t_train at the grok fraction;
   statistic: geometric mean (a ratio spanning decades; its interval on the log scale); rule (ours) ≥ 5. A seed
   whose validation accuracy never reaches 99 % has no delay to measure (value 0): the geometric mean is then
   undefined and the claim inconclusive. Control: the largest training fraction, where generalisation follows
   memorisation closely (Fig. 1 centre: the two curves meet as the fraction grows), so no 5× delay.
2. weight_decay — weight decay is the intervention that most improves data efficiency (Fig. 2). Per seed
   t_val(wd 0) / t_val(wd > 0), the two members sharing split, initialisation and data order; statistic:
   geometric mean; rule (ours, "longer or no grokking within the budget") ≥ 1. A wd 0 member that never reaches
   99 % is censored at its budget: the ratio is at least (its last step) / t_val(wd > 0). Control: weight decay
   against the same weight decay — a second wd > 0 member per seed with its own initialisation and data order
   (an independent stream of the seed), whose ratio to the seed's wd > 0 member is measured the same way.
3. train_fraction — smaller training sets need more steps to generalise (Fig. 1 centre). Per seed
   Spearman(fraction, t_val) over the fractions (a fraction never reaching 99 % ranks slowest); statistic: mean;
   rule (ours) ≤ −0.8. Control: the same rank correlation for t_train, the steps to memorise, which the paper
   shows do not fall with the fraction (Fig. 1 centre: flat, rising slightly).

Protocol (official code): decoder-only transformer, N(0, 1) token embeddings plus fixed sinusoidal positions,
bias-free attention, ReLU MLP of width 4·d_model, post-LayerNorm, causal mask; AdamW betas (0.9, 0.98), eps
1e-8, weight decay on every parameter, lr warm-up lr·step/10; batch min(512, ⌈|train|/2⌉) reshuffled each
epoch; the split is the first fraction·n equations of a seeded permutation. Ours: inputs ``a ∘ b =`` with the
answer read at ``=`` over the p residues (the official code adds ``<eos>`` and a vocabulary-wide softmax).
Weight decay 0 (and the second wd > 0 member of claim 2's control) is trained at the grok fraction only. A
job stops once every weight-decay member has reached 99 % validation accuracy, the job with wd 0 members at
``grok_margin`` × the latest t_val of the seeds' own wd > 0 members, so "no grokking with wd 0" means "not by
then".

Tiers: full is the paper's protocol (GPU, not run here). quick and smoke replace the transformer by the
embedding-MLP (token embeddings 32, concatenated → 128 ReLU → p logits) on a + b mod 47 (smoke 23) with lr
1e-2, because no transformer tried on CPU (p 31, d_model 32–64) grokked within the 3-minute budget. The quick
grok fraction is its smallest, 0.4: at 0.5–0.6 the MLP generalises so readily that the delay shrinks
towards the claim's 5×. The quick grid adds fraction 0.8, the largest of Fig. 1 centre, as claim 1's control.

Cost (2-core CPU, one thread per job): smoke ≈ 8 s of training for its 3 jobs; quick ≈ 60–70 s of training
on a quiet machine, ≈ 470 s at load 8–9. CPU runs are identical run to run (deterministic kernels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL, Claim, Rule, censored_at, per_seed
from reprosuite.engine.data import modular
from reprosuite.metrics import curves
from reprosuite.metrics.stats import spearman
from reprosuite.study import Figure, Paper, seed_list, seed_positions

from . import figures
from .amendments import AMENDMENTS as AMENDMENTS  # the study interface reads it here

PAPER = Paper(
    title="Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
    authors="Power, Burda, Edwards, Babuschkin, Misra",
    year=2022,
    arxiv="2201.02177",
    venue="ICLR 2021 MATH-AI workshop",
    code="https://github.com/openai/grok",
)

# Measured cost per tier (2-core CPU unless stated; see the docstring), shown by `reprosuite list`.
COST = {"smoke": "~8 s training", "quick": "~70 s training", "full": "GPU: 1e5 steps x 6 fractions, not run"}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours: 5
    # Task (§2): all equations a ∘ b = c (mod p), a random `fraction` of them for training.
    p: int = 97  # Fig. 1: mod 97
    op: Literal["+", "-", "*", "/"] = "/"  # Fig. 1: x/y
    fractions: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # Fig. 1 centre; ours: these six
    grok_fraction: float = 0.5  # Fig. 1 left: 50 % (claims 1 and 2, and the weight-decay-0 runs)
    # Model (App. A.1; grok/transformer.py). "mlp" is the embedding-MLP of the CPU tiers.
    model: Literal["transformer", "mlp"] = "transformer"
    layers: int = 2  # App. A.1: 2 layers
    d_model: int = 128  # App. A.1: width 128
    heads: int = 4  # App. A.1: 4 heads
    d_mlp: int = 512  # grok/transformer.py: 4 · d_model
    embed: int = 128  # embedding-MLP only: token embedding dim (not in the paper; ours)
    hidden: int = 512  # embedding-MLP only: hidden width (not in the paper; ours)
    # Optimiser (App. A.1; grok/training.py): AdamW, betas (0.9, 0.98), linear warm-up.
    lr: float = 1e-3  # App. A.1
    beta2: float = 0.98  # grok/training.py
    weight_decay: float = 1.0  # Fig. 2: weight decay 1
    warmup: int = 10  # grok/training.py: lr · step / 10 for the first 10 steps
    batch_cap: int = 512  # grok/data.py ArithmeticIterator: batch = min(512, ceil(|train| / 2))
    steps: int = 100_000  # App. A.1: 10⁵ optimisation steps
    eval_every: int = 100  # not stated; ours: every 100 steps plus ~100 log-spaced ones
    threshold: float = 0.99  # Fig. 1: "≥ 99 % accuracy"
    grok_margin: float = (
        2.0  # ours: with wd 0 members, stop at step ≥ margin · the latest t_val of the others
    )


QUICK = replace(
    Config(),
    seeds=3,
    p=47,
    op="+",
    fractions=(0.4, 0.5, 0.6, 0.8),
    grok_fraction=0.4,
    model="mlp",
    layers=1,
    d_model=32,
    d_mlp=128,
    embed=32,
    hidden=128,
    lr=1e-2,
    steps=20000,
    eval_every=25,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK, seeds=2, p=23, fractions=(0.7, 0.8, 0.9), grok_fraction=0.7, steps=3000, grok_margin=1.0
    ),
}
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "p": "a smaller table of equations for the CPU budget",
    "op": "the embedding-MLP protocol was calibrated on a + b (ours)",
    "fractions": "fractions at which the MLP groks within the step budget (ours), and the largest of Fig. 1 "
    "centre (0.8) as the grokking claim's control",
    "grok_fraction": "the smallest fraction: at larger ones the MLP's grokking delay shrinks towards 5×",
    "model": "no transformer tried on CPU grokked within the 3-minute budget; the embedding-MLP does",
    "layers": "unused by the embedding-MLP (the value of the CPU transformer trials)",
    "d_model": "unused by the embedding-MLP (the value of the CPU transformer trials)",
    "d_mlp": "unused by the embedding-MLP (the value of the CPU transformer trials)",
    "embed": "embedding-MLP size for the CPU budget",
    "hidden": "embedding-MLP size for the CPU budget",
    "lr": "the embedding-MLP groks within the step budget at 1e-2 (ours)",
    "steps": "2-core CPU budget; jobs stop early once grokked",
    "eval_every": "a finer grid for the first-crossing times of shorter runs",
    "grok_margin": "smoke: stop as soon as the weight-decay members grok, to stay within seconds",
}
CLAIMS = (
    Claim(
        "grokking",
        "Validation accuracy reaches 99 % long after training accuracy did: geometric mean of t_val / t_train "
        "≥ 5 at the grok fraction (Fig. 1: 50 %; quick: 0.4, the smallest of its grid).",
        metric="t_val / t_train (wd > 0, grok fraction); 0 when validation never reaches 99 %",
        rule=Rule.at_least(5.0),
        paper_text="10–1000× (Fig. 1: train 99 % at ~10³ steps, validation at ~10⁵)",
        statistic="geomean",
        control="the largest training fraction (generalisation follows memorisation there, Fig. 1 centre)",
    ),
    Claim(
        "weight_decay",
        "Without weight decay the delay is longer, or there is no grokking within the run: geometric mean of "
        "t_val(wd 0) / t_val(wd > 0) ≥ 1 (a wd 0 run that never reaches 99 % is censored at its budget).",
        metric="t_val(wd 0) / t_val(wd > 0) (grok fraction)",
        rule=Rule.at_least(1.0),
        paper_text="weight decay speeds up generalisation most of all interventions (Fig. 2)",
        statistic="geomean",
        control="wd > 0 against wd > 0: a second member of each seed with its own initialisation and data order",
    ),
    Claim(
        "train_fraction",
        "Smaller training fractions need more steps to generalise: mean over seeds of Spearman(fraction, t_val) "
        "≤ −0.8 (a fraction that never reaches 99 % ranks slowest).",
        metric="Spearman(train fraction, t_val), wd > 0",
        rule=Rule.at_most(-0.8),
        paper_value=-1.0,
        paper_text="steps to 99 % validation accuracy rise steeply as the fraction falls (Fig. 1 centre)",
        control="memorisation: the same correlation for t_train (flat or rising with the fraction, Fig. 1 centre)",
    ),
)


# --- grid and data ------------------------------------------------------------------------------------------


def _point_id(fraction: float) -> str:
    return f"frac{fraction:.2f}"


def grid(cfg: Config) -> dict[str, dict]:
    """One job per train fraction (equal training-set sizes batch together); wd 0 and the second wd > 0 member
    of each seed (``placebo``, claim 2's control) join the grok fraction."""
    if not any(math.isclose(f, cfg.grok_fraction) for f in cfg.fractions):
        raise ValueError(f"grok_fraction {cfg.grok_fraction} is not one of the fractions {cfg.fractions}")
    out = {}
    for f in cfg.fractions:
        grok = math.isclose(f, cfg.grok_fraction)
        out[_point_id(f)] = {
            "fraction": f,
            "weight_decays": [cfg.weight_decay, 0.0] if grok else [cfg.weight_decay],
            "placebo": grok,
        }
    return out


def control_fraction(cfg: Config) -> float:
    """The grokking claim's control: the largest fraction (Fig. 1 centre: no delay there)."""
    return max(cfg.fractions)


def placebo_seed(seed: int) -> int:
    """The initialisation and data-order seed of a seed's second wd > 0 member: a stream of the seed apart from
    its own (as ``MemberBatches`` derives (seed, 1, epoch)), so it never coincides with another seed's run."""
    return int(np.random.SeedSequence([int(seed), 2]).generate_state(1)[0])


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """All equations and, per (fraction, seed), the training mask: ``train`` is (F, seeds, n)."""
    a, b, c = modular.equations(cfg.p, cfg.op)
    return {
        "a": a,
        "b": b,
        "c": c,
        "fractions": np.asarray(cfg.fractions, dtype=float),
        "train": modular.train_masks(len(a), cfg.fractions, seed_list(cfg)),
    }


# --- training -----------------------------------------------------------------------------------------------


def _build(cfg: Config, seeds: list[int], data: dict, device):
    """The ensemble and ``forward(index) -> logits (S, B, p)`` for equation indices (B,) or (S, B)."""
    import torch

    from reprosuite.engine.models.transformer import EnsembleEmbeddingMLP, EnsembleTransformer

    a, b = (torch.as_tensor(data[k], device=device) for k in ("a", "b"))
    if cfg.model == "mlp":
        model = EnsembleEmbeddingMLP(cfg.p, cfg.embed, cfg.hidden, cfg.p, seeds, device=device)
        return model, lambda i: model(a[i], b[i])
    model = EnsembleTransformer(
        cfg.p + 2, cfg.p, 4, cfg.d_model, cfg.heads, cfg.d_mlp, cfg.layers, seeds, norm="post", device=device
    )
    tokens = torch.stack([a, torch.full_like(a, cfg.p), b, torch.full_like(a, cfg.p + 1)], dim=-1)  # a ∘ b =
    return model, lambda i: model(tokens[i])


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models.transformer import weight_norm
    from reprosuite.engine.train import trainer
    from reprosuite.engine.train.functional import cross_entropy
    from reprosuite.engine.train.optim import AdamW

    k = int(np.flatnonzero(np.isclose(data["fractions"], point["fraction"]))[0])
    # members (weight decay, seed, arm); a "placebo" member trains like "main" from its own stream of the seed
    members = [(float(wd), s, "main") for wd in point["weight_decays"] for s in seeds]
    members += [(float(cfg.weight_decay), s, "placebo") for s in seeds] if point.get("placebo") else []
    member_seeds = [s for _, s, _ in members]
    streams = [placebo_seed(s) if arm == "placebo" else s for _, s, arm in members]
    mask = data["train"][k][seed_positions(cfg, member_seeds)]  # (S, n): rows by the seeds' positions
    model, forward = _build(cfg, streams, data, device)
    opt = AdamW(
        list(model.parameters()),
        lr=cfg.lr,
        betas=(0.9, cfg.beta2),
        eps=1e-8,
        weight_decay=[w for w, _, _ in members],
    )
    batches = modular.MemberBatches(
        mask, modular.paper_batch_size(int(mask[0].sum()), cfg.batch_cap), streams
    )
    c = torch.as_tensor(data["c"], device=device)
    everything = torch.arange(len(c), device=device)
    is_train = torch.as_tensor(mask, dtype=torch.float32, device=device)
    decayed = torch.tensor([w > 0 for w, _, _ in members])
    main = torch.tensor([w > 0 and arm == "main" for w, _, arm in members])

    def loss_fn(step: int):
        i = torch.as_tensor(batches.at(step), device=device)  # (S, batch)
        return cross_entropy(forward(i), c[i])

    def evaluate(step: int) -> dict:
        logits = forward(everything)  # (S, n, p)
        loss = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), c.expand(len(members), -1), reduction="none"
        )
        correct = (logits.argmax(-1) == c).float()
        out = {("params", "weight_norm"): weight_norm(list(model.parameters()))}
        for split, w in (("train", is_train), ("val", 1 - is_train)):
            out[(split, "acc")] = (correct * w).sum(1) / w.sum(1)
            out[(split, "loss")] = (loss * w).sum(1) / w.sum(1)
        return out

    # the margin gives wd 0 members time beyond the seeds' own wd > 0 members; jobs without them stop at grokking
    margin = cfg.grok_margin if not bool(decayed.all()) else 1.0

    def done(history) -> bool:
        # from the logged history only, so that a resumed run stops where the uninterrupted one did
        steps, accs = history.records[("val", "acc")]
        hit = torch.stack(accs).cpu() >= cfg.threshold  # (T, members)
        if not bool(hit[:, decayed].any(dim=0).all()):
            return False
        t_val = torch.tensor(steps)[
            hit[:, main].int().argmax(dim=0)
        ]  # first logged step at val acc ≥ threshold
        return steps[-1] >= margin * float(t_val.max())

    log_steps = trainer.log_schedule(cfg.steps, 100, every=cfg.eval_every)
    history = trainer.fit(
        loss_fn,
        opt,
        cfg.steps,
        evaluate,
        log_steps,
        lr_scale=lambda step: min(1.0, step / cfg.warmup),  # official: lr · step / warmup, from 0
        done=done,
        label=f"grokking {_point_id(point['fraction'])}",
    )
    wds, arms = [w for w, _, _ in members], [a for _, _, a in members]
    variants = [f"wd{w:g}" + ("" if a == "main" else f"_{a}") for w, a in zip(wds, arms, strict=True)]
    return history.frame(member_seeds, variants, members={"wd": wds, "arm": arms})


# --- metrics and claims ---------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (point, weight decay, arm, seed): t_train, t_val, their ratio, the last step and final validation
    accuracy, with the member's weight decay and arm ("main", or "placebo" for claim 2's control) in ``wd`` and
    ``arm`` columns."""
    rows = []
    acc = runs[runs["metric"] == "acc"].sort_values("step")
    if "arm" not in acc.columns:
        acc = acc.assign(arm="main")
    for (point, wd, arm, seed), g in acc.groupby(["point", "wd", "arm", "seed"]):
        tr, va = g[g["split"] == "train"], g[g["split"] == "val"]
        t_train = curves.first_reaching(tr["step"].to_numpy(), tr["value"].to_numpy(), cfg.threshold)
        t_val = curves.first_reaching(va["step"].to_numpy(), va["value"].to_numpy(), cfg.threshold)
        values = {
            "t_train": t_train,
            "t_val": t_val,
            "grok_ratio": t_val / t_train if math.isfinite(t_val) and 0 < t_train < math.inf else 0.0,
            "last_step": float(va["step"].max()),
            "final_val_acc": float(va["value"].iloc[-1]),
        }
        rows += [
            {"point": point, "wd": float(wd), "arm": arm, "seed": int(seed), "metric": m, "value": v}
            for m, v in values.items()
        ]
    return pd.DataFrame(rows, columns=["point", "wd", "arm", "seed", "metric", "value"])


def wd_ratio(t_val_wd0: float, t_val_wd: float) -> float:
    """t_val(wd 0) / t_val(wd > 0): ∞ when only wd > 0 grokked, 0 when only wd 0 did, NaN when neither did."""
    if math.isinf(t_val_wd):
        return math.nan if math.isinf(t_val_wd0) else 0.0
    return t_val_wd0 / t_val_wd


def _ratio_sample(t_num: pd.Series, t_den: pd.Series, last: pd.Series):
    """Per seed t_num / t_den, censored where only the numerator's member never reached 99 %: the ratio is then
    at least (that member's last step) / t_den."""
    seeds = t_num.index.intersection(t_den.index)
    values = [wd_ratio(t_num[s], t_den[s]) for s in seeds]
    bounds = [last[s] / t_den[s] if math.isfinite(t_den[s]) else math.nan for s in seeds]
    return censored_at(values, bounds)


def _spearmans(metrics: pd.DataFrame, cfg: Config, metric: str) -> list[float]:
    """Per seed measured at every fraction, Spearman(fraction, ``metric``) of the wd > 0 members."""
    table = pd.DataFrame(
        {f: per_seed(metrics, metric, _point_id(f), wd=cfg.weight_decay, arm="main") for f in cfg.fractions}
    ).dropna()
    return [spearman(np.asarray(cfg.fractions), row.to_numpy()) for _, row in table.iterrows()]


def measure(metrics: pd.DataFrame, cfg: Config) -> dict:
    grok, wd = _point_id(cfg.grok_fraction), cfg.weight_decay

    def at(metric: str, point: str, w: float, arm: str = "main") -> pd.Series:
        return per_seed(metrics, metric, point, wd=w, arm=arm)

    last = at("last_step", grok, 0.0)
    return {
        "grokking": at("grok_ratio", grok, wd).tolist(),
        "grokking" + CONTROL: at("grok_ratio", _point_id(control_fraction(cfg)), wd).tolist(),
        "weight_decay": _ratio_sample(at("t_val", grok, 0.0), at("t_val", grok, wd), last),
        "weight_decay" + CONTROL: _ratio_sample(
            at("t_val", grok, wd, "placebo"), at("t_val", grok, wd), at("last_step", grok, wd, "placebo")
        ),
        "train_fraction": _spearmans(metrics, cfg, "t_val"),
        "train_fraction" + CONTROL: _spearmans(metrics, cfg, "t_train"),
    }


FIGURES = (
    Figure(
        "fig1_accuracy",
        "Paper Fig. 1 (left): on x/y mod 97 with 50 % training data, training accuracy reaches ~100 % within ~10³ "
        "steps while validation accuracy stays at chance until ~10⁵ steps, then rises to ~100 %. Ours: train and "
        "validation accuracy vs step (log x) at the grok fraction, one line per seed, with weight decay (solid) "
        "and without (dashed); dotted: the 99 % threshold.",
        figures.accuracy,
    ),
    Figure(
        "t_val_vs_fraction",
        "Paper Fig. 1 (centre): steps until 99 % validation accuracy grow steeply as the training fraction "
        "shrinks, while steps to 99 % training accuracy barely change. Ours: steps until 99 % train and validation "
        "accuracy per seed (points) and their median (lines) vs training fraction, weight decay on; crosses mark "
        "runs that ended without reaching 99 %.",
        figures.steps_vs_fraction,
    ),
)
