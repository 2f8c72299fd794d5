"""Rule retrieve_prices: make sure a study year's market prices are available and cover it."""

from pathlib import Path

from dcpower.logs import configure_logging
from dcpower.results import write_json_atomic
from dcpower.sweep import retrieve_prices


def main(year: int, config: dict, data_dir: Path, out: Path) -> None:
    write_json_atomic(retrieve_prices(year, config, data_dir), out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    logger = configure_logging(sm.log[0])
    logger.info("retrieve prices for %s", sm.wildcards.year)
    main(int(sm.wildcards.year), sm.config, Path(sm.params.data_dir), Path(sm.output[0]))
