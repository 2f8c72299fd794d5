"""Rule aggregate: scenario summaries -> summary.parquet and sweep.nc."""

import json
import logging
from pathlib import Path

from dcpower.logs import configure_logging
from dcpower.results import write_parquet_atomic
from dcpower.search import add_round_column
from dcpower.sweep import aggregate, write_dataset_atomic

logger = logging.getLogger("dcpower.workflow")


def main(
    summaries: list[str],
    dims: list[str],
    metric: str,
    attrs: dict[str, str],
    out_summary: Path,
    out_dataset: Path,
    rounds: list[str] | None = None,
) -> None:
    rows = [json.loads(Path(p).read_text()) for p in summaries]
    logger.info("aggregate %d scenarios over %s", len(rows), dims)
    summary = aggregate(rows, dims, metric)
    if rounds is not None:  # a search: the round that evaluated each size
        summary = add_round_column(summary, [json.loads(Path(p).read_text()) for p in rounds])
    write_parquet_atomic(summary, out_summary)
    write_dataset_atomic(summary, dims, {**attrs, "frontier_metric": metric}, out_dataset)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(
        list(sm.input.summaries),
        list(sm.params.dims),
        str(sm.params.frontier_metric),
        dict(sm.params.labels),
        Path(sm.output.summary),
        Path(sm.output.dataset),
        list(sm.input.rounds) if hasattr(sm.input, "rounds") else None,
    )
