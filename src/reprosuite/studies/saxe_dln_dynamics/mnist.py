"""The MNIST depth sweep of the Saxe et al. study (Fig. 6A with Fig. 4's set-up, Supplementary Appendix C).

Deep linear nets 784 → 1000 → … → 1000 → 10 (no biases) trained by full-batch gradient descent on the training
error E = ½ Σ_μ ‖y^μ − W_tot x^μ‖² over the first 50,000 MNIST images (one-hot targets), with the paper's trick
(App. C, Eq. 13): E depends on the data only through Σ11 = Σ_μ x xᵀ and Σ31 = Σ_μ y xᵀ, so the network
propagates a 10-row matrix from its output side, W_tot = W_L ⋯ W_1, instead of 50,000 images:
E = ½ tr(W_tot Σ11 W_totᵀ) − tr(W_tot Σ31ᵀ) + ½ Σ_μ ‖y^μ‖². Its gradient is Eq. 13's update.

numpy for the data (``moments``); torch is imported inside the training functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import training

# Bytes of float32 weights trained in one ensemble of the MNIST sweep (ours): a part's peak memory is ~3× its
# weights (weights, gradients, the checkpoint's copy; the propagated products have 10 rows) plus the initial draws
# of one seed kept for the next part; at width 1000 and 99 weight layers a member holds 391 MB, so 2 per part
# (the probe's 6 GB address-space cap; see also :func:`_return_freed_blocks`)
WEIGHT_BUDGET = 800 * 2**20
# Members trained from the same draws: the centred arm starts from the orthogonal arm's weights (seed by seed)
SCHEMES = {"orthogonal": "orthogonal", training.CENTRED: "orthogonal", "gaussian": "gaussian_fan_in"}


def moments(n_train: int, images: np.ndarray | None = None, labels: np.ndarray | None = None) -> dict:
    """Σ11 (784×784), Σ31 (10×784) and the zero map's error ½ Σ_μ ‖y^μ‖² of the first ``n_train`` training images,
    pixels scaled to [0, 1] (ours) and one-hot targets (App. C); read from the official files unless given."""
    if images is None:
        from reprosuite.engine.data import official

        a = official.load("mnist")
        images, labels = a.x_train, a.y_train
    if len(images) < n_train:
        raise ValueError(f"mnist_train = {n_train} but the training split has {len(images)} images")
    x = images[:n_train].reshape(n_train, -1)
    lab = np.asarray(labels[:n_train])
    sxx = np.zeros((x.shape[1], x.shape[1]))
    for start in range(0, n_train, 5000):  # float64 in chunks: no float copy of the whole training set
        chunk = x[start : start + 5000].astype(np.float64) / 255.0
        sxx += chunk.T @ chunk
    syx = np.stack([x[lab == k].sum(axis=0, dtype=np.float64) / 255.0 for k in range(10)])
    return {"mnist_sxx": sxx, "mnist_syx": syx, "mnist_e0": np.float64(0.5 * n_train)}


def members_of(point: dict, cfg, seeds: list[int]) -> list[tuple[str, float, int]]:
    """(init, lr, seed) of a grid point, ordered so that members drawn alike are neighbours (their draws are reused)."""
    if "seed" in point:  # the full tier's MNIST points: one seed each
        seeds = [point["seed"]]
    members = [(init, lr, seed) for init in point["inits"] for lr in cfg.depth_lrs for seed in seeds]
    return sorted(members, key=lambda m: (SCHEMES[m[0]], m[2]))


def sizes_of(cfg, depth: int) -> list[int]:
    return [784] + [cfg.depth_width] * (depth - 1) + [10]


def depth_sweep(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """One grid point of the MNIST sweep (a depth, an init family, a seed): every learning rate, trained in parts
    of at most :data:`WEIGHT_BUDGET` bytes of weights; a member's run does not depend on its part."""
    _return_freed_blocks()
    members = members_of(point, cfg, seeds)
    sizes = sizes_of(cfg, point["depth"])
    weight_bytes = 4 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    per_part = max(1, WEIGHT_BUDGET // weight_bytes)
    parts = [members[i : i + per_part] for i in range(0, len(members), per_part)]
    cache: dict = {}
    frames = []
    for k, part in enumerate(parts):
        label = f"saxe mnist depth {point['depth']} {point['inits'][0]}" + (
            f" part {k}" if len(parts) > 1 else ""
        )
        frames.append(_train_part(cfg, sizes, data, part, device, label, cache))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _return_freed_blocks() -> None:
    """Serve blocks ≥ 1 MiB from mmap, so that a part's freed weights and gradients go back to the system. glibc
    otherwise raises its mmap threshold after the first frees and keeps the blocks in its heap, fragmented: a
    job's address space grew ~70 MB per part at 40 layers and a 99-layer job ran out of 6 GB by its 16th part;
    with the fixed threshold it stays flat. No effect (and no error) outside glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD = 1 MiB
    except (OSError, AttributeError):
        pass


def _draws(sizes: list[int], scheme: str, seed: int, cache: dict) -> list:
    """A member's initial weights, as :class:`EnsembleMLP` draws them (its own generator, layer by layer); the
    last seed's draws are kept for the next part."""
    import torch

    from reprosuite.engine.models import layers

    key = (tuple(sizes), scheme, seed)
    if cache.get("key") != key:
        cache.clear()  # free the previous draws first: at paper scale each holds ~0.4 GB
        gens = layers.generators([seed])
        ws = [
            layers.init_weight((b, a), scheme, gens).to(torch.float32)
            for a, b in zip(sizes[:-1], sizes[1:], strict=False)
        ]
        cache.update(key=key, weights=ws)
    return cache["weights"]


def product(weights) -> object:
    """W_tot = W_L ⋯ W_1 (S, 10, 784), multiplied from the output side: 10 rows per layer, not 784."""
    import torch

    total = weights[-1]
    for w in reversed(weights[:-1]):
        total = torch.matmul(total, w)
    return total


def _train_part(cfg, sizes, data: dict, members: list, device, label: str, cache: dict) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import optim

    dt = torch.float32
    drawn = [_draws(sizes, SCHEMES[m[0]], m[2], cache) for m in members]
    weights = []
    for layer in range(len(sizes) - 1):
        w = torch.cat([d[layer] for d in drawn]).to(device=device, dtype=dt)
        weights.append(w.requires_grad_())
    del drawn
    sxx = torch.as_tensor(data["mnist_sxx"], dtype=dt, device=device)
    syx = torch.as_tensor(data["mnist_syx"], dtype=dt, device=device)
    e0 = float(data["mnist_e0"])
    with torch.no_grad():  # the centred members' initial map, a constant of their function
        centred = torch.tensor([m[0] == training.CENTRED for m in members], device=device).view(-1, 1, 1)
        offset = torch.where(centred, product(weights), torch.zeros((), dtype=dt, device=device))
    opt = optim.SGD(weights, lr=[m[1] for m in members])
    level = cfg.mnist_threshold

    def loss(step=None):
        w = product(weights) - offset
        return 0.5 * ((w @ sxx) * w).sum(dim=(1, 2)) - (w * syx).sum(dim=(1, 2)) + e0

    return training.fit_to_criterion(loss, opt, level, cfg.depth_steps, members, label)
