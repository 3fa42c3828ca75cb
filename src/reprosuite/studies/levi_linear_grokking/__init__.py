"""Levi, Beck, Bar-Sinai 2023 — grokking in a linear teacher–student regression.

Paper: "Grokking in Linear Estimators — A Solvable Model that Groks without Understanding", arXiv:2310.16441
(ICLR 2024). No official code in our index; the set-up follows the replication Mabdel-03/9.520-The-Geometry-of-
Grok (``Replications/09_levi_et_al_2023_linear_estimators/scripts/model.py`` and its README).

Claims: grokking — test accuracy rising long after train accuracy — appears in linear teacher–student
regression trained by full-batch gradient descent, as an artefact of thresholded accuracy: both losses fall
smoothly, but the generalisation loss is governed by the whole spectrum of Σ = XᵀX/N, down to the
Marchenko–Pastur edge (1 − √λ)², so it crosses the threshold later; the delay grows as λ = d_in/N_train → 1
(abstract, Fig. 1, §3). Time of an accuracy curve (ours; the paper's definition was not readable): the first
logged step at which it reaches 0.95 (below 1: accuracy 1 on a finite set hangs on its worst sample).
Claims (thresholds ours):
1. test_lags_train (empirical, mean) — per seed, the fraction of settings (λ, ε, wd) whose test accuracy
   reaches the level strictly after the train accuracy (or never) ≥ 1, i.e. every seed and every setting;
2. lag_rises_with_lambda (empirical, mean) — per seed, Spearman(λ, t_test/t_train) averaged over the (ε, wd)
   groups ≥ 0.9. Settings whose train accuracy never reaches the level are left out of 1–2; a test time never
   reached is censored: the group's Spearman is taken with it at its bound (budget / t_train) and beyond every
   ratio, and where the two differ the seed's value is a lower bound (claims.Sample), so censoring alone can
   make the claim inconclusive but never pass;
   negative control of 1–2: wd 0 members whose training inputs are whitened (X Σ^(-1/2), so Σ = I exactly:
   every mode decays at one rate, train and generalisation losses coincide and the paper's mechanism — the
   Marchenko–Pastur spread of Σ's spectrum — is absent), same λ, ε, seeds and budget, in the same batched job;
3. test_loss_monotone (sanity) — per seed, the largest relative rise of the test MSE between logged steps,
   over all settings, ≤ 0.01; test_loss_monotone_wd0 (sanity) — the same at wd = 0. Both hold or fail by
   mathematics: the test MSE of GD on a quadratic loss is a sum of exponentials in Σ's eigenmodes (no jump);
   without wd every mode of S − T decays monotonically, with wd one realisation's test MSE can pass a minimum
   and rise slowly towards the ridge solution. Shown, not counted.

Set-up: x ~ N(0, I), y = Tᵀx, teacher and student N(0, 1/(2 d_in d_out)), loss the mean over the N samples of
‖(S − T)ᵀx‖²/d_out, full-batch GD lr 0.01 with coupled weight decay γ; a sample is correct when its error is
below ε (the replication's ``compute_accuracy``; the paper's A = erf(√(ε/2L)) for d_out = 1). One job per d_out
batches all λ × wd × seeds (the loss only needs Σ); within a seed the members share the teacher, the student
init and nested training sets; float64. :mod:`reprosuite.metrics.linear_grokking` predicts the delay from the
Marchenko–Pastur law and from each run's own spectrum.

Tiers: full: d_in 1000, d_out {1, 10}, λ 0.1…0.9, ε {1e-3, 1e-6}, wd {0, 1e-3, 1e-2}, 10⁵ steps, 5 seeds
(GPU). quick: d_in 50, d_out 1, 2·10⁴ steps (λ ≈ 0.9 is then censored: its test time is predicted beyond the
budget). smoke: d_in 40, three λ, one ε, wd 0. Every tier trains the whitened control beside the paper's
members.
Cost (2-core CPU, one thread): smoke ≈ 13 CPU-s in-process; quick ≈ 42 CPU-s of training (the whitened
control's members are a quarter of the job and cost ≈ 1.46× the paper's members alone, timed side by side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reprosuite import claims
from reprosuite.claims import Claim, Rule, Sample
from reprosuite.metrics import curves
from reprosuite.metrics import linear_grokking as lg
from reprosuite.study import Figure, Paper, seed_list, seed_positions

from . import figures
from .amendments import AMENDMENTS as AMENDMENTS  # the study interface's amendments
from .censored import lag_values
from .censored import ratio_spearman as ratio_spearman

PAPER = Paper(
    title="Grokking in Linear Estimators -- A Solvable Model that Groks without Understanding",
    authors="Levi, Beck, Bar-Sinai",
    year=2023,
    arxiv="2310.16441",
    venue="ICLR 2024",
)

COST = {
    "smoke": "~13 CPU-s",
    "quick": "~42 CPU-s training (with the control)",
    "full": "~20-22 CPU-h per point by the probe (CPU time), peak 3.7-5.0 GB",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours
    d_in: int = 1000  # §2 teacher–student set-up (replication README)
    d_outs: tuple[int, ...] = (1, 10)  # output dimension(s) (replication README)
    lambdas: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # λ = d_in / N_train < 1
    epsilons: tuple[float, ...] = (1e-3, 1e-6)  # accuracy threshold ε on the per-sample error (paper)
    weight_decays: tuple[float, ...] = (0.0, 1e-3, 1e-2)  # γ (paper: 1e-5 … 1; ours: these three)
    steps: int = 100000  # full-batch GD steps (paper: up to 1e5 epochs)
    lr: float = 0.01  # "small learning rate approximating gradient flow"
    n_test: int = 2000  # not stated; ours
    acc_level: float = 0.95  # ours: the accuracy level that defines a time (docstring)
    log_points: int = 600  # ours: log-spaced evaluations
    whitened_control: bool = True  # ours: the negative control's members (wd 0, whitened training inputs)


QUICK = replace(Config(), d_in=50, d_outs=(1,), steps=20000, n_test=1000, log_points=300)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK,
        seeds=2,
        d_in=40,
        lambdas=(0.25, 0.5, 0.8),
        epsilons=(1e-3,),
        weight_decays=(0.0,),
        steps=3000,
        n_test=500,
        log_points=120,
    ),
}
WHY = {
    "seeds": "smoke: seconds, for tests",
    "d_in": "a step costs members · d_in²: d_in 50 keeps quick within the 2-core CPU budget",
    "d_outs": "d_out 1 only, for the CPU budget",
    "lambdas": "smoke: three λ, for tests",
    "epsilons": "smoke: one ε, for tests",
    "weight_decays": "smoke: wd 0 only, for tests",
    "steps": "2-core CPU budget (quick ≤ 3 min; smoke: seconds); λ ≈ 0.9 is censored at quick",
    "n_test": "fewer test samples for the CPU budget",
    "log_points": "fewer evaluations for the shorter runs",
}
_CONTROL = (
    "whitened training inputs (X Σ^(-1/2): the empirical covariance is exactly I, so no Marchenko–Pastur "
    "spread), wd 0, same λ, ε, seeds and budget"
)
CLAIMS = (
    Claim(
        "test_lags_train",
        "Test accuracy reaches the level strictly after train accuracy, for every λ < 1 (and every ε, wd).",
        metric="fraction of settings (λ, ε, wd) with t_test > t_train, per seed (accuracy level 0.95)",
        rule=Rule.at_least(1.0),
        paper_value=1.0,
        paper_text="grokking occurs in linear teacher–student regression (abstract, Fig. 1)",
        control=_CONTROL,
    ),
    Claim(
        "lag_rises_with_lambda",
        "The delay t_test/t_train rises with λ = d_in/N_train (Spearman ≥ 0.9).",
        metric="Spearman(λ, t_test/t_train) averaged over (ε, wd) groups, per seed (censored where "
        "never-reached test times decide it)",
        rule=Rule.at_least(0.9),
        paper_text="grokking time grows as λ → 1 (§3, Marchenko–Pastur edge)",
        control=_CONTROL,
    ),
    Claim(
        "test_loss_monotone",
        "The test MSE falls monotonically: no jump accompanies the jump in accuracy.",
        metric="max relative increase of test MSE between consecutive logged steps, over settings, per seed",
        rule=Rule.at_most(0.01),
        paper_value=0.0,
        paper_text="loss decreases smoothly while accuracy jumps (abstract: an artifact of the accuracy measure)",
        kind="sanity",
    ),
    Claim(
        "test_loss_monotone_wd0",
        "Without weight decay the test MSE falls monotonically (the same measure restricted to wd = 0).",
        metric="max relative increase of test MSE between consecutive logged steps, wd = 0 settings, per seed",
        rule=Rule.at_most(0.01),
        paper_value=0.0,
        paper_text="gradient flow on a quadratic loss: every eigenmode of the error decays exponentially",
        kind="sanity",
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def n_train(cfg: Config, lam: float) -> int:
    return max(cfg.d_in + 1, round(cfg.d_in / lam))


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Per seed: one training pool (the λ members use its first N rows), a test set and the teachers."""
    n_max = max(n_train(cfg, lam) for lam in cfg.lambdas)
    pools, tests = [], []
    teachers = {d: [] for d in cfg.d_outs}
    for seed in seed_list(cfg):
        rng = np.random.default_rng([20231025, seed])
        pools.append(rng.standard_normal((n_max, cfg.d_in)).astype(np.float32))
        tests.append(rng.standard_normal((cfg.n_test, cfg.d_in)).astype(np.float32))
        for d in cfg.d_outs:
            teachers[d].append(rng.normal(0.0, math.sqrt(1 / (2 * cfg.d_in * d)), (cfg.d_in, d)))
    data = {"x_train": np.stack(pools), "x_test": np.stack(tests)}
    data |= {f"teacher_d{d}": np.stack(t) for d, t in teachers.items()}
    return data


