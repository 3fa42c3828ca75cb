"""Image augmentation on a device, per member: random crops of a padded image, horizontal flips and Cutout; and the
normalisation of uint8 images that precedes it (:func:`normalised`).

These are the training transforms of the CIFAR scripts that train ResNets (torchvision's ``RandomCrop(32,
padding=4)`` and ``RandomHorizontalFlip()``, then ``ToTensor``, ``Normalize`` and DeVries & Taylor 2017's
``Cutout(n_holes=1, length=16)``), applied to a batch of already normalised images at once:

- crop: the image padded with ``padding`` pixels of black on every side, then a window of its own size at an offset
  drawn uniformly from 0 … 2·padding in each direction. Black is raw pixel 0, which normalisation maps to
  ``fill`` = −mean / std per channel (torchvision pads the PIL image before normalising);
- flip: left-right with probability 1/2;
- Cutout: a ``length`` × ``length`` square centred on a uniformly drawn pixel, clipped at the border, set to 0
  after normalisation.

Every member draws its own parameters from its own CPU generator (the same draws on any device; a training loop
checkpoints the generators' states), in this order per batch: crop offsets (B, 2), flips (B,), Cutout centres
(B, 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Draws:
    """The random parameters of one batch, (S·B, …) member-major: crop offsets (row, column), flips, and Cutout
    centres (row, column) or None."""

    offsets: Tensor
    flips: Tensor
    centres: Tensor | None


def draw(gens: Sequence[torch.Generator], batch: int, side: int, padding: int, cutout: int) -> Draws:
    """Each member's parameters for a batch of ``batch`` images of ``side`` × ``side`` pixels."""
    offsets, flips, centres = [], [], []
    for g in gens:
        offsets.append(torch.randint(0, 2 * padding + 1, (batch, 2), generator=g))
        flips.append(torch.rand(batch, generator=g) < 0.5)
        if cutout:
            centres.append(torch.randint(0, side, (batch, 2), generator=g))
    return Draws(torch.cat(offsets), torch.cat(flips), torch.cat(centres) if cutout else None)


def apply(x: Tensor, draws: Draws, fill: Tensor, padding: int, cutout: int = 0) -> Tensor:
    """Crop, flip and cut out the images ``x`` (S, B, C, H, W) (or (N, C, H, W)) as ``draws`` say; ``fill`` (C,)
    is the value of a padded pixel."""
    shape = x.shape
    n, c, h, w = x.reshape(-1, *shape[-3:]).shape
    device = x.device
    padded = (
        fill.to(device=device, dtype=x.dtype).view(1, c, 1, 1).repeat(n, 1, h + 2 * padding, w + 2 * padding)
    )
    padded[:, :, padding : padding + h, padding : padding + w] = x.reshape(n, c, h, w)
    offsets = draws.offsets.to(device)
    rows = offsets[:, :1] + torch.arange(h, device=device)  # (N, H)
    cols = offsets[:, 1:] + torch.arange(w, device=device)  # (N, W)
    # (N, H, W, C): the advanced indices come first, the channel slice last
    out = padded[torch.arange(n, device=device)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    out = out.permute(0, 3, 1, 2)
    out = torch.where(draws.flips.to(device).view(n, 1, 1, 1), out.flip(-1), out)
    if cutout:
        centres = draws.centres.to(device)
        half = cutout // 2
        lo, hi = (
            (centres - half).clamp(min=0),
            (centres + half).clamp(max=torch.tensor([h, w], device=device)),
        )
        r, q = torch.arange(h, device=device), torch.arange(w, device=device)
        inside_r = (r >= lo[:, :1]) & (r < hi[:, :1])  # (N, H)
        inside_c = (q >= lo[:, 1:]) & (q < hi[:, 1:])  # (N, W)
        keep = ~(inside_r[:, :, None] & inside_c[:, None, :])
        out = out * keep[:, None].to(out.dtype)
    return out.contiguous().reshape(shape)


def normalised(x, mean: Sequence[float], std: Sequence[float], device) -> Tensor:
    """uint8 images, rows (N, C·H·W) channels first or (N, C, H, W), as torchvision's ``ToTensor`` and
    ``Normalize(mean, std)`` make them: float32 (N, C, H·W) on ``device``, pixel / 255 − mean, over std per
    channel."""
    c = len(mean)
    t = torch.as_tensor(x, device=device).reshape(len(x), c, -1).float().div_(255)
    m, s = (torch.tensor(v, device=device)[:, None] for v in (mean, std))
    return t.sub_(m).div_(s)


def augment(
    x: Tensor, gens: Sequence[torch.Generator], fill: Tensor, padding: int = 4, cutout: int = 0
) -> Tensor:
    """Member ``s``'s images ``x[s]`` (S, B, C, H, W) augmented with draws from ``gens[s]``."""
    if x.dim() != 5 or x.shape[0] != len(gens):
        raise ValueError(f"expected (S={len(gens)}, B, C, H, W) images, got {tuple(x.shape)}")
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"square images only, got {tuple(x.shape[-2:])}")
    return apply(x, draw(gens, x.shape[1], x.shape[-1], padding, cutout), fill, padding, cutout)
