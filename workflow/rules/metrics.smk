rule extract_metrics:
    input:
        run_files,
    output:
        "results/{study}/metrics.parquet",
    log:
        "results/logs/extract_metrics/{study}.log",
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
    shell:
        "{params.exe} extract {params.args} --runs {input} --out {output} > {log} 2>&1"
