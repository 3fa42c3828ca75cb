import math

import numpy as np
import pytest

from reprosuite.studies.toneva_forgetting import forgetting as fg

# presentations × examples; columns:
# 0 always correct; 1 learned at presentation 2, never forgotten; 2 forgotten once (1,0,1,1);
# 3 forgotten twice (1,0,1,0); 4 never learned; 5 learned only at the last presentation;
# 6 correct then forgotten for good (1,1,0,0)
C = np.array(
    [
        [1, 0, 1, 1, 0, 0, 1],
        [1, 1, 0, 0, 0, 0, 1],
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0, 1, 0],
    ]
)


def test_forgetting_events_and_counts_by_hand():
    assert fg.forgetting_events(C).tolist() == [0, 0, 1, 2, 0, 0, 1]
    assert fg.learned(C).tolist() == [True, True, True, True, False, True, True]
    assert fg.forgetting_counts(C).tolist() == [0, 0, 1, 2, 4, 0, 1]  # never learned → P = 4 (official)
    assert fg.forgetting_counts(C, never_learned=np.inf)[4] == np.inf
    assert fg.unforgettable(C).tolist() == [True, True, False, False, False, True, False]


def test_official_reference_implementation():
    """Same counts as the official compute_forgetting_statistics + sort_examples_by_forgetting logic."""
    rng = np.random.default_rng(0)
    c = (rng.random((30, 200)) < 0.7).astype(int)
    c[:, :5] = 0  # a few never learned
    expected = []
    for j in range(c.shape[1]):
        acc = c[:, j]
        transitions = acc[1:] - acc[:-1]
        forgotten = np.where(transitions == -1)[0] + 2
        first = np.where(acc == 1)[0][0] if (acc == 1).any() else np.nan
        expected.append(30 if np.isnan(first) else len(forgotten))
    assert fg.forgetting_counts(c).tolist() == expected


def test_order_and_removal():
    runs = np.array([[0, 3, 1, 0, 2], [1, 0, 1, 0, 2]])  # sums 1, 3, 2, 0, 4
    order = fg.order_by_forgetting(runs)
    assert order.tolist() == [3, 0, 2, 1, 4]
    assert fg.keep_after_removal(order, 0.4).tolist() == [1, 2, 4]  # removes the 2 least forgettable
    assert fg.keep_after_removal(order, 0.0).tolist() == [0, 1, 2, 3, 4]
    assert fg.order_by_forgetting(np.array([2, 0, 0, 1])).tolist() == [1, 2, 3, 0]  # stable on ties


def test_tail_ratio_against_poisson():
    assert fg.poisson_tail(1.0, 2) == pytest.approx(1 - 2 / math.e)
    assert fg.poisson_tail(0.5, 0) == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    poisson = rng.poisson(0.8, size=200_000)
    assert fg.tail_ratio(poisson) == pytest.approx(1.0, abs=0.02)
    # geometric with the same mean (overdispersed) has a heavier tail
    geometric = rng.geometric(1 / 1.8, size=200_000) - 1
    assert geometric.mean() == pytest.approx(0.8, abs=0.02)
    assert fg.tail_ratio(geometric, k=3) > 1.5  # (0.8/1.8)³ / P(Poisson(0.8) ≥ 3) = 1.85
    assert fg.dispersion_index(poisson) == pytest.approx(1.0, abs=0.02)
    assert fg.dispersion_index(geometric) == pytest.approx(1.8, abs=0.05)  # 1 + mean
    assert fg.dispersion_index(np.array([0, 0, 0, 4])) == pytest.approx(4.0)  # var 4 (ddof 1) / mean 1
    # a hand case: counts 0,0,0,4 → mean 1, P(≥2) = 1/4
    assert fg.tail_ratio(np.array([0, 0, 0, 4])) == pytest.approx(0.25 / (1 - 2 / math.e))
    with pytest.raises(ValueError):
        fg.tail_ratio(np.array([0.0, np.inf]))


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="presentations, examples"):
        fg.forgetting_events(np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="0 or 1"):
        fg.forgetting_events(np.array([[0, 2]]))


def test_unforgettable_in_every_run_is_the_official_multi_run_count():
    # per-run counts (never-learned = P = 5): example 0 unforgettable in both runs, 1 in run 0 only, 2 never
    # learned in run 1, 3 forgotten in both
    counts = np.array([[0, 0, 0, 1], [0, 2, 5, 1]])
    assert fg.unforgettable_in_all(counts) == pytest.approx(1 / 4)
    assert fg.unforgettable_in_all(counts[:1]) == pytest.approx(3 / 4)  # one run: the per-run share
    assert fg.unforgettable_in_all(counts) <= min(fg.unforgettable_in_all(c) for c in counts)
