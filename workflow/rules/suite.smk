# The suite's table is written on the machine that runs Snakemake (a cluster's login node): it reads one small
# table per study, and a SLURM job for it would wait in the queue longer than it runs.
localrules:
    suite_claims,


rule suite_claims:
    input:
        expand("results/{study}/claims.parquet", study=STUDIES),
    output:
        parquet="results/suite/claims.parquet",
        html=report(
            "results/suite/claims.html",
            caption="../report/claims.rst",
            category="Suite",
            labels={"table": "claims"},
        ),
        overview=report(
            "results/suite/overview.png",
            caption="../report/overview.rst",
            category="Suite",
            labels={"figure": "overview"},
        ),
        overview_pdf="results/suite/overview.pdf",
        fragment="results/suite/claims_table.html",
    log:
        "results/logs/suite_claims.log",
    conda:
        "../envs/reprosuite.yaml"
    threads: 1
    resources:
        mem_mb=SMALL_JOBS["suite_claims"]["mem_mb"],
        runtime=SMALL_JOBS["suite_claims"]["runtime"],
    params:
        exe=REPROSUITE,
        fingerprint=fingerprint("suite"),
    shell:
        "{params.exe} summary --claims {input} --out {output.parquet} --html {output.html}"
        " --figure {output.overview} --fragment {output.fragment} > {log} 2>&1"
