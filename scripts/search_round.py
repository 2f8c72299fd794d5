"""Rule search_round: the sizes of one search round from the scenarios of the earlier rounds."""

import json
import logging
from pathlib import Path

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.results import write_json_atomic
from dcpower.search import plan_round
from dcpower.study import ReliabilityConfig, SearchConfig

logger = logging.getLogger("dcpower.workflow")


def main(
    round_no: int,
    summaries: list[str],
    search: SearchConfig,
    reliability: ReliabilityConfig,
    duration_h: float,
    n_years: int,
    out: Path,
) -> None:
    rows = [json.loads(Path(p).read_text()) for p in summaries]
    plan = plan_round(
        round_no,
        pd.DataFrame(rows),
        search,
        reliability.frontier_metric,
        list(reliability.report_levels),
        duration_h,
        n_years,
    )
    logger.info("search round %d: %d size(s); %s", round_no, len(plan["sizes"]), plan["reason"])
    write_json_atomic(plan, out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(
        int(sm.wildcards.round),
        list(sm.input.get("summaries", [])),
        SearchConfig.model_validate(sm.params.search),
        ReliabilityConfig.model_validate(sm.params.reliability),
        float(sm.params.duration_h),
        int(sm.params.n_years),
        Path(sm.output.round),
    )
