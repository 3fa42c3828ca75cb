"""Dohare et al. 2024 — backprop loses plasticity under continual learning; L2 and continual backprop keep it.

Paper: "Loss of Plasticity in Deep Continual Learning", Nature 632 (2024), arXiv:2306.13812; official code
shibhansh/loss-of-plasticity.

Claims (SUITE.md): in a non-stationary stream, a network trained by backprop gradually loses the ability to
learn (its online error grows while the problem stays equally hard); L2 regularisation and continual backprop
(re-initialising a small fraction of the least-useful hidden units) keep it. Pass rules (SUITE.md): backprop's
late error ≥ 1.2 × its early error; L2's and continual backprop's ≤ 1.05 ×. Measured per seed: the mean online
squared error over the last ``window`` steps divided by that over steps (window, 2·window] (the first window is
the initial fit from a random network, not a measure of plasticity).

Problem (looked up in the official code, ``search`` tool): slowly-changing regression
(``lop/slowly_changing_regression/slowly_changing_regression.py``, ``lop/nets/fix_ltu_net.py``, configs
``cfg/sgd/bp/relu.json``, ``relu_wd.json``, ``cfg/sgd/cbp/relu.json``, ``cfg/flip_one_prob.json``): m = 20 input
bits; the first f = 15 (SUITE.md says "last"; the code puts them first — the order is immaterial) are constant
for T = 10,000 steps and then one of them, chosen at random, flips (``flip_one``, as ``cfg/flip_one_prob.json``;
``cfg/prob.json``, whose data ``cfg/sgd/bp/relu.json`` and ``cfg/sgd/cbp/relu.json`` load, redraws all 15 bits
instead — which one the paper's figure used is unverified; ``flip_one=False`` selects the latter); the other 5
are fresh random bits every step. Target: a fixed LTU net 20 → 100 → 1 with ±1
weights and biases, thresholds τ = β(m + 1) − S with β = 0.7. Learner (``lop/nets/ffnn.py``): 20 → 5 ReLU → 1,
Kaiming-uniform init, zero biases; online SGD step size 0.01 on the squared error of one example per step
(``lop/algos/bp.py``); L2 = SGD weight decay (the official sweep 1e-6 … 1; we use 1e-3, SUITE.md's calibration);
continual backprop (``lop/algos/gnt.py``, ``cbp.py``): utility "adaptable_contribution"
u ← η u + (1 − η) |w_out| |h − ĥ| / mean|w_in| with ĥ the bias-corrected running mean of the unit's activation,
decay η = 0.99, maturity threshold 100 (the config's ``maturity_threshold``; note ``expr.py`` reads the key
``mt`` and so actually ran with its default 10 — unverified which the paper's figure used), replacement rate
1e-4 (the config sweeps 1e-6 … 1e-2; the rate of the paper's figure is unverified). A fraction of a unit to
replace is one unit with that probability; the new unit's input weights are redrawn, its input bias and
outgoing weights are zeroed (the official bias transfer to the output is a no-op because the mean activation is
zeroed first; we keep that). Error curves are binned per 2T = 20,000 steps as in the official plots.
Plasticity probes (ours, after the paper's Fig. 3 measures): every ``probe_every`` steps, the effective rank
(Roy & Vetterli, ``lop/utils/miscellaneous.py``) of the learner's hidden features on ``n_probe`` fixed uniformly
random inputs, and the number of dead units (zero on every probe input).

Engine: :class:`reprosuite.studies.dohare_loss_of_plasticity.online.OnlineRegressor` — members = seeds × {backprop, L2, continual
backprop} in one numpy step loop with hand-written gradients (online learning of a 20-5-1 net is bound by
per-operation overhead: 39 CPU-µs per step against 824 through ``trainer.fit``, 30 members, measured), the
stream cut into chunks whose data and random draws are functions of (seed, chunk); checkpoints are written at
chunk boundaries through :mod:`reprosuite.engine.train.checkpoint` (resume after a kill is bit-identical). The device
argument is ignored: the loop is CPU-bound at any scale (full tier ≈ 1e6 steps in minutes on one core).

Tiers: smoke 3 × 10⁴ steps (T = 2,000), 2 seeds; quick 4 × 10⁵ steps, 10 seeds, windows of 8 × 10⁴; full the
paper's 10⁶ steps, 30 seeds (official README: "at least 30 runs"), windows of 2 × 10⁵ (grid checked, one
reduced run done: not run at scale). Online permuted MNIST (the paper's second problem) is not included: MNIST is
not available offline and an MNIST-1D substitute was not built (missing at every tier).

Measured at quick tier (2 CPU cores shared with other helpers, load 9–13): mean online error over the early →
late window: backprop 0.71 → 1.01, L2 0.68 → 0.75, continual backprop 0.51 → 0.49; per-seed ratios (the claims)
backprop 1.50 [1.08, 1.93], L2 1.18 [0.89, 1.47], continual backprop 1.03 [0.76, 1.29] — all three
**inconclusive**. The direction matches the paper (backprop's error rises steadily; continual backprop's stays
flat and lowest, with its hidden features' effective rank ≈ 4 of 5 against ≈ 3 for backprop and ≈ 2 for L2),
but the per-seed ratio is noisy: the difficulty of the target drifts with the flipping bits, so one seed's
windows can differ by 2× for every method alike (per-seed backprop ratios 0.5 … 2.6). A 20-seed calibration
(same code, 400k steps) gave backprop 1.44 [1.16, 1.72], L2 1.30 [0.97, 1.64], cbp 1.14 [0.85, 1.43] (one-bit
flips) and 1.42 [1.16, 1.68], 1.33 [1.01, 1.64], 1.14 [0.96, 1.33] (all 15 bits redrawn, ``flip_one=False``,
the data the official bp/cbp configs load): still inconclusive, and L2 with weight decay 1e-3 drifts upward
too (the L2 claim may fail at scale with this decay; the paper's chosen decay is unverified). The full tier's
10⁶ steps and 30 seeds (≥ 100 in the official plots) are what the claims need. Cost: 86 CPU-µs per online step
for 30 members (34 CPU-s training, 245 s wall at load ≈ 10; the whole pipeline 61 CPU-s user + sys, 5.8 min
wall); 60 members 150 CPU-µs per step; smoke 3 CPU-s of training. The lazy utility update measured 142 against
190 µs per step for the per-step official order (15 members, load 5).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Loss of Plasticity in Deep Continual Learning",
    authors="Dohare et al.",
    year=2024,
    arxiv="2306.13812",
    venue="Nature 2024",
    code="https://github.com/shibhansh/loss-of-plasticity",
)

COST = {"smoke": "~3 CPU-s training", "quick": "~61 CPU-s (34 CPU-s training)", "full": "not measured"}

METHODS = ("backprop", "l2", "cbp")
LABELS = {"backprop": "backprop", "l2": "L2", "cbp": "continual backprop"}
PALETTE = {"backprop": "C3", "L2": "C2", "continual backprop": "C0"}
HUE_ORDER = [LABELS[m] for m in METHODS]


def _steps_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))


@dataclass(frozen=True)
class Config:
    seeds: int
    steps: int  # official configs: 1e6 examples (one per step)
    flip_after: int = 10_000  # T: steps between bit flips (official flip_after)
    n_inputs: int = 20  # m
    n_flipping: int = 15  # f (official num_flipping_bits)
    n_target_features: int = 100  # target LTU net width
    beta: float = 0.7  # LTU threshold parameter (official configs)
    flip_one: bool = True  # one random flipping bit flips per period (official flip_one)
    hidden: int = 5  # learner width (official num_features)
    lr: float = 0.01  # SGD step size
    l2: float = 1e-3  # weight decay of the L2 method (official sweep 1e-6 … 1; SUITE.md calibration)
    replacement_rate: float = 1e-4  # continual backprop (official sweep 1e-6 … 1e-2)
    decay: float = 0.99  # utility decay η
    maturity: int = 100  # maturity threshold
    util_type: str = "adaptable_contribution"
    chunk: int = 10_000  # steps per chunk: data, random draws and checkpoints; the logged error is per chunk
    bin_size: int = 20_000  # error bins of the figure (official plots: 2T)
    window: int = 80_000  # claims: early = steps (window, 2·window], late = the last window
    probe_every: int = 20_000
    n_probe: int = 1_000


TIERS = {
    "smoke": Config(
        seeds=2,
        steps=30_000,
        flip_after=2_000,
        chunk=2_000,
        bin_size=4_000,
        window=6_000,
        probe_every=6_000,
        n_probe=200,
    ),
    "quick": Config(seeds=10, steps=400_000, window=80_000),
    "full": Config(seeds=30, steps=1_000_000, window=200_000),
}

CLAIMS = (
    Claim(
        "backprop_loses_plasticity",
        "Backprop's online error grows as the problem keeps changing: late error ≥ 1.2 × early error.",
        metric="late / early mean squared error, backprop",
        rule=Rule.at_least(1.2),
        paper_text="slowly-changing regression: backprop's error rises over 1M steps (official plot)",
    ),
    Claim(
        "l2_keeps_plasticity",
        "With L2 regularisation the late error stays at most 1.05 × the early error.",
        metric="late / early mean squared error, L2",
        rule=Rule.at_most(1.05),
        paper_text="L2 regularisation mitigates loss of plasticity",
    ),
    Claim(
        "cbp_keeps_plasticity",
        "With continual backprop the late error stays at most 1.05 × the early error.",
        metric="late / early mean squared error, continual backprop",
        rule=Rule.at_most(1.05),
        paper_text="continual backprop maintains plasticity indefinitely",
    ),
)


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The fixed probe inputs (uniformly random bits); each seed's stream is generated inside ``train``."""
    rng = np.random.default_rng(np.random.SeedSequence([0, 4_049]))
    return {"probe": rng.integers(0, 2, size=(cfg.n_probe, cfg.n_inputs)).astype(np.float64)}


