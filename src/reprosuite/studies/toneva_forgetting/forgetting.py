"""Example-forgetting statistics (Toneva et al. 2019, arXiv:1812.05159), in numpy.

Definitions follow the official code, mtoneva/example_forgetting ``order_examples_by_forgetting.py``
(``compute_forgetting_statistics`` and ``sort_examples_by_forgetting``):

- the input is, per training run, the correctness of every example at each of its presentations — recorded in
  the minibatch in which it is presented, from the forward pass that precedes the update (``run_mnist.py``);
  here a (presentations × examples) 0/1 matrix;
- a **forgetting event** is a transition correct → incorrect between two consecutive presentations
  (``transitions == -1``); the forgetting count of an example is the number of such events;
- an example is **learned** if it is correct at some presentation; a never-learned example gets the maximal
  count: the official code adds ``npresentations`` (the paper says such examples are "forgotten an infinite
  number of times"; ``never_learned=np.inf`` gives that; both sort the same, since a learned example is
  forgotten at most ⌊P/2⌋ < P times);
- **unforgettable** = learned and never forgotten (count 0);
- heavy tail (ours; the paper shows histograms only): the counts are overdispersed relative to a Poisson law
  with the same mean, :func:`dispersion_index` (variance / mean) > 1; :func:`tail_ratio` compares P(count ≥ k)
  with the Poisson's;
- over several runs, examples are ordered by the **sum** of their counts (never-learned runs adding P), in
  ascending order, and the least forgettable are removed first (``run_mnist.py --remove_n``, ``keep_lowest_n 0``).
"""

from __future__ import annotations

import math

import numpy as np


def _check(correct: np.ndarray) -> np.ndarray:
    c = np.asarray(correct)
    if c.ndim != 2:
        raise ValueError(f"correctness must be (presentations, examples), got shape {c.shape}")
    if c.size and not np.isin(c, (0, 1)).all():
        raise ValueError("correctness entries must be 0 or 1")
    return c.astype(np.int8)


def forgetting_events(correct: np.ndarray) -> np.ndarray:
    """Per example, the number of correct → incorrect transitions between consecutive presentations."""
    c = _check(correct)
    return (np.diff(c, axis=0) == -1).sum(axis=0).astype(np.int64)


def learned(correct: np.ndarray) -> np.ndarray:
    """Per example, whether it was classified correctly at some presentation."""
    return _check(correct).any(axis=0)


def forgetting_counts(correct: np.ndarray, never_learned: float | None = None) -> np.ndarray:
    """Forgetting count per example; never-learned examples get ``never_learned`` (default: P, as official)."""
    c = _check(correct)
    value = float(c.shape[0]) if never_learned is None else float(never_learned)
    counts = forgetting_events(c).astype(float)
    counts[~learned(c)] = value
    return counts


def unforgettable(correct: np.ndarray) -> np.ndarray:
    """Per example, learned at some presentation and never forgotten."""
    return learned(correct) & (forgetting_events(correct) == 0)


def order_by_forgetting(counts_per_run: np.ndarray) -> np.ndarray:
    """Example indices, least forgettable first, by the sum of counts over runs (rows); ties keep index order."""
    total = np.atleast_2d(np.asarray(counts_per_run, dtype=float)).sum(axis=0)
    return np.argsort(total, kind="stable")


def keep_after_removal(order: np.ndarray, fraction: float) -> np.ndarray:
    """Sorted indices kept after removing the first ``round(fraction · n)`` examples of ``order``."""
    n = len(order)
    k = int(round(fraction * n))
    return np.sort(np.asarray(order)[k:])


def poisson_tail(mean: float, k: int) -> float:
    """P(X ≥ k) for X ~ Poisson(mean)."""
    return 1.0 - sum(math.exp(-mean) * mean**j / math.factorial(j) for j in range(k))


def tail_ratio(counts: np.ndarray, k: int = 2) -> float:
    """Heavy tail vs Poisson: observed P(count ≥ k) over a Poisson's with the same mean (learned examples only).

    Forgetting spread evenly over examples (independent rare events) would be Poisson; a ratio > 1 means more
    examples are forgotten often than that, with the excess of zeros (unforgettable examples) on the other end.
    ``counts`` must hold the learned examples' counts (finite, non-negative).
    """
    x = np.asarray(counts, dtype=float)
    if x.size == 0 or not np.isfinite(x).all() or (x < 0).any():
        raise ValueError("tail_ratio needs finite, non-negative counts of learned examples")
    mean = float(x.mean())
    if mean == 0:
        return math.nan
    return float(np.mean(x >= k)) / poisson_tail(mean, k)


def dispersion_index(counts: np.ndarray) -> float:
    """Variance over mean of the learned examples' counts: 1 for Poisson (forgetting spread evenly over
    examples), 1 + mean for a geometric law; > 1 = overdispersed (excess of never- and often-forgotten examples).
    """
    x = np.asarray(counts, dtype=float)
    if x.size < 2 or not np.isfinite(x).all() or (x < 0).any():
        raise ValueError("dispersion_index needs ≥ 2 finite, non-negative counts of learned examples")
    mean = float(x.mean())
    return float(x.var(ddof=1)) / mean if mean > 0 else math.nan


def unforgettable_in_all(counts_per_run: np.ndarray) -> float:
    """The official multi-run statistic (``order_examples_by_forgetting.py``, "number of unforgettable
    examples"): the share of examples whose counts summed over the runs (rows; never-learned runs count P) are 0,
    i.e. learned and never forgotten in every run."""
    total = np.atleast_2d(np.asarray(counts_per_run, dtype=float)).sum(axis=0)
    return float(np.mean(total == 0))
