"""The two-pathway experiment of Kleinman et al. (Fig. 2; official ``multipath/``): the hierarchical task, its
SVD, the official "diagonal" initialisation in the SVD basis, and gradient descent of two depth-D linear
pathways whose summed output fits the task while pathway b is deprived for a window of epochs."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Official Y_default (analysis_diag.py): 8 items × 15 hierarchical features (root, 2 branches, 4 pairs, 8 leaves).
TARGETS = np.concatenate(
    [np.ones((8, 1)), np.kron(np.eye(2), np.ones((4, 1))), np.kron(np.eye(4), np.ones((2, 1))), np.eye(8)],
    axis=1,
)
N_DIAG = 100  # official: diag_dim = 100 noisy initial strengths, sorted; the 8 largest seed the modes
NO_DEFICIT = -1  # deficit_start of the negative-control members: the same pathways trained without a deficit


def target_svd() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVD of Σyx = Yᵀ X / 8 with X = I₈ (official ``get_U_S_V``); mode strengths S_α = 8·s_α (the ODE's S)."""
    u, s, vt = np.linalg.svd(TARGETS.T / TARGETS.shape[0], full_matrices=True)
    return u, s * TARGETS.shape[0], vt.T


def initial_weights(cfg, depth: int, member_seeds: list[int], data: dict):
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


def run(cfg, depth: int, data: dict, seeds: list[int], device, control: bool = False) -> pd.DataFrame:
    """Members = deficit start × seed, plus (``control``) members without a deficit (start ``NO_DEFICIT``)."""
    import torch

    from reprosuite.engine.train import optim, trainer

    dtype = getattr(torch, cfg.dtype)
    begins = [*cfg.deficit_starts, *([NO_DEFICIT] if control else [])]
    members = [(start, seed) for start in begins for seed in seeds]
    member_seeds = [seed for _, seed in members]
    init, _ = initial_weights(cfg, depth, member_seeds, data)
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
        blocked = ((starts >= 0) & (starts <= step) & (step < starts + cfg.deficit_length)).view(-1, 1, 1)
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
    return history.frame(
        member_seeds,
        [f"D{depth}_start{start}" if start >= 0 else f"D{depth}_nodeficit" for start, _ in members],
        members={"depth": [depth] * len(members), "deficit_start": [start for start, _ in members]},
    )
