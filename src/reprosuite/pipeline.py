"""The stages of a study's DAG, one function each; the Snakemake rules call them through ``reprosuite``'s CLI.

prepare → train (one job per grid point, all seeds) → extract → figure (one job per figure) → claims → summary.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reprosuite import claims as claims_mod
from reprosuite import config as config_mod
from reprosuite import fingerprint as fingerprint_mod
from reprosuite import io, plotting, registry
from reprosuite import study as study_mod

CLAIM_COLUMNS = ("study", "claim", "verdict", "measured", "ci_low", "ci_high", "paper_value", "rule", "tier")


class DataError(ValueError):
    """A dataset file is unreadable or corrupt."""


def _meta(st, cfg, tier: str, wall: float, device: str = "cpu", **extra) -> dict:
    meta = io.provenance(config_mod.to_dict(cfg), device=device, wall_time_s=round(wall, 3))
    meta.update(study=st.name, tier=tier, **extra)
    return meta


def prepare(
    study: str, tier: str, out: str, overrides: dict | None = None, seeds: int | list[int] | None = None
) -> None:
    start = time.perf_counter()
    st = study_mod.get(study)
    cfg = config_mod.resolve(st, tier, overrides, seeds)
    data = st.make_data(cfg)
    meta = _meta(st, cfg, tier, time.perf_counter() - start)
    with io.atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, __provenance__=np.array(json.dumps(meta)), **data)


def load_data(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a ``data.npz`` written by :func:`prepare` (no pickles: it cannot execute code)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files if k != "__provenance__"}
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"cannot read dataset file {path}: {err}") from err


def train(
    study: str,
    tier: str,
    point: str,
    data: str,
    out: str,
    overrides: dict | None = None,
    seeds: int | list[int] | None = None,
    device: str = "auto",
    threads: int = 1,
    checkpoint_every_s: float = 60.0,
) -> None:
    """Train all seeds of one grid point, checkpointing to ``{study}/checkpoints/{point}/`` until it is done.

    The checkpoint directory is not an output of the rule, so Snakemake leaves it in place when the job fails; the
    rerun resumes from it if the config, the grid point and the training code are unchanged
    (:func:`reprosuite.fingerprint.fingerprint`, the same value Snakemake reruns the job on).
    """
    from reprosuite.engine.train import checkpoint  # torch stays out of the torch-free stages
    from reprosuite.engine.train import device as device_mod

    start = time.perf_counter()
    st = study_mod.get(study)
    cfg = config_mod.resolve(st, tier, overrides, seeds)
    points = config_mod.check_grid(st, cfg)
    if point not in points:
        raise config_mod.ConfigError(f"study {study!r} has no grid point {point!r} at tier {tier!r}")
    dev = device_mod.setup(device, threads)
    # the rule's rerun fingerprint (workflow/rules/common.smk): same config, point and training code
    fingerprint = fingerprint_mod.fingerprint("train", study, cfg, points[point])
    directory = Path(out).parent.parent / "checkpoints" / point
    with checkpoint.checkpointing(directory, fingerprint, checkpoint_every_s):
        runs = st.train(cfg, points[point], load_data(data), study_mod.seed_list(cfg), dev)
    missing = {"seed", "step", "split", "metric", "value"} - set(runs.columns)
    if missing:
        raise study_mod.StudyError(f"study {study!r}: train() returned a table without {sorted(missing)}")
    if "variant" not in runs.columns:
        runs["variant"] = ""
    runs.insert(0, "point", point)
    runs.insert(0, "study", study)
    head = ["study", "point", "variant", "seed", "step", "split", "metric", "value"]
    runs = runs[head + [c for c in runs.columns if c not in head]]  # typed member columns follow
    meta = _meta(
        st, cfg, tier, time.perf_counter() - start, device=str(dev), point=points[point], threads=threads
    )
    io.write_table(runs, out, meta)
    shutil.rmtree(directory, ignore_errors=True)


def extract(study: str, tier: str, runs: list[str], out: str, overrides=None, seeds=None) -> None:
    start = time.perf_counter()
    st = study_mod.get(study)
    cfg = config_mod.resolve(st, tier, overrides, seeds)
    table = io.read_tables(runs, io.RUN_COLUMNS)
    metrics = st.extract(table, cfg)
    missing = {"point", "seed", "metric", "value"} - set(metrics.columns)
    if missing:
        raise study_mod.StudyError(f"study {study!r}: extract() returned a table without {sorted(missing)}")
    metrics.insert(0, "study", study)
    io.write_table(metrics, out, _meta(st, cfg, tier, time.perf_counter() - start, runs=len(runs)))


def figure(
    study: str, tier: str, name: str, runs: list[str], metrics: str, out: str, overrides=None, seeds=None
):
    st = study_mod.get(study)
    cfg = config_mod.resolve(st, tier, overrides, seeds)
    spec = st.figure(name)
    plotting.theme()
    fig = spec.draw(io.read_tables(runs, io.RUN_COLUMNS), io.read_table(metrics, io.METRIC_COLUMNS), cfg)
    plotting.save(fig, out)


def check_claims(study: str, tier: str, metrics: str, out: str, overrides=None, seeds=None) -> None:
    start = time.perf_counter()
    st = study_mod.get(study)
    cfg = config_mod.resolve(st, tier, overrides, seeds)
    measured = st.measure(io.read_table(metrics, io.METRIC_COLUMNS), cfg)
    known = {c.id for c in st.CLAIMS} | {c.id + claims_mod.CONTROL for c in st.CLAIMS if c.control}
    unknown = set(measured) - known
    if unknown:
        raise study_mod.StudyError(f"study {study!r}: measure() returned unknown claim ids {sorted(unknown)}")
    rows = [
        claims_mod.evaluate(c, measured.get(c.id), tier, control=measured.get(c.id + claims_mod.CONTROL))
        for c in st.CLAIMS
    ]
    table = pd.DataFrame(rows)
    paper = st.PAPER
    table.insert(0, "study", study)
    table.insert(1, "paper", f"{paper.short}: {paper.title}")
    table.insert(2, "paper_url", paper.url)
    table["tier"] = tier
    table["deviations"] = "; ".join(map(str, study_mod.deviations(st, cfg, tier)))
    table["amendments"] = [registry.amendment_text(st, c.id) for c in st.CLAIMS]
    io.write_table(table, out, _meta(st, cfg, tier, time.perf_counter() - start))


def summary(
    claims: list[str], out: str, html: str, figure: str | None = None, fragment: str | None = None
) -> None:
    start = time.perf_counter()
    table = io.read_tables(claims, CLAIM_COLUMNS)
    meta = io.provenance(wall_time_s=None)
    meta.update(
        studies=sorted(table["study"].unique().tolist()), wall_time_s=round(time.perf_counter() - start, 3)
    )
    io.write_table(table, out, meta)
    with io.atomic_path(html) as tmp:
        tmp.write_text(plotting.claims_html(table))
    if fragment is not None:  # the table alone: the landing page of `snakemake --report`
        with io.atomic_path(fragment) as tmp:
            tmp.write_text(plotting.claims_table_html(table))
    if figure is not None:
        plotting.theme()
        plotting.save(plotting.overview(table), figure)
