"""Nanda et al. 2023 — progress measures show grokking is gradual underneath: memorisation, circuit formation, cleanup.

Paper: Nanda, Chan, Lieberum, Smith, Steinhardt, "Progress measures for grokking via mechanistic
interpretability", arXiv:2301.05217 (ICLR 2023). Official code:
https://github.com/mechanistic-interpretability-grokking/progress-measures-paper (``transformers.py``,
``helpers.py``, the analysis notebook): the source of ``Config``'s defaults and of :mod:`.fourier`.

Claims (a 1-layer transformer on (a + b) mod p learns a sparse Fourier algorithm, and progress measures built
from it move before the test loss drops); all empirical, each with the statistic ``median`` over seeds (below 6
seeds it has no interval and decides only when every seed falls on the same side: the paper's claims are per
seed, Fig. 2 "over 5 seeds") and the negative control **weight decay 0**: members of the same job, the first
``control_seeds`` seeds trained identically but without weight decay, to which the paper attributes the
cleanup of the memorising solution (§5). Pass rules:
1. test_acc — final test accuracy ≥ 0.99 (Fig. 2: ~100 % over 5 seeds). A seed still in its transition when the
   budget ends makes it inconclusive.
2. sparse_embedding — ≤ 10 frequencies carry ≥ 90 % of the embedding's Fourier energy at the end (Fig. 3a:
   W_E has six non-zero frequencies, five of them key, {14, 35, 41, 42, 52}). Energy: W_E on the p number
   tokens in the orthonormal Fourier basis of Z_p, cos² + sin² per frequency k = 1 … p//2 — the squared norm
   (Parseval: the share of W_E's variance), the quantity behind the paper's fractions of variance explained
   and its Fig. 3a norms squared. The bar is the paper's scale (10 of p//2 = 56 frequencies); at p = 31 it is
   10 of 15, which a random embedding misses by only a few frequencies, so the control carries the weight there.
3. restricted_first / excluded_first — the restricted loss falls (Fig. 6b) and the excluded loss rises (Fig. 6a)
   before the test loss drops. Key frequencies: those of the final model's MLP neurons, applied to every logged
   step (as the official notebook); restricted loss over all p² inputs, excluded loss over the training inputs
   (:mod:`.fourier`). Step measures (ours; the paper shows curves only): a loss falls at the first step after
   its maximum where log L is half-way down to its final level (median of the last 10 % of steps); it rises
   at the first step after its minimum (up to the test-loss drop) half-way up to its later maximum; a fall or
   rise spanning less than ``span`` (10×) is none. Claim values: the leads t_test − t_restricted and
   t_test − t_excluded; pass ≥ 1 step. NaN (inconclusive) when the test loss never drops, as for the control;
   a measure that never moves within the run is censored: its lead is at most t_test − (last step).

Protocol (§3; official code): p 113, 30 % of the p² pairs for training, inputs ``a b =``, 1 layer, d_model
128, 4 heads of 32, d_mlp 512, ReLU, no LayerNorm, causal attention, answer read at ``=``; full-batch AdamW
lr 1e-3, weight decay 1, betas (0.9, 0.98), warm-up lr·min(step/10, 1); official init (every weight
N(0, 1/d_model), W_U N(0, 1/(p + 1))). Ours: the suite's ``EnsembleTransformer`` (``norm="none"``) run
through :func:`.fourier.forward_fixed_last` (an exact rewrite for inputs ``a b =``), fixed sinusoidal positions
instead of a learned W_pos, no MLP biases, logits over the p answers; evaluation losses in float64. The
restricted and excluded losses need the final key frequencies, so every logged step's parameters are kept in
host memory, in buffers that ``trainer.fit`` checkpoints (full tier: 287 steps × 10 members × 0.23 M floats =
2.6 GB, twice that while a checkpoint is written; ``resources`` asks for it), and the losses are computed after
training.

Tiers: full is the paper (GPU only: ~10–25 s per evaluation on CPU, the neuron analysis over 12 769 inputs).
quick: p 31, 60 % training data, d_model 64, d_mlp 256, lr 3e-3, 6000 steps, 3 seeds; smoke: p 23, pipeline
check only; the control trains one seed at both (the 2-core budget). Cost (2-core CPU): smoke ≈ 8 CPU-s of
training; quick ≈ 140 CPU-s of training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL, Claim, Rule, per_seed
from reprosuite.engine.data import modular
from reprosuite.metrics import curves
from reprosuite.study import Figure, Paper, seed_list, seed_positions

from . import figures
from .amendments import AMENDMENTS as AMENDMENTS  # the study interface reads it here
from .sparsity import count_for_share, gini
from .timing import fall_step, lead, leads, rise_step, series

PAPER = Paper(
    title="Progress measures for grokking via mechanistic interpretability",
    authors="Nanda, Chan, Lieberum, Smith, Steinhardt",
    year=2023,
    arxiv="2301.05217",
    venue="ICLR 2023",
    code="https://github.com/mechanistic-interpretability-grokking/progress-measures-paper",
)

COST = {
    "smoke": "~6 CPU-s training, ~18 CPU-s pipeline",
    "quick": "~140 CPU-s training (1 job, 3 seeds + 1 control member)",
    "full": "GPU: 40k full-batch steps x 5 seeds, not run",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # Fig. 2: 5 seeds
    # Task (§3; official gen_train_test): (a + b) mod p, a random `fraction` of all p² pairs for training.
    p: int = 113  # §3
    fraction: float = 0.3  # §3: 30 %
    # Model (§3; official transformers.Config): 1 layer, no LayerNorm, d_head = d_model / heads, ReLU MLP.
    d_model: int = 128  # §3
    heads: int = 4  # §3
    d_mlp: int = 512  # §3
    # Optimiser (§3; official Trainer): full-batch AdamW, betas (0.9, beta2), warm-up lr · min(step / warmup, 1).
    lr: float = 1e-3  # §3
    weight_decay: float = 1.0  # §3
    beta2: float = 0.98  # official Trainer
    warmup: int = 10  # official LambdaLR(min(step / 10, 1))
    steps: int = 40_000  # full-batch epochs: the mainline figures' 40 000 (official default 50 000)
    # "official" (transformers.py: every weight N(0, 1/d_model), W_U N(0, 1/d_vocab)) or "pytorch" (the suite
    # transformer's defaults: embeddings N(0, 1), linear layers U(±1/√fan_in)).
    init: Literal["official", "pytorch"] = "official"
    eval_every: int = 200  # not stated; ours: every 200 steps plus ~100 log-spaced ones
    threshold: float = 0.99  # claim 1: test accuracy
    share: float = 0.9  # claim 2: share of the embedding's Fourier energy
    span: float = 10.0  # claim 3 (ours): a fall/rise must span at least this factor to count
    control_seeds: int = 5  # ours: the negative control, weight decay 0, on the first this many seeds


QUICK = replace(
    Config(),
    seeds=3,
    p=31,
    fraction=0.6,
    d_model=64,
    d_mlp=256,
    lr=3e-3,
    steps=6000,
    eval_every=50,
    control_seeds=1,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=2, p=23, fraction=0.7, d_model=32, d_mlp=128, lr=1e-2, steps=600),
}
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "p": "the neuron Fourier analysis over p² inputs costs 10–25 s per evaluation on CPU at p = 113",
    "fraction": "a small p groks within the CPU step budget only with more training data (ours)",
    "d_model": "a smaller transformer for the CPU budget",
    "d_mlp": "a smaller transformer for the CPU budget (4 · d_model, as the paper)",
    "lr": "a higher learning rate to grok within the CPU step budget (ours)",
    "steps": "2-core CPU budget",
    "eval_every": "a grid of ~100 dense steps over the shorter run",
    "control_seeds": "2-core CPU budget: each control member adds a third of the job's time",
}

_CONTROL = "weight decay 0 (members of the same job, first seeds only; the network memorises without it)"

CLAIMS = (
    Claim(
        "test_acc",
        "The 1-layer transformer generalises: final test accuracy ≥ 0.99 on every seed (median over seeds).",
        metric="final test accuracy",
        rule=Rule.at_least(0.99),
        paper_value=1.0,
        paper_text="train and test accuracy reach ~100 % over 5 seeds (Fig. 2)",
        tiers=("quick", "full"),
        statistic="median",
        control=_CONTROL,
    ),
    Claim(
        "sparse_embedding",
        "The embedding is sparse in the Fourier basis: at most 10 frequencies carry ≥ 90 % of its Fourier energy "
        "(squared norm) at the end of training (median over seeds).",
        metric="frequencies carrying 90 % of W_E's Fourier energy",
        rule=Rule.at_most(10),
        paper_value=6,
        paper_text="W_E has 6 non-zero frequencies, 5 of them key {14, 35, 41, 42, 52} (Fig. 3a)",
        tiers=("quick", "full"),
        statistic="median",
        control=_CONTROL,
    ),
    Claim(
        "restricted_first",
        "Restricted loss (logits restricted to the final key frequencies) falls before the test loss: lead "
        "t_test − t_restricted ≥ 1 step (median over seeds), each t the first logged step half-way (log scale) "
        "down its fall.",
        metric="t_test − t_restricted (steps)",
        rule=Rule.at_least(1),
        paper_text="the restricted loss begins declining before the test loss declines (Fig. 6b)",
        tiers=("quick", "full"),
        statistic="median",
        control=_CONTROL,
    ),
    Claim(
        "excluded_first",
        "Excluded loss (train loss with the key frequencies removed) rises before the test loss falls: lead "
        "t_test − t_excluded ≥ 1 step (median over seeds), t_excluded the first logged step half-way (log "
        "scale) up its rise.",
        metric="t_test − t_excluded (steps)",
        rule=Rule.at_least(1),
        paper_text="excluded loss rises during circuit formation while train and test loss stay flat (Fig. 6a)",
        tiers=("quick", "full"),
        statistic="median",
        control=_CONTROL,
    ),
)


# --- grid and data ------------------------------------------------------------------------------------------


def _point_id(cfg: Config) -> str:
    return f"p{cfg.p}_frac{cfg.fraction:.2f}"


def grid(cfg: Config) -> dict[str, dict]:
    """One job: every seed of the one protocol, batched."""
    if cfg.p % 2 == 0:
        raise ValueError(f"p must be odd (the Fourier basis of Z_p), got {cfg.p}")
    if cfg.d_model % cfg.heads:
        raise ValueError(f"d_model {cfg.d_model} is not a multiple of heads {cfg.heads}")
    return {_point_id(cfg): {"p": cfg.p, "fraction": cfg.fraction}}


def resources(cfg: Config, point: dict) -> dict[str, int]:
    """Host memory for the per-step parameter copies (float32) and their copy in a checkpoint, over a base of
    4 GB; the logged steps are bounded by the dense grid plus the ~100 log-spaced ones."""
    d, p = cfg.d_model, cfg.p
    n_params = (2 * p + 1) * d + 4 * d * d + 2 * cfg.d_mlp * d  # W_E, W_U, W_QKV + W_O, W_in + W_out
    n_logged = cfg.steps // cfg.eval_every + 102
    copies = 4 * n_params * len(_members(cfg, seed_list(cfg))) * n_logged
    return {"mem_mb": 4000 + math.ceil(2 * copies / 2**20)}


def _members(cfg: Config, seeds: list[int]) -> list[tuple[float, int]]:
    """(weight decay, seed) of a job's members: every seed with the paper's weight decay, then the control's
    seeds (the first ``control_seeds`` of the config's seed list among ``seeds``) with none."""
    control = [s for s in seed_list(cfg)[: cfg.control_seeds] if s in seeds]
    return [(cfg.weight_decay, s) for s in seeds] + [(0.0, s) for s in control]


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """All p² equations in row-major (a, b) order and each seed's training mask, ``train`` (seeds, p²)."""
    a, b, c = modular.equations(cfg.p, "+")
    return {
        "a": a,
        "b": b,
        "c": c,
        "train": modular.train_masks(len(a), [cfg.fraction], seed_list(cfg))[0],
    }


# --- training -----------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models.transformer import EnsembleTransformer
    from reprosuite.engine.train import trainer
    from reprosuite.engine.train.functional import cross_entropy
    from reprosuite.engine.train.optim import AdamW

    from . import fourier
    from .model import official_init

    torch.set_flush_denormal(True)
    p = cfg.p
    members = _members(cfg, list(seeds))  # a control member starts as its seed's main member, split included
    wds, seeds = [w for w, _ in members], [s for _, s in members]
    model = EnsembleTransformer(
        p + 1, p, 3, cfg.d_model, cfg.heads, cfg.d_mlp, 1, seeds, norm="none", causal=True, device=device
    )
    if cfg.init == "official":
        official_init(model, seeds, cfg.p, cfg.d_model, cfg.d_mlp)
    a, b, c = (torch.as_tensor(data[k], device=device) for k in ("a", "b", "c"))  # inputs "a b =", "=" is p
    mask = np.asarray(data["train"])[seed_positions(cfg, seeds)]  # (S, n)
    index = torch.as_tensor(np.stack([np.flatnonzero(m) for m in mask]), device=device)  # (S, n_train)
    is_train = torch.as_tensor(mask, dtype=torch.float64, device=device)
    params = list(model.parameters())
    opt = AdamW(params, lr=cfg.lr, betas=(0.9, cfg.beta2), eps=1e-8, weight_decay=wds)
    log_steps = trainer.log_schedule(cfg.steps, 100, every=cfg.eval_every)
    row = {step: i for i, step in enumerate(log_steps)}
    # the parameters at every logged step, for the progress measures that need the final key frequencies;
    # buffers of trainer.fit, so that a resumed job has the copies made before it was stopped
    snapshots = [torch.zeros((len(log_steps), *q.shape), dtype=q.dtype) for q in params]

    def loss_fn(step: int):
        return cross_entropy(
            fourier.forward_fixed_last(model, a[index], b[index], p)[0], c[index]
        )  # full batch

    def evaluate(step: int) -> dict:
        logits, neurons = fourier.forward_fixed_last(model, a, b, p)
        logits = logits.double()
        loss = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), c.expand(len(seeds), -1), reduction="none"
        )
        correct = (logits.argmax(-1) == c).double()
        out = {("params", "sum_sq_weights"): fourier.sum_squared_weights(params)}
        for split, w in (("train", is_train), ("test", 1 - is_train)):
            out[(split, "loss")] = (loss * w).sum(1) / w.sum(1)
            out[(split, "acc")] = (correct * w).sum(1) / w.sum(1)
        energy = fourier.frequency_energy(fourier.embedding_component_norms(model.embed.double(), p))
        e = energy.cpu().numpy()
        for k in range(1, p // 2 + 1):
            out[("embed", f"energy_k{k:03d}")] = energy[:, k - 1]
        out[("embed", "n_share")] = torch.as_tensor(count_for_share(e, cfg.share), dtype=torch.float64)
        out[("embed", "gini")] = torch.as_tensor(gini(np.sqrt(e)), dtype=torch.float64)
        out[("fourier", "neuron_freqs")] = fourier.key_frequency_mask(neurons.double(), p).sum(1).double()
        for saved, q in zip(snapshots, params, strict=True):
            saved[row[step]].copy_(q.detach())
        return out

    history = trainer.fit(
        loss_fn,
        opt,
        cfg.steps,
        evaluate,
        log_steps,
        lr_scale=lambda step: min(1.0, step / cfg.warmup),  # official LambdaLR(min(step / 10, 1))
        label=f"nanda {_point_id(cfg)}",
        buffers=snapshots,
    )
    # progress measures with the final model's key frequencies, on every kept parameter snapshot
    with torch.no_grad():
        _, neurons = fourier.forward_fixed_last(model, a, b, p)
        key = fourier.key_frequency_mask(neurons.double(), p)  # (S, p//2)
        logged = list(history.records[("test", "loss")][0])
        last = max(logged)
        history.log(last, "fourier", "key_freqs", key.sum(1).double())
        for k in range(1, p // 2 + 1):
            history.log(last, "fourier", f"key_k{k:03d}", key[:, k - 1].double())
        final = [q.detach().clone() for q in params]
        for step in logged:
            for q, saved in zip(params, snapshots, strict=True):
                q.copy_(saved[row[step]].to(q.device))
            logits = fourier.forward_fixed_last(model, a, b, p)[0].double()
            history.log(step, "progress", "restricted_loss", fourier.restricted_loss(logits, c, key))
            history.log(step, "progress", "excluded_loss", fourier.excluded_loss(logits, c, key, is_train))
        for q, saved in zip(params, final, strict=True):
            q.copy_(saved)
    return history.frame(seeds, [f"wd{w:g}" for w in wds], members={"wd": wds})


# --- metrics and claims ---------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (weight decay, seed): final accuracies, embedding sparsity, key frequencies, phase steps, the leads
    and the last step, the member's weight decay in a ``wd`` column."""
    rows = []
    if "wd" not in runs.columns:
        runs = runs.assign(wd=cfg.weight_decay)
    for (point, wd, seed), g in runs.groupby(["point", "wd", "seed"]):
        st, test_loss = series(g, "test", "loss")
        _, test_acc = series(g, "test", "acc")
        _, train_acc = series(g, "train", "acc")
        sr, restricted = series(g, "progress", "restricted_loss")
        se, excluded = series(g, "progress", "excluded_loss")
        _, n_share = series(g, "embed", "n_share")
        _, gini_ = series(g, "embed", "gini")
        _, keys = series(g, "fourier", "key_freqs")
        t_test = fall_step(st, test_loss, cfg.span)
        t_res = fall_step(sr, restricted, cfg.span)
        t_exc = rise_step(se, excluded, t_test, cfg.span)
        values = {
            "test_acc_final": float(test_acc[-1]),
            "train_acc_final": float(train_acc[-1]),
            "n_share_final": float(n_share[-1]),
            "gini_final": float(gini_[-1]),
            "key_freqs": float(keys[-1]) if keys.size else math.nan,
            "t_memorise": curves.first_reaching(st, train_acc, cfg.threshold),
            "t_test_acc": curves.first_reaching(st, test_acc, cfg.threshold),
            "t_test": t_test,
            "t_test_onset": fall_step(st, test_loss, cfg.span, q=0.1),
            "t_test_end": fall_step(st, test_loss, cfg.span, q=0.9),
            "t_restricted": t_res,
            "t_excluded": t_exc,
            "restricted_lead": lead(t_test, t_res),
            "excluded_lead": lead(t_test, t_exc),
            "last_step": float(st[-1]),
        }
        rows += [
            {"point": point, "wd": float(wd), "seed": int(seed), "metric": m, "value": v}
            for m, v in values.items()
        ]
    return pd.DataFrame(rows, columns=["point", "wd", "seed", "metric", "value"])


def measure(metrics: pd.DataFrame, cfg: Config) -> dict:
    out = {}
    for wd, suffix in ((cfg.weight_decay, ""), (0.0, CONTROL)):
        out["test_acc" + suffix] = per_seed(metrics, "test_acc_final", wd=wd).astype(float).tolist()
        out["sparse_embedding" + suffix] = per_seed(metrics, "n_share_final", wd=wd).astype(float).tolist()
        out["restricted_first" + suffix] = leads(metrics, "restricted_lead", wd)
        out["excluded_first" + suffix] = leads(metrics, "excluded_lead", wd)
    return out


FIGURES = (
    Figure(
        "loss_curves",
        "Paper Fig. 2 and 6: train loss falls within ~1k epochs while test loss stays high, then test loss drops "
        "sharply (~10–14k epochs), the three phases memorisation, circuit formation and cleanup marked. Ours: train "
        "and test loss (log y) and accuracy per seed; shading: memorisation until train accuracy ≥ 99 %, circuit "
        "formation until the test loss has fallen 10 % of its log-range, cleanup until 90 % (seed medians).",
        figures.losses,
    ),
    Figure(
        "progress_measures",
        "Paper Fig. 6/7: excluded loss rises during circuit formation while train and test loss stay flat; "
        "restricted loss declines before the test loss; the sum of squared weights falls through circuit formation "
        "and cleanup. Ours: the same measures per seed with the final key frequencies, plus the number of "
        "frequencies holding 90 % of the embedding's Fourier energy and the Gini coefficient of its per-frequency "
        "norms.",
        figures.progress,
    ),
    Figure(
        "embedding_spectrum",
        "Paper Fig. 3a: the norms of W_E's Fourier components are sparse — six non-zero frequencies, five of them "
        "key frequencies. Ours: per-frequency norm of the final embedding per seed, key frequencies (from the MLP "
        "neurons) marked by triangles.",
        figures.spectrum,
    ),
)
