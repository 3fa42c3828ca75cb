"""Final accuracies per member, the retraining table, the critical fraction and the per-seed claim values of the
ungrokking study (numpy and pandas only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprosuite.metrics import curves
from reprosuite.metrics.stats import spearman

WEIGHT_DECAY = 1.0  # the study's weight decay (``Config.weight_decay``), for tables without a ``wd`` column


def final_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (phase, fraction, weight decay, seed): final train and test accuracy and the last step."""
    acc = runs[runs["metric"] == "accuracy"]
    if "wd" not in acc.columns:
        acc = acc.assign(wd=WEIGHT_DECAY)
    keys = ["phase", "fraction", "wd"]
    last = acc[acc["step"] == acc.groupby(keys)["step"].transform("max")]
    out = last.pivot_table(index=[*keys, "seed"], columns="split", values="value").reset_index()
    steps = acc.groupby(keys)["step"].max().rename("last_step")
    return out.join(steps, on=keys)


def retrain_table(metrics: pd.DataFrame, wd: float | None = None) -> pd.DataFrame:
    """One row per (seed, f2) with final ``train`` and ``test`` accuracy after retraining with weight decay
    ``wd`` (the study's, :data:`WEIGHT_DECAY`, by default)."""
    wd = WEIGHT_DECAY if wd is None else wd
    sel = metrics[metrics["metric"].isin(["final_train_accuracy", "final_test_accuracy"])]
    if "wd" in sel.columns:
        sel = sel[sel["wd"] == wd]
    sel = sel.assign(split=sel["metric"].str.split("_").str[1])
    if sel.empty:
        return pd.DataFrame(columns=["seed", "f2", "test", "train"])
    return sel.pivot_table(index=["seed", "f2"], columns="split", values="value").reset_index()


def critical_fraction(f2: np.ndarray, test: np.ndarray, level: float = 0.5) -> float:
    """The f2 at which the (f2-sorted) test accuracy first reaches ``level`` (linear interpolation), the smallest
    f2 when it starts there, :data:`~reprosuite.metrics.curves.NEVER` when it never does."""
    order = np.argsort(f2)
    return curves.first_reaching(np.asarray(f2)[order], np.asarray(test)[order], level, interpolate=True)


def seed_values(table: pd.DataFrame) -> dict[str, list[float]]:
    """Per seed: the lowest test accuracy among fitted f2 (1.0 when none fitted), the test accuracy at the largest
    and at the smallest f2, and Spearman(f2, test)."""
    out = {"ungrokking": [], "largest": [], "smallest": [], "monotone": []}
    for _, g in table.groupby("seed"):
        fitted = g[g["train"] >= 1.0]
        out["ungrokking"].append(float(fitted["test"].min()) if not fitted.empty else 1.0)
        out["largest"].append(float(g.loc[g["f2"].idxmax(), "test"]))
        out["smallest"].append(float(g.loc[g["f2"].idxmin(), "test"]))
        out["monotone"].append(spearman(g["f2"].to_numpy(), g["test"].to_numpy()))
    return out