def grid(cfg: Config) -> dict[str, dict]:
    return {f"dout{d}": {"d_out": d} for d in cfg.d_outs}


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import optim, trainer

    d_out = int(point["d_out"])
    dt = torch.float64
    ns = [n_train(cfg, lam) for lam in cfg.lambdas]
    # the negative control (whitened = 1): wd 0 members whose training inputs are whitened, Σ = I exactly
    members = [(seed, wd, n, 0) for seed in seeds for wd in cfg.weight_decays for n in ns]
    members += [(seed, 0.0, n, 1) for seed in seeds for n in ns] if cfg.whitened_control else []
    typed = {
        "wd": [wd for _, wd, _, _ in members],
        "lam": [cfg.d_in / n for _, _, n, _ in members],  # λ = d_in / N
        "whitened": [w for *_, w in members],
    }
    names = [f"wd{wd:g}-lam{cfg.d_in / n:.4f}" + ("-whitened" if w else "") for _, wd, n, w in members]
    rows = seed_positions(cfg, seeds)  # the seeds' rows in the data
    pool = torch.as_tensor(data["x_train"][rows], dtype=dt).to(device)  # (seeds, n_max, d)
    n_max = pool.shape[1]
    pos = [seeds.index(s) for s, *_ in members]  # each member's row in pool, x_te and the teachers
    idx = torch.tensor(pos, device=device)
    sizes = torch.tensor([n for _, _, n, _ in members])
    mask = (torch.arange(n_max).unsqueeze(0) < sizes.unsqueeze(1)).to(device)
    count = mask.sum(1).to(dt)
    keys = [(p, n, w) for p, (_, _, n, w) in zip(pos, members, strict=True)]
    # Σ = XᵀX/N (M, d, d), its spectrum (M, d), and per N the whitened members' inputs (k, N, d)
    cov, eig, whitened = training_inputs(pool, keys, count)
    x_te = torch.as_tensor(data["x_test"][rows], dtype=dt).to(device)  # (seeds, n_test, d)
    by_seed = [[m for m, q in enumerate(pos) if q == p] for p in range(len(rows))]
    plain = [[m for m in sel if not members[m][3]] for sel in by_seed]
    teacher = torch.as_tensor(data[f"teacher_d{d_out}"][rows], dtype=dt).to(device)[idx]  # (M, d, d_out)
    gens = layers.generators([s for s, *_ in members])
    std = math.sqrt(1 / (2 * cfg.d_in * d_out))
    student = torch.nn.Parameter(
        layers.init_weight((cfg.d_in, d_out), "gaussian", gens, std).to(device=device, dtype=dt)
    )
    opt = optim.SGD([student], lr=cfg.lr, weight_decay=[wd for _, wd, _, _ in members])

    cov_times = cov_times_on_cpu(cov) if d_out == 1 and cov.device.type == "cpu" else None

    def train_loss(step=None):
        diff = student - teacher
        # Σ·D (M, d, d_out); at d_out 1 on a CPU as multiply-and-sum, ~3x faster than bmm there
        cov_diff = cov @ diff if cov_times is None else cov_times(diff)
        return (diff * cov_diff).sum((1, 2)) / d_out

    def evaluate(step):
        diff, alone = student - teacher, len(members) == 1
        e_te = torch.empty((len(members), cfg.n_test), dtype=dt, device=device)
        e_tr = torch.zeros(mask.shape, dtype=dt, device=device)  # (M, n_max), masked beyond each N below
        for p, sel in enumerate(by_seed):
            e_te[sel] = batched_errors(x_te[p], diff[sel], alone)
        for p, sel in enumerate(plain):
            if sel:  # all n_max samples of the seed's pool
                e_tr[sel] = batched_errors(pool[p], diff[sel], alone)
        for n, (sel, x) in whitened.items():
            e_tr[sel, :n] = batched_errors(x, diff[sel], alone, n_max)
        out = {
            ("train", "mse"): train_loss(),
            ("test", "mse"): e_te.mean(-1),
            ("test", "population_mse"): ((student - teacher) ** 2).sum((1, 2)) / d_out,
        }
        for eps in cfg.epsilons:
            out[("train", f"accuracy_eps{eps:g}")] = ((e_tr < eps) & mask).sum(-1) / count
            out[("test", f"accuracy_eps{eps:g}")] = (e_te < eps).to(dt).mean(-1)
        return out

    def done(history) -> bool:
        for eps in cfg.epsilons:
            steps, values = history.records[("test", f"accuracy_eps{eps:g}")]
            if not bool((values[-1] >= cfg.acc_level).all()):
                return False
        return True

    history = trainer.fit(
        train_loss,
        opt,
        cfg.steps,
        evaluate,
        trainer.log_schedule(cfg.steps, cfg.log_points),
        done=done,
        label=f"levi d_out {d_out}",
    )
    runs = history.frame([s for s, *_ in members], names, members=typed)
    eig = eig.cpu().numpy()  # (M, d): the spectrum the prediction uses
    spectrum = pd.DataFrame(
        {
            "variant": np.repeat(names, cfg.d_in),
            **{k: np.repeat(v, cfg.d_in) for k, v in typed.items()},
            "seed": np.repeat([s for s, *_ in members], cfg.d_in),
            "step": np.tile(np.arange(cfg.d_in), len(members)),
            "split": "spectrum",
            "metric": "eigenvalue",
            "value": eig.reshape(-1),
        }
    )
    return pd.concat([runs, spectrum], ignore_index=True)


