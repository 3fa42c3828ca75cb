"""Snakemake overhead and the quick tier's wall time, measured in one run (issue 3).

    .venv/bin/python benchmarks/bench_workflow.py            # dry run (full tier) and no-op rerun
    .venv/bin/python benchmarks/bench_workflow.py --quick    # also the quick tier, per study and in all

Each measurement runs the workflow in a fresh temporary copy, so the repository's results/ is untouched.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from reprosuite import study

ROOT = Path(__file__).resolve().parents[1]


def workdir(**config) -> Path:
    dest = Path(tempfile.mkdtemp(prefix="reprosuite-bench-"))
    for name in ("Snakefile",):
        shutil.copy(ROOT / name, dest / name)
    for name in ("workflow", "profiles"):
        shutil.copytree(ROOT / name, dest / name)
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg.update(config)
    (dest / "config.yaml").write_text(yaml.safe_dump(cfg))
    return dest


def timed(cwd: Path, *args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="also time the quick tier of every study")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()

    full = workdir(tier="full")
    dry = min(timed(full, "-n") for _ in range(args.reps))
    print(
        f"dry run (DAG build) of the full tier, {len(study.names())} studies: {dry:.2f} s (best of {args.reps})"
    )

    smoke = workdir(tier="smoke")
    first = timed(smoke)
    noop = min(timed(smoke) for _ in range(args.reps))
    print(f"smoke tier, whole suite: {first:.1f} s; no-op rerun: {noop:.2f} s (best of {args.reps})")

    if args.quick:
        total = 0.0
        print("| study | quick tier wall time (s) |\n|---|---|")
        for name in study.names():
            t = timed(workdir(tier="quick", studies=[name]))
            total += t
            print(f"| {name} | {t:.0f} |", flush=True)
        whole = timed(workdir(tier="quick"))
        print(f"quick tier, studies one after another: {total:.0f} s; whole suite in one run: {whole:.0f} s")


if __name__ == "__main__":
    main()
