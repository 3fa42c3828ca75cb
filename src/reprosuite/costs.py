"""What a tier's training jobs cost, measured before submitting them: ``reprosuite probe`` and the cost table.

``reprosuite probe --tier full`` runs every training job of the tier at its real shapes on this machine (CPU, or
the GPU where there is one), each in a process of its own, for the first steps of each of its fits only
(:mod:`reprosuite.engine.train.probe`), and records per job: the device, the date, the seconds per update and
per evaluation, the peak memory, and the job's extrapolated total — the time outside the fits as measured, plus
each fit's full step and evaluation counts at the measured rates. A CPU job is timed in the CPU seconds of its
one thread (``clock: cpu``), so that a busy probing machine does not inflate it; a GPU job in wall seconds. A job
whose fits all ran to their end within the probe is measured, not extrapolated. A job that trains fits alike in
turn runs the first of them, which stands for all (``probe.alike``). A job stopped in a loop of its own is a lower
bound (``partial``). A job that could not allocate its memory is recorded as ``out of memory`` with ``needs_mb``,
a lower bound on its memory (its peak so far plus the allocation that failed), and no time.
Early stopping cannot be foreseen, so an extrapolation is an upper bound for a job that stops early. A study whose
official dataset files are absent here is probed on stand-in arrays of their shapes (``official.stand_in``; its
entries name them, ``stand_in``): its cost does not depend on the pixels.

A check (``python -m reprosuite.costs --check STUDY TIER STEPS LIMIT_S MEM_MB``, the tests) runs every job of a
study briefly at its real shapes — its first fit's first updates, one seed, no evaluation, no checkpoint — to
catch a bug of a paper-scale protocol in minutes; it records nothing.

The table (``costs.json`` beside this module, committed) is keyed by tier, study and grid point; an entry is
used only while the job's config and grid point are those it was probed with (``config`` digest). The workflow
sizes each training job from it (:func:`resources`): runtime = the extrapolation × :data:`SAFETY`, memory =
the peak × :data:`MEM_SAFETY` + :data:`MEM_BASE_MB`, capped at the partition limit; ``reprosuite plan`` sums it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from reprosuite import config as config_mod
from reprosuite import study as study_mod
from reprosuite.engine.data import official

COSTS = Path(__file__).with_name("costs.json")
# Requested runtime = extrapolated time x SAFETY: CPU speeds vary ~2x between nodes and days, evaluations
# scheduled by a study's own rule (not timed by the probe) add time, and a job must finish its last checkpoint.
SAFETY = 3.0
# Requested memory = probed peak x MEM_SAFETY + MEM_BASE_MB: histories and logged snapshots grow with the steps
# the probe did not run, and the allocator's high-water mark differs between runs.
MEM_SAFETY = 1.5
MEM_BASE_MB = 1000
MIN_RUNTIME_MIN = 10
# The longest job a partition takes, in minutes, unless the suite config sets max_runtime_min (profiles/slurm):
# longer jobs are capped there, save a checkpoint at their time limit and resume when resubmitted.
MAX_RUNTIME_MIN = 48 * 60
# A check (``probe_job(check=True)``) trains one seed of each job: the paper's shapes per member.
CHECK_SEEDS = 1


def load(path: Path = COSTS) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def job_digest(cfg, point: dict) -> str:
    return config_mod.digest({"config": config_mod.to_dict(cfg), "point": point})


def lookup(table: dict, study: str, tier: str, point_name: str, cfg, point: dict) -> dict | None:
    """The cost entry of a training job, if it was probed with this very config and grid point."""
    entry = table.get(tier, {}).get(study, {}).get(point_name)
    if entry is None or entry.get("config") != job_digest(cfg, point):
        return None
    return entry


def tier_entries(table: dict, study: str, tier: str) -> dict[str, dict | None]:
    """Every training job of a study's tier: its cost entry, or None where it was not probed with the tier's
    current config and grid point."""
    st = study_mod.get(study)
    cfg = config_mod.resolve(st, tier)
    grid = config_mod.check_grid(st, cfg)
    return {point: lookup(table, study, tier, point, cfg, values) for point, values in grid.items()}


def provenance(entry: dict) -> str:
    """How a cost entry was obtained, as ``reprosuite plan`` prints it: e.g. "extrapolated on cpu 2026-12-07", with
    "on stand-in data" where the dataset's files were absent when it was probed."""
    stand_in = f", on stand-in {'/'.join(entry['stand_in'])} data" if entry.get("stand_in") else ""
    return f"{entry['status']} on {entry['device']} {entry['date']}{stand_in}"


