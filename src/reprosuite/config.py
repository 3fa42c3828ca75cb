"""Resolve a study's typed config from its tier defaults, the suite's ``seeds`` and the user's overrides.

Everything a user may vary is validated here, before any job runs: an unknown study or tier, an unknown
override key, a value of the wrong type or out of range each raise :class:`ConfigError` naming the study and
key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from typing import Any

from reprosuite import study as study_mod
from reprosuite.study import TIERS, Study

# Fields whose values must be strictly positive whatever the study (a zero step count or lr <= 0 is a typo).
POSITIVE = ("steps", "epochs", "lr", "width", "hidden", "batch_size")


class ConfigError(ValueError):
    """A config value, override or selection is invalid."""


def _coerce(study: str, key: str, value: Any, annotation: Any) -> Any:
    """Check ``value`` against a field annotation, allowing int -> float and list -> tuple."""
    where = f"study {study!r}, key {key!r}"
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        errors = []
        for option in typing.get_args(annotation):
            try:
                return _coerce(study, key, value, option)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(f"{where}: {value!r} matches none of {annotation}")
    if annotation is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected None, got {value!r}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        args = typing.get_args(annotation)
        item = args[0] if args else Any
        return tuple(_coerce(study, key, v, item) for v in value)
    if annotation is Any:
        return value
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if any(value == c and type(value) is type(c) for c in choices):
            return value
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, choices))}")
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {type(value).__name__} {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {type(value).__name__} {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {type(value).__name__} {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported field type {annotation}")


def _check_ranges(study: str, cfg: Any) -> None:
    for field in dataclasses.fields(cfg):
        value = getattr(cfg, field.name)
        if field.name in POSITIVE or field.name.startswith(("n_", "num_")):
            values = value if isinstance(value, tuple) else (value,)
            for v in values:
                if isinstance(v, int | float) and not v > 0:
                    raise ConfigError(f"study {study!r}, key {field.name!r}: must be > 0, got {v!r}")


def _seeds(study: str, value: Any) -> int | tuple[int, ...]:
    """A seed count (seeds 0 … n − 1) or an explicit list of distinct non-negative seeds, as a tuple."""
    where = f"study {study!r}, key 'seeds'"
    if isinstance(value, list | tuple):
        if not value or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in value):
            raise ConfigError(f"{where}: a list of seeds must hold non-negative integers, got {value!r}")
        if len(set(value)) != len(value):
            raise ConfigError(f"{where}: seeds must be distinct, got {value!r}")
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: expected a positive count or a list of seeds, got {value!r}")
    return value


def command_line_seeds(value: Any) -> Any:
    """The suite config's ``seeds`` as Snakemake passes it on: ``--config 'seeds=[100,101,102]'`` arrives as
    a list of strings (Snakemake reads a command-line value with YAML's BaseLoader), ``seeds=null`` as
    ``"null"``. Decimal items become integers and ``"null"`` None; anything else is left for validation."""
    if value == "null":
        return None
    if isinstance(value, list):
        return [int(v) if isinstance(v, str) and v.strip().isdecimal() else v for v in value]
    return value


def resolve(
    study: Study | str, tier: str, overrides: dict | None = None, seeds: int | list[int] | None = None
):
    """The study's frozen config for ``tier``, with ``seeds`` (a count or an explicit list: ``cfg.seeds`` then
    holds the tuple, see :func:`reprosuite.study.seed_list`) and ``overrides`` applied and validated."""
    st = study_mod.get(study) if isinstance(study, str) else study
    if tier not in TIERS:
        raise ConfigError(f"unknown tier {tier!r}; choose one of {', '.join(TIERS)}")
    base = st.TIERS[tier]
    hints = typing.get_type_hints(type(base))
    changes = {}
    if seeds is not None:
        changes["seeds"] = _seeds(st.name, seeds)
    for key, value in (overrides or {}).items():
        if key not in hints:
            valid = ", ".join(f.name for f in dataclasses.fields(base))
            raise ConfigError(f"study {st.name!r}: unknown override key {key!r}; valid keys: {valid}")
        changes[key] = _seeds(st.name, value) if key == "seeds" else _coerce(st.name, key, value, hints[key])
    cfg = dataclasses.replace(base, **changes)
    for key, annotation in hints.items():  # the tier's own values too: a typo in TIERS is caught here
        if key not in changes:
            _coerce(st.name, key, getattr(cfg, key), annotation)
    _seeds(st.name, cfg.seeds)
    _check_ranges(st.name, cfg)
    return cfg


def shift_seeds(overrides: dict | None, cfg: Any, offset: int) -> dict:
    """A study's ``overrides`` with its seeds shifted by ``offset`` (the suite's ``seed_offset``): the resolved
    ``cfg``'s seed list, each seed plus ``offset``, as an explicit list. The same seed count on fresh seeds:
    ``seed_offset: 100`` turns a study's seeds 0 … n − 1 into 100 … 99 + n, whatever each study's n."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ConfigError(f"seed_offset: expected a non-negative integer, got {offset!r}")
    if not offset:
        return dict(overrides or {})
    return {**(overrides or {}), "seeds": [s + offset for s in study_mod.seed_list(cfg)]}


