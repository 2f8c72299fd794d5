"""Rule plot_headroom: the interconnection headroom curve, cost and gas/curtailment panels
(PNG + SVG), and its table of the limit at the Duke study's curtailment levels (CSV)."""

import pandas as pd

from dcpower.headroom import curve_table
from dcpower.logs import configure_logging
from dcpower.plots import plot_headroom
from dcpower.results import write_text_atomic
from dcpower.sweep import solved


def main(summary_path: str, dims: list[str], out) -> None:
    feasible = solved(pd.read_parquet(summary_path))
    plot_headroom(feasible, dims, [out.png, out.svg])
    write_text_atomic(pd.DataFrame(curve_table(feasible, dims)).to_csv(index=False), out.table)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(sm.input.summary, list(sm.params.dims), sm.output)
