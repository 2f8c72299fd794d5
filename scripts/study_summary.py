"""Rule study_summary: best scenario per reliability level and binding-constraint statistics;
a search's chosen size per level first."""

import json
from pathlib import Path

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.results import write_text_atomic
from dcpower.search import search_markdown
from dcpower.study import ReliabilityConfig, SearchConfig
from dcpower.sweep import study_summary_markdown


def main(
    summary_path: str,
    study_name: str,
    market_label: str,
    rel: ReliabilityConfig,
    out: Path,
    search: dict | None = None,
    rounds: list[str] = (),
) -> None:
    summary = pd.read_parquet(summary_path)
    metric, levels = rel.frontier_metric, list(rel.report_levels)
    text = study_summary_markdown(summary, study_name, market_label, metric, levels)
    if search is not None:
        section = search_markdown(
            summary,
            SearchConfig.model_validate(search["search"]),
            metric,
            levels,
            float(search["duration_h"]),
            [json.loads(Path(p).read_text()) for p in rounds],
        )
        head, sep, rest = text.partition("\n## ")
        text = head + "\n" + section + "\n" + sep.lstrip("\n") + rest
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
        sm.params.search,
        list(sm.input.rounds) if hasattr(sm.input, "rounds") else [],
    )
