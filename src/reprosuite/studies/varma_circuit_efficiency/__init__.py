"""Varma et al. 2023 — ungrokking and semi-grokking around a critical dataset size.

Paper: Varma, Shah, Kenton, Kramár, Kumar, "Explaining grokking through circuit efficiency", arXiv:2309.02390
(2023). No official code is listed. Only the abstract and third-party notes were readable through our search
tools, so the paper's model and step counts are unverified; ``Config``'s defaults say which values are ours.

Claims (abstract): memorising circuits get less efficient as the training set grows, generalising circuits do
not, so there is a critical dataset size D_crit. Ungrokking: a grokked network trained further on a dataset
much smaller than D_crit regresses to low test accuracy while still fitting its training set (Fig. 4 per
third-party notes). Semi-grokking: trained from scratch at D ≈ D_crit, a network generalises only partially
(§4.2, §5.3, unverified). Statistic of every claim: the mean with a Student-t interval. Pass rules (ours),
kinds and negative controls, on the final accuracies after retraining on a fraction f2 of all equations:
1. ungrokking (empirical) — per seed, the lowest test accuracy among the f2 with train accuracy 1.0 is ≤ 0.2.
   Control: the same measurement over the retraining above the critical size (the largest f2), where the
   generalising circuit is the more efficient one and the mechanism says nothing is lost. Weight decay 0 is not
   such a control: cross-entropy's implicit bias towards large margins per unit of norm prices the norm too,
   and retrained without weight decay our p = 31 nets ungrok as well.
2. monotone_in_f2 (sanity) — per seed, Spearman(f2, test accuracy) ≥ 0.9. Retraining on nested subsets makes
   test accuracy rise with f2 whatever drives the loss on small subsets, and a rank correlation ignores how
   much: the order is shown, the mechanism's content — collapse below the critical size, retention above — is
   claims 1 and 3.
3. largest_f2_keeps (empirical) — test accuracy at the largest f2 ≥ 0.95 per seed. Control: the smallest f2,
   below the critical size, where the mechanism says the generalisation is lost.
4. semi_grokking (empirical) — phase 3: per seed, a fresh network trained from scratch on f_crit, the f2 at
   which that seed's retrained test accuracy crosses 0.5 (interpolated; our estimate of D_crit), ends with test
   accuracy in [0.3, 0.8]. Control: from scratch at the largest f2, above the critical size (full generalisation). Measured
   at the full tier only: from scratch near the critical size the p = 31 embedding-MLP needs ≥ 10⁴ steps (ours:
   at fraction 0.4, above it, it is still below 99 % after 25 000 steps), beyond the 2-core budget.

Protocol (one training job; ``trainer.fit`` up to three times, so a killed job resumes in any phase):
- phase 1: the embedding-MLP (``EnsembleEmbeddingMLP``, as grokking_modular's CPU tiers) on (a + b) mod p, all
  seeds batched, full-batch AdamW (lr 1e-2, betas (0.9, 0.98), weight decay 1) on a random 70 % of the
  equations until every seed's test accuracy is ≥ 0.99 (the test set is the other 30 %);
- phase 2: members = seeds × f2; member (seed, f2) starts from that seed's phase-1 weights and is trained
  full-batch with a fresh AdamW of the same settings on the first round(f2 · p²) equations of the same seeded permutation (a subset of its phase-1 training set) for
  ``steps2`` steps; test accuracy stays on the phase-1 test set, which no member ever trains on;
- phase 3 (``steps3`` > 0): per seed, fresh networks trained from scratch on the first round(f · p²) equations
  of the same permutation, f = f_crit and the largest f2, for ``steps3`` steps, tested on the phase-1 test set.

Tiers: full: p 113 (we believe the paper's modulus), embedding 128, hidden 512, 5 seeds, f2 0.1–0.6, a 50k
phase-1 budget, 10k retrain steps and 50k from-scratch steps (GPU; not run, phase 1 uncalibrated at p 113).
quick: p 31, 3 seeds, f2 0.15–0.4 by 0.05, 0.5, 0.6, 2000 retrain steps (below the critical size the test
accuracy still falls after that, so a shorter retraining only makes ungrokking harder to show), no phase 3;
smoke: p 23, 2 seeds, pipeline check only.
Cost (2-core CPU): smoke ≈ 3 CPU-s of training; quick ≈ 45 CPU-s of training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL, Claim, Rule, per_seed
from reprosuite.engine.data import modular
from reprosuite.study import Figure, Paper, seed_list, seed_positions

from . import figures
from .amendments import AMENDMENTS as AMENDMENTS  # the study interface reads it here
from .tables import WEIGHT_DECAY, critical_fraction, final_table, retrain_table, seed_values

PAPER = Paper(
    title="Explaining grokking through circuit efficiency",
    authors="Varma, Shah, Kenton, Kramár, Kumar",
    year=2023,
    arxiv="2309.02390",
)

# Measured cost per tier (2-core CPU unless stated; see the docstring), shown by `reprosuite list`.
COST = {
    "smoke": "~3 CPU-s training",
    "quick": "~45 CPU-s training",
    "full": "GPU, not run",
}

SEMI_BAND = (0.3, 0.8)  # ours: semi-grokking = final test accuracy in this band
UNGROK_MAX = 0.2  # ours: ungrokked = final test accuracy at most this, with train accuracy 1.0


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours
    # Task (abstract; §3 unverified): all equations (a + b) mod p.
    p: int = 113  # unverified; ours: the modulus of Nanda et al. 2023, which the paper builds on
    # Model: the embedding-MLP of grokking_modular's CPU tiers (the paper's model is unverified).
    embed: int = 128  # ours
    hidden: int = 512  # ours
    # Optimiser: full-batch AdamW with weight decay (weight decay drives the circuit competition, abstract).
    lr: float = 1e-2  # not stated; ours
    beta2: float = 0.98  # not stated; ours: as Nanda et al. 2023
    weight_decay: float = WEIGHT_DECAY  # not stated; ours: as Nanda et al. 2023
    # Phase 1 (grok): train fraction and step budget; stops once every seed's test accuracy ≥ grok_threshold.
    fraction1: float = 0.7  # not stated; ours
    steps1: int = 50_000  # not stated; ours
    # Phase 2 (ungrok / semi-grok, §5 unverified): retrain fractions of all equations and steps.
    fractions2: tuple[float, ...] = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)  # ours
    steps2: int = 10_000  # not stated; ours
    steps3: int = 50_000  # ours: from scratch at the critical size and above it, the phase-1 budget (0: none)
    eval_every: int = 100  # ours: phase-2 evaluation interval (plus log-spaced steps)
    grok_threshold: float = 0.99  # ours: phase 1 has grokked at this test accuracy


QUICK = replace(
    Config(),
    seeds=3,
    p=31,
    embed=32,
    hidden=128,
    steps1=3000,
    fractions2=(0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6),
    steps2=2000,
    steps3=0,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK, seeds=2, p=23, steps1=1500, fractions2=(0.15, 0.4, 0.6), steps2=300, eval_every=50
    ),
}
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "p": "a smaller table of equations for the CPU budget",
    "embed": "a smaller embedding-MLP for the CPU budget",
    "hidden": "a smaller embedding-MLP for the CPU budget",
    "steps1": "phase 1 groks within a few hundred steps at p 31; the budget is a cap",
    "fractions2": "fewer retrain fractions for the CPU budget (smoke: three values)",
    "steps2": "2-core CPU budget; below the critical size a shorter retraining only makes ungrokking harder to show",
    "steps3": "from scratch near the critical size the p 31 MLP needs ≥ 10⁴ steps: semi_grokking at full only",
    "eval_every": "smoke: a denser grid for its 300 retrain steps",
}
CLAIMS = (
    Claim(
        "ungrokking",
        "A grokked net retrained on a small enough subset loses test accuracy (≤ 0.2) while fitting it (train 1.0).",
        metric="lowest final test accuracy over f2 values with final train accuracy 1.0, per seed",
        rule=Rule.at_most(UNGROK_MAX),
        paper_text="a network regresses from perfect to low test accuracy (abstract; Fig. 4, unverified)",
        control="retraining above the critical size: the largest f2 (nothing is lost there)",
    ),
    Claim(
        "monotone_in_f2",
        "Final test accuracy rises with the retrain fraction f2: Spearman(f2, test accuracy) ≥ 0.9 per seed "
        "(mean over seeds).",
        metric="Spearman correlation of f2 and the final test accuracy, per seed",
        rule=Rule.at_least(0.9),
        paper_value=1.0,
        paper_text="test accuracy after retraining increases with dataset size (critical dataset size, §5)",
        kind="sanity",
    ),
    Claim(
        "largest_f2_keeps",
        "Retrained on the largest subset, the net keeps its generalisation: final test accuracy ≥ 0.95.",
        metric="final test accuracy at the largest f2, per seed",
        rule=Rule.at_least(0.95),
        paper_text="above D_crit the generalising circuit stays more efficient (§5)",
        control="the smallest f2, below the critical size (the generalisation is lost there)",
    ),
    Claim(
        "semi_grokking",
        "Trained from scratch at the critical size (the f2 where the seed's retrained test accuracy crosses "
        "0.5), a network generalises partially: final test accuracy in [0.3, 0.8].",
        metric="final test accuracy from scratch at the seed's critical f2, per seed",
        rule=Rule.between(*SEMI_BAND),
        paper_text="semi-grokking: partial rather than perfect test accuracy near D_crit (§4.2, §5.3, unverified)",
        tiers=("full",),
        control="from scratch at the largest f2, above the critical size (full generalisation)",
    ),
)


# --- grid and data ------------------------------------------------------------------------------------------


def grid(cfg: Config) -> dict[str, dict]:
    if not all(0 < f < cfg.fraction1 for f in cfg.fractions2):
        raise ValueError(f"retrain fractions {cfg.fractions2} must lie in (0, fraction1 = {cfg.fraction1})")
    return {"ungrok": {}}


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """All equations; per seed the phase-1 training mask and per (f2, seed) the nested phase-2 masks."""
    a, b, c = modular.equations(cfg.p, "+")
    seeds = seed_list(cfg)
    return {
        "a": a,
        "b": b,
        "c": c,
        "train1": modular.train_masks(len(a), [cfg.fraction1], seeds)[0],  # (seeds, n)
        "fractions2": np.asarray(cfg.fractions2, dtype=float),
        "train2": modular.train_masks(len(a), cfg.fractions2, seeds),  # (F, seeds, n)
    }


# --- training -----------------------------------------------------------------------------------------------


def _padded(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-member index lists of the True entries, padded to equal length: indices (S, k) and weights (S, k)."""
    k = int(masks.sum(axis=1).max())
    idx = np.zeros((len(masks), k), dtype=np.int64)
    weight = np.zeros((len(masks), k), dtype=np.float32)
    for s, row in enumerate(masks):
        hit = np.flatnonzero(row)
        idx[s, : len(hit)] = hit
        weight[s, : len(hit)] = 1.0
    return idx, weight


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models.transformer import EnsembleEmbeddingMLP
    from reprosuite.engine.train import trainer
    from reprosuite.engine.train.functional import cross_entropy
    from reprosuite.engine.train.optim import AdamW

    torch.set_flush_denormal(True)
    a, b, c = (torch.as_tensor(data[k], device=device) for k in ("a", "b", "c"))
    n = len(c)
    train1 = data["train1"][seed_positions(cfg, seeds)]  # (S1, n): rows by the seeds' positions
    test1 = torch.as_tensor(~train1, dtype=torch.float32, device=device)

    def make_phase(member_seeds: list[int], masks: np.ndarray, test: torch.Tensor, model, wds: list[float]):
        idx_np, w_np = _padded(masks)
        idx = torch.as_tensor(idx_np, device=device)
        weight = torch.as_tensor(w_np, device=device)
        is_train = torch.as_tensor(masks, dtype=torch.float32, device=device)
        opt = AdamW(list(model.parameters()), lr=cfg.lr, betas=(0.9, cfg.beta2), eps=1e-8, weight_decay=wds)

        def loss_fn(step: int):
            return cross_entropy(model(a[idx], b[idx]), c[idx], weight=weight)

        def evaluate(step: int) -> dict:
            logits = model(a, b)  # (S, n, p): every equation
            correct = (logits.argmax(-1) == c).float()
            loss = torch.nn.functional.cross_entropy(
                logits.transpose(1, 2), c.expand(len(member_seeds), -1), reduction="none"
            )
            out = {}
            for split, w in (("train", is_train), ("test", test)):
                out[(split, "accuracy")] = (correct * w).sum(1) / w.sum(1)
                out[(split, "loss")] = (loss * w).sum(1) / w.sum(1)
            out[("params", "weight_norm")] = torch.sqrt(
                sum(p.detach().pow(2).flatten(1).sum(1) for p in model.parameters())
            )
            return out

        return opt, loss_fn, evaluate

    # phase 1: grok at fraction1, all seeds batched
    model1 = EnsembleEmbeddingMLP(cfg.p, cfg.embed, cfg.hidden, cfg.p, seeds, device=device)
    opt1, loss1, eval1 = make_phase(seeds, train1, test1, model1, [cfg.weight_decay] * len(seeds))
    log1 = trainer.log_schedule(cfg.steps1, 40, every=50)

    def grokked(history) -> bool:
        _, accs = history.records[("test", "accuracy")]
        return bool((accs[-1] >= cfg.grok_threshold).all())

    h1 = trainer.fit(loss1, opt1, cfg.steps1, eval1, log1, done=grokked, label="varma phase 1")

    # phase 2: members (f2, seed, weight decay) start from the seed's phase-1 weights
    members = [(k, f2, s, cfg.weight_decay) for k, f2 in enumerate(cfg.fractions2) for s in seeds]
    member_seeds = [s for _, _, s, _ in members]
    rows = torch.as_tensor([seeds.index(s) for s in member_seeds], device=device)
    model2 = EnsembleEmbeddingMLP(cfg.p, cfg.embed, cfg.hidden, cfg.p, member_seeds, device=device)
    with torch.no_grad():
        for p2, p1 in zip(model2.parameters(), model1.parameters(), strict=True):
            p2.copy_(p1.index_select(0, rows))
    at = seed_positions(cfg, member_seeds)
    masks2 = np.stack([data["train2"][k][i] for (k, _, _, _), i in zip(members, at, strict=True)])
    wds2 = [w for _, _, _, w in members]
    opt2, loss2, eval2 = make_phase(member_seeds, masks2, test1.index_select(0, rows), model2, wds2)
    log2 = trainer.log_schedule(cfg.steps2, 40, every=cfg.eval_every)
    h2 = trainer.fit(loss2, opt2, cfg.steps2, eval2, log2, label="varma phase 2")

    # typed member columns: the phase, the fraction of all equations the member trains on, its weight decay
    frames = [
        h1.frame(
            seeds,
            ["phase1"] * len(seeds),
            members={
                "phase": [1] * len(seeds),
                "fraction": [cfg.fraction1] * len(seeds),
                "wd": [cfg.weight_decay] * len(seeds),
            },
        ),
        h2.frame(
            member_seeds,
            [f"f2={f2:g}" + ("" if w > 0 else "_wd0") for _, f2, _, w in members],
            members={"phase": [2] * len(members), "fraction": [f2 for _, f2, _, _ in members], "wd": wds2},
        ),
    ]
    if cfg.steps3 > 0:
        # phase 3: from scratch at each seed's critical f2 (from its phase-2 test accuracies) and the largest f2
        final = h2.records[("test", "accuracy")][1][-1].cpu().numpy()
        scratch = []
        for s in seeds:
            mine = [(f2, float(final[i])) for i, (_, f2, s_, w) in enumerate(members) if s_ == s and w > 0]
            crit = critical_fraction(np.array([f for f, _ in mine]), np.array([t for _, t in mine]))
            if math.isfinite(crit):  # else no crossing of 0.5 to stand for D_crit: not measured for this seed
                scratch.append((round(crit, 6), s))
            scratch.append((max(cfg.fractions2), s))
        s3 = [s for _, s in scratch]
        masks3 = np.stack([modular.train_mask(n, f, s) for f, s in scratch])
        test3 = test1.index_select(0, torch.as_tensor([seeds.index(s) for s in s3], device=device))
        model3 = EnsembleEmbeddingMLP(cfg.p, cfg.embed, cfg.hidden, cfg.p, s3, device=device)
        opt3, loss3, eval3 = make_phase(s3, masks3, test3, model3, [cfg.weight_decay] * len(s3))
        log3 = trainer.log_schedule(cfg.steps3, 40, every=cfg.eval_every)
        h3 = trainer.fit(loss3, opt3, cfg.steps3, eval3, log3, label="varma phase 3")
        members3 = {
            "phase": [3] * len(s3),
            "fraction": [f for f, _ in scratch],
            "wd": [cfg.weight_decay] * len(s3),
        }
        frames.append(h3.frame(s3, [f"scratch={f:g}" for f, _ in scratch], members=members3))
    return pd.concat(frames, ignore_index=True)


