rule prepare_data:
    output:
        "results/{study}/data.npz",
    log:
        "results/logs/prepare_data/{study}.log",
    conda:
        "../envs/reprosuite.yaml"
    threads: 1
    resources:
        mem_mb=SMALL_JOBS["prepare_data"]["mem_mb"],
        runtime=SMALL_JOBS["prepare_data"]["runtime"],
    params:
        exe=REPROSUITE,
        args=stage_args,
        fingerprint=fingerprint("data"),
    shell:
        "{params.exe} prepare {params.args} --out {output} > {log} 2>&1"
