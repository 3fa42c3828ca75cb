"""Dohare et al. 2024 — backprop loses plasticity under continual learning; L2 and continual backprop keep it.

Paper: "Loss of Plasticity in Deep Continual Learning", Nature 632 (2024), arXiv:2306.13812; official code
shibhansh/loss-of-plasticity (the slowly-changing regression problem: ``lop/slowly_changing_regression/``,
``lop/nets/fix_ltu_net.py``, ``lop/nets/ffnn.py``, ``lop/algos/bp.py``, ``gnt.py``, ``cbp.py``, configs
``cfg/sgd/bp/relu.json``, ``relu_wd.json``, ``cfg/sgd/cbp/relu.json``, ``cfg/flip_one_prob.json``).

Claims (official slowly-changing regression plot, 1e6 examples): in a non-stationary stream a network trained by
backprop gradually loses the ability to learn — its online error grows while the problem stays equally hard; L2
regularisation and continual backprop (re-initialising a small fraction of the least-useful hidden units) keep
it. The paper gives curves, no ratios; our pass rules: per seed, the mean online squared error over the last
``window`` steps over that of steps (window, 2·window] (the first window is the initial fit, not plasticity).
Every claim is empirical and judged on the geometric mean of the per-seed ratios (Student-t interval on the log
scale: a ratio is positive and a halving is as far from 1 as a doubling), with a negative control trained in the
same job and measured by the same code:

- ``backprop_loses_plasticity``: backprop ≥ 1.2. Control: backprop on the same seed's stream without bit flips
  (a stationary target: nothing to re-learn, so no loss of plasticity can show).
- ``l2_keeps_plasticity``: L2 ≤ 1.05. Control: L2 with weight decay 0 — our backprop member (the same update).
- ``cbp_keeps_plasticity``: continual backprop ≤ 1.05. Control: replacement rate 0 — again the backprop member.

The ratio is noisy per seed (the target's difficulty drifts with the flipped bits, moving every method of a seed
alike), so the claims need the full tier's seeds.

Protocol (official code): m = 20 input bits; the first f = 15 are constant for T = 10,000 steps, then one of them
flips (``flip_one``; ``cfg/prob.json``, which the bp/cbp configs load, redraws all 15 instead — unverified which
the paper's figure used; ``flip_one=False`` selects it); the other 5 are fresh random bits every step. Target: a
fixed LTU net 20 → 100 → 1 with ±1 weights and biases, thresholds β(m + 1) − S, β = 0.7. Learner 20 → 5 ReLU → 1,
Kaiming-uniform init, zero biases, online SGD step 0.01 on one example per step. L2 = weight decay (official
sweep 1e-6 … 1; ours 1e-3). Continual backprop: utility "adaptable_contribution", decay 0.99, maturity 10 (what
the official runs used: ``expr.py`` reads the key ``mt``, default 10, and ignores the configs'
``maturity_threshold`` of 100), replacement rate 1e-4 (swept 1e-6 … 1e-2); a replaced unit gets new input weights, zero input bias and zero outgoing weights.
Error curves are binned per 2T steps as in the official plots. Ours, after the paper's Fig. 3: every
``probe_every`` steps the effective rank (Roy & Vetterli) of the hidden features on ``n_probe`` fixed random
inputs and the number of dead units. Online permuted MNIST (the paper's second problem) is not included.
Tiers: full = 1e6 steps × 30 seeds; quick = 4e5 steps × 10 seeds; smoke = 3e4 steps (T = 2,000) × 2 seeds.

Engine: :class:`~reprosuite.studies.dohare_loss_of_plasticity.online.OnlineRegressor` — members = seeds ×
{backprop, L2, continual backprop, backprop on the stationary stream} in one numpy step loop with hand-written gradients (a 20-5-1 net is bound by
per-operation overhead: 39 CPU-µs per step against 824 through ``trainer.fit``), the stream cut into chunks
whose data and random draws are functions of (seed, chunk); a ``checkpoint.Slot`` saves at chunk boundaries, so
a killed job resumes bit-identically. The device argument is ignored: the loop is CPU-bound at any scale.

Cost (2 shared CPU cores): smoke ~3 CPU-s of training; quick one job of 40 members, ≈ 1.4 × the 30-member job
without the stationary control (≈ 35 s of training); full ≥ 13 CPU-min estimated by the probe (one job of 120
members, 1e6 steps; a lower bound: the probe stops the study's own loop after 2 s; peak 0.7 GB).

Deviations from the paper at the full tier:
- only the slowly-changing regression problem is trained, at the official scale (1e6 examples, 30 runs). The
  paper's other problems are not: online permuted MNIST (a deep ReLU MLP trained online on a long sequence of
  pixel-permuted MNIST tasks, one pass over each), Continual ImageNet and class-incremental CIFAR-100 (the
  headline results). The MNIST problem's scale — many hundreds of tasks of 60,000 examples each, per method and
  run — needs a GPU campaign of its own and a new experiment in this study (ours: not implemented yet), so no
  claim here rests on MNIST.
- L2 strength 1e-3 and replacement rate 1e-4: single values from the official sweeps (ours).
- maturity threshold 10, what the official runs used (``mt``), not the configs' 100.
- the claims' ratio windows (early = steps (2e5, 4e5], late = the last 2e5) and thresholds are ours (the paper
  gives curves).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reprosuite.claims import Amendment, Claim, Rule, per_seed
from reprosuite.study import Figure, Paper

from . import figures

PAPER = Paper(
    title="Loss of Plasticity in Deep Continual Learning",
    authors="Dohare et al.",
    year=2024,
    arxiv="2306.13812",
    venue="Nature 2024",
    code="https://github.com/shibhansh/loss-of-plasticity",
)

METHODS = ("backprop", "l2", "cbp", "stationary")  # stationary: backprop on the stream without bit flips

COST = {
    "smoke": "~3 CPU-s training",
    "quick": "~35 s training (one job)",
    "full": "≥ 13 CPU-min (probe: one job of 120 members, a lower bound; peak 0.7 GB)",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 30  # official README: "at least 30 runs"
    steps: int = 1_000_000  # official configs: 1e6 examples, one per step
    flip_after: int = 10_000  # T: steps between bit flips (official flip_after)
    n_inputs: int = 20  # m
    n_flipping: int = 15  # f (official num_flipping_bits)
    n_target_features: int = 100  # target LTU net width
    beta: float = 0.7  # LTU threshold parameter (official configs)
    flip_one: bool = True  # one random flipping bit flips per period (official flip_one)
    hidden: int = 5  # learner width (official num_features)
    lr: float = 0.01  # SGD step size
    l2: float = 1e-3  # weight decay of the L2 method (official sweep 1e-6 … 1; ours)
    replacement_rate: float = 1e-4  # continual backprop (official sweep 1e-6 … 1e-2)
    decay: float = 0.99  # utility decay η
    maturity: int = 10  # maturity threshold: official expr.py's ``mt`` (default 10), what its runs used
    util_type: Literal["contribution", "adaptable_contribution"] = "adaptable_contribution"  # official cbp
    chunk: int = (
        10_000  # not stated; ours: steps per chunk of data, random draws, checkpoints and logged error
    )
    bin_size: int = 20_000  # error bins of the figure (official plots: 2T)
    window: int = 200_000  # not stated; ours: claims' early = (window, 2·window], late = the last window
    probe_every: int = 20_000  # not stated; ours
    n_probe: int = 1_000  # not stated; ours


QUICK = replace(Config(), seeds=10, steps=400_000, window=80_000)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK,
        seeds=2,
        steps=30_000,
        flip_after=2_000,
        chunk=2_000,
        bin_size=4_000,
        window=6_000,
        probe_every=6_000,
        n_probe=200,
    ),
}
WHY = {
    "seeds": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "steps": "2-core CPU budget",
    "window": "a fifth of the shorter stream, as at full",
    "flip_after": "smoke: a flip period short enough for seconds of training",
    "chunk": "smoke: chunks that divide the shorter flip period",
    "bin_size": "smoke: 2T of the shorter flip period",
    "probe_every": "smoke: probes within the shorter stream",
    "n_probe": "smoke: seconds, for tests",
}

_WHAT = (
    "statistic mean → geometric mean; control added (grid: a stationary-stream backprop member in the one job); "
    "continual backprop's maturity threshold 100 → 10"
)
_WHY = (
    "a late/early error ratio is positive and log-symmetric, so its mean's t-interval is skewed by the large "
    "ratios; each claim must fail where its mechanism is absent (no task change, weight decay 0, replacement "
    "rate 0); the official expr.py reads the maturity threshold from the key 'mt' (default 10), so its runs "
    "used 10, not the configs' 100"
)
AMENDMENTS = (
    Amendment(
        "2026-12-06",
        ("backprop_loses_plasticity", "l2_keeps_plasticity", "cbp_keeps_plasticity"),
        _WHAT,
        _WHY,
        "inconclusive",
        "inconclusive",
    ),
)

CLAIMS = (
    Claim(
        "backprop_loses_plasticity",
        "Backprop's online error grows as the problem keeps changing: late error ≥ 1.2 × early error.",
        metric="late / early mean squared error, backprop",
        rule=Rule.at_least(1.2),
        paper_text="slowly-changing regression: backprop's error rises over 1M steps (official plot)",
        statistic="geomean",
        control="backprop on the same stream without bit flips (stationary target)",
    ),
    Claim(
        "l2_keeps_plasticity",
        "With L2 regularisation the late error stays at most 1.05 × the early error.",
        metric="late / early mean squared error, L2",
        rule=Rule.at_most(1.05),
        paper_text="L2 regularisation mitigates loss of plasticity",
        statistic="geomean",
        control="L2 with weight decay 0 (our backprop member)",
    ),
    Claim(
        "cbp_keeps_plasticity",
        "With continual backprop the late error stays at most 1.05 × the early error.",
        metric="late / early mean squared error, continual backprop",
        rule=Rule.at_most(1.05),
        paper_text="continual backprop maintains plasticity indefinitely",
        statistic="geomean",
        control="continual backprop with replacement rate 0 (our backprop member)",
    ),
)


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The fixed probe inputs (uniformly random bits); each seed's stream is generated inside ``train``."""
    rng = np.random.default_rng(np.random.SeedSequence([0, 4_049]))
    return {"probe": rng.integers(0, 2, size=(cfg.n_probe, cfg.n_inputs)).astype(np.float64)}


