"""Rule aggregate: scenario summaries -> summary.parquet and sweep.nc."""

import json
import logging
from pathlib import Path

from dcpower import resolution
from dcpower.logs import configure_logging
from dcpower.results import write_parquet_atomic
from dcpower.sweep import WARNING_SEP, aggregate, solved, write_dataset_atomic

logger = logging.getLogger("dcpower.workflow")


def main(
    summaries: list[str],
    dims: list[str],
    metric: str,
    attrs: dict[str, str],
    out_summary: Path,
    out_dataset: Path,
) -> None:
    rows = [json.loads(Path(p).read_text()) for p in summaries]
    logger.info("aggregate %d scenarios over %s", len(rows), dims)
    summary = aggregate(rows, dims, metric)
    feasible = solved(summary)
    logger.info(
        "requested MIP gap %.4f%%, worst achieved %.4f%%",
        100 * resolution.requested_gap(feasible),
        100 * resolution.worst_gap(feasible),
    )
    for _, r in summary.iterrows():
        for w in filter(None, str(r["warnings"]).split(WARNING_SEP)):
            logger.warning("%s: %s", r["scenario"], w)
        if r[resolution.TIED]:
            logger.info("%s is tied in cost with %s", r["scenario"], r[resolution.TIED])
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
    )
