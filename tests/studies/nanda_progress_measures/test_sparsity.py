import numpy as np
import pytest

from reprosuite.studies.nanda_progress_measures.sparsity import count_for_share, gini


def test_gini_known_values():
    assert gini(np.ones(7)) == pytest.approx(0.0)
    one_hot = np.zeros(10)
    one_hot[3] = 2.5
    assert gini(one_hot) == pytest.approx(1 - 1 / 10)
    # hand-computed: c = (1, 3) → 1 − 2·[(1/4)(1.5/2) + (3/4)(0.5/2)] = 0.25
    assert gini(np.array([3.0, 1.0])) == pytest.approx(0.25)
    # batched along the last axis, and scale-invariant
    batch = np.stack([np.ones(5), 7 * np.array([0, 0, 0, 0, 1.0])])
    np.testing.assert_allclose(gini(batch), [0.0, 0.8])
    assert np.isnan(gini(np.zeros(4)))
    with pytest.raises(ValueError):
        gini(np.array([1.0, -1.0]))


def test_gini_grows_with_concentration():
    x = np.array([1.0, 1.0, 1.0, 1.0])
    assert gini(x) < gini(np.array([1.0, 1.0, 1.0, 5.0])) < gini(np.array([0.0, 0.0, 1.0, 5.0]))


def test_count_for_share():
    e = np.array([0.05, 0.5, 0.3, 0.1, 0.05])
    assert count_for_share(e, 0.5) == 1
    assert count_for_share(e, 0.8) == 2
    assert count_for_share(e, 0.9) == 3
    assert count_for_share(e, 1.0) == 5
    # exact share with equal entries: 9 of 10 hold 90 %
    assert count_for_share(np.ones(10), 0.9) == 9
    np.testing.assert_array_equal(count_for_share(np.array([[1.0, 0, 0], [1, 1, 1]]), 0.9), [1, 3])
    with pytest.raises(ValueError):
        count_for_share(e, 0.0)
