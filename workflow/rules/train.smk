rule train:
    input:
        "results/{study}/data.npz",
    output:
        "results/{study}/runs/{point}.parquet",
    params:
        args=stage_args,
        config=config_hash,
        code=train_code_hash,
        device=DEVICE,
    log:
        "results/logs/train/{study}/{point}.log",
    benchmark:
        "results/benchmarks/train/{study}/{point}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=RUNTIME_MIN,
        gpu=GPUS,
    shell:
        "{REPROSUITE} train {params.args} --point {wildcards.point} --data {input} --out {output}"
        " --device {params.device} --threads {threads} > {log} 2>&1"
