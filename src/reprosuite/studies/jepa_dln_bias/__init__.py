"""Littwin et al. 2024 — the implicit bias of deep linear JEPA (self-distillation) versus MAE.

Paper: Littwin, Saremi, Advani, Thilak, Nakkiran, Huang, Susskind, "How JEPA Avoids Noisy Features: The Implicit
Bias of Deep Linear Self Distillation Networks", NeurIPS 2024, arXiv:2407.03475 (no official code found).

Claims (Fig. 2, abstract), all **analytic**: the paper's Fig. 2 is itself a simulation of the two objectives'
ODEs, and our gradient-descent runs are deterministic given those ODEs (seeds only rotate the basis), so a verdict
says whether our simulation agrees with the paper's derived dynamics, not whether an experiment replicated. Each
is summarised by the mean over seeds (zero-width intervals); pass rules ours (the paper shows curves):
1. lambda_order — MAE and JEPA both learn features in order of their covariance λ: Spearman(λ, critical time)
   = −1 for both objectives at every depth (case "lambda");
2. jepa_rho_order — only JEPA also prioritises features with a large regression coefficient ρ: Spearman(ρ,
   t*_JEPA) = −1 at every depth ≥ 2 (case "rho");
3. mae_ignores_rho — MAE does not: Spearman(ρ, t*_MAE) ≥ 0 at every depth ≥ 2 (case "rho");
4. jepa_ratio_grows — increasingly with encoder depth: JEPA's final strength ratio w̄(ρ_max)/w̄(ρ_min) grows
   strictly between consecutive depths, by more than 2 % (the largest departure of gradient descent from the
   ODE, at depth 1), so that rounding cannot pass it (the fixed points give a factor 1/ρ_min per layer);
5. anti_inversion — when λ and ρ are anti-correlated the learning order inverts between the objectives: Kendall
   τ(t*_JEPA, t*_MAE) ≤ 0 at every depth of the tier at which the ODE predicts the inversion (the largest τ over
   them; with the case values below the ODE inverts from depth 5 on, and not up to depth 3), not only at the
   deepest.

Setting. Encoder W̄ = W_L ⋯ W_1 (L layers, d×d), linear predictor/decoder V; MAE ½·E‖V W̄ x − y‖², JEPA
½·E‖V W̄ x − StopGrad(W̄ y)‖², on views with Σxx = Q diag(σ) Qᵀ and Σyx = Q diag(λ) Qᵀ sharing one eigenbasis Q;
ρ_i = λ_i/σ_i. Balanced small orthogonal init W_a(0) = ε^{1/L}·R_a R_{a−1}ᵀ (R_0 = Q), V(0) = ε^{1/L}·Q R_Lᵀ
(MAE decoder, code → data) or ε^{1/L}·I (JEPA predictor, code → code), so w̄_i(0) = ‖W̄ q_i‖ = ε. Gradient flow
then decouples per feature (τ = L·t): MAE dw̄/dτ = λ w̄^{2−1/L} − σ w̄³, JEPA dw̄/dτ = λ w̄^{3−1/L} − σ w̄³, fixed
points ρ^{L/(L+1)} and ρ^L. The ODEs, init and time normalisation are derived here from the two objectives; their
small-ε JEPA critical time is t* ≈ (1/λ)·Σ_{n=1}^{2L−1} L/(n ρ^{2L−n−1} ε^{n/L}). A per-layer ε (w̄(0) = ε^L) or an
MAE-like JEPA predictor loses the inversion (ρ-terms suppressed; features coupled). A third-party transcription of the paper's Theorems 4.2 and 4.5 (davidcagoh/jepa-learning-order) gives
the same JEPA ODE, fixed point ρ^L and critical-time series; the MAE ODE is derived here.

Implementation: full d×d deep linear networks trained by GD on the population losses (StopGrad = ``detach``), one
``fit`` per depth, members = objective × case × seed. JEPA's lr is lr_depth/(L+1); MAE's is cut by the ratio of
the objectives' ODE convergence times, so both cover their dynamics in the same steps. The horizon is ``horizon``
× the ODE time for every feature to reach 99 % of its fixed point; a feature's critical time is the τ at which w̄_i
first reaches ½ w̄*_i (interpolated). GD matches the ODE to < 1 % from depth 2 on (~2 % at depth 1). Seeds draw
Q and R_a only, to which the dynamics are invariant: seeds agree to rounding (zero-width CIs). Cases (ours; d = 5,
ε = 0.02): "lambda" ρ = 1, λ from 1 to 0.8; "rho" λ = 1, ρ from 1 to 0.8; "anti" λ 0.8 → 1 while ρ 1 → 0.8. The
ODE predicts the inversion from depth 5 on and none up to depth 3.
Tiers: full = depths 1–8, 5 seeds; quick = depths 1, 2, 3, 4, 6, 8, 3 seeds; smoke = depths 1, 2, 5, 1 seed.

Cost (2 shared CPU cores, one thread): smoke ~8 CPU-s training, quick ~23 CPU-s; full 3 min on one H100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Amendment, Claim, Rule
from reprosuite.metrics import curves
from reprosuite.metrics.stats import spearman
from reprosuite.study import Figure, Paper, seed_list, seed_positions

from . import figures, theory
from .theory import CASES, OBJECTIVES, case_values

PAPER = Paper(
    title="How JEPA Avoids Noisy Features: The Implicit Bias of Deep Linear Self Distillation Networks",
    authors="Littwin et al.",
    year=2024,
    arxiv="2407.03475",
    venue="NeurIPS 2024",
    code="",
)

COST = {"smoke": "~8 CPU-s training", "quick": "~23 CPU-s training", "full": "3 min on one H100"}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours (seeds rotate the problem only)
    depths: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)  # encoder layers L; Fig. 2 values not readable; ours
    features: int = 5  # d, one eigen-direction per feature; ours
    eps: float = 0.02  # "small" balanced init (abstract); ours: w̄(0) = ε, every layer and V at ε^{1/L}
    low: float = 0.8  # ours: smallest λ and ρ of the varied features; the largest is 1
    lr_depth: float = 0.5  # ours: JEPA learning rate lr_depth/(L+1), gradient descent close to the flow
    horizon: float = 1.2  # ours: × the ODE time for every feature to reach 99 % of its fixed point
    log_points: int = 1000  # ours
    half: float = 0.5  # ours: critical time = when w̄ reaches `half` of its fixed point
    dtype: Literal["float32", "float64"] = "float64"  # ours


QUICK = replace(Config(), seeds=3, depths=(1, 2, 3, 4, 6, 8), lr_depth=1.0, log_points=400)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=1, depths=(1, 2, 5), lr_depth=2.0, log_points=100),
}
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests); seeds agree to rounding anyway",
    "depths": "2-core CPU budget: deep encoders need the most steps (smoke: depth 5, the first inversion)",
    "lr_depth": "2-core CPU budget: larger steps, still within 1–2 % of the ODE's critical times",
    "log_points": "fewer logged steps; critical times are interpolated between them",
}
# jepa_ratio_grows: the ratio must grow by more than the largest departure of gradient descent from the ODE (~2 %
# at depth 1, < 1 % from depth 2 on), so that strict growth is not decided by rounding
GROWTH = 1.02
_ANALYTIC = "kind empirical → analytic"
_ANALYTIC_WHY = (
    "the paper's Fig. 2 simulates the objectives' ODEs, and our runs are deterministic given them (seeds only "
    "rotate the basis): a verdict checks our simulation against the derived dynamics, not an experimental finding"
)
AMENDMENTS = (
    Amendment(
        "2026-11-22",
        ("lambda_order", "jepa_rho_order", "mae_ignores_rho", "jepa_ratio_grows", "anti_inversion"),
        "initialisation: every layer at ε^{1/L} (so w̄(0) = ε; was a per-layer ε, w̄(0) = ε^L) and the JEPA "
        "predictor V(0) = ε^{1/L}·I (was initialised like the MAE decoder)",
        "found while building the study, after the earlier inits lost the inversion (ρ-terms suppressed by ε^n; "
        "features coupled). Towards the paper: both match its stated init as transcribed by a third party. "
        "No verdicts were recorded under the earlier inits (verdict before unknown)",
        "unknown",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("lambda_order", "jepa_rho_order", "mae_ignores_rho"),
        _ANALYTIC,
        _ANALYTIC_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("jepa_ratio_grows",),
        _ANALYTIC
        + "; rule ≥ 1 → ≥ 1.02 (strict growth, beyond the 2 % by which gradient descent departs from "
        "the ODE)",
        _ANALYTIC_WHY + "; a ratio that stays constant with depth (growth 1) met '≥ 1' and is no growth",
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("anti_inversion",),
        _ANALYTIC
        + "; the Kendall τ read at the deepest depth only → the largest τ over every depth at which the "
        "ODE predicts the inversion (depth ≥ 5 with these case values)",
        _ANALYTIC_WHY
        + "; the deepest depth alone was chosen where the ODE inverts, so it could not show whether "
        "the simulation inverts wherever the theory says it does",
        "pass",
        "pass",
    ),
)

CLAIMS = (
    Claim(
        "lambda_order",
        "With ρ fixed, MAE and JEPA both learn features in order of λ (largest first) at every depth.",
        metric="max over objectives and depths of Spearman(λ, critical time), case 'lambda'",
        rule=Rule.at_most(-1.0),
        paper_value=-1.0,
        paper_text="Fig. 2: both objectives learn high-covariance features first",
        kind="analytic",
    ),
    Claim(
        "jepa_rho_order",
        "With λ fixed, JEPA learns features in order of ρ (largest first) at every depth ≥ 2.",
        metric="max over depths ≥ 2 of Spearman(ρ, JEPA critical time), case 'rho'",
        rule=Rule.at_most(-1.0),
        paper_value=-1.0,
        paper_text="Fig. 2: JEPA prioritises high-influence (large ρ) features",
        kind="analytic",
    ),
    Claim(
        "mae_ignores_rho",
        "With λ fixed, MAE does not learn large-ρ features first (its critical times do not fall with ρ).",
        metric="min over depths ≥ 2 of Spearman(ρ, MAE critical time), case 'rho'",
        rule=Rule.at_least(0.0),
        paper_text="MAE's critical time depends on λ, not on ρ, at leading order (ODE as derived here)",
        kind="analytic",
    ),
    Claim(
        "jepa_ratio_grows",
        "JEPA's final strength ratio between the largest- and smallest-ρ feature grows strictly with depth.",
        metric="min over consecutive depths of ratio(L_next) / ratio(L), case 'rho'",
        rule=Rule.at_least(GROWTH),
        paper_text="JEPA fixed point w̄* = ρ^L: the ratio (ρ_max/ρ_min)^L grows with depth",
        kind="analytic",
    ),
    Claim(
        "anti_inversion",
        "With λ and ρ anti-correlated, JEPA learns the features in the opposite order to MAE at every depth at "
        "which the ODE predicts the inversion.",
        metric="max Kendall τ(JEPA critical times, MAE critical times) over the depths where the ODE's τ ≤ 0, "
        "case 'anti'",
        rule=Rule.at_most(0.0),
        paper_value=-1.0,
        paper_text="Fig. 2: the learning order inverts between the objectives",
        kind="analytic",
    ),
)


# --- data and training ------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Per seed: the data basis Q and, per case, Σxx = Q diag(σ) Qᵀ and Σyx = Q diag(λ) Qᵀ (population)."""
    values = case_values(cfg)
    lam = np.stack([values[c][0] for c in CASES])  # (cases, d)
    rho = np.stack([values[c][1] for c in CASES])
    basis, sxx, syx = [], [], []
    for seed in seed_list(cfg):
        q = curves.haar_orthogonal(cfg.features, np.random.default_rng(seed))
        basis.append(q)
        sxx.append(np.einsum("ij,cj,kj->cik", q, lam / rho, q))
        syx.append(np.einsum("ij,cj,kj->cik", q, lam, q))
    return {"lam": lam, "rho": rho, "basis": np.stack(basis), "sxx": np.stack(sxx), "syx": np.stack(syx)}


