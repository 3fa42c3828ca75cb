"""The full tier on a GPU machine that has torch but neither network access nor Snakemake (a compute node held
for a few minutes, say): one command measures the full tier's training jobs on the GPU and runs the cheapest full
tiers to their verdicts, for the cost table and ``benchmarks/RESULTS.md``.

The workflow's stages run in this process, as its rules call them (prepare, train every grid point, extract,
claims; no figures). From the repository root, with the official MNIST files copied to ``.gpu/data/mnist`` (ignored
by git)::

    PYTHONPATH=src REPROSUITE_DATA=.gpu/data python3 benchmarks/gpu_session.py --out OUT --budget-s 420

On a CPU the same script checks itself: ``--device cpu --tier smoke`` (``tests/unit/test_gpu_session.py``).

1. Probe: each study's training jobs (``reprosuite.costs.probe``: 2 updates per fit, the study's own loops stopped
   after 6 s, one process per job), cheapest first by the committed table's figures, until the probe's share of the
   budget is spent; a study is probed whole or not at all.
2. Run: the probed studies, cheapest first by the GPU's figures, each whose extrapolated training time × 1.5 fits in
   what is left of the budget. A study that fails is logged and skipped.

Writes four files to ``--out``: ``costs.json`` (the committed cost table with the probed studies' entries replaced
by this device's: copy it to ``src/reprosuite/costs.json`` and commit it), ``claims.parquet`` (every claim of the
studies run), ``session.json`` (device, and per study its probed and measured seconds) and ``log.txt``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pandas as pd

from reprosuite import config, costs, io, pipeline, study

PROBE_SHARE = 0.4  # of the budget, for phase 1
RUN_MARGIN = 1.5  # a study runs when its extrapolated training time × this fits in what is left


def committed_seconds(name: str, tier: str, table: dict) -> float:
    """A study's training time at ``tier`` by the committed table (inf where a job is unprobed or out of memory)."""
    entries = costs.tier_entries(table, name, tier).values()
    if any(e is None or costs.out_of_memory(e) for e in entries):
        return float("inf")
    return sum(e["est_s"] for e in entries)


def run_study(name: str, tier: str, device: str, work: Path) -> pd.DataFrame:
    """Every stage of one study but its figures, in this process; its claims table."""
    st = study.get(name)
    grid = config.check_grid(st, config.resolve(st, tier))
    base = work / name
    data = base / "data.npz"
    pipeline.prepare(name, tier, str(data))
    runs = []
    for point in grid:
        runs.append(str(base / "runs" / f"{point}.parquet"))
        pipeline.train(name, tier, point, str(data), runs[-1], device=device)
    pipeline.extract(name, tier, runs, str(base / "metrics.parquet"))
    pipeline.check_claims(name, tier, str(base / "metrics.parquet"), str(base / "claims.parquet"))
    return io.read_table(base / "claims.parquet", pipeline.CLAIM_COLUMNS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the four files")
    ap.add_argument("--budget-s", type=float, default=420.0, help="wall seconds for both phases")
    ap.add_argument("--tier", default="full")
    ap.add_argument("--device", default="cuda", help="cuda, or cpu to check the script")
    ap.add_argument("--studies", nargs="*", help="default: every study, cheapest first")
    a = ap.parse_args(argv)
    began = time.perf_counter()
    a.out.mkdir(parents=True, exist_ok=True)
    log_file = open(a.out / "log.txt", "a")  # noqa: SIM115  # kept open for the whole run

    def log(msg: str) -> None:
        line = f"[{time.perf_counter() - began:7.1f} s] {msg}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    import torch

    name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    log(f"torch {torch.__version__}, device {a.device} ({name}), tier {a.tier}, budget {a.budget_s:g} s")
    committed = costs.load()
    names = a.studies or list(study.names())
    unknown = sorted(set(names) - set(study.names()))
    if unknown:
        ap.error(f"unknown studies {unknown}")
    names.sort(key=lambda n: committed_seconds(n, a.tier, committed))
    table_path = a.out / "costs.json"
    table_path.write_text(json.dumps(committed, indent=1, sort_keys=True) + "\n")
    session: dict = {"device": name, "torch": torch.__version__, "tier": a.tier, "studies": {}}

    # phase 1: the GPU's cost of each study's training jobs, cheapest studies first
    probed: dict[str, float] = {}
    for n in names:
        if time.perf_counter() - began > PROBE_SHARE * a.budget_s:
            log(f"probe budget spent: {len(probed)} of {len(names)} studies probed")
            break
        try:
            found = costs.probe(
                a.tier, [n], steps=2, limit_s=6, device=a.device, table_path=table_path, log=log
            )
        except Exception as err:  # noqa: BLE001  # one study's failure is logged; the run goes on
            log(f"{n}: probe failed: {err}")
            continue
        entries = found.get(n, {}).values()
        oom = any(costs.out_of_memory(e) for e in entries)
        probed[n] = float("inf") if oom else sum(e["est_s"] for e in entries)
        session["studies"][n] = {"probed_s": probed[n]}

    # phase 2: whole studies, cheapest first by the probe, while they fit
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(probed, key=probed.get):
            left = a.budget_s - (time.perf_counter() - began)
            if probed[n] * RUN_MARGIN > left:
                log(f"{n}: not run ({costs.fmt_seconds(probed[n])} probed, {left:.0f} s left)")
                continue
            start = time.perf_counter()
            try:
                claims = run_study(n, a.tier, a.device, Path(tmp))
            except Exception:  # noqa: BLE001  # logged with its traceback; the run goes on
                log(f"{n}: failed\n{traceback.format_exc()}")
                continue
            seconds = time.perf_counter() - start
            session["studies"][n]["run_s"] = round(seconds, 1)
            verdicts = claims["verdict"].value_counts().to_dict()
            log(f"{n}: ran in {seconds:.1f} s (probed {probed[n]:.1f} s): {verdicts}")
            frames.append(claims)
    if frames:
        io.write_table(
            pd.concat(frames, ignore_index=True), a.out / "claims.parquet", io.provenance(device=name)
        )
    (a.out / "session.json").write_text(json.dumps(session, indent=1) + "\n")
    log(f"done: {len(probed)} studies probed, {len(frames)} run")
    log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
