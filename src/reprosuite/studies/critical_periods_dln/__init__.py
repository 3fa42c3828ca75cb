"""Kleinman, Achille & Soatto 2023 — critical learning periods in deep linear networks.

Paper: "Critical Learning Periods Emerge Even in Deep Linear Networks", ICLR 2024, arXiv:2308.12221; official
code mjkleinman/CriticalPeriodDeepLinearNets (``multipath/`` and ``matrixcompletion/``).

Claims (SUITE.md):
(a) Two pathways a, b of depth D each map the same input to a summed output. A temporary deficit to pathway b
    early in training lets pathway a permanently take over the task, more strongly with depth; the same deficit
    late in training has little effect (paper Fig. 2, official ``analytical_and_sgd_final.py``).
(b) Matrix completion with a deep linear factorisation: pre-training on another low-rank task for T_critical
    steps before switching to the target task harms the final test loss, more with T_critical and with depth
    (official ``matrixcompletion/main.py``, ``plot_depth_subset.py``).

Pass rules (ours, SUITE.md): share_b = Σ_α K_bα / Σ_α (K_aα + K_bα), the fraction of the learned map held by the
deprived pathway at the end (K_pα = u_αᵀ Ω_p v_α, Ω_p pathway p's end-to-end map, (u_α, v_α) the singular vectors
of Σyx); early-deficit share_b ≤ 0.1 at every depth ≥ 2 and ≤ ½ of the depth-1 value; late-deficit share_b ≥ 3×
the early-deficit share_b at every depth; deepest matrix-completion net: Spearman(T_critical, final test loss)
≥ 0.8 and its range over T_critical more than 2× the depth-1 range (measured as range_deep − 2·range_1 ≥ 0:
the depth-1 range is ~0, so a ratio would be erratic or infinite). The paper reports curves, not numbers: without a
deficit share_b = ½; a depth-1 net only loses what the deficit window lets pathway a gain first.

Looked up in the official code (commit 2800293): ``multipath/configs/multipath-depth4-analytical.yaml`` — depth 4
per pathway, width 100, lr (dt) 0.01, 1000 epochs, deficit of 150 epochs starting at 0, 400, 750, ε = 0.01 with
10 % noise (``add_noise_diag_scale``); ``analysis_diag.py`` — X = I₈, the 8 × 15 hierarchical targets
``Y_default``, loss ½‖output − Y‖² (MSELoss(sum)·½), full-batch SGD; ``multichannel_net_diag.py`` — "diagonal"
init in the SVD basis of Σyx (W_1 = R·diag(k^{1/D})·Vᵀ, W_l = R·diag(k^{1/D})·Rᵀ, W_D = U·diag(k^{1/D})·Rᵀ with one
random orthogonal R and one k shared by both pathways, k = ε·sort(1 + 0.1·N(0, 1)) descending), and the deficit
``gate_path`` = pathway b's output detached (it still adds to the output but gets no gradient);
``k_trajectory`` — the per-mode ODE it is compared to. ``matrixcompletion/configs/variable-depth.yaml`` — 100×100,
rank 10 (pre-training task) → 5 (target), 2000 observed entries shared by both tasks, hidden 100, SGD lr 0.2,
Gaussian init with ‖W_e2e‖_F ≈ 10⁻³·√n, T_critical ∈ {0, 1k, 5k, 10k, 20k, …, 100k}, then 30k steps; train loss
½·mean over observed entries, test loss mean over all entries of the target matrix; depths 1, 2, 3.

Implementation. Pathways: real width-``width`` linear pathways (``width`` 8 at smoke: the smallest width that holds
all 8 modes, whose GD is the official per-mode ODE); members = deficit start × seed, one ``fit`` per depth; the
deficit is a per-member ``torch.where(blocked, Ω_b.detach(), Ω_b)``. The network's output for the 8 one-hot items
is Ω_a + Ω_b itself (X = I). Matrix completion (:mod:`reprosuite.studies.critical_periods_dln.completion`): every T_critical
run of a seed shares its pre-training trajectory, so one ensemble (members = seeds) pre-trains on the first task
with snapshots at each T_critical, and a second ensemble (members = T_critical × seed) continues from them on the
target task; the final test loss is taken after the continuation.

Deviations. Quick matrix completion is 50×50, rank 5 → 3 with 600 observed entries (the official ratios of
observations to degrees of freedom, 1.05 and 2.05) and SGD lr 1.0 instead of 0.2: at lr 0.2 a 50×50 depth-3
factorisation leaves its initial plateau only after ~4k steps, so of the SUITE grid T ∈ {0, 2k, 5k, 10k} the 2k
switch equals no pre-training and the 5k switch lands mid-escape (prototype, 5 seeds: Spearman 0.8, 0.8, 0.6,
0.6, 0.8). At lr 1.0 the escape takes ~1k steps and the grid spans the phases of the official grid (the official
100×100 run escapes at ~9k of 0–100k steps); prototype Spearman 0.8, 1, 1, 1, 1. The full tier is the official
configuration (lr 0.2, 100×100).

Measured (quick, 5 seeds): early-deficit share_b 0.0248 at depth ≥ 2 (depth 1: 0.116), ratio to depth 1 0.214,
late/early ≥ 4.31 — all pass; matrix completion: Spearman 0.88 [0.55, 1.21] inconclusive (per seed 1, 1, 0.4, 1,
1: past the escape the final losses saturate, and the order of the saturated T = 2k, 5k, 10k runs is seed noise —
seed 2 ends at 0.67, 0.52, 0.57), range excess 0.76 [0.24, 1.29] pass. Full tier, run once on an H100 (official
matrix-completion config, 9 T_critical values, 30k steps after the switch): all five claims pass, Spearman 0.91
[0.84, 0.99]; depth 3 stays at ~0 loss up to T = 10k (before its escape) and rises to 0.4–1.3 from T = 20k on,
depth 2 rises from T = 5k and saturates at ~0.58, depth 1 is flat at ~0.8.

Runtime (2 shared CPU cores under load 5–9 from other jobs, 1 thread per job, train jobs 2 at a time): smoke
107 s wall (training 8.3 + 8.6 CPU-s; each of the 8 jobs also pays ~3 s of start-up); quick 162 s wall (training
22 CPU-s pathways, 14/23/33 CPU-s matrix completion depth 1/2/3). Full on one H100: 8 min (matrix completion
depth 3 is the longest job).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule
from reprosuite.metrics.stats import spearman
from reprosuite.study import Figure, Paper

PAPER = Paper(
    title="Critical Learning Periods Emerge Even in Deep Linear Networks",
    authors="Kleinman, Achille, Soatto",
    year=2023,
    arxiv="2308.12221",
    venue="ICLR 2024",
    code="https://github.com/mjkleinman/CriticalPeriodDeepLinearNets",
)

# Measured cost per tier (2-core CPU unless stated; see the docstring), shown by `reprosuite list`.
COST = {"smoke": "~17 CPU-s training", "quick": "~92 CPU-s training", "full": "8 min on one H100"}

# Official Y_default (analysis_diag.py): 8 items × 15 hierarchical features (root, 2 branches, 4 pairs, 8 leaves).
TARGETS = np.concatenate(
    [np.ones((8, 1)), np.kron(np.eye(2), np.ones((4, 1))), np.kron(np.eye(4), np.ones((2, 1))), np.eye(8)],
    axis=1,
)
N_DIAG = 100  # official: diag_dim = 100 noisy initial strengths, sorted; the 8 largest seed the modes


@dataclass(frozen=True)
class Config:
    seeds: int
    # Two pathways (§3, Fig. 2; official multipath-depth4-analytical.yaml)
    depths: tuple[int, ...]  # weight layers per pathway
    width: int  # pathway_width (official 100)
    lr: float  # dt = SGD learning rate (official 0.01)
    epochs: int  # T (official 1000), full-batch steps
    init: float  # eps: initial strength of every mode
    init_noise: float  # add_noise_diag_scale: relative noise of the initial strengths
    deficit_length: int  # official 150 epochs
    deficit_starts: tuple[int, ...]  # official (0, 400, 750): early, middle, late
    log_every: int
    dtype: str
    # Matrix completion (§5; official matrixcompletion/configs/variable-depth.yaml)
    mc_depths: tuple[int, ...]
    mc_size: int  # matrix_dim = hidden_dim
    mc_rank_pretrain: int  # rank1: the task trained on for T_critical steps
    mc_rank_target: int  # rank2: the task trained on afterwards and tested on
    mc_observed: int  # ntrain_samples, shared by both tasks
    mc_lr: float  # sgd_lr
    mc_init: float  # init_scale: ‖W_e2e(0)‖_F ≈ mc_init·√n
    mc_switches: tuple[int, ...]  # T_critical_list
    mc_continue: int  # epoch_continue
    mc_log_points: int
    pack: bool  # one matrix-completion job for all depths (smoke), else one per depth (the pathways are one job)
    data_seed: int = 0


TIERS = {
    "smoke": Config(
        seeds=2,
        depths=(1, 2, 4),
        width=8,
        lr=0.01,
        epochs=1000,
        init=0.01,
        init_noise=0.1,
        deficit_length=150,
        deficit_starts=(0, 400, 750),
        log_every=10,
        dtype="float64",
        mc_depths=(1, 3),
        mc_size=20,
        mc_rank_pretrain=3,
        mc_rank_target=2,
        mc_observed=130,
        mc_lr=1.0,
        mc_init=1e-3,
        mc_switches=(0, 300, 600, 1200),
        mc_continue=1000,
        mc_log_points=30,
        pack=True,
    ),
    "quick": Config(
        seeds=5,
        depths=(1, 2, 3, 4, 6),
        width=100,
        lr=0.01,
        epochs=1000,
        init=0.01,
        init_noise=0.1,
        deficit_length=150,
        deficit_starts=(0, 400, 750),
        log_every=5,
        dtype="float32",
        mc_depths=(1, 2, 3),
        mc_size=50,
        mc_rank_pretrain=5,
        mc_rank_target=3,
        mc_observed=600,
        mc_lr=1.0,
        mc_init=1e-3,
        mc_switches=(0, 2000, 5000, 10000),
        mc_continue=10000,
        mc_log_points=60,
        pack=False,
    ),
    "full": Config(
        seeds=5,
        depths=(1, 2, 3, 4, 6, 8),
        width=100,
        lr=0.01,
        epochs=1000,
        init=0.01,
        init_noise=0.1,
        deficit_length=150,
        deficit_starts=(0, 400, 750),
        log_every=2,
        dtype="float32",
        mc_depths=(1, 2, 3),
        mc_size=100,
        mc_rank_pretrain=10,
        mc_rank_target=5,
        mc_observed=2000,
        mc_lr=0.2,
        mc_init=1e-3,
        mc_switches=(0, 1000, 5000, 10000, 20000, 40000, 60000, 80000, 100000),
        mc_continue=30000,
        mc_log_points=100,
        pack=False,
    ),
}

CLAIMS = (
    Claim(
        "early_deficit_deprives",
        "After an early deficit the deprived pathway ends with ≤ 10 % of the learned map at every depth ≥ 2.",
        metric="max over depths ≥ 2 of share_b (early deficit)",
        rule=Rule.at_most(0.1),
        paper_value=0.0,
        paper_text="Fig. 2 (depth 4): pathway b never recovers from the early deficit",
    ),
    Claim(
        "depth_strengthens_deficit",
        "Depth strengthens the early deficit: share_b at every depth ≥ 2 is ≤ ½ of the depth-1 share_b.",
        metric="max over depths ≥ 2 of share_b(D) / share_b(1), early deficit",
        rule=Rule.at_most(0.5),
        paper_text="official ODE (k_trajectory): at D = 1 pathway a keeps only its head start from the deficit window",
    ),
    Claim(
        "late_deficit_harmless",
        "A late deficit has little effect: late-deficit share_b ≥ 3× early-deficit share_b at every depth.",
        metric="min over depths of share_b(late) / share_b(early)",
        rule=Rule.at_least(3.0),
        paper_text="Fig. 2 (late deficit, epochs 750–900): both pathways keep their share of the map",
    ),
    Claim(
        "completion_critical_period",
        "Deepest factorisation: the final test loss grows with the pre-training time T_critical.",
        metric="Spearman(T_critical, final test loss), deepest net",
        rule=Rule.at_least(0.8),
        paper_value=1.0,
        paper_text="matrix-completion figure: test loss rises with the deficit switch epoch (depth 3)",
    ),
    Claim(
        "completion_depth",
        "The harm of pre-training grows with depth: the deepest net's range of final test loss over T_critical "
        "is more than 2× the depth-1 range.",
        metric="range over T_critical of final test loss: deepest − 2 × depth 1",
        rule=Rule.at_least(0.0),
        paper_text="matrix-completion figure: depth 1 flat, depth 2–3 rising",
    ),
)


# ------------------------------------------------------------------------------------------------------ data


def target_svd() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVD of Σyx = Yᵀ X / 8 with X = I₈ (official ``get_U_S_V``); mode strengths S_α = 8·s_α (the ODE's S)."""
    u, s, vt = np.linalg.svd(TARGETS.T / TARGETS.shape[0], full_matrices=True)
    return u, s * TARGETS.shape[0], vt.T


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The pathway task and, per seed, the two matrix-completion tasks sharing one set of observed entries."""
    from . import completion as mc

    u, strengths, v = target_svd()
    out = {"y": TARGETS, "u": u, "s": strengths, "v": v}
    if cfg.mc_depths:
        pre, tgt, idx = [], [], []
        for seed in range(cfg.seeds):
            rng = np.random.default_rng([cfg.data_seed, seed])
            pre.append(mc.low_rank(cfg.mc_size, cfg.mc_rank_pretrain, rng))
            tgt.append(mc.low_rank(cfg.mc_size, cfg.mc_rank_target, rng))
            idx.append(mc.observed_indices(cfg.mc_size, cfg.mc_observed, rng))
        out.update(mc_pretrain=np.stack(pre), mc_target=np.stack(tgt), mc_index=np.stack(idx))
    return out


# ---------------------------------------------------------------------------------------------------- theory


def k_trajectory(
    depth: int, s: float, k0: float, start: int, length: int, lr: float, epochs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Official ``k_trajectory``: per-mode ODE of two balanced depth-D pathways, Euler steps dt = lr.

    Each layer's mode strength p follows ṗ = p^{D−1}·(S − K_a − K_b) with K = p^D; pathway b is frozen on
    [start, start + length). Returns K_a, K_b after each step 0 … epochs (length epochs + 1).
    """
    pa = pb = k0 ** (1.0 / depth)
    ka, kb = [k0], [k0]
    for t in range(epochs):
        omega = s - pa**depth - pb**depth
        ga, gb = abs(pa) ** (depth - 1) * omega, abs(pb) ** (depth - 1) * omega
        pa = pa + lr * ga
        if not start <= t < start + length:
            pb = pb + lr * gb
        ka.append(pa**depth)
        kb.append(pb**depth)
    return np.array(ka), np.array(kb)