def grid(cfg: Config) -> dict[str, dict]:
    if not cfg.depths or min(cfg.depths) < 1:
        raise ValueError(f"depths must be >= 1, got {cfg.depths}")
    if not 0 < cfg.low < 1:
        raise ValueError(f"low must be in (0, 1), got {cfg.low}")
    if cfg.eps >= cfg.half * cfg.low ** max(cfg.depths):
        raise ValueError(
            "eps must lie below half the smallest JEPA fixed point ρ_min^L, or nothing is learned"
        )
    return {"all": {"depths": list(cfg.depths)}}


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    return pd.concat(
        [_train_depth(cfg, int(d), data, seeds, device) for d in point["depths"]], ignore_index=True
    )


def _train_depth(cfg: Config, depth: int, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import optim, trainer

    dtype = getattr(torch, cfg.dtype)
    members = [(obj, c, seed) for obj in OBJECTIVES for c in range(len(CASES)) for seed in seeds]
    member_seeds = [seed for *_, seed in members]
    rows = seed_positions(cfg, member_seeds)  # each member's seed's row in the data
    cases = [c for _, c, _ in members]
    q = torch.as_tensor(np.stack([data["basis"][i] for i in rows]))  # (S, d, d)
    sxx = torch.as_tensor(
        np.stack([data["sxx"][i, c] for i, c in zip(rows, cases, strict=True)]), dtype=dtype, device=device
    )
    sxy = torch.as_tensor(
        np.stack([data["syx"][i, c].T for i, c in zip(rows, cases, strict=True)]), dtype=dtype, device=device
    )
    jepa = torch.tensor([obj == "jepa" for obj, *_ in members], device=device)

    # balanced small orthogonal init: W_a = s·R_a R_{a−1}ᵀ (R_0 = Q), s = ε^{1/L}; the MAE decoder maps the code
    # back to data space, V = s·Q R_Lᵀ, the JEPA predictor maps code to code, V = s·I: both send r_i to feature i
    s = cfg.eps ** (1.0 / depth)
    gens = layers.generators(member_seeds)
    rot = [q] + [layers.init_weight((cfg.features, cfg.features), "orthogonal", gens) for _ in range(depth)]
    eye = torch.eye(cfg.features, dtype=q.dtype).expand_as(q)
    head = torch.where(jepa.view(-1, 1, 1).cpu(), eye, q @ rot[-1].transpose(1, 2))
    init = [s * rot[a + 1] @ rot[a].transpose(1, 2) for a in range(depth)] + [s * head]
    params = [torch.nn.Parameter(w.to(device=device, dtype=dtype)) for w in init]
    encoder, predictor = params[:-1], params[-1]
    q = q.to(device=device, dtype=dtype)

    def encode() -> torch.Tensor:
        total = encoder[0]
        for w in encoder[1:]:
            total = w @ total
        return total  # W̄ (S, d, d)

    def loss_fn(step: int) -> torch.Tensor:
        wbar = encode()
        pw = predictor @ wbar
        fit = 0.5 * (pw @ sxx * pw).sum(dim=(1, 2))  # ½ tr(V W̄ Σxx W̄ᵀ Vᵀ)
        mae = (pw * sxy.transpose(1, 2)).sum(dim=(1, 2))  # tr(V W̄ Σxy)
        jepa_cross = (pw @ sxy * wbar.detach()).sum(dim=(1, 2))  # tr(V W̄ Σxy StopGrad(W̄)ᵀ)
        return fit - torch.where(jepa, jepa_cross, mae)  # the objectives without their W̄-free constant

    def evaluate(step: int) -> dict:
        strength = torch.linalg.vector_norm(encode() @ q, dim=1)  # ‖W̄ q_i‖ per feature, (S, d)
        out = {("train", "loss"): loss_fn(step)}
        out.update({("train", f"w{i}"): strength[:, i] for i in range(cfg.features)})
        return out

    steps = theory.steps_for(cfg, depth)
    opt = optim.SGD(params, lr=[theory.learning_rate(cfg, depth, obj) for obj, *_ in members])
    log_steps = trainer.log_schedule(steps, cfg.log_points, "linear")
    history = trainer.fit(loss_fn, opt, steps, evaluate, log_steps, label=f"jepa/mae L={depth}")
    return history.frame(
        member_seeds,
        [f"L{depth}_{obj}_{CASES[c]}" for obj, c, _ in members],
        members={
            "depth": [depth] * len(members),
            "objective": [obj for obj, *_ in members],
            "case": [CASES[c] for _, c, _ in members],
        },
    )


# --- metrics ----------------------------------------------------------------------------------------------


MEMBER = ["depth", "objective", "case"]  # typed member columns of the run table
FEATURE = ["objective", "case", "depth", "feature"]  # the key of a per-feature metric


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per seed and feature (typed columns objective, case, depth, feature): ``t`` (critical time, normalised
    τ), ``final`` (last strength) and ``converged`` (last strength / fixed point); NaN for diverged members."""
    values = case_values(cfg)
    feats = runs[runs.metric.str.match(r"^w\d+$")]
    dead = runs[(runs.metric == "diverged_at") & runs.value.notna()].set_index([*MEMBER, "seed"]).index
    rows = []
    for (point, depth, obj, case, seed), g in feats.groupby(["point", *MEMBER, "seed"]):
        depth, rho = int(depth), values[case][1]
        diverged = (depth, obj, case, seed) in dead
        for i in range(cfg.features):
            c = g[g.metric == f"w{i}"].sort_values("step")
            tau = c.step.to_numpy() * theory.tau_per_step(cfg, depth, obj)
            w = c.value.to_numpy()
            star = float(theory.fixed_point(obj, depth, rho[i]))
            t = curves.first_reaching(tau, w, cfg.half * star, interpolate=True)
            for metric, value in (("t", t), ("final", float(w[-1])), ("converged", float(w[-1] / star))):
                rows.append((point, seed, metric, obj, case, depth, i, math.nan if diverged else value))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", *FEATURE, "value"])


def _corr(kind: str, x, y) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return math.nan
    if kind == "spearman":
        r = spearman(x, y)
    else:
        from scipy.stats import kendalltau

        r = kendalltau(x, y)[0]
    return round(float(r), 9)  # a perfect order is exactly ±1, not 1 − 1e-16


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    values = case_values(cfg)
    times, finals = metrics[metrics.metric == "t"], metrics[metrics.metric == "final"]
    depths = sorted(times.depth.unique())
    out: dict[str, list[float]] = {k: [] for k in ("lambda_order", "jepa_rho_order", "mae_ignores_rho")}
    out.update(jepa_ratio_grows=[], anti_inversion=[])
    for seed in sorted(times.seed.unique()):
        t = times[times.seed == seed].set_index(FEATURE).value.sort_index()
        f = finals[finals.seed == seed].set_index(FEATURE).value.sort_index()

        def order(obj, case, depth, by, t=t):
            return _corr("spearman", values[case][by], t.loc[(obj, case, depth)].to_numpy())

        out["lambda_order"].append(max(order(o, "lambda", d, 0) for o in OBJECTIVES for d in depths))
        deep = [d for d in depths if d >= 2]
        out["jepa_rho_order"].append(max((order("jepa", "rho", d, 1) for d in deep), default=math.nan))
        out["mae_ignores_rho"].append(min((order("mae", "rho", d, 1) for d in deep), default=math.nan))
        ratios = [f.loc[("jepa", "rho", d)].iloc[0] / f.loc[("jepa", "rho", d)].iloc[-1] for d in depths]
        growth = [b / a for a, b in zip(ratios[:-1], ratios[1:], strict=True)]
        out["jepa_ratio_grows"].append(float(min(growth)) if growth else math.nan)
        inverted = [d for d in depths if theory.ode_inversion(cfg, int(d)) <= 0]
        taus = [
            _corr("kendall", t.loc[("jepa", "anti", d)].to_numpy(), t.loc[("mae", "anti", d)].to_numpy())
            for d in inverted
        ]
        # NaN (not measured) when no depth of the tier inverts in the ODE, or one depth's order is undefined
        out["anti_inversion"].append(max(taus) if taus and not np.isnan(taus).any() else math.nan)
    return out


FIGURES = (
    Figure(
        "fig2_curves",
        "Paper Fig. 2: per-feature learning curves of MAE and JEPA simulated from their ODEs in three cases — λ "
        "varied at fixed ρ (both learn by λ), ρ varied at fixed λ (only JEPA learns by ρ), λ and ρ "
        "anti-correlated (the order inverts). Ours: encoder strength w̄_i / w̄_i* of gradient-descent-trained deep "
        "linear networks (solid, the first seed) against the per-feature ODE (dashed) for the shallowest and "
        "deepest encoder; dotted = the half-way mark that defines the critical time. The feature values are ours.",
        figures.draw_curves,
    ),
    Figure(
        "critical_times",
        "Not a paper figure: critical time of each feature relative to the mean over features, against encoder "
        "depth, for MAE and JEPA; case 'rho' (λ fixed) and case 'anti' (λ, ρ anti-correlated). JEPA's order "
        "follows ρ increasingly with depth and crosses MAE's λ order in the anti-correlated case.",
        figures.draw_times,
    ),
)
