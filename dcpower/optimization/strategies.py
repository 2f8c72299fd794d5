"""Solution strategies: one monolithic MILP, or rolling windows with look-ahead.

Both return a :class:`DispatchSolution` (tables + binding constraints + solver report) on the
full horizon, so results, invariants and economics do not care which method produced them.

Rolling horizon: windows of ``window_days`` solved in sequence, each with ``lookahead_days``
more that are solved but discarded; the kept part's end state (SOC, units committed, last output,
recent starts still inside the start delay) seeds the next window, so ramp, start-delay and SOC
constraints hold across window boundaries. Only the last window keeps the terminal SOC. Each
window gets the case's gap and time limit. Windows of equal length share one model kept in
HiGHS (``WindowSolver``): a year of weekly windows is built and handed over twice, not 52 times.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dcpower.optimization import dispatch_milp, explain, extract, marginal, pruning, reactive
from dcpower.optimization.inputs import DispatchInputs
from dcpower.optimization.solve import HighsSession, SolveReport, SolveStatus, relax_integrality


@dataclass
class DispatchSolution:
    """A solved dispatch on the full horizon."""

    dispatch: pd.DataFrame
    electrical: pd.DataFrame
    binding: dict[int, list[str]]
    report: SolveReport
    windows: int = 1
    max_window_gap: float | None = None
    windows_time_limited: int = 0  # windows that stopped at the time limit (best found)
    window_gap_usd: float | None = None  # Σ (window bound − window objective), $
    windows_above_gap: int = 0  # windows whose relative gap exceeds the requested one
    #: the objective's named $ terms at the solution (signed; rolling: over the kept steps)
    terms_usd: dict[str, float] = field(default_factory=dict)
    #: ``marginal_values`` results section (None: not asked for)
    marginal_values: dict | None = None


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


logger = logging.getLogger(__name__)

SIMULTANEOUS_TOL_MW = 1e-6
MAX_BINARY_ROUNDS = 4


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


def _step_of(index) -> int:
    """A row's step: its index's last element (reactive families are indexed by T last)."""
    t = index[-1] if isinstance(index, tuple) else index
    return int(t) if isinstance(t, int) else -1


class WindowSolver:
    """A dispatch model of one length, built once and kept in HiGHS across windows.

    Each window writes its data into the model's mutable parameters; HiGHS receives only the
    changed costs and bounds. ``build_seconds`` of a report is the Pyomo build (first window) or
    the parameter write (later windows); ``handoff_seconds`` is the Pyomo → HiGHS transfer.
    """

    def __init__(self, x: DispatchInputs, opts: dict, relax: bool, selective: bool):
        started = time.perf_counter()
        self.selective = selective and not relax
        binary_steps = frozenset() if self.selective else None
        self.model = dispatch_milp.build_dispatch_model(replace(x, binary_steps=binary_steps))
        if relax:
            relax_integrality(self.model)
        self.session = HighsSession(self.model, **opts)
        self._row_index: tuple | None = None  # (the LP it describes, explain.RowIndex)
        self._build_seconds: float | None = time.perf_counter() - started
        m = self.model
        self.mode_vars = {
            t: [m.grid_importing[t]]
            + ([m.bess_discharging[t]] if hasattr(m, "bess_discharging") else [])
            for t in m.T
        }
        #: columns that are integer in the full model (mode variables: also where relaxed)
        seen: dict[int, pyo.Var] = {}
        if not relax:
            for v in m.component_data_objects(pyo.Var, active=True):
                if v.is_integer() or v.is_binary():
                    seen[id(v)] = v
            for vs in self.mode_vars.values():
                seen.update((id(v), v) for v in vs)
        self.integer_vars = list(seen.values())

    def fixed_integer_duals(self) -> list[tuple] | None:
        """Row duals of the LP with every integer column fixed at its rounded current value:
        (Pyomo row, dual, lower bound active) for rows with a non-zero dual; None when that LP
        has no optimal solution. The columns are fixed in HiGHS only (``columns_fixed``: the
        Pyomo domains and bounds are never changed); the model's variable values are the LP's
        (extract everything kept first)."""
        ints = [v for v in self.integer_vars if not v.fixed]
        with self.session.columns_fixed(ints, [round(pyo.value(v)) for v in ints]):
            report = self.session.solve(method="fixed_integer_lp")
            if report.status != SolveStatus.OPTIMAL:
                return None
            duals = self.session.row_duals()
            activity, lower, upper, rows = self.session.row_activity()
        out = []
        for i in np.flatnonzero(np.abs(duals) > marginal.DUAL_TOL):
            lower_active = abs(activity[i] - lower[i]) <= abs(activity[i] - upper[i])
            out.append((rows[i], float(duals[i]), bool(lower_active)))
        return out

    def solve(self, x: DispatchInputs, method: str) -> SolveReport:
        """Solve the window ``x`` (same length as the model); raise when it has no solution.

        With ``selective`` binaries: battery-mode and grid-direction variables start relaxed to
        [0, 1] (the convex hull) and become binary at every step where a MILP solution charges
        and discharges (or imports and exports) at once, round after round until none does.
        The result is a solution of the full model: at steps left relaxed nothing is
        simultaneous, so a binary value exists that matches it. The last of MAX_BINARY_ROUNDS
        makes every mode variable binary. Each round gets the time limit. (An LP relaxation
        round before the first MILP, to guess those steps, was dropped: on the 2024 default
        study it never found one and cost 15 % of a job; its steps, where there are any, are
        found by the next MILP round instead.)
        """
        started = time.perf_counter()
        self._inputs = x
        if self._build_seconds is None:
            dispatch_milp.load_window_data(self.model, x)
            build_s = time.perf_counter() - started
            self.session.push_parameters()
        else:
            build_s, self._build_seconds = self._build_seconds, None
        if not self.selective:
            report = self._checked(x, self.session.solve(build_seconds=build_s, method=method))
            reactive.dispatch_reactive(self.model, x)
            return report
        binary: set[int] = set()
        self._set_binary_steps(binary)
        solve_s = handoff_s = 0.0
        for _round in range(MAX_BINARY_ROUNDS + 1):
            report = self._checked(x, self.session.solve(build_seconds=build_s, method=method))
            solve_s += report.solve_seconds
            handoff_s += report.handoff_seconds
            bad = simultaneous_steps(self.model)
            if not bad:
                break
            binary |= bad
            if _round + 1 == MAX_BINARY_ROUNDS:
                binary = set(self.model.T)
            self._set_binary_steps(binary)
        snap_mode_variables(self.model)
        reactive.dispatch_reactive(self.model, x)
        return replace(report, solve_seconds=solve_s, handoff_seconds=handoff_s)

    def binding(self, steps: int | None = None) -> dict[int, list[str]]:
        """Binding families per step of the last solution (after the reactive second stage).

        ``steps``: only the first ``steps`` steps (a window's kept part; default all).
        Every row HiGHS holds is tested in numpy at the model's current values (the final Q
        and the snapped mode variables included, ``explain.binding_from_arrays``); reactive
        rows left out of HiGHS by ``pruning`` are tested as Pyomo rows, and polygon facets it
        did not build at the final P and Q (``pruning.polygon_binding``).
        """
        lp = self.session.lp
        if self._row_index is None or self._row_index[0] is not lp:
            self._row_index = (lp, explain.row_index(self.model, lp))
        index = self._row_index[1]
        x = np.array([np.nan if v.value is None else v.value for v in lp.columns], dtype=float)
        found = explain.binding_from_arrays(lp, index, x)
        left_out = [
            r
            for r in explain.rows_of(self.model, dispatch_milp.REACTIVE_FAMILIES)
            if not r.active and (steps is None or _step_of(r.index()) < steps)
        ]
        for t, names in explain.binding_constraints(self.model, left_out).items():
            found[t].update(names)
        for t, names in pruning.polygon_binding(self.model, self._inputs).items():
            found[t].update(names)
        return {
            t: sorted(names)
            for t, names in sorted(found.items())
            if names and (steps is None or t < steps)
        }

    def _set_binary_steps(self, steps: set[int]) -> None:
        on = [v for t in steps for v in self.mode_vars[t]]
        off = [v for t in self.model.T if t not in steps for v in self.mode_vars[t]]
        self.session.set_domain(off, pyo.UnitInterval)
        self.session.set_domain(on, pyo.Binary)

    def _checked(self, x: DispatchInputs, report: SolveReport) -> SolveReport:
        if report.status == SolveStatus.INFEASIBLE:
            raise WindowInfeasibleError(x, report)
        if not report.has_solution:
            raise NoSolutionError(report)
        return report


def solve_monolithic(
    x: DispatchInputs,
    opts: dict,
    relax: bool = False,
    selective: bool = False,
    marginal_values: bool = False,
) -> DispatchSolution:
    """The whole horizon as one model (MILP, or its LP relaxation when ``relax``).

    ``marginal_values``: also the asset sizes' marginal values (``marginal``; one extra LP).
    """
    method = "lp_relaxation" if relax else "monolithic_milp"
    solver = WindowSolver(x, opts, relax, selective)
    report = solver.solve(x, method)
    m = solver.model
    solution = DispatchSolution(
        terms_usd=dispatch_milp.kept_terms_usd(m, x.n_steps),
        dispatch=extract.dispatch_frame(m, x),
        electrical=extract.electrical_frame(m, x),
        binding=solver.binding(),
        report=report,
        max_window_gap=report.mip_gap,
    )
    if marginal_values:
        mv = marginal.MarginalValues(x)
        mv.add(solver, lambda asset: mv.full[asset], None)
        solution.marginal_values = mv.section()
    return solution


def window_abs_gap_usd(done: list[tuple[float, int]], rel_gap: float, steps: int) -> float | None:
    """Absolute gap a window may stop at: ``rel_gap`` × the mean |net value| per step of the
    windows so far × the window's steps, $ (None for the first window).

    A window whose own net value is near zero (costs ≈ revenues) cannot prove a relative gap
    cheaply, yet its dollars matter to the horizon only in proportion to the horizon's value.
    Each window still stops at ``rel_gap`` of its own value when that comes first.
    ``done``: (net value $, steps) of the windows solved so far.
    """
    if not done:
        return None
    value = sum(abs(v) for v, _ in done)
    return rel_gap * value / sum(n for _, n in done) * steps


def solve_rolling(
    x: DispatchInputs,
    opts: dict,
    window_steps: int,
    lookahead_steps: int,
    relax: bool = False,
    selective: bool = False,
    marginal_values: bool = False,
) -> DispatchSolution:
    """Rolling windows of ``window_steps`` with ``lookahead_steps`` of look-ahead.

    ``marginal_values``: also the asset sizes' marginal values (``marginal``; one extra LP
    per window, after the window's kept part and hand-over state are extracted).
    """
    mv = marginal.MarginalValues(x) if marginal_values else None
    n = x.n_steps
    state = {
        "soc_initial_mwh": x.soc_initial_mwh,
        "gen_initial_committed": x.gen_initial_committed,
        "gen_initial_mw": x.gen_initial_mw,
        "gen_prior_starts": x.gen_prior_starts,
        "gen_initial_units": x.gen_initial_units,
    }
    dispatch_parts, electrical_parts, binding = [], [], {}
    reports: list[SolveReport] = []
    solvers: dict[int, WindowSolver] = {}  # one model per window length
    values: list[tuple[float, int]] = []  # (net value $, steps) per window solved
    terms_usd: dict[str, float] = {}  # each $ term over the kept steps, summed over windows
    start = 0
    while start < n:
        stop = min(n, start + window_steps + lookahead_steps)
        last = stop == n
        keep = n - start if last else window_steps
        xi = x.window(start, stop, last=last, **state)
        if xi.n_steps not in solvers:
            solvers[xi.n_steps] = WindowSolver(xi, opts, relax, selective)
        solver = solvers[xi.n_steps]
        solver.session.set_abs_gap(window_abs_gap_usd(values, opts["mip_rel_gap"], xi.n_steps))
        report = solver.solve(xi, "rolling_window")
        m = solver.model
        reports.append(report)
        logger.info(
            "window %d from %s: %s, %.1f s, net value %.0f $, gap %s, %d integer columns",
            len(reports),
            xi.timestamps[0].strftime("%Y-%m-%dT%H:%MZ"),
            report.status.value,
            report.solve_seconds,
            report.objective if report.objective is not None else float("nan"),
            f"{report.mip_gap:.3%}" if report.mip_gap is not None else "n/a",
            report.n_integer,
        )
        if report.objective is not None and not relax:
            values.append((report.objective, xi.n_steps))
        for name, usd in dispatch_milp.kept_terms_usd(m, keep).items():
            terms_usd[name] = terms_usd.get(name, 0.0) + usd
        d = extract.dispatch_frame(m, xi).iloc[:keep]
        dispatch_parts.append(d)
        electrical_parts.append(extract.electrical_frame(m, xi).iloc[:keep])
        for t, names in solver.binding().items():
            if t < keep:
                binding[start + t] = names
        handed = dispatch_milp.handover(m, xi, keep)
        if mv is not None:  # after everything kept is read: the LP re-sets the values
            mv.add(
                solver,
                lambda asset, a=start, b=stop, s=state, e=last: mv.window_inputs(asset, a, b, e, s),
                keep,
            )
        state = handed
        start += keep
    return combine_windows(
        reports,
        dispatch_parts,
        electrical_parts,
        binding,
        terms_usd,
        opts["mip_rel_gap"],
        relax,
        "rolling_horizon",
        marginal_values=mv.section() if mv is not None else None,
    )


def above_requested_gap(report: SolveReport, requested: float) -> bool:
    """The report's relative gap exceeds the requested one (beyond rounding)."""
    return report.mip_gap is not None and report.mip_gap > requested * (1 + 1e-9) + 1e-12


