"""What the user sees in the terminal: the suite's studies, the state of ``results/``, a study's claims and files,
and what a ``snakemake`` run would compute."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

from reprosuite import config as config_mod
from reprosuite import costs, io, pipeline
from reprosuite import study as study_mod
from reprosuite.plotting import headline, measured_text, study_summary

MARK = {
    "pass": "✔ pass",
    "fail": "✘ FAIL",
    "inconclusive": "? inconclusive",
    "not discriminating": "✘ not discriminating",
}


class NoResults(FileNotFoundError):
    """``results/`` holds nothing to show yet."""


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def studies_table() -> str:
    """The studies: paper, claims, each tier's cost as the study states it, and the full tier's training time as
    the committed cost table extrapolates it (``reprosuite probe``)."""
    table, rows = costs.load(), []
    for name in study_mod.names():
        st = study_mod.get(name)
        cost = getattr(st.module, "COST", {})
        rows.append(
            [name, f"{st.PAPER.short} (arXiv:{st.PAPER.arxiv})", str(len(st.CLAIMS))]
            + [cost.get(t, "?") for t in study_mod.TIERS]
            + [probed_cost(st, "full", table)]
        )
    return _table(rows, ["study", "paper", "claims", *(f"{t} cost" for t in study_mod.TIERS), "full, probed"])


def probed_cost(st, tier: str, table: dict) -> str:
    """A tier's training time summed over its jobs from the cost ``table`` (entries of the tier's config only), per
    device that measured it, e.g. "12.8 h on cpu (9 of 9 jobs; 3 partial)": ``partial``, jobs whose own loops a
    probe stopped and extrapolated from their first units."""
    entries = costs.tier_entries(table, st.name, tier)
    timed = [e for e in entries.values() if e is not None and not costs.out_of_memory(e)]
    if not timed:
        return "not probed"
    seconds: dict[str, float] = defaultdict(float)
    for e in timed:
        seconds[e["device"]] += e["est_s"]
    partial = sum(e["status"] == "partial" for e in timed)
    total = " + ".join(f"{costs.fmt_seconds(t)} on {d}" for d, t in sorted(seconds.items()))
    return f"{total} ({len(timed)} of {len(entries)} jobs{f'; {partial} partial' if partial else ''})"


def load_claims(results: Path) -> pd.DataFrame:
    suite = results / "suite" / "claims.parquet"
    paths = [suite] if suite.exists() else sorted(results.glob("*/claims.parquet"))
    if not paths:
        raise NoResults(f"no claims in {results}/: run the suite first (make suite, or snakemake)")
    return io.read_tables(paths, pipeline.CLAIM_COLUMNS)


def claims_table(claims: pd.DataFrame) -> str:
    """The terminal view of a claims table: the headline, one row per study, then one row per claim."""
    studies = [
        [
            r["study"],
            ", ".join(f"{r[v]} {v}" for v in MARK if r[v]) or "–",
            f"{r['analytic']} / {r['sanity']}",
            r["controls"],
            f"{r['tier']}, {r['seeds']}",
            str(r["deviations"]),
        ]
        for _, r in study_summary(claims).iterrows()
    ]
    rows = [
        [
            r.study,
            f"{r.claim} ({_col(r, 'kind', 'empirical')})",
            MARK.get(r.verdict, r.verdict) + (" ≈" if bool(_col(r, "near_threshold", False)) else ""),
            f"{measured_text(r)} {_col(r, 'statistic', 'mean')}",
            r.paper_text or str(r.paper_value),
            r.rule,
            _col(r, "control_verdict", "") if _col(r, "control", "") else "–",
        ]
        for _, r in claims.iterrows()
    ]
    tiers = ", ".join(sorted(set(claims.tier)))
    return "\n\n".join(
        [
            f"{headline(claims)} ({tiers} tier)",
            _table(
                studies,
                ["study", "empirical claims", "analytic / sanity", "controls", "tier, seeds", "deviations"],
            ),
            _table(
                rows,
                [
                    "study",
                    "claim (kind)",
                    "verdict",
                    "measured [95% CI] statistic",
                    "paper",
                    "pass rule",
                    "control",
                ],
            ),
            "≈: an end of the interval lies within 5 % of the threshold (another CPU or seed list could flip it)",
        ]
    )


def _col(row, key: str, default):
    value = row.get(key, default)
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else value


TABLE_START, TABLE_END = "<!-- suite-table -->", "<!-- /suite-table -->"


def suite_markdown(claims: pd.DataFrame) -> str:
    """The README's suite table, generated from a claims table: one row per study, its paper, and its verdicts
    with the measured value of every claim that did not pass."""
    rows = [
        "| study | paper | tier, seeds | verdicts | not passed: measured [95 % CI] vs rule |",
        "|---|---|---|---|---|",
    ]
    for name, g in claims.groupby("study", sort=False):
        st = study_mod.get(name)
        p = st.PAPER
        counts = Counter(g.verdict)
        verdicts = ", ".join(f"{counts[v]} {v}" for v in MARK if counts[v])
        other = [
            f"`{r.claim}` {r.verdict}: {measured_text(r)} vs {r.rule}"
            if r.n_seeds
            else f"`{r.claim}`: {r.note}"
            for _, r in g.iterrows()
            if r.verdict != "pass"
        ]
        seeds = int(g.n_seeds.max()) if len(g) else 0
        rows.append(
            f"| `{name}` | {p.short} — {p.title} ([arXiv:{p.arxiv}]({p.url})) | {g.tier.iloc[0]}, {seeds} "
            f"| {verdicts} | {'; '.join(other) or '–'} |"
        )
    return f"{headline(claims)}.\n\n" + "\n".join(rows)


def write_table(claims: pd.DataFrame, readme: Path) -> str:
    """Replace the table between the suite-table markers of ``readme`` with :func:`suite_markdown`."""
    text = readme.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise config_mod.ConfigError(f"{readme} has no {TABLE_START} … {TABLE_END} block to replace")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    readme.write_text(f"{head}{TABLE_START}\n{suite_markdown(claims)}\n{TABLE_END}{tail}")
    return f"wrote the suite table of {claims.study.nunique()} studies into {readme}"


def show(name: str, results: Path) -> str:
    st = study_mod.get(name)
    p = st.PAPER
    lines = [
        f"{name}: {p.authors} {p.year}, {p.title}",
        f"  {p.url}" + (f"  code: {p.code}" if p.code else ""),
        "",
        "deviations from the paper's protocol, per tier (field: paper → tier, why):",
    ]
    for tier in study_mod.TIERS:
        devs = study_mod.deviations(st, st.TIERS[tier], tier)
        lines += [f"  {tier}:" + (" none" if not devs else "")]
        lines += [f"    {d}" for d in devs]
    cost = getattr(st.module, "COST", {})
    lines += [
        "",
        "cost per tier (the study's account; the full tier's jobs as `reprosuite probe` extrapolated them):",
    ]
    lines += [f"  {tier}: {cost.get(tier, '?')}" for tier in study_mod.TIERS]
    lines += [f"  full, probed: {probed_cost(st, 'full', costs.load())}"]
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


def pending_jobs(summary: str) -> list[tuple[str, str, str]]:
    """The jobs a run would execute, as (rule, study, output) with one output per job, from the tab-separated
    table of ``snakemake --summary`` (one row per output file: its rule and whether an update is pending).

    The table has no job ids, so jobs are told apart by this workflow's layout: a job's outputs share their path
    but for the suffix (a figure's PNG and PDF), and the suite's table is one job.
    """
    lines = summary.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("output_file\t")), None)
    if start is None:
        raise config_mod.ConfigError("snakemake --summary printed no table")
    header = lines[start].split("\t")
    jobs: dict[tuple[str, str], tuple[str, str, str]] = {}
    for line in lines[start + 1 :]:
        row = dict(zip(header, line.split("\t"), strict=False))
        if row.get("plan") != "update pending":
            continue
        output = Path(row["output_file"])
        parts = output.parts
        study = parts[1] if len(parts) > 2 and parts[0] == "results" else ""
        key = (row["rule"], "suite" if study == "suite" else str(output.with_suffix("")))
        jobs.setdefault(key, (row["rule"], study, row["output_file"]))
    return list(jobs.values())


def _plan_tier(snakemake_args: list[str], cwd: Path | None) -> str:
    """The tier a snakemake command line selects: its ``tier=`` config item, else config.yaml's."""
    for arg in snakemake_args:
        if arg.startswith("tier="):
            return arg.split("=", 1)[1]
    cfg_file = (cwd or Path.cwd()) / "config.yaml"
    if cfg_file.is_file():
        import yaml

        return (yaml.safe_load(cfg_file.read_text()) or {}).get("tier", "quick")
    return "quick"


def plan(snakemake_args: list[str], results: Path, cwd: Path | None = None) -> str:
    """Jobs a ``snakemake`` run would execute, per study and rule, with the training time and peak memory of each
    study: from the benchmarks of jobs run here, else from the cost table of ``reprosuite probe`` (extrapolated on
    the device it ran on; used only for the tier's own config, without command-line overrides)."""
    from reprosuite.engine.data import official

    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--summary", *snakemake_args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, official.PLAN_ONLY_ENV: "1"},  # a plan reads no data: absent files do not stop it
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise config_mod.ConfigError(f"snakemake --summary failed:\n{tail}")
    tier, table = _plan_tier(snakemake_args, cwd), costs.load()
    jobs: dict[tuple[str, str], int] = defaultdict(int)
    seconds: dict[tuple[str, str], float] = defaultdict(float)  # (study, how known) -> seconds
    peak: dict[str, float] = defaultdict(float)
    unknown: dict[str, int] = defaultdict(int)
    oom: dict[tuple[str, str], int] = defaultdict(int)  # (study, where probed) -> jobs out of memory there
    needs: dict[str, float] = defaultdict(float)  # study -> the largest lower bound on a job's memory
    for rule, study, output in pending_jobs(proc.stdout):
        jobs[(study, rule)] += 1
        if rule != "train":
            continue
        point = Path(output).stem
        bench = results / "benchmarks" / "train" / study / f"{point}.tsv"
        if bench.exists():
            row = pd.read_csv(bench, sep="\t").iloc[-1]
            seconds[(study, "run here")] += float(row["s"])
            peak[study] = max(peak[study], float(row.get("max_rss", 0) or 0))
            continue
        st = study_mod.get(study)
        cfg = config_mod.resolve(st, tier)
        grid = config_mod.check_grid(st, cfg)
        entry = costs.lookup(table, study, tier, point, cfg, grid[point]) if point in grid else None
        if entry is None:
            unknown[study] += 1
            continue
        if costs.out_of_memory(entry):  # no time; its memory only bounded from below
            needs[study] = max(needs[study], entry.get("needs_mb", entry["peak_mb"]))
            oom[(study, f"on {entry['device']} {entry['date']}")] += 1
            continue
        how = costs.provenance(entry)
        seconds[(study, how)] += entry["est_s"]
        peak[study] = max(peak[study], entry["peak_mb"])
    if not jobs:
        return "nothing to do: every result is up to date"
    # the workflow names each absent dataset on a line of its own when it is only planned (common.smk)
    absent = [
        line for line in proc.stderr.splitlines() if line.startswith("dataset ") and " is missing; " in line
    ]
    rows = []
    for study in sorted({s for s, _ in jobs}):
        per_rule = ", ".join(f"{r} {n}" for (s, r), n in sorted(jobs.items()) if s == study)
        known = [(how, t) for (s, how), t in sorted(seconds.items()) if s == study]
        est = "; ".join(f"{costs.fmt_seconds(t)} ({how})" for how, t in known) or "–"
        for (s, where), n in sorted(oom.items()):
            if s == study:
                est += f" (+{n} training jobs out of memory {where}: time unknown)"
        if unknown[study]:
            est += f" (+{unknown[study]} training jobs never run here nor probed: `reprosuite probe --tier {tier}`)"
        mem = f"{peak[study]:.0f} MB" if peak[study] else "–"
        if needs.get(study, 0) > peak[study]:
            mem = f"> {needs[study]:.0f} MB (out of memory)"
        rows.append([study, per_rule, est, mem])
    by_device: dict[str, float] = defaultdict(float)
    for (_, how), t in seconds.items():
        by_device["GPU" if " on cuda " in how else "CPU"] += t / 3600
    totals = ", ".join(f"{h:.2f} {d}-hours" for d, h in sorted(by_device.items())) or "no known training time"
    return (
        _table(rows, ["study", "jobs", "training time (how known)", "peak memory"])
        + f"\n\n{sum(jobs.values())} jobs; training {totals}"
        + (f"; {sum(unknown.values())} training jobs of unknown cost" if unknown else "")
        + (f"; {sum(oom.values())} out of memory on the probe (time unknown)" if oom else "")
        + (f"; largest peak memory {max(peak.values()):.0f} MB" if any(peak.values()) else "")
        + (
            f"; largest lower bound of a job out of memory {max(needs.values()):.0f} MB"
            if any(needs.values())
            else ""
        )
        + "".join(f"\n{line} (a run stops until it is there)" for line in absent)
    )
