"""Rule study_report: study_summary.md and the figures -> one self-contained HTML page."""

import logging
from pathlib import Path

from dcpower.logs import configure_logging
from dcpower.report_html import summary_html
from dcpower.results import write_text_atomic

logger = logging.getLogger("dcpower.workflow")


def main(summary: Path, figures: list[Path], out: Path) -> None:
    captions = [(p, p.stem.replace("_", " ")) for p in figures]
    logger.info("study summary page with %d figures", len(captions))
    write_text_atomic(summary_html(summary.read_text(encoding="utf-8"), captions), out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(Path(sm.input.summary), [Path(p) for p in sm.input.figures], Path(sm.output[0]))
