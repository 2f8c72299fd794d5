"""Rule plot_frontier: frontier, net value vs BESS, cost stack and marginal value figures
(PNG + SVG)."""

import pandas as pd

from dcpower.logs import configure_logging
from dcpower.plots import (
    plot_cost_stack,
    plot_frontier,
    plot_marginal_values,
    plot_net_value_vs_bess,
)
from dcpower.search import chosen_rows
from dcpower.study import SearchConfig
from dcpower.sweep import solved


def main(summary_path: str, metric: str, out, levels: list[float], search: dict | None) -> None:
    summary = pd.read_parquet(summary_path)
    feasible = solved(summary)
    chosen = None
    if search is not None:
        config = SearchConfig.model_validate(search["search"])
        chosen = chosen_rows(summary, config, metric, levels, float(search["duration_h"]))
    plot_frontier(feasible, metric, [out.frontier_png, out.frontier_svg], levels, chosen=chosen)
    plot_net_value_vs_bess(feasible, [out.net_png, out.net_svg])
    plot_cost_stack(feasible[feasible["pareto"]], [out.stack_png, out.stack_svg])
    plot_marginal_values(feasible[feasible["pareto"]], [out.marginal_png, out.marginal_svg])


if __name__ == "__main__":
    sm = snakemake  # noqa: F821 - injected by Snakemake
    configure_logging(sm.log[0])
    main(sm.input.summary, sm.params.metric, sm.output, list(sm.params.levels), sm.params.search)