def grid(cfg: Config) -> dict[str, dict]:
    if cfg.steps % cfg.chunk or cfg.bin_size % cfg.chunk or cfg.probe_every % cfg.chunk:
        raise ValueError("steps, bin_size and probe_every must be multiples of chunk")
    return {"stream": {"methods": list(METHODS)}}


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import checkpoint as ckpt_mod
    from reprosuite.engine.train import trainer

    from . import online

    methods = list(point["methods"])
    members = [(m, s) for m in methods for s in seeds]
    member_seeds = [s for _, s in members]
    streams_of = [methods.index(m) for m, _ in members]
    # each member reads its seed's stream; the stationary members read that stream without its bit flips
    seed_index = np.array([seeds.index(s) + (len(seeds) if m == "stationary" else 0) for m, s in members])
    value = {
        "backprop": (0.0, 0.0),
        "l2": (cfg.l2, 0.0),
        "cbp": (0.0, cfg.replacement_rate),
        "stationary": (0.0, 0.0),
    }
    net = online.OnlineRegressor(
        cfg.n_inputs,
        cfg.hidden,
        member_seeds,
        lr=[cfg.lr] * len(members),
        weight_decay=[value[m][0] for m, _ in members],
        replacement_rate=[value[m][1] for m, _ in members],
        decay=cfg.decay,
        maturity=cfg.maturity,
        util_type=cfg.util_type,
        streams=streams_of,
    )
    streams = [
        online.BitFlipStream(
            s,
            cfg.steps,
            cfg.n_inputs,
            cfg.n_flipping,
            flip_after,
            cfg.n_target_features,
            cfg.beta,
            cfg.flip_one,
        )
        for flip_after in (cfg.flip_after, cfg.steps)  # flipping every T steps; never (stationary)
        for s in seeds
    ]
    probe = np.asarray(data["probe"], dtype=np.float64)
    n_chunks = cfg.steps // cfg.chunk
    errors = np.full((n_chunks, len(members)), np.nan)
    probes: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    def take_probe(step):
        feats = net.hidden_activations(probe)
        probes.append((step, online.effective_rank(feats), online.dead_units(feats), net.replaced.copy()))

    slot = ckpt_mod.Slot()
    state = slot.state
    first = 0
    if state is not None:
        net.load({k: v.numpy() for k, v in state["net"].items()})
        errors = state["errors"].numpy().copy()
        probes = [(int(st), r.numpy(), d.numpy(), n.numpy()) for st, r, d, n in state["probes"]]
        first = int(state["chunk"])
        print(f"[lop] resumed from {slot.path} at chunk {first}", file=sys.stderr, flush=True)

    def snapshot(chunk):
        return {
            "chunk": chunk,
            "complete": chunk == n_chunks,
            "net": {k: torch.from_numpy(v.copy()) for k, v in net.state().items()},
            "errors": torch.from_numpy(errors.copy()),
            "probes": [
                [st, torch.from_numpy(r), torch.from_numpy(d), torch.from_numpy(n)] for st, r, d, n in probes
            ],
        }

    if first == 0:
        take_probe(0)
    progress = trainer.Progress(cfg.steps - first * cfg.chunk, "lop")
    for ci in range(first, n_chunks):
        if ci > first:
            slot.save(lambda ci=ci: snapshot(ci))
        xs, ys = zip(*(st.chunk(ci * cfg.chunk, cfg.chunk, ci) for st in streams), strict=True)
        x = np.stack(xs, axis=1)[:, seed_index]  # (K, S, m)
        y = np.stack(ys, axis=1)[:, seed_index]  # (K, S)
        errors[ci] = net.train(x, y, online.cbp_generators(member_seeds, streams_of, ci)).mean(axis=0)
        done = (ci + 1) * cfg.chunk
        if done % cfg.probe_every == 0:
            take_probe(done)
        progress.update(done - first * cfg.chunk, force=ci == n_chunks - 1)
    slot.save(lambda: snapshot(n_chunks), force=True)
    return _frame(cfg, members, errors, probes)


