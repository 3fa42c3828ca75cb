"""Augmentation on a device: the torchvision / Cutout transforms, example by example, and their draws."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from reprosuite.engine.data import augment
from reprosuite.engine.models import layers

MEAN, STD = torch.tensor([0.49, 0.48, 0.45]), torch.tensor([0.25, 0.24, 0.26])


def normalise(raw):
    return (raw / 255 - MEAN.view(3, 1, 1)) / STD.view(3, 1, 1)


def reference(raw, offset, flip, centre, padding, length):
    """One image the way torchvision and Cutout transform it: pad the raw image with black, crop, flip,
    normalise, then zero a length × length square clipped at the border (Cutout's numpy code)."""
    h = raw.shape[-1]
    img = F.pad(raw, (padding,) * 4)[:, offset[0] : offset[0] + h, offset[1] : offset[1] + h]
    img = normalise(img.flip(-1) if flip else img)
    if centre is not None:
        mask = np.ones((h, h), np.float32)
        y1, y2 = np.clip(centre[0] - length // 2, 0, h), np.clip(centre[0] + length // 2, 0, h)
        x1, x2 = np.clip(centre[1] - length // 2, 0, h), np.clip(centre[1] + length // 2, 0, h)
        mask[y1:y2, x1:x2] = 0.0
        img = img * torch.from_numpy(mask)
    return img


@pytest.mark.parametrize("cutout", [0, 16, 5])
def test_each_image_is_cropped_flipped_and_cut_out_as_the_official_transforms(cutout):
    g = torch.Generator().manual_seed(0)
    raw = torch.randint(0, 256, (2, 7, 3, 12, 12), generator=g).float()
    gens = layers.generators([1, 2])
    draws = augment.draw(gens, 7, 12, 4, cutout)
    out = augment.apply(normalise(raw.view(-1, 3, 12, 12)).view(raw.shape), draws, -MEAN / STD, 4, cutout)
    assert out.shape == raw.shape
    for n in range(14):
        s, b = divmod(n, 7)
        centre = None if not cutout else draws.centres[n].tolist()
        ref = reference(raw[s, b], draws.offsets[n].tolist(), bool(draws.flips[n]), centre, 4, cutout)
        torch.testing.assert_close(out[s, b], ref, rtol=1e-6, atol=1e-6)


def test_draws_cover_their_ranges_repeat_with_the_seed_and_differ_between_members():
    a = augment.draw(layers.generators([3, 4]), 4000, 32, 4, 16)
    assert a.offsets.min() == 0 and a.offsets.max() == 8
    assert set(np.bincount(a.offsets.flatten().numpy()) > 800) == {True}  # each of 9 offsets ≈ 8000 / 9
    assert abs(float(a.flips.float().mean()) - 0.5) < 0.02
    assert a.centres.min() == 0 and a.centres.max() == 31
    b = augment.draw(layers.generators([3, 4]), 4000, 32, 4, 16)
    assert torch.equal(a.offsets, b.offsets) and torch.equal(a.centres, b.centres)
    assert not torch.equal(a.offsets[:4000], a.offsets[4000:])  # two members, two streams
    none = augment.draw(layers.generators([3]), 5, 32, 4, 0)
    assert none.centres is None


def test_a_restored_generator_state_draws_the_same_batch():
    gens = layers.generators([7])
    augment.draw(gens, 64, 32, 4, 16)
    state = gens[0].get_state()
    first = augment.draw(gens, 64, 32, 4, 16)
    gens[0].set_state(state)
    assert torch.equal(augment.draw(gens, 64, 32, 4, 16).offsets, first.offsets)


def test_augment_checks_its_input():
    with pytest.raises(ValueError, match=r"expected \(S=2"):
        augment.augment(torch.zeros(3, 4, 3, 8, 8), layers.generators([1, 2]), torch.zeros(3))
    with pytest.raises(ValueError, match="square"):
        augment.augment(torch.zeros(1, 4, 3, 8, 6), layers.generators([1]), torch.zeros(3))


def test_normalised_is_totensor_then_normalize_per_channel():
    x = np.random.default_rng(2).integers(0, 256, (4, 3, 5, 5), dtype=np.uint8)
    ours = augment.normalised(x, (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), "cpu")
    ref = (x.astype(np.float32) / 255 - np.array([0.5, 0.4, 0.3], np.float32)[:, None, None]) / np.array(
        [0.2, 0.25, 0.3], np.float32
    )[:, None, None]
    assert ours.shape == (4, 3, 25) and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy().reshape(4, 3, 5, 5), ref, rtol=1e-6, atol=1e-6)
    flat = augment.normalised(x.reshape(4, -1), (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), "cpu")
    assert torch.equal(flat, ours)  # rows channels first, as the CIFAR files store them
