"""Low-rank matrix completion with deep linear factorisations, for ensembles of members.

Data (numpy, seeded by the caller's generator), after the deep-matrix-factorisation code of Arora et al. 2019
(roosephu/deep_matrix_factorization) as used by Kleinman et al. 2023 (``matrixcompletion/model_utils.py``):

- :func:`low_rank` — a rank-r ground truth U Vᵀ/√r with Gaussian factors, rescaled to ‖W‖_F = n (entries of RMS 1);
- :func:`observed_indices` — ``n_obs`` distinct observed entries as flat indices into the n×n matrix;
- :func:`held_out_mask` — the entries that were not observed.

Model (torch): :class:`DeepFactorisation` holds S members' factors W_1 … W_D (each n×n) with the end-to-end
matrix W_d ⋯ W_1 of member depth d. Members of different depths share one ensemble: a member shallower than the
ensemble's D has its extra layers replaced by the identity in the product, so they receive no gradient and it
trains exactly like a stand-alone depth-d factorisation. :func:`fit` trains an ensemble with plain SGD on the
observed entries (``0.5·mean`` squared error, the official ``get_train_loss``) through the suite's one training
loop and can keep snapshots of the factors at chosen steps (e.g. to branch a pre-trained run into several
continuations). Losses are per member, (S,).

The data functions are numpy only and torch is imported where the model needs it, so a study's ``make_data`` can
use this module without importing torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

    from reprosuite.engine.train import trainer

# ------------------------------------------------------------------------------------------------------- data


def low_rank(n: int, rank: int, rng: np.random.Generator) -> np.ndarray:
    """An n×n matrix of the given rank: U Vᵀ/√r with U, V ~ N(0, 1)^{n×r}, scaled so that ‖W‖_F = n."""
    if not 1 <= rank <= n:
        raise ValueError(f"rank must be in [1, {n}], got {rank}")
    u = rng.standard_normal((n, rank))
    v = rng.standard_normal((n, rank))
    w = u @ v.T / math.sqrt(rank)
    return w / np.linalg.norm(w) * n


def observed_indices(n: int, n_obs: int, rng: np.random.Generator) -> np.ndarray:
    """``n_obs`` distinct entries of an n×n matrix, drawn uniformly, as sorted flat indices (row·n + column)."""
    if not 1 <= n_obs <= n * n:
        raise ValueError(f"n_obs must be in [1, {n * n}], got {n_obs}")
    return np.sort(rng.choice(n * n, size=n_obs, replace=False)).astype(np.int64)


def held_out_mask(n: int, index: np.ndarray) -> np.ndarray:
    """Boolean n×n mask of the entries not in ``index``."""
    mask = np.ones(n * n, dtype=bool)
    mask[index] = False
    return mask.reshape(n, n)


# ------------------------------------------------------------------------------------------------------ model


class DeepFactorisation:
    """S members W_{d_s} ⋯ W_1 of n×n factors; members may differ in depth d_s ≤ D = max depth.

    ``init_scale`` sets the Frobenius norm of the initial end-to-end matrix: every factor of a depth-d member is
    N(0, init_scale^{2/d}/n), so ‖W_d ⋯ W_1‖_F ≈ init_scale·√n (the official ``init_model(..., 'gaussian')``).
    """

    def __init__(
        self,
        n: int,
        depths: Sequence[int],
        seeds: Sequence[int],
        init_scale: float | Sequence[float] = 1e-3,
        dtype=None,
        device=None,
    ):
        import torch

        from reprosuite.engine.models import layers

        depths = [int(d) for d in depths]
        if len(depths) != len(seeds):
            raise ValueError(f"{len(depths)} depths for {len(seeds)} members")
        if min(depths) < 1:
            raise ValueError(f"depths must be >= 1, got {depths}")
        scales = (
            [float(init_scale)] * len(depths) if isinstance(init_scale, int | float) else list(init_scale)
        )
        gens = layers.generators(seeds)
        std = [s ** (1.0 / d) / math.sqrt(n) for s, d in zip(scales, depths, strict=True)]
        weights = [layers.init_weight((n, n), "gaussian", gens, std) for _ in range(max(depths))]
        self._setup(weights, depths, dtype or torch.float32, device or "cpu")

    def _setup(self, weights: Sequence[Tensor], depths: Sequence[int], dtype, device) -> None:
        import torch

        self.n = weights[0].shape[-1]
        self.depths = tuple(int(d) for d in depths)
        self.weights = [torch.nn.Parameter(w.to(device=device, dtype=dtype)) for w in weights]
        # active[s, l]: layer l is one of member s's factors; inactive layers act as the identity
        active = torch.tensor([[layer < d for layer in range(len(weights))] for d in self.depths])
        self.active = active.to(device)
        self.eye = torch.eye(self.n, dtype=dtype, device=device)

    @classmethod
    def from_factors(cls, weights: Sequence[Tensor], depths: Sequence[int]) -> DeepFactorisation:
        """An ensemble whose member s starts from the factors ``w[s]`` of each layer (e.g. snapshots)."""
        model = cls.__new__(cls)
        model._setup([w.detach().clone() for w in weights], depths, weights[0].dtype, weights[0].device)
        return model

    @property
    def size(self) -> int:
        return len(self.depths)

    def parameters(self) -> list[Tensor]:
        return list(self.weights)

    def product(self) -> Tensor:
        """End-to-end matrices W_d ⋯ W_1, (S, n, n)."""
        import torch

        total = None
        for layer, w in enumerate(self.weights):
            on = self.active[:, layer].view(-1, 1, 1)
            if bool(on.all()):
                factor = w
            elif not bool(on.any()):
                continue
            else:
                factor = torch.where(on, w, self.eye)  # identity for shallower members: no gradient reaches w
            total = factor if total is None else factor @ total
        return total

    def factors(self) -> list[Tensor]:
        """Detached copies of the factors, one (S, n, n) tensor per layer."""
        return [w.detach().clone() for w in self.weights]


# ----------------------------------------------------------------------------------------------------- losses


def observed_loss(e2e: Tensor, index: Tensor, values: Tensor) -> Tensor:
    """0.5·mean over observed entries of (W_e2e − target)², per member; index, values (S, m) or (m,)."""
    s = e2e.shape[0]
    index = index.expand(s, -1) if index.dim() == 1 else index
    pred = e2e.flatten(1).gather(1, index)
    return 0.5 * ((pred - values) ** 2).mean(dim=1)


def matrix_mse(e2e: Tensor, truth: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean squared error over all entries (the official ``get_test_loss``), or over ``mask``, per member."""
    err = (e2e - truth) ** 2
    if mask is None:
        return err.flatten(1).mean(dim=1)
    mask = mask.to(err.dtype).expand_as(err)
    return (err * mask).flatten(1).sum(dim=1) / mask.flatten(1).sum(dim=1)


