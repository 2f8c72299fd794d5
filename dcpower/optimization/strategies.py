"""Solution strategies: one monolithic MILP, or rolling windows with look-ahead.

Both return a :class:`DispatchSolution` (tables + binding constraints + solver report) on the
full horizon, so results, invariants and economics do not care which method produced them.

Rolling horizon: windows of ``window_days`` solved in sequence, each with ``lookahead_days``
more that are solved but discarded; the kept part's end state (SOC, units committed, last output,
recent starts still inside the start delay) seeds the next window, so ramp, start-delay and SOC
constraints hold across window boundaries. Only the last window keeps the terminal SOC. Each
window gets the case's gap and time limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pandas as pd
import pyomo.environ as pyo

from dcpower.optimization import dispatch_milp, explain, extract
from dcpower.optimization.inputs import DispatchInputs
from dcpower.optimization.solve import SolveReport, SolveStatus, relax_integrality, solve_model


@dataclass
class DispatchSolution:
    """A solved dispatch on the full horizon."""

    dispatch: pd.DataFrame
    electrical: pd.DataFrame
    binding: dict[int, list[str]]
    report: SolveReport
    windows: int = 1
    max_window_gap: float | None = None


class WindowInfeasibleError(RuntimeError):
    """A window (or the whole model) is infeasible; carries the inputs to diagnose."""

    def __init__(self, inputs: DispatchInputs, report: SolveReport):
        super().__init__(f"infeasible ({report.termination})")
        self.inputs = inputs
        self.report = report


class NoSolutionError(RuntimeError):
    """HiGHS returned no solution for a window or the whole model."""

    def __init__(self, report: SolveReport):
        super().__init__(report.status.value)
        self.report = report


SIMULTANEOUS_TOL_MW = 1e-6
MAX_BINARY_ROUNDS = 6


def _solve_built(x: DispatchInputs, opts: dict, relax: bool, method: str):
    t0 = time.perf_counter()
    m = dispatch_milp.build_dispatch_model(x)
    if relax:
        relax_integrality(m)
    build_s = time.perf_counter() - t0
    report = solve_model(m, build_seconds=build_s, method=method, **opts)
    if report.status == SolveStatus.INFEASIBLE:
        raise WindowInfeasibleError(x, report)
    if not report.has_solution:
        raise NoSolutionError(report)
    return m, report


def simultaneous_steps(m: pyo.ConcreteModel) -> set[int]:
    """Steps where the battery charges and discharges, or the POI imports and exports, at once."""
    out = set()
    for t in m.T:
        ch, dis = pyo.value(m.bess_charge[t]), pyo.value(m.bess_discharge[t])
        imp, exp_ = pyo.value(m.grid_import[t]), pyo.value(m.grid_export[t])
        if min(ch, dis) > SIMULTANEOUS_TOL_MW or min(imp, exp_) > SIMULTANEOUS_TOL_MW:
            out.add(t)
    return out


def snap_mode_variables(m: pyo.ConcreteModel) -> None:
    """Give relaxed mode variables the binary value that matches the flows.

    At steps left relaxed nothing is simultaneous, so this value satisfies every row; it makes
    ``import ≤ limit·importing`` bind only when the import is at its limit (explainability reads
    rows at this point).
    """
    for t in m.T:
        if not m.grid_importing[t].is_binary():
            exporting = pyo.value(m.grid_export[t]) > SIMULTANEOUS_TOL_MW
            m.grid_importing[t].set_value(0.0 if exporting else 1.0)
        if hasattr(m, "bess_discharging") and not m.bess_discharging[t].is_binary():
            charging = pyo.value(m.bess_charge[t]) > SIMULTANEOUS_TOL_MW
            m.bess_discharging[t].set_value(0.0 if charging else 1.0)


def _solve_one(x: DispatchInputs, opts: dict, relax: bool, method: str, selective: bool = False):
    """Solve one model; with ``selective``, mode binaries only where they are needed.

    Selective binaries: start with battery-mode and grid-direction variables relaxed to [0, 1]
    (the convex hull), and make them binary at every step where the solution charges and
    discharges (or imports and exports) at once; repeat until no step does. The result is a
    solution of the full model: at steps left relaxed nothing is simultaneous, so a binary
    value exists that matches it. Falls back to all binaries after MAX_BINARY_ROUNDS.
    """
    if relax or not selective:
        return _solve_built(x, opts, relax, method)
    binary: set[int] = set()
    build_s = solve_s = handoff_s = 0.0
    for _round in range(MAX_BINARY_ROUNDS):
        xi = replace(x, binary_steps=frozenset(binary))
        m, report = _solve_built(xi, opts, False, method)
        build_s += report.build_seconds
        solve_s += report.solve_seconds
        handoff_s += report.handoff_seconds
        bad = simultaneous_steps(m)
        if not bad:
            break
        binary |= bad
    else:
        m, report = _solve_built(x, opts, False, method)
        build_s += report.build_seconds
        solve_s += report.solve_seconds
        handoff_s += report.handoff_seconds
    snap_mode_variables(m)
    report = replace(
        report, build_seconds=build_s, solve_seconds=solve_s, handoff_seconds=handoff_s
    )
    return m, report


def solve_monolithic(
    x: DispatchInputs, opts: dict, relax: bool = False, selective: bool = False
) -> DispatchSolution:
    """The whole horizon as one model (MILP, or its LP relaxation when ``relax``)."""
    method = "lp_relaxation" if relax else "monolithic_milp"
    m, report = _solve_one(x, opts, relax, method, selective)
    return DispatchSolution(
        dispatch=extract.dispatch_frame(m, x),
        electrical=extract.electrical_frame(m, x),
        binding=explain.binding_constraints(m),
        report=report,
        max_window_gap=report.mip_gap,
    )


def solve_rolling(
    x: DispatchInputs,
    opts: dict,
    window_steps: int,
    lookahead_steps: int,
    relax: bool = False,
    selective: bool = False,
) -> DispatchSolution:
    """Rolling windows of ``window_steps`` with ``lookahead_steps`` of look-ahead."""
    n = x.n_steps
    state = {
        "soc_initial_mwh": x.soc_initial_mwh,
        "gen_initial_committed": x.gen_initial_committed,
        "gen_initial_mw": x.gen_initial_mw,
        "gen_prior_starts": x.gen_prior_starts,
    }
    dispatch_parts, electrical_parts, binding = [], [], {}
    reports: list[SolveReport] = []
    start = 0
    while start < n:
        stop = min(n, start + window_steps + lookahead_steps)
        last = stop == n
        keep = n - start if last else window_steps
        xi = x.window(start, stop, last=last, **state)
        m, report = _solve_one(xi, opts, relax, "rolling_window", selective)
        reports.append(report)
        delay = m.gen_delay_steps
        d = extract.dispatch_frame(m, xi).iloc[:keep]
        dispatch_parts.append(d)
        electrical_parts.append(extract.electrical_frame(m, xi).iloc[:keep])
        for t, names in explain.binding_constraints(m).items():
            if t < keep:
                binding[start + t] = names
        starts = tuple(int(round(v)) for v in d["gen_starts"])
        state = {
            "soc_initial_mwh": float(pyo.value(m.bess_soc[keep - 1])),
            "gen_initial_committed": int(round(d["gen_units_committed"].iloc[-1])),
            "gen_initial_mw": float(d["gen_mw"].iloc[-1]),
            "gen_prior_starts": (state["gen_prior_starts"] + starts)[-delay:] if delay else (),
        }
        start += keep
    gaps = [r.mip_gap for r in reports if r.mip_gap is not None]
    status = (
        SolveStatus.OPTIMAL
        if all(r.status == SolveStatus.OPTIMAL for r in reports)
        else SolveStatus.TIME_LIMIT_FEASIBLE
    )
    first = reports[0]
    report = replace(
        first,
        status=status,
        termination="all_windows_" + ("converged" if status == SolveStatus.OPTIMAL else "best"),
        objective=None,
        best_bound=None,
        mip_gap=None,
        build_seconds=sum(r.build_seconds for r in reports),
        solve_seconds=sum(r.solve_seconds for r in reports),
        handoff_seconds=sum(r.handoff_seconds for r in reports),
        n_rows=max(r.n_rows for r in reports),
        n_columns=max(r.n_columns for r in reports),
        n_integer=max(r.n_integer for r in reports),
        method="rolling_horizon_lp" if relax else "rolling_horizon",
    )
    return DispatchSolution(
        dispatch=pd.concat(dispatch_parts),
        electrical=pd.concat(electrical_parts),
        binding=dict(sorted(binding.items())),
        report=report,
        windows=len(reports),
        max_window_gap=max(gaps) if gaps else None,
    )
