"""Parquet tables with provenance, written atomically; schema-checked reads that name the bad file."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import reprosuite

META_KEY = b"reprosuite"
RUN_COLUMNS = ("study", "point", "seed", "step", "split", "metric", "value")
METRIC_COLUMNS = ("study", "point", "seed", "metric", "value")


class ResultError(OSError):
    """A result file is missing, unreadable or does not have the expected columns."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files: results are for the whole group to read
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@cache
def git_commit() -> str:
    """The commit of the package's source tree (with ``-dirty``), or '' outside git."""
    src = Path(reprosuite.__file__).parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return sha + ("-dirty" if dirty else "")


def _version(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return ""


def provenance(config: dict | None = None, device: str = "cpu", wall_time_s: float | None = None) -> dict:
    """What produced a result: versions, commit, device, resolved config, wall time."""
    return {
        "reprosuite_version": reprosuite.__version__,
        "git_commit": git_commit(),
        "torch_version": _version("torch"),
        "python_version": platform.python_version(),
        "host": platform.node(),
        "device": device,
        "config": config or {},
        "wall_time_s": wall_time_s,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_table(df: pd.DataFrame, path: str | Path, meta: dict) -> None:
    """Write ``df`` to Parquet with ``meta`` (JSON) in the schema metadata, atomically."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: json.dumps(meta, default=str)}
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | Path, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Read a Parquet result; raise :class:`ResultError` naming the file if it is unreadable or lacks columns."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        raise ResultError(f"cannot read result file {path}: {err}") from err
    if columns is not None:
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise ResultError(f"result file {path} lacks columns {missing} (has {table.column_names})")
    return table.to_pandas()


def read_meta(path: str | Path) -> dict:
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(META_KEY, b"{}"))


def read_tables(paths: list[str | Path], columns: tuple[str, ...]) -> pd.DataFrame:
    frames = [read_table(p, columns) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))
