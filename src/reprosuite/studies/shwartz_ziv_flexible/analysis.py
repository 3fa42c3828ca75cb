"""Per-seed metrics, claims and figures of the EMC study (no torch)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule, Sample, per_seed
from reprosuite.study import Figure

LABELS = ("true", "random")
MODELS = (
    "mlp",
    "mlp_s",
    "mlp_l",
    "mlp_deep",
    "mlp_gd",
    "mlp_sigmoid",
    "cnn_s",
    "cnn",
    "cnn_l",
)  # F4b's models
FULL = ("full",)


def extract(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per (point, seed): per label kind the best EMC over the learning rates (ties: the smallest lr), whether
    any lr's search was censored, the test accuracies at the best lr's EMC; the search's consistency, params."""
    e = runs[runs["split"] == "emc"]
    piv = e.pivot_table(
        index=["point", "seed", "labels", "lr"], columns="metric", values="value", dropna=False
    )
    piv = piv.reset_index().sort_values(["point", "seed", "labels", "lr"])
    rows = []
    for (point, seed), g in piv.groupby(["point", "seed"], sort=True):
        params = float(g["params"].iloc[0])
        rows += [
            (point, seed, "consistent", float(g["consistent"].min())),
            (point, seed, "flags_ok", float(g["flags_ok"].min())),
            (point, seed, "params", params),
        ]
        for lab in LABELS:
            h = g[g["labels"] == lab]
            if h.empty:
                continue
            best = h.loc[h["emc"].idxmax()]
            rows += [
                (point, seed, f"emc_{lab}", float(best["emc"])),
                (point, seed, f"censored_{lab}", float(h["emc_censored"].max())),
                (point, seed, f"best_lr_{lab}", float(best["lr"])),
                (point, seed, f"test_acc_{lab}", float(best["test_acc"])),
                (point, seed, f"test_acc_shuf_{lab}", float(best["test_acc_shuf"])),
                (point, seed, f"emc_per_param_{lab}", float(best["emc"]) / params),
            ]
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def log_ratio(metrics, a: tuple[str, str], b: tuple[str, str], per_param: bool = False) -> Sample:
    """Per seed log EMC_a − log EMC_b (per parameter if ``per_param``), a = (point, labels): the EMCs of the
    budgeted procedure, exact (budget hits are reported by the ``censored_*`` metrics, not used here)."""
    ea, eb = per_seed(metrics, f"emc_{a[1]}", a[0]), per_seed(metrics, f"emc_{b[1]}", b[0])
    if ea.empty or eb.empty:
        return Sample(())
    values = []
    for s in ea.index.intersection(eb.index):
        v = math.log(ea[s]) - math.log(eb[s]) if ea[s] > 0 and eb[s] > 0 else math.nan
        if per_param:
            v -= math.log(per_seed(metrics, "params", a[0])[s] / per_seed(metrics, "params", b[0])[s])
        values.append(v)
    return Sample(tuple(values))


def gap_rank_correlation(metrics, shuffled: bool = False) -> list[float]:
    """Per seed, Spearman ρ over the models between (EMC_true − EMC_random)/EMC_true and test accuracy."""
    col = "test_acc_shuf_true" if shuffled else "test_acc_true"
    m = metrics[metrics["point"].isin(MODELS)]
    if m.empty:
        return []
    wide = m.pivot_table(index=["seed", "point"], columns="metric", values="value")
    out = []
    for _, g in wide.groupby(level="seed"):
        g = g.dropna(subset=["emc_true", "emc_random", col])
        g = g[g["emc_true"] > 0]
        if len(g) < 3:
            continue
        gap = (g["emc_true"] - g["emc_random"]) / g["emc_true"]
        out.append(float(gap.rank().corr(g[col].rank())))
    return out


def measure(metrics: pd.DataFrame, cfg) -> dict:
    ok = metrics[metrics["metric"].isin(["consistent", "flags_ok"])]
    cons = ok.groupby("seed")["value"].min().sort_index()
    return {
        "F0": cons.tolist(),
        "F4a": log_ratio(metrics, ("mlp", "true"), ("mlp", "random")),
        "F4a/control": log_ratio(metrics, ("noise", "true"), ("noise", "random")),
        "F2": log_ratio(metrics, ("cnn", "random"), ("mlp", "random"), per_param=True),
        "F2/control": log_ratio(metrics, ("cnn_permuted", "random"), ("mlp", "random"), per_param=True),
        "F3": log_ratio(metrics, ("mlp", "random"), ("mlp_gd", "random")),
        "F3/control": log_ratio(metrics, ("rf", "random"), ("rf_gd", "random")),
        "F4b": gap_rank_correlation(metrics),
        "F4b/control": gap_rank_correlation(metrics, shuffled=True),
        "F5": log_ratio(metrics, ("mlp", "random"), ("mlp_sigmoid", "random")),
        "F5/control": log_ratio(metrics, ("rf", "random"), ("rf_sigmoid", "random")),
    }


