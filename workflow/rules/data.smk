rule prepare_data:
    output:
        "results/{study}/data.npz",
    log:
        "results/logs/prepare_data/{study}.log",
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
        "{params.exe} prepare {params.args} --out {output} > {log} 2>&1"
