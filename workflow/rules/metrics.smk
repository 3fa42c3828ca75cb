rule extract_metrics:
    input:
        run_files,
    output:
        "results/{study}/metrics.parquet",
    params:
        args=stage_args,
        config=config_hash,
        code=code_hash,
    log:
        "results/logs/extract_metrics/{study}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=RUNTIME_MIN,
    shell:
        "{REPROSUITE} extract {params.args} --runs {input} --out {output} > {log} 2>&1"
