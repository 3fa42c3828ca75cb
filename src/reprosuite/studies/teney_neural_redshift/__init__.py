"""Teney et al. 2024 — Neural Redshift: random networks are not random functions.

Paper: "Neural Redshift: Random Networks are not Random Functions" (Teney, Nicolicioiu, Hartmann, Abbasnejad),
arXiv:2403.02241 (CVPR 2024); official code ArmandNM/neural-redshift.

Claims (SUITE.md): random ReLU networks stay low-frequency at any depth and weight scale; tanh / sin /
Gaussian networks grow complex with weight magnitude and depth. Pass rules: ReLU mean-frequency max/min ≤ 1.15
across amplitudes and depths; the others ≥ 1.3× at large amplitude and depth (ours: mean frequency at the
largest amplitude and depth over that at the smallest amplitude and the same depth, per seed).

Looked up (search tool, corpus ``code``, repository ArmandNM/neural-redshift): ``scripts/visualization.py``
(MLP 2 → 64 × L → 1 with L = 1…7 hidden layers, evaluated on a 300 × 300 grid over [−1, 1]², weights and
biases ``uniform(−a, a)`` with a log-spaced in [0.1, 100], 15 values; spectrum = |rfft2| of the output with the
constant term zeroed and the first H//2 + 1 rows kept, fed to ``get_mean_frequency_2d``),
``inductive_biases/spectral_analysis.py`` (radial bins, mean bin over the largest; reimplemented in
:mod:`reprosuite.studies.teney_neural_redshift.spectral`), ``inductive_biases/models/activations.py`` (sin, Gaussian = exp(−x²)),
``inductive_biases/complexity.py`` (Lempel–Ziv phrase count). Unverified: the √(3/fan_in) factor on the weights
(SUITE.md; the code we read draws weights and biases from U(−a, a) without it; we scale the weights, not the
biases, by √(3/fan_in) so that a = 1 is the variance-preserving scale) and the binarisation used for the LZ
complexity (ours: threshold at the median, row-major order; recorded, no claim).

Protocol. Training-free: each job evaluates random networks of one activation on the grid, all depths ×
amplitudes × seeds; every seed draws one set of base weights U(−1, 1) per depth and the amplitudes scale it
(common random numbers across amplitudes). smoke: 32² grid, width 32, depths 1/2, a ∈ {0.5, 8}, 2 seeds.
quick: 64² grid over [−1, 1]², width 64, depths 1–4, a ∈ {0.5, 1, 2, 4, 8}, 8 seeds (evaluation is cheap;
more seeds shrink the draw-to-draw spread that the ReLU max/min picks up). full: the official 300² grid, depths
1–7, 15 amplitudes log-spaced in [0.1, 100], 10 seeds.

Measured at quick tier (2 cores shared with other workers, load 10–15): mean frequency, seed means — ReLU
0.214 at depth 1 for every a (exactly: a depth-1 ReLU net is positively homogeneous), 0.227–0.230 at depth 2,
0.207–0.214 at depth 3, 0.198–0.219 at depth 4 (per-cell standard error 0.004–0.011); tanh depth 4: 0.203 (a 0.5)
→ 0.315 (a 8); sin depth 4: 0.202 → 0.508 (a 4) / 0.546 (a 8); Gaussian depth 4: 0.224 → 0.470 (SUITE.md
calibration: ReLU .21–.22, tanh .31 vs .20, sin .51–.55). Claims: ``relu_invariant`` 1.162 (> 1.15) — *fail*:
the high depth-2 row is shared by all amplitudes of the same draws (draw-to-draw spread, ≈ 2.5 standard
errors from depth 4) and at depth ≥ 3 the frequency falls ~8 % from a = 0.5 to 8 (the biases U(−a, a) shrink
relative to the a^L growth of the weight path); with 3 seeds the same measurement gave 1.146 (pass), so the
verdict sits on the threshold. ``tanh_grows`` 1.55 [1.48, 1.63], ``sin_grows`` 2.71 [2.59, 2.84],
``gaussian_grows`` 2.14 [1.85, 2.44]: pass. LZ complexity (normalised) is flat for ReLU (0.50–0.57) and rises to
1.1 / 1.6 / 1.6 for tanh / sin / Gaussian at depth 4, a = 8. Cost: training 28 CPU-s (4 jobs, 5–9 CPU-s each,
mostly process start-up), whole workflow 55 CPU-s user+sys and 3 min 50 s wall under that load; smoke ≈ 10 s wall.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

from . import spectral

PAPER = Paper(
    title="Neural Redshift: Random Networks are not Random Functions",
    authors="Teney, Nicolicioiu, Hartmann, Abbasnejad",
    year=2024,
    arxiv="2403.02241",
    venue="CVPR 2024",
    code="https://github.com/ArmandNM/neural-redshift",
)

COST = {"smoke": "~10 s wall", "quick": "~55 CPU-s (28 CPU-s training)", "full": "not measured"}

ACTIVATIONS = ("relu", "tanh", "sin", "gaussian")


@dataclass(frozen=True)
class Config:
    seeds: int
    activations: tuple[str, ...]  # §3 / Fig. 2: ReLU vs tanh, sin, Gaussian (official activations.py)
    depths: tuple[int, ...]  # hidden layers (official 1…7)
    amplitudes: tuple[float, ...]  # a of U(−a, a) (official log-spaced 0.1…100)
    width: int = 64  # hidden units (official EMBEDDING_DIM)
    resolution: int = 64  # grid points per axis (official 300)
    extent: float = 1.0  # grid over [−extent, extent]² (official ±1)
    sample_side: int = 64  # stored sample functions are strided down to about this many points per side


TIERS = {
    "smoke": Config(
        seeds=2, activations=ACTIVATIONS, depths=(1, 2), amplitudes=(0.5, 8.0), width=32, resolution=32
    ),
    "quick": Config(
        seeds=8, activations=ACTIVATIONS, depths=(1, 2, 3, 4), amplitudes=(0.5, 1.0, 2.0, 4.0, 8.0)
    ),
    "full": Config(
        seeds=10,
        activations=ACTIVATIONS,
        depths=(1, 2, 3, 4, 5, 6, 7),
        amplitudes=tuple(float(a) for a in np.logspace(-1, 2, 15)),
        resolution=300,
        sample_side=100,
    ),
}

RELU_MAX_RATIO = 1.15  # SUITE.md
GROWTH_MIN_RATIO = 1.3  # SUITE.md

CLAIMS = (
    Claim(
        "relu_invariant",
        "Random ReLU networks keep the same low frequency at every weight amplitude and depth.",
        metric="max / min over amplitudes × depths of the seed-averaged mean frequency (one value: each depth "
        "is a different random draw, so per-seed ratios mix draw-to-draw spread into the depth comparison)",
        rule=Rule.at_most(RELU_MAX_RATIO),
        paper_text="ReLU networks' spectrum barely changes with weight magnitude and depth (Fig. 2)",
    ),
    *(
        Claim(
            f"{act}_grows",
            f"Random {act} networks become higher-frequency with weight amplitude at depth.",
            metric="mean frequency at the largest amplitude and depth / at the smallest amplitude and same "
            "depth, per seed",
            rule=Rule.at_least(GROWTH_MIN_RATIO),
            paper_text=f"{act}: complexity grows with weight magnitude and depth (Fig. 2)",
        )
        for act in ("tanh", "sin", "gaussian")
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The input grid (P, 2), row-major with x varying fastest (official meshgrid, indexing "xy")."""
    axis = np.linspace(-cfg.extent, cfg.extent, cfg.resolution)
    gx, gy = np.meshgrid(axis, axis, indexing="xy")
    return {"grid": np.stack([gx.ravel(), gy.ravel()], axis=1)}


