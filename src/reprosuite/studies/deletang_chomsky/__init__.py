"""Delétang et al. 2023 — the Chomsky level of a task predicts which architectures length-generalise.

Paper: "Neural Networks and the Chomsky Hierarchy", ICLR 2023 (arXiv:2207.02098; official code
google-deepmind/neural_networks_chomsky_hierarchy, JAX/Haiku, read at commit 2b8eb4b).

Sources: the abstract (20,910 models, 15 tasks; "RNNs and Transformers fail to generalize on non-regular tasks,
LSTMs can solve regular and counter-language tasks, and only networks augmented with structured memory (such as a
stack or memory tape) can successfully generalize on context-free and context-sensitive tasks", negative results
"despite models having sufficient capacity to fit the training data perfectly"); the official code:
``tasks/regular/parity_check.py``, ``tasks/regular/modular_arithmetic.py``, ``tasks/dcf/reverse_string.py``,
``tasks/cs/duplicate_string.py``, ``tasks/cs/odds_first.py`` (generators), ``experiments/utils.py``
(``make_model_with_empty_targets``: the one-hot input, then one "empty" token per output symbol; outputs read at
the last positions), ``models/rnn.py`` (``relu → Linear`` head), ``models/stack_rnn.py`` (push/pop/no-op softmax,
pushed value Linear(h)), ``models/tape_rnn.py`` (``TapeInputLengthJumpCore``: write MLP (64, 64), softmax over
stay / ±1 / ±input length), ``models/transformer.py``, ``experiments/training.py`` (Adam after
``clip_by_global_norm(1.0)``, one length per step uniform in 1..N), ``experiments/example.py`` (batch 128, lr 1e-3,
hidden 256, cell 8, score = mean per-token accuracy over test lengths > N), ``experiments/range_evaluation.py``.
Table 2's values (the paper's statistic: the maximum over seeds and learning rates) are quoted from a third-party
summary and were **not verified** against the paper (our searches did not reach its tables); so were the test
range 41-500, the 1M steps, the 3 learning rates and 10 seeds. All thresholds below are ours.

Statistic: per seed, the OOD score (mean per-token accuracy over the test lengths > L_train, the official score);
mean over seeds with a Student-t interval (stricter than the paper's max, which more seeds can never falsify). The
in-distribution accuracy (lengths 1..L_train), the final training loss and, for stack/tape models, the mean action
entropy (are the soft actions becoming discrete?) are recorded per seed; the max over seeds (the paper's
statistic) is shown beside the mean in the ``score_table`` figure. τ = 0.90 at smoke/quick, 0.95 at full (ours; paper
100 %): each success claim has a quick id and a ``_full`` id, the same claim at the full tier's τ.

Claims:
- ``DC0`` (sanity): the generators equal brute-force labels, and a hand-wired stack/tape with hard actions reverses
  and duplicates strings of any length — checked by the tests (``tests/studies/deletang_chomsky``); shown, not run.
- ``DC1`` / ``DC1_full`` (empirical, mean, OOD ≥ τ): on parity (regular) an LSTM length-generalises (paper
  LSTM 100). Control: a Transformer encoder on the same task, which has no recurrent state to carry the running
  parity (paper 52.0).
- ``DC2`` / ``DC2_full`` (empirical, mean, OOD ≥ τ): on reverse string (deterministic context-free) a stack-RNN
  generalises (paper 100). Control: an LSTM, the same recurrent controller without the stack (paper 60.9).
- ``DC3`` (empirical, full only, OOD ≥ 0.95): on duplicate string (context-sensitive) a tape-RNN generalises
  (paper 100). Control: a stack-RNN, which has memory but only last-in-first-out access (paper 52.8). Full only:
  in a CPU prototype the tape-RNN did not learn duplication OOD within 2000-5000 steps at L_train 10.
- ``DC4`` (empirical, full only, OOD ≤ 0.60): a Transformer fails on parity even when it fits the training
  lengths: gated on in-distribution accuracy ≥ 0.95 for every seed (otherwise not applicable → inconclusive).
  Control: the LSTM on the same task (it generalises, so it must fail this rule). Full only: a Transformer does
  not fit parity's training lengths within the quick budget, so the "despite fitting" clause cannot be checked.
Not claims (recorded at full only, metrics + figures): vanilla-RNN parity (the paper reports RNN 100; it is
seed-fragile) and every other (task, architecture) of the grid, laid out as Table 2 in the ``score_table``
figure.

Protocol: ``Config`` holds the paper's (official example's) protocol; ``WHY`` the deviations of each tier. Seeds
of one (task, architecture) are one batched model (weights stacked over seeds, ``bmm`` per time step:
:mod:`reprosuite.engine.models.recurrent`, :mod:`.encoder`); each member draws its own batches from stateless
per-(seed, step) streams; the length of a step is common to all members (drawn from the first seed's stream).
Ours at every tier: the stack is as deep as the longest test input and the tape as long as the model's whole
input tape (the official example uses 40 cells for both, which would truncate test strings of length 500);
the stopping rule at full: stop when every member's per-token training cross-entropy on a fixed batch of length
L_train is ≤ ``stop_loss``.
Quick deviations (CPU budget ≈ 100 CPU-s: the recurrent loops are compute-bound, ≈ 6-14 ms per step and seed):
L_train 10 (test 11, 14, …, 38), 256 sequences per length, hidden 64, Transformer 2 layers × 4 heads without
dropout, 3 seeds, one learning rate, per-block fan-in initialisation (``init``, see ``WHY``); parity 2000 steps
(LSTM), reverse 500 steps (stack-RNN and LSTM alike), the Transformer control 500 steps; vanilla-RNN parity not
run (recorded at full).
Full deviations: 100k steps with the stopping rule instead of 1M, one learning rate (1e-3, the official example)
instead of three, five tasks (stack manipulation not built), the sin/cos positional encoding only.
Caveats: the Transformer's length generalisation depends on its positional encoding (the paper tries several; we
use sin/cos); OOD accuracy of strings is per token, so chance is 0.5 for binary tasks and a model that copies
half a string scores ≈ 0.75; a soft stack's accuracy decays slowly with length unless its actions become
discrete, which is why quick's τ is lower; at full, the first step at duplicate string (T = 120, 10 members) needs more
than 6 GB on a CPU for the tape-RNN (≈ 7.7 GB peak) and the Transformer (attention weights materialised): paper
scale, GPU only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule, per_seed
from reprosuite.study import Figure, Paper

from . import figures, run

PAPER = Paper(
    title="Neural Networks and the Chomsky Hierarchy",
    authors="Delétang et al.",
    year=2023,
    arxiv="2207.02098",
    venue="ICLR 2023",
    code="https://github.com/google-deepmind/neural_networks_chomsky_hierarchy",
)

COST = {
    "smoke": "≈ 1 CPU-s training (4 jobs)",
    "quick": "≈ 100 CPU-s training: parity LSTM 41, parity Transformer 26, reverse stack-RNN 13, reverse LSTM 20",
    "full": "25 jobs × 10 batched seeds × ≤ 100k steps; CPU probe (6 GB cap): 23 jobs run, 1-56 s per step on "
    "a busy 2-core CPU; duplicate tape-RNN and Transformer out of memory at 6 GB; so GPU only; estimate (unmeasured) ≈ 70 ms per step on one GPU (T ≤ 120 sequential cells) "
    "→ ≤ 2 GPU-h per job, ≤ 50 GPU-h in all before the stopping rule",
}

TASKS = ("parity", "modular", "reverse", "duplicate", "odds_first")
ARCHS = ("rnn", "lstm", "stack", "tape", "transformer")


@dataclass(frozen=True)
class Config:
    seeds: int = 10  # §4 / App.: 10 initialisation seeds per (task, architecture, lr) [unverified]
    runs: tuple[str, ...] = ()  # "<task>_<arch>" grid points; empty: every task × every architecture
    tasks: tuple[str, ...] = TASKS  # Table 2 rows we build (stack manipulation not built)
    steps: int = 1_000_000  # §4: 1M training steps [unverified]
    steps_transformer: int = 1_000_000  # the same budget for every architecture
    steps_transduction: int = 1_000_000  # the same budget for every task
    stop_loss: float = 0.0  # the paper trains for a fixed budget (no stopping rule)
    batch: int = 128  # official example.py
    lr: float = 1e-3  # official example.py (the paper sweeps 3 learning rates [unverified])
    clip: float = 1.0  # official training.py: clip_by_global_norm(1.0)
    l_train: int = 40  # §4: training lengths uniform in 1..40
    test_start: int = 41  # §4: test lengths 41..500 [unverified]
    test_stop: int = 500
    test_stride: int = 1
    eval_size: int = 512  # official range_evaluation: 512 sequences per length
    hidden: int = 256  # official example.py
    cell: int = 8  # official example.py: memory_cell_size 8
    init: Literal["joint", "blocks"] = (
        "joint"  # Haiku: one N(0, 1/fan_in) matrix on the concatenated core input
    )
    tape_mlp: tuple[int, ...] = (64, 64)  # official tape_rnn.py: write MLP
    d_model: int = 64  # official transformer.py: embedding 64
    layers: int = 5  # official transformer.py: 5 layers
    heads: int = 8  # official transformer.py: 8 heads
    dropout: float = 0.1  # official transformer.py
    log_points: int = 100  # ours: evaluations of the training loss (log-spaced)


QUICK = replace(
    Config(),
    seeds=3,
    runs=("parity_lstm", "parity_transformer", "reverse_stack", "reverse_lstm"),
    steps=2000,
    steps_transformer=500,
    steps_transduction=500,
    init="blocks",
    l_train=10,
    test_start=11,
    test_stop=38,
    test_stride=3,
    eval_size=256,
    hidden=64,
    layers=2,
    heads=4,
    dropout=0.0,
    log_points=20,
)
FULL = replace(Config(), steps=100_000, steps_transformer=100_000, steps_transduction=100_000, stop_loss=1e-3)
TIERS = {
    "full": FULL,
    "quick": QUICK,
    "smoke": replace(
        QUICK,
        seeds=2,
        runs=("parity_lstm", "parity_transformer", "reverse_stack", "reverse_lstm"),
        steps=60,
        steps_transformer=30,
        steps_transduction=30,
        l_train=5,
        test_start=6,
        test_stop=10,
        test_stride=2,
        eval_size=32,
        hidden=16,
        d_model=16,
        batch=32,
        log_points=5,
    ),
}
WHY = {
    "seeds": "CPU budget (quick: 3 seeds; one batched model per point)",
    "runs": "quick: the (task, architecture) pairs of DC1 and DC2 and their controls only (CPU budget; "
    "vanilla-RNN parity is recorded at full)",
    "steps": "full: 100k steps with a stopping rule (1M is ~10x the GPU budget); quick: CPU budget, the LSTM "
    "and the stack-RNN reach their OOD plateau within 2000 steps at L_train 10",
    "steps_transformer": "quick: it is only DC1's control there (DC4 is full only); 500 steps (CPU budget: "
    "≈ 50 ms per step for 3 members)",
    "steps_transduction": "quick: CPU budget; a string task supervises every output position (≈ 5x parity's one "
    "label per sequence), and the stack-RNN fits reverse's training lengths within a few hundred steps; its "
    "control (LSTM) gets the same 500 steps",
    "stop_loss": "full: stop once every member fits the training lengths (ours), to afford 100k-step budgets",
    "l_train": "CPU budget: 4x shorter strings, test up to ~4x L_train as in the paper (41-500 vs 40)",
    "test_start": "follows L_train",
    "test_stop": "follows L_train (≈ 4x)",
    "test_stride": "CPU budget: every third length",
    "eval_size": "CPU budget",
    "hidden": "CPU budget (smaller strings need less state)",
    "layers": "CPU budget (quick Transformer 2 layers)",
    "heads": "CPU budget (quick Transformer 4 heads)",
    "dropout": "quick: no dropout (a control that underfits for lack of steps should not also be regularised)",
    "log_points": "fewer loss evaluations",
    "init": "quick: each input block (symbol, memory read, hidden) drawn with its own fan-in, as separate "
    "PyTorch-style layers: in development the stack-RNN fitted reverse's training lengths within 200 steps this "
    "way (in-distribution 0.97-1.0) but not with Haiku's joint fan-in (0.93-0.95; 0.99 only after 1500 steps "
    "at batch 64), and quick affords ≈ 500 steps",
    "d_model": "smoke only: a tiny Transformer",
    "batch": "smoke only",
}


# ---------------------------------------------------------------------------------------------------- data
def _runs(cfg: Config) -> tuple[str, ...]:
    return cfg.runs or tuple(f"{t}_{a}" for t in cfg.tasks for a in ARCHS)


def grid(cfg: Config) -> dict[str, dict]:
    out = {}
    for name in _runs(cfg):
        task, _, arch = name.rpartition("_")
        if task not in run.tasks.VOCAB or arch not in ARCHS:
            raise ValueError(
                f"grid point {name!r}: task must be one of {sorted(run.tasks.VOCAB)}, arch of {ARCHS}"
            )
        steps = cfg.steps_transformer if arch == "transformer" else cfg.steps
        if run.tasks.out_len(task, 2) > 1 and arch != "transformer":
            steps = cfg.steps_transduction
        out[name] = {"id": name, "task": task, "arch": arch, "steps": steps}
    if cfg.test_start <= cfg.l_train or cfg.test_stop < cfg.test_start:
        raise ValueError(
            f"test lengths {cfg.test_start}..{cfg.test_stop} must lie above L_train {cfg.l_train}"
        )
    return out


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Strings are drawn in the training job from stateless per-(seed, step) streams; only the lengths here."""
    train, test = run.lengths(cfg)
    return {"train_lengths": np.asarray(train), "test_lengths": np.asarray(test)}


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    return run.train_point(cfg, point, seeds, device)


