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
        mem_mb=2000,
        runtime=RUNTIME_MIN,
    params:
        exe=REPROSUITE,
        args=stage_args,
        config=config_hash,
        code=code_hash,
        caption=figure_caption,
    shell:
        "{params.exe} figure {params.args} --name {wildcards.figure} --runs {input.runs}"
        " --metrics {input.metrics} --out {output.png} > {log} 2>&1"
