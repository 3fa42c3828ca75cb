"""Modular-arithmetic equations and seeded splits (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from reprosuite.engine.data import modular


@pytest.mark.parametrize("op", modular.OPERATIONS)
def test_equations(op):
    p = 7
    a, b, c = modular.equations(p, op)
    assert len(a) == (p * (p - 1) if op == "/" else p * p)
    for x, y, z in zip(a, b, c, strict=True):
        if op == "+":
            assert z == (x + y) % p
        elif op == "-":
            assert z == (x - y) % p
        elif op == "*":
            assert z == (x * y) % p
        else:
            assert (z * y) % p == x  # a / b is the z with z · b = a (mod p)
    with pytest.raises(ValueError):
        modular.equations(p, "^")


def test_train_mask_size_seed_and_nesting():
    n = 100
    m4, m6 = modular.train_mask(n, 0.4, 3), modular.train_mask(n, 0.6, 3)
    assert m4.sum() == 40 and m6.sum() == 60
    assert not (m4 & ~m6).any()  # one permutation per seed: smaller training sets are subsets
    assert np.array_equal(m4, modular.train_mask(n, 0.4, 3))
    assert not np.array_equal(m4, modular.train_mask(n, 0.4, 4))
    masks = modular.train_masks(n, [0.4, 0.6], [3, 4])
    assert masks.shape == (2, 2, n) and np.array_equal(masks[0, 0], m4)
    with pytest.raises(ValueError):
        modular.train_mask(n, 1.0, 0)


def test_paper_batch_size():
    assert modular.paper_batch_size(481) == 241  # ceil(|train| / 2)
    assert modular.paper_batch_size(4704) == 512  # capped
