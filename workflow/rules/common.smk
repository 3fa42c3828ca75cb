# Config resolution, wildcard constraints and input functions shared by all rules. All logic is in the
# reprosuite package; this file only wires it into the DAG.
import functools
import json
import os
import shlex
import sys

from snakemake.exceptions import WorkflowError

from reprosuite import config as rs_config
from reprosuite import study as rs_study

REPROSUITE = f"{shlex.quote(sys.executable)} -m reprosuite.cli"
TIER = config["tier"]
SEEDS = config["seeds"]
DEVICE = config["device"]
OVERRIDES = config["overrides"]
# Default SLURM/local resources per tier; training jobs request a GPU only when device is cuda.
RUNTIME_MIN = {"smoke": 10, "quick": 30, "full": 24 * 60}[TIER]
GPUS = 1 if DEVICE == "cuda" else 0

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
    POINTS = {s: rs_config.check_grid(rs_study.get(s), CFG[s]) for s in STUDIES}
except (rs_config.ConfigError, rs_study.StudyError) as err:
    raise WorkflowError(f"invalid config: {err}")


wildcard_constraints:
    study="[a-z0-9_]+",
    point="[A-Za-z0-9_.-]+",
    figure="[A-Za-z0-9_]+",


def stage_args(wildcards):
    """CLI arguments that let a job resolve the same typed config as this DAG."""
    args = f"--study {wildcards.study} --tier {TIER}"
    args += f" --overrides {shlex.quote(json.dumps(OVERRIDES.get(wildcards.study, {}), sort_keys=True))}"
    return args + (f" --seeds {SEEDS}" if SEEDS is not None else "")


def config_hash(wildcards):
    """Hash of the resolved config (and grid point): a change reruns exactly the jobs it affects."""
    return _config_digest(wildcards.study, wildcards.get("point"))


def code_hash(wildcards):
    """Hash of the study's source and the package modules it imports (Snakemake does not see those)."""
    return _code_digest(wildcards.study, ("reprosuite",))


def train_code_hash(wildcards):
    """Training depends on the study and the engine and metric modules it imports."""
    return _code_digest(wildcards.study, ("reprosuite.engine", "reprosuite.metrics"))


# Cached: Snakemake evaluates params for every job, and a no-op rerun must stay fast.
@functools.cache
def _config_digest(study, point):
    cfg = rs_config.to_dict(CFG[study])
    return rs_config.digest({"config": cfg, "point": POINTS[study].get(point)})


@functools.cache
def _code_digest(study, within):
    source = rs_study.get(study).source
    return rs_config.code_digest(rs_config.code_sources(source, within))


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