def out_of_memory(entry: dict) -> bool:
    """The probe ran out of memory in this job: its time is unknown, its memory only bounded from below."""
    return entry.get("status") == "out of memory" or entry.get("note", "").startswith("out of memory")


_SIZE = re.compile(r"allocate (?:memory: you tried to allocate )?(\d+(?:\.\d+)?) ?(bytes|KiB|MiB|GiB)")
_UNIT = {"bytes": 2**-20, "KiB": 2**-10, "MiB": 1.0, "GiB": 2**10}


def needs_mb(peak_mb: float, error: str) -> float:
    """A lower bound on the memory of a job that failed to allocate: its peak so far plus the allocation that
    failed (read from torch's or numpy's message; the peak alone where the message names no size)."""
    found = _SIZE.search(error)
    return peak_mb + (float(found.group(1)) * _UNIT[found.group(2)] if found else 0.0)


def resources(entry: dict, max_runtime_min: int = MAX_RUNTIME_MIN) -> dict[str, int]:
    """Runtime (minutes) and memory (MB) of a training job from its cost entry, with the safety factors. A job
    that ran out of memory on the probe asks for its lower bound on memory and the partition's time limit (its
    time is unknown; a job cut at the limit resumes from its checkpoint)."""
    if out_of_memory(entry):
        mem = math.ceil(entry.get("needs_mb", entry["peak_mb"]) * MEM_SAFETY + MEM_BASE_MB)
        return {"runtime": max_runtime_min, "mem_mb": mem}
    runtime = math.ceil(entry["est_s"] * SAFETY / 60)
    mem = math.ceil(entry["peak_mb"] * MEM_SAFETY + MEM_BASE_MB)
    return {"runtime": min(max(runtime, MIN_RUNTIME_MIN), max_runtime_min), "mem_mb": mem}


def _device_name(device) -> str:
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        return torch.cuda.get_device_name(device)
    return f"cpu: {platform.processor() or platform.machine()}"


