rule retrieve_prices:
    """Market prices for one study year through the ISO adapter: shipped data, opt-in download +
    cache (ERCOT), or the base case's own tidy files (generic)."""
    output:
        f"{RESULTS}/prices/prices_{{year}}.json",
    params:
        settlement_point=config["market"]["settlement_point"],
        allow_download=config["market"].get("allow_download", False),
        data_dir=f"resources_data/{config['market']['iso'].lower()}",
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
