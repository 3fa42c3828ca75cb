"""Per-member metrics and claim values of the lazy-to-rich study: first-crossing times, censored delays, the
converged kernel regression of the linearised model, and the censored rank correlation of delay with α."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite import claims
from reprosuite.claims import Sample
from reprosuite.metrics import curves
from reprosuite.metrics import linear_grokking as lg


def kernel_regression(k_train, k_cross, y):
    """Predictions of kernel regression with the initial NTK, ``k_cross · K⁺ y`` (S, B): where GD on the centred
    linearised model converges from zero (the min-norm interpolant; the notebook's ``kernel_regression``).
    Eigenvalues below 1e-10 of the largest are dropped: directions GD never moves within any budget."""
    import torch

    lam, u = torch.linalg.eigh(k_train.double())
    keep = lam > 1e-10 * lam[:, -1:].clamp_min(0)
    coef = torch.where(keep, torch.einsum("spk,sp->sk", u, y.double()) / torch.where(keep, lam, 1.0), 0.0)
    weights = torch.einsum("spk,sk->sp", u, coef)  # K⁺ y (S, P)
    return torch.einsum("sbp,sp->sb", k_cross.double(), weights)


def member_table(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    """One row per (point, α, seed): t_train, t_test, delay and its censoring bound, alignment ratio at t_test,
    the lazy model's best finite-time and converged test MSE."""
    rows = []
    for (point, alpha, seed), run in runs.groupby(["point", "alpha", "seed"]):

        def curve(split, metric, run=run):
            c = run[(run["split"] == split) & (run["metric"] == metric)].sort_values("step")
            return c["step"].to_numpy(), c["value"].to_numpy()

        var_tr = float(curve("train", "target_var")[1][0])
        var_te = float(curve("test", "target_var")[1][0])
        times = {}
        for split, v in (("train", var_tr), ("test", var_te)):
            steps, mse = curve(split, "mse")
            times[split] = curves.first_reaching(steps, mse, cfg.threshold * v, below=True)
        a_steps, a_ratio = curve("test", "alignment_ratio")
        if np.isfinite(times["test"]):
            before = a_steps <= times["test"]
            align_at = float(a_ratio[before][-1]) if before.any() else math.nan
        else:
            align_at = float(a_ratio[-1])  # never generalised: the last value
        lazy = curve("test", "lin_mse")[1]
        converged = curve("test", "kernel_regression_mse")[1]
        fitted = 0 < times["train"] < math.inf
        rows.append(
            {
                "point": point,
                "alpha": float(alpha),
                "seed": seed,
                "t_train": times["train"],
                "t_test": times["test"],
                "delay": times["test"] / times["train"] if fitted else math.nan,
                # a delay never reached is at least the budget over t_train: its censoring bound
                "delay_bound": cfg.epochs / times["train"] if fitted else math.nan,
                "align_ratio_at_t_test": align_at,
                "lazy_min_test": float(np.min(lazy) / var_te),
                "lazy_converged_test": float(converged[0] / var_te) if converged.size else math.nan,
                "final_test": float(curve("test", "mse")[1][-1] / var_te),
            }
        )
    return pd.DataFrame(rows)


METRICS = (
    "t_train",
    "t_test",
    "delay",
    "delay_bound",
    "align_ratio_at_t_test",
    "lazy_min_test",
    "lazy_converged_test",
    "final_test",
)


def extract(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    rows = []
    for r in member_table(runs, cfg).itertuples():
        for name in METRICS:
            rows.append((r.point, r.alpha, r.seed, name, getattr(r, name)))
    return pd.DataFrame(rows, columns=["point", "alpha", "seed", "metric", "value"])


def metric_table(metrics: pd.DataFrame, point: str = "all") -> pd.DataFrame:
    """One row per (α, seed) of one grid point, one column per metric."""
    sel = metrics[metrics["point"] == point]
    wide = sel.pivot_table(
        index=["alpha", "seed"], columns="metric", values="value", aggfunc="first", dropna=False
    )
    return wide.dropna(how="all").reset_index()


def _constant(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size == values.size > 0 and float(np.ptp(finite)) == 0.0


def spearman_censored(alphas, delays, bounds) -> tuple[float, int]:
    """Spearman(α, delay) of one seed with never-reached delays (∞) taken at both ends — at their bounds and
    beyond every finite delay — as (the smaller value, 1 if the two differ else 0): a lower bound when only
    censoring decides (``claims.Sample``)."""
    delays, bounds = np.asarray(delays, float), np.asarray(bounds, float)
    ends = [np.where(np.isinf(delays), bounds, delays), delays]
    # a delay that does not change with α does not grow with it: no rank association (ρ = 0), not undefined
    at_bound, beyond = (0.0 if _constant(v) else lg.spearman(alphas, v) for v in ends)
    if math.isnan(at_bound) or math.isnan(beyond):
        return math.nan, 0
    return min(at_bound, beyond), int(at_bound != beyond)


def claim_values(wide: pd.DataFrame, cfg) -> dict[str, Sample]:
    """The four claims' per-seed values from one grid point's table, censored where a test time was never
    reached (bound: the budget over t_train)."""
    out: dict[str, Sample] = {}
    if wide.empty:
        return out
    at1 = wide[wide["alpha"] == 1.0].sort_values("seed")
    if not at1.empty and "delay" in at1:
        out["delay_at_alpha1"] = claims.censored_at(at1["delay"], at1["delay_bound"])
    if not at1.empty and "align_ratio_at_t_test" in at1:
        out["alignment_rises"] = Sample(tuple(at1["align_ratio_at_t_test"]))
    if "lazy_converged_test" in wide:
        out["lazy_never_generalises"] = Sample(
            tuple(wide.groupby("seed")["lazy_converged_test"].min().sort_index())
        )
    if wide["alpha"].nunique() >= 3 and "delay" in wide:
        pairs = [
            spearman_censored(g["alpha"], g["delay"], g["delay_bound"])
            for _, g in wide.sort_values(["seed", "alpha"]).groupby("seed")
        ]
        out["delay_grows_with_alpha"] = Sample(tuple(v for v, _ in pairs), tuple(c for _, c in pairs))
    return out
