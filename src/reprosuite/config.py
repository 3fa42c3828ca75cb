"""Resolve a study's typed config from its tier defaults, the suite's ``seeds`` and the user's overrides.

Everything a user may vary is validated here, before any job runs: an unknown study or tier, an unknown
override key, a value of the wrong type or out of range each raise :class:`ConfigError` naming the study and
key.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any

from reprosuite import study as study_mod
from reprosuite.study import TIERS, Study

# Fields whose values must be strictly positive whatever the study (a zero step count or lr <= 0 is a typo).
POSITIVE = ("seeds", "steps", "epochs", "lr", "width", "hidden", "batch_size")


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


def resolve(study: Study | str, tier: str, overrides: dict | None = None, seeds: int | None = None):
    """The study's frozen config for ``tier``, with ``seeds`` and ``overrides`` applied and validated."""
    st = study_mod.get(study) if isinstance(study, str) else study
    if tier not in TIERS:
        raise ConfigError(f"unknown tier {tier!r}; choose one of {', '.join(TIERS)}")
    base = st.TIERS[tier]
    hints = typing.get_type_hints(type(base))
    changes = {}
    if seeds is not None:
        changes["seeds"] = _coerce(st.name, "seeds", seeds, int)
    for key, value in (overrides or {}).items():
        if key not in hints:
            valid = ", ".join(f.name for f in dataclasses.fields(base))
            raise ConfigError(f"study {st.name!r}: unknown override key {key!r}; valid keys: {valid}")
        changes[key] = _coerce(st.name, key, value, hints[key])
    cfg = dataclasses.replace(base, **changes)
    for key, annotation in hints.items():  # the tier's own values too: a typo in TIERS is caught here
        if key not in changes:
            _coerce(st.name, key, getattr(cfg, key), annotation)
    _check_ranges(st.name, cfg)
    return cfg


def to_dict(cfg: Any) -> dict:
    return dataclasses.asdict(cfg)


def digest(obj: Any) -> str:
    """A short, stable hash of a JSON-serialisable object."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_digest(paths: list[Path]) -> str:
    """A short hash of source files' contents (Snakemake does not see changes to imported modules)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(path.parents[1])).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _imports(path: Path) -> frozenset[str]:
    """The ``reprosuite`` modules a source file imports, anywhere in it (studies import the engine lazily)."""
    return _imports_cached(path, path.stat().st_mtime_ns)


@functools.cache
def _imports_cached(path: Path, mtime_ns: int) -> frozenset[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reprosuite"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("reprosuite"))
    return frozenset(found)


def code_sources(path: Path, within: tuple[str, ...] = ("reprosuite",)) -> list[Path]:
    """``path`` and the package modules it imports, transitively, restricted to module prefixes ``within``.

    Snakemake does not see changes to imported modules, so the rules hash these files: a change to the engine
    module a study trains with reruns that study, while a new or changed module it does not use reruns nothing.
    """
    root = Path(__file__).parent
    seen: dict[str, Path] = {}
    todo = [path]
    while todo:
        for module in _imports(todo.pop()):
            if module in seen or not module.startswith(within):
                continue
            rel = (
                Path(*module.split(".")[1:], "__init__")
                if module == "reprosuite"
                else Path(*module.split(".")[1:])
            )
            candidate = next(
                (p for p in (root / rel.with_suffix(".py"), root / rel / "__init__.py") if p.is_file()), None
            )
            if candidate is not None:
                seen[module] = candidate
                todo.append(candidate)
    return [path, *sorted(set(seen.values()))]


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
