# Config resolution, wildcard constraints, params, resources and input functions shared by all rules. All
# logic is in the reprosuite package; this file only wires it into the DAG.
import functools
import json
import os
import shlex
import sys

from snakemake.exceptions import WorkflowError
from snakemake_interface_executor_plugins.settings import DeploymentMethod

from reprosuite import config as rs_config
from reprosuite import costs as rs_costs
from reprosuite import fingerprint as rs_fingerprint
from reprosuite import study as rs_study
from reprosuite.engine.data import official as rs_data

# The command every job runs. By default the Python that runs Snakemake (the venv of `make install`, on a
# shared file system on a cluster), so the jobs run the very package whose code the fingerprints below hash.
# With --software-deployment-method conda each job runs in workflow/envs/reprosuite.yaml instead, which
# installs this repository's package editable: the `reprosuite` command on that environment's PATH.
_DEPLOY = getattr(workflow, "deployment_settings", None)
if _DEPLOY is not None and DeploymentMethod.CONDA in _DEPLOY.deployment_method:
    REPROSUITE = "reprosuite"
else:
    REPROSUITE = f"{shlex.quote(sys.executable)} -m reprosuite.cli"
TIER = config["tier"]
SEEDS = config["seeds"]
DEVICE = config["device"]
OVERRIDES = config["overrides"]

if os.path.exists("results") and not (
    os.path.isdir("results") and os.access("results", os.W_OK)
):
    raise WorkflowError("results directory 'results' is not a writable directory")

try:
    STUDIES = rs_config.select_studies(config["studies"])
    rs_config.select_studies(list(OVERRIDES))  # overrides may only name known studies
    CFG = {
        s: rs_config.resolve(s, TIER, OVERRIDES.get(s), SEEDS)
        for s in OVERRIDES | dict.fromkeys(STUDIES)
    }
    # seed_offset: every study's own seed list shifted, passed on to its jobs as an explicit list
    OVERRIDES = {
        s: rs_config.shift_seeds(OVERRIDES.get(s), CFG[s], config.get("seed_offset", 0))
        for s in CFG
    }
    CFG = {s: rs_config.resolve(s, TIER, OVERRIDES[s], SEEDS) for s in CFG}
    POINTS = {s: rs_config.check_grid(rs_study.get(s), CFG[s]) for s in STUDIES}
except (rs_config.ConfigError, rs_study.StudyError) as err:
    raise WorkflowError(f"invalid config: {err}")

# The official dataset files: the data directory is resolved once ($REPROSUITE_DATA, else the config's data_dir,
# else data/) and exported, absolute, so that every job reads the same one (local jobs inherit this process's
# environment; sbatch exports it by default). A selected study whose datasets have absent files stops the run
# here, before any job, with one line naming the file and the command that gets it — unless the workflow is only
# planned ($REPROSUITE_PLAN_ONLY = 1: `reprosuite plan`, a dry run), which runs no job and reads no data.
os.environ[rs_data.ENV] = str(rs_data.data_dir(config.get("data_dir")).resolve())
try:
    _NEEDED = {
        d for s in STUDIES for d in rs_study.required_datasets(rs_study.get(s), CFG[s])
    }
except rs_study.StudyError as err:
    raise WorkflowError(f"invalid config: {err}")
_ABSENT = rs_data.missing(sorted(_NEEDED))
if _ABSENT and os.environ.get(rs_data.PLAN_ONLY_ENV) == "1":
    for _name, _path in _ABSENT:  # read by `reprosuite plan`
        print(rs_data.absent_line(_name, _path), file=sys.stderr)
elif _ABSENT:
    _name, _path = _ABSENT[0]
    raise WorkflowError(rs_data.absent_line(_name, _path))


wildcard_constraints:
    study="[a-z0-9_]+",
    point="[A-Za-z0-9_.-]+",
    figure="[A-Za-z0-9_]+",


def stage_args(wildcards):
    """CLI arguments that let a job resolve the same typed config as this DAG."""
    args = f"--study {wildcards.study} --tier {TIER}"
    args += f" --overrides {shlex.quote(json.dumps(OVERRIDES.get(wildcards.study, {}), sort_keys=True))}"
    return args + (
        f" --seeds {shlex.quote(json.dumps(SEEDS))}" if SEEDS is not None else ""
    )