def cov_times_on_cpu(cov):
    """D ↦ Σ·D for d_out = 1 (D (M, d, 1)) as multiply-and-sum, ``(Σ * Dᵀ).sum(-1)``, differentiable in D, with its
    (M, d, d) product — and the backward's, Gᵀ * Σ summed over rows — written into one buffer kept from step to
    step: the same operations, hence values, as autograd's through ``(cov * diff.transpose(1, 2)).sum(-1)``,
    without two fresh (M, d, d) tensors a step, which glibc may hand back to the system and fault in again at
    every step (on the quick tier that made a step ~1.8x slower). On a GPU the loss takes ``cov @ diff``."""
    import torch

    buffer = torch.empty_like(cov)

    class CovTimes(torch.autograd.Function):
        @staticmethod
        def forward(ctx, diff_t):  # diff_t = Dᵀ, (M, 1, d)
            return torch.mul(cov, diff_t, out=buffer).sum(-1, keepdim=True)

        @staticmethod
        def backward(ctx, grad):  # grad (M, d, 1) → (M, 1, d), as Mul's backward then its sum to Dᵀ's shape
            return torch.mul(grad.expand_as(cov), cov, out=buffer).sum(1, keepdim=True)

    return lambda diff: CovTimes.apply(diff.transpose(1, 2))


