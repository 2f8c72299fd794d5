rule aggregate:
    """All scenario summaries -> summary.parquet (one row per scenario) and sweep.nc (xarray)."""
    input:
        summaries=expand(
            f"{RESULTS}/scenarios/{{params}}/summary.json", params=SCENARIOS.instance_patterns
        ),
    output:
        summary=f"{RESULTS}/summary.parquet",
        dataset=f"{RESULTS}/sweep.nc",
    params:
        config=config,
    log:
        f"{RESULTS}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    script:
        "../../scripts/aggregate.py"
