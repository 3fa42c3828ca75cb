"""Kumar, Bordelon, Gershman, Pehlevan 2023 — grokking as the transition from lazy to rich training.

Paper: "Grokking as the Transition from Lazy to Rich Training Dynamics", arXiv:2310.06110 (ICLR 2024). The
authors' supplementary notebook is reproduced in giovana-morais/amlds_final_project
(``grokking-feature-timescales-anon-final.ipynb``, "Figure 1" cell), which we followed.

Claims: without any regularisation, a two-layer network on polynomial regression first fits the training set
with its initial features — kernel regression with the initial NTK, which does not generalise — and
generalises only later, once it learns features (Fig. 1); the delay is set by the output scale α (larger α:
lazier, slower feature learning, §3) and by the alignment of the initial kernel with the target. Times (ours):
t_x = the first logged epoch with MSE_x < 0.1 · Var(y_x), x ∈ {train, test}; a time never reached within the
budget is censored (claims.censored_at: the delay is then only known to be ≥ epochs / t_train). Claims (all
empirical; thresholds ours, the paper shows curves), each with the same negative control — the same network,
α and seeds on a linear target y = β·x (grid point ``linear_target``), which the initial kernel already
represents, so lazy training generalises and no lazy-to-rich transition is needed:
1. delay_at_alpha1 — t_test/t_train at α = 1, geometric mean over seeds (a ratio), ≥ 2;
2. alignment_rises — the NTK–target alignment at t_test (the last value logged at or before it) over its
   initial value, α = 1, mean ≥ 2;
3. lazy_never_generalises — the test MSE / Var(y_test) of kernel regression with the initial NTK (K₀⁺y: where
   GD on the linearised model converges; the notebook's ``kernel_regression``), min over α, mean ≥ 0.1; the
   finite-budget linearised curve is kept for the figure;
4. delay_grows_with_alpha — Spearman(α, t_test/t_train) per seed, mean ≥ 0.8 (one adjacent swap among 4 α);
   a never-reached delay is taken at its bound and beyond every delay, and where the two Spearman values
   differ the seed's value is a censored lower bound — so censoring alone cannot pass the claim (at quick,
   α = 2 and 4 rarely generalise within 10⁴ epochs: honestly inconclusive there).
The control stops once all its members have fitted and generalised (more epochs change none of its values).

Set-up (notebook): x ~ N(0, I_D/D), β ~ N(0, I_D), y = (β·x)²/2; hidden weights W ~ N(0, 1) (N × D);
f(x) = α · mean_i φ(w_i·x), φ(z) = z + εz²/2, readouts frozen (``NN_func2``); centred loss
mean((f − f_init − y)²); full-batch GD with η = N/α², no weight decay; the linearised model (first-order Taylor
expansion at initialisation, :mod:`reprosuite.engine.analysis.kernels`, in closed form) trained with the same
η and loss; kernel alignment = the notebook's ``kalignment`` of the empirical NTK on test inputs. The network
is computed through its sufficient statistics (``kernels.quadratic_two_layer``: the same function and
gradients, 3× faster than the N-unit form). All α × seeds of one target train in one batched job.

Tiers: full is the paper's Fig. 1 set-up (run on one CPU thread in 53 min, ``benchmarks/RESULTS.md``). quick:
D 50, P 300, N 200, ε 0.05, α {0.5, 1, 2, 4}, 10⁴ epochs; smoke: D 20, P 120, N 64, 2000 epochs, pipeline check
only.
Cost (2-core CPU, one thread): smoke ≈ 12 CPU-s in-process; quick ≈ 71 CPU-s of training, ≈ 96 CPU-s in all; the
linear-target control stops after ≈ 40 epochs and adds ≈ 4 % of the training time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reprosuite import claims
from reprosuite.claims import Claim, Rule, Sample
from reprosuite.study import Figure, Paper, seed_list, seed_positions

from . import figures
from .amendments import AMENDMENTS as AMENDMENTS  # the study interface's amendments
from .analysis import claim_values, kernel_regression, metric_table
from .analysis import extract as extract  # the study interface's extract
from .analysis import member_table as member_table

PAPER = Paper(
    title="Grokking as the Transition from Lazy to Rich Training Dynamics",
    authors="Kumar, Bordelon, Gershman, Pehlevan",
    year=2023,
    arxiv="2310.06110",
    venue="ICLR 2024",
)

COST = {
    "smoke": "~12 CPU-s",
    "quick": "~71 CPU-s training, ~96 CPU-s whole run",
    "full": "53 CPU-min of training, run here (the control 40 CPU-s)",
}


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # not stated; ours
    dim: int = 100  # D, input dimension (Fig. 1)
    n_train: int = 550  # P, training points (Fig. 1)
    width: int = 500  # N, hidden units (Fig. 1)
    eps: float = 0.02  # ε of φ(z) = z + εz²/2 (Fig. 1)
    alphas: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)  # output scale α (§3: laziness); ours: these five
    epochs: int = 100000  # full-batch GD steps (Fig. 1)
    n_test: int = 1000  # notebook: 1000 test points
    align_points: int = 1000  # ours: test inputs on which the NTK alignment is computed
    align_logs: int = 100  # ours: log-spaced alignment evaluations
    mse_every: int = 50  # ours: MSE logged every this many epochs (every epoch over the first 10 intervals)
    threshold: float = 0.1  # ours: generalised / fitted when MSE < threshold · Var(y)


QUICK = replace(
    Config(),
    dim=50,
    n_train=300,
    width=200,
    eps=0.05,
    alphas=(0.5, 1.0, 2.0, 4.0),
    epochs=10000,
    align_points=300,
    align_logs=60,
    mse_every=10,
)
TIERS = {
    "full": Config(),
    "quick": QUICK,
    "smoke": replace(
        QUICK,
        seeds=2,
        dim=20,
        n_train=120,
        width=64,
        alphas=(0.5, 1.0, 4.0),
        epochs=2000,
        n_test=400,
        align_points=100,
        align_logs=20,
        mse_every=20,
    ),
}
WHY = {
    "seeds": "smoke: seconds, for tests",
    "dim": "a smaller problem for the 2-core CPU budget (quick ≤ 3 min)",
    "n_train": "a smaller problem for the 2-core CPU budget",
    "width": "a smaller network for the 2-core CPU budget",
    "eps": "calibrated with the smaller problem and budget (ours)",
    "alphas": "t_train about doubles with α (~6.5k epochs at α 4): α 8 would not fit in 10⁴; smoke: three",
    "epochs": "2-core CPU budget (quick ≤ 3 min; smoke: seconds, for tests)",
    "n_test": "smoke: fewer test points, for tests",
    "align_points": "the NTK on the alignment points costs points² per evaluation: fewer for the CPU budget",
    "align_logs": "fewer alignment evaluations for the shorter runs",
    "mse_every": "a finer MSE grid for the shorter runs' first-crossing times",
}
CONTROL_POINT = "linear_target"  # the negative control's grid point (grid)
CONTROL_TEXT = (
    "a linear target y = β·x, which the initial kernel already represents (high initial alignment, so no "
    "lazy-to-rich transition is needed), same network, α and seeds"
)
CLAIMS = (
    Claim(
        "delay_at_alpha1",
        "At α = 1 the network generalises long after it fits: t_test / t_train ≥ 2.",
        metric="t_test / t_train at α = 1 (MSE < 0.1·Var(y)), per seed (censored where never reached)",
        rule=Rule.at_least(2.0),
        paper_text="Fig. 1: train loss falls early, test loss much later (grokking without regularisation)",
        statistic="geomean",
        control=CONTROL_TEXT,
    ),
    Claim(
        "alignment_rises",
        "Feature learning aligns the NTK with the target: alignment at t_test ≥ 2× its initial value (α = 1).",
        metric="NTK–target alignment (test inputs) at t_test / at initialisation, α = 1, per seed",
        rule=Rule.at_least(2.0),
        paper_text="Fig. 1: NTK alignment rises as the test loss falls (late-time feature learning)",
        control=CONTROL_TEXT,
    ),
    Claim(
        "lazy_never_generalises",
        "The linearised (lazy) model never generalises: even converged, its test MSE stays above 0.1·Var(y).",
        metric="test MSE / Var(y_test) of kernel regression with the initial NTK (the linearised model at "
        "t → ∞), min over α, per seed",
        rule=Rule.at_least(0.1),
        paper_text="Fig. 1: the linearised model's test loss plateaus at the kernel-regression value",
        control=CONTROL_TEXT,
    ),
    Claim(
        "delay_grows_with_alpha",
        "The grokking delay grows with the output scale α (Spearman ≥ 0.8).",
        metric="Spearman(α, t_test / t_train), per seed (censored where a never-reached delay decides it)",
        rule=Rule.at_least(0.8),
        paper_text="§3: α controls the rate of feature learning and hence the grokking time",
        control=CONTROL_TEXT,
    ),
)


# --- data and grid ----------------------------------------------------------------------------------------


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Per seed: train/test inputs N(0, I/D), the teacher direction β ~ N(0, I) and targets (β·x)²/2."""
    xs, xts, ys, yts, ls, lts = [], [], [], [], [], []
    for seed in seed_list(cfg):
        rng = np.random.default_rng([20231009, seed])
        beta = rng.standard_normal(cfg.dim)
        x = rng.standard_normal((cfg.n_train, cfg.dim)) / math.sqrt(cfg.dim)
        xt = rng.standard_normal((cfg.n_test, cfg.dim)) / math.sqrt(cfg.dim)
        xs.append(x)
        xts.append(xt)
        ys.append((x @ beta) ** 2 / 2)
        yts.append((xt @ beta) ** 2 / 2)
        ls.append(x @ beta)  # the control's target: linear, in the initial kernel's leading eigenspace
        lts.append(xt @ beta)
    return {
        "x_train": np.stack(xs),
        "x_test": np.stack(xts),
        "y_train": np.stack(ys),
        "y_test": np.stack(yts),
        "y_train_linear": np.stack(ls),
        "y_test_linear": np.stack(lts),
    }


