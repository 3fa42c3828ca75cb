"""Every training job of every study's full tier runs its first step at paper scale on CPU (``reprosuite
probe``), each study in a process whose memory is capped: a shape, dtype or device bug of the paper-scale
protocol fails here, without a GPU; a job that needs more memory than the cap is recorded as such."""

import json
import subprocess
import sys

import pytest

from reprosuite import config, study

pytestmark = pytest.mark.paper_scale
MEM_MB = 6000  # the cap of each study's process: paper-scale jobs that need more are reported, not run


@pytest.mark.parametrize("name", list(study.names()))
def test_every_full_tier_job_runs_its_first_step(name, full_tier):
    st, cfg = full_tier(name, stand_in=True)
    cmd = [sys.executable, "-m", "reprosuite.costs", "--study", name, "full", "1", "2", str(MEM_MB)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    entries = {e["point"]: e for e in map(json.loads, proc.stdout.split("\n")[:-1])}
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(entries) == set(config.check_grid(st, cfg))
    for point, entry in entries.items():
        assert entry["est_s"] >= entry["ran_s"] > 0 and entry["wall_s"] > 0, (point, entry)
        assert entry["status"] in ("measured", "extrapolated", "partial"), (point, entry)
