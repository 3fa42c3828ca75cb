import math

import pandas as pd
import pytest

from reprosuite import cli, io, study


def claims_file(results):
    rows = [
        {
            "study": "saxe_dln_dynamics",
            "paper": "Saxe 2013",
            "paper_url": "https://arxiv.org/abs/1312.6120",
            "claim": claim,
            "statement": "s",
            "metric": "m",
            "paper_value": 1.0,
            "paper_text": "",
            "rule": "<= 1",
            "measured": value,
            "ci_low": value - 0.1,
            "ci_high": value + 0.1,
            "n_seeds": 3,
            "per_seed": [value] * 3,
            "verdict": verdict,
            "note": "",
            "tier": "quick",
        }
        for claim, value, verdict in [("A", 0.5, "pass"), ("B", 3.0, "fail"), ("C", math.nan, "inconclusive")]
    ]
    io.write_table(pd.DataFrame(rows), results / "suite" / "claims.parquet", {})


def test_list_names_every_study(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in study.names())
    assert "full, probed" in out.splitlines()[0]


def test_status_prints_the_claims_table(tmp_path, capsys):
    claims_file(tmp_path)
    assert cli.main(["status", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "FAIL" in out and "1 of 3 empirical claims reproduced (1 fail, 1 inconclusive) (quick tier)" in out
    assert "saxe_dln_dynamics  1 pass, 1 fail, 1 inconclusive" in out


@pytest.mark.parametrize("command", [["status"], ["show", "saxe_dln_dynamics"]])
def test_missing_results_is_a_clear_error(tmp_path, capsys, command):
    code = cli.main([*command, "--results", str(tmp_path / "nowhere")])
    err = capsys.readouterr()
    if command[0] == "status":
        assert code == 2 and "no claims in" in err.err
    else:
        assert code == 0 and "not run yet" in err.out and "no files under" in err.out


def test_show_unknown_study_fails(capsys):
    assert cli.main(["show", "nope"]) == 2
    assert "unknown study 'nope'" in capsys.readouterr().err


def test_stage_errors_exit_nonzero_with_one_line(tmp_path, capsys):
    code = cli.main(
        [
            "prepare",
            "--study",
            "saxe_dln_dynamics",
            "--tier",
            "smoke",
            "--overrides",
            '{"lr": -1}',
            "--out",
            str(tmp_path / "d.npz"),
        ]
    )
    assert code == 2
    assert (
        capsys.readouterr().err.strip()
        == "reprosuite: error: study 'saxe_dln_dynamics', key 'lr': must be > 0, got -1.0"
    )
    assert not (tmp_path / "d.npz").exists()


def test_table_prints_and_writes_the_readme_suite_table(tmp_path, capsys):
    claims_file(tmp_path)
    assert cli.main(["table", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| `saxe_dln_dynamics`"))
    assert "arXiv:1312.6120" in row and "| quick, 3 | 1 pass, 1 fail, 1 inconclusive |" in row
    assert "`B` fail: 3 [2.9, 3.1] vs <= 1" in row and "`A`" not in row
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- suite-table -->\nold table\n<!-- /suite-table -->\nrest\n")
    assert cli.main(["table", "--results", str(tmp_path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(
        "intro\n<!-- suite-table -->\n1 of 3 empirical claims reproduced (1 fail, 1 inconclusive)."
    )
    assert "\n\n| study |" in text and text.endswith("<!-- /suite-table -->\nrest\n")
    assert "old table" not in text and row in text
    readme.write_text("no markers\n")
    assert cli.main(["table", "--results", str(tmp_path), "--readme", str(readme)]) == 2
    assert "no <!-- suite-table -->" in capsys.readouterr().err


def test_show_prints_each_tiers_deviations_from_the_paper(capsys):
    name = "saxe_dln_dynamics"
    assert cli.main(["show", name]) == 0
    out = capsys.readouterr().out
    assert "deviations from the paper's protocol" in out and "  full:" in out and "  quick:" in out
    st = study.get(name)
    for d in study.deviations(st, st.TIERS["quick"], "quick"):
        assert str(d) in out
    # each tier's cost as the study states it, and the full tier as the committed cost table extrapolates it
    from reprosuite import costs, status

    assert f"  quick: {st.module.COST['quick']}\n" in out
    assert f"  full, probed: {status.probed_cost(st, 'full', costs.load())}\n" in out
    assert "153 of 153 jobs" in out


def test_list_sums_each_study_s_probed_full_tier_from_the_cost_table():
    """The "full, probed" column: the extrapolated times of the tier's jobs probed with its current config, summed
    per device; jobs probed with another config, or out of memory, are not counted."""
    from reprosuite import config, costs, status

    st = study.get("hoffer_train_longer")  # 7 jobs at smoke
    cfg = config.resolve(st, "smoke")
    grid = config.check_grid(st, cfg)
    points = list(grid)
    entry = {"device": "cpu", "status": "extrapolated", "est_s": 1800.0, "peak_mb": 500.0}
    jobs = {p: {**entry, "config": costs.job_digest(cfg, grid[p])} for p in points}
    table = {"smoke": {st.name: jobs}}
    n = len(points)
    assert (
        status.probed_cost(st, "smoke", table) == f"{costs.fmt_seconds(1800.0 * n)} on cpu ({n} of {n} jobs)"
    )
    jobs[points[0]] = {**jobs[points[0]], "status": "partial", "device": "cuda", "est_s": 60.0}
    jobs[points[1]] = {**jobs[points[1]], "config": "another config"}
    jobs[points[2]] = {**jobs[points[2]], "status": "out of memory"}
    assert status.probed_cost(st, "smoke", table) == (
        f"{costs.fmt_seconds(1800.0 * (n - 3))} on cpu + 60 s on cuda ({n - 2} of {n} jobs; 1 partial)"
    )
    assert status.probed_cost(st, "smoke", {}) == "not probed"
