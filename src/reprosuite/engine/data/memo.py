"""Results computed once per process for the same inputs.

A study's preparatory computation that depends on its data and a few config values, but not on the grid point
(a baseline, a search for a window's centre), is repeated by every job of a process that runs several points: a
check of the full tier, the tests. :func:`once` keeps each result for the life of the process, keyed by the caller's
key and the bytes of the arrays it depends on, so the same values come out as if it were computed again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

_RESULTS: dict[tuple, Any] = {}


def digest(arrays: Iterable[np.ndarray]) -> str:
    """SHA-1 of the arrays' bytes, in order (C order, whatever their layout)."""
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def once(key: tuple, arrays: Iterable[np.ndarray], compute: Callable[[], Any]) -> Any:
    """``compute()``, or its result from an earlier call in this process with the same ``key`` and array bytes.
    The result is shared between callers: they must not modify it."""
    full = (*key, digest(arrays))
    if full not in _RESULTS:
        _RESULTS[full] = compute()
    return _RESULTS[full]
