"""Rule aggregate: scenario summaries -> summary.parquet and sweep.nc."""

import json
from pathlib import Path

from dcpower.logs import configure_logging
from dcpower.results import write_parquet_atomic
from dcpower.sweep import aggregate, write_dataset_atomic


def main(summaries: list[str], config: dict, out_summary: Path, out_dataset: Path) -> None:
    rows = [json.loads(Path(p).read_text()) for p in summaries]
    summary = aggregate(rows, config)
    write_parquet_atomic(summary, out_summary)
    write_dataset_atomic(summary, config, out_dataset)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    logger = configure_logging(sm.log[0])
    main(
        list(sm.input.summaries), sm.params.config, Path(sm.output.summary), Path(sm.output.dataset)
    )
