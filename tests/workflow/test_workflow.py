"""The Snakemake workflow: dry runs, lint, a real smoke run of the whole DAG, and rerun-only-what-changed."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from reprosuite import fingerprint, io, study
from reprosuite.engine.data import official

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.workflow


def requires_mnist(tier: str) -> None:
    """Skip, naming the file, where the official MNIST that the tier's studies read is not in the data directory
    (a run would stop before any job: tested in test_a_missing_dataset_stops_before_any_job…)."""
    absent = official.missing(["mnist"])
    if absent:
        pytest.skip(f"the {tier} tier reads the official MNIST and {absent[0][1]} is absent")


def snakemake(
    cwd: Path, *args: str, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def copy_workflow(dest: Path, **config) -> Path:
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, dest / name)
    for name in ("workflow", "profiles"):
        shutil.copytree(ROOT / name, dest / name)
    if config:
        write_config(dest, **config)
    return dest


def write_config(dest: Path, **changes) -> None:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg.update(changes)
    (dest / "config.yaml").write_text(yaml.safe_dump(cfg))


def planned_outputs(stdout: str) -> list[str]:
    """Output paths of the jobs a dry run would execute."""
    return re.findall(r"^\s*output: (.+)$", stdout, flags=re.M)


def studies_touched(stdout: str) -> set[str]:
    touched = set()
    for line in planned_outputs(stdout):
        touched |= set(re.findall(r"results/([a-z0-9_]+)/", line)) - {"suite"}
    return touched


# The real workflow run covers every stage of the DAG with the wave-1 studies; every study's own smoke pipeline is
# run in-process by tests/studies/test_smoke.py, and the dry run below plans all of them.
RUN_STUDIES = ["saxe_dln_dynamics", "nc_deep_linear", "grokking_modular"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """One real run of the whole DAG at the smoke tier, in a temporary copy of the workflow."""
    work = copy_workflow(tmp_path_factory.mktemp("suite"), tier="smoke", studies=RUN_STUDIES)
    proc = snakemake(work)
    return work, proc


def test_dry_run_of_the_default_config_plans_every_study(tmp_path):
    requires_mnist("quick")
    proc = snakemake(copy_workflow(tmp_path), "-n")
    assert studies_touched(proc.stdout) == set(study.names())
    assert "train" in proc.stdout and "suite_claims" in proc.stdout


def test_lint_is_clean():
    requires_mnist("quick")
    proc = snakemake(ROOT, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "cmd",
    [
        ["snakefmt", "--check", "Snakefile", "workflow"],
        ["ruff", "check", "src", "tests", "benchmarks"],
        ["ruff", "format", "--check", "src", "tests", "benchmarks"],
    ],
)
def test_formatters_are_clean(cmd):
    exe = Path(sys.executable).parent / cmd[0]
    proc = subprocess.run([str(exe), *cmd[1:]], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_smoke_run_produces_the_suite_claims_table(smoke_run):
    work, _ = smoke_run
    table = io.read_table(work / "results/suite/claims.parquet")
    expected = {(name, c.id) for name in RUN_STUDIES for c in study.get(name).CLAIMS}
    assert set(zip(table.study, table.claim, strict=True)) == expected
    assert {"paper_value", "measured", "ci_low", "ci_high", "verdict", "tier", "n_seeds"} <= set(
        table.columns
    )
    assert set(table.tier) == {"smoke"}
    meta = io.read_meta(work / "results/suite/claims.parquet")
    assert sorted(meta["studies"]) == sorted(RUN_STUDIES)
    html = (work / "results/suite/claims.html").read_text()
    assert all(name in html for name in RUN_STUDIES)
    for name in RUN_STUDIES:
        for fig in study.get(name).figure_names("smoke"):
            assert (work / f"results/{name}/figures/{fig}.png").stat().st_size > 0
        assert list((work / f"results/logs/train/{name}").glob("*.log"))
        assert list((work / f"results/benchmarks/train/{name}").glob("*.tsv"))


def test_second_run_has_nothing_to_do(smoke_run):
    work, _ = smoke_run
    proc = snakemake(work)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_changing_one_studys_override_reruns_only_that_study(smoke_run):
    work, _ = smoke_run
    write_config(work, tier="smoke", studies=RUN_STUDIES, overrides={"saxe_dln_dynamics": {"steps": 3000}})
    try:
        proc = snakemake(work, "-n")
        assert studies_touched(proc.stdout) == {"saxe_dln_dynamics"}
        assert any("results/suite/claims.parquet" in o for o in planned_outputs(proc.stdout))
    finally:
        write_config(work, tier="smoke", studies=RUN_STUDIES)
    assert studies_touched(snakemake(work, "-n").stdout) == set()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"studies": ["no_such_study"]}, "unknown study 'no_such_study'"),
        ({"tier": "huge"}, "huge"),
        ({"overrides": {"saxe_dln_dynamics": {"stepz": 1}}}, "unknown override key 'stepz'"),
        ({"overrides": {"saxe_dln_dynamics": {"lr": -1.0}}}, "key 'lr': must be > 0"),
        ({"overrides": {"saxe_dln_dynamics": {"steps": "many"}}}, "key 'steps': expected an integer"),
        ({"overrides": {"saxe_dln_dynamics": {"steps": 0}}}, "key 'steps': must be > 0"),
        ({"overrides": {"saxe_dln_dynamics": {"tanh": "yes"}}}, "key 'tanh': expected true/false"),
        ({"overrides": {"saxe_dln_dynamics": {"modes": 3}}}, "key 'modes': expected a list"),
        ({"overrides": {"not_a_study": {"steps": 1}}}, "unknown study 'not_a_study'"),
        ({"overrides": {"saxe_dln_dynamics": 5}}, "5 is not of type 'object'"),
        ({"seeds": 0}, "seeds"),
        ({"seeds": -3}, "On instance['seeds']:\n    -3"),
        ({"seeds": [1, 1]}, "On instance['seeds']:\n    [1, 1]"),
        ({"seeds": "three"}, "On instance['seeds']:\n    'three'"),
        ({"studies": []}, "studies"),
        ({"tier": None}, "instance['tier']"),
        ({"device": "tpu"}, "tpu"),
        ({"extra_key": 1}, "extra_key"),
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, changes, message):
    work = copy_workflow(tmp_path, **changes)
    proc = snakemake(work, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (work / "results").exists()


def test_a_missing_dataset_stops_before_any_job_naming_the_file_and_the_fetch_command(tmp_path):
    work = copy_workflow(
        tmp_path, tier="smoke", studies=["elu_bias_shift"], overrides={"elu_bias_shift": {"dataset": "mnist"}}
    )
    env = {**os.environ, "REPROSUITE_DATA": str(tmp_path / "empty")}
    proc = snakemake(work, "-n", check=False, env=env)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "dataset mnist:" in out and "train-images-idx3-ubyte.gz is missing" in out
    assert "reprosuite data fetch mnist" in out
    assert not (work / "results").exists()


def test_plan_without_the_dataset_files_plans_and_names_them(tmp_path, monkeypatch, capsys):
    """A plan reads no data: `reprosuite plan` lists the jobs and says which files a run still needs."""
    from reprosuite import cli

    work = copy_workflow(
        tmp_path, tier="smoke", studies=["elu_bias_shift"], overrides={"elu_bias_shift": {"dataset": "mnist"}}
    )
    monkeypatch.setenv("REPROSUITE_DATA", str(tmp_path / "empty"))
    monkeypatch.chdir(work)
    assert cli.main(["plan"]) == 0
    out = capsys.readouterr().out
    assert "elu_bias_shift" in out and "train 1" in out
    assert "dataset mnist: " in out and "is missing; get it with `reprosuite data fetch mnist`" in out


def test_killed_training_resumes_with_identical_results(tmp_path):
    """SIGKILL the whole run mid-training, rerun the workflow: the resumed results equal an uninterrupted run."""
    changes = {
        "tier": "smoke",
        "studies": ["saxe_dln_dynamics"],
        "overrides": {"saxe_dln_dynamics": {"steps": 12000}},
    }
    env = {**os.environ, "REPROSUITE_CHECKPOINT_EVERY": "0.5"}
    (tmp_path / "killed").mkdir()
    killed = copy_workflow(tmp_path / "killed", **changes)
    proc = subprocess.Popen(
        [sys.executable, "-m", "snakemake"],
        cwd=killed,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoints = killed / "results/saxe_dln_dynamics/checkpoints"
    deadline = time.monotonic() + 300
    while not list(checkpoints.glob("*/fit0.pt")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(checkpoints.glob("*/fit0.pt")), "no checkpoint was written before the kill"
    snakemake(killed, "--unlock")
    subprocess.run([sys.executable, "-m", "snakemake"], cwd=killed, env=env, check=True, capture_output=True)
    logs = "".join(p.read_text() for p in (killed / "results/logs/train/saxe_dln_dynamics").glob("*.log"))
    assert "resumed from" in logs
    assert not list(checkpoints.glob("*/*.pt")), "checkpoints are removed once the run table is written"

    (tmp_path / "clean").mkdir()
    clean = copy_workflow(tmp_path / "clean", **changes)
    snakemake(clean)
    for run in sorted((clean / "results/saxe_dln_dynamics/runs").glob("*.parquet")):
        a = io.read_table(run)
        b = io.read_table(killed / "results/saxe_dln_dynamics/runs" / run.name)
        assert a.equals(b), f"{run.name} differs after the kill and resume"
    a = io.read_table(clean / "results/suite/claims.parquet")
    b = io.read_table(killed / "results/suite/claims.parquet")
    assert a[["claim", "measured", "verdict"]].equals(b[["claim", "measured", "verdict"]])


def test_fresh_seeds_run_through_the_workflow(tmp_path):
    """``--config 'seeds=[100,101,102]'``: every job trains, measures and draws those seeds, not 0 … n − 1."""
    name, fresh = "saxe_dln_dynamics", [100, 101, 102]
    work = copy_workflow(tmp_path, tier="smoke", studies=[name])
    snakemake(work, "--config", "seeds=[100,101,102]")
    runs = sorted((work / f"results/{name}/runs").glob("*.parquet"))
    assert runs
    for run in runs:
        assert sorted(set(io.read_table(run).seed)) == fresh, run.name
        assert io.read_meta(run)["config"]["seeds"] == fresh
    assert set(io.read_table(work / f"results/{name}/metrics.parquet").seed) == set(fresh)
    claims = io.read_table(work / "results/suite/claims.parquet")
    at_smoke = {c.id for c in study.get(name).CLAIMS if "smoke" in c.tiers}
    measured = claims[claims.claim.isin(at_smoke)]
    assert len(measured) == len(at_smoke) > 0 and set(measured.n_seeds) == {3}
    for fig in study.get(name).figure_names("smoke"):
        assert (work / f"results/{name}/figures/{fig}.png").stat().st_size > 0


def test_seed_offset_shifts_every_studys_own_seeds(tmp_path):
    """``--config seed_offset=100``: each study keeps its tier's seed count, on seeds 100 … 99 + n."""
    names = ["saxe_dln_dynamics", "jepa_dln_bias"]
    work = copy_workflow(tmp_path, tier="smoke", studies=names)
    out = snakemake(work, "-n", "-p", "--config", "seed_offset=100").stdout
    for name in names:
        n = len(study.seed_list(study.get(name).TIERS["smoke"]))
        shifted = re.findall(rf"--study {name} .*?--overrides '(\{{.*?\}})'", out)
        assert shifted and {s for s in shifted} == {f'{{"seeds": {list(range(100, 100 + n))}}}'}, shifted
    bad = snakemake(work, "-n", "--config", "seed_offset=-1", check=False)
    assert bad.returncode != 0 and "seed_offset" in bad.stdout + bad.stderr


