"""Theory of the JEPA/MAE study: the feature values of each case, the per-feature gradient-flow ODEs of both
objectives (derived in the study's docstring), their fixed points and critical times, and the learning rates and
horizons that both objectives' gradient descent is run with. numpy (scipy inside functions) only.
"""

from __future__ import annotations

import functools
import math

import numpy as np

OBJECTIVES = ("mae", "jepa")
CASES = ("lambda", "rho", "anti")


def case_values(cfg) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(λ, ρ) per case; features sorted so that index 0 has the largest varied quantity."""
    ramp = np.linspace(1.0, cfg.low, cfg.features)
    ones = np.ones(cfg.features)
    return {"lambda": (ramp, ones), "rho": (ones, ramp), "anti": (ramp[::-1].copy(), ramp)}


def fixed_point(objective: str, depth: int, rho):
    """Encoder strength at convergence: ρ^{L/(L+1)} (MAE), ρ^L (JEPA)."""
    return np.asarray(rho, dtype=float) ** (depth if objective == "jepa" else depth / (depth + 1))


def _rhs(objective: str, depth: int, lam: float, rho: float):
    power = (3.0 if objective == "jepa" else 2.0) - 1.0 / depth
    sigma = lam / rho
    return lambda t, w: lam * np.abs(w) ** power - sigma * w**3


def ode_curve(objective: str, depth: int, lam: float, rho: float, eps: float, tau: np.ndarray) -> np.ndarray:
    """w̄(τ) from the per-feature ODE (Eqs. 7–8 as derived above), w̄(0) = ε."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(
        _rhs(objective, depth, lam, rho),
        (0.0, float(tau[-1])),
        [eps],
        t_eval=tau,
        rtol=1e-9,
        atol=1e-14,
        method="LSODA",
    )
    return sol.y[0]


def ode_time(objective: str, depth: int, lam: float, rho: float, eps: float, frac: float) -> float:
    """τ at which the ODE's w̄ first reaches ``frac`` × its fixed point (inf if never)."""
    from scipy.integrate import solve_ivp

    target = frac * float(fixed_point(objective, depth, rho))
    if eps >= target:
        return 0.0

    def reached(t, w):
        return w[0] - target

    reached.terminal = True
    sol = solve_ivp(
        _rhs(objective, depth, lam, rho),
        (0.0, 1e9),
        [eps],
        events=reached,
        rtol=1e-9,
        atol=1e-14,
        method="LSODA",
    )
    return float(sol.t_events[0][0]) if len(sol.t_events[0]) else math.inf


@functools.cache
def longest(cfg, objective: str, depth: int) -> float:
    """ODE time by which every feature of every case reaches 99 % of its fixed point."""
    values = case_values(cfg)
    return max(
        ode_time(objective, depth, lam, rho, cfg.eps, 0.99)
        for case in CASES
        for lam, rho in zip(*values[case], strict=True)
    )


@functools.cache
def ode_inversion(cfg, depth: int) -> float:
    """Kendall τ between the ODE's JEPA and MAE critical times in case "anti" at ``depth`` (≤ 0: the learning
    order inverts between the objectives)."""
    from scipy.stats import kendalltau

    lam, rho = case_values(cfg)["anti"]
    times = {
        obj: [ode_time(obj, depth, lm, r, cfg.eps, cfg.half) for lm, r in zip(lam, rho, strict=True)]
        for obj in OBJECTIVES
    }
    return float(kendalltau(times["jepa"], times["mae"])[0])


def learning_rate(cfg, depth: int, objective: str) -> float:
    """lr_depth/(L+1) for JEPA; MAE learns ~10–100× faster, so its lr is cut by the ratio of the two objectives'
    convergence times: both then cover their dynamics in the same number of steps, MAE's in fine enough steps for
    gradient descent to follow the gradient flow (its critical times differ by < 1 % between features)."""
    lr = cfg.lr_depth / (depth + 1)
    if objective == "mae":
        lr *= longest(cfg, "mae", depth) / longest(cfg, "jepa", depth)
    return lr


def tau_per_step(cfg, depth: int, objective: str) -> float:
    """Normalised time τ = L·t advanced by one step of gradient descent (t = lr·steps)."""
    return depth * learning_rate(cfg, depth, objective)


def steps_for(cfg, depth: int) -> int:
    """Steps to cover ``horizon`` × the time for every feature of every case to reach 99 % of its fixed point."""
    return int(math.ceil(cfg.horizon * longest(cfg, "jepa", depth) / tau_per_step(cfg, depth, "jepa")))
