"""Once per process: the same key and array bytes give the first result without computing it again."""

import numpy as np

from reprosuite.engine.data import memo


def test_a_result_is_computed_once_per_key_and_array_bytes():
    calls = []

    def compute(value):
        calls.append(value)
        return value

    a = np.arange(6.0).reshape(2, 3)
    assert memo.once(("test memo", 1), [a], lambda: compute("first")) == "first"
    # the same bytes through another layout: the stored result
    assert memo.once(("test memo", 1), [np.asfortranarray(a)], lambda: compute("second")) == "first"
    assert memo.once(("test memo", 2), [a], lambda: compute("other key")) == "other key"
    assert memo.once(("test memo", 1), [a + 1], lambda: compute("other data")) == "other data"
    assert calls == ["first", "other key", "other data"]


def test_the_digest_follows_the_values_and_their_order():
    a, b = np.zeros(3), np.ones(3)
    assert memo.digest([a, b]) == memo.digest([a.copy(), b.copy()])
    assert memo.digest([a, b]) != memo.digest([b, a])
