"""Rule solve_scenario: one sizing scenario -> dispatch.parquet, outage survival, summary.json."""

from pathlib import Path

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.results import write_json_atomic, write_parquet_atomic
from dcpower.sweep import solve_scenario


def main(base_case: Path, sizes: dict, config: dict, outputs) -> None:
    row, dispatch, survival = solve_scenario(base_case, sizes, config, data_dir=None)
    write_parquet_atomic(dispatch if dispatch is not None else pd.DataFrame(), outputs.dispatch)
    write_parquet_atomic(survival if survival is not None else pd.DataFrame(), outputs.survival)
    write_json_atomic(row, outputs.summary)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    logger = configure_logging(sm.log[0])
    logger.info("solve scenario %s", sm.params.sizes)
    main(Path(sm.input.base_case), dict(sm.params.sizes), sm.params.config, sm.output)