def test_plan_lists_pending_jobs_and_nothing_after_a_run(smoke_run, tmp_path, monkeypatch, capsys):
    from reprosuite import cli

    work, _ = smoke_run
    monkeypatch.chdir(work)
    assert cli.main(["plan"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    monkeypatch.chdir(copy_workflow(tmp_path, tier="quick", studies=["saxe_dln_dynamics"]))
    assert cli.main(["plan", "--config", "tier=smoke"]) == 0
    out = capsys.readouterr().out
    assert "saxe_dln_dynamics" in out and "train 2" in out and "never run here nor probed" in out


def test_unwritable_results_directory_stops_before_any_job(tmp_path):
    work = copy_workflow(tmp_path, tier="smoke", studies=["saxe_dln_dynamics"])
    (work / "results").write_text("a file where the results directory should be")
    proc = snakemake(work, check=False)
    assert proc.returncode != 0
    assert "results directory 'results' is not a writable directory" in proc.stdout + proc.stderr
    assert (work / "results").read_text().startswith("a file")


def test_corrupt_dataset_and_truncated_run_table_are_named(tmp_path):
    from reprosuite import cli

    bad = tmp_path / "data.npz"
    bad.write_bytes(b"not a zip file")
    args = ["--study", "saxe_dln_dynamics", "--tier", "smoke"]
    out = tmp_path / "runs" / "modes-random.parquet"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reprosuite.cli",
            "train",
            *args,
            "--point",
            "modes-random",
            "--data",
            str(bad),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and f"cannot read dataset file {bad}" in proc.stderr
    assert not out.exists() and not (tmp_path / "checkpoints").exists()
    out.parent.mkdir()
    out.write_bytes(b"PAR1 truncated")
    assert cli.main(["extract", *args, "--runs", str(out), "--out", str(tmp_path / "m.parquet")]) == 2
    assert not (tmp_path / "m.parquet").exists()


def test_training_is_deterministic_across_processes(tmp_path):
    from reprosuite import pipeline

    pipeline.prepare("saxe_dln_dynamics", "smoke", tmp_path / "data.npz")
    tables = []
    for i in range(2):
        out = tmp_path / f"run{i}.parquet"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "reprosuite.cli",
                "train",
                "--study",
                "saxe_dln_dynamics",
                "--tier",
                "smoke",
                "--point",
                "modes-random",
                "--data",
                str(tmp_path / "data.npz"),
                "--out",
                str(out),
                "--device",
                "cpu",
                "--overrides",
                '{"steps": 500}',
            ],
            check=True,
            capture_output=True,
        )
        tables.append(io.read_table(out))
    assert tables[0].equals(tables[1])


