"""Small classification datasets that need no download (numpy only, usable in ``make_data``).

- ``digits``: scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes), pixels scaled to [0, 1].
- ``mnist1d``: MNIST-1D (Greydanus 2020, arXiv:2011.14439) generated procedurally by the ``mnist1d`` package's
  ``make_dataset(get_dataset_args())`` — never its downloading ``get_dataset`` — 4,000 train / 1,000 test
  sequences of length 40, 10 classes.
"""

from __future__ import annotations

from functools import cache

import numpy as np

NAMES = ("digits", "mnist1d")


def load(name: str, seed: int = 0, n_test: int | None = None) -> dict[str, np.ndarray]:
    """``{"x", "y", "x_test", "y_test"}`` as float32 features and int64 labels, standardised on the train split.

    Generation is cached per process (MNIST-1D takes ~6 s); every call returns fresh arrays.
    """
    if name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose from {NAMES}")
    return {k: v.copy() for k, v in _load(name, seed, n_test).items()}


@cache
def _load(name: str, seed: int, n_test: int | None) -> dict[str, np.ndarray]:
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y = d.data.astype(np.float32) / 16.0, d.target.astype(np.int64)
        order = np.random.default_rng(seed).permutation(len(y))
        n_test = 297 if n_test is None else n_test
        test, train = order[:n_test], order[n_test:]
        out = {"x": x[train], "y": y[train], "x_test": x[test], "y_test": y[test]}
    else:  # mnist1d
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.seed = seed
        d = make_dataset(args)
        out = {
            "x": d["x"].astype(np.float32),
            "y": d["y"].astype(np.int64),
            "x_test": d["x_test"].astype(np.float32),
            "y_test": d["y_test"].astype(np.int64),
        }
    mean, std = out["x"].mean(axis=0), out["x"].std(axis=0) + 1e-6
    out["x"] = (out["x"] - mean) / std
    out["x_test"] = (out["x_test"] - mean) / std
    return out