# ---------------------------------------------------------------------------------------------------- training


def grid(cfg: Config) -> dict[str, dict]:
    for depths in (cfg.depths, cfg.mc_depths):
        if depths and min(depths) < 1:
            raise ValueError(f"depths must be >= 1, got {depths}")
    if cfg.width < 8:
        raise ValueError(f"width must hold the 8 modes of the task, got {cfg.width}")
    points = {"pathways": {"kind": "pathways", "depths": list(cfg.depths)}} if cfg.depths else {}
    if cfg.mc_depths and cfg.pack:
        points["completion"] = {"kind": "completion", "depths": list(cfg.mc_depths)}
    elif cfg.mc_depths:
        points.update({f"completion-D{d}": {"kind": "completion", "depths": [d]} for d in cfg.mc_depths})
    return points


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    run = _train_pathways if point["kind"] == "pathways" else _train_completion
    return pd.concat([run(cfg, int(d), data, seeds, device) for d in point["depths"]], ignore_index=True)


def _pathway_init(cfg: Config, depth: int, member_seeds: list[int], data: dict):
    """Official diagonal init: both pathways W_1 = R·K^{1/D}·Vᵀ, W_l = R·K^{1/D}·Rᵀ, W_D = U·K^{1/D}·Rᵀ."""
    import torch

    from reprosuite.engine.models import layers

    u = torch.as_tensor(data["u"][:, :8])  # (15, 8)
    v = torch.as_tensor(data["v"])  # (8, 8)
    gens = layers.generators(member_seeds)
    noise = torch.stack([torch.randn(N_DIAG, generator=g, dtype=torch.float64) for g in gens])
    k0 = (cfg.init * (1 + cfg.init_noise * noise)).sort(dim=1, descending=True).values  # (S, 100)
    d = k0[:, : cfg.width] ** (1.0 / depth) if cfg.width <= N_DIAG else None
    if d is None:
        raise ValueError(f"width must be <= {N_DIAG} (official diag_dim), got {cfg.width}")
    if depth == 1:
        return [u @ torch.diag_embed(d[:, :8]) @ v.T], k0[:, :8]
    r = layers.init_weight((cfg.width, cfg.width), "orthogonal", gens)  # (S, w, w)
    diag = torch.diag_embed(d)  # (S, w, w)
    first = r @ diag[:, :, :8] @ v.T  # (S, w, 8)
    hidden = [r @ diag @ r.transpose(1, 2) for _ in range(depth - 2)]
    last = u @ diag[:, :8, :] @ r.transpose(1, 2)  # (S, 15, w)
    return [first, *hidden, last], k0[:, :8]


