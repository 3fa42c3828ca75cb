"""Classification datasets as float feature arrays (numpy only, usable in ``make_data``).

Two need no download:

- ``digits``: scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes), pixels scaled to [0, 1].
- ``mnist1d``: MNIST-1D (Greydanus 2020, arXiv:2011.14439) generated procedurally by the ``mnist1d`` package's
  ``make_dataset(get_dataset_args())`` — never its downloading ``get_dataset`` — 4,000 train / 1,000 test
  sequences of length 40, 10 classes.

Four are read from their official files in the data directory (:mod:`reprosuite.engine.data.official`; ``reprosuite
data fetch NAME`` gets them): ``mnist`` and ``fashion_mnist`` (60,000 / 10,000 images of 28×28, 784 features),
``cifar10`` and ``cifar100`` (50,000 / 10,000 images of 3×32×32, 3,072 features; CIFAR-100's fine labels). Their
split is the official one, so ``seed`` does not change it. Images are flattened channel-first (``reshape(-1, 1,
28, 28)`` or ``(-1, 3, 32, 32)`` restores them) and standardised on the train split with one mean and standard
deviation per colour channel rather than per pixel: 67 border pixels of MNIST are 0 in every training image yet
inked in a few test images, and dividing by their zero standard deviation would blow those test inputs up. MNIST's
constants come out as the usual 0.1307 and 0.3081 on the [0, 1] scale. A study that needs raw pixels (e.g. an
ε-ball in [0, 1] pixel space) reads ``official.load(name)`` and divides by 255.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from reprosuite.engine.data import official

NAMES = ("digits", "mnist1d", *official.NAMES)


def load(name: str, seed: int = 0, n_test: int | None = None) -> dict[str, np.ndarray]:
    """``{"x", "y", "x_test", "y_test"}`` as float32 features and int64 labels, standardised on the train split.

    Generation is cached per process (MNIST-1D takes ~6 s); every call returns fresh arrays. The official
    datasets are read from disk on every call instead (MNIST ~1 s): caching would keep 0.2–0.7 GB alive in
    the process; a missing or corrupt file raises :class:`official.DatasetError`. Their test split is fixed, so
    ``n_test`` is refused for them.
    """
    if name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose from {NAMES}")
    if name in official.NAMES:
        if n_test is not None:
            raise ValueError(f"dataset {name!r} has a fixed official test split; subsample it in the study")
        return _official(name)
    return {k: v.copy() for k, v in _load(name, seed, n_test).items()}


def _official(name: str) -> dict[str, np.ndarray]:
    a = official.load(name)
    channels = a.x_train.shape[1] if a.x_train.ndim == 4 else 1
    pixels = a.x_train.reshape(len(a.x_train), channels, -1)
    # exact per-channel moments in integers (255² fits uint16), in chunks: no float copy of the training set
    total = pixels.sum(axis=(0, 2), dtype=np.uint64)
    squares = np.zeros(channels, np.uint64)
    for start in range(0, len(pixels), 4096):
        chunk = pixels[start : start + 4096].astype(np.uint16)
        chunk *= chunk
        squares += chunk.sum(axis=(0, 2), dtype=np.uint64)
    n = pixels.shape[0] * pixels.shape[2]
    mean = total / n
    std = np.sqrt(squares / n - mean**2)

    def standardise(x: np.ndarray) -> np.ndarray:
        out = x.reshape(len(x), channels, -1).astype(np.float32)
        out -= mean.astype(np.float32)[:, None]
        out /= np.maximum(std, 1e-6).astype(np.float32)[:, None]
        return out.reshape(len(x), -1)

    return {
        "x": standardise(a.x_train),
        "y": a.y_train.astype(np.int64),
        "x_test": standardise(a.x_test),
        "y_test": a.y_test.astype(np.int64),
    }


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
