"""Rule retrieve_prices: make sure a study year's market prices are available and cover it."""

import logging
from pathlib import Path

from dcpower.logs import configure_logging
from dcpower.results import write_json_atomic
from dcpower.study import MarketConfig
from dcpower.sweep import retrieve_prices

logger = logging.getLogger("dcpower.workflow")


def main(
    year: int, base_case: Path, market: MarketConfig, data_dir: Path | None, out: Path
) -> None:
    logger.info("retrieve %s prices for %s", market.iso.upper(), year)
    write_json_atomic(retrieve_prices(year, base_case, market, data_dir), out)


def shipped_dir(inputs) -> Path | None:
    """The rule's ``data_dir`` input (the market's shipped data), None when it has none."""
    data_dir = getattr(inputs, "data_dir", None)
    return Path(data_dir) if data_dir else None


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(
        int(sm.wildcards.year),
        Path(sm.input.base_case),
        MarketConfig.model_validate(sm.params.market),
        shipped_dir(sm.input),
        Path(sm.output[0]),
    )