def grid(cfg: Config) -> dict[str, dict]:
    return {"stream": {"methods": list(METHODS)}}


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import checkpoint as ckpt_mod

    from . import online

    if cfg.steps % cfg.chunk or cfg.bin_size % cfg.chunk or cfg.probe_every % cfg.chunk:
        raise ValueError("steps, bin_size and probe_every must be multiples of chunk")
    methods = list(point["methods"])
    members = [(m, s) for m in methods for s in seeds]
    member_seeds = [s for _, s in members]
    streams_of = [methods.index(m) for m, _ in members]
    seed_index = np.array([seeds.index(s) for s in member_seeds])
    value = {"backprop": (0.0, 0.0), "l2": (cfg.l2, 0.0), "cbp": (0.0, cfg.replacement_rate)}
    net = online.OnlineRegressor(
        cfg.n_inputs,
        cfg.hidden,
        member_seeds,
        lr=[cfg.lr] * len(members),
        weight_decay=[value[m][0] for m, _ in members],
        replacement_rate=[value[m][1] for m, _ in members],
        decay=cfg.decay,
        maturity=cfg.maturity,
        util_type=cfg.util_type,
        streams=streams_of,
    )
    streams = [
        online.BitFlipStream(
            s,
            cfg.steps,
            cfg.n_inputs,
            cfg.n_flipping,
            cfg.flip_after,
            cfg.n_target_features,
            cfg.beta,
            cfg.flip_one,
        )
        for s in seeds
    ]
    probe = np.asarray(data["probe"], dtype=np.float64)
    n_chunks = cfg.steps // cfg.chunk
    errors = np.full((n_chunks, len(members)), np.nan)
    probes: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    def take_probe(step):
        feats = net.hidden_activations(probe)
        probes.append((step, online.effective_rank(feats), online.dead_units(feats), net.replaced.copy()))

    slot = ckpt_mod.Slot()
    state = slot.state
    first = 0
    if state is not None:
        net.load({k: v.numpy() for k, v in state["net"].items()})
        errors = state["errors"].numpy().copy()
        probes = [(int(st), r.numpy(), d.numpy(), n.numpy()) for st, r, d, n in state["probes"]]
        first = int(state["chunk"])
        print(f"[lop] resumed from {slot.path} at chunk {first}", file=sys.stderr, flush=True)

    def snapshot(chunk):
        return {
            "chunk": chunk,
            "complete": chunk == n_chunks,
            "net": {k: torch.from_numpy(v.copy()) for k, v in net.state().items()},
            "errors": torch.from_numpy(errors.copy()),
            "probes": [
                [st, torch.from_numpy(r), torch.from_numpy(d), torch.from_numpy(n)] for st, r, d, n in probes
            ],
        }

    if first == 0:
        take_probe(0)
    start, last_report = time.perf_counter(), time.perf_counter()
    for ci in range(first, n_chunks):
        if ci > first:
            slot.save(lambda ci=ci: snapshot(ci))
        xs, ys = zip(*(st.chunk(ci * cfg.chunk, cfg.chunk, ci) for st in streams), strict=True)
        x = np.stack(xs, axis=1)[:, seed_index]  # (K, S, m)
        y = np.stack(ys, axis=1)[:, seed_index]  # (K, S)
        errors[ci] = net.train(x, y, online.cbp_generators(member_seeds, streams_of, ci)).mean(axis=0)
        done = (ci + 1) * cfg.chunk
        if done % cfg.probe_every == 0:
            take_probe(done)
        now = time.perf_counter()
        if now - last_report > 10 or ci == n_chunks - 1:
            last_report = now
            us = (now - start) / ((ci + 1 - first) * cfg.chunk) * 1e6
            print(f"[lop] step {done}/{cfg.steps}, {us:.0f} µs/step", file=sys.stderr, flush=True)
    slot.save(lambda: snapshot(n_chunks), force=True)
    return _frame(cfg, members, errors, probes)