def grid(cfg: Config) -> dict[str, dict]:
    for act in cfg.activations:
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; expected one of {ACTIVATIONS}")
    return {act: {"activation": act} for act in cfg.activations}


def variant(depth: int, amplitude: float) -> str:
    return f"d{depth}-a{amplitude:g}"


def parse_variant(name: str) -> tuple[int, float]:
    d, a = name.split("-a")
    return int(d.removeprefix("d")), float(a)


# --- evaluation -------------------------------------------------------------------------------------------


def activation_fn(name: str):
    import torch

    return {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sin": torch.sin,
        "gaussian": lambda z: torch.exp(-(z**2)),
    }[name]


def random_functions(x, depth: int, width: int, amplitudes, gens, act: str):
    """Outputs (A, S, P) of random MLPs 2 → width × depth → 1 on inputs x (P, 2), float64.

    Member (a, s): weights a·√(3/fan_in)·U(−1, 1) and biases a·U(−1, 1), the base draws U(−1, 1) from
    generator s (shared by all amplitudes).
    """
    import torch

    phi = activation_fn(act)
    dims = [2] + [width] * depth + [1]
    base = []
    for g in gens:
        layers = []
        for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
            w = torch.rand(fan_in, fan_out, generator=g, dtype=torch.float64) * 2 - 1
            b = torch.rand(fan_out, generator=g, dtype=torch.float64) * 2 - 1
            layers.append((w * math.sqrt(3.0 / fan_in), b))
        base.append(layers)
    w_stack = [torch.stack([m[i][0] for m in base]).to(x.device) for i in range(len(dims) - 1)]
    b_stack = [torch.stack([m[i][1] for m in base]).to(x.device) for i in range(len(dims) - 1)]
    outs = []
    for a in amplitudes:
        h = x.expand(len(gens), *x.shape)
        for i, (w, b) in enumerate(zip(w_stack, b_stack, strict=True)):
            h = torch.baddbmm(a * b[:, None, :], h, a * w)
            if i < len(w_stack) - 1:
                h = phi(h)
        outs.append(h[..., 0])
    return torch.stack(outs)


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import trainer

    act = point["activation"]
    x = torch.as_tensor(data["grid"], dtype=torch.float64, device=device)
    n = cfg.resolution
    stride = max(1, math.ceil(n / cfg.sample_side))
    rows, samples = [], []
    progress = trainer.Progress(len(cfg.depths), f"redshift {act}")
    for k, depth in enumerate(cfg.depths):
        gens = layers.generators([1000 * s + depth for s in seeds])
        with torch.no_grad():
            out = random_functions(x, depth, cfg.width, cfg.amplitudes, gens, act).cpu().numpy()
        out = out.reshape(len(cfg.amplitudes), len(seeds), n, n)  # [a, s, y index, x index]
        mean_freq = spectral.mean_frequency_2d(out)
        for i, amp in enumerate(cfg.amplitudes):
            for j, seed in enumerate(seeds):
                name = variant(depth, amp)
                rows.append((name, seed, "mean_frequency", float(mean_freq[i, j])))
                rows.append((name, seed, "lz_complexity", spectral.lz_complexity(out[i, j])))
                if j == 0 and depth in (cfg.depths[0], cfg.depths[-1]) and i in (0, len(cfg.amplitudes) - 1):
                    img = out[i, j, ::stride, ::stride]
                    samples.append(
                        pd.DataFrame(
                            {
                                "variant": name,
                                "seed": seed,
                                "step": np.arange(img.size),
                                "split": "function",
                                "metric": "output",
                                "value": img.ravel(),
                            }
                        )
                    )
        progress.update(k + 1, force=k + 1 == len(cfg.depths))
    table = pd.DataFrame(rows, columns=["variant", "seed", "metric", "value"])
    table.insert(2, "step", 0)
    table.insert(3, "split", "random_init")
    return pd.concat([table, *samples], ignore_index=True)


