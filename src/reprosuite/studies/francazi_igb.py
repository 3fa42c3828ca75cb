"""Francazi, Lucchi, Baity-Jesi 2024 — Initial Guessing Bias: untrained networks favour one class.

Paper: "Initial Guessing Bias: How Untrained Networks Favor Some Classes", arXiv:2306.00809 (ICML 2024); no
official code is linked from the paper or indexed (paperswithcode: "No code implementations yet").

Claims (SUITE.md): untrained networks without biases put most inputs into one class when the activation is not
centred (ReLU), and depth (and max-pooling) amplify this; centred activations (linear, tanh) do not. The
observable is G₀, the fraction of a data set that an untrained binary classifier assigns to class 0, measured
over many initialisations: without IGB every init splits the data evenly up to sampling noise, so G₀ is
Binomial(n, ½)/n with standard deviation √(1/(4n)) (0.0158 at n = 1000: our "binomial value"); with IGB the
distribution of G₀ over inits widens and puts mass near 0 and 1 ("extreme" inits: max(G₀, 1 − G₀) > 0.9).

Pass rules (SUITE.md): linear and tanh std(G₀) ≤ 2 × √(1/(4n)) at every depth; ReLU std(G₀) rises with depth
(every step 1 → 3 → 6 increases it) and ≥ 20 % of inits are extreme at depth ≥ 3.

Looked up (search tool, corpus ``pages``): the paper's HTML (https://arxiv.org/html/2306.00809v6 and v2):
abstract (IGB depends on activation, max-pooling and depth, with no explicit biases), Fig. 1 (CIFAR-10 dog/cat
through an untrained 2-layer CNN with pooling: tanh gives G₀ ≈ ½, ReLU piles G₀ near 0 and 1), Fig. 2 (an MLP
with one output node per class, the class = the largest output). Not verified (the pages' excerpts stop before
§3–5): the exact data (we use centred isotropic Gaussian inputs, i.i.d. per repetition), the weight law (we use
N(0, 1/fan_in), bias-free, as "in the absence of explicit biases" requires), the max-pooling placement (ours:
non-overlapping max-pool of kernel k after the activation of every hidden layer, width 256 → 256/k) and the
paper's numbers. SUITE.md's calibrated values (std .016 for linear/tanh; ReLU .22/.32/.37, extreme
5/30/47 %) are the suite's, not the paper's.

Protocol. One repetition ("seed") = a fresh Gaussian data set (n points, d dims) and ``inits`` independent
untrained nets per architecture, all inits one ensemble (members = inits, batched matmuls; chunks bound the
memory); G₀ is computed per init; the per-repetition statistics (std of G₀ over inits, fraction extreme) are the
claim values, so the 95 % CI is over repetitions. The depths of one activation share their first layers (the
depth-6 net continues the depth-3 one; each depth has its own output layer), so one forward pass serves all
depths and the depth comparison is paired. Grid: one point per activation (linear, tanh, relu), plus a
``maxpool`` point (SUITE.md gives no pass rule for it: figure and metrics only). Nothing is trained (no
optimiser, so no ``trainer.fit``). smoke: n 200, d 20, width 64, 40 inits, depths 1/3, 2 repetitions. quick:
SUITE.md's n 1000, d 50, width 256, 200 inits, depths 1/3/6, tanh + max-pool 4 at depths 1/3, and 5
repetitions (with 3, the ReLU claims were inconclusive: depth rise +.050 [−.012, +.112], extreme .29 [.16, .42]
— the t-interval of 3 repetitions is too wide, not the effect too small). full: 1000 inits, 10 repetitions,
depths 1/2/3/4/6/8, max-pool kernels 2 and 4 after linear/tanh/relu at depths 1/3/6 (grid checked; one point
ran with a reduced override).

Measured at quick (workflow run, 5 repetitions; binomial reference √(1/(4n)) = 0.0158):
- linear_no_igb: max over depths of std(G₀)/binomial 1.06 [1.01, 1.11] — pass (std .017/.016/.016 at depth
  1/3/6; no extreme init);
- tanh_no_igb: 1.06 [0.99, 1.13] — pass (std .016/.015/.017);
- relu_depth_amplifies: smallest rise of std(G₀) +.052 [+.030, +.075] — pass (std .228/.323/.376 at depth
  1/3/6; SUITE.md calibrated .22/.32/.37);
- relu_extreme: extreme inits at depth ≥ 3 (min over depths) .29 [.24, .34] — pass (8 / 29 / 50 % at depth
  1/3/6; calibrated 5/30/47 %).
- max-pool (kernel 4) after tanh — centred activation — creates IGB: std .38 / .46 and 50 / 81 % extreme at
  depth 1 / 3 (as the paper says max-pooling does; not a graded claim).
Cost (2 cores shared with ~5 other helpers, load 6–14): training 120 CPU-s over 4 jobs (17–39 CPU-s each),
whole workflow 146 CPU-s user+sys, 10 min wall at that load (≈ 1–1.5 min estimated on an idle 2-core machine,
not measured: none was idle). Smoke: ≈ 10 CPU-s for the in-process smoke test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Initial Guessing Bias: How Untrained Networks Favor Some Classes",
    authors="Francazi, Lucchi, Baity-Jesi",
    year=2024,
    arxiv="2306.00809",
    venue="ICML 2024",
    code="",
)

COST = {
    "smoke": "~10 CPU-s (smoke test, in-process)",
    "quick": "~120 CPU-s training (4 jobs), 146 CPU-s workflow; ~1 min wall idle",
    "full": "not measured (1000 inits × 10 repetitions: ~30 CPU-min, or seconds on a GPU)",
}

EXTREME = 0.9  # an init is extreme when max(G₀, 1 − G₀) > 0.9 (SUITE.md)
DATA_STREAM = 4_242  # tags the data-set seeds, apart from the weight streams


@dataclass(frozen=True)
class Config:
    seeds: int  # independent repetitions of the whole experiment (fresh data and inits)
    n: int  # data points per repetition (centred isotropic Gaussian; SUITE.md)
    dim: int  # input dimension d
    width: int  # hidden width of every layer
    inits: int  # untrained networks per architecture and repetition
    activations: tuple[str, ...]  # §3–4: centred (linear, tanh) vs non-centred (relu)
    depths: tuple[int, ...]  # number of hidden layers (§5: depth amplifies IGB)
    pool_activations: tuple[str, ...]  # max-pool variants (§4: max-pooling creates/amplifies IGB)
    pool_depths: tuple[int, ...]
    pool_kernels: tuple[int, ...]  # non-overlapping max-pool kernel after each hidden activation
    chunk: int = 50  # inits per batched forward pass (memory bound)


TIERS = {
    "smoke": Config(
        seeds=2,
        n=200,
        dim=20,
        width=64,
        inits=40,
        activations=("linear", "tanh", "relu"),
        depths=(1, 3),
        pool_activations=("tanh",),
        pool_depths=(1,),
        pool_kernels=(4,),
    ),
    "quick": Config(
        seeds=5,
        n=1000,
        dim=50,
        width=256,
        inits=200,
        activations=("linear", "tanh", "relu"),
        depths=(1, 3, 6),
        pool_activations=("tanh",),
        pool_depths=(1, 3),
        pool_kernels=(4,),
    ),
    "full": Config(
        seeds=10,
        n=1000,
        dim=50,
        width=256,
        inits=1000,
        activations=("linear", "tanh", "relu"),
        depths=(1, 2, 3, 4, 6, 8),
        pool_activations=("linear", "tanh", "relu"),
        pool_depths=(1, 3, 6),
        pool_kernels=(2, 4),
    ),
}

CLAIMS = (
    Claim(
        "linear_no_igb",
        "Untrained linear networks split the data evenly: std(G₀) over inits ≤ 2 × the binomial √(1/(4n)).",
        metric="max over depths of std(G₀) / √(1/(4n)), per repetition",
        rule=Rule.at_most(2.0),
        paper_value=1.0,
        paper_text="centred activations give no IGB: G₀ concentrated at ½ (SUITE.md: std .016 = binomial)",
    ),
    Claim(
        "tanh_no_igb",
        "Untrained tanh networks split the data evenly: std(G₀) over inits ≤ 2 × the binomial √(1/(4n)).",
        metric="max over depths of std(G₀) / √(1/(4n)), per repetition",
        rule=Rule.at_most(2.0),
        paper_value=1.0,
        paper_text="tanh: no IGB (Fig. 1 top; SUITE.md: std .016)",
    ),
    Claim(
        "relu_depth_amplifies",
        "ReLU networks show IGB that grows with depth: std(G₀) increases at every step of depth.",
        metric="min over consecutive depths of the increase of std(G₀), per repetition",
        rule=Rule.at_least(0.0),
        paper_text="depth amplifies IGB when present (§5; SUITE.md calibrated std .22/.32/.37 at depth 1/3/6)",
    ),
    Claim(
        "relu_extreme",
        "At depth ≥ 3, ≥ 20 % of ReLU inits are extreme (max(G₀, 1 − G₀) > 0.9).",
        metric="min over depths ≥ 3 of the fraction of extreme inits, per repetition",
        rule=Rule.at_least(0.2),
        paper_text="ReLU piles G₀ near 0 and 1 (Fig. 1 bottom; SUITE.md calibrated 30 / 47 % at depth 3 / 6)",
    ),
)


def binomial_std(n: int) -> float:
    """Std of G₀ without IGB: a fair coin per data point, Binomial(n, ½)/n."""
    return math.sqrt(1.0 / (4 * n))


# --- data and grid ----------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """One centred isotropic Gaussian data set per repetition: x (seeds, n, d)."""
    xs = [
        np.random.default_rng([seed, DATA_STREAM]).standard_normal((cfg.n, cfg.dim)).astype(np.float32)
        for seed in range(cfg.seeds)
    ]
    return {"x": np.stack(xs)}


def architectures(cfg: Config, point: dict) -> list[dict]:
    """The architecture families of one grid point: (activation, pool kernel) with the depths read off it."""
    if point["kind"] == "plain":
        return [{"activation": point["activation"], "pool": 1, "depths": tuple(sorted(cfg.depths))}]
    return [
        {"activation": a, "pool": k, "depths": tuple(sorted(cfg.pool_depths))}
        for a in cfg.pool_activations
        for k in cfg.pool_kernels
    ]


def variant_name(activation: str, depth: int, pool: int) -> str:
    return f"{activation}-d{depth}" + (f"-pool{pool}" if pool > 1 else "")


def grid(cfg: Config) -> dict[str, dict]:
    points = {a: {"kind": "plain", "activation": a} for a in cfg.activations}
    if cfg.pool_activations and cfg.pool_depths and cfg.pool_kernels:
        points["maxpool"] = {"kind": "maxpool"}
    return points


def member_seed(seed: int, family: str, init: int) -> int:
    """The weight seed of one init: a function of (repetition, architecture family, init index) only."""
    tag = [ord(c) for c in family]
    return int(np.random.SeedSequence([int(seed), int(init), *tag]).generate_state(1)[0])


# --- "training": forward passes of untrained nets ---------------------------------------------------------


def g0_untrained(x, activation: str, pool: int, depths, width: int, seeds: list[int], device) -> dict:
    """{depth: G₀ per member (S,)}: the fraction of rows of x (n, d) whose class-0 output beats class 1.

    Bias-free nets d → width (→ act → max-pool k)ˣdepth → 2, weights N(0, 1/fan_in), one generator per member.
    The depths share their first layers: the depth-D net is the depth-D' net (D' < D) continued, each depth
    read out by its own freshly drawn output layer (so one forward pass serves every depth).
    """
    import torch

    from reprosuite.engine.models import layers

    gens = layers.generators(seeds)
    h, fan_in, out = x, x.shape[-1], {}
    for depth in range(1, max(depths) + 1):
        w = layers.init_weight((width, fan_in), "gaussian_fan_in", gens).to(
            device=device, dtype=torch.float32
        )
        h = layers.ACTIVATIONS[activation](layers.ensemble_matmul(h, w))
        if pool > 1:
            s, b, f = h.shape
            h = h.view(s, b, f // pool, pool).amax(-1)
        fan_in = h.shape[-1]
        if depth in depths:
            head = layers.init_weight((2, fan_in), "gaussian_fan_in", gens).to(
                device=device, dtype=torch.float32
            )
            logits = layers.ensemble_matmul(h, head)
            out[depth] = (logits[..., 0] > logits[..., 1]).double().mean(-1)
    return out


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    parts = []
    with torch.no_grad():
        for fam in architectures(cfg, point):
            if cfg.width % fam["pool"]:
                raise ValueError(f"width {cfg.width} is not a multiple of the max-pool kernel {fam['pool']}")
            family = variant_name(fam["activation"], 0, fam["pool"])
            for seed in seeds:
                x = torch.as_tensor(data["x"][seed], device=device)
                g0: dict[int, list] = {d: [] for d in fam["depths"]}
                for start in range(0, cfg.inits, cfg.chunk):
                    members = [
                        member_seed(seed, family, i) for i in range(start, min(start + cfg.chunk, cfg.inits))
                    ]
                    chunk = g0_untrained(
                        x, fam["activation"], fam["pool"], fam["depths"], cfg.width, members, device
                    )
                    for d, v in chunk.items():
                        g0[d].append(v.cpu().numpy())
                for d, values in g0.items():
                    parts.append(
                        pd.DataFrame(
                            {
                                "variant": variant_name(fam["activation"], d, fam["pool"]),
                                "seed": seed,
                                "step": np.arange(cfg.inits),  # the init index
                                "split": "init",
                                "metric": "g0",
                                "value": np.concatenate(values),
                            }
                        )
                    )
    return pd.concat(parts, ignore_index=True)


# --- metrics ----------------------------------------------------------------------------------------------


def parse_variant(variant: str) -> tuple[str, int, int]:
    """``relu-d3`` → (relu, 3, 1); ``tanh-d1-pool4`` → (tanh, 1, 4)."""
    parts = variant.split("-")
    pool = int(parts[2].removeprefix("pool")) if len(parts) > 2 else 1
    return parts[0], int(parts[1].removeprefix("d")), pool


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    rows = []
    g0 = runs[(runs["split"] == "init") & (runs["metric"] == "g0")]
    for (point, variant, seed), grp in g0.groupby(["point", "variant", "seed"]):
        v = grp["value"].to_numpy()
        rows.append((point, seed, f"std_g0.{variant}", float(np.std(v, ddof=1))))
        rows.append((point, seed, f"extreme.{variant}", float(np.mean(np.maximum(v, 1 - v) > EXTREME))))
        rows.append((point, seed, f"mean_g0.{variant}", float(np.mean(v))))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def stat_table(metrics: pd.DataFrame, stat: str) -> pd.DataFrame:
    """Rows (seed, activation, depth, pool, value) of one statistic (``std_g0``, ``extreme``, ``mean_g0``)."""
    sel = metrics[metrics["metric"].str.startswith(f"{stat}.")].copy()
    parsed = [parse_variant(m.removeprefix(f"{stat}.")) for m in sel["metric"]]
    sel["activation"] = [p[0] for p in parsed]
    sel["depth"] = [p[1] for p in parsed]
    sel["pool"] = [p[2] for p in parsed]
    return sel[["seed", "activation", "depth", "pool", "value"]]


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    std = stat_table(metrics, "std_g0")
    std = std[std["pool"] == 1]
    ext = stat_table(metrics, "extreme")
    ext = ext[ext["pool"] == 1]
    ref = binomial_std(cfg.n)
    for act in ("linear", "tanh"):
        sel = std[std["activation"] == act]
        if not sel.empty:
            out[f"{act}_no_igb"] = (sel.groupby("seed")["value"].max() / ref).sort_index().tolist()
    relu = std[std["activation"] == "relu"].pivot_table(index="seed", columns="depth", values="value")
    if relu.shape[1] >= 2:
        rises = relu[sorted(relu.columns)].diff(axis=1).iloc[:, 1:]
        out["relu_depth_amplifies"] = rises.min(axis=1).sort_index().tolist()
    deep = ext[(ext["activation"] == "relu") & (ext["depth"] >= 3)]
    if not deep.empty:
        out["relu_extreme"] = deep.groupby("seed")["value"].min().sort_index().tolist()
    return out


# --- figures ----------------------------------------------------------------------------------------------


def draw_histograms(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    g0 = runs[(runs["split"] == "init") & (runs["metric"] == "g0")].copy()
    parsed = [parse_variant(v) for v in g0["variant"]]
    g0["row"] = [a if k == 1 else f"{a} + max-pool {k}" for a, _, k in parsed]
    g0["depth"] = [d for _, d, _ in parsed]
    rows = sorted(g0["row"].unique(), key=lambda r: (" + " in r, r))
    depths = sorted(g0["depth"].unique())
    fig, axes = plt.subplots(
        len(rows), len(depths), figsize=(2.6 * len(depths), 1.9 * len(rows)), squeeze=False, sharex=True
    )
    bins = np.linspace(0, 1, 41)
    for i, row in enumerate(rows):
        for j, depth in enumerate(depths):
            ax = axes[i][j]
            sel = g0[(g0["row"] == row) & (g0["depth"] == depth)]
            if sel.empty:
                ax.set_axis_off()
                continue
            sns.histplot(sel["value"], bins=bins, stat="probability", ax=ax, color=f"C{i}")
            v = sel["value"].to_numpy()
            ext = np.mean(np.maximum(v, 1 - v) > EXTREME)
            ax.set_title(
                f"{row}, depth {depth}\nstd {v.std(ddof=1):.3f}, extreme {100 * ext:.0f}%", fontsize=8
            )
            ax.set(xlabel="G₀" if i == len(rows) - 1 else "", ylabel="fraction of inits" if j == 0 else "")
            ax.axvline(0.5, color="k", lw=0.5, ls=":")
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "g0_histograms",
        "Paper Fig. 1: histograms of G₀ (fraction of inputs an untrained net assigns to class 0) over inits — "
        "concentrated at ½ for tanh, piled near 0 and 1 for ReLU (with pooling). Ours: G₀ over all inits and "
        "repetitions on centred Gaussian data, per activation (rows; max-pool rows use a kernel-k max-pool "
        "after every hidden activation) and depth (columns); titles give std(G₀) (binomial reference "
        "√(1/(4n))) and the share of extreme inits, max(G₀, 1 − G₀) > 0.9.",
        draw_histograms,
    ),
)