def batched_errors(x, diff, alone: bool = False, rows: int = 0):
    """Per-sample errors ‖Dᵀx‖²/d_out, (k, n), of k members' D = S − T (k, d, d_out) on inputs x, (n, d) shared by
    the members (a stride-0 view, no copy) or (k, n, d) one each: one batched matmul, whose every member's
    product is rounded as in a batch over all members of ``rows`` (≥ n) samples each. On a CPU torch hands a
    batch to MKL's batched gemm, which rounds a lone d_out = 1 product differently (as a matrix–vector product)
    and batches of two or more alike, so a batch of one is computed as one of two unless ``alone`` (the job's
    only member); and products of under 400 elements (d · samples · d_out) to its own kernel, so x is padded
    with zero rows to ``rows`` where that changes the kernel."""
    import torch

    k, (n, d) = len(diff), x.shape[-2:]
    x = x.expand(k, n, d)
    if n * d * diff.shape[-1] < 400 <= rows * d * diff.shape[-1]:
        return batched_errors(torch.cat([x, x.new_zeros((k, rows - n, d))], 1), diff, alone)[:, :n]
    if k == 1 and not alone:
        return (torch.bmm(x.expand(2, -1, -1), diff.expand(2, -1, -1))[:1] ** 2).mean(-1)
    return (torch.bmm(x, diff) ** 2).mean(-1)


