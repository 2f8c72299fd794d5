"""The resolution of a study's costs: each scenario's cost interval and the sizes it cannot tell
apart.

A scenario's annual total cost is annualised capex + fixed O&M − the net operating value of the
dispatch found. The solver proves how much net value it may have left on the table: the windows'
MIP dual bounds (Σ window bound − window objective, look-ahead included, for a rolling horizon),
the whole model's dual bound (monolithic MILP) or a proven Lagrangian bound where one was
computed. Annualised, that amount lowers the cost to ``annual_total_cost_lower_bound_usd``; two
scenarios whose intervals [lower bound, cost] overlap are *tied*: the solver, at the gap it was
asked for, cannot say which is cheaper.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

COST = "annual_total_cost_usd"
LOWER = "annual_total_cost_lower_bound_usd"
TIED = "tied_with"
#: separator of the scenario names in ``tied_with``
TIE_SEP = ", "
#: refinement columns (:mod:`dcpower.refine`): the gap a row was last solved at, and what
#: became of its tie ("", "separated" or "equivalent": still tied at the last gap)
REFINED_GAP = "refined_mip_rel_gap"
TIE_OUTCOME = "tie_outcome"


def unclosed_net_value_usd(solver: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """Net value ($, over the horizon) the solver proved it may have missed, and how.

    ``solver``: a results ``solver`` section. A proven bound (the monolithic MILP's dual bound
    or the Lagrangian block bound) wins over the windows' bounds; (None, None) when the solve
    has no bound (an LP relaxation, or a solve without any bound recorded).
    """
    if solver.get("relaxed_integrality"):
        return None, None
    objective = solver.get("objective")
    proven = solver.get("proven_bound")
    if proven is not None and objective is not None:
        method = solver.get("proven_bound_method") or "proven_bound"
        return max(float(proven) - float(objective), 0.0), str(method)
    if solver.get("best_bound") is not None and objective is not None:
        return max(float(solver["best_bound"]) - float(objective), 0.0), "milp_dual_bound"
    if solver.get("window_gap_usd") is not None:
        return max(float(solver["window_gap_usd"]), 0.0), "window_mip_bounds"
    return None, None


def cost_interval_columns(results: Mapping[str, Any], scale: float, cost: float) -> dict:
    """Summary columns of a scenario's cost interval: the lower bound ($/yr), the unclosed net
    value ($/yr, annualised by ``scale``), the bound's method and the requested relative gap."""
    solver = results["solver"]
    unclosed, method = unclosed_net_value_usd(solver)
    annual = None if unclosed is None else unclosed * scale
    return {
        LOWER: float("nan") if annual is None else cost - annual,
        "cost_unclosed_usd": float("nan") if annual is None else annual,
        "cost_bound_method": method or "none",
        "solver_gap_requested": float(solver.get("mip_rel_gap_requested", float("nan"))),
    }


def tied_with(summary: pd.DataFrame, by: Iterable[str] = ()) -> pd.Series:
    """For each scenario, the scenarios (names joined by ``TIE_SEP``) whose cost interval
    overlaps its own, within the same group of ``by`` columns (market year, event, dispatch
    policy); "" if none.

    A scenario without a lower bound counts as an exact point; one without a cost ties with
    nothing.
    """
    out = pd.Series("", index=summary.index, dtype=object)
    by = [c for c in by if c in summary.columns]
    groups = [g for _, g in summary.groupby(by, sort=False)] if by else [summary]
    for g in groups:
        cost = g[COST].astype(float)
        lower = g[LOWER].astype(float) if LOWER in g else cost
        lower = lower.where(lower.notna(), cost)
        ok = cost.notna()
        for i in g.index[ok]:
            others = g.index[ok & (g.index != i) & (lower <= cost[i]) & (lower[i] <= cost)]
            out[i] = TIE_SEP.join(str(s) for s in g.loc[others, "scenario"])
    return out


def tie_names(value: Any) -> list[str]:
    """The scenario names of a ``tied_with`` cell (empty list for "", None or NaN)."""
    if not isinstance(value, str) or not value:
        return []
    return value.split(TIE_SEP)


def worst_gap(summary: pd.DataFrame) -> float:
    """The worst relative gap any scenario's solve achieved (NaN if none recorded)."""
    if "solver_gap" not in summary:
        return float("nan")
    return float(summary["solver_gap"].max())


def requested_gap(summary: pd.DataFrame) -> float:
    """The relative gap the study asked for (the largest one, should scenarios differ)."""
    if "solver_gap_requested" not in summary:
        return float("nan")
    return float(summary["solver_gap_requested"].max())
