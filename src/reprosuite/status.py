"""What the user sees in the terminal: the suite's studies, the state of ``results/``, a study's claims and files,
and what a ``snakemake`` run would compute."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

from reprosuite import config as config_mod
from reprosuite import io, pipeline
from reprosuite import study as study_mod
from reprosuite.plotting import measured_text

MARK = {"pass": "✔ pass", "fail": "✘ FAIL", "inconclusive": "? inconclusive"}


class NoResults(FileNotFoundError):
    """``results/`` holds nothing to show yet."""


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def studies_table() -> str:
    rows = []
    for name in study_mod.names():
        st = study_mod.get(name)
        cost = getattr(st.module, "COST", {})
        rows.append(
            [name, f"{st.PAPER.short} (arXiv:{st.PAPER.arxiv})", str(len(st.CLAIMS))]
            + [cost.get(t, "?") for t in study_mod.TIERS]
        )
    return _table(rows, ["study", "paper", "claims", *(f"{t} cost" for t in study_mod.TIERS)])


def load_claims(results: Path) -> pd.DataFrame:
    suite = results / "suite" / "claims.parquet"
    paths = [suite] if suite.exists() else sorted(results.glob("*/claims.parquet"))
    if not paths:
        raise NoResults(f"no claims in {results}/: run the suite first (make suite, or snakemake)")
    return io.read_tables(paths, pipeline.CLAIM_COLUMNS)


def claims_table(claims: pd.DataFrame) -> str:
    rows = [
        [
            r.study,
            r.claim,
            MARK.get(r.verdict, r.verdict),
            measured_text(r),
            r.paper_text or str(r.paper_value),
            r.rule,
        ]
        for _, r in claims.iterrows()
    ]
    counts = Counter(claims.verdict)
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("pass", "fail", "inconclusive"))
    tiers = ", ".join(sorted(set(claims.tier)))
    body = _table(rows, ["study", "claim", "verdict", "measured [95% CI]", "paper", "pass rule"])
    return f"{body}\n\n{len(claims)} claims ({tiers} tier): {summary}"


def show(name: str, results: Path) -> str:
    st = study_mod.get(name)
    p = st.PAPER
    lines = [
        f"{name}: {p.authors} {p.year}, {p.title}",
        f"  {p.url}" + (f"  code: {p.code}" if p.code else ""),
    ]
    try:
        claims = io.read_table(results / name / "claims.parquet", pipeline.CLAIM_COLUMNS)
        lines += ["", claims_table(claims)]
    except io.ResultError:
        lines += ["", "not run yet; its claims:"]
        lines += [f"  {c.id}: {c.statement} (pass: {c.metric} {c.rule})" for c in st.CLAIMS]
    files = sorted(f for f in (results / name).rglob("*") if f.is_file()) if (results / name).exists() else []
    lines += ["", f"files under {results / name}/:" if files else f"no files under {results / name}/"]
    lines += [f"  {f.relative_to(results)}  ({f.stat().st_size / 1024:.0f} KiB)" for f in files]
    return "\n".join(lines)


def plan(snakemake_args: list[str], results: Path, cwd: Path | None = None) -> str:
    """Jobs a ``snakemake`` run would execute, per study and rule, with time estimated from recorded benchmarks."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", *snakemake_args], capture_output=True, text=True, cwd=cwd
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise config_mod.ConfigError(f"snakemake dry run failed:\n{tail}")
    jobs: dict[tuple[str, str], int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    unknown: dict[str, int] = defaultdict(int)
    for rule, output in re.findall(
        r"^rule (\w+):\n(?:\s+\w+:.*\n)*?\s+output: (.+)$", proc.stdout, flags=re.M
    ):
        if rule == "all":
            continue
        m = re.search(r"results/([a-z0-9_]+)/runs/([^ ,]+)\.parquet", output)
        study = re.search(r"results/([a-z0-9_]+)/", output).group(1)
        jobs[(study, rule)] += 1
        if m:
            bench = results / "benchmarks" / "train" / m.group(1) / f"{m.group(2)}.tsv"
            if bench.exists():
                seconds[study] += float(pd.read_csv(bench, sep="\t")["s"].iloc[-1])
            else:
                unknown[study] += 1
    if not jobs:
        return "nothing to do: every result is up to date"
    rows = []
    for study in sorted({s for s, _ in jobs}):
        per_rule = ", ".join(f"{r} {n}" for (s, r), n in sorted(jobs.items()) if s == study)
        est = f"{seconds[study] / 60:.1f} min" if seconds[study] else "–"
        if unknown[study]:
            est += f" (+{unknown[study]} training jobs never benchmarked)"
        rows.append([study, per_rule, est])
    total = sum(seconds.values()) / 3600
    return (
        _table(rows, ["study", "jobs", "training time (recorded benchmarks, 1 thread)"])
        + f"\n\n{sum(jobs.values())} jobs; recorded training time {total:.2f} CPU/GPU-hours"
    )
