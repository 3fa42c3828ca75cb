"""Kwok, Altıntaş, Raffel, Rolnick 2025, "The Butterfly Effect: Neural Network Training Trajectories Are Highly
Sensitive to Initial Conditions", ICML 2025 (arXiv:2506.13234; official code github.com/gsaltintas/lmc).

The paper trains a network, spawns a copy at step t, perturbs the copy (one weight, or Gaussian noise of scale σ
relative to the initialisation), trains both identically (same data order, deterministic kernels) and measures
the linear-mode-connectivity loss barrier between the two end points. Fig. 1 (right; caption read): "A
perturbation of as little as one weight … reliably causes divergence when applied early, but not when applied at
later t"; barriers grow with σ (σ = 1 is the initialisation scale).

Sources used: the abstract and Fig. 1 caption; the official code — ``lmc/butterfly/butterfly.py`` (Gaussian noise
with each parameter's init std times σ, ``scale_noise`` with ``normalize_perturb=false`` in the small-σ sweep,
``mask_noise`` keeping a fraction of entries, e.g. one weight, chosen uniformly over all perturbed entries),
``lmc/utils/lmc_utils.py`` (``extract_barrier``: the metric at the arg-max α minus the chord between the end
points there, on train/test CE and error), ``lmc/experiment/perturb.py`` (δ added at ``perturb_step`` before that
step's update) and the scripts (ResNet-20-32 with LayerNorm on CIFAR-10, SGD momentum 0.9, lr 0.1, triangle
schedule with 2 % warm-up, 50 epochs, batch 128, deterministic, perturb steps {0…5, 390, 1950}, σ ∈ {1e-6,
1e-4, 1e-2, 1}). The paper's barrier values and thresholds were not read: every numeric rule below is ours.

Claims (train-CE barrier at the end of training between a child and its parent, 11 α, barriers floored at
1e-3 nats where a ratio is taken: below that they are rounding noise):
- ``K0`` (sanity) — a σ = 0 sham child stays identical to its parent: max(|barrier|, ‖θ − θ_parent‖) ≤ 1e-6 per
  seed, mean (ours; the official ε-search runs σ = 0 the same way).
- ``K1`` (empirical, share) — a one-weight perturbation at t = 0 "reliably" causes divergence: per seed the
  barrier(one weight, t = 0) ≥ 0.05 × barrier(σ = 1, t = 0) of the same seed; rule: Clopper–Pearson lower bound
  of the share ≥ 0.5 (ours: with 6 seeds only 6/6 passes, i.e. "every run"). Control: the same runs at lr ÷ 100,
  a regime without the early chaotic phase — the copies move too little for one weight to send them apart.
- ``K2`` (empirical, mean) — the effect fades with spawn time: log10[barrier(t = 0)/barrier(t = 5 epochs)] of the
  one-weight children, mean with t-interval ≥ 1 (≥ 10×; ours). Control: lr ÷ 100.
- ``K2b`` (empirical, share) — the barrier falls monotonically over t ∈ {0, ¼, 1, 5 epochs}: Spearman ρ(t,
  barrier) = −1 in a seed (floored barriers: ties break the ρ = −1); CP lower bound ≥ 0.5 (ours). Control lr ÷ 100.
- Recorded, not judged: the σ dose–response (paper's Fig. 1 right; Spearman(σ, barrier) per seed where the tier
  has ≥ 3 doses, and the figure) — a smooth dose–response holds in almost any dynamics, so it decides nothing.
- ``K4`` (empirical, geomean; full tier only) — pre-training stabilises fine-tuning: barrier(pre-trained child)
  / barrier(random-init child) after a Gaussian σ = 0.01 perturbation at fine-tuning step 0, geometric mean ≤ 0.5
  (ours; the paper's CIFAR-100 → CIFAR-10 result is known to us only from a third-party summary). Our analogue:
  pre-train on classes 5–9, fine-tune on classes 0–4 (``pretrain.py``). Control: 0 pre-training epochs, where
  the pre-trained arm is the random initialisation itself (ratio 1 by construction: it tests the pipeline, the
  claim's mechanism being the pre-training).
- Not built: the hyperparameter effects (width/depth/lr/batch/warm-up, the paper's Sec. on hyperparameters):
  their directions were not read in the paper, so no rule could be fixed before running; left out, not guessed.

Protocol. ``Config``'s defaults keep the paper's optimisation (SGD momentum 0.9, lr 0.1, triangle with 2 %
warm-up, batch 128, 50 epochs, spawn times 0, 1 and 5 epochs, σ grid) but, since CIFAR-10 is not available
offline and no stacked 2-D ResNet exists in the engine, the full tier is the fallback: MNIST (official files) with
a LayerNorm MLP 784-256-256-256-10 standing in for ResNet-20-32-LN (deviation from the paper). Quick: MNIST-1D
(4000/1000, dataset seed 42) with MLP 40-128-128-128-10 + LayerNorm, lr 0.2, batch 64, 20 epochs; members per
seed: parent, sham, one weight at t ∈ {0, ¼, 1, 5 epochs}, σ = 1 at t = 0; all seeds and members one stacked
model; the lr ÷ 100 control is a second grid point with the same members. Spawn time ¼ epoch is ours (between
the paper's steps 5 and 390). Deviations from the official code: only weight matrices are perturbed (biases
excluded; our LayerNorms have no parameters); no BatchNorm repair is needed (no BatchNorm).

Caveats: at toy scale the one-weight barrier reaches roughly a tenth of the σ = 1 barrier, not the full
divergence "as large as different data orders" of the paper's CIFAR runs — K1's 5 % criterion tests reliable
divergence, not its size. A plain MNIST MLP without LayerNorm at lr 0.1 is stable at initialisation; whether
the MNIST fallback of the full tier is chaotic at t = 0 is an open question that the full tier answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Claim, Rule, per_seed
from reprosuite.study import Paper

from .figures import FIGURES  # noqa: F401  (re-exported: the study interface)

PAPER = Paper(
    title="The Butterfly Effect: Neural Network Training Trajectories Are Highly Sensitive to Initial Conditions",
    authors="Kwok, Altıntaş, Raffel, Rolnick",
    year=2025,
    arxiv="2506.13234",
    venue="ICML 2025",
    code="https://github.com/gsaltintas/lmc",
)

COST = {
    "smoke": "1.4 CPU-s (2 points)",
    "quick": "74 CPU-s: main 37, control 37 (6 seeds × 7 members stacked per point; 2-core machine under load)",
    "full": "CPU probe: 1.5 / 1.7 h for the main / control point, 0.3–0.4 h per pre-training point (not run)",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 3  # official scripts: 3 replicates per setting
    dataset: Literal["mnist", "mnist1d"] = "mnist"  # paper: CIFAR-10 (not offline): MNIST fallback
    data_seed: int = 42  # MNIST-1D's generation seed (its package default); unused for MNIST
    train_size: int = 0  # 0: the whole training split
    widths: tuple[int, ...] = (256, 256, 256)  # stand-in for ResNet-20-32-LN: LayerNorm MLP (ours)
    epochs: int = 50  # official scripts: 50 epochs
    batch: int = 128  # official scripts
    lr: float = 0.1  # official scripts: peak lr 0.1
    momentum: float = 0.9  # official scripts
    warmup: float = 0.02  # official scripts: triangle schedule, 2 % warm-up
    spawn_epochs: tuple[float, ...] = (0.0, 0.25, 1.0, 5.0)  # paper steps 0, 390, 1950 = 0, 1, 5 ep; ¼ ours
    sigmas: tuple[float, ...] = (1e-6, 1e-4, 1e-2, 1.0)  # small_butterfly.sh: Gaussian σ at t = 0
    control_lr_factor: float = 0.01  # ours: the lr ÷ 100 control
    barrier_points: int = 11  # ours: α grid
    barrier_n: int = 0  # 0: the whole training split (official: the train evaluation loader)
    diverge_share: float = 0.05  # ours: K1's per-seed criterion, share of the σ = 1 barrier
    floor: float = 1e-3  # ours: barriers below 1e-3 nats are noise
    pretrain_epochs: int = 50  # ours (paper: CIFAR-100 pre-training, length not read); 0: no pre-training arm
    k4_sigma: float = (
        0.01  # ours, from the official σ grid: Gaussian perturbation at the start of fine-tuning
    )


QUICK = replace(
    Config(),
    seeds=6,
    dataset="mnist1d",
    widths=(128, 128, 128),
    epochs=20,
    batch=64,
    lr=0.2,
    sigmas=(1.0,),
    barrier_n=2048,
    pretrain_epochs=0,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(QUICK, seeds=1, train_size=1000, epochs=3, spawn_epochs=(0.0, 0.25, 1.0, 2.0)),
}
WHY = {
    "seeds": "quick: K1/K2b are shares over seeds; 6/6 gives a Clopper–Pearson lower bound 0.54 > 0.5, 5 seeds "
    "could never pass; smoke: one seed for CI",
    "dataset": "CPU budget: MNIST-1D with a LayerNorm MLP shows the early chaotic phase at lr 0.2 on a CPU",
    "widths": "CPU budget: width 128 (3.5× cheaper per step than 256) keeps 6 seeds × 7 members × 2 lrs in budget",
    "epochs": "CPU budget: 20 epochs (1240 steps) train the MNIST-1D MLP to its plateau",
    "batch": "MNIST-1D has 4000 examples: batch 64 gives 62 steps per epoch, close to the paper's step counts",
    "lr": "lr 0.2 puts the MNIST-1D MLP-LN in its early chaotic phase (lr 0.1 on a plain MLP does not)",
    "sigmas": "CPU budget: only σ = 1, K1's reference; the dose–response is recorded at full",
    "barrier_n": "CPU budget: the barrier on 2048 training examples",
    "train_size": "smoke: 1000 examples",
    "spawn_epochs": "smoke: a 3-epoch run ends before 5 epochs",
    "pretrain_epochs": "the pre-training arm (K4) is full tier only: it doubles the training and is judged on the "
    "paper-scale protocol only",
}


# ---------------------------------------------------------------------------------------------------- members
def roles(cfg: Config) -> list[dict]:
    """The members of one seed: parent, σ = 0 sham, one weight at each spawn time, Gaussian σ at t = 0."""
    out = [{"role": "parent", "kind": "none", "sigma": 0.0, "spawn": -1.0}]
    out.append({"role": "sham", "kind": "gauss", "sigma": 0.0, "spawn": 0.0})
    out += [{"role": f"one_t{t:g}", "kind": "one", "sigma": 1.0, "spawn": float(t)} for t in cfg.spawn_epochs]
    out += [{"role": f"gauss_s{s:g}", "kind": "gauss", "sigma": float(s), "spawn": 0.0} for s in cfg.sigmas]
    return [{**r, "index": i} for i, r in enumerate(out)]


def grid(cfg: Config) -> dict[str, dict]:
    if 0.0 not in cfg.spawn_epochs or 1.0 not in cfg.sigmas:
        raise ValueError("the claims need a spawn at t = 0 and σ = 1")
    if cfg.control_lr_factor >= 1:
        raise ValueError("the control's lr factor must lower the lr")
    points = {"main": {"lr": cfg.lr}, "control": {"lr": cfg.lr * cfg.control_lr_factor}}
    if cfg.pretrain_epochs > 0:  # K4: pre-trained vs random init, and its control (0 pre-training epochs)
        points["k4_pretrained"] = {"lr": cfg.lr, "pretrain_epochs": cfg.pretrain_epochs}
        points["k4_pretrain0"] = {"lr": cfg.lr, "pretrain_epochs": 0}
    return points


def datasets(cfg: Config) -> tuple[str, ...]:
    return ("mnist",) if cfg.dataset == "mnist" else ()


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    from reprosuite.engine.data import datasets as ds

    d = ds.load(cfg.dataset, seed=cfg.data_seed) if cfg.dataset == "mnist1d" else ds.load("mnist")
    if cfg.train_size:
        for k in ("x", "y"):
            d[k] = d[k][: cfg.train_size]
    return d


# ---------------------------------------------------------------------------------------------------- training
def train(cfg: Config, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    from . import butterfly as bf

    if "pretrain_epochs" in point:
        from .pretrain import train_k4

        return train_k4(cfg, point, data, seeds, device)
    x, y, xt, yt = (torch.as_tensor(data[k], device=device) for k in ("x", "y", "x_test", "y_test"))
    rs = roles(cfg)
    members = [(s, r) for s in seeds for r in rs]  # seed-major: member = seed position × len(rs) + role index
    member_seeds = [s for s, _ in members]
    sizes = [x.shape[1], *cfg.widths, int(y.max()) + 1]
    model = bf.LNMLP(sizes, member_seeds, device)
    parent_of = torch.tensor([i - r["index"] for i, (_, r) in enumerate(members)], device=device)
    per_epoch = x.shape[0] // cfg.batch
    steps = cfg.epochs * per_epoch
    spawn = torch.tensor([round(r["spawn"] * per_epoch) for _, r in members], device=device)
    delta = [
        d.to(device=device, dtype=model.weights[0].dtype)
        for d in bf.perturbations(sizes, [r for _, r in members], member_seeds)
    ]
    spawn_steps = {int(s) for s in spawn.tolist() if s >= 0}
    stream = fn.MinibatchStream(x.shape[0], cfg.batch, member_seeds, device=device)
    n_eval = cfg.barrier_n or x.shape[0]
    opt = optim.SGD(model.params(), lr=point["lr"], momentum=cfg.momentum)

    def loss_fn(step: int):
        if step in spawn_steps:  # δ added before this step's update, as the official perturb_step
            with torch.no_grad():
                now = (spawn == step).to(delta[0].dtype)
                for w, d in zip(model.weights, delta, strict=True):
                    w.add_(d * now.view(-1, 1, 1))
        idx = stream.at(step)
        return fn.cross_entropy(model(x[idx]), y[idx])

    def evaluate(step: int):
        ce, err = bf.member_ce(model, None, xt, yt)
        l2, rel = bf.distance(model, parent_of)
        out = {("test", "ce"): ce, ("test", "acc"): 1 - err, ("train", "l2"): l2, ("train", "l2_rel"): rel}
        if step == steps:
            b = bf.barriers(model, parent_of, x[:n_eval], y[:n_eval], cfg.barrier_points)
            out[("train", "barrier_ce")] = b["barrier_ce"]
            out[("train", "barrier_err")] = b["barrier_err"]
            for a in range(cfg.barrier_points):
                out[("train", f"interp_ce_{a}")] = b["ce_curve"][:, a]
        return out

    history = trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        trainer.log_schedule(steps, points=8),
        lr_scale=lambda s: bf.triangle(s, steps, cfg.warmup),
        label=f"kwok_butterfly/{'main' if point['lr'] == cfg.lr else 'control'}",
    )
    return history.frame(
        member_seeds,
        variants=[r["role"] for _, r in members],
        members={
            "kind": [r["kind"] for _, r in members],
            "sigma": [r["sigma"] for _, r in members],
            "spawn_epoch": [r["spawn"] for _, r in members],
            "lr": [float(point["lr"])] * len(members),
        },
    )


# ---------------------------------------------------------------------------------------------------- metrics
def _spearman(a, b) -> float:
    ra, rb = pd.Series(a).rank(), pd.Series(b).rank()
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (point, seed): every child's barriers and distances, and the claims' per-seed statistics."""
    last = runs[runs["step"] == runs["step"].max()]
    rows = []
    for (point, seed), g in last.groupby(["point", "seed"]):
        v = g.set_index(["variant", "metric"])["value"]
        if "pre_child" in set(g["variant"]):
            pre, rand = (max(float(v[(r, "barrier_ce")]), cfg.floor) for r in ("pre_child", "rand_child"))
            rows += [(point, seed, "barrier_ce/pre_child", pre), (point, seed, "barrier_ce/rand_child", rand)]
            rows.append((point, seed, "k4_ratio", pre / rand))
            continue

        def b(role: str, v=v) -> float:
            return float(v[(role, "barrier_ce")])

        for role in g["variant"].unique():
            for m in ("barrier_ce", "barrier_err", "l2", "l2_rel"):
                rows.append((point, seed, f"{m}/{role}", float(v[(role, m)])))
        for m in ("ce", "acc"):
            rows.append(
                (
                    point,
                    seed,
                    f"test_{m}/parent",
                    float(
                        g[(g.variant == "parent") & (g.split == "test") & (g.metric == m)]["value"].iloc[0]
                    ),
                )
            )
        fl = cfg.floor
        rows.append((point, seed, "k0_sham", max(abs(b("sham")), float(v[("sham", "l2")]))))
        rows.append((point, seed, "k1_ratio", max(b("one_t0"), fl) / max(b("gauss_s1"), fl)))
        late = f"one_t{max(cfg.spawn_epochs):g}"
        rows.append((point, seed, "k2_log_ratio", float(np.log10(max(b("one_t0"), fl) / max(b(late), fl)))))
        ts = sorted(cfg.spawn_epochs)
        rows.append((point, seed, "k2_rho", _spearman(ts, [max(b(f"one_t{t:g}"), fl) for t in ts])))
        if len(cfg.sigmas) >= 3:
            ss = sorted(cfg.sigmas)
            rows.append((point, seed, "k3_rho_sigma", _spearman(ss, [b(f"gauss_s{s:g}") for s in ss])))
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