def to_dict(cfg: Any) -> dict:
    return dataclasses.asdict(cfg)


def digest(obj: Any) -> str:
    """A short, stable hash of a JSON-serialisable object."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def select_studies(selection: str | list[str]) -> list[str]:
    """The studies named by the suite config's ``studies`` key (``all`` or a list)."""
    known = list(study_mod.names())
    if selection == "all":
        return known
    if isinstance(selection, str):
        selection = [selection]
    unknown = [s for s in selection if s not in known]
    if unknown:
        raise ConfigError(f"unknown study {', '.join(map(repr, unknown))}; known studies: {', '.join(known)}")
    return list(selection)


def check_grid(st: Study, cfg: Any) -> dict[str, dict]:
    """The study's grid points, or a :class:`ConfigError` when the config makes no valid grid (a study's
    ``grid`` raising ``ValueError`` on a bad value is such an error, reported before any job runs)."""
    try:
        points = st.grid(cfg)
    except ValueError as err:
        raise ConfigError(f"study {st.name!r}: {err}") from err
    if not points:
        raise ConfigError(f"study {st.name!r}: empty grid")
    bad = [p for p in points if not study_mod.POINT_ID.match(p)]
    if bad:
        raise ConfigError(f"study {st.name!r}: grid point ids must match {study_mod.POINT_ID.pattern}: {bad}")
    return points


# Training jobs' resources where the study has no ``resources`` hook: wall time in minutes per tier (the full tier
# is paper scale, a day) and memory in MB. Only training varies; the other rules ask for fixed small amounts.
TRAIN_RUNTIME_MIN = {"smoke": 10, "quick": 30, "full": 24 * 60}
TRAIN_MEM_MB = 4000
RESOURCE_KEYS = ("mem_mb", "runtime", "gpu")


def train_resources(
    st: Study,
    cfg: Any,
    point: dict,
    tier: str,
    device: str,
    measured: dict[str, int] | None = None,
    max_runtime_min: int | None = None,
) -> dict[str, int]:
    """What the training job of one grid point asks the scheduler for: the tier's defaults (a GPU only with
    ``device: cuda``); replaced by ``measured`` (runtime and memory from the job's probed cost,
    :func:`reprosuite.costs.resources`) where the job was probed; then the study's optional
    ``resources(cfg, point)`` hook (see :mod:`reprosuite.study`), which replaces a default but never asks for less
    than was measured; runtime capped at ``max_runtime_min`` (the partition's limit); never a GPU with
    ``device: cpu``."""
    res = {"mem_mb": TRAIN_MEM_MB, "runtime": TRAIN_RUNTIME_MIN[tier], "gpu": int(device == "cuda")}
    res.update(measured or {})
    hook = getattr(st.module, "resources", None)
    if hook is not None:
        given = hook(cfg, point)
        if not isinstance(given, dict):
            raise ConfigError(f"study {st.name!r}: resources() must return a dict, got {given!r}")
        unknown = sorted(set(given) - set(RESOURCE_KEYS))
        if unknown:
            raise ConfigError(
                f"study {st.name!r}: resources() returned unknown keys {unknown}; valid: {', '.join(RESOURCE_KEYS)}"
            )
        for key, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "gpu" else 1):
                raise ConfigError(
                    f"study {st.name!r}: resources() returned {key}={value!r}, not a positive integer"
                )
        for key, value in given.items():
            res[key] = max(value, measured[key]) if measured and key in measured else value
    if max_runtime_min is not None:
        res["runtime"] = min(res["runtime"], max_runtime_min)
    if device == "cpu":
        res["gpu"] = 0
    return res
