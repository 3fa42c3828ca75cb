"""Training of the XOR study: the Tversky grid of one intersection reduction, the linear baseline and the
hand-built Tversky solution (see the package docstring), as tidy run tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from reprosuite.engine.train import functional as fn
from reprosuite.engine.train import optim, trainer

from . import model as tversky

# The hand-built XOR solution (package docstring): features, prototypes (class 0, class 1), θ, α, β.
HANDBUILT_FEATURES = ((1.0, -2.0), (-2.0, 1.0))
HANDBUILT_PROTOTYPES = ((1.0, 1.0), (-1.0, -1.0))
HANDBUILT_THETA, HANDBUILT_ALPHA, HANDBUILT_BETA = 2.0, 1.0, 1.0
# A point counts as classified only if its true class wins by more than this margin. Cross-entropy drives a
# linear layer on XOR to the constant predictor (all logits equal, loss log 2), where float32 rounding of
# equal logits otherwise "classifies" all four points at random (seen: accuracy 1.0 at one step of 1000).
TIE_TOL = 1e-4


def decided_accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per member (S,): fraction of points whose true logit beats every other by more than ``TIE_TOL``."""
    own = torch.nn.functional.one_hot(y, logits.shape[-1]).bool().expand_as(logits)
    true = logits.masked_fill(~own, -torch.inf).amax(-1)
    other = logits.masked_fill(own, -torch.inf).amax(-1)
    return ((true - other) > TIE_TOL).to(logits.dtype).mean(-1)


def region_rows(margin: torch.Tensor, variant: str, seed: int) -> pd.DataFrame:
    """Score margin S(x, π₁) − S(x, π₀) over the region grid; ``step`` indexes the grid point (row-major)."""
    values = margin.detach().double().cpu().numpy()
    return pd.DataFrame(
        {
            "variant": variant,
            "seed": seed,
            "step": np.arange(values.size),
            "split": "region",
            "metric": "margin",
            "value": values,
        }
    )


def train_tversky(cfg, intersection: str, settings: list[dict], data: dict, seeds: list[int], device):
    """Every setting × seed of one intersection reduction, one ensemble; the decision regions of the first
    member that learned XOR (if any)."""
    x, y = torch.as_tensor(data["x"], dtype=torch.float32), torch.as_tensor(data["y"])
    x, y = x.to(device), y.to(device)
    members = [(st, seed) for st in settings for seed in seeds]
    layer = tversky.EnsembleTverskyProjection(
        2,
        2,
        [seed for _, seed in members],
        n_features=[st["n_features"] for st, _ in members],
        intersection=intersection,
        difference=[st["difference"] for st, _ in members],
        init=[st["init"] for st, _ in members],
        normalize=[st["normalize"] for st, _ in members],
        theta=cfg.theta,
        alpha=cfg.alpha,
        beta=cfg.beta,
        device=device,
    )
    opt = optim.AdamW(list(layer.parameters()), lr=cfg.lr, weight_decay=0.0)

    def evaluate(step):
        logits = layer(x)
        return {
            ("train", "loss"): fn.cross_entropy(logits, y),
            ("train", "accuracy"): decided_accuracy(logits, y),
        }

    history = trainer.fit(
        lambda step: fn.cross_entropy(layer(x), y),
        opt,
        cfg.epochs,
        evaluate,
        trainer.log_schedule(cfg.epochs, cfg.log_points),
        label=f"tversky {intersection}",
    )
    runs = history.frame([s for _, s in members], [st["name"] for st, _ in members])
    with torch.no_grad():
        accuracy = decided_accuracy(layer(x), y)
        learned = ((accuracy == 1) & opt.active).nonzero().flatten().tolist()
        if learned:
            i = learned[0]
            scores = layer(torch.as_tensor(data["region"], dtype=torch.float32, device=device))[i]
            runs = pd.concat(
                [runs, region_rows(scores[:, 1] - scores[:, 0], members[i][0]["name"], members[i][1])],
                ignore_index=True,
            )
    return runs


def handbuilt_scores(x: torch.Tensor, intersection: str, difference: str) -> torch.Tensor:
    """Similarities (B, 2) of the hand-built solution under one pair of reductions."""
    alpha, beta, theta = torch.tensor([[HANDBUILT_ALPHA], [HANDBUILT_BETA], [HANDBUILT_THETA]]).double()
    return tversky.contrast_similarity(
        x.double().cpu(),  # the hand-built solution is fixed: scored on CPU whatever the training device
        torch.tensor([HANDBUILT_PROTOTYPES], dtype=torch.float64),
        torch.tensor([HANDBUILT_FEATURES], dtype=torch.float64),
        alpha,
        beta,
        theta,
        intersection,
        difference,
    )[0]


def train_reference(cfg, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """The linear-layer baseline (trained, every step logged) and the hand-built Tversky solution."""
    x, y = torch.as_tensor(data["x"], dtype=torch.float32), torch.as_tensor(data["y"])
    x, y = x.to(device), y.to(device)
    members = [(lr, seed) for lr in cfg.baseline_lrs for seed in seeds]
    model = tversky.linear_baseline(2, 2, [s for _, s in members], device=device)
    opt = optim.AdamW(list(model.parameters()), lr=[lr for lr, _ in members], weight_decay=0.0)

    def evaluate(step):
        logits = model(x)
        return {
            ("train", "loss"): fn.cross_entropy(logits, y),
            ("train", "accuracy"): decided_accuracy(logits, y),
        }

    history = trainer.fit(
        lambda step: fn.cross_entropy(model(x), y),
        opt,
        cfg.epochs,
        evaluate,
        range(cfg.epochs + 1),  # every step: the claim is about the best accuracy ever reached
        label="xor linear",
    )
    parts = [history.frame([s for _, s in members], [f"linear-lr{lr:g}" for lr, _ in members])]
    region = torch.as_tensor(data["region"], dtype=torch.float32, device=device)
    with torch.no_grad():
        scores = model(region)[cfg.baseline_lrs.index(0.1) * len(seeds) if 0.1 in cfg.baseline_lrs else 0]
        parts.append(region_rows(scores[:, 1] - scores[:, 0], "linear", seeds[0]))
        for inter in tversky.INTERSECTIONS:
            for diff in tversky.DIFFERENCES:
                logits = handbuilt_scores(x, inter, diff).unsqueeze(0)
                acc = float(decided_accuracy(logits, y.cpu())[0])
                parts.append(
                    pd.DataFrame(
                        {
                            "variant": [f"handbuilt-{inter}-{diff}"],
                            "seed": [seeds[0]],
                            "step": [0],
                            "split": ["train"],
                            "metric": ["accuracy"],
                            "value": [acc],
                        }
                    )
                )
        scores = handbuilt_scores(region, "product", "ignorematch")
        parts.append(region_rows(scores[:, 1] - scores[:, 0], "handbuilt", seeds[0]))
    return pd.concat(parts, ignore_index=True)
