rule retrieve_prices:
    """ERCOT prices for one study year: shipped data, or opt-in download + cache."""
    output:
        f"{RESULTS}/prices/prices_{{year}}.json",
    params:
        settlement_point=config["market"]["settlement_point"],
        allow_download=config["market"].get("allow_download", False),
        data_dir="resources_data/ercot",
    log:
        f"{RESULTS}/logs/retrieve_prices_{{year}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/retrieve_prices_{{year}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    localrule: True
    script:
        "../../scripts/retrieve_prices.py"
