"""One grid point's computations: the width sweep L(t, N), the data sweep L(t, P) at N = ∞, the finite-width
correction ΔL(t, N) and the closed-form-vs-explicit GD check, as resumable units (one per seed and part)."""

from __future__ import annotations

import math

import numpy as np

from . import analysis as an
from . import dynamics as dy

COLUMNS = ("seed", "step", "split", "metric", "value", "width", "data", "draw", "compute")


def sqrt2_grid(lo: int, hi: int) -> np.ndarray:
    """lo·√2^k up to hi, rounded to integers."""
    k = np.arange(0, int(math.floor(2 * math.log2(hi / lo) + 1e-9)) + 1)
    return np.unique(np.round(lo * np.sqrt(2.0) ** k).astype(int))


def times(cfg) -> np.ndarray:
    """The logged GD steps: integers on a log grid from 1 to 10^t_max_log10."""
    return np.unique(np.round(np.logspace(0, cfg.t_max_log10, cfg.t_points))).astype(np.int64)


def _rows(seed, step, split, metric, value, width=0, data=0, draw=0, compute=0.0) -> dict:
    value = np.atleast_1d(np.asarray(value, dtype=np.float64))
    n = value.size

    def col(x, dtype):
        return np.broadcast_to(np.asarray(x, dtype=dtype), (n,)).copy()

    return {
        "seed": col(seed, np.int64),
        "step": col(step, np.int64),
        "split": np.array([split] * n),
        "metric": np.array([metric] * n),
        "value": value,
        "width": col(width, np.int64),
        "data": col(data, np.int64),
        "draw": col(draw, np.int64),
        "compute": col(compute, np.float64),
    }


def _problem(cfg, point, seed):
    m = point["features"]
    lam = dy.spectrum(m, point["b"], point["spectrum"], cfg.exp_scale)
    w = dy.target(m, point["a"], point["b"], point["spectrum"], seed)
    return lam, w, float((lam * w**2).sum())


def sweep(cfg, point, seed, on_block) -> list[dict]:
    """L(t, N) on the width grid (nested projections), L(∞, N), L(t, ∞), and the compute frontier."""
    lam, w, l0 = _problem(cfg, point, seed)
    widths = sqrt2_grid(cfg.n_min, point["n_max"])
    g, v = dy.gram(int(widths[-1]), lam, w, (seed, 0), cfg.block, on_block)
    t = times(cfg)
    out = [_rows(seed, t, "test", "loss", dy.loss_infinite_width(lam, w, cfg.lr, t))]
    modes = []
    for n in widths:
        mu, c2 = dy.modes(g, v, int(n))
        modes.append((mu, c2))
        out.append(_rows(seed, t, "test", "loss", dy.loss_curve(mu, c2, l0, cfg.lr, t), width=n))
        out.append(_rows(seed, 0, "test", "loss_limit", dy.loss_limit(mu, c2, l0), width=n))
    if point["spectrum"] == "power":
        computes = np.logspace(cfg.compute_log10[0], cfg.compute_log10[1], cfg.compute_points)
        c, n_star, l_star = an.frontier(
            widths, lambda i, tt: dy.loss_curve(*modes[i], l0, cfg.lr, tt), computes
        )
        for j in range(len(c)):
            out.append(_rows(seed, j, "frontier", "n_star", n_star[j], compute=c[j]))
            out.append(_rows(seed, j, "frontier", "l_star", l_star[j], compute=c[j]))
    return out


def data_sweep(cfg, point, seed, on_block) -> list[dict]:
    """N = ∞, finite P: L(∞, P) on the data grid and test/train curves at the recorded P, per data draw."""
    lam, w, l0 = _problem(cfg, point, seed)
    sizes = sqrt2_grid(cfg.p_min, cfg.p_max)
    t = times(cfg)
    out = []
    for r in range(cfg.draws_per_seed):
        gp, y, s, q = dy.data_modes(lam, w, int(sizes[-1]), (seed, 1, r), cfg.block, on_block)
        for p in sizes:
            curves = int(p) in cfg.gap_sizes
            test, train, test_inf = dy.data_curves(gp, y, s, q, int(p), l0, cfg.lr, t if curves else None)
            out.append(_rows(seed, 0, "test", "loss_limit", test_inf, data=p, draw=r))
            if curves:
                out.append(_rows(seed, t, "test", "loss", test, data=p, draw=r))
                out.append(_rows(seed, t, "train", "loss", train, data=p, draw=r))
    return out


def correction(cfg, point, seed, on_block) -> list[dict]:
    """ΔL(t, N) = L(t, N) − L(t, ∞) at the early and late times, per replica (B5)."""
    m = cfg.corr_features
    lam = dy.spectrum(m, point["b"])
    t = np.asarray(cfg.corr_times, dtype=np.int64)
    widths = [
        int(n) for n in 2 ** np.arange(round(math.log2(cfg.n_min)), round(math.log2(cfg.corr_n_max)) + 1)
    ]
    out = []
    for r in range(cfg.corr_replicas):
        w = dy.target(m, point["a"], point["b"], "power", seed * 1000 + r)
        l0 = float((lam * w**2).sum())
        g, v = dy.gram(widths[-1], lam, w, (seed, 2, r), cfg.block, on_block)
        inf = dy.loss_infinite_width(lam, w, cfg.lr, t)
        for n in widths:
            dl = dy.loss_curve(*dy.modes(g, v, n), l0, cfg.lr, t) - inf
            out.append(_rows(seed, t, "test", "dloss", dl, width=n, draw=r))
    return out


def check(cfg, point, seed, on_block) -> list[dict]:
    """B0: max |closed form − explicit GD| over ``check_steps`` steps, width sweep and kernel (finite-P) GD."""
    lam, w, l0 = _problem(cfg, point, seed)
    n, steps = cfg.check_width, cfg.check_steps
    g, v = dy.gram(n, lam, w, (seed, 3), cfg.block, on_block)
    mu, c2 = dy.modes(g, v, n)
    t = np.arange(steps + 1)
    diff = np.abs(dy.loss_curve(mu, c2, l0, cfg.lr, t) - dy.explicit_gd(g, v, n, l0, cfg.lr, steps)).max()
    gp, y, s, q = dy.data_modes(lam, w, n, (seed, 4), cfg.block, on_block)
    test = dy.data_curves(gp, y, s, q, n, l0, cfg.lr, t)[0]
    diff_p = np.abs(test - dy.explicit_kernel_gd(gp, y, s, q, n, l0, cfg.lr, steps)).max()
    return [_rows(seed, steps, "check", "gd_max_abs_diff", max(diff, diff_p))]


PARTS = {"sweep": sweep, "data": data_sweep, "corr": correction, "check": check}


def blocks(cfg, point, part: str) -> int:
    """Column blocks a unit generates (the progress count)."""
    per = math.ceil(point["features"] / cfg.block)
    if part == "data":
        return per * cfg.draws_per_seed
    if part == "corr":
        return math.ceil(cfg.corr_features / cfg.block) * cfg.corr_replicas
    if part == "check":
        return 2 * per
    return per
