rule check_claims:
    input:
        "results/{study}/metrics.parquet",
    output:
        "results/{study}/claims.parquet",
    log:
        "results/logs/check_claims/{study}.log",
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
        "{params.exe} claims {params.args} --metrics {input} --out {output} > {log} 2>&1"
