"""Rule solve_scenario: one sizing scenario -> dispatch.parquet, outage survival, summary.json.

HiGHS's own output goes to the rule's solver log, this script's messages to its python log.
"""

import logging
from pathlib import Path

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.results import write_json_atomic, write_parquet_atomic
from dcpower.study import ScenarioSettings
from dcpower.sweep import WARNING_SEP, solve_scenario

logger = logging.getLogger("dcpower.workflow")


def main(
    base_case: Path,
    sizes: dict,
    settings: ScenarioSettings,
    data_dir: Path | None,
    solver_log: Path,
    outputs,
) -> None:
    logger.info("solve scenario %s", sizes)
    with open(solver_log, "w", encoding="utf-8") as log:
        row, dispatch, survival = solve_scenario(
            base_case, sizes, settings, data_dir=data_dir, solver_log=log
        )
    logger.info("scenario %s: %s", sizes, row["solver_status"])
    for w in filter(None, str(row.get("warnings", "")).split(WARNING_SEP)):
        logger.warning("scenario %s: %s", sizes, w)
    write_parquet_atomic(dispatch if dispatch is not None else pd.DataFrame(), outputs.dispatch)
    write_parquet_atomic(survival if survival is not None else pd.DataFrame(), outputs.survival)
    write_json_atomic(row, outputs.summary)


def shipped_dir(inputs) -> Path | None:
    """The rule's ``data_dir`` input (the market's shipped data), None when it has none."""
    data_dir = getattr(inputs, "data_dir", None)
    return Path(data_dir) if data_dir else None


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log.python)
    settings = ScenarioSettings(
        study_name=sm.params.study_name,
        grid=sm.params.grid,
        market=sm.params.market,
        solve=sm.params.solve,
        costs=sm.params.costs,
        outage=sm.params.outage,
    )
    main(
        Path(sm.input.base_case),
        dict(sm.params.sizes),
        settings,
        shipped_dir(sm.input),
        Path(sm.log.solver),
        sm.output,
    )