def _frame(cfg: Config, members, errors: np.ndarray, probes) -> pd.DataFrame:
    variants = [m for m, _ in members]
    seeds = [s for _, s in members]
    n = len(members)
    parts = [
        pd.DataFrame(
            {
                "variant": np.tile(variants, errors.shape[0]),
                "seed": np.tile(seeds, errors.shape[0]),
                "step": np.repeat((np.arange(errors.shape[0]) + 1) * cfg.chunk, n),
                "split": "train",
                "metric": "error",
                "value": errors.reshape(-1),
            }
        )
    ]
    for step, rank, dead, replaced in probes:
        for metric, values in (("effective_rank", rank), ("dead_units", dead), ("replaced_units", replaced)):
            parts.append(
                pd.DataFrame(
                    {
                        "variant": variants,
                        "seed": seeds,
                        "step": step,
                        "split": "probe",
                        "metric": metric,
                        "value": np.asarray(values, dtype=np.float64),
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    out["seed"] = out["seed"].astype(np.int64)
    out["step"] = out["step"].astype(np.int64)
    return out


# --- metrics ----------------------------------------------------------------------------------------------


def window_errors(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (variant, seed): mean error over the early window [window, 2·window) and the last window."""
    err = runs[(runs["split"] == "train") & (runs["metric"] == "error")]
    total = int(err["step"].max())
    # a chunk logged at step s covers (s − chunk, s]
    early = err[(err["step"] > cfg.window) & (err["step"] <= 2 * cfg.window)]
    late = err[err["step"] > total - cfg.window]
    out = pd.DataFrame(
        {
            "early": early.groupby(["variant", "seed"])["value"].mean(),
            "late": late.groupby(["variant", "seed"])["value"].mean(),
        }
    ).reset_index()
    out["ratio"] = out["late"] / out["early"]
    return out


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    rows = []
    for r in window_errors(runs, cfg).itertuples():
        for metric in ("early", "late", "ratio"):
            rows.append(("stream", r.seed, f"{metric}_error.{r.variant}", getattr(r, metric)))
    probe = runs[runs["split"] == "probe"]
    final = probe[probe["step"] == probe["step"].max()]
    for r in final.itertuples():
        rows.append(("stream", r.seed, f"final_{r.metric}.{r.variant}", r.value))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out = {}
    for claim, method in zip([c.id for c in CLAIMS], METHODS, strict=True):
        sel = metrics[metrics["metric"] == f"ratio_error.{method}"].sort_values("seed")
        if not sel.empty:
            out[claim] = sel["value"].tolist()
    return out


# --- figures ----------------------------------------------------------------------------------------------


def binned_errors(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    err = runs[(runs["split"] == "train") & (runs["metric"] == "error")].copy()
    err["bin"] = (err["step"] - 1) // cfg.bin_size
    out = err.groupby(["variant", "seed", "bin"], as_index=False)["value"].mean()
    out["step"] = (out["bin"] + 1) * cfg.bin_size
    return out


def draw_error(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    binned = binned_errors(runs, cfg)
    binned["method"] = binned["variant"].map(LABELS)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.lineplot(
        data=binned,
        x="step",
        y="value",
        hue="method",
        hue_order=HUE_ORDER,
        palette=PALETTE,
        errorbar=("ci", 95),
        ax=ax,
    )
    _steps_axis(ax)
    total = int(binned["step"].max())
    for lo, hi in ((cfg.window, 2 * cfg.window), (total - cfg.window, total)):
        ax.axvspan(lo, hi, color="0.9", zorder=0)
    ax.set(xlabel="example (online step)", ylabel=f"squared error (bins of {cfg.bin_size:,})")
    ax.set_title("Slowly-changing regression, 5-unit ReLU learner (shaded: claim windows)", fontsize=9)
    fig.tight_layout()
    return fig


def draw_probes(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    probe = runs[runs["split"] == "probe"].copy()
    probe["method"] = probe["variant"].map(LABELS)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, (metric, label) in zip(
        axes,
        (("effective_rank", "effective rank of hidden features"), ("dead_units", "dead hidden units")),
        strict=True,
    ):
        sns.lineplot(
            data=probe[probe["metric"] == metric],
            x="step",
            y="value",
            hue="method",
            hue_order=HUE_ORDER,
            palette=PALETTE,
            errorbar=("ci", 95),
            ax=ax,
        )
        _steps_axis(ax)
        ax.set(xlabel="example (online step)", ylabel=label, ylim=(0, cfg.hidden + 0.2))
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "online_error",
        "Paper (official slowly-changing regression plot, 100 runs): backprop's online error rises over 1M "
        "examples while L2 and continual backprop stay low. Ours: mean squared online error per bin of 2T "
        "examples, mean over seeds with 95 % CI, per method; grey bands mark the early and late windows of "
        "the claims.",
        draw_error,
    ),
    Figure(
        "plasticity_probes",
        "Paper Fig. 3 (permuted MNIST): under backprop the effective rank of the representation falls and dead "
        "units accumulate; L2 and continual backprop prevent it. Ours: effective rank and number of dead "
        "units of the 5 hidden ReLU units on fixed random inputs, over the stream (mean over seeds, 95 % CI); "
        "at quick tier the rank falls under backprop and L2 and stays near 4 under continual backprop, while "
        "dead units stay rare for every method in this 5-unit learner.",
        draw_probes,
    ),
)