# --- metrics ------------------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per seed the phase-1 result, per (seed, f2, weight decay) the final accuracies after retraining, and per
    (seed, fraction) the from-scratch result: f2 and wd in typed columns (f2 NaN for phase 1)."""
    rows = []
    largest = max(cfg.fractions2)
    for r in final_table(runs).itertuples():
        if r.phase == 1:
            rows += [
                ("ungrok", math.nan, r.wd, r.seed, "phase1_test_accuracy", r.test),
                ("ungrok", math.nan, r.wd, r.seed, "phase1_train_accuracy", r.train),
                ("ungrok", math.nan, r.wd, r.seed, "phase1_steps", float(r.last_step)),
            ]
        elif r.phase == 2:
            rows += [
                ("ungrok", r.fraction, r.wd, r.seed, "final_test_accuracy", r.test),
                ("ungrok", r.fraction, r.wd, r.seed, "final_train_accuracy", r.train),
            ]
        else:
            arm = "largest" if math.isclose(r.fraction, largest) else "critical"
            rows += [
                ("ungrok", r.fraction, r.wd, r.seed, f"scratch_{arm}_test_accuracy", r.test),
                ("ungrok", r.fraction, r.wd, r.seed, f"scratch_{arm}_train_accuracy", r.train),
            ]
    return pd.DataFrame(rows, columns=["point", "f2", "wd", "seed", "metric", "value"])


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    table = retrain_table(metrics, cfg.weight_decay)
    main = seed_values(table)
    above = seed_values(table[table["f2"] == table["f2"].max()])  # the ungrokking control: the largest f2
    return {
        "ungrokking": main["ungrokking"],
        "ungrokking" + CONTROL: above["ungrokking"],
        "monotone_in_f2": main["monotone"],
        "largest_f2_keeps": main["largest"],
        "largest_f2_keeps" + CONTROL: main["smallest"],
        "semi_grokking": per_seed(metrics, "scratch_critical_test_accuracy").tolist(),
        "semi_grokking" + CONTROL: per_seed(metrics, "scratch_largest_test_accuracy").tolist(),
    }


FIGURES = (
    Figure(
        "test_vs_f2",
        "Paper (ungrokking figure, Fig. 4 per third-party notes, unverified): grokked networks further trained on "
        "smaller datasets lose test accuracy below a critical dataset size, and settle at partial accuracy near "
        "it. Ours: final test accuracy (phase-1 held-out equations) and train accuracy (the retrain subset) vs "
        "the retrain fraction f2, per seed and mean; dashed line: where the mean test accuracy crosses 0.5 (our "
        "estimate of the critical size); band: semi-grokking [0.3, 0.8].",
        figures.accuracy_vs_f2,
    ),
    Figure(
        "retrain_curves",
        "Ours (no paper counterpart): test and train accuracy during retraining, one line per f2 (mean over "
        "seeds): below the critical size the test accuracy decays while train accuracy stays 1.",
        figures.retrain_curves,
    ),
)