def _train_pathways(cfg: Config, depth: int, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import optim, trainer

    dtype = getattr(torch, cfg.dtype)
    members = [(start, seed) for start in cfg.deficit_starts for seed in seeds]
    member_seeds = [seed for _, seed in members]
    init, _ = _pathway_init(cfg, depth, member_seeds, data)
    # both pathways start from the same weights (official: one R, one set of strengths)
    path_a = [torch.nn.Parameter(w.to(device=device, dtype=dtype)) for w in init]
    path_b = [torch.nn.Parameter(w.clone().to(device=device, dtype=dtype)) for w in init]
    target = torch.as_tensor(data["y"].T, dtype=dtype, device=device)  # Yᵀ (15, 8): X = I₈
    u = torch.as_tensor(data["u"][:, :8], dtype=dtype, device=device)
    v = torch.as_tensor(data["v"], dtype=dtype, device=device)
    starts = torch.tensor([start for start, _ in members], device=device)

    def omega(path: list[torch.Tensor]) -> torch.Tensor:
        total = path[0]
        for w in path[1:]:
            total = w @ total
        return total  # (S, 15, 8): the pathway's end-to-end map; its output on the items X = I₈

    def loss_fn(step: int) -> torch.Tensor:
        blocked = ((starts <= step) & (step < starts + cfg.deficit_length)).view(-1, 1, 1)
        ob = omega(path_b)
        out = omega(path_a) + torch.where(blocked, ob.detach(), ob)  # deficit "gate_path": b gets no gradient
        return 0.5 * ((out - target) ** 2).sum(dim=(1, 2))

    def evaluate(step: int) -> dict:
        ka = torch.diagonal(u.T @ omega(path_a) @ v, dim1=1, dim2=2)  # (S, 8)
        kb = torch.diagonal(u.T @ omega(path_b) @ v, dim1=1, dim2=2)
        out = {("train", "loss"): 0.5 * ((omega(path_a) + omega(path_b) - target) ** 2).sum(dim=(1, 2))}
        for a in range(8):
            out["train", f"Ka{a}"] = ka[:, a]
            out["train", f"Kb{a}"] = kb[:, a]
        return out

    opt = optim.SGD(path_a + path_b, lr=cfg.lr)
    log_steps = trainer.log_schedule(cfg.epochs, cfg.epochs // cfg.log_every, "linear")
    history = trainer.fit(loss_fn, opt, cfg.epochs, evaluate, log_steps, label=f"pathways D={depth}")
    return history.frame(member_seeds, [f"D{depth}_start{start}" for start, _ in members])


def _train_completion(cfg: Config, depth: int, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import trainer

    from . import completion as mc

    dtype = getattr(torch, cfg.dtype)
    index = torch.as_tensor(data["mc_index"][seeds], device=device)  # (S, m)
    pretrain = torch.as_tensor(data["mc_pretrain"][seeds], dtype=dtype, device=device)
    target = torch.as_tensor(data["mc_target"][seeds], dtype=dtype, device=device)
    switches = sorted(set(cfg.mc_switches))
    # phase 1: one pre-training run per seed, snapshots at every switch step
    model = mc.DeepFactorisation(cfg.mc_size, [depth] * len(seeds), seeds, cfg.mc_init, dtype, device)
    horizon = max(switches)
    history, snapshots = mc.fit(
        model,
        index,
        pretrain,
        horizon,
        cfg.mc_lr,
        trainer.log_schedule(horizon, cfg.mc_log_points, "linear") if horizon else [0],
        keep=switches,
        label=f"completion D={depth} pre-training",
    )
    pre = history.frame(seeds, [f"D{depth}_pretrain"] * len(seeds))
    # phase 2: members (switch, seed) continue on the target task from their snapshot
    factors = [torch.cat([snapshots[t][layer] for t in switches]) for layer in range(depth)]
    model = mc.DeepFactorisation.from_factors(factors, [depth] * len(factors[0]))
    history, _ = mc.fit(
        model,
        index.repeat(len(switches), 1),
        target.repeat(len(switches), 1, 1),
        cfg.mc_continue,
        cfg.mc_lr,
        trainer.log_schedule(cfg.mc_continue, cfg.mc_log_points, "linear"),
        label=f"completion D={depth} target task",
    )
    post = history.frame(seeds * len(switches), [f"D{depth}_T{t}" for t in switches for _ in seeds])
    post["step"] += post["variant"].str.extract(r"_T(\d+)$")[0].astype(np.int64)  # steps since the start
    return pd.concat([pre, post], ignore_index=True)


# ----------------------------------------------------------------------------------------------------- metrics


def _final(runs: pd.DataFrame) -> pd.DataFrame:
    """Last logged value per (point, variant, seed, split, metric); diverged members get NaN."""
    last = runs[runs.step == runs.groupby(["point", "variant"]).step.transform("max")]
    dead = last[(last.metric == "diverged_at") & last.value.notna()].set_index(["point", "variant", "seed"])
    last = last[last.metric != "diverged_at"].copy()
    bad = last.set_index(["point", "variant", "seed"]).index.isin(dead.index)
    last.loc[bad, "value"] = np.nan
    return last


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per seed: ``share_b_D{d}_start{t}`` and ``learned_D{d}_start{t}`` (pathways), ``test_loss_D{d}_T{t}``."""
    last = _final(runs)
    strengths = target_svd()[1][:8]
    rows = []
    paths = last[last.variant.str.contains("_start")]
    for (point, variant, seed), g in paths.groupby(["point", "variant", "seed"]):
        k = g.set_index("metric").value
        ka = np.array([k[f"Ka{a}"] for a in range(8)])
        kb = np.array([k[f"Kb{a}"] for a in range(8)])
        rows.append((point, seed, f"share_b_{variant}", float(kb.sum() / (ka + kb).sum())))
        rows.append((point, seed, f"learned_{variant}", float((ka + kb).sum() / strengths.sum())))
    done = last[last.variant.str.contains("_T") & (last.split == "test") & (last.metric == "loss")]
    for row in done.itertuples():
        rows.append((row.point, row.seed, f"test_loss_{row.variant}", float(row.value)))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def _wide(metrics: pd.DataFrame, prefix: str, key: str) -> pd.DataFrame:
    """Metrics ``{prefix}D{d}_{key}{x}`` as a table indexed by (seed, depth) with one column per x."""
    sel = metrics[metrics.metric.str.startswith(prefix)].copy()
    parts = sel.metric.str.extract(rf"^{prefix}D(\d+)_{key}(\d+)$")
    sel["depth"], sel["x"] = parts[0].astype(int), parts[1].astype(int)
    return sel.pivot_table(index=["seed", "depth"], columns="x", values="value", dropna=False)


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    share = _wide(metrics, "share_b_", "start")
    if not share.empty:
        early, late = cfg.deficit_starts[0], cfg.deficit_starts[-1]
        deprive, strengthen, late_ratio = [], [], []
        for _, g in share.groupby(level="seed"):
            g = g.droplevel("seed")
            deep = g.loc[g.index >= 2, early]
            deprive.append(float(deep.max()) if len(deep) else math.nan)
            base = g[early].get(1, math.nan)
            strengthen.append(float(deep.max() / base) if len(deep) else math.nan)
            late_ratio.append(float((g[late] / g[early]).min()))
        out.update(
            early_deficit_deprives=deprive,
            depth_strengthens_deficit=strengthen,
            late_deficit_harmless=late_ratio,
        )
    loss = _wide(metrics, "test_loss_", "T")
    if not loss.empty:
        deepest = loss.index.get_level_values("depth").max()
        rank, ratio = [], []
        for _, g in loss.groupby(level="seed"):
            g = g.droplevel("seed")
            final = g.loc[deepest]
            ok = final.notna().all()
            rank.append(spearman(final.index, final.values) if ok else math.nan)
            span = g.max(axis=1) - g.min(axis=1)
            # a difference, not a ratio: the depth-1 range is ~0 (its unobserved entries never move; in float32 the
            # observed ones converge to the same bits whatever T_critical), so a ratio is erratic or infinite
            ratio.append(float(span[deepest] - 2 * span[1]) if 1 in span.index and deepest != 1 else math.nan)
        out.update(completion_critical_period=rank, completion_depth=ratio)
    return out


# ----------------------------------------------------------------------------------------------------- figures


def _fig_pathways(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    strengths = target_svd()[1][:8]
    paths = runs[runs.variant.str.contains("_start") & runs.metric.str.match(r"^K[ab]\d$") & (runs.seed == 0)]
    paths = paths.assign(
        depth=paths.variant.str.extract(r"^D(\d+)_")[0].astype(int),
        start=paths.variant.str.extract(r"_start(\d+)$")[0].astype(int),
        pathway=paths.metric.str[1],
        mode=paths.metric.str[2].astype(int),
    )
    depths, starts = sorted(paths.depth.unique()), list(cfg.deficit_starts)
    fig, axes = plt.subplots(
        len(depths), len(starts), figsize=(3.4 * len(starts), 2.4 * len(depths)), sharex=True, squeeze=False
    )
    palette = sns.color_palette("tab10", 8)
    for i, depth in enumerate(depths):
        for j, start in enumerate(starts):
            ax = axes[i, j]
            ax.axvspan(start, start + cfg.deficit_length, color="grey", alpha=0.15)
            g = paths[(paths.depth == depth) & (paths.start == start)]
            for mode in range(8):
                for pathway, ls in (("a", "-"), ("b", "--")):
                    c = g[(g["mode"] == mode) & (g.pathway == pathway)].sort_values("step")
                    ax.plot(c.step, c.value, color=palette[mode], ls=ls, lw=1.4)
                k0 = g[(g["mode"] == mode) & (g.step == 0)].value
                if len(k0):
                    ka, kb = k_trajectory(
                        depth,
                        strengths[mode],
                        float(k0.iloc[0]),
                        start,
                        cfg.deficit_length,
                        cfg.lr,
                        cfg.epochs,
                    )
                    ax.plot(np.arange(cfg.epochs + 1), ka, color="k", lw=0.6, ls=":")
                    ax.plot(np.arange(cfg.epochs + 1), kb, color="k", lw=0.6, ls=":")
            if i == 0:
                ax.set_title(f"deficit at {start}–{start + cfg.deficit_length}")
            if j == 0:
                ax.set_ylabel(f"D = {depth}\nK_α (a solid, b dashed)")
            if i == len(depths) - 1:
                ax.set_xlabel("epoch")
    return fig


def _fig_share(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = metrics[metrics.metric.str.startswith("share_b_")].copy()
    parts = d.metric.str.extract(r"D(\d+)_start(\d+)")
    d["depth"] = parts[0].astype(int)
    d["deficit"] = [f"epochs {s}–{int(s) + cfg.deficit_length}" for s in parts[1]]
    order = [f"epochs {s}–{s + cfg.deficit_length}" for s in cfg.deficit_starts]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    sns.lineplot(
        d,
        x="depth",
        y="value",
        hue="deficit",
        hue_order=order,
        marker="o",
        errorbar=("ci", 95),
        palette="deep",
        ax=ax,
    )
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    ax.axhline(0.1, color="grey", ls="--", lw=1)
    ax.set(ylabel="deprived pathway's share of the map", ylim=(0, 0.55))
    return fig


def _fig_completion(runs: pd.DataFrame, metrics: pd.DataFrame, cfg: Config):
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = metrics[metrics.metric.str.startswith("test_loss_")].copy()
    parts = d.metric.str.extract(r"D(\d+)_T(\d+)")
    d["depth"], d["T_critical"] = parts[0].astype(int), parts[1].astype(int)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    sns.lineplot(
        d,
        x="T_critical",
        y="value",
        hue="depth",
        marker="o",
        errorbar=("ci", 95),
        palette="viridis",
        ax=axes[0],
    )
    axes[0].set(xlabel="pre-training steps T_critical (switch step)", ylabel="final test loss (target task)")
    curves = runs[
        runs.variant.str.contains(r"_T\d+$")
        & (runs.split == "test")
        & (runs.metric == "loss")
        & (runs.seed == 0)
    ]
    deepest = max(cfg.mc_depths)
    curves = curves[curves.variant.str.startswith(f"D{deepest}_")]
    curves = curves.assign(T_critical=curves.variant.str.extract(r"_T(\d+)$")[0].astype(int))
    sns.lineplot(curves, x="step", y="value", hue="T_critical", palette="rocket_r", ax=axes[1])
    pre = runs[
        (runs.variant == f"D{deepest}_pretrain")
        & (runs.split == "test")
        & (runs.metric == "loss")
        & (runs.seed == 0)
    ].sort_values("step")
    axes[1].plot(pre.step, pre.value, color="grey", ls="--", lw=1, label="pre-training (its own task)")
    axes[1].legend(fontsize=7, title="T_critical", title_fontsize=8)
    axes[1].set(
        yscale="log", xlabel="step (pre-training + target task)", ylabel="test loss on the target task"
    )
    axes[1].set_title(f"depth {deepest}, seed 0", fontsize=9)
    return fig


FIGURES = (
    Figure(
        "fig2_pathways",
        "Paper Fig. 2: path singular values K_aα, K_bα of two depth-4 pathways under a 150-epoch deficit to "
        "pathway b (grey), early, middle or late; after an early deficit pathway a keeps every mode, a late one "
        "changes nothing; SGD matches the per-mode ODE. Ours: the same for every depth (rows) and deficit (columns), "
        "seed 0, pathway a solid, b dashed, colours = modes α, black dotted = the official per-mode ODE.",
        _fig_pathways,
    ),
    Figure(
        "share_vs_depth",
        "Not a paper figure, the summary of its Fig. 2 claim: the deprived pathway's share of the final map "
        "versus depth per deficit start (mean, 95 % CI over seeds); ½ = no lasting effect, dashed = the 0.1 "
        "pass threshold for an early deficit.",
        _fig_share,
    ),
    Figure(
        "completion_critical_period",
        "Paper matrix-completion figure (official plot_depth_subset.py): final test loss against the step at "
        "which pre-training on another low-rank task stops; flat for depth 1, rising for depth 2–3. Ours: the "
        "same (left, mean and 95 % CI over seeds) and, right, the deepest net's test loss on the target task over "
        "time for each T_critical (seed 0).",
        _fig_completion,
    ),
)
