rule figure:
    input:
        runs=run_files,
        metrics="results/{study}/metrics.parquet",
    output:
        png=report(
            "results/{study}/figures/{figure}.png",
            caption="../report/figure.rst",
            category="{study}",
            labels={"study": "{study}", "figure": "{figure}"},
        ),
        pdf="results/{study}/figures/{figure}.pdf",
    log:
        "results/logs/figure/{study}/{figure}.log",
    conda:
        "../envs/reprosuite.yaml"
    threads: 1
    resources:
        mem_mb=SMALL_JOBS["figure"]["mem_mb"],
        runtime=SMALL_JOBS["figure"]["runtime"],
    params:
        exe=REPROSUITE,
        args=stage_args,
        fingerprint=fingerprint("figure"),
        caption=figure_caption,
    shell:
        "{params.exe} figure {params.args} --name {wildcards.figure} --runs {input.runs}"
        " --metrics {input.metrics} --out {output.png} > {log} 2>&1"
