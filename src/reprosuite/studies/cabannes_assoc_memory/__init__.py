"""Cabannes, Dohmatob, Bietti 2023 — scaling laws of outer-product associative memories on Zipf data.

Paper: "Scaling Laws for Associative Memories", Vivien Cabannes, Elvis Dohmatob, Alberto Bietti, arXiv:2310.02984
(ICLR 2024). No official repository found in our index (VivienCabannes/memory-theory holds only a README).

Claims: the error of an outer-product associative memory W = Σ_x q(x) u_{f*(x)} e_xᵀ with random embeddings
falls as a power law in the number of samples T and in the memory dimension d. With Zipf(α) inputs:
(a) E ∝ T^{−1+1/α} when every observed token is stored and d is large enough that stored tokens do not
    interfere (the error is then the mass of unseen tokens); α = 2: slope −0.5.
(b) E ∝ d^{−(α−1)} when only the ⌊d/8⌋ most frequent tokens are stored (the thresholding scheme: interference
    stays bounded and the error is the tail mass beyond rank d/8); α = 2: slope −1.
Both claims are empirical: per seed, the fitted log–log slope minus the theory exponent, mean within
[−0.1, 0.1] (ours: the paper gives the exponents, not a tolerance; quick-tier seeds scatter by about ±0.05).
In the claims' regime the memory recalls every stored token, so the error is ≈ (1 − 1/M) × the unstored mass
and the slopes are those of the Zipf tail: what the claims test is that the memory recalls what it stores.
Each has a negative control where it cannot — the same storage in a memory ``control_shrink`` = 16 times
smaller, where stored tokens interfere (the paper's interference term dominates): (a) every observed token
in a memory of dimension t_dim/16; (b) the top ⌊d/8⌋ tokens in a memory of dimension d/16. The controls use
their own random streams (the paper's draws are unchanged) and run in the same jobs.

Model (:mod:`.memory`): Zipf sampling, random unit-sphere embeddings, the memory, argmax recall and the
population error Σ_x p(x) 1{f̂(x) ≠ f*(x)}. Seeds are independent draws of f*, the embeddings and the token
stream; the T-sweep uses nested prefixes of one stream per seed (the memory after T samples), the d-sweep fresh
embeddings per d and one stream of ``d_samples`` tokens to rank frequencies.

Looked up: the paper's abstract and introduction (ar5iv.labs.arxiv.org/html/2310.02984); its experimental
sections were not reachable, so N, M, α, the sample and dimension ranges and the exact storage scheme of the
d-scaling experiment are ours (not stated in what we could read). A token not stored is scored by interference
only and counts as correct when the argmax hits f*(x) by chance (the literal error definition: it scales the
unseen mass by ≈ 1 − 1/M and leaves the slope unchanged).

Protocol: the paper's defaults (``Config()``) are ours: N = 2·10⁴, M = 5, α = 2, T ≤ 2·10⁵ with d = 8192, d ≤ 8192
(top ⌊d/8⌋ of 10⁷ samples, and every seen token for comparison), 10 seeds; pure numpy, ~4 GB at d = 8192.
Quick: N = 10⁴, T ≤ 3·10⁴ with d = 2048 (≈ 140 stored tokens: interference variance k/(Md) ≈ 0.014), d ≤ 2048,
5 seeds. Smoke: N = 2000, four values per sweep, 2 seeds.

Cost (2 shared CPU cores, one thread per job): smoke ~11 CPU-s in process; quick ~47 CPU-s for the workflow
(two training jobs of ~13 CPU-s); full: its two training jobs ran here in 524 CPU-s (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite import claims
from reprosuite.claims import Amendment, Claim, Rule
from reprosuite.metrics.curves import loglog_slope
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Scaling Laws for Associative Memories",
    authors="Cabannes, Dohmatob, Bietti",
    year=2023,
    arxiv="2310.02984",
    venue="ICLR 2024",
)

COST = {
    "smoke": "~11 CPU-s",
    "quick": "~47 CPU-s (2 training jobs of ~13 CPU-s)",
    "full": "524 CPU-s of training, run here",
}

STREAM = {
    "T": 1,
    "d": 2,
    "T_control": 3,
    "d_control": 4,
}  # tags the random streams of the sweeps and controls

Scheme = Literal["seen", "top", "freq"]  # memory.SCHEMES
SMALL = "_small_memory"  # the controls' variant suffix: the same storage in a memory control_shrink× smaller


def _geomspace(lo: int, hi: int, n: int) -> tuple[int, ...]:
    return tuple(int(round(v)) for v in np.geomspace(lo, hi, n))


@dataclass(frozen=True)
class Config:
    # The paper's experimental values could not be read (see the module docstring): every default is ours.
    seeds: int = 10  # not stated; ours
    n_tokens: int = 20_000  # N, the input vocabulary; not stated, ours
    t_values: tuple[int, ...] = _geomspace(100, 200_000, 12)  # sample sizes T of the T-sweep; ours
    t_dim: int = (
        8192  # memory dimension d of the T-sweep, large enough that stored tokens do not interfere; ours
    )
    d_values: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048, 4096, 8192)  # d-sweep dimensions; ours
    d_samples: int = 10_000_000  # samples T that rank token frequencies in the d-sweep; ours
    alpha: float = 2.0  # Zipf exponent; not stated, ours (the theory holds for any α > 1)
    n_outputs: int = 5  # M, output classes of f*; not stated, ours
    top_divisor: int = 8  # the d-sweep stores the ⌊d / top_divisor⌋ most frequent tokens; ours: d/8
    t_scheme: Literal["seen", "freq"] = "seen"  # q(x) = 1{x observed} in the T-sweep (claim (a))
    d_schemes: tuple[Scheme, ...] = (
        "top",
        "seen",
    )  # d-sweep schemes: "top" is claim (b)'s, "seen" a comparison
    control_shrink: int = 16  # ours: the controls store the same tokens in a memory this many times smaller


QUICK = replace(
    Config(),
    seeds=5,
    n_tokens=10_000,
    t_values=_geomspace(100, 30_000, 8),
    t_dim=2048,
    d_values=(64, 128, 256, 512, 1024, 2048),
    d_samples=1_000_000,
    d_schemes=("top",),
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK,
        seeds=2,
        n_tokens=2000,
        t_values=(100, 400, 1600, 6400),
        t_dim=512,
        d_values=(64, 128, 256, 512),
        d_samples=100_000,
    ),
}
_BUDGET = "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)"
WHY = {
    "seeds": _BUDGET,
    "n_tokens": "CPU memory and time: the recall scores are (M × k)(k × N) products",
    "t_values": "CPU budget; T ≤ 3·10⁴ stores few enough tokens for the smaller t_dim not to interfere",
    "t_dim": "d = 8192 needs ~4 GB and minutes per seed; d = 2048 still does not interfere at T ≤ 3·10⁴",
    "d_values": "d = 4096 and 8192 need ~4 GB of memory",
    "d_samples": "CPU budget; 10⁶ samples still see every token up to rank d/8 at d ≤ 2048",
    "d_schemes": "the every-seen-token comparison is not claimed: dropped to save time",
}
_CONTROL_T = (
    "every observed token stored in a memory 16× smaller (d = t_dim/16: more stored tokens than dimensions at "
    "large T, so they interfere), same tokens, targets and T"
)
_CONTROL_D = (
    "the same ⌊d/8⌋ most frequent tokens stored in a memory of dimension d/16 (twice as many tokens as "
    "dimensions: they interfere at every d), same counts and targets"
)
_CONTROL_WHY = (
    "the scaling laws hold where the memory recalls what it stores (Cabannes et al.: the error is the unseen or "
    "unstored mass plus an interference term that needs d large against the stored tokens); without a regime "
    "where the memory interferes the slopes are properties of the Zipf law alone and cannot fail through the "
    "memory: the control stores the same tokens where they interfere, and the claim passes only if that fails"
)
AMENDMENTS = (
    Amendment(
        "2026-11-22",
        ("t_scaling",),
        "quick T-sweep: memory dimension d = 2048 and T ≤ 3·10⁴ (t_dim, t_values)",
        "chosen after a calibration run in which storing every seen token in a d = 1024 memory made a frequent "
        "token (p ≈ 0.07) fail by interference at T = 10⁵; within the claim's stated regime (d large enough "
        "that stored tokens do not interfere). The calibration's slope was not recorded (verdict before unknown)",
        "unknown",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("t_scaling",),
        "negative control added: the T-sweep's tokens also stored in a memory of dimension t_dim/16 "
        "(control_shrink, its own random stream; the paper's draws are unchanged)",
        _CONTROL_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("d_scaling",),
        "negative control added: the d-sweep's top-⌊d/8⌋ tokens also stored in a memory of dimension d/16 "
        "(control_shrink, its own random stream; the paper's draws are unchanged)",
        _CONTROL_WHY,
        "pass",
        "pass",
    ),
)

CLAIMS = (
    Claim(
        "t_scaling",
        "Storing every observed token, the error falls as T^(−1+1/α) in the number of samples T.",
        metric="fitted slope of log error vs log T minus theory (−1 + 1/α), per seed",
        rule=Rule.between(-0.1, 0.1),
        paper_value=0.0,
        paper_text="E ∝ T^(−1+1/α), every seen token stored (the paper's scaling law in T); α = 2: −0.5",
        control=_CONTROL_T,
    ),
    Claim(
        "d_scaling",
        "Storing the ⌊d/8⌋ most frequent tokens, the error falls as d^(−(α−1)) in the memory dimension d.",
        metric="fitted slope of log error vs log d minus theory (−(α − 1)), per seed",
        rule=Rule.between(-0.1, 0.1),
        paper_value=0.0,
        paper_text="E ∝ d^(−α+1), thresholded storage (the paper's scaling law in d); α = 2: −1",
        control=_CONTROL_D,
    ),
)


def t_theory(cfg: Config) -> float:
    return -1.0 + 1.0 / cfg.alpha


def d_theory(cfg: Config) -> float:
    return -(cfg.alpha - 1.0)


# --- data and grid ----------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from . import memory as am

    return {"probs": am.zipf_probs(cfg.n_tokens, cfg.alpha)}


def grid(cfg: Config) -> dict[str, dict]:
    return {"t_sweep": {"sweep": "T"}, "d_sweep": {"sweep": "d"}}


# --- "training": building the memories ---------------------------------------------------------------------


def _rng(seed: int, sweep: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), STREAM[sweep]]))


def _rows(seed, variant, step, values: dict) -> list[tuple]:
    return [(variant, seed, int(step), "eval", metric, float(v)) for metric, v in values.items()]


def _small(rng: np.random.Generator, cfg: Config, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Input and output embeddings of the control's memory, ``control_shrink`` times smaller than ``d``."""
    from . import memory as am

    small = max(2, d // cfg.control_shrink)
    return am.sphere(rng, cfg.n_tokens, small).astype(np.float32), am.sphere(
        rng, cfg.n_outputs, small
    ).astype(np.float32)


def _evaluate(probs, q, target, emb_in, emb_out) -> dict:
    from . import memory as am

    err = am.error(probs, am.recall(q, target, emb_in, emb_out), target)
    return {"error": err, "unstored_mass": am.unseen_mass(probs, q), "stored": float((q > 0).sum())}


def _t_sweep(cfg: Config, probs: np.ndarray, seed: int, tick) -> list[tuple]:
    from . import memory as am

    rng = _rng(seed, "T")
    target = rng.integers(0, cfg.n_outputs, cfg.n_tokens)
    emb_in = am.sphere(rng, cfg.n_tokens, cfg.t_dim).astype(np.float32)
    emb_out = am.sphere(rng, cfg.n_outputs, cfg.t_dim).astype(np.float32)
    tokens = am.sample_tokens(rng, probs, max(cfg.t_values))
    small = _small(_rng(seed, "T_control"), cfg, cfg.t_dim)  # its own stream: the paper's draws are unchanged
    rows = []
    for t in sorted(cfg.t_values):
        q = am.memory_weights(np.bincount(tokens[:t], minlength=cfg.n_tokens), cfg.t_scheme)
        rows += _rows(seed, cfg.t_scheme, t, _evaluate(probs, q, target, emb_in, emb_out))
        rows += _rows(seed, f"{cfg.t_scheme}{SMALL}", t, _evaluate(probs, q, target, *small))
        tick()
    return rows


def _d_sweep(cfg: Config, probs: np.ndarray, seed: int, tick) -> list[tuple]:
    from . import memory as am

    rng, control_rng = _rng(seed, "d"), _rng(seed, "d_control")
    target = rng.integers(0, cfg.n_outputs, cfg.n_tokens)
    counts = np.bincount(am.sample_tokens(rng, probs, cfg.d_samples), minlength=cfg.n_tokens)
    rows = []
    for d in sorted(cfg.d_values):
        emb_in = am.sphere(rng, cfg.n_tokens, d).astype(np.float32)
        emb_out = am.sphere(rng, cfg.n_outputs, d).astype(np.float32)
        small = _small(control_rng, cfg, d)
        for scheme in cfg.d_schemes:
            q = am.memory_weights(counts, scheme, k=d // cfg.top_divisor)
            rows += _rows(seed, scheme, d, _evaluate(probs, q, target, emb_in, emb_out))
            if scheme == "top":
                rows += _rows(seed, f"top{SMALL}", d, _evaluate(probs, q, target, *small))
        tick()
    return rows


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """No optimiser: each seed builds its memories in closed form (numpy; ``device`` is not used)."""
    from reprosuite.engine.train import trainer

    probs = np.asarray(data["probs"], dtype=np.float64)
    values = cfg.t_values if point["sweep"] == "T" else cfg.d_values
    progress = trainer.Progress(len(seeds) * len(values), f"memories {point['sweep']}-sweep")
    done = [0]

    def tick():
        done[0] += 1
        progress.update(done[0])

    rows = []
    for seed in seeds:
        rows += (_t_sweep if point["sweep"] == "T" else _d_sweep)(cfg, probs, seed, tick)
    return pd.DataFrame(rows, columns=["variant", "seed", "step", "split", "metric", "value"])


# --- metrics ----------------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per seed, the error and the unstored mass at every point of both sweeps, in typed columns: ``scheme``
    (storage scheme), ``axis`` (``T`` or ``d``, the swept quantity) and ``x`` (its value)."""
    r = runs[(runs["split"] == "eval") & runs["metric"].isin(["error", "unstored_mass"])]
    return pd.DataFrame(
        {
            "point": r["point"],
            "seed": r["seed"],
            "metric": r["metric"],
            "value": r["value"],
            "scheme": r["variant"],
            "axis": np.where(r["point"] == "t_sweep", "T", "d"),
            "x": r["step"].astype(np.int64),
        }
    ).reset_index(drop=True)


def slopes(metrics: pd.DataFrame, axis: str, scheme: str) -> list[float]:
    """Per seed (sorted), the fitted log–log slope of the error along ``axis`` under ``scheme``."""
    t = metrics[(metrics["metric"] == "error") & (metrics["axis"] == axis) & (metrics["scheme"] == scheme)]
    return [loglog_slope(g.sort_values("x")["x"], g.sort_values("x")["value"]) for _, g in t.groupby("seed")]


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out = {}
    for claim, axis, scheme, theory in (
        ("t_scaling", "T", cfg.t_scheme, t_theory(cfg)),
        ("d_scaling", "d", "top", d_theory(cfg)),
    ):
        for key, variant in ((claim, scheme), (f"{claim}{claims.CONTROL}", f"{scheme}{SMALL}")):
            fitted = slopes(metrics, axis, variant)
            if fitted:
                out[key] = [s - theory for s in fitted]
    return out


# --- figures ----------------------------------------------------------------------------------------------


def _panel(ax, metrics, axis, schemes, theory, label):
    import seaborn as sns

    sel = metrics[(metrics["axis"] == axis) & metrics["scheme"].isin(schemes)]
    err = sel[sel["metric"] == "error"]
    sns.lineplot(err, x="x", y="value", hue="scheme", marker="o", errorbar="sd", ax=ax)
    mass = sel[sel["metric"] == "unstored_mass"]
    for scheme, g in mass.groupby("scheme"):
        m = g.groupby("x")["value"].mean()
        ax.plot(m.index, m.values, ls=":", color="grey", label=f"unstored mass ({scheme})")
    main = err[err["scheme"] == schemes[0]].groupby("x")["value"].mean()
    if not main.empty and (main > 0).all():
        x = main.index.to_numpy(dtype=float)
        anchor = np.exp(np.mean(np.log(main.to_numpy())) - theory * np.mean(np.log(x)))
        ax.plot(x, anchor * x**theory, "k--", label=f"theory ∝ {label}^{theory:+.2f}")
        fitted = loglog_slope(main.index, main.values)
        ax.set_title(f"error vs {label}: fitted slope {fitted:+.2f} (theory {theory:+.2f})")
    ax.set(xscale="log", yscale="log", xlabel=label, ylabel="error (mass of misrecalled tokens)")
    ax.legend(fontsize=7)


def draw_scaling(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    _panel(axes[0], metrics, "T", (cfg.t_scheme,), t_theory(cfg), "T")
    _panel(axes[1], metrics, "d", tuple(cfg.d_schemes), d_theory(cfg), "d")
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "scaling_laws",
        "Paper (its scaling-law figures; numbers unverified): the generalisation error of the outer-product "
        "memory follows "
        "E ∝ T^(−1+1/α) in the number of samples and E ∝ d^(−α+1) in the dimension when storage is thresholded. "
        "Ours (α = 2, N tokens, M = 5 outputs, random unit-sphere embeddings): left, error vs T storing every "
        "seen token (d large); right, error vs d storing the ⌊d/8⌋ most frequent tokens (and, at full tier, "
        "every seen token); mean ± sd over seeds, dashed black = theory slope through the data's geometric "
        "mean, dotted grey = mass of tokens not stored.",
        draw_scaling,
    ),
)
