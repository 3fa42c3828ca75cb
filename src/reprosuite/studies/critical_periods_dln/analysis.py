"""Per-seed metrics and claim values of the critical-periods study: the deprived pathway's share of the final
map, the matrix-completion test losses, and each claim's value with its negative control's (numpy/pandas only)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL
from reprosuite.metrics.stats import spearman

from .pathways import NO_DEFICIT, target_svd


def _final(runs: pd.DataFrame) -> pd.DataFrame:
    """Last logged value per (point, variant, seed, split, metric); diverged members get NaN."""
    last = runs[runs.step == runs.groupby(["point", "variant"]).step.transform("max")]
    dead = last[(last.metric == "diverged_at") & last.value.notna()].set_index(["point", "variant", "seed"])
    last = last[last.metric != "diverged_at"].copy()
    bad = last.set_index(["point", "variant", "seed"]).index.isin(dead.index)
    last.loc[bad, "value"] = np.nan
    return last


MEMBER_KEYS = (
    "deficit_start",
    "T_critical",
)  # typed member columns: pathway runs have the first, completion the second


def extract(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per seed, with typed columns depth and deficit_start (pathways) or T_critical (completion): ``share_b`` and
    ``learned`` (the deprived pathway's share and the fraction of the task learned), ``test_loss`` (final)."""
    last = _final(runs.assign(**{k: runs.get(k, math.nan) for k in MEMBER_KEYS}))
    strengths = target_svd()[1][:8]
    rows = []
    paths = last[last.deficit_start.notna()]
    for (point, depth, start, seed), g in paths.groupby(["point", "depth", "deficit_start", "seed"]):
        k = g.set_index("metric").value
        ka = np.array([k[f"Ka{a}"] for a in range(8)])
        kb = np.array([k[f"Kb{a}"] for a in range(8)])
        key = (int(depth), int(start), math.nan)
        rows.append((point, seed, "share_b", *key, float(kb.sum() / (ka + kb).sum())))
        rows.append((point, seed, "learned", *key, float((ka + kb).sum() / strengths.sum())))
    done = last[last.T_critical.notna() & (last.split == "test") & (last.metric == "loss")]
    for row in done.itertuples():
        key = (int(row.depth), math.nan, int(row.T_critical))
        rows.append((row.point, row.seed, "test_loss", *key, float(row.value)))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "depth", *MEMBER_KEYS, "value"])


def _wide(metrics: pd.DataFrame, metric: str, key: str) -> pd.DataFrame:
    """``metric`` as a table indexed by (seed, depth) with one column per value of the member column ``key``."""
    sel = metrics[metrics.metric == metric]
    sel = sel.assign(depth=sel.depth.astype(int), x=sel[key].astype(int))
    return sel.pivot_table(index=["seed", "depth"], columns="x", values="value", dropna=False)


# A final-loss curve whose whole range over T_critical is below this (in units of the target's mean square, the
# test loss of predicting zero) is flat: differences of rounding size (depth 1 in float64 drifts by ~1e-7) are
# no critical period, whatever their rank order.
FLAT = 1e-3


def _trend(t_critical, loss) -> float:
    """Spearman(T_critical, final test loss); a flat curve (range < ``FLAT``) has no rising trend: 0."""
    loss = np.asarray(loss, dtype=float)
    if np.isfinite(loss).all() and np.ptp(loss) < FLAT:
        return 0.0
    return spearman(t_critical, loss)


def _pathway_claims(g: pd.DataFrame, early: int, late: int) -> dict[str, float]:
    """One seed's pathway claims (table indexed by depth, a column per deficit start) and their controls."""
    deep = g[g.index >= 2]

    def deprived(start):  # max over depths >= 2 of share_b
        return float(deep[start].max()) if len(deep) else math.nan

    def strengthened(start):  # max over depths >= 2 of share_b(D) / share_b(1)
        return float(deep[start].max() / g[start].get(1, math.nan)) if len(deep) else math.nan

    def kept(start):  # min over depths of share_b(start) / share_b(no deficit)
        return float((g[start] / g[NO_DEFICIT]).min())

    none = NO_DEFICIT in g.columns
    return {
        "early_deficit_deprives": deprived(early),
        "depth_strengthens_deficit": strengthened(early),
        "late_deficit_harmless": kept(late) if none else math.nan,
        **(
            {
                f"early_deficit_deprives{CONTROL}": deprived(NO_DEFICIT),
                f"depth_strengthens_deficit{CONTROL}": strengthened(NO_DEFICIT),
                f"late_deficit_harmless{CONTROL}": kept(early),
            }
            if none
            else {}
        ),
    }


def _completion_claims(g: pd.DataFrame, depth: int) -> dict[str, float]:
    """One seed's matrix-completion values at ``depth`` (table indexed by depth, a column per T_critical)."""
    if depth not in g.index:
        return {"trend": math.nan, "harm": math.nan}
    final = g.loc[depth]
    ok = final.notna().all()
    return {
        "trend": _trend(final.index, final.values) if ok else math.nan,
        "harm": float(final[final.index.max()] - final[final.index.min()]),
    }


def measure(metrics: pd.DataFrame, cfg) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    share = _wide(metrics, "share_b", "deficit_start")
    if not share.empty:
        early, late = cfg.deficit_starts[0], cfg.deficit_starts[-1]
        per_seed = [_pathway_claims(g.droplevel("seed"), early, late) for _, g in share.groupby(level="seed")]
        for key in per_seed[0]:
            out[key] = [v[key] for v in per_seed]
    loss = _wide(metrics, "test_loss", "T_critical")
    if not loss.empty:
        deepest = loss.index.get_level_values("depth").max()
        for _, g in loss.groupby(level="seed"):
            g = g.droplevel("seed")
            # the claim at the deepest net; its control, the depth-1 factorisation, through the same code
            for suffix, depth in (("", deepest), (CONTROL, 1 if deepest != 1 else math.nan)):
                got = _completion_claims(g, depth)
                out.setdefault(f"completion_critical_period{suffix}", []).append(got["trend"])
                out.setdefault(f"completion_depth{suffix}", []).append(got["harm"])
    return out
