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
        mem_mb=train_resource("mem_mb"),
        runtime=train_resource("runtime"),
        gpu=train_resource("gpu"),
    params:
        exe=REPROSUITE,
        args=stage_args,
        fingerprint=fingerprint("train"),
        device=DEVICE,
    shell:
        "{params.exe} train {params.args} --point {wildcards.point} --data {input} --out {output}"
        " --device {params.device} --threads {threads} > {log} 2>&1"
