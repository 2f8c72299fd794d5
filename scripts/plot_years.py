"""Rule plot_years: each size across market years (mean, worst-best whiskers), PNG + SVG."""

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.plots import plot_frontier_years
from dcpower.sweep import across_years, market_years


def main(summary_path: str, metric: str, out) -> None:
    summary = pd.read_parquet(summary_path)
    table = across_years(summary, metric)
    plot_frontier_years(table, metric, market_years(summary), [out.png, out.svg])


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(sm.input.summary, sm.params.metric, sm.output)