# ------------------------------------------------------------------------------------------------- training


def fit(
    model: DeepFactorisation,
    index: Tensor,
    truth: Tensor,
    steps: int,
    lr: float | Sequence[float],
    log_steps: Sequence[int],
    keep: Sequence[int] = (),
    label: str = "completion",
) -> tuple[trainer.History, dict[int, list[Tensor]]]:
    """Train every member on its observed entries ``truth[s].flatten()[index[s]]`` with SGD for ``steps`` steps.

    ``index`` (S, m) flat indices, ``truth`` (S, n, n). Logs per member ``train/loss`` (observed entries),
    ``test/loss`` (all entries, the official test loss) and ``test/held_out`` (unobserved entries only). Returns
    the history and the factors after each step in ``keep`` (those steps are logged too). The run is one
    :func:`trainer.fit` per stretch between kept steps, so a checkpointed job that resumes restores the snapshots
    with the parameters.
    """
    import torch

    from reprosuite.engine.train import optim, trainer

    keep = sorted(set(int(k) for k in keep))
    if any(k < 0 or k > steps for k in keep):
        raise ValueError(f"snapshot steps {keep} outside [0, {steps}]")
    values = truth.flatten(1).gather(1, index)
    held = torch.ones_like(truth, dtype=torch.bool).flatten(1).scatter(1, index, False).view_as(truth)

    def evaluate(step: int) -> dict[tuple[str, str], Tensor]:
        e2e = model.product()
        return {
            ("train", "loss"): observed_loss(e2e, index, values),
            ("test", "loss"): matrix_mse(e2e, truth),
            ("test", "held_out"): matrix_mse(e2e, truth, held),
        }

    history = trainer.History(model.size)
    snapshots: dict[int, list[Tensor]] = {0: model.factors()} if 0 in keep else {}
    bounds = sorted({0, steps, *keep})
    for begin, end in zip(bounds[:-1] or [0], bounds[1:] or [0], strict=True):
        logs = [s - begin for s in log_steps if begin <= s <= end]
        part = trainer.fit(
            lambda step: observed_loss(model.product(), index, values),
            optim.SGD(list(model.parameters()), lr=lr),  # plain SGD keeps no state across stretches
            end - begin,
            evaluate,
            logs,
            label=label,
        )
        _append(history, part, begin)
        if end in keep:
            snapshots[end] = model.factors()
    return history, snapshots


def _append(history: trainer.History, part: trainer.History, offset: int) -> None:
    """Extend ``history`` with ``part`` shifted by ``offset`` steps (a step logged twice is kept once)."""
    import torch

    for key, (steps, values) in part.records.items():
        have_steps, have_values = history.records.setdefault(key, ([], []))
        for step, value in zip(steps, values, strict=True):
            if not have_steps or step + offset > have_steps[-1]:
                have_steps.append(step + offset)
                have_values.append(value)
    fresh = torch.isnan(history.diverged_at) & ~torch.isnan(part.diverged_at)
    history.diverged_at[fresh] = part.diverged_at[fresh] + offset
