rule train:
    input:
        "results/{study}/data.npz",
    output:
        "results/{study}/runs/{point}.parquet",
    log:
        "results/logs/train/{study}/{point}.log",
    benchmark:
        "results/benchmarks/train/{study}/{point}.tsv"
    conda:
        "../envs/reprosuite.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=RUNTIME_MIN,
        gpu=GPUS,
    params:
        exe=REPROSUITE,
        args=stage_args,
        config=config_hash,
        code=train_code_hash,
        device=DEVICE,
    shell:
        "{params.exe} train {params.args} --point {wildcards.point} --data {input} --out {output}"
        " --device {params.device} --threads {threads} > {log} 2>&1"
