"""Checks of the SLURM smoke run of tests/slurm/run.sh: job records, GPU requests, results equal to a local run;
and of the full tier's dry run through the same profile: what every job would ask the cluster for.

Reads the job records of the controller (`scontrol show job --oneliner`, which keeps finished jobs for MinJobAge),
the Snakemake log and the per-job SLURM logs of the SLURM run, and the results/ of both runs. Prints the jobs,
one line per check and a closing 'slurm: N passed, N failed'; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from reprosuite import io


def job_records(path: Path) -> dict[str, dict[str, str]]:
    """Job id -> fields of `scontrol show job --oneliner` (KEY=VALUE separated by spaces)."""
    records = [dict(re.findall(r"(\w+)=(\S*)", line)) for line in path.read_text().splitlines()]
    return {r["JobId"]: r for r in records if "JobId" in r}


def submitted_jobids(snakemake_log: Path) -> set[str]:
    return set(re.findall(r"submitted with SLURM jobid (\d+)", snakemake_log.read_text()))


# Rules that run on the login node, not through SLURM: the target rule and the workflow's localrules
# (workflow/rules/suite.smk).
LOCAL_RULES = ("all", "suite_claims")


def planned_jobs(snakemake_log: Path) -> Counter:
    """Rule -> number of jobs, from the job stats table Snakemake prints first (less the local rules)."""
    table = snakemake_log.read_text().split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = Counter({rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M)})
    for rule in (*LOCAL_RULES, "total"):
        del counts[rule]
    return counts


def rules_in_jobs(slurm_logs: Path, jobids: set[str]) -> dict[str, Counter]:
    """SLURM job id -> the rules it ran, from its log ({slurm_logs}/{rule or group}/.../{jobid}.log): the
    plugin's Snakemake inside the job prints a `rule NAME:` header for each job it runs, several in a group."""
    return {
        path.stem: Counter(re.findall(r"^rule (\w+):$", path.read_text(), flags=re.M))
        for path in slurm_logs.rglob("*.log")
        if path.stem in jobids
    }


def gpus(record: dict[str, str]) -> int:
    """GPUs a job asked for: sbatch --gpus=N shows as TresPerJob=gres:gpu:N."""
    tres = record.get("TresPerJob", "") + "," + record.get("TresPerNode", "")
    return sum(int(n) for n in re.findall(r"gres[:/]gpu(?::[\w.]+)?[:=](\d+)", tres))


def run_tables(results: Path) -> dict[str, pd.DataFrame]:
    return {str(p.relative_to(results)): io.read_table(p) for p in sorted(results.glob("*/runs/*.parquet"))}


def frames_equal(left: pd.DataFrame, right: pd.DataFrame, name: str) -> bool:
    try:
        pd.testing.assert_frame_equal(left, right)
    except AssertionError as err:
        print(f"{name} differs: {err}")
        return False
    return True