# --- metrics ----------------------------------------------------------------------------------------------


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    sel = runs[runs["split"] == "random_init"].copy()
    sel["metric"] = sel["metric"] + "." + sel["variant"]
    return sel[["point", "seed", "metric", "value"]].reset_index(drop=True)


def frequency_table(metrics: pd.DataFrame, name: str = "mean_frequency") -> pd.DataFrame:
    """Rows (activation, seed, depth, amplitude, value) of one metric."""
    sel = metrics[metrics["metric"].str.startswith(name + ".")].copy()
    parsed = sel["metric"].str.removeprefix(name + ".").map(parse_variant)
    sel["depth"] = [d for d, _ in parsed]
    sel["amplitude"] = [a for _, a in parsed]
    return sel.rename(columns={"point": "activation"})[["activation", "seed", "depth", "amplitude", "value"]]


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    table = frequency_table(metrics)
    out: dict[str, list[float]] = {}
    relu = table[table["activation"] == "relu"]
    if not relu.empty:
        heat = relu.groupby(["depth", "amplitude"])["value"].mean()
        out["relu_invariant"] = [float(heat.max() / heat.min())]
    for act in ("tanh", "sin", "gaussian"):
        sel = table[table["activation"] == act]
        if sel.empty:
            continue
        deep = sel[sel["depth"] == sel["depth"].max()]
        hi = deep[deep["amplitude"] == deep["amplitude"].max()].set_index("seed")["value"]
        lo = deep[deep["amplitude"] == deep["amplitude"].min()].set_index("seed")["value"]
        out[f"{act}_grows"] = (hi / lo).sort_index().tolist()
    return out


