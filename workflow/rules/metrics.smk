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
        mem_mb=SMALL_JOBS["extract_metrics"]["mem_mb"],
        runtime=SMALL_JOBS["extract_metrics"]["runtime"],
    params:
        exe=REPROSUITE,
        args=stage_args,
        fingerprint=fingerprint("extract"),
    shell:
        "{params.exe} extract {params.args} --runs {input} --out {output} > {log} 2>&1"