def planned_requests(dry_run_log: Path) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job a ``snakemake -n`` run printed."""
    jobs, rule, wildcards = [], None, {}
    for line in dry_run_log.read_text().splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):", line.strip()):
            rule, wildcards = m.group(1), {}
        elif line.strip().startswith("wildcards:"):
            wildcards = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].strip().split(", "))
        elif line.strip().startswith("resources:") and rule:
            jobs.append(
                (rule, wildcards, dict(kv.split("=", 1) for kv in line.split(":", 1)[1].strip().split(", ")))
            )
            rule = None
    return jobs


def full_tier_checks(dry_run_log: Path, max_runtime_min: int) -> dict[str, bool]:
    """Every training job of the full tier asks for what its probed cost says (else the tier's default), on one
    GPU, within the partition limit; every other job stays small and CPU-only."""
    from reprosuite import config, costs, study

    jobs = planned_requests(dry_run_log)
    table, train, mismatched = costs.load(), [j for j in jobs if j[0] == "train"], []
    probed = 0
    for _, wc, res in train:
        st = study.get(wc["study"])
        cfg = config.resolve(st, "full")
        point = config.check_grid(st, cfg)[wc["point"]]
        entry = costs.lookup(table, st.name, "full", wc["point"], cfg, point)
        probed += entry is not None
        measured = costs.resources(entry, max_runtime_min) if entry else None
        want = config.train_resources(st, cfg, point, "full", "cuda", measured, max_runtime_min)
        if (int(res["runtime"]), int(res["mem_mb"]), int(res.get("gpu", 0))) != (
            want["runtime"],
            want["mem_mb"],
            1,
        ):
            mismatched.append(f"{wc}: asks {res}, expected {want}")
    for line in mismatched:
        print("  " + line)
    other = [j for j in jobs if j[0] != "train"]
    print(
        f"full tier: {len(train)} training jobs ({probed} sized from probed costs), {len(other)} other jobs"
    )
    return {
        f"full tier: {len(train)} training jobs ask for their probed cost or the default, one GPU each": bool(
            train
        )
        and not mismatched,
        f"full tier: no job asks for more than the partition limit ({max_runtime_min} min)": bool(jobs)
        and all(int(r["runtime"]) <= max_runtime_min for _, _, r in jobs),
        "full tier: every other job is small (<= 60 min, <= 4 GB) and asks for no GPU": bool(other)
        and all(
            int(r["runtime"]) <= 60 and int(r["mem_mb"]) <= 4000 and int(r.get("gpu", 0)) == 0
            for _, _, r in other
        ),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=Path, required=True, help="output of `scontrol show job --oneliner`")
    ap.add_argument("--slurm", type=Path, required=True, help="workflow copy that ran through SLURM")
    ap.add_argument("--local", type=Path, required=True, help="workflow copy that ran locally")
    ap.add_argument(
        "--full-plan", type=Path, help="log of a dry run of the full tier through the same profile"
    )
    ap.add_argument("--max-runtime-min", type=int, default=2880, help="the suite config's max_runtime_min")
    a = ap.parse_args()

    snakemake_log = sorted((a.slurm / ".snakemake/log").glob("*.snakemake.log"))[-1]
    submitted = submitted_jobids(snakemake_log)
    records = {j: r for j, r in job_records(a.jobs).items() if j in submitted}
    rules = rules_in_jobs(a.slurm / ".snakemake/slurm_logs", submitted)
    planned = planned_jobs(snakemake_log)
    ran = sum(rules.values(), Counter())
    train = [j for j in records if "train" in rules.get(j, {})]
    other = [j for j in records if "train" not in rules.get(j, {})]

    print(f"{len(submitted)} SLURM jobs submitted, {len(records)} recorded by slurmctld:")
    for j, r in sorted(records.items(), key=lambda item: int(item[0])):
        jobs = ", ".join(rule + (f" x{n}" if n > 1 else "") for rule, n in sorted(rules.get(j, {}).items()))
        print(
            f"  {j:>4} {r.get('Partition')} gpus={gpus(r)} cpus={r.get('NumCPUs')} {r.get('JobState')}"
            f" exit={r.get('ExitCode')} {r.get('RunTime')}  {jobs}"
        )

    slurm_runs, local_runs = run_tables(a.slurm / "results"), run_tables(a.local / "results")
    slurm_claims = io.read_table(a.slurm / "results/suite/claims.parquet")
    local_claims = io.read_table(a.local / "results/suite/claims.parquet")
    measured = bool(slurm_claims["measured"].notna().any())
    checks = {
        "every planned job but the local rules' ran inside a SLURM job": bool(planned) and ran == planned,
        "every SLURM job completed with exit 0": len(records) == len(submitted)
        and all(r.get("JobState") == "COMPLETED" and r.get("ExitCode") == "0:0" for r in records.values()),
        "training jobs asked for one GPU each, on the gpu partition": bool(train)
        and all(set(rules[j]) == {"train"} for j in train)
        and all(gpus(records[j]) == 1 and records[j].get("Partition") == "gpu" for j in train),
        "no other job asked for a GPU; they ran on the cpu partition": bool(other)
        and all(gpus(records[j]) == 0 and records[j].get("Partition") == "cpu" for j in other),
        "training ran on the CPU (no CUDA behind the fake GPUs)": bool(slurm_runs)
        and all(io.read_meta(a.slurm / "results" / name)["device"] == "cpu" for name in slurm_runs),
        f"the {len(slurm_runs)} run tables equal the local run's": bool(slurm_runs)
        and slurm_runs.keys() == local_runs.keys()
        and all(frames_equal(t, local_runs[name], name) for name, t in slurm_runs.items()),
        f"the claims table ({len(slurm_claims)} claims) equals the local run's": measured
        and frames_equal(slurm_claims, local_claims, "suite/claims.parquet"),
    }
    if a.full_plan is not None:
        checks.update(full_tier_checks(a.full_plan, a.max_runtime_min))
    if ran != planned:
        print(f"planned jobs {dict(planned)}; ran inside SLURM jobs {dict(ran)}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
    failed = sum(not ok for ok in checks.values())
    print(f"slurm: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