def _frame(cfg: Config, members, errors: np.ndarray, probes) -> pd.DataFrame:
    variants = [m for m, _ in members]
    seeds = [s for _, s in members]
    n = len(members)
    parts = [
        pd.DataFrame(
            {
                "variant": np.tile(variants, errors.shape[0]),
                "seed": np.tile(seeds, errors.shape[0]),
                "step": np.repeat((np.arange(errors.shape[0]) + 1) * cfg.chunk, n),
                "split": "train",
                "metric": "error",
                "value": errors.reshape(-1),
            }
        )
    ]
    for step, rank, dead, replaced in probes:
        for metric, values in (("effective_rank", rank), ("dead_units", dead), ("replaced_units", replaced)):
            parts.append(
                pd.DataFrame(
                    {
                        "variant": variants,
                        "seed": seeds,
                        "step": step,
                        "split": "probe",
                        "metric": metric,
                        "value": np.asarray(values, dtype=np.float64),
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    out["seed"] = out["seed"].astype(np.int64)
    out["step"] = out["step"].astype(np.int64)
    return out


# --- metrics ----------------------------------------------------------------------------------------------


def window_errors(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (variant, seed): mean error over the early window [window, 2·window) and the last window."""
    err = runs[(runs["split"] == "train") & (runs["metric"] == "error")]
    total = int(err["step"].max())
    # a chunk logged at step s covers (s − chunk, s]
    early = err[(err["step"] > cfg.window) & (err["step"] <= 2 * cfg.window)]
    late = err[err["step"] > total - cfg.window]
    out = pd.DataFrame(
        {
            "early": early.groupby(["variant", "seed"])["value"].mean(),
            "late": late.groupby(["variant", "seed"])["value"].mean(),
        }
    ).reset_index()
    out["ratio"] = out["late"] / out["early"]
    return out


def extract(runs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per (method, seed): the early and late window errors and their ratio, and the final probe values."""
    rows = []
    for r in window_errors(runs, cfg).itertuples():
        for metric in ("early", "late", "ratio"):
            rows.append(("stream", r.seed, r.variant, f"{metric}_error", getattr(r, metric)))
    probe = runs[runs["split"] == "probe"]
    final = probe[probe["step"] == probe["step"].max()]
    for r in final.itertuples():
        rows.append(("stream", r.seed, r.variant, f"final_{r.metric}", r.value))
    return pd.DataFrame(rows, columns=["point", "seed", "method", "metric", "value"])


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, pd.Series]:
    out = {}
    for claim, method, control in (
        ("backprop_loses_plasticity", "backprop", "stationary"),
        ("l2_keeps_plasticity", "l2", "backprop"),
        ("cbp_keeps_plasticity", "cbp", "backprop"),
    ):
        for key, m in ((claim, method), (claim + "/control", control)):
            values = per_seed(metrics, "ratio_error", method=m)
            if not values.empty:
                out[key] = values
    return out


# --- figures ----------------------------------------------------------------------------------------------

FIGURES = (
    Figure(
        "online_error",
        "Paper (official slowly-changing regression plot, 100 runs): backprop's online error rises over 1M "
        "examples while L2 and continual backprop stay low. Ours: mean squared online error per bin of 2T "
        "examples, mean over seeds with 95 % CI, per method; grey bands mark the early and late windows of "
        "the claims; the grey line is the negative control, backprop on the same stream without bit flips.",
        figures.draw_error,
    ),
    Figure(
        "plasticity_probes",
        "Paper Fig. 3 (permuted MNIST): under backprop the effective rank of the representation falls and dead "
        "units accumulate; L2 and continual backprop prevent it. Ours: effective rank and number of dead "
        "units of the 5 hidden ReLU units on fixed random inputs, over the stream (mean over seeds, 95 % CI).",
        figures.draw_probes,
    ),
)
