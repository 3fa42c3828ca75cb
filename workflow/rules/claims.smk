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
        mem_mb=SMALL_JOBS["check_claims"]["mem_mb"],
        runtime=SMALL_JOBS["check_claims"]["runtime"],
    params:
        exe=REPROSUITE,
        args=stage_args,
        fingerprint=fingerprint("claims"),
    shell:
        "{params.exe} claims {params.args} --metrics {input} --out {output} > {log} 2>&1"
