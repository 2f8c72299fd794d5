"""The forecast policy: a causal operator who commits each operating day the day before.

At each operating day's decision time the window [day start, day end + look-ahead) is solved
with the prices the operator knows then (``priced``: published values as they are, forecasts
for the rest) from the state the committed days hand over (SOC, units and their recent starts,
the week's curtailed energy). The operating day's part (energy, AS awards, commitment, SOC) is
committed and settled at the actual prices: the actual prices are written into the same
model's parameters and the objective's own per-step terms are read at the committed solution.
Only costs read prices, so the committed schedule meets every physical row (deployment of
awards, SOC floor, N+1, MVA) exactly as a clairvoyant run's schedule does.

Grid events with notice: at each notice time that falls after a day's decision and before the
day ends, the day is re-dispatched from the first step that starts at or after the notice: the
steps before keep their committed values (every variable of those steps held at its value), the
rest of the window is solved again with what is known at the notice time (the event's cap, the
prices published by then). From that step on the day's energy, awards and commitment may change.
A day committed before a notice that comes before it starts is re-dispatched whole (from the
state the re-dispatched day before hands over), once, at the last such notice. A re-dispatch is
priced like a decision: at the prices published by its time (day-ahead prices of the day, once
posted), as one settlement.

Non-anticipative by construction: a day's decision reads only ``priced``'s window (which must
read only what is published before its decision time) and the state of the days before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dcpower.optimization import dispatch_milp, extract
from dcpower.optimization.inputs import DispatchInputs
from dcpower.optimization.solve import SolveReport
from dcpower.optimization.strategies import (
    DispatchSolution,
    WindowSolver,
    combine_windows,
    window_abs_gap_usd,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperatingDay:
    """One operating day: steps [start, stop) of the horizon, committed at ``decision_utc``."""

    start: int
    stop: int
    decision_utc: pd.Timestamp


@dataclass
class Decision:
    """What one decision committed: the day, its window and the kept part's value at the
    actual prices (what it earned), $."""

    day: OperatingDay
    window_stop: int
    realised_usd: float
    #: the day-ahead decision's net withdrawal (import − export) per kept step, MW: the
    #: position a two-settlement market settles at day-ahead prices
    da_net_mw: np.ndarray
    #: re-dispatches of the day: (notice time, first step re-dispatched, horizon index)
    redispatches: list[tuple[pd.Timestamp, int]] = field(default_factory=list)


def step_variables(m: pyo.ConcreteModel, before: int) -> list:
    """Every unfixed variable of the steps before ``before`` (a variable's step is the last
    element of its index; variables without a step index are left out)."""
    out = []
    for var in m.component_objects(pyo.Var, active=True):
        for index, v in var.items():
            t = index[-1] if isinstance(index, tuple) else index
            if isinstance(t, int) and t < before and not v.fixed:
                out.append(v)
    return out


def _redispatch(solver: WindowSolver, seen: DispatchInputs, first: int, method: str) -> SolveReport:
    """Solve ``seen`` again with every variable of the steps before ``first`` held at its
    current value (bounds set to it, restored after: Pyomo bound expressions included)."""
    held = step_variables(solver.model, first)
    saved = [(v, v.lower, v.upper) for v in held]
    values = [round(v.value) if v.is_integer() else v.value for v in held]
    solver.session.set_bounds([(v, x, x) for v, x in zip(held, values, strict=True)])
    try:
        return solver.solve(seen, method)
    finally:
        for v, lower, upper in saved:
            v.setlb(lower)
            v.setub(upper)


#: (actual window inputs, window start step, window stop step, decision time) → the inputs the
#: decision sees (same physics, the prices it can know)
Pricer = Callable[[DispatchInputs, int, int, pd.Timestamp], DispatchInputs]


def solve_forecast_policy(
    x: DispatchInputs,
    opts: dict,
    days: list[OperatingDay],
    lookahead_days: int,
    priced: Pricer,
    relax: bool = False,
    selective: bool = False,
    notices: Sequence[pd.Timestamp] = (),
) -> tuple[DispatchSolution, list[Decision]]:
    """Commit ``days`` in order, each from its own decision, re-dispatched at each of
    ``notices`` (grid events' notice times) after its decision and before its end; the
    solution is the committed schedule with its terms at the actual prices (``x``'s)."""
    n = x.n_steps
    state: dict = {
        "soc_initial_mwh": x.soc_initial_mwh,
        "gen_initial_committed": x.gen_initial_committed,
        "gen_initial_mw": x.gen_initial_mw,
        "gen_prior_starts": x.gen_prior_starts,
        "gen_initial_units": x.gen_initial_units,
    }
    solvers: dict[int, WindowSolver] = {}
    values: list[tuple[float, int]] = []
    reports: list[SolveReport] = []
    decisions: list[Decision] = []
    dispatch_parts, electrical_parts, binding = [], [], {}
    terms_usd: dict[str, float] = {}
    for k, day in enumerate(days):
        start, keep = day.start, day.stop - day.start
        stop = days[min(k + lookahead_days, len(days) - 1)].stop
        last = stop == n
        actual = x.window(start, stop, last=last, **state)
        seen = priced(actual, start, stop, day.decision_utc)
        if seen.n_steps not in solvers:
            solvers[seen.n_steps] = WindowSolver(seen, opts, relax, selective)
        solver = solvers[seen.n_steps]
        solver.session.set_abs_gap(window_abs_gap_usd(values, opts["mip_rel_gap"], seen.n_steps))
        report = solver.solve(seen, "forecast_policy_window")
        reports.append(report)
        m = solver.model
        da_net = np.array(
            [m.grid_import[t].value - m.grid_export[t].value for t in range(keep)], dtype=float
        )
        step = x.timestamps[1] - x.timestamps[0] if n > 1 else pd.Timedelta(hours=1)
        day_end = x.timestamps[day.stop - 1] + step
        redispatched = []
        day_start = x.timestamps[day.start]
        ahead = [t for t in notices if day.decision_utc < t <= day_start]
        inside = [t for t in notices if day_start < t < day_end]
        # before the day starts only the last notice counts: each re-plans the whole day
        for notice in ahead[-1:] + inside:
            first = int(np.searchsorted(actual.timestamps, notice))  # first step ≥ notice
            report = _redispatch(
                solver, priced(actual, start, stop, notice), first, "forecast_redispatch"
            )
            reports.append(report)
            redispatched.append((notice, start + first))
        if report.objective is not None and not relax:
            values.append((report.objective, seen.n_steps))
        for t, names in solver.binding(keep).items():
            binding[start + t] = names
        # settle: the actual prices into the same model, its terms read at the committed values
        dispatch_milp.load_window_data(m, actual)
        kept = dispatch_milp.kept_terms_usd(m, keep)
        for name, usd in kept.items():
            terms_usd[name] = terms_usd.get(name, 0.0) + usd
        dispatch_parts.append(extract.dispatch_frame(m, actual).iloc[:keep])
        electrical_parts.append(extract.electrical_frame(m, actual).iloc[:keep])
        state = dispatch_milp.handover(m, actual, keep)
        decisions.append(Decision(day, stop, sum(kept.values()), da_net, redispatched))
        logger.info(
            "day %s decided %s: realised %.0f $, %.1f s",
            actual.timestamps[0].strftime("%Y-%m-%dT%H:%MZ"),
            day.decision_utc.strftime("%Y-%m-%dT%H:%MZ"),
            decisions[-1].realised_usd,
            report.solve_seconds,
        )
    solution = combine_windows(
        reports,
        dispatch_parts,
        electrical_parts,
        binding,
        terms_usd,
        opts["mip_rel_gap"],
        relax,
        "forecast_policy",
    )
    return solution, decisions
