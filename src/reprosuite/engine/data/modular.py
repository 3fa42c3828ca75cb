"""Modular-arithmetic datasets (Power et al. 2022, §2): every equation ``a ∘ b = c (mod p)`` and seeded splits.

numpy only, so a study's ``make_data`` can build the tables without importing torch. The equations are listed
row-major over (a, b); a split is a boolean mask over that list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

OPERATIONS = ("+", "-", "*", "/")


def equations(p: int, op: str = "+") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Operands ``a, b`` and answers ``c = a ∘ b mod p`` of all equations, each an int64 array.

    ``/`` is ``a · b⁻¹ mod p`` (p prime), defined for ``b ≠ 0`` only, as in the paper's division task.
    """
    if op not in OPERATIONS:
        raise ValueError(f"unknown operation {op!r}; choose from {OPERATIONS}")
    a, b = (x.reshape(-1) for x in np.meshgrid(np.arange(p), np.arange(p), indexing="ij"))
    if op == "/":
        keep = b != 0
        a, b = a[keep], b[keep]
        c = a * np.array([pow(int(x), -1, p) for x in b], dtype=np.int64) % p
    elif op == "+":
        c = (a + b) % p
    elif op == "-":
        c = (a - b) % p
    else:
        c = a * b % p
    return a.astype(np.int64), b.astype(np.int64), c.astype(np.int64)


def train_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the ``round(fraction · n)`` training equations for ``seed``.

    The first equations of one seeded permutation, as the official code's ``ArithmeticDataset.splits``: for a
    given seed the training set of a smaller fraction is a subset of that of a larger one.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"train fraction must lie in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(n)
    mask = np.zeros(n, dtype=bool)
    mask[order[: int(round(fraction * n))]] = True
    return mask


def train_masks(n: int, fractions: Sequence[float], seeds: Sequence[int]) -> np.ndarray:
    """Masks for every (fraction, seed): a bool array (F, S, n)."""
    return np.stack([np.stack([train_mask(n, f, s) for s in seeds]) for f in fractions])


def paper_batch_size(n_train: int, cap: int = 512) -> int:
    """The official code's default batch size, ``min(512, ceil(|train| / 2))`` (``ArithmeticIterator``)."""
    return min(cap, -(-n_train // 2))


class MemberBatches:
    """Per-member minibatches of training equations, reshuffled every epoch as the official ``ArithmeticIterator``.

    ``train`` is a bool array (S, n) of equal row sums; ``at(step)`` gives the (S, batch) indices into the
    equation list used at that step, member ``s`` shuffling with a generator seeded by ``(seeds[s], epoch)`` (so it
    matches a single run with that seed). The batch is a function of the step alone, so a run resumed from a
    checkpoint sees the same data order. An epoch is ``n_train // batch`` full batches; the remainder (at most one
    equation under the paper's ``ceil(n / 2)`` rule) is left out of that epoch and reshuffled into the next.
    """

    def __init__(self, train: np.ndarray, batch: int, seeds: Sequence[int]):
        counts = train.sum(axis=1)
        if len(set(counts.tolist())) != 1:
            raise ValueError(f"members have different training-set sizes {sorted(set(counts.tolist()))}")
        if not 0 < batch <= counts[0]:
            raise ValueError(f"batch {batch} outside 1..{counts[0]}")
        self.index = np.stack([np.flatnonzero(row) for row in train])  # (S, n_train)
        self.batch = batch
        self.per_epoch = self.index.shape[1] // batch
        self.seeds = [int(s) for s in seeds]
        self.epoch: int | None = None
        self.order: np.ndarray | None = None

    def at(self, step: int) -> np.ndarray:
        epoch, k = divmod(step, self.per_epoch)
        if epoch != self.epoch:
            # a stream apart from the split's: (seed, 1, epoch)
            rngs = [np.random.default_rng([s, 1, epoch]) for s in self.seeds]
            self.order = np.stack([rng.permutation(self.index.shape[1]) for rng in rngs])
            self.epoch = epoch
        pick = self.order[:, k * self.batch : (k + 1) * self.batch]
        return np.take_along_axis(self.index, pick, axis=1)
