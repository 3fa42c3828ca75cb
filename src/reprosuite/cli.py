"""``reprosuite``: the command line. Users call list, status, show, plan, probe and data; the workflow's rules call the
stage subcommands (prepare, train, extract, figure, claims, summary)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from reprosuite import config as config_mod
from reprosuite import costs, io, pipeline, registry, status
from reprosuite import study as study_mod
from reprosuite.engine.data import official

KNOWN_ERRORS = (
    official.DatasetError,
    registry.RegistryError,
    config_mod.ConfigError,
    study_mod.StudyError,
    io.ResultError,
    pipeline.DataError,
    status.NoResults,
    PermissionError,
)


def _study_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--study", required=True)
    p.add_argument("--tier", default="quick")
    p.add_argument("--overrides", type=json.loads, default={}, help="JSON object of config overrides")
    p.add_argument(
        "--seeds",
        type=json.loads,
        default=None,
        help="a seed count or a JSON list of seeds (default: the tier's)",
    )


def _common(a: argparse.Namespace) -> dict:
    return {"study": a.study, "tier": a.tier, "overrides": a.overrides, "seeds": a.seeds}


def _results(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results", type=Path, default=Path("results"), help="results directory (default: results)"
    )


def _data_root(a: argparse.Namespace) -> Path:
    """--data-dir, else the data directory the workflow uses: $REPROSUITE_DATA, else config.yaml's data_dir (of
    the working directory, where snakemake runs), else data/."""
    if a.data_dir is not None:
        return a.data_dir
    configured = None
    if Path("config.yaml").is_file():
        import yaml  # a dependency of snakemake; only this command reads the suite config

        configured = (yaml.safe_load(Path("config.yaml").read_text()) or {}).get("data_dir")
    return official.data_dir(configured)


def data_check(a: argparse.Namespace) -> None:
    text, error = official.report(a.names or official.NAMES, _data_root(a), named=bool(a.names))
    print(text)
    if error is not None:
        raise error


def _registry(a: argparse.Namespace) -> None:
    if a.action == "update":
        diff = registry.update()
        print("\n".join(diff) or "the registry is up to date")
        return
    diff = registry.differences(registry.load(), registry.current())
    if diff:
        raise registry.RegistryError(
            "the code differs from the claims registry (amend and run `reprosuite registry update`):\n  "
            + "\n  ".join(diff)
        )
    print("every claim matches its registered rule, statistic, control and protocol")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="reprosuite", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="the studies of the suite, their papers and cost per tier")
    p.set_defaults(func=lambda a: print(status.studies_table()))

    p = sub.add_parser("status", help="the claims table of results/: paper vs reproduced, verdicts")
    _results(p)
    p.set_defaults(func=lambda a: print(status.claims_table(status.load_claims(a.results))))

    p = sub.add_parser("table", help="the suite table (Markdown) from results/, or written into the README")
    _results(p)
    p.add_argument(
        "--readme", type=Path, help="replace the table between the suite-table markers of this file"
    )
    p.set_defaults(
        func=lambda a: print(
            status.write_table(status.load_claims(a.results), a.readme)
            if a.readme
            else status.suite_markdown(status.load_claims(a.results))
        )
    )

    p = sub.add_parser("registry", help="the claims registry: check it against the code, or update it")
    p.add_argument("action", choices=("check", "update"))
    p.set_defaults(func=_registry)

    p = sub.add_parser("show", help="one study: its paper, claims and result files")
    p.add_argument("study")
    _results(p)
    p.set_defaults(func=lambda a: print(status.show(a.study, a.results)))

    p = sub.add_parser("plan", help="what `snakemake` would compute, with time from recorded benchmarks")
    _results(p)
    p.add_argument("snakemake_args", nargs="*", help="arguments for snakemake, e.g. --config tier=full")
    p.set_defaults(func=lambda a: print(status.plan(a.snakemake_args, a.results)))

    p = sub.add_parser(
        "probe",
        help="measure the cost of a tier's training jobs from their first steps, at their real shapes, and "
        "record it in the cost table the workflow sizes cluster jobs from",
    )
    p.add_argument("--tier", default="full")
    p.add_argument("--studies", nargs="*", default=None, help="default: every study")
    p.add_argument("--steps", type=int, default=5, help="updates per fit (default 5)")
    p.add_argument(
        "--limit-s", type=float, default=120.0, help="seconds before a loop of a study's own is stopped"
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--dry", action="store_true", help="print the costs, do not write the cost table")
    p.set_defaults(
        func=lambda a: costs.probe(
            a.tier,
            config_mod.select_studies(a.studies or "all"),
            a.steps,
            a.limit_s,
            a.device,
            None if a.dry else costs.COSTS,
        )
    )

    p = sub.add_parser("data", help="the official dataset files: check them, or fetch them")
    data = p.add_subparsers(dest="data_command", required=True)
    dirhelp = "data directory (default: $REPROSUITE_DATA, else config.yaml's data_dir, else data/)"
    p = data.add_parser(
        "check",
        help="verify the files against the official checksums; exit 0 only if every named dataset is complete "
        "(with no name: every dataset that is present at all)",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help=f"datasets among {', '.join(official.NAMES)}")
    p.add_argument("--data-dir", type=Path, help=dirhelp)
    p.set_defaults(func=data_check)
    p = data.add_parser("fetch", help="download a dataset from its official source, verifying checksums")
    p.add_argument("name", metavar="NAME", help=", ".join(official.NAMES))
    p.add_argument("--data-dir", type=Path, help=dirhelp)
    p.set_defaults(func=lambda a: official.fetch(a.name, _data_root(a)))

    p = sub.add_parser("prepare", help="write a study's dataset")
    _study_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(func=lambda a: pipeline.prepare(out=a.out, **_common(a)))

    p = sub.add_parser("train", help="train all seeds of one grid point")
    _study_args(p)
    p.add_argument("--point", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--checkpoint-every",
        type=float,
        default=float(os.environ.get("REPROSUITE_CHECKPOINT_EVERY", 60.0)),
        help="seconds between training checkpoints (default: $REPROSUITE_CHECKPOINT_EVERY or 60)",
    )
    p.set_defaults(
        func=lambda a: pipeline.train(
            point=a.point,
            data=a.data,
            out=a.out,
            device=a.device,
            threads=a.threads,
            checkpoint_every_s=a.checkpoint_every,
            **_common(a),
        )
    )

    p = sub.add_parser("extract", help="per-seed metrics of a study from its run tables")
    _study_args(p)
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=lambda a: pipeline.extract(runs=a.runs, out=a.out, **_common(a)))

    p = sub.add_parser("figure", help="draw one figure of a study")
    _study_args(p)
    p.add_argument("--name", required=True)
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(
        func=lambda a: pipeline.figure(name=a.name, runs=a.runs, metrics=a.metrics, out=a.out, **_common(a))
    )

    p = sub.add_parser("claims", help="check a study's claims")
    _study_args(p)
    p.add_argument("--metrics", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=lambda a: pipeline.check_claims(metrics=a.metrics, out=a.out, **_common(a)))

    p = sub.add_parser("summary", help="the suite's claims table")
    p.add_argument("--claims", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--html", required=True)
    p.add_argument("--figure", help="the overview figure (PNG, with a PDF beside it)")
    p.add_argument("--fragment", help="the claims table alone, as an HTML fragment (the report's first page)")
    p.set_defaults(
        func=lambda a: pipeline.summary(
            claims=a.claims, out=a.out, html=a.html, figure=a.figure, fragment=a.fragment
        )
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    snakemake_args = []
    if argv[:1] == ["plan"]:
        # everything after `plan` but --results goes to snakemake verbatim (argparse would reorder it)
        rest = argv[1:]
        if "--results" in rest:
            i = rest.index("--results")
            argv, snakemake_args = ["plan", *rest[i : i + 2]], rest[:i] + rest[i + 2 :]
        else:
            argv, snakemake_args = ["plan"], rest
    args = parser().parse_args(argv)
    if args.command == "plan":
        args.snakemake_args = snakemake_args
    try:
        args.func(args)
    except KNOWN_ERRORS as err:
        print(f"reprosuite: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