def probe_job(
    study: str, tier: str, point: str, data: str, steps: int, limit_s: float, device: str, check: bool = False
) -> dict:
    """Run one training job under the probe (in this process) and return its cost entry. ``check``: the job's
    first fit only, for ``steps`` updates, without evaluations (its own loops stop after ``limit_s``), with the
    first :data:`CHECK_SEEDS` seeds, saving no checkpoint: its code runs at the paper's shapes per member; the
    entry's status is ``checked`` (or ``out of memory``), and neither its times nor its memory are the job's."""
    import torch

    from reprosuite.engine.train import device as device_mod
    from reprosuite.engine.train import probe as probe_mod
    from reprosuite.pipeline import load_data

    st = study_mod.get(study)
    cfg = config_mod.resolve(st, tier)
    grid = config_mod.check_grid(st, cfg)
    absent = [name for name, _ in official.missing(study_mod.required_datasets(st, cfg))]
    dev = device_mod.setup(device, 1)
    cpu_clock = getattr(dev, "type", str(dev)) == "cpu"
    clock = time.process_time if cpu_clock else time.perf_counter
    start, start_clock = time.perf_counter(), clock()
    note, complete, oom = "", True, None
    probing = probe_mod.probing(steps, limit_s, cpu_clock, evaluate=not check, fits=1 if check else None)
    with tempfile.TemporaryDirectory() as tmp, probing as probe:
        from reprosuite.engine.train import checkpoint

        # a probed job saves its checkpoints as the job would; a check none (gigabytes at paper scale)
        saving = checkpoint.checkpointing(Path(tmp) / "checkpoints", "probe", every_s=math.inf)
        with contextlib.nullcontext() if check else saving:
            try:
                seeds = study_mod.seed_list(cfg)
                st.train(cfg, grid[point], load_data(data), seeds[:CHECK_SEEDS] if check else seeds, dev)
            except probe_mod.ProbeStop as stop:
                complete = False  # a check stops every job on purpose; a probe's stop leaves a lower bound
                note = "" if check else f"stopped after {limit_s:g} s in {stop}: a lower bound"
            except MemoryError as err:
                note, complete, oom = f"out of memory: {limits()}{err}", False, str(err)
            except RuntimeError as err:
                if "allocate" not in str(err):
                    raise
                oom = str(err).splitlines()[0]
                note, complete = f"out of memory: {limits()}{oom}", False
            except Exception as err:  # a truncated fit may starve what follows it; the timings stand
                if not probe.fits:
                    raise
                note = f"the job did not finish on truncated fits ({type(err).__name__}: {err})"
    wall, ran = time.perf_counter() - start, clock() - start_clock
    fits, loops = probe.fits, probe.loops
    truncated = any(f.ran_steps < f.steps or f.repeats > 1 for f in fits)
    # the job as run, plus what its fits and loops did not run, at the rates they ran at
    rest = sum(f.projected_s() - f.ran_s() for f in fits)
    rest += sum(p.seconds * (p.total / p.done - 1) for p in loops if 0 < p.done < p.total)
    status = "partial" if not complete or note else "extrapolated" if truncated or rest > 0 else "measured"
    status = "out of memory" if oom is not None else "checked" if check else status
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    entry = {
        "config": job_digest(cfg, grid[point]),
        "device": getattr(dev, "type", str(dev)),
        "device_name": _device_name(dev),
        "date": date.today().isoformat(),
        "torch": torch.__version__,
        "probe_steps": steps,
        "wall_s": round(wall, 3),
        "clock": "cpu" if cpu_clock else "wall",
        "ran_s": round(ran, 3),
        "est_s": round(ran + rest, 3),
        "peak_mb": round(peak_mb, 1),
        "status": status,
        "fits": sum(f.repeats for f in fits),
        "steps": sum(f.steps * f.repeats for f in fits),
        "step_s": round(sum(f.step_s() * f.steps for f in fits) / max(sum(f.steps for f in fits), 1), 6),
        "note": note,
    }
    if absent:  # the data were official.stand_in arrays
        entry["stand_in"] = absent
    if check:  # what ran: updates of the first fit, units of the job's own loops
        entry["ran_steps"], entry["loop_units"] = sum(f.ran_steps for f in fits), sum(p.done for p in loops)
    if oom is not None:
        entry["needs_mb"] = round(needs_mb(peak_mb, oom), 1)
    if entry["device"] == "cuda":
        entry["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated(dev) / 2**20, 1)
    return entry


def limit_memory(mb: int | None) -> None:
    """Cap this process's address space at ``mb`` MB: a paper-scale job that needs more fails with a
    MemoryError the probe records ("out of memory"), instead of the machine running out."""
    if mb:
        resource.setrlimit(resource.RLIMIT_AS, (mb * 2**20, mb * 2**20))


def limits() -> str:
    cap = resource.getrlimit(resource.RLIMIT_AS)[0]
    return (
        "" if cap == resource.RLIM_INFINITY else f"needs more than the {cap / 2**30:.0f} GB address space; "
    )


@contextlib.contextmanager
def stand_ins():
    """Within the block (and the processes it starts) an absent official dataset reads as stand-in arrays."""
    before = os.environ.get(official.STAND_IN_ENV)
    os.environ[official.STAND_IN_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[official.STAND_IN_ENV]
        else:
            os.environ[official.STAND_IN_ENV] = before


def probe_study(name: str, tier: str, steps: int, limit_s: float, device: str = "cpu", check: bool = False):
    """Prepare a study's data and probe (or ``check``) each of its training jobs in this process: (point, entry)
    pairs. A check runs one of the jobs whose points differ only in their ``seed`` (the same code at the same
    shapes); the others' entries name it (``same_as``)."""
    from reprosuite import pipeline

    st = study_mod.get(name)
    grid = config_mod.check_grid(st, config_mod.resolve(st, tier))
    checked: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp, stand_ins():
        data = Path(tmp) / "data.npz"
        pipeline.prepare(name, tier, data)
        for point, values in grid.items():
            shapes = json.dumps({k: v for k, v in values.items() if k != "seed"}, sort_keys=True, default=str)
            if check and shapes in checked:
                yield point, {"status": "checked", "same_as": checked[shapes]}
                continue
            checked[shapes] = point
            yield point, probe_job(name, tier, point, str(data), steps, limit_s, device, check)


def probe(
    tier: str,
    studies: list[str],
    steps: int = 5,
    limit_s: float = 120.0,
    device: str = "auto",
    table_path: Path | None = COSTS,
    log=print,
) -> dict:
    """Probe every training job of ``studies`` at ``tier`` (one process per job), merge the entries into the
    cost table at ``table_path`` (None: write nothing) and return the new entries: study -> point -> entry."""
    from reprosuite import pipeline

    found: dict[str, dict] = {}
    for name in studies:
        st = study_mod.get(name)
        grid = config_mod.check_grid(st, config_mod.resolve(st, tier))
        with tempfile.TemporaryDirectory() as tmp, stand_ins():
            data = Path(tmp) / "data.npz"
            began = time.perf_counter()
            pipeline.prepare(name, tier, data)
            log(f"{name}: data in {time.perf_counter() - began:.1f} s; {len(grid)} training job(s)")
            for point in grid:
                cmd = [sys.executable, "-m", "reprosuite.costs", name, tier, point, str(data), str(steps)]
                proc = subprocess.run(
                    [*cmd, str(limit_s), device], capture_output=True, text=True, timeout=limit_s * 5 + 600
                )
                if proc.returncode != 0:
                    tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
                    raise RuntimeError(f"probe of {name} {point} failed:\n{tail}")
                entry = json.loads(proc.stdout.strip().splitlines()[-1])
                found.setdefault(name, {})[point] = entry
                log(
                    f"  {point}: {entry['status']} {fmt_seconds(entry['est_s'])} on {entry['device']}, "
                    f"peak {entry['peak_mb']:.0f} MB{'; ' + entry['note'] if entry['note'] else ''}"
                )
    if table_path is not None:
        table = load(table_path)
        for name, entries in found.items():
            # a job that ran out of memory is recorded with its lower bound on memory and no time
            table.setdefault(tier, {})[name] = entries
        table_path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return found


def fmt_seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"


if __name__ == "__main__":
    # every job of a study in this process, its memory capped (the tests): probed, or checked
    if sys.argv[1] in ("--study", "--check"):
        name, tier, steps, limit_s, mem_mb = sys.argv[2:7]
        limit_memory(int(mem_mb))
        jobs = probe_study(name, tier, int(steps), float(limit_s), check=sys.argv[1] == "--check")
        for point, entry in jobs:
            print(json.dumps({"point": point, **entry}), flush=True)
    else:  # one probed job, in a process of its own (its peak memory is its own)
        name, tier, point, data, steps, limit_s, device = sys.argv[1:8]
        print(json.dumps(probe_job(name, tier, point, data, int(steps), float(limit_s), device)))
