"""Rule retrieve_prices: make sure a study year's market prices are available and cover it."""

import logging
from pathlib import Path

from dcpower.logs import configure_logging
from dcpower.results import write_json_atomic
from dcpower.study import MarketConfig
from dcpower.sweep import retrieve_prices

logger = logging.getLogger("dcpower.workflow")


def main(year: int, base_case: Path, market: MarketConfig, data_dir: Path, out: Path) -> None:
    logger.info("retrieve %s prices for %s", market.iso.upper(), year)
    write_json_atomic(retrieve_prices(year, base_case, market, data_dir), out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(
        int(sm.wildcards.year),
        Path(sm.input.base_case),
        MarketConfig.model_validate(sm.params.market),
        Path(sm.params.data_dir),
        Path(sm.output[0]),
    )