def training_inputs(pool, keys: list[tuple[int, int, int]], count):
    """The members' empirical covariances Σ = XᵀX/N (M, d, d) and their spectra (M, d), and the whitened members'
    training inputs, {N: (members, (k, N, d))}, for members ``keys`` = (row p of ``pool``, N, whitened) with
    ``count`` = N as a float. X is pool row p's first N samples (a member that is not whitened trains on them
    directly), whitened — X Σ^(-1/2), so that Σ = I exactly — where asked.

    Members differ only by weight decay beyond their key, so each (p, N) is computed once, from the (n_max, d)
    pool block with the rows beyond N zeroed, matrix by matrix as a batched computation over all members does
    it, and copied to the members that share it: no (M, n_max, d) array of per-member inputs is held (at the
    full tier 180 · 10⁴ · 1000 float64, 14.4 GB); the whitened inputs take Σ_N N · d per seed."""
    import torch

    n_max, d = pool.shape[1:]
    cov = pool.new_empty((len(keys), d, d))
    eig = pool.new_empty((len(keys), d))
    white: dict[int, list[int]] = {}
    for m, (_, n, w) in enumerate(keys):
        if w:
            white.setdefault(n, []).append(m)
    whitened = {n: (sel, pool.new_empty((len(sel), n, d))) for n, sel in white.items()}
    rows = torch.arange(n_max, device=pool.device)
    with torch.no_grad():
        for p, n in dict.fromkeys((p, n) for p, n, _ in keys):
            same = [m for m, k in enumerate(keys) if k[:2] == (p, n)]
            x = pool[p] * (rows < n).unsqueeze(-1)  # (n_max, d): rows beyond N are zero
            sigma = x.T @ x / count[same[0]]
            if sel := [m for m in same if not keys[m][2]]:
                cov[sel], eig[sel] = sigma, torch.linalg.eigvalsh(sigma)
            if sel := [m for m in same if keys[m][2]]:  # X Σ^(-1/2): Σ = I exactly
                lam, vec = torch.linalg.eigh(sigma)
                root = vec @ torch.diag_embed(lam.rsqrt()) @ vec.T
                x = x @ root
                sigma = x.T @ x / count[sel[0]]
                cov[sel], eig[sel] = sigma, torch.linalg.eigvalsh(sigma)
                members, inputs = whitened[n]
                inputs[[members.index(m) for m in sel]] = x[:n]
    return cov, eig, whitened


# --- metrics ----------------------------------------------------------------------------------------------