def test_a_second_concurrent_run_is_refused(tmp_path):
    work = copy_workflow(tmp_path, tier="smoke", studies=["saxe_dln_dynamics"])
    first = subprocess.Popen(
        [sys.executable, "-m", "snakemake"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not list((work / ".snakemake" / "locks").glob("*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        second = snakemake(work, check=False)
    finally:
        first.wait(timeout=600)
    assert second.returncode != 0
    assert "cannot be locked" in second.stdout + second.stderr
    assert first.returncode == 0


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless Chromium, installed with apt-get when missing (CI runs as root)."""
    exe = shutil.which("chromium")
    if exe is None:
        if os.geteuid() != 0:
            pytest.skip("chromium is not installed and apt-get needs root")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True
        )
        exe = shutil.which("chromium")
    assert exe, "chromium could not be installed"
    return exe


def headless(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
    ]
    return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=180)


def test_report_renders_claims_and_figures_in_a_browser(smoke_run, chromium, tmp_path):
    import matplotlib.image

    work, _ = smoke_run
    snakemake(work, "--report", "report.html")
    report = work / "report.html"
    assert report.stat().st_size > 100_000  # self-contained: figures and scripts are embedded
    dom = headless(chromium, tmp_path / "profile", "--dump-dom", report.as_uri()).stdout
    for name in RUN_STUDIES:
        assert name in dom, f"{name} missing from the rendered report"
    assert "Suite" in dom
    # the landing page, before any click, is the claims table: one row per claim, verdicts coloured
    landing = dom[dom.index('id="claims"') :]
    landing = landing[: landing.index("</table>")]
    n_claims = sum(len(study.get(name).CLAIMS) for name in RUN_STUDIES)
    assert landing.count('class="verdict"') == n_claims
    assert all(name in landing for name in RUN_STUDIES)
    shot = tmp_path / "report.png"
    headless(
        chromium, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1280,900", report.as_uri()
    )
    pixels = matplotlib.image.imread(shot)
    assert pixels.std() > 0.02, "the screenshot of the report is blank"
    claims_page = work / "results/suite/claims.html"
    dom = headless(chromium, tmp_path / "profile3", "--dump-dom", claims_page.as_uri()).stdout
    assert '<table id="claims"' in dom or "<table id='claims'" in dom
    assert all(name in dom for name in RUN_STUDIES)


# Reruns after code edits. The edits go to a copy of the package that Snakemake and its jobs import through
# PYTHONPATH, never to src/. The baseline is `--touch`: every output exists and carries the params (fingerprints)
# of the unedited code, so a dry run plans exactly the jobs an edit invalidates. saxe_dln_dynamics and
# nc_deep_linear train on the common engine; grokking_modular and varma_circuit_efficiency also share the
# modular-arithmetic engine code, which test_an_engine_module_edit_reruns_only_the_studies_using_it finds.
EDIT_STUDIES = ["saxe_dln_dynamics", "nc_deep_linear", "grokking_modular", "varma_circuit_efficiency"]
# The rules a change to a stage's code reruns, its own and those downstream of it.
RERUN = {
    "data": {"prepare_data", "train", "extract_metrics", "figure", "check_claims"},
    "train": {"train", "extract_metrics", "figure", "check_claims"},
    "extract": {"extract_metrics", "figure", "check_claims"},
    "figure": {"figure"},
    "claims": {"check_claims"},
}
SUITE_JOB = ("suite_claims", "suite")


def summary_jobs(work: Path, env: dict) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(rule, study) of the jobs that `snakemake --summary` lists as pending, and of every output file."""
    from reprosuite import status

    out = snakemake(work, "--summary", env=env).stdout
    rows = [line.split("\t") for line in out[out.index("output_file\t") :].splitlines()[1:]]
    return [(rule, st) for rule, st, _ in status.pending_jobs(out)], [
        (r[2], r[0].split("/")[1]) for r in rows
    ]


@pytest.fixture(scope="module")
def touched(tmp_path_factory):
    """A workflow copy with its own copy of the package, every output present and up to date (`--touch`)."""
    work = copy_workflow(tmp_path_factory.mktemp("edits"), tier="smoke", studies=EDIT_STUDIES)
    src = work / "src"
    shutil.copytree(
        Path(study.__file__).parent, src / "reprosuite", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
    }
    where = subprocess.run(
        [sys.executable, "-c", "import reprosuite; print(reprosuite.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == src / "reprosuite" / "__init__.py", (
        "PYTHONPATH must take precedence over the install"
    )
    out = snakemake(work, "--summary", env=env).stdout
    for line in out[out.index("output_file\t") :].splitlines()[1:]:
        path = work / line.split("\t")[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    snakemake(work, "--touch", "--forceall", env=env)
    assert summary_jobs(work, env)[0] == []
    return work, env


@pytest.fixture
def edits(touched, tmp_path):
    """A fresh copy of the touched workflow and its package: (workflow, package root, env)."""
    base, env = touched
    work = tmp_path / "work"
    shutil.copytree(base, work, symlinks=True)
    src = work / "src"
    env = {**env, "PYTHONPATH": env["PYTHONPATH"].replace(str(base / "src"), str(src))}
    return work, src / "reprosuite", env


def study_source(root: Path, name: str) -> Path:
    """The study's own module (``studies/<id>.py`` or ``studies/<id>/__init__.py``) in the package copy."""

    return fingerprint.fingerprint_sources("data", name, root)[f"reprosuite.studies.{name}"]


def insert_after(path: Path, function: str, line: str) -> None:
    """Append ``line`` (indented as a statement of its body) to a top-level function of ``path``."""
    import ast

    text = path.read_text().splitlines(keepends=True)
    node = next(
        n for n in ast.parse("".join(text)).body if isinstance(n, ast.FunctionDef) and n.name == function
    )
    text.insert(node.end_lineno, f"    {line}\n")
    path.write_text("".join(text))


def test_a_studys_docstring_and_comments_rerun_nothing(edits):
    import ast

    work, root, env = edits
    source = study_source(root, "nc_deep_linear")
    lines = source.read_text().splitlines(keepends=True)
    docstring = ast.parse("".join(lines)).body[0]
    assert lines[0].startswith('"""') and isinstance(docstring, ast.Expr)
    lines.insert(docstring.end_lineno, "# a new comment line, after the docstring\n")
    lines[0] = '"""Edited: ' + lines[0][3:]
    source.write_text("".join(lines))
    assert summary_jobs(work, env)[0] == []
    assert "Nothing to be done" in snakemake(work, "-n", env=env).stdout


def test_a_claims_rule_edit_reruns_only_that_claim_check(edits):
    import ast

    work, root, env = edits
    source = study_source(root, "nc_deep_linear").with_name("claims.py")  # the package keeps its claims there
    text = source.read_text()
    claims = next(
        n.value
        for n in ast.parse(text).body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "CLAIMS" for t in n.targets)
    )
    claim = next(
        n for n in ast.walk(claims) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Claim"
    )
    rule = next(k.value for k in claim.keywords if k.arg == "rule")
    number = next(n for n in ast.walk(rule) if isinstance(n, ast.Constant) and isinstance(n.value, float))
    lines = text.splitlines(keepends=True)
    line = lines[number.lineno - 1]
    lines[number.lineno - 1] = (
        line[: number.col_offset] + repr(number.value * 2) + line[number.end_col_offset :]
    )
    source.write_text("".join(lines))
    assert sorted(summary_jobs(work, env)[0]) == sorted([("check_claims", "nc_deep_linear"), SUITE_JOB])


def test_a_pipeline_extract_edit_reruns_metrics_figures_and_claims_of_every_study(edits):
    work, root, env = edits
    insert_after(root / "pipeline.py", "extract", "return None")
    jobs, _ = summary_jobs(work, env)
    assert set(jobs) == {(r, s) for s in EDIT_STUDIES for r in RERUN["extract"]} | {SUITE_JOB}
    assert not {r for r, _ in jobs} & {"train", "prepare_data"}


def test_a_studys_training_edit_reruns_only_its_training_and_what_follows(edits):
    work, root, env = edits
    insert_after(study_source(root, "saxe_dln_dynamics"), "train", "return None")
    jobs, outputs = summary_jobs(work, env)
    assert set(jobs) == {(r, "saxe_dln_dynamics") for r in RERUN["train"]} | {SUITE_JOB}
    every_point = outputs.count(("train", "saxe_dln_dynamics"))  # one output per training job
    assert jobs.count(("train", "saxe_dln_dynamics")) == every_point > 0


def test_an_engine_module_edit_reruns_only_the_studies_using_it(edits):

    work, root, env = edits
    stages = [s for s in fingerprint.STAGES if s != "suite"]
    sources = {(st, s): fingerprint.fingerprint_sources(s, st, root) for st in EDIT_STUDIES for s in stages}
    users: dict[str, set[str]] = {}
    for (st, _), modules in sources.items():
        for module in modules:
            if module.startswith("reprosuite.engine."):
                users.setdefault(module, set()).add(st)
    shared = sorted(m for m, s in users.items() if len(s) == 2)
    assert shared, f"no engine module is used by exactly two of {EDIT_STUDIES}: {users}"
    module = shared[0]
    path = sources[next(k for k, v in sources.items() if module in v)][module]
    path.write_text(path.read_text() + "\n_FINGERPRINT_PROBE = 1\n")
    expected = {
        (rule, st) for (st, stage), modules in sources.items() if module in modules for rule in RERUN[stage]
    } | {SUITE_JOB}
    jobs, _ = summary_jobs(work, env)
    assert set(jobs) == expected, module
    assert {st for _, st in jobs} == users[module] | {"suite"}
    assert ("train", sorted(users[module])[0]) in jobs


def test_pending_jobs_groups_outputs_into_jobs():
    from reprosuite import status

    table = "\n".join(
        [
            "Building DAG of jobs...",
            "output_file\tdate\trule\tlog-file(s)\tstatus\tplan",
            "results/suite/claims.parquet\t-\tsuite_claims\t-\tmissing\tupdate pending",
            "results/suite/overview.png\t-\tsuite_claims\t-\tmissing\tupdate pending",
            "results/a/figures/f.png\t-\tfigure\t-\tmissing\tupdate pending",
            "results/a/figures/f.pdf\t-\tfigure\t-\tmissing\tupdate pending",
            "results/a/figures/g.png\tMon\tfigure\tx.log\tok\tno update",
            "results/a/runs/p1.parquet\tMon\ttrain\tx.log\tparams changed\tupdate pending",
        ]
    )
    assert status.pending_jobs(table) == [
        ("suite_claims", "suite", "results/suite/claims.parquet"),
        ("figure", "a", "results/a/figures/f.png"),
        ("train", "a", "results/a/runs/p1.parquet"),
    ]


# The SLURM profile at the full tier: only training may ask for long time limits. The profile is used without
# its `executor: slurm` (the plugin need not be installed for a dry run of the resources the rules ask for).
def job_resources(stdout: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job a dry run lists, grouped jobs (listed indented) included."""
    jobs: list[tuple[str, dict[str, str], dict[str, str]]] = []
    for line in stdout.splitlines():
        head = re.match(r"^\s*(?:local)?rule (\w+):$", line)
        field = re.match(r"^\s+(wildcards|resources): (.*)$", line)
        if head:
            jobs.append((head.group(1), {}, {}))
        elif field and jobs:
            jobs[-1][1 if field.group(1) == "wildcards" else 2].update(
                re.findall(r"(\w+)=([^,\s]+)", field.group(2))
            )
    return jobs


def test_only_training_asks_for_more_than_an_hour_on_slurm_at_the_full_tier(tmp_path):
    work = copy_workflow(tmp_path, tier="full")
    profile = work / "profiles" / "slurm" / "config.yaml"
    settings = yaml.safe_load(profile.read_text())
    settings.pop("executor")
    profile.write_text(yaml.safe_dump(settings))
    # a dry run reads no data: absent dataset files (CIFAR-10 here) do not stop it
    plan_only = {**os.environ, official.PLAN_ONLY_ENV: "1"}
    proc = snakemake(work, "-n", "--profile", "profiles/slurm", "--workflow-profile", "none", env=plan_only)
    jobs = [j for j in job_resources(proc.stdout) if j[0] != "all"]
    assert {rule for rule, _, _ in jobs} == {
        "prepare_data",
        "train",
        "extract_metrics",
        "figure",
        "check_claims",
        "suite_claims",
    }
    long = {rule for rule, _, res in jobs if int(res["runtime"]) > 60}
    assert long == {"train"}, long
    # a study's extract_metrics, figures and check_claims go as one SLURM job whose time limit is their sum
    grouped = set(settings["groups"])
    per_study: dict[str, int] = {}
    for rule, wildcards, res in jobs:
        if rule in grouped:
            per_study[wildcards["study"]] = per_study.get(wildcards["study"], 0) + int(res["runtime"])
    assert set(per_study) == set(study.names())
    assert max(per_study.values()) <= 45, per_study


def test_the_conda_environment_installs_this_package():
    env = yaml.safe_load((ROOT / "workflow" / "envs" / "reprosuite.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    editable = [p.split(maxsplit=1)[1] for p in pip if p.startswith("-e ")]
    assert editable and (ROOT / "workflow" / "envs" / editable[0] / "pyproject.toml").resolve() == (
        ROOT / "pyproject.toml"
    )
