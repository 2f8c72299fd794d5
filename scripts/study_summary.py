"""Rule study_summary: best scenario per reliability level and binding-constraint statistics."""

from pathlib import Path

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.results import write_text_atomic
from dcpower.sweep import study_summary_markdown


def main(summary_path: str, config: dict, out: Path) -> None:
    write_text_atomic(study_summary_markdown(pd.read_parquet(summary_path), config), out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(sm.input.summary, sm.params.config, Path(sm.output[0]))