# ---------------------------------------------------------------------------------------------------- claims
CONTROL = "the same runs at lr ÷ 100 (no early chaotic phase)"
CLAIMS = (
    Claim(
        id="K0",
        kind="sanity",
        statement="a σ = 0 sham child trained with its parent stays identical to it",
        metric="per seed: max(|barrier|, ‖θ − θ_parent‖) of the sham child",
        rule=Rule.at_most(1e-6),
        paper_text="the official ε-search runs σ = 0 as the deterministic baseline",
    ),
    Claim(
        id="K1",
        statement="a single-weight perturbation at initialisation reliably makes the copies diverge",
        metric="per seed: barrier(one weight, t = 0) / barrier(σ = 1, t = 0), train CE",
        statistic="share",
        criterion=Rule.at_least(0.05),
        rule=Rule.at_least(0.5),
        paper_text="Fig. 1: one weight 'reliably causes divergence when applied early' (qualitative)",
        control=CONTROL,
    ),
    Claim(
        id="K2",
        statement="the same one-weight perturbation applied 5 epochs later gives ≥ 10× smaller barriers",
        metric="per seed: log10[barrier(t = 0) / barrier(t = 5 epochs)], one weight, floored at 1e-3 nats",
        rule=Rule.at_least(1.0),
        paper_text="Fig. 1: 'but not when applied at later t' (qualitative)",
        control=CONTROL,
    ),
    Claim(
        id="K2b",
        statement="the barrier falls monotonically with the spawn time",
        metric="per seed: Spearman ρ(t, barrier) over t ∈ {0, ¼, 1, 5 epochs}, one weight, floored barriers",
        statistic="share",
        criterion=Rule.at_most(-0.999),
        rule=Rule.at_least(0.5),
        paper_text="Fig. 1: barriers decrease with the spawn time t (colours)",
        control=CONTROL,
    ),
    Claim(
        id="K4",
        statement="pre-training stabilises fine-tuning: a perturbation at its start gives ≤ ½ the barrier of the "
        "same perturbation of a randomly initialised net",
        metric="per seed: barrier(pre-trained child) / barrier(random-init child), σ = 0.01 at fine-tuning step 0",
        statistic="geomean",
        rule=Rule.at_most(0.5),
        paper_text="pre-trained (CIFAR-100) initialisations give smaller barriers when fine-tuning on CIFAR-10 "
        "(qualitative; not read in the paper)",
        tiers=("full",),
        control="pre-training for 0 epochs (≡ random initialisation)",
    ),
)


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, pd.Series]:
    out = {
        "K0": pd.concat([per_seed(metrics, "k0_sham", p) for p in ("main", "control")]).groupby(level=0).max()
    }
    for cid, m in (("K1", "k1_ratio"), ("K2", "k2_log_ratio"), ("K2b", "k2_rho")):
        out[cid] = per_seed(metrics, m, "main")
        out[f"{cid}/control"] = per_seed(metrics, m, "control")
    out["K4"] = per_seed(metrics, "k4_ratio", "k4_pretrained")
    out["K4/control"] = per_seed(metrics, "k4_ratio", "k4_pretrain0")
    return out
