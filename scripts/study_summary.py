"""Rule study_summary: best scenario per reliability level and binding-constraint statistics."""

from pathlib import Path

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.results import write_text_atomic
from dcpower.study import ReliabilityConfig
from dcpower.sweep import study_summary_markdown


def main(
    summary_path: str, study_name: str, market_label: str, rel: ReliabilityConfig, out: Path
) -> None:
    text = study_summary_markdown(
        pd.read_parquet(summary_path),
        study_name,
        market_label,
        rel.frontier_metric,
        list(rel.report_levels),
    )
    write_text_atomic(text, out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(
        sm.input.summary,
        sm.params.study_name,
        sm.params.market_label,
        ReliabilityConfig.model_validate(sm.params.reliability),
        Path(sm.output[0]),
    )
