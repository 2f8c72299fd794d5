rule solve_scenario:
    """Base case + sizes -> dispatch MILP for the whole horizon -> dispatch.parquet + summary.json."""
    input:
        unpack(shipped_inputs),
        base_case=STUDY.study.base_case,
        prices=scenario_prices,
    output:
        dispatch=f"{RESULTS}/scenarios/{SCENARIOS.wildcard_pattern}/dispatch.parquet",
        summary=f"{RESULTS}/scenarios/{SCENARIOS.wildcard_pattern}/summary.json",
        survival=f"{RESULTS}/scenarios/{SCENARIOS.wildcard_pattern}/outage_survival.parquet",
    params:
        sizes=scenario_sizes,
        study_name=SCENARIO.study_name,
        grid=section(SCENARIO.grid),
        market=section(SCENARIO.market),
        solve=section(SCENARIO.solve),
        costs=section(SCENARIO.costs),
        outage=section(SCENARIO.outage),
    log:
        python=f"{RESULTS}/logs/solve_scenario/{SCENARIOS.wildcard_pattern}/python.log",
        solver=f"{RESULTS}/logs/solve_scenario/{SCENARIOS.wildcard_pattern}/solver.log",
    benchmark:
        f"{RESULTS}/benchmarks/solve_scenario/{SCENARIOS.wildcard_pattern}.tsv"
    threads: STUDY.solve.threads or 1
    priority: scenario_priority
    resources:
        mem_mb=lambda wc, attempt: STUDY.resources.solve_mem_mb * attempt,
        runtime=lambda wc, attempt: STUDY.resources.solve_runtime_min * attempt,
    retries: 1
    group:
        "solve"
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/solve_scenario.py"
