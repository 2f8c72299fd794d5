rule aggregate:
    """All scenario summaries -> summary.parquet (one row per scenario) and sweep.nc (xarray);
    a search adds each row's search_round. With refine.mip_rel_gaps, the scenarios whose cost
    ties decide the frontier or a per-level choice are re-solved here at each tighter gap in
    turn (dcpower.refine)."""
    input:
        unpack(aggregate_inputs),
        base_case=STUDY.study.base_case,
    output:
        summary=f"{RESULTS}/summary.parquet",
        dataset=f"{RESULTS}/sweep.nc",
    params:
        dims=DIMS,
        frontier_metric=STUDY.reliability.frontier_metric,
        levels=list(STUDY.reliability.report_levels),
        labels={
            "study": STUDY.study.name,
            "settlement_point": STUDY.market.settlement_point,
        },
        refine=section(STUDY.refine),
        # what a re-solve uses (only read when refining; the same as solve_scenario's)
        scenario=section(SCENARIO) if REFINE else {},
    log:
        f"{RESULTS}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate.tsv"
    threads: (STUDY.solve.threads or 1) if REFINE else 1
    resources:
        mem_mb=STUDY.resources.solve_mem_mb if REFINE else 1000,
        runtime=STUDY.resources.solve_runtime_min * 4 if REFINE else 10,
    localrule: not REFINE
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/aggregate.py"
