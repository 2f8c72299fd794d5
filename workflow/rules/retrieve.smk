rule retrieve_prices:
    """Market prices for one study year through the ISO adapter: shipped data, opt-in download +
    cache (ERCOT), or the base case's own tidy files (generic)."""
    input:
        unpack(shipped_inputs),
        base_case=STUDY.study.base_case,
    output:
        f"{RESULTS}/prices/prices_{{year}}.json",
    params:
        market=section(STUDY.market),
    log:
        f"{RESULTS}/logs/retrieve_prices_{{year}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/retrieve_prices_{{year}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    localrule: True
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/retrieve_prices.py"
