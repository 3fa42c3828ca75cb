"""``benchmarks/gpu_session.py``, the prepared device check, runs end to end here on the CPU at the smoke tier: it
probes the studies, runs those that fit the budget, cheapest first, and writes the cost table, the claims and its
timings, so that time on a GPU machine goes to measurements, not to fixing the script."""

import importlib.util
import json
from pathlib import Path

import pytest

from reprosuite import config, costs, io, pipeline, study

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_session.py"
STUDIES = ["tversky_xor", "jepa_dln_bias"]


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_session", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def smoke_args(out, budget_s: str, *studies: str) -> list[str]:
    """The script's arguments for a CPU check at the smoke tier."""
    return [
        "--out",
        str(out),
        "--tier",
        "smoke",
        "--device",
        "cpu",
        "--budget-s",
        budget_s,
        "--studies",
        *studies,
    ]


def test_the_gpu_session_probes_then_runs_the_studies_that_fit(tmp_path):
    out = tmp_path / "out"
    assert load_script().main(smoke_args(out, "600", *STUDIES)) == 0
    table = json.loads((out / "costs.json").read_text())
    session = json.loads((out / "session.json").read_text())
    assert set(session["studies"]) == set(STUDIES)
    for name in STUDIES:
        st = study.get(name)
        cfg = config.resolve(st, "smoke")
        for point, values in config.check_grid(st, cfg).items():
            entry = costs.lookup(table, name, "smoke", point, cfg, values)
            assert entry is not None and entry["device"] == "cpu" and entry["probe_steps"] == 2
        assert session["studies"][name]["run_s"] > 0
    # the committed table's other entries are kept
    assert table["full"] == costs.load()["full"]
    claims = io.read_table(out / "claims.parquet", pipeline.CLAIM_COLUMNS)
    assert sorted(claims["study"].unique()) == sorted(STUDIES)
    assert len(claims) == sum(len(study.get(n).CLAIMS) for n in STUDIES)
    log = (out / "log.txt").read_text()
    assert "done: 2 studies probed, 2 run" in log


def test_a_study_that_does_not_fit_the_budget_is_probed_but_not_run(tmp_path):
    script = load_script()
    script.RUN_MARGIN = 1e12  # no extrapolated time fits
    out = tmp_path / "out"
    assert script.main(smoke_args(out, "600", STUDIES[0])) == 0
    session = json.loads((out / "session.json").read_text())
    assert session["studies"][STUDIES[0]]["probed_s"] > 0 and "run_s" not in session["studies"][STUDIES[0]]
    log = (out / "log.txt").read_text()
    assert f"{STUDIES[0]}: not run (" in log and "done: 1 studies probed, 0 run" in log
    assert not (out / "claims.parquet").exists()


def test_no_study_is_probed_once_the_probe_s_share_of_the_budget_is_spent(tmp_path):
    out = tmp_path / "out"
    assert load_script().main(smoke_args(out, "0.001", STUDIES[0])) == 0
    log = (out / "log.txt").read_text()
    assert "probe budget spent: 0 of 1 studies probed" in log and "done: 0 studies probed, 0 run" in log


def test_an_unknown_study_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        load_script().main(["--out", str(tmp_path), "--device", "cpu", "--studies", "no_such_study"])
    assert exc.value.code == 2 and "no_such_study" in capsys.readouterr().err