# --- figures ----------------------------------------------------------------------------------------------


def draw_heatmaps(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    table = frequency_table(metrics)
    acts = [a for a in cfg.activations if a in set(table["activation"])]
    fig, axes = plt.subplots(1, len(acts), figsize=(3.6 * len(acts), 3.4), squeeze=False)
    vmax = float(table["value"].max())
    for ax, act in zip(axes[0], acts, strict=True):
        grid_ = table[table["activation"] == act].pivot_table(
            index="amplitude", columns="depth", values="value", aggfunc="mean"
        )
        grid_.index = [f"{a:.3g}" for a in grid_.index]
        sns.heatmap(
            grid_,
            ax=ax,
            vmin=0,
            vmax=vmax,
            cmap="Spectral_r",
            annot=len(grid_) <= 8,
            fmt=".2f",
            cbar=ax is axes[0][-1],
            annot_kws={"fontsize": 7},
        )
        ax.invert_yaxis()
        ax.set(title=act, xlabel="hidden layers", ylabel="weight amplitude a")
    fig.suptitle(f"mean frequency of random networks (mean of {table['seed'].nunique()} seeds)")
    fig.tight_layout()
    return fig


def draw_samples(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt

    sel = runs[runs["split"] == "function"]
    acts = [a for a in cfg.activations if a in set(sel["point"])]
    variants = sorted(sel["variant"].unique(), key=parse_variant)
    fig, axes = plt.subplots(
        len(acts), len(variants), figsize=(2.2 * len(variants), 2.2 * len(acts)), squeeze=False
    )
    for r, act in enumerate(acts):
        for c, name in enumerate(variants):
            ax = axes[r][c]
            img = (
                sel[(sel["point"] == act) & (sel["variant"] == name)].sort_values("step")["value"].to_numpy()
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if img.size == 0:
                continue
            side = int(round(math.sqrt(img.size)))
            ext = [-cfg.extent, cfg.extent, -cfg.extent, cfg.extent]
            ax.imshow(img.reshape(side, side), cmap="gray", origin="lower", extent=ext, interpolation="none")
            depth, amp = parse_variant(name)
            if r == 0:
                ax.set_title(f"{depth} layer{'s' if depth > 1 else ''}, a = {amp:g}", fontsize=8)
            if c == 0:
                ax.set_ylabel(act)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "mean_frequency_heatmaps",
        "Paper Fig. 2: mean frequency of random networks' outputs over a 2-D input grid, by weight amplitude and "
        "depth, per activation: flat for ReLU, rising with amplitude and depth for tanh, sin and Gaussian. Ours: "
        "the same measure (official definition) averaged over seeds, one panel per activation.",
        draw_heatmaps,
    ),
    Figure(
        "sample_functions",
        "Paper Fig. 1/3: functions implemented by random networks over [−1, 1]² — smooth for ReLU at every "
        "scale, increasingly oscillatory for the others at large amplitude and depth. Ours: one seed's random "
        "network per activation (rows) at the smallest and largest depth and amplitude (columns).",
        draw_samples,
    ),
)