def combine_windows(
    reports: list[SolveReport],
    dispatch_parts: list[pd.DataFrame],
    electrical_parts: list[pd.DataFrame],
    binding: dict,
    terms_usd: dict[str, float],
    mip_rel_gap: float,
    relax: bool,
    method: str,
    marginal_values: dict | None = None,
) -> DispatchSolution:
    """One solution from the kept steps of successive windows: their tables concatenated, the
    objective the sum of the kept $ terms, the status the worst window's (time limit, then
    above the requested gap), seconds summed, model sizes the largest window's; ``method``
    gets ``_lp`` appended for a relaxed run."""
    gaps = [r.mip_gap for r in reports if r.mip_gap is not None]
    above = sum(above_requested_gap(r, mip_rel_gap) for r in reports)
    if any(r.status == SolveStatus.TIME_LIMIT_FEASIBLE for r in reports):
        status = SolveStatus.TIME_LIMIT_FEASIBLE
    elif above and not relax:
        status = SolveStatus.ABOVE_REQUESTED_GAP
    else:
        status = SolveStatus.OPTIMAL
    report = replace(
        reports[0],
        status=status,
        termination="all_windows_" + ("converged" if status == SolveStatus.OPTIMAL else "best"),
        objective=sum(terms_usd.values()),
        best_bound=None,
        mip_gap=None,
        build_seconds=sum(r.build_seconds for r in reports),
        solve_seconds=sum(r.solve_seconds for r in reports),
        handoff_seconds=sum(r.handoff_seconds for r in reports),
        n_rows=max(r.n_rows for r in reports),
        n_columns=max(r.n_columns for r in reports),
        n_integer=max(r.n_integer for r in reports),
        method=method + "_lp" if relax else method,
    )
    return DispatchSolution(
        dispatch=pd.concat(dispatch_parts),
        electrical=pd.concat(electrical_parts),
        binding=dict(sorted(binding.items())),
        report=report,
        windows=len(reports),
        max_window_gap=max(gaps) if gaps else None,
        windows_time_limited=sum(r.status == SolveStatus.TIME_LIMIT_FEASIBLE for r in reports),
        window_gap_usd=sum(
            r.best_bound - r.objective
            for r in reports
            if r.best_bound is not None and r.objective is not None
        ),
        windows_above_gap=above,
        terms_usd=terms_usd,
        marginal_values=marginal_values,
    )