UNVERIFIED = "direction from the abstract; the paper's numbers were not read (unverified)"
CLAIMS = (
    Claim(
        id="F0",
        kind="sanity",
        statement="every EMC search log is monotone; step-budget hits are flagged (the EMC is then a lower bound)",
        metric="per seed: 1 if every search of every grid point is monotone and flags its budget hits, else 0",
        rule=Rule.at_least(1.0),
        paper_text="EMC definition (Nakkiran et al. 2020)",
    ),
    Claim(
        id="F4a",
        statement="networks fit more correctly labelled than randomly labelled samples: EMC(true) > EMC(random)",
        metric="per seed: log EMC(true labels) − log EMC(random labels), MLP + SGD",
        rule=Rule.at_least(math.log(1.2)),
        paper_text=f"finding (4); {UNVERIFIED}",
        control="Gaussian-noise inputs with the same labels: labels carry no information about inputs",
    ),
    Claim(
        id="F2",
        statement="CNNs are more parameter-efficient than MLPs, even on randomly labelled data",
        metric="per seed: log (EMC/params)_CNN − log (EMC/params)_MLP, random labels, best lr each",
        rule=Rule.at_least(0.0),
        paper_text=f"finding (2); {UNVERIFIED}",
        tiers=FULL,
        control="the CNN on inputs with pixels permuted identically for all samples (no locality)",
    ),
    Claim(
        id="F3",
        statement="SGD finds minima that fit more training data than full-batch gradient descent",
        metric="per seed: log EMC_SGD − log EMC_GD, MLP, random labels, best lr each",
        rule=Rule.at_least(0.0),
        paper_text=f"finding (3); {UNVERIFIED}",
        tiers=FULL,
        control="readout of a frozen random ReLU layer (convex): SGD vs GD reach the same optimum",
    ),
    Claim(
        id="F4b",
        statement="the true-vs-random EMC gap predicts generalisation across models",
        metric="per seed: Spearman ρ over 9 models of (EMC_true − EMC_random)/EMC_true vs test accuracy",
        rule=Rule.at_least(0.0),
        paper_text=f"finding (4); {UNVERIFIED}",
        tiers=FULL,
        control="the same ρ against a shuffled test labelling (no generalisable signal)",
    ),
    Claim(
        id="F5",
        statement="ReLU networks find minima that fit more data than sigmoid networks",
        metric="per seed: log EMC_ReLU − log EMC_sigmoid, MLP, random labels, best lr each",
        rule=Rule.at_least(0.0),
        paper_text=f"finding (5); {UNVERIFIED}",
        tiers=FULL,
        control="readout of a frozen random layer, ReLU vs sigmoid features (the hidden layer is not trained)",
    ),
)


def draw_emc_vs_params(runs, metrics, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows = []
    for lab in LABELS:
        e = metrics[metrics["metric"] == f"emc_{lab}"].set_index(["point", "seed"])["value"]
        p = metrics[metrics["metric"] == "params"].set_index(["point", "seed"])["value"]
        for key, v in e.items():
            rows.append({"condition": key[0], "labels": lab, "params": p[key], "EMC": max(v, 1)})
    df = pd.DataFrame(rows, columns=["condition", "labels", "params", "EMC"])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    if not df.empty:
        sns.scatterplot(df, x="params", y="EMC", hue="condition", style="labels", ax=ax)
        lim = [min(df["params"].min(), df["EMC"].min()) / 2, max(df["params"].max(), df["EMC"].max()) * 2]
        ax.plot(lim, lim, "k--", lw=0.8, label="EMC = params")
    ax.set(xscale="log", yscale="log", xlabel="trainable parameters", ylabel="EMC (best lr)")
    return fig


def draw_search_traces(runs, metrics, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = runs[runs["split"] == "search"]
    wide = s.pivot_table(index=["point", "seed", "labels", "lr", "step"], columns="metric", values="value")
    wide = wide.reset_index()
    wide["run"] = wide["point"] + " " + wide["labels"] + " s" + wide["seed"].astype(str)
    wide["outcome"] = np.where(
        wide["fitted"] > 0, "fitted", np.where(wide["censored"] > 0, "censored", "failed")
    )
    fig, ax = plt.subplots(figsize=(6.5, 4))
    if not wide.empty:
        sns.lineplot(
            wide, x="step", y="n", hue="run", ax=ax, legend=False, lw=0.7, units="lr", estimator=None
        )
        sns.scatterplot(wide, x="step", y="n", style="outcome", ax=ax, color="k", s=18)
    ax.set(yscale="log", xlabel="search stage", ylabel="training-set size n")
    return fig


def draw_gap_vs_test(runs, metrics, cfg):
    import matplotlib.pyplot as plt
    import seaborn as sns

    m = metrics[metrics["point"].isin(MODELS)]
    wide = m.pivot_table(index=["point", "seed"], columns="metric", values="value").reset_index()
    fig, ax = plt.subplots(figsize=(5, 4))
    if {"emc_true", "emc_random", "test_acc_true"} <= set(wide.columns):
        wide["gap"] = (wide["emc_true"] - wide["emc_random"]) / wide["emc_true"].clip(lower=1)
        sns.scatterplot(wide, x="gap", y="test_acc_true", hue="point", ax=ax)
    ax.set(xlabel="(EMC_true − EMC_random) / EMC_true", ylabel="test accuracy at the EMC")
    return fig


FIGURES = (
    Figure(
        "emc_vs_params",
        "Paper: EMC vs parameter count per architecture, true vs random labels. Ours: EMC (best lr) per seed "
        "against trainable parameters, log–log, with the EMC = params line.",
        draw_emc_vs_params,
    ),
    Figure(
        "search_traces",
        "Ours: the EMC search per member — training-set size per stage (doubling, then bisection) with the "
        "outcome of each trial (fitted, failed when stationary, censored at the step budget).",
        draw_search_traces,
    ),
    Figure(
        "gap_vs_test",
        "Paper: the true-vs-random EMC gap predicts generalisation. Ours: normalised gap vs test accuracy of "
        "the true-label model at its EMC, per model and seed (F4b).",
        draw_gap_vs_test,
        tiers=FULL,
    ),
)
