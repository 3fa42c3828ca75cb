"""The official synthetic experiment (unconstrained features): one job per depth, its ensemble members the
(variant, seed) pairs, and the NC metrics of one member against its variant's theoretical target."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import collapse

WD0 = "_wd0"  # variant suffix of the negative-control members, trained without weight decay


def sizes(cfg, variant: str) -> tuple[int, ...]:
    return cfg.imbalanced_sizes if variant.removesuffix(WD0) == "imbalanced" else cfg.balanced_sizes


def member_metrics(
    features: list[np.ndarray], classifiers: list[np.ndarray], labels: np.ndarray, variant: str, cfg
) -> dict[str, float]:
    """NC metrics of one member against its variant's theoretical target, from its layer views m = 1..M.

    ``features[m−1]`` = W_{m−1} ⋯ W_1 H (N, d) is the input of layer m and ``classifiers[m−1]`` =
    W_M ⋯ W_m (K, d) maps it to the output. NC1 and NC2 are maximised over layers. NC3 is the same at
    every layer, since W_M ⋯ W_m times the layer's class means is W_M ⋯ W_1 H̄: it is computed once, on H.
    """
    k, depth = cfg.n_classes, len(classifiers)
    # a diverged member (frozen by the trainer at non-finite values) has nothing to measure
    if not all(np.isfinite(a).all() for a in (*features, *classifiers)):
        return dict.fromkeys(["nc1", "nc2", "nc3", *_norm_names(k)], np.nan)
    bias = variant.removesuffix(WD0) == "balanced_bias"
    if bias:
        nc2_targets, nc3_target = [collapse.simplex_etf(k)] * depth, collapse.simplex_etf(k)
    else:
        nc2_targets, nc3_target = collapse.closed_form_targets(
            sizes(cfg, variant), depth, cfg.lambda_w, cfg.lambda_h
        )
    means, mu_g = collapse.class_means(features[0], labels, k)
    product = classifiers[0]
    out = {
        "nc1": max(collapse.nc1(f, labels, k) for f in features),
        "nc2": max(collapse.nc2(c, t) for c, t in zip(classifiers, nc2_targets, strict=True)),
        "nc3": collapse.nc3(product, means - mu_g if bias else means, nc3_target),
    }
    norms = np.concatenate([np.linalg.norm(product, axis=1), np.linalg.norm(means, axis=1)])
    out.update(zip(_norm_names(k), norms.tolist(), strict=True))
    return out


def _norm_names(n_classes: int) -> list[str]:
    """Row norms of W_M ⋯ W_1, then class-mean norms of H."""
    return [f"w_norm_{j}" for j in range(n_classes)] + [f"h_norm_{j}" for j in range(n_classes)]


def train(cfg, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import optim, trainer

    dtype = getattr(torch, cfg.dtype)
    depth, d, k = int(point["depth"]), cfg.hidden, cfg.n_classes
    # members: variant-major, seeds within; then the same without weight decay where the point has the control
    kinds = [*cfg.variants, *([f"{v}{WD0}" for v in cfg.variants] if point.get("control") else [])]
    variants = [v for v in kinds for _ in seeds]
    member_seeds = [s for _ in kinds for s in seeds]
    labels = np.stack([data[f"labels_{v.removesuffix(WD0)}"] for v in variants])  # (S, N)
    s_count, n = labels.shape
    y = torch.nn.functional.one_hot(torch.as_tensor(labels), k).to(device=device, dtype=dtype)  # (S, N, K)

    # parameters: H and W_1 … W_M ~ N(0, init_std²); b ~ U(±1/√d) (nn.Linear's default, via fan_in = K)
    # or masked to 0. W_1 … W_{M−1} (all d × d) are one (S, M−1, d, d) tensor: one optimiser update, not M−1.
    gens = layers.generators(member_seeds)
    h = layers.init_weight((n, d), "gaussian", gens, cfg.init_std)  # (S, N, d)
    hidden = [layers.init_weight((d, d), "gaussian", gens, cfg.init_std) for _ in range(depth - 1)]
    w_stack = torch.stack(hidden, 1) if hidden else torch.zeros(s_count, 0, d, d, dtype=torch.float64)
    w_last = layers.init_weight((k, d), "gaussian", gens, cfg.init_std)  # (S, K, d)
    has_bias = torch.tensor([v.removesuffix(WD0) == "balanced_bias" for v in variants], dtype=torch.float64)
    b = layers.init_weight((k,), "uniform_fan_in", gens, (k / d) ** 0.5) * has_bias[:, None]  # (S, K)
    params = [torch.nn.Parameter(p.to(device=device, dtype=dtype)) for p in (h, w_stack, w_last, b)]
    h, w_stack, w_last, b = params
    mask = has_bias.to(device=device, dtype=dtype)[:, None, None]
    decayed = torch.tensor([not v.endswith(WD0) for v in variants], device=device, dtype=dtype)
    lambda_w, lambda_h = cfg.lambda_w * decayed, cfg.lambda_h * decayed  # (S,): 0 for the control members

    def objective() -> torch.Tensor:
        product = w_last  # (S, K, d), contracted from the class side: K·d² per layer
        for w in reversed(w_stack.unbind(1)):
            product = product @ w
        out = h @ product.transpose(1, 2) + mask * b[:, None, :]  # (S, N, K)
        fit = ((out - y) ** 2).sum((1, 2)) / (2 * n)
        decay_w = (w_stack**2).sum((1, 2, 3)) + (w_last**2).sum((1, 2))
        return fit + decay_w * (lambda_w / 2) + (h**2).sum((1, 2)) * (lambda_h / 2)

    def evaluate(step: int) -> dict[tuple[str, str], torch.Tensor]:
        # layer views in torch (one thread; numpy's BLAS threads contend with other jobs), metrics in numpy
        hidden = [w.double() for w in w_stack.unbind(1)]
        features = [h.double()]  # W_{m−1} ⋯ W_1 H, (S, N, d)
        for w in hidden:
            features.append(features[-1] @ w.transpose(1, 2))
        classifiers = [w_last.double()]  # W_M ⋯ W_m, (S, K, d)
        for w in reversed(hidden):
            classifiers.insert(0, classifiers[0] @ w)
        feats = [f.cpu().numpy() for f in features]
        clfs = [c.cpu().numpy() for c in classifiers]
        rows = [
            member_metrics([f[i] for f in feats], [c[i] for c in clfs], labels[i], variants[i], cfg)
            for i in range(s_count)
        ]
        logged = {("train", "loss"): objective()}
        for name in rows[0]:
            logged["train", name] = torch.tensor([r[name] for r in rows], dtype=torch.float64)
        return logged

    opt = optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=0.0)
    log_steps = trainer.log_schedule(cfg.steps, cfg.log_points, spacing="linear")
    history = trainer.fit(
        lambda step: objective(), opt, cfg.steps, evaluate, log_steps, label=f"nc M={depth}"
    )
    return history.frame(member_seeds, variants)
