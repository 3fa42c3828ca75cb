"""The official per-mode ODE of two balanced deep linear pathways (``k_trajectory`` of
``analytical_and_sgd_final.py``), against which the simulated pathways are checked and drawn."""

from __future__ import annotations

import numpy as np


def k_trajectory(
    depth: int, s: float, k0: float, start: int, length: int, lr: float, epochs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Official ``k_trajectory``: per-mode ODE of two balanced depth-D pathways, Euler steps dt = lr.

    Each layer's mode strength p follows ṗ = p^{D−1}·(S − K_a − K_b) with K = p^D; pathway b is frozen on
    [start, start + length). Returns K_a, K_b after each step 0 … epochs (length epochs + 1).
    """
    pa = pb = k0 ** (1.0 / depth)
    ka, kb = [k0], [k0]
    for t in range(epochs):
        omega = s - pa**depth - pb**depth
        ga, gb = abs(pa) ** (depth - 1) * omega, abs(pb) ** (depth - 1) * omega
        pa = pa + lr * ga
        if not start <= t < start + length:
            pb = pb + lr * gb
        ka.append(pa**depth)
        kb.append(pb**depth)
    return np.array(ka), np.array(kb)
