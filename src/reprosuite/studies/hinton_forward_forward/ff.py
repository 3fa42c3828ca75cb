"""The pieces of the forward-forward paper's experiments: label embedding, negative data, the hybrid images of the
unsupervised variant, the learning-rate cooldown, and an optimiser of two parts (layers and readout)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from reprosuite.engine.train import optim

NEG_STREAM, HYBRID_STREAM = 104_729, 130_363  # tags of the per-step random streams, apart from data order
PROBE_STEP = 2**40  # the "step" of the fixed negatives that the per-epoch losses are measured on


def step_generator(seed: int, tag: int, step: int) -> torch.Generator:
    """A CPU generator that is a function of (seed, stream tag, step) only: a resumed run redraws the same."""
    state = np.random.SeedSequence([int(seed), tag, int(step)]).generate_state(1)[0]
    return torch.Generator().manual_seed(int(state))


def embed(x: Tensor, labels: Tensor, n_classes: int, mode: str) -> Tensor:
    """The label written into the input: one-hot over the first ``n_classes`` pixels (``overwrite``, the paper's
    §3.3 and the official code's first 10 pixels, blank border on MNIST) or prepended (``concat``). ``labels``
    holds a class per row of x (..., in); a negative label value (−1) writes the neutral label 1 / C per class."""
    hot = F.one_hot(labels.clamp(min=0), n_classes).to(x.dtype)
    hot = torch.where((labels < 0).unsqueeze(-1), torch.full_like(hot, 1.0 / n_classes), hot)
    if mode == "concat":
        return torch.cat([hot, x], dim=-1)
    if mode == "overwrite":
        return torch.cat([hot, x[..., n_classes:]], dim=-1)
    raise ValueError(f"unknown label mode {mode!r}; choose overwrite or concat")


def phase_labels(
    y: Tensor, seeds: list[int], step: int, n_classes: int, independent: Tensor
) -> tuple[Tensor, Tensor]:
    """(positive, negative) labels of one step, each (S, B) for true labels y (S, B).

    A normal member: positive = the true label, negative = a wrong label uniform over the other C − 1 classes
    (the official code's ``_get_neg_sample``). A member flagged ``independent`` (the negative control): both
    labels uniform over all C classes, drawn independently of the image and of each other, so positive and
    negative inputs have the same distribution and nothing in them tells the phases apart.
    """
    pos, neg = [], []
    for s, seed in enumerate(seeds):
        g = step_generator(seed, NEG_STREAM, step)
        shift = torch.randint(1, n_classes, y.shape[1:], generator=g).to(y.device)
        rand_pos = torch.randint(0, n_classes, y.shape[1:], generator=g).to(y.device)
        rand_neg = torch.randint(0, n_classes, y.shape[1:], generator=g).to(y.device)
        ind = bool(independent[s])
        pos.append(rand_pos if ind else y[s])
        neg.append(rand_neg if ind else (y[s] + shift) % n_classes)
    return torch.stack(pos), torch.stack(neg)


def hybrid_masks(count: int, side: int, blurs: int, generator: torch.Generator) -> Tensor:
    """Masks (count, side²) for hybrid negative images (§3.2 [third-party summaries]): random bits blurred
    ``blurs`` times with the filter [¼, ½, ¼] horizontally and vertically, thresholded at ½, so the mask has large
    coherent regions of ones and zeros."""
    m = torch.randint(0, 2, (count, 1, side, side), generator=generator).float()
    k = torch.tensor([0.25, 0.5, 0.25])
    for _ in range(blurs):
        m = F.conv2d(F.pad(m, (1, 1, 0, 0), mode="replicate"), k.view(1, 1, 1, 3))
        m = F.conv2d(F.pad(m, (0, 0, 1, 1), mode="replicate"), k.view(1, 1, 3, 1))
    return (m > 0.5).float().view(count, side * side)


def hybrids(x: Tensor, seeds: list[int], step: int, blurs: int) -> Tensor:
    """Negative images (S, B, in) for positives x (S, B, in): mask · x + (1 − mask) · x of another example of the
    same batch (a per-step random pairing), one mask per example."""
    side = int(round(x.shape[-1] ** 0.5))
    out = []
    for s, seed in enumerate(seeds):
        g = step_generator(seed, HYBRID_STREAM, step)
        b = x.shape[1]
        partner = (torch.arange(b) + torch.randint(1, b, (1,), generator=g)) % b  # never the image itself
        mask = hybrid_masks(b, side, blurs, g).to(x.device, x.dtype)
        out.append(mask * x[s] + (1 - mask) * x[s, partner.to(x.device)])
    return torch.stack(out)


def cooldown(epochs: int, per_epoch: int):
    """The official code's learning-rate schedule (``get_linear_cooldown_lr``): constant for the first half of
    the epochs, then linearly down to 2 / epochs of the initial rate (epoch counted from 0)."""

    def scale(step: int) -> float:
        epoch = step // per_epoch
        return 1.0 if epoch <= epochs // 2 else 2 * (1 + epochs - epoch) / epochs

    return scale


class Joint(optim.EnsembleOptimizer):
    """Several ensemble optimisers stepped as one (the official code's two parameter groups: the layers and the
    linear readout, each with its own learning rate and weight decay)."""

    def __init__(self, parts: list[optim.EnsembleOptimizer]):
        self.parts = parts
        self.params = [p for o in parts for p in o.params]
        self.size = parts[0].size

    @property
    def active(self) -> Tensor:
        return self.parts[0].active

    @active.setter
    def active(self, value: Tensor) -> None:
        for o in self.parts:
            o.active = value

    @torch.no_grad()
    def step(self, lr_scale: float = 1.0) -> None:
        for o in self.parts:
            o.step(lr_scale)

    def state_dict(self) -> dict:
        return {"parts": [o.state_dict() for o in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        for o, s in zip(self.parts, state["parts"], strict=True):
            o.load_state_dict(s)