# ---------------------------------------------------------------------------------------------------- metrics
def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (point, seed): ``ood`` (mean accuracy over test lengths > L_train), ``in_dist`` (lengths 1..L_train),
    ``action_entropy``, ``final_loss`` and ``steps_run``."""
    rows = []
    ev = runs[(runs["split"] == "eval") & runs["metric"].str.startswith("acc@")].copy()
    ev["length"] = ev["metric"].str[4:].astype(int)
    for (point, seed), g in ev.groupby(["point", "seed"]):
        last = g[g["step"] == g["step"].max()]
        rows.append((point, seed, "ood", float(last[last["length"] > cfg.l_train]["value"].mean())))
        rows.append((point, seed, "in_dist", float(last[last["length"] <= cfg.l_train]["value"].mean())))
        rows.append((point, seed, "steps_run", float(g["step"].max())))
    for metric, split in (("action_entropy", "eval"), ("loss", "train")):
        sel = runs[(runs["metric"] == metric) & (runs["split"] == split)]
        for (point, seed), g in sel.groupby(["point", "seed"]):
            name = "final_loss" if metric == "loss" else metric
            rows.append((point, seed, name, float(g.sort_values("step")["value"].iloc[-1])))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


# ---------------------------------------------------------------------------------------------------- claims
QUICK_TIERS, FULL_TIER = ("smoke", "quick"), ("full",)


def _success(cid: str, tiers, tau: float, what: str, paper: str, control: str) -> Claim:
    return Claim(
        id=cid,
        statement=what,
        metric="per seed: OOD score = mean per-token accuracy over test lengths > L_train",
        rule=Rule.at_least(tau),
        paper_value=1.0,
        paper_text=paper,
        tiers=tiers,
        control=control,
    )


_DC1 = (
    "a recurrent net with finite-state memory (LSTM) length-generalises on parity (regular)",
    "Table 2: LSTM 100, RNN 100 vs Transformer 52.0 [third-party quote]",
    "Transformer encoder on parity (no recurrent state)",
)
_DC2 = (
    "a stack-augmented RNN length-generalises on reverse string (deterministic context-free)",
    "Table 2: Stack-RNN 100 vs LSTM 60.9 [third-party quote]",
    "LSTM on reverse string (no stack)",
)
CLAIMS = (
    _success("DC1", QUICK_TIERS, 0.90, *_DC1),
    _success("DC1_full", FULL_TIER, 0.95, *_DC1),
    _success("DC2", QUICK_TIERS, 0.90, *_DC2),
    _success("DC2_full", FULL_TIER, 0.95, *_DC2),
    _success(
        "DC3",
        FULL_TIER,
        0.95,
        "a tape-augmented RNN length-generalises on duplicate string (context-sensitive)",
        "Table 2: Tape-RNN 100 vs Stack-RNN 52.8 [third-party quote]",
        "stack-RNN on duplicate string (LIFO memory only)",
    ),
    Claim(
        id="DC4",
        statement="a Transformer fails to length-generalise on parity although it fits the training lengths",
        metric="per seed: OOD score on parity, when every seed's in-distribution accuracy is ≥ 0.95 (else n/a)",
        rule=Rule.at_most(0.60),
        paper_value=0.52,
        paper_text="Table 2: Transformer parity 52.0 [third-party quote]; abstract: 'despite ... capacity to fit'",
        tiers=FULL_TIER,
        control="LSTM on parity, gated the same way",
    ),
)
GATE = 0.95  # ours: "fits the training lengths"


def _gated(metrics: pd.DataFrame, point: str) -> pd.Series:
    ood, fit = per_seed(metrics, "ood", point), per_seed(metrics, "in_dist", point)
    if len(ood) and bool((fit < GATE).any()):
        return pd.Series(np.nan, index=ood.index)  # not applicable: the model did not fit → inconclusive
    return ood


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, pd.Series]:
    out = {}
    for cid in ("DC1", "DC1_full"):
        out[cid] = per_seed(metrics, "ood", "parity_lstm")
        out[f"{cid}/control"] = per_seed(metrics, "ood", "parity_transformer")
    for cid in ("DC2", "DC2_full"):
        out[cid] = per_seed(metrics, "ood", "reverse_stack")
        out[f"{cid}/control"] = per_seed(metrics, "ood", "reverse_lstm")
    out["DC3"] = per_seed(metrics, "ood", "duplicate_tape")
    out["DC3/control"] = per_seed(metrics, "ood", "duplicate_stack")
    out["DC4"] = _gated(metrics, "parity_transformer")
    out["DC4/control"] = _gated(metrics, "parity_lstm")
    return out


FIGURES = (
    Figure(
        name="length_curves",
        caption="Paper Fig. 2: accuracy per test length. Ours: per-token accuracy vs string length per "
        "architecture (mean ± sd over seeds), one panel per task, training range shaded.",
        draw=figures.draw_lengths,
    ),
    Figure(
        name="score_table",
        caption="Paper Table 2: OOD score per task × architecture. Ours: mean over seeds (max in brackets, the "
        "paper's statistic).",
        draw=figures.draw_table,
    ),
)
