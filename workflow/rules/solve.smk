def _year_of(wildcards):
    return _sweep.study_year(config, scenario_sizes(wildcards))


rule solve_scenario:
    """Base case + sizes -> dispatch MILP for the whole horizon -> dispatch.parquet + summary.json."""
    input:
        base_case=config["study"]["base_case"],
        prices=lambda w: f"{RESULTS}/prices/prices_{_year_of(w)}.json",
    output:
        dispatch=f"{RESULTS}/scenarios/{SCENARIOS.wildcard_pattern}/dispatch.parquet",
        summary=f"{RESULTS}/scenarios/{SCENARIOS.wildcard_pattern}/summary.json",
        survival=f"{RESULTS}/scenarios/{SCENARIOS.wildcard_pattern}/outage_survival.parquet",
    params:
        sizes=scenario_sizes,
        config=SCENARIO_CONFIG,
    log:
        f"{RESULTS}/logs/solve_scenario/{SCENARIOS.wildcard_pattern}.log",
    benchmark:
        f"{RESULTS}/benchmarks/solve_scenario/{SCENARIOS.wildcard_pattern}.tsv"
    threads: config["solve"].get("threads", 1)
    resources:
        mem_mb=lambda wc, attempt: RES.get("solve_mem_mb", 1500) * attempt,
        runtime=lambda wc, attempt: RES.get("solve_runtime_min", 30) * attempt,
    retries: 1
    group: "solve"
    script:
        "../../scripts/solve_scenario.py"
