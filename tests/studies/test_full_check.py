"""Every training job of every study's full tier runs at the paper's shapes on CPU, briefly (``python -m
reprosuite.costs --check``): the first update of its first fit, without evaluations, its own loops stopped at
their first progress line, one seed. A shape, dtype or device bug of the paper-scale protocol fails here, without
a GPU and within CI's time. Each study runs in a process of its own, its address space capped. A dataset whose
official files are absent (CIFAR-10 in CI) is read as stand-in arrays of its shapes (``official.stand_in``).

What the check leaves out (evaluations at paper scale, every fit, all seeds, the job's memory) the full probe
covers: ``pytest -m paper_scale`` (tests/studies/test_full_probe.py, by hand, hours)."""

import json
import subprocess
import sys

import pytest

from reprosuite import config, costs, study

MEM_MB = 6000  # each study's process, unless one of its jobs was measured to need more (the cost table)
TRUNCATED = "the job did not finish on truncated fits"  # code after a fit that starves without evaluations


@pytest.mark.parametrize("name", list(study.names()))
def test_every_full_tier_job_runs_at_paper_scale(name, full_tier):
    st, cfg = full_tier(name, stand_in=True)
    measured = costs.load().get("full", {}).get(name, {}).values()
    cap = round(max([MEM_MB, *(e.get("needs_mb", e["peak_mb"]) + 1000 for e in measured)]))
    cmd = [sys.executable, "-m", "reprosuite.costs", "--check", name, "full", "1", "0", str(cap)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    entries = {e.pop("point"): e for e in map(json.loads, proc.stdout.splitlines())}
    grid = config.check_grid(st, cfg)
    assert list(entries) == list(grid)
    for point, entry in entries.items():
        assert entry["status"] == "checked", (point, entry)
        if "same_as" in entry:  # the same job but for its seed
            assert {**grid[point], "seed": None} == {**grid[entry["same_as"]], "seed": None}, (point, entry)
            continue
        assert not entry["note"] or entry["note"].startswith(TRUNCATED), (point, entry)
        # the first update of its first fit with updates to run
        assert entry["ran_steps"] == (1 if entry["steps"] else 0), (point, entry)
        assert 0 < entry["peak_mb"] < cap and entry["wall_s"] > 0, (point, entry)
