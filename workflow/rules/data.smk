rule prepare_data:
    output:
        "results/{study}/data.npz",
    params:
        args=stage_args,
        config=config_hash,
        code=code_hash,
    log:
        "results/logs/prepare_data/{study}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=RUNTIME_MIN,
    shell:
        "{REPROSUITE} prepare {params.args} --out {output} > {log} 2>&1"
