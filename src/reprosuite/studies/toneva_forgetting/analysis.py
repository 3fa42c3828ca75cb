"""Per-seed statistics of the forgetting runs and the removal retrainings (``extract``), and the removal table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.metrics.stats import spearman

from . import forgetting as fg

FULL_DATA = {"mode": "full", "fraction": 0.0, "repeat": 0}  # the member columns of the forgetting runs
SHUFFLED = {"mode": "shuffled", "fraction": 0.0, "repeat": 0}  # the shuffled-label forgetting runs (control)
CIFAR10 = "resnet18_cifar10"  # the grid point of ResNet-18 on CIFAR-10 (full tier)
POINTS = ("cnn", "mlp", CIFAR10)  # the grid points with forgetting runs


def example_counts(runs: pd.DataFrame, point: str, mode: str = "full") -> pd.DataFrame:
    """(seed × example) forgetting counts of one architecture's forgetting runs (``mode`` full or shuffled)."""
    sel = runs[
        (runs["point"] == point)
        & (runs["mode"] == mode)
        & (runs["split"] == "example")
        & (runs["metric"] == "forgetting_count")
    ]
    return sel.pivot_table(index="seed", columns="step", values="value", aggfunc="first")


def _count_stats(point: str, seed, c: np.ndarray, ok: np.ndarray) -> list[tuple]:
    disp = fg.dispersion_index(c[ok]) if ok.sum() >= 2 else math.nan
    return [
        (point, seed, "unforgettable_frac", float(np.mean(ok & (c == 0)))),
        (point, seed, "never_learned_frac", float(np.mean(~ok))),
        (point, seed, "mean_count", float(c[ok].mean()) if ok.any() else math.nan),
        (point, seed, "forgotten_2plus_frac", float(np.mean(ok & (c >= 2)))),
        (point, seed, "dispersion_index", disp),
        (point, seed, "tail_ratio_2", fg.tail_ratio(c[ok], 2) if ok.any() else math.nan),
    ]


def extract(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per seed: the forgetting statistics of each architecture's forgetting runs (member columns as the runs:
    mode full or shuffled), and the test accuracy of every run.

    ``unforgettable_all_runs`` is the official script's statistic, one value over all the seeds' runs (stored
    under the first seed): the share of examples whose counts summed over the runs are 0, i.e. learned and never
    forgotten in every run; ``unforgettable_frac`` is the per-run share."""
    stats = []
    learned_runs = runs[(runs["split"] == "example") & (runs["metric"] == "learned")]
    modes = [FULL_DATA, SHUFFLED]
    counts = {(p, m["mode"]): example_counts(runs, p, m["mode"]) for p in POINTS for m in modes}
    for (point, mode), table in counts.items():
        if table.empty:
            continue
        member = FULL_DATA if mode == "full" else SHUFFLED
        sel = learned_runs[(learned_runs["point"] == point) & (learned_runs["mode"] == mode)]
        learned = sel.pivot_table(index="seed", columns="step", values="value")
        rows = []
        for seed, c in table.iterrows():
            rows += _count_stats(point, seed, c.to_numpy(), learned.loc[seed].to_numpy() == 1)
        rows.append(
            (point, table.index.min(), "unforgettable_all_runs", fg.unforgettable_in_all(table.to_numpy()))
        )
        seeds = list(table.index)
        for a, b in zip(seeds, seeds[1:] + seeds[:1], strict=True):
            if a != b:
                rows.append((point, a, "spearman_next_seed", spearman(table.loc[a], table.loc[b])))
        stats.append(pd.DataFrame(rows, columns=["point", "seed", "metric", "value"]).assign(**member))
    rows = []
    cnn, mlp, shuffled = counts["cnn", "full"], counts["mlp", "full"], counts["cnn", "shuffled"]
    for other, metric in ((mlp, "spearman_cnn_mlp"), (shuffled, "spearman_cnn_shuffled")):
        if not cnn.empty and not other.empty:
            for seed in cnn.index.intersection(other.index):
                rows.append(("cnn", seed, metric, spearman(cnn.loc[seed], other.loc[seed])))
    stats.append(pd.DataFrame(rows, columns=["point", "seed", "metric", "value"]).assign(**FULL_DATA))
    acc = runs[(runs["split"] == "test") & (runs["metric"] == "accuracy")]
    member = ["point", *FULL_DATA, "seed"]
    last = (
        acc.sort_values("step")
        .groupby(member)["value"]
        .agg(lambda v: float(v.to_numpy()[-cfg.acc_window :].mean()))
    )
    accuracy = last.reset_index().assign(metric="test_acc")
    return pd.concat([*stats, accuracy], ignore_index=True)[["point", "seed", *FULL_DATA, "metric", "value"]]


def removal_table(metrics: pd.DataFrame, point: str = "cnn") -> pd.DataFrame:
    """Rows (seed, mode, fraction, accuracy) of a point's removal runs (the CNN's or ResNet-18's), averaged over
    removal repeats; fraction 0 is the full-data forgetting run; mode ``control`` = removal ordered by the
    shuffled-label runs' counts."""
    sel = metrics[(metrics["point"] == point) & (metrics["metric"] == "test_acc")]
    full = sel[sel["mode"] == "full"]
    table = pd.concat(
        [
            full.assign(mode="selected"),
            full.assign(mode="random"),
            sel[sel["mode"].isin(["selected", "random", "control"])],
        ],
        ignore_index=True,
    ).rename(columns={"value": "accuracy"})[["seed", "mode", "fraction", "accuracy"]]
    return table.groupby(["seed", "mode", "fraction"], as_index=False)["accuracy"].mean()