def settings_table(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """One row per (point, wd, λ, seed, ε): train/test times, ratio, predictions, test-MSE monotonicity."""
    rows = []
    logged = runs[runs["split"].isin(["train", "test"])]
    spectra = {
        key: g.sort_values("step")["value"].to_numpy()
        for key, g in runs[runs["split"] == "spectrum"].groupby(["point", "whitened", "wd", "lam", "seed"])
    }
    points = grid(cfg)
    for (point, whitened, wd, lam, seed), run in logged.groupby(["point", "whitened", "wd", "lam", "seed"]):
        d_out = int(points[point]["d_out"])
        test_mse = run[(run["split"] == "test") & (run["metric"] == "mse")].sort_values("step")
        rise = lg.max_relative_increase(test_mse["value"].to_numpy())
        eig = spectra[(point, whitened, wd, lam, seed)]
        for eps in cfg.epsilons:
            times = {}
            for split in ("train", "test"):
                acc = run[(run["split"] == split) & (run["metric"] == f"accuracy_eps{eps:g}")].sort_values(
                    "step"
                )
                times[split] = curves.first_reaching(
                    acc["step"].to_numpy(), acc["value"].to_numpy(), cfg.acc_level
                )
            pred_emp = lg.predicted_times(
                lg.empirical_measure(np.clip(eig, 0, None)), eps, cfg.acc_level, cfg.lr, wd, d_out, 10**7
            )
            rows.append(
                {
                    "point": point,
                    "d_out": d_out,
                    "whitened": whitened,
                    "wd": wd,
                    "lam": lam,
                    "seed": seed,
                    "eps": eps,
                    "t_train": times["train"],
                    "t_test": times["test"],
                    "ratio": times["test"] / times["train"] if np.isfinite(times["train"]) else np.nan,
                    "pred_train": pred_emp[0],
                    "pred_test": pred_emp[1],
                    "test_mse_rise": rise,
                }
            )
    return pd.DataFrame(rows)


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (point, wd, λ, ε, seed) the times, their ratio and predictions, and per (point, wd, λ, seed) the
    test-MSE rise (ε NaN), with the setting in typed columns ``d_out, wd, lam, eps``."""
    table = settings_table(runs, cfg)
    rows = []
    for r in table.itertuples():
        setting = (r.point, r.d_out, r.whitened, r.wd, r.lam)
        for name in ("t_train", "t_test", "ratio", "pred_train", "pred_test"):
            rows.append((*setting, r.eps, r.seed, name, getattr(r, name)))
        if r.eps == cfg.epsilons[0]:
            rows.append((*setting, math.nan, r.seed, "test_mse_rise", r.test_mse_rise))
    return pd.DataFrame(
        rows, columns=["point", "d_out", "whitened", "wd", "lam", "eps", "seed", "metric", "value"]
    )


def metric_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per (point, wd, λ, ε, seed): t_train, t_test, ratio, predictions."""
    m = metrics[metrics["eps"].notna()]
    index = ["point", "d_out", "whitened", "wd", "lam", "eps", "seed"]
    wide = m.pivot_table(index=index, columns="metric", values="value", aggfunc="first", dropna=False)
    return wide.dropna(how="all").reset_index()


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, Sample]:
    out: dict[str, Sample] = {}
    wide = metric_table(metrics)
    if wide.empty:
        return out
    out |= lag_values(wide[wide["whitened"] == 0], cfg)
    control = wide[wide["whitened"] == 1]
    if not control.empty:
        out |= {f"{k}{claims.CONTROL}": v for k, v in lag_values(control, cfg).items()}
    rises = metrics[(metrics["metric"] == "test_mse_rise") & (metrics["whitened"] == 0)]
    out["test_loss_monotone"] = Sample(tuple(rises.groupby("seed")["value"].max().sort_index()))
    no_wd = rises[rises["wd"] == 0]
    if not no_wd.empty:
        out["test_loss_monotone_wd0"] = Sample(tuple(no_wd.groupby("seed")["value"].max().sort_index()))
    return out


FIGURES = (
    Figure(
        "loss_vs_accuracy",
        "Paper Fig. 1: in linear teacher–student regression the train and generalisation losses fall smoothly, "
        "while the thresholded accuracies jump, the generalisation accuracy long after the training accuracy. "
        "Ours: train (dashed) and test (solid) MSE (top, with the loss levels L*(ε) at which accuracy reaches "
        "the level, dotted) and accuracies at each ε (bottom) for a small and a large λ, one seed, wd 0.",
        figures.loss_vs_accuracy,
    ),
    Figure(
        "delay_vs_lambda",
        "Paper: the grokking delay is set by the spectrum of the empirical covariance and grows as λ = "
        "d_in/N_train → 1 (Marchenko–Pastur edge). Ours: t_test/t_train (accuracy level 0.95; mean ± sd over "
        "seeds) per ε and weight decay, with the prediction from the Marchenko–Pastur law (line) and from "
        "each run's own empirical spectrum (crosses); triangles mark λ where the test accuracy never reached "
        "the level within the step budget.",
        figures.delay_vs_lambda,
    ),
)
