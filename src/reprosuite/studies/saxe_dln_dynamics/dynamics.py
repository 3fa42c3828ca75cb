"""The task of Saxe et al. 2013 (whitened inputs, hierarchical or chosen-mode targets), its analytic learning
dynamics (Eqs. 11–12), and the per-seed quantities read off training curves.

numpy and pandas only, so that the study's data, metric and figure jobs stay free of torch.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.metrics import curves


def hierarchy(n_items: int, n_features: int, flip_prob: float, rng: np.random.Generator) -> np.ndarray:
    """Fig. 3 data: each feature diffuses down a binary tree over the items, flipping sign with ``flip_prob``."""
    levels = int(round(math.log2(n_items)))
    values = rng.choice([-1.0, 1.0], size=(n_features, 1))
    for _ in range(levels):
        children = np.repeat(values, 2, axis=1)
        flips = rng.random(children.shape) < flip_prob
        values = np.where(flips, -children, children)
    return values  # (n_features, n_items)


def task(cfg) -> dict[str, np.ndarray]:
    """Items X = √P·I (whitened), targets Y, and the SVD of Σyx = YᵀX/P."""
    rng = np.random.default_rng(cfg.data_seed)
    p = cfg.n_items
    x = math.sqrt(p) * np.eye(p)
    if cfg.dataset == "modes":
        s = np.zeros(min(p, cfg.n_features))
        s[: len(cfg.modes)] = cfg.modes
        left = curves.haar_orthogonal(cfg.n_features, rng)[:, : len(s)]
        right = curves.haar_orthogonal(p, rng)[:, : len(s)]
        y = x @ (left @ np.diag(s) @ right.T).T  # (P, n_out): Σyx = YᵀX/P = left·diag(s)·rightᵀ
    else:
        y = hierarchy(p, cfg.n_features, cfg.flip_prob, rng).T
    u, s, vt = np.linalg.svd(y.T @ x / p, full_matrices=False)
    return {"x": x, "y": y, "u": u, "s": s, "v": vt.T}


def mode_strengths(cfg) -> np.ndarray:
    """Singular values of the tracked modes (zero modes have nothing to learn and are left out)."""
    s = task(cfg)["s"][: cfg.n_modes_tracked]
    return s[s > 1e-9 * s[0]]


def mode_curve(t: np.ndarray, s: float, u0: float, tau: float) -> np.ndarray:
    """Eq. 12: u(t) = s·e^{2st/τ} / (e^{2st/τ} − 1 + s/u0)."""
    e = np.exp(np.minimum(2 * s * t / tau, 700.0))
    return s * e / (e - 1 + s / u0)


def half_time(s: float, u0: float, tau: float) -> float:
    """Eq. 11 with u_f = s/2: t = (τ/2s)·ln[(s − u0)/u0]."""
    return tau / (2 * s) * math.log((s - u0) / u0)


def zero_map_loss(y) -> float:
    """(1/2P)·‖Y‖²: the loss of a network that outputs zero."""
    return float(0.5 * (y**2).sum() / y.shape[0])


def depth_targets(cfg, data: dict) -> np.ndarray:
    """Targets of the depth sweep, scaled so that Σyx has spectral norm ``depth_target_norm``."""
    return data["y"] * (cfg.depth_target_norm / float(data["s"][0]))


def half_times(curves_of_point: pd.DataFrame, s: np.ndarray) -> pd.DataFrame:
    """Per seed and mode: the (interpolated) step at which the mode's strength first reaches s/2."""
    rows = []
    for seed, g in curves_of_point.groupby("seed"):
        for a in range(len(s)):
            curve = g[g.metric == f"mode{a}"].sort_values("step")
            if curve.empty:
                continue
            t = curves.first_reaching(curve.step, curve.value, s[a] / 2, interpolate=True)
            rows.append({"seed": seed, "mode": a, "s": s[a], "t_half": t})
    return pd.DataFrame(rows)


def best_lr(table: pd.DataFrame) -> pd.DataFrame:
    """Per depth, init and seed: the fewest iterations over learning rates, and the learning rate achieving it."""
    it = table[table.metric.str.startswith("iters_")].copy()
    if it.empty:
        return it
    it[["init", "lr"]] = it.metric.str.extract(r"iters_(\w+)_lr(.+)")
    it["lr"] = it.lr.astype(float)
    rows = []
    for (point, init, seed), g in it.groupby(["point", "init", "seed"]):
        best = g.loc[g.value.idxmin()]
        rows.append((point, seed, f"best_iters_{init}", best.value))
        rows.append((point, seed, f"best_lr_{init}", best.lr if np.isfinite(best.value) else math.nan))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def depth_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """The ``best_*`` metrics of the depth sweep, with an integer ``depth`` column."""
    d = metrics[metrics.point.str.startswith("depth") & metrics.metric.str.startswith("best_")].copy()
    d["depth"] = d.point.str.extract(r"^depth-(\d+)", expand=False).astype(int)  # MNIST points: depth-D-…
    return d