def grid(cfg: Config) -> dict[str, dict]:
    """The paper's quadratic target, and the negative control: the same network on a linear target."""
    return {
        "all": {"alphas": list(cfg.alphas), "target": "quadratic"},
        CONTROL_POINT: {"alphas": list(cfg.alphas), "target": "linear"},
    }


# --- training ---------------------------------------------------------------------------------------------


def train(cfg: Config, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.analysis import kernels
    from reprosuite.engine.models import layers
    from reprosuite.engine.train import optim, trainer

    dt = torch.float32
    alphas = [float(a) for a in point["alphas"]]
    members = [(a, s) for a in alphas for s in seeds]
    idx = torch.tensor([seeds.index(s) for _, s in members], device=device)
    rows = seed_positions(cfg, seeds)  # the seeds' rows in the data

    def per_member(key):
        return torch.as_tensor(data[key][rows], dtype=dt).to(device)[idx]

    suffix = "_linear" if point.get("target") == "linear" else ""
    x, xt = per_member("x_train"), per_member("x_test")
    y, yt = per_member(f"y_train{suffix}"), per_member(f"y_test{suffix}")
    xa, ya = xt[:, : cfg.align_points], yt[:, : cfg.align_points]
    eps = cfg.eps

    def phi(z):
        return z + 0.5 * eps * z * z

    def dphi(z):
        return 1 + eps * z

    w0 = layers.init_weight((cfg.width, cfg.dim), "gaussian", layers.generators([s for _, s in members]))
    w0 = w0.to(device=device, dtype=dt)
    w = torch.nn.Parameter(w0.clone())
    readout = torch.tensor([a / cfg.width for a, _ in members], dtype=dt, device=device)
    readout = readout.unsqueeze(1).expand(-1, cfg.width)  # frozen: α/N each
    with torch.no_grad():
        f0, f0t = kernels.two_layer(x, w0, readout, phi), kernels.two_layer(xt, w0, readout, phi)
        align0 = kernels.kernel_alignment(kernels.two_layer_ntk(xa, xa, w0, readout, dphi), ya)
    lrs = [cfg.width / a**2 for a, _ in members]
    opt = optim.SGD([w], lr=lrs)
    var_tr, var_te = y.var(-1, unbiased=False), yt.var(-1, unbiased=False)

    def net(inputs):  # f = α·mean_i φ(w_i·x), computed through its sufficient statistics (engine.kernels)
        return kernels.quadratic_two_layer(inputs, w, readout, eps)

    def losses(step):
        return ((net(x) - f0 - y) ** 2).mean(-1)

    align_steps = set(trainer.log_schedule(cfg.epochs, cfg.align_logs))
    # every epoch over the first 10 grid intervals: early times (the control's) are exact, not grid-rounded
    mse_steps = set(range(0, cfg.epochs + 1, cfg.mse_every)) | set(range(min(10 * cfg.mse_every, cfg.epochs)))

    def evaluate(step):
        out = {}
        if step in mse_steps or step == cfg.epochs:
            out[("train", "mse")] = ((net(x) - f0 - y) ** 2).mean(-1)
            out[("test", "mse")] = ((net(xt) - f0t - yt) ** 2).mean(-1)
        if step in align_steps or step == cfg.epochs:
            ntk = kernels.two_layer_ntk(xa, xa, w, readout, dphi)
            out[("test", "alignment")] = kernels.kernel_alignment(ntk, ya)
            out[("test", "alignment_ratio")] = out[("test", "alignment")] / align0
            out[("train", "weight_change")] = (w - w0).flatten(1).norm(dim=1) / w0.flatten(1).norm(dim=1)
        return out

    def reached(history) -> bool:
        # the control (linear target) stops once every member has fitted and generalised: its times are then
        # known, and more epochs would change none of its claim values
        for split, var in (("train", var_tr), ("test", var_te)):
            _, values = history.records[(split, "mse")]
            if not bool((values[-1] < cfg.threshold * var).all()):
                return False
        return True

    history = trainer.fit(
        losses,
        opt,
        cfg.epochs,
        evaluate,
        sorted(mse_steps | align_steps),
        done=reached if suffix else None,
        label=f"kumar lazy-rich {point.get('target', 'quadratic')}",
    )
    member_alphas, labels = [a for a, _ in members], [f"alpha{a:g}" for a, _ in members]
    runs = history.frame([s for _, s in members], labels, members={"alpha": member_alphas})
    # the linearised model, trained by the same GD from the same start, in closed form (engine.kernels)
    lazy_steps = sorted(mse_steps | {cfg.epochs})
    with torch.no_grad():
        k_tr = kernels.two_layer_ntk(x, x, w0, readout, dphi)
        k_te = kernels.two_layer_ntk(xt, x, w0, readout, dphi)
        pred_tr, pred_te = kernels.lazy_gd_predictions(k_tr, k_te, y, torch.tensor(lrs), lazy_steps)
        lazy = {
            "train": ((pred_tr - y.double().unsqueeze(1)) ** 2).mean(-1),
            "test": ((pred_te - yt.double().unsqueeze(1)) ** 2).mean(-1),
        }  # (S, T)
        krr = ((kernel_regression(k_tr, k_te, y) - yt.double()) ** 2).mean(-1)  # the lazy model at t → ∞
    for split, values in lazy.items():
        runs = pd.concat(
            [
                runs,
                pd.DataFrame(
                    {
                        "variant": np.repeat(labels, len(lazy_steps)),
                        "alpha": np.repeat(member_alphas, len(lazy_steps)),
                        "seed": np.repeat([s for _, s in members], len(lazy_steps)),
                        "step": np.tile(lazy_steps, len(members)),
                        "split": split,
                        "metric": "lin_mse",
                        "value": values.cpu().numpy().reshape(-1),
                    }
                ),
            ],
            ignore_index=True,
        )
    extra = pd.DataFrame(
        {
            "variant": labels * 3,
            "alpha": member_alphas * 3,
            "seed": [s for _, s in members] * 3,
            "step": [0] * (2 * len(members)) + [cfg.epochs] * len(members),
            "split": ["train"] * len(members) + ["test"] * (2 * len(members)),
            "metric": ["target_var"] * (2 * len(members)) + ["kernel_regression_mse"] * len(members),
            "value": torch.cat([var_tr.double(), var_te.double(), krr]).cpu().numpy(),
        }
    )
    return pd.concat([runs, extra], ignore_index=True)


# --- metrics ----------------------------------------------------------------------------------------------


def measure(metrics: pd.DataFrame, cfg: Config) -> dict[str, Sample]:
    out = claim_values(metric_table(metrics), cfg)
    for claim, values in claim_values(metric_table(metrics, CONTROL_POINT), cfg).items():
        out[f"{claim}{claims.CONTROL}"] = values
    return out


FIGURES = (
    Figure(
        "loss_alignment",
        "Paper Fig. 1: the train loss falls early (the network first fits with its initial kernel, like the "
        "linearised model whose test loss plateaus), the test loss falls much later, when the NTK aligns with "
        "the target. Ours: centred train (dashed) and test (solid) MSE of the network (blue) and of the "
        "linearised model (black), the generalisation threshold 0.1·Var(y_test) (dotted), and the NTK–target "
        "alignment on test inputs (green, right axis), one seed per output scale α.",
        figures.loss_alignment,
    ),
    Figure(
        "delay_vs_alpha",
        "Paper §3: the output scale α sets the rate of feature learning, so larger α (lazier) delays "
        "generalisation. Ours: epochs for train and test MSE to reach 0.1·Var(y) (left) and the delay "
        "t_test/t_train (right) against α, one line per seed.",
        figures.delay_vs_alpha,
    ),
)
