"""Rule aggregate: scenario summaries -> summary.parquet and sweep.nc (ties refined when the
study asks for it)."""

import json
import logging
from pathlib import Path

from dcpower import resolution
from dcpower.logs import configure_logging
from dcpower.refine import refine_study, scenario_solver
from dcpower.results import write_parquet_atomic
from dcpower.search import add_round_column
from dcpower.study import RefineConfig, ScenarioSettings
from dcpower.sweep import WARNING_SEP, aggregate, solved, write_dataset_atomic

logger = logging.getLogger("dcpower.workflow")


def main(
    summaries: list[str],
    dims: list[str],
    metric: str,
    levels: list[float],
    attrs: dict[str, str],
    refine: RefineConfig,
    settings: ScenarioSettings | None,
    base_case: Path,
    out_summary: Path,
    out_dataset: Path,
    rounds: list[str] | None = None,
) -> None:
    rows = [json.loads(Path(p).read_text()) for p in summaries]
    logger.info("aggregate %d scenarios over %s", len(rows), dims)
    if refine.mip_rel_gaps and settings is not None:
        summary, log = refine_study(
            rows,
            dims,
            metric,
            levels,
            refine.mip_rel_gaps,
            settings,
            scenario_solver(base_case, None),
        )
        for line in log:
            logger.info("refine: %s", line)
    else:
        summary = aggregate(rows, dims, metric)
    if rounds is not None:  # a search: the round that evaluated each size
        summary = add_round_column(summary, [json.loads(Path(p).read_text()) for p in rounds])
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
    scenario = dict(sm.params.scenario)
    main(
        list(sm.input.summaries),
        list(sm.params.dims),
        str(sm.params.frontier_metric),
        [float(v) for v in sm.params.levels],
        dict(sm.params.labels),
        RefineConfig.model_validate(dict(sm.params.refine)),
        ScenarioSettings.model_validate(scenario) if scenario else None,
        Path(sm.input.base_case),
        Path(sm.output.summary),
        Path(sm.output.dataset),
        list(sm.input.rounds) if hasattr(sm.input, "rounds") else None,
    )
