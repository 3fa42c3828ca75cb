"""The length-generalisation tasks and their input encoding, as in the official code
(google-deepmind/neural_networks_chomsky_hierarchy, ``tasks/``; ``experiments/utils.make_model_with_empty_targets``).

A task maps a string of ``length`` symbols to ``out_len(length)`` target symbols. The model reads the one-hot input
followed by ``out_len`` "empty" tokens (one extra one-hot dimension) and its outputs are read at the last
``out_len`` positions. Binary alphabet for all string tasks (paper §4); modular arithmetic modulo 5 over the
numbers 0-4 and the operators + − * (``tasks/regular/modular_arithmetic.py``, odd lengths only: an even length is
lowered by one, as there).
"""

from __future__ import annotations

import numpy as np

MODULUS = 5
PLUS, MINUS, TIMES = MODULUS, MODULUS + 1, MODULUS + 2  # operator tokens of modular arithmetic
# task -> (input vocabulary, output classes); the input one-hot has one more dimension for the empty token
VOCAB = {
    "parity": (2, 2),
    "modular": (MODULUS + 4, MODULUS),  # + − * and the official code's unused blank "_"
    "reverse": (2, 2),
    "duplicate": (2, 2),
    "odds_first": (2, 2),
}


def input_length(task: str, length: int) -> int:
    """The input length actually sampled for a requested ``length``."""
    return length - 1 if task == "modular" and length % 2 == 0 else length


def out_len(task: str, length: int) -> int:
    n = input_length(task, length)
    return {"parity": 1, "modular": 1, "reverse": n, "duplicate": 2 * n, "odds_first": n}[task]


def sample(task: str, rng: np.random.Generator, batch: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (batch, n) int, targets (batch, out_len) int) for strings of the requested length."""
    if task not in VOCAB:
        raise ValueError(f"unknown task {task!r}; choose from {sorted(VOCAB)}")
    n = input_length(task, length)
    if n < 1:
        raise ValueError(f"task {task!r} needs a length >= 1, got {length}")
    if task == "modular":
        x = np.empty((batch, n), dtype=np.int64)
        x[:, ::2] = rng.integers(0, MODULUS, (batch, n // 2 + 1))
        x[:, 1::2] = rng.integers(PLUS, TIMES + 1, (batch, n // 2))
        return x, modular_value(x)[:, None]
    x = rng.integers(0, 2, (batch, n))
    return x, targets(task, x)


def targets(task: str, x: np.ndarray) -> np.ndarray:
    if task == "parity":
        return (x.sum(1) % 2)[:, None]
    if task == "reverse":
        return x[:, ::-1].copy()
    if task == "duplicate":
        return np.concatenate([x, x], axis=1)
    if task == "odds_first":  # official code: 0-based odd indices first, then the even ones
        return np.concatenate([x[:, 1::2], x[:, ::2]], axis=1)
    raise ValueError(f"task {task!r} has no string targets")


def modular_value(x: np.ndarray) -> np.ndarray:
    """Value mod 5 of each expression (numbers at even positions, operators between), * before + and −."""
    total = np.zeros(len(x), dtype=np.int64)
    term = x[:, 0].copy()
    sign = np.ones(len(x), dtype=np.int64)
    for j in range(1, x.shape[1], 2):
        op, num = x[:, j], x[:, j + 1]
        times = op == TIMES
        term = np.where(times, term * num % MODULUS, term)
        total = np.where(times, total, (total + sign * term) % MODULUS)
        sign = np.where(times, sign, np.where(op == MINUS, -1, 1))
        term = np.where(times, term, num)
    return (total + sign * term) % MODULUS


def encode(task: str, x: np.ndarray) -> np.ndarray:
    """Token ids of the model's input tape: the input, then ``out_len`` empty tokens (id = input vocabulary)."""
    vocab = VOCAB[task][0]
    empty = np.full((*x.shape[:-1], out_len(task, x.shape[-1])), vocab, dtype=np.int64)
    return np.concatenate([x, empty], axis=-1)
