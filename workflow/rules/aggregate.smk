rule aggregate:
    """All scenario summaries -> summary.parquet (one row per scenario) and sweep.nc (xarray);
    a search adds each row's search_round."""
    input:
        unpack(aggregate_inputs),
    output:
        summary=f"{RESULTS}/summary.parquet",
        dataset=f"{RESULTS}/sweep.nc",
    params:
        dims=DIMS,
        frontier_metric=STUDY.reliability.frontier_metric,
        labels={
            "study": STUDY.study.name,
            "settlement_point": STUDY.market.settlement_point,
        },
    log:
        f"{RESULTS}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/aggregate.py"