# Resources of the jobs other than training, the same at every tier: each reads and writes a few tables
# (seconds here: ~3 s per job at the quick tier, benchmarks/RESULTS.md), so small fixed requests get them
# scheduled fast. prepare_data builds a dataset in memory (4 GB, 30 min of margin at the full tier);
# extract_metrics loads all of a study's run tables (4 GB, 15 min). The SLURM profile runs a study's
# extract_metrics, figures and check_claims as one job whose time limit is the sum of theirs: 15 + 4 x 5 + 5 =
# 40 min for the most figures (4), under an hour.
SMALL_JOBS = {
    "prepare_data": {"runtime": 30, "mem_mb": 4000},
    "extract_metrics": {"runtime": 15, "mem_mb": 4000},
    "figure": {"runtime": 5, "mem_mb": 2000},
    "check_claims": {"runtime": 5, "mem_mb": 2000},
    "suite_claims": {"runtime": 10, "mem_mb": 2000},
}


# Rerun fingerprints. Snakemake reruns a job when its params change (rerun-trigger `params`), but it sees
# neither the Python a job runs nor the typed config the job resolves; so each rule's params carry the
# fingerprint of its stage: a hash of the study's resolved config, the grid point and the code that stage runs
# (the pipeline function, the study's names the stage reaches, the package modules they import; docstrings and
# comments excluded: reprosuite.config.fingerprint). Config and code are one param, not two: the training job
# resumes from its checkpoint under this same value. Changing a claim's rule thus reruns that study's
# check_claims (and the suite table through its input), a docstring nothing, an engine module the training of
# the studies using it.
def fingerprint(stage):
    """The params function of a rule of ``stage`` (data, train, extract, figure, claims, suite)."""

    def params(wildcards):
        return _fingerprint(stage, wildcards.get("study"), wildcards.get("point"))

    return params


# Cached per process: Snakemake evaluates params for every job, and a no-op rerun must stay fast.
@functools.cache
def _fingerprint(stage, study, point):
    if study is None:
        return rs_fingerprint.fingerprint(stage)
    return rs_fingerprint.fingerprint(
        stage, study, CFG[study], POINTS[study][point] if point else None
    )


# Training resources come from the job's probed cost where `reprosuite probe` measured it with this config
# (src/reprosuite/costs.json: runtime = extrapolation x 3, memory = peak x 1.5 + 1000 MB), else the tier's
# defaults (10 min at smoke, 30 at quick, 24 h at full; 4000 MB); the study's optional `resources` hook may ask
# for more; a GPU with device: cuda; runtime capped at max_runtime_min, the partition limit. A profile's
# set-resources overrides them.
COSTS = rs_costs.load()
MAX_RUNTIME_MIN = config.get("max_runtime_min", rs_costs.MAX_RUNTIME_MIN)


def train_resource(name):
    def resource(wildcards):
        return _train_resources(wildcards.study, wildcards.point)[name]

    return resource


@functools.cache
def _train_resources(study, point):
    try:
        st = rs_study.get(study)
        cost = rs_costs.lookup(
            COSTS, study, TIER, point, CFG[study], POINTS[study][point]
        )
        return rs_config.train_resources(
            st,
            CFG[study],
            POINTS[study][point],
            TIER,
            DEVICE,
            rs_costs.resources(cost, MAX_RUNTIME_MIN) if cost else None,
            MAX_RUNTIME_MIN,
        )
    except rs_config.ConfigError as err:
        raise WorkflowError(f"invalid resources: {err}")


def run_files(wildcards):
    return expand(
        "results/{study}/runs/{point}.parquet",
        study=wildcards.study,
        point=POINTS[wildcards.study],
    )


def figure_caption(wildcards):
    return rs_study.get(wildcards.study).figure(wildcards.figure).caption


def all_targets():
    figures = [
        f"results/{s}/figures/{name}.png"
        for s in STUDIES
        for name in rs_study.get(s).figure_names(TIER)
    ]
    return ["results/suite/claims.parquet", *figures]
