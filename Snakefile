# reprosuite: one DAG per study, from data to checked claims, and the suite's claims table.
#
# results/
#   {study}/data.npz                  prepared dataset (rule prepare_data)
#   {study}/runs/{point}.parquet      tidy run table of one grid point, all seeds (rule train)
#   {study}/metrics.parquet           per-seed scalar metrics of the study (rule extract_metrics)
#   {study}/figures/{figure}.png|pdf  figures, in the report (rule figure)
#   {study}/claims.parquet            claims: paper vs measured, 95 % CI, verdict (rule check_claims)
#   suite/claims.parquet, .html       every claim of the selected studies (rule suite_claims)
#   logs/{rule}/...                   one log per job;  benchmarks/train/...  time and memory per training job
from snakemake.utils import min_version, validate

from reprosuite.config import command_line_seeds

min_version("9.0")


configfile: "config.yaml"


# --config 'seeds=[100,101,102]' arrives as strings: read its integers before validating
config["seeds"] = command_line_seeds(config.get("seeds"))

validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/suite.smk"


rule all:
    default_target: True
    input:
        all_targets(),
