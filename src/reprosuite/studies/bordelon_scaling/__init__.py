"""Bordelon, Atanasov, Pehlevan 2024 — a dynamical model of neural scaling laws.

"A Dynamical Model of Neural Scaling Laws", ICML 2024 (PMLR 235), arXiv:2402.01092. No official code release
was found. Sources: the abstract (1/width early, width^−c late; asymmetric compute-optimal rule; train–test gap
building up with data reuse), the authors' Kempner Institute blog post of 12 June 2024 (L = C_t t^−α_t +
C_N N^−α_N + L∞), and a third-party summary of the model and its exponents. The exponents below are that
summary's; we re-derived each from the model (mode k is learned once λ_k t ≳ 1, and N random projections
resolve ≈ N modes), but could not read them in the paper's own text: treat the paper values as unverified.

Model (§2 of the paper, as summarised): features ψ ∈ R^M, covariance diag(λ), λ_k = k^−b; target y = w*·ψ with
task power λ_k w*_k² = k^−a (ours: w*_k = ±k^−(a−b)/2 with random signs); student f = w·Aψ/√N, A iid N(0, 1),
w₀ = 0; gradient descent (η = 0.5, ours) on the population loss, or on P samples with N = ∞ (kernel GD). All
losses are closed forms in the eigenbasis of K = AΛAᵀ/N (``dynamics``); the first N rows of one A give K_N as the
leading block of one Gram matrix, so one matrix product serves every width. The N×M projection is never held:
its Gram matrix is accumulated over column blocks drawn from per-block seeds.

Claims (all analytic or sanity: our simulation against the paper's closed forms, so no negative controls; the
control situations of the exponent tests are claims of their own with the expected outcome as the rule):
- ``b0_closed_form`` — sanity: max |closed form − explicit GD| over 200 steps at N = 64 (width model and
  finite-P kernel GD) ≤ 1e-10 (float64; ours).
- ``b1_time_a2`` / ``b1_time_a15`` — analytic: per-seed OLS slope of log L vs log t at N = N_max over t ≥ 10
  with L(t, N) ≥ f·L(∞, N) (before the width floor); theory −(a−1)/b = −0.667 (a = 2, b = 1.5) and −0.400
  (a = 1.5, b = 1.25); rule: mean's CI inside theory ± 0.10 (ours). f = 10 (ours); at quick f = 3 for a < 2,
  where N_max = 1024 puts the floor at ≈ L₀/30 and f = 10 leaves no window.
- ``b1_time_straight`` — analytic: half-window slope drift of that fit (max over both configs) ≤ 0.10 (ours).
- ``b2_width_a2`` / ``b2_width_a15`` — analytic: slope of L(∞, N) vs N over 32 ≤ N ≤ M/16; theory
  −min(a−1, 2b) = −1.0 / −0.5; CI inside ± 0.10 (ours). ``b2_width_straight``: drift ≤ 0.15 (ours).
- ``b2_exp_not_power_law`` — analytic: an exponential spectrum λ_k = e^−k/50 (w*_k = ±1; no power law) must
  fail the straightness test: drift of L(∞, N) over N = 16…256 ≥ 0.3 (ours). Catches a drift test that
  passes everything.
- ``b3_data_a2`` / ``b3_data_a15`` — analytic: N = ∞, slope of L(∞, P) (ridgeless kernel regression) over
  P ∈ [32, 512]; theory −min(a−1, 2b); CI inside ± 0.10 (ours). Per seed the mean over its data draws.
- ``b4_frontier_a2`` / ``b4_frontier_a15`` — analytic: compute-optimal width N* = argmin_N L(C/N, N) on the
  √2 width grid (parabolic refinement in log N; GD time continued to real t in the closed form), slope of
  log N* vs log C over the C whose minimum is interior; theory 1/(1+b) = 0.40 / 0.444; CI inside ± 0.10 (ours).
- ``b4_asymmetry_a2`` / ``b4_asymmetry_a15`` — analytic: t*-slope − N*-slope = 1 − 2·N*-slope > 0 (theory
  (b−1)/(1+b) = 0.20 / 0.111); rule: CI above 0 (ours). b = 1 (theory: symmetric) is only recorded
  (metric ``asymmetry`` at point a2_b1): log corrections at the boundary make it no clean contrast.
- ``b5_early_a15`` / ``b5_late_a15`` / ``b5_steepening_a15`` — analytic: ΔL = L(t, N) − L(t, ∞) averaged over
  a seed's replicas, slope vs N = 16…256 at t = 4 (theory −1: the abstract's 1/width) and t = 16384 (theory
  −(a−1) = −0.5: width^−c); rules early CI inside −1 ± 0.2, late inside −0.5 ± 0.1, late − early ≥ 0.1 (ours).
- ``b5_no_steepening_a2`` — analytic: at a = 2, a−1 = 1, so no change is predicted: late − early ≤ 0.1 (ours).
B6 (the train–test gap builds up with data reuse) is recorded, not judged: metrics ``gap_final`` and
``gap_peak`` at P = 256 and the figure ``train_test``; the paper's DMFT gap formula is not implemented.
E1 (CIFAR-5M NTK spectra predicting L* ∝ C^−0.05 for linearised networks) is not built: CIFAR-5M is not
available offline, and NTK spectra of Wide-ResNets at that scale need days of GPU.
Not done: the paper's DMFT (response functions R₁, R₃ and the transfer function H_k(ω)); the comparison of
simulated curves with it, and the momentum and one-pass SGD variants.

Cost cuts (quick): nested projections (one Gram matrix per seed serves every width and every P), one draw
of each Gaussian matrix for both Gram products, closed forms instead of GD steps.
Tiers: full = the synthetic grid a ∈ {1.5, 2} × b ∈ {1, 1.25, 1.5, 2} (third-party summary), M = 2^16, N and P
up to 8192, 20 seeds (per seed 4 data draws, 8 replicas for ΔL), float64. Quick: the two configurations the
claims name, plus a2_b1 (recorded) and the exponential control; M = 16384, N ≤ 1024, P ≤ 512, 5 seeds (15
data draws and 40 ΔL replicas in all), C ≤ 10^6.5. Smoke: M = 2048, N ≤ 128, f = 2 — a pipeline check whose
exponents need not meet the rules (truncation and small-N bias). Caveats: finite M truncation biases the a = 1.5
width and data exponents steeper (≈ −0.55 at M = 16000); at N_max = 1024 the a = 2 time slope sits above the
theory (≈ −0.64; it converges to −0.667 only as N grows); the early ΔL slope is noisy (fluctuations of
L(t, N) are O(N^−1/2) while ΔL is O(1/N)) and flattened by 1/N² terms at N = 16.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reprosuite.study import Paper

from . import claimset, figures, metrics
from . import training as tr

PAPER = Paper(
    title="A Dynamical Model of Neural Scaling Laws",
    authors="Bordelon, Atanasov, Pehlevan",
    year=2024,
    arxiv="2402.01092",
    venue="ICML 2024 (PMLR 235)",
    code="none found",
)

COST = {
    "smoke": "0.4 CPU-s training (4 jobs, 1 thread)",
    "quick": "30.4 CPU-s training (a2_b1.5 12.9, a1.5_b1.25 12.2, a2_b1 5.0, exp 0.3; 1 thread, loaded machine)",
    "full": "CPU probe (lower bounds, eigendecompositions not timed): ≥ 4.2–4.7 h for the two claimed points, "
    "≥ 0.6–0.7 h for the others; peak 1.9 GB at the first blocks",
}

Pair = tuple[float, float]
CLAIMED: tuple[Pair, Pair] = ((2.0, 1.5), (1.5, 1.25))  # the configurations the claims are checked on


@dataclass(frozen=True)
class Config:
    seeds: int = 20  # third-party summary: 20 seeds (not stated in what we read of the paper)
    # third-party summary of the paper's synthetic sweeps: a ∈ {1.5, 2.0}, b ∈ {1.0, 1.25, 1.5, 2.0}
    exponents: tuple[Pair, ...] = tuple((a, b) for a in (2.0, 1.5) for b in (1.0, 1.25, 1.5, 2.0))
    features: int = 65536  # M = 2^16 (third-party summary: the paper's large-M simulations); ours
    n_min: int = 16  # ours: √2 width grid from 16 …
    n_max: int = 8192  # … to 8192 (third-party summary: N up to 8192)
    p_min: int = 32  # ours: √2 data grid from 32 …
    p_max: int = 8192  # … to 8192 (third-party summary: P up to 8192)
    p_fit: Pair = (32.0, 512.0)  # ours: the data-exponent window
    draws_per_seed: int = 4  # ours: data draws per seed
    gap_sizes: tuple[int, ...] = (128, 256, 512)  # ours: P of the recorded train/test curves (B6)
    lr: float = 0.5  # ours (η; discrete-time GD)
    t_max_log10: float = 6.0  # ours: t up to 10^6
    t_points: int = 121  # ours: log-t grid
    t_fit_min: float = 10.0  # ours: time-exponent window starts at t = 10 …
    floor_factor: float = 10.0  # ours: … and ends where L(t, N) < 10 L(∞, N)
    floor_factor_small_a: float = 10.0  # ours: the same for a < 2
    width_fit_max_frac: float = 1 / 16  # ours: width-exponent window N ≤ M/16 (finite-M truncation)
    compute_log10: Pair = (1.5, 9.0)  # ours: C = N t grid of the frontier
    compute_points: int = 61
    corr_features: int = 4096  # ours: M of the ΔL replicas (M/N ≥ 16)
    corr_n_max: int = 256  # ours: ΔL at N = 16 … 256
    corr_replicas: int = 8  # ours: replicas per seed (40 in all at 5 seeds)
    corr_times: Pair = (4, 16384)  # ours: early and late t
    exp_scale: float = 50.0  # ours: exponential control λ_k = e^−k/50
    exp_features: int = 8000  # ours
    exp_n_max: int = 256  # ours
    check_width: int = 64  # ours (B0)
    check_steps: int = 200  # ours (B0)
    block: int = 4096  # ours: columns of the projection generated at a time


QUICK = replace(
    Config(),
    seeds=5,
    exponents=(*CLAIMED, (2.0, 1.0)),
    features=16384,
    n_max=1024,
    p_max=512,
    draws_per_seed=3,
    floor_factor_small_a=3.0,
    compute_log10=(1.5, 6.5),
    compute_points=41,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK,
        seeds=2,
        exponents=CLAIMED,
        features=2048,
        n_max=128,
        p_max=128,
        p_fit=(32.0, 128.0),
        floor_factor=2.0,
        floor_factor_small_a=2.0,
        gap_sizes=(64, 128),
        t_points=41,
        compute_log10=(1.0, 4.0),
        compute_points=16,
        corr_features=1024,
        corr_n_max=64,
        corr_replicas=2,
        exp_features=1024,
        exp_n_max=64,
        block=1024,
    ),
}
_CPU = "CPU budget of the quick suite (45 CPU-s for this study)"
WHY = {
    "seeds": _CPU,
    "exponents": "quick: the two configurations the claims name, plus b = 1 (recorded); smoke: the two",
    "features": _CPU + "; M = 16·N_max keeps the width window clear of the M truncation",
    "n_max": _CPU + " (one 1024² eigendecomposition per width and seed)",
    "p_max": "the data exponent is fitted on P ≤ 512; larger P only at full",
    "p_fit": "smoke: P ≤ 128",
    "gap_sizes": "smoke: P ≤ 128",
    "t_points": "smoke: a coarser log-t grid",
    "draws_per_seed": _CPU + " (15 draws in all)",
    "floor_factor": "smoke: N_max = 128 leaves no window at f = 10 (pipeline check only)",
    "floor_factor_small_a": "at N_max = 1024 and a = 1.5 the floor is only ≈ L₀/30: f = 10 leaves no window",
    "compute_log10": "the C range whose optimum lies inside the width grid",
    "compute_points": "fewer C on the shorter range",
    "corr_features": "smoke: smaller",
    "corr_n_max": "smoke: smaller",
    "corr_replicas": "smoke: fewer",
    "exp_features": "smoke: smaller",
    "exp_n_max": "smoke: smaller",
    "block": "smoke: smaller blocks so that kill-and-resume sees several boundaries",
}


def _name(a: float, b: float) -> str:
    return f"a{a:g}_b{b:g}"


def grid(cfg: Config) -> dict[str, dict]:
    if cfg.n_max > cfg.features:
        raise ValueError(f"n_max {cfg.n_max} exceeds the number of features {cfg.features}")
    points = {}
    for a, b in cfg.exponents:
        parts = ["sweep", "data", "corr", "check"] if (a, b) in CLAIMED else ["sweep"]
        points[_name(a, b)] = {
            "a": a, "b": b, "spectrum": "power", "features": cfg.features, "n_max": cfg.n_max, "parts": parts,
        }  # fmt: skip
    points["exp"] = {
        "a": 2.0, "b": 1.0, "spectrum": "exp", "features": cfg.exp_features, "n_max": cfg.exp_n_max,
        "parts": ["sweep"],
    }  # fmt: skip
    return points


def resources(cfg: Config, point: dict) -> dict:
    """Full tier: 8192² float64 Gram matrices and eigendecompositions (≈ 2–3 GB); the data sweep (80 draws of
    P ≤ 8192) makes the claimed points the longest jobs (probe: ≥ 4.2–4.7 h on one CPU core, a lower bound: the
    eigendecompositions are not timed). Points with the data sweep ask for 72 h, the other large ones 12 h."""
    if point["n_max"] < 4096:
        return {}
    return {"mem_mb": 6000, "runtime": 72 * 60 if "data" in point["parts"] else 12 * 60}


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    return {"times": tr.times(cfg)}  # every draw is generated inside the jobs from per-block seeds


# ---------------------------------------------------------------------------------------------------- training
def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    import torch
    from threadpoolctl import threadpool_limits

    from reprosuite.engine.train import checkpoint, trainer

    units = [(part, int(s)) for part in point["parts"] for s in seeds]
    total = sum(tr.blocks(cfg, point, part) for part, _ in units)
    label = f"bordelon {point['spectrum']} a={point['a']:g} b={point['b']:g}"
    progress = trainer.Progress(total, label)
    slot = checkpoint.Slot()
    done: dict = dict(slot.state["done"]) if slot.state is not None else {}
    count = [sum(tr.blocks(cfg, point, units[int(i)][0]) for i in done)]

    def on_block():
        count[0] += 1
        progress.update(count[0])

    with threadpool_limits(limits=max(1, torch.get_num_threads())):
        for i, (part, seed) in enumerate(units):
            if str(i) in done:
                continue
            parts = tr.PARTS[part](cfg, point, seed, on_block)
            done[str(i)] = {k: torch.as_tensor(np.concatenate([p[k] for p in parts])) for k in _NUMERIC}
            done[str(i)]["labels"] = [[str(x) for x in np.concatenate([p[k] for p in parts])] for k in _TEXT]
            slot.save(lambda: {"done": done}, force=i == len(units) - 1)
    progress.update(total, force=True)
    frames = []
    for i in range(len(units)):
        u = done[str(i)]
        frame = {k: u[k].numpy() for k in _NUMERIC}
        frame.update({k: u["labels"][j] for j, k in enumerate(_TEXT)})
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)[list(tr.COLUMNS)]


_TEXT = ("split", "metric")
_NUMERIC = tuple(c for c in tr.COLUMNS if c not in _TEXT)


# ---------------------------------------------------------------------------------------------------- metrics
def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per point and seed: the exponent fits (time, width, data), drifts, frontier slopes, ΔL slopes, the B0
    check and the recorded train–test gap (``metrics``)."""
    return metrics.extract(runs, cfg, grid(cfg))


CLAIMS = claimset.claims(CLAIMED)


def measure(metrics_table: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    return claimset.measure(metrics_table, cfg, {"a2": _name(*CLAIMED[0]), "a15": _name(*CLAIMED[1])})


FIGURES = figures.FIGURES
