rule check_claims:
    input:
        "results/{study}/metrics.parquet",
    output:
        "results/{study}/claims.parquet",
    params:
        args=stage_args,
        config=config_hash,
        code=code_hash,
    log:
        "results/logs/check_claims/{study}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=RUNTIME_MIN,
    shell:
        "{REPROSUITE} claims {params.args} --metrics {input} --out {output} > {log} 2>&1"
