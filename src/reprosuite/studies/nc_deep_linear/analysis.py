"""Per-seed metrics and claim values of the neural-collapse study (numpy/pandas only): the final NC metrics per
(depth, variant, seed), the rank order and absolute lengths of the imbalanced classifier rows, and each claim's
worst case over depths with its negative control's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprosuite.claims import CONTROL

from . import collapse
from .mlp_claims import MLP_MEASURES, MLP_VARIANTS

MLP_METRICS = ("nc1", "nc1_h", "nc2_i", "nc2_etf", "nc3_i", "nc3_etf", "mse", "accuracy")

NC_METRICS = ("loss", "nc1", "nc2", "nc3")


def final_state(runs: pd.DataFrame) -> pd.DataFrame:
    """The last logged row of every (point, variant, seed, metric); members that diverged get NaN."""
    last = runs[runs["step"] == runs.groupby("point")["step"].transform("max")]
    diverged = last[(last["metric"] == "diverged_at") & last["value"].notna()][["point", "variant", "seed"]]
    last = last[last["metric"] != "diverged_at"].copy()
    bad = last.set_index(["point", "variant", "seed"]).index.isin(
        diverged.set_index(["point", "variant", "seed"]).index
    )
    last.loc[bad, "value"] = np.nan
    return last


def _norms(frame: pd.DataFrame, prefix: str, n_classes: int) -> np.ndarray:
    values = frame.set_index("metric")["value"]
    return np.array([values.get(f"{prefix}_{j}", np.nan) for j in range(n_classes)])


def extract(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per (depth point, seed): ``<variant>.<nc metric>`` at the last step; for imbalanced runs also the
    size–norm rank correlation and the largest relative error of the row norms of W_M ⋯ W_1 against s_k^M."""
    last = final_state(runs)
    first = runs[(runs["step"] == 0) & (runs["metric"] == "nc1") & runs["variant"].isin(MLP_VARIANTS)]
    at_init = first.set_index(["point", "variant", "seed"])["value"]
    rows = []
    for (point, variant, seed), member in last.groupby(["point", "variant", "seed"]):
        values = member.set_index("metric")["value"]
        if variant in MLP_VARIANTS:  # the MLP (MNIST, CIFAR-10): its final metrics, and NC1 at initialisation
            rows.extend(
                (point, seed, f"{variant}.{name}", float(values.get(name, np.nan))) for name in MLP_METRICS
            )
            rows.append(
                (point, seed, f"{variant}.nc1_init", float(at_init.get((point, variant, seed), np.nan)))
            )
            continue
        for name in NC_METRICS:
            rows.append((point, seed, f"{variant}.{name}", float(values.get(name, np.nan))))
        if variant in ("imbalanced", "balanced"):
            # rank order against the imbalanced sizes; for balanced runs (equal sizes: nothing to order) it
            # is the negative control of the rank-order claim
            w_norms = _norms(member, "w_norm", cfg.n_classes)
            rank = collapse.size_rank_correlation(w_norms, cfg.imbalanced_sizes)
            rows.append((point, seed, f"{variant}.rank_corr", rank if np.isfinite(w_norms).all() else np.nan))
        if variant == "imbalanced":
            depth = int(point.removeprefix("M"))
            theory, _ = collapse.closed_form_norms(cfg.imbalanced_sizes, depth, cfg.lambda_w, cfg.lambda_h)
            rows.append(
                (point, seed, "imbalanced.w_norm_rel_err", float(np.max(np.abs(w_norms / theory - 1))))
            )
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


# claim id -> (metrics pooled per seed, reduction over depths and pooled metrics, the control's metrics)
_MEASURES = {
    "nc1_balanced": (
        ("balanced.nc1", "balanced_bias.nc1"),
        "max",
        ("balanced_wd0.nc1", "balanced_bias_wd0.nc1"),
    ),
    "nc2_orthogonal": (("balanced.nc2",), "max", ("balanced_wd0.nc2",)),
    "nc3_orthogonal": (("balanced.nc3",), "max", ()),
    "nc2_etf": (("balanced_bias.nc2",), "max", ("balanced_bias_wd0.nc2",)),
    "nc3_etf": (("balanced_bias.nc3",), "max", ()),
    "imbalanced_rank_order": (("imbalanced.rank_corr",), "min", ("balanced.rank_corr",)),
    "imbalanced_closed_form": (("imbalanced.nc2",), "max", ()),
    "imbalanced_closed_form_norms": (("imbalanced.w_norm_rel_err",), "max", ()),
    **MLP_MEASURES,
}


def _worst(metrics: pd.DataFrame, names: tuple[str, ...], how: str) -> list[float] | None:
    """Per seed, the worst case over depths and the pooled metrics (NaN anywhere makes the seed NaN)."""
    sel = metrics[metrics["metric"].isin(names)]
    if sel.empty:
        return None
    grouped = sel.groupby("seed")["value"]
    worst = grouped.max() if how == "max" else grouped.min()
    worst[grouped.apply(lambda v: v.isna().any())] = np.nan
    return worst.sort_index().tolist()


def measure(metrics: pd.DataFrame, cfg) -> dict[str, list[float]]:
    """Per claim, one value per seed: the worst case over depths; its control's the same way."""
    out = {}
    for claim_id, (names, how, control) in _MEASURES.items():
        for key, metric_names in ((claim_id, names), (f"{claim_id}{CONTROL}", control)):
            values = _worst(metrics, metric_names, how) if metric_names else None
            if values is not None:
                out[key] = values
    return out
