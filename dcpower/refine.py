"""Refining a study's ties: re-solve at a tighter gap only the scenarios whose cost ties decide
the frontier or a per-level choice, until they separate or are declared equivalent.

A tie decides something when the cheapest scenario of a reliability level is tied with another
scenario that reaches the level, or when a Pareto-efficient scenario is tied with a scenario at
least as reliable (either could dominate the other once resolved). Each round re-solves those
scenarios at the next gap of ``refine.mip_rel_gaps`` and recomputes the Pareto set and the ties;
ties left after the last round are declared equivalent at that gap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dcpower import resolution, sweep
from dcpower.study import ScenarioSettings

logger = logging.getLogger(__name__)

REFINED_GAP = resolution.REFINED_GAP
TIE_OUTCOME = resolution.TIE_OUTCOME

Solver = Callable[[dict[str, Any], ScenarioSettings], dict[str, Any]]


def _groups(summary: pd.DataFrame) -> list[pd.DataFrame]:
    by = [d for d in (sweep.YEAR_DIM, sweep.EVENT_DIM, sweep.POLICY_DIM) if d in summary.columns]
    return [g for _, g in summary.groupby(by, sort=False)] if by else [summary]


def decisive_ties(summary: pd.DataFrame, metric: str, levels: Sequence[float]) -> list[str]:
    """Scenarios (names, grid order) whose ties decide a per-level choice or the frontier."""
    out: set[str] = set()
    ok = sweep.solved(summary)
    ok = ok[ok[resolution.COST].notna() & ok[metric].notna()]
    for part in _groups(ok):
        names = set(part["scenario"])
        by_name = part.set_index("scenario")
        for level in levels:
            reach = part[part[metric] >= level - 1e-12]
            if reach.empty:
                continue
            best = reach.loc[reach[resolution.COST].idxmin()]
            ties = [
                n for n in resolution.tie_names(best[resolution.TIED]) if n in set(reach.scenario)
            ]
            if ties:
                out.update([best["scenario"], *ties])
        for _, r in part[part["pareto"]].iterrows():
            ties = [
                n
                for n in resolution.tie_names(r[resolution.TIED])
                if n in names and by_name.loc[n, metric] >= r[metric] - 1e-12
            ]
            if ties:
                out.update([r["scenario"], *ties])
    return [s for s in summary["scenario"] if s in out]


def refine_study(
    rows: list[dict[str, Any]],
    dims: list[str],
    metric: str,
    levels: Sequence[float],
    gaps: Sequence[float],
    settings: ScenarioSettings,
    solve: Solver,
) -> tuple[pd.DataFrame, list[str]]:
    """The study's summary after the refinement rounds, and a log of each round (text lines).

    ``rows``: the scenarios' summary rows as solved; ``solve(sizes, settings)`` re-solves one
    scenario and returns its summary row (:func:`scenario_solver` in the workflow).
    """
    by_name = {r["scenario"]: dict(r) for r in rows}
    requested = settings.solve.mip_rel_gap
    for r in by_name.values():
        r.setdefault(REFINED_GAP, requested if requested is not None else float("nan"))
    summary = sweep.aggregate(list(by_name.values()), dims, metric)
    log: list[str] = []
    touched: set[str] = set()
    for gap in gaps:
        todo = decisive_ties(summary, metric, levels)
        if not todo:
            log.append(f"gap {gap:.4%}: no tie decides the frontier or a level; stop")
            break
        log.append(f"gap {gap:.4%}: re-solve {len(todo)} scenario(s): {', '.join(todo)}")
        tighter = settings.model_copy(
            update={"solve": settings.solve.model_copy(update={"mip_rel_gap": gap})}
        )
        for name in todo:
            sizes = {d: by_name[name][d] for d in dims}
            row = solve(sizes, tighter)
            row[REFINED_GAP] = gap
            by_name[name] = row
            logger.info("refined %s at gap %.4f%%", name, 100 * gap)
        touched.update(todo)
        summary = sweep.aggregate(list(by_name.values()), dims, metric)
    left = set(decisive_ties(summary, metric, levels)) if gaps else set()
    summary[TIE_OUTCOME] = [
        ("equivalent" if s in left else "separated") if s in touched else ""
        for s in summary["scenario"]
    ]
    if left:
        log.append(
            f"still tied after the last gap {gaps[-1]:.4%}, declared equivalent: "
            + ", ".join(s for s in summary["scenario"] if s in left)
        )
    elif touched:
        log.append("every deciding tie separated")
    return summary, log


def scenario_solver(base_case: Path, data_dir: Path | None) -> Solver:
    """``solve(sizes, settings)`` for :func:`refine_study`: :func:`dcpower.sweep.solve_scenario`
    on the study's base case (the summary row only)."""

    def solve(sizes: dict[str, Any], settings: ScenarioSettings) -> dict[str, Any]:
        row, _, _ = sweep.solve_scenario(base_case, sizes, settings, data_dir)
        return row

    return solve
