"""Hand a built model to HiGHS (through highspy), keep it there across solves, report times."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import IO

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.tee import TeeStream, capture_output

from dcpower.optimization import lp_matrix


class SolveStatus(StrEnum):
    """Outcome of one solve, as results report it."""

    OPTIMAL = "optimal"  # proven within the requested MIP gap
    #: rolling windows: every window stopped with a solution, but some above the requested
    #: relative gap (the absolute-gap rule stopped them); see max_window_gap
    ABOVE_REQUESTED_GAP = "feasible_above_requested_gap"
    TIME_LIMIT_FEASIBLE = "time_limit_feasible"  # best solution found before the limit; see gap
    INFEASIBLE = "infeasible"
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
    ERROR = "error"


@dataclass
class SolveReport:
    """Solver outcome; times in seconds, objective and bound in $ (maximised net value)."""

    status: SolveStatus
    termination: str
    objective: float | None
    best_bound: float | None
    mip_gap: float | None
    build_seconds: float
    solve_seconds: float
    n_rows: int
    n_columns: int
    n_integer: int
    method: str
    solver: str
    mip_rel_gap_requested: float
    time_limit_s: float
    threads: int
    lp_bound: float | None = None  # LP relaxation of the whole-horizon model, $ (when computed)
    lp_seconds: float | None = None  # LP build + hand-off + solve, s
    lp_solve_seconds: float | None = None  # HiGHS's own LP solve, s
    handoff_seconds: float = 0.0  # Pyomo → HiGHS translation (inside solve_seconds), s
    #: proven upper bound on any dispatch's net value, $: the MILP's own dual bound (monolithic)
    #: or the Lagrangian block bound (``bounds.lagrangian_bound``), whichever is lower
    proven_bound: float | None = None
    proven_bound_method: str | None = None
    proven_bound_seconds: float | None = None  # Lagrangian bound: LP with prices + blocks, s

    @property
    def has_solution(self) -> bool:
        """A solution was loaded into the model."""
        return self.status in (
            SolveStatus.OPTIMAL,
            SolveStatus.ABOVE_REQUESTED_GAP,
            SolveStatus.TIME_LIMIT_FEASIBLE,
        )

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        d = asdict(self)
        d["status"] = self.status.value
        return d


def model_size(m: pyo.ConcreteModel) -> tuple[int, int, int]:
    """(rows, columns, integer columns) of the model, fixed variables excluded."""
    n_cols = n_int = 0
    for v in m.component_data_objects(pyo.Var, active=True, descend_into=True):
        if v.fixed:
            continue
        n_cols += 1
        n_int += v.is_integer() or v.is_binary()
    n_rows = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True))
    return n_rows, n_cols, n_int


def relax_integrality(m: pyo.ConcreteModel) -> None:
    """Turn every integer/binary variable of ``m`` continuous in place (same bounds)."""
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)


def mip_gap(objective: float | None, bound: float | None) -> float | None:
    """|bound − objective| / max(|objective|, 1e-9), HiGHS's relative gap."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return abs(bound - objective) / max(abs(objective), 1e-9)


#: HiGHS options set on every solve. RINS off: on 8-day windows of the 2016 benchmark site
#: (N+1, reserves) the same incumbents came 1.6× sooner without it (57 s vs 90 s over five
#: windows); the sub-MIP heuristic spent most of each root node.
#: Feasibility jump off: on the 2024 default study (full year, 53 weekly windows) HiGHS's
#: feasibility-jump heuristic ran before every root LP and took over half of each window's MIP
#: time (200 MWh / 4 units: 21.8 s -> 10.0 s, same objective to the cent); the root LP's
#: rounding finds the incumbents. Windows still stop at the same gap rules.
HIGHS_OPTIONS = {
    "random_seed": 0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_feasibility_jump": False,
}

#: HiGHS options that differ between runs with integer columns and LP runs: name → (value for
#: MIP runs, value for LP runs = HiGHS's own default). LP runs keep HiGHS's defaults, so an LP's
#: duals, and the marginal values read from them, do not depend on these.
#: Presolve mode 1 (HiGHS's "initial sweep" presolve instead of its full one): on an 8-day
#: window of the 2024 default study it removes 562 of 16,321 rows instead of 4,371, and the
#: window still solves sooner. Measured on every fourth window (HiGHS 1.16, one thread, each
#: window's own gaps, two repeats): 200 MWh / 4 units / 160 MVA 2.1-2.3 s -> 1.6 s;
#: 400 MWh / 4 units / 120 MVA 8.6-8.9 s -> 5.4-5.6 s; the 2016 benchmark site (N+1, four AS
#: products) 4.3 s -> 3.7 s. Every window stayed within its gap; the incumbents differ inside
#: it (sums over those windows within 0.12 %, both ways). Light presolve (mode 2) was slower on
#: the 2016 site.
MIP_OPTIONS = {"presolve_mode": (1, 0)}

#: HiGHS model status → termination name in results (the names Pyomo's solver interface used)
_TERMINATION = {
    "kOptimal": "convergenceCriteriaSatisfied",
    "kInfeasible": "provenInfeasible",
    "kUnboundedOrInfeasible": "infeasibleOrUnbounded",
    "kUnbounded": "unbounded",
    "kObjectiveBound": "objectiveLimit",
    "kObjectiveTarget": "objectiveLimit",
    "kTimeLimit": "maxTimeLimit",
    "kIterationLimit": "iterationLimit",
    "kSolutionLimit": "iterationLimit",
    "kLoadError": "error",
    "kModelError": "error",
    "kPresolveError": "error",
    "kSolveError": "error",
    "kPostsolveError": "error",
}


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing (not even its banner) until asked to."""
    with capture_output(capture_fd=True):  # HiGHS prints a banner when created
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    return h


@dataclass
class _RunResult:
    """What one HiGHS run returned, in the terms ``_report`` reads."""

    termination: str
    has_solution: bool
    objective: float | None
    bound: float | None


class HighsSession:
    """One Pyomo model held in HiGHS across solves.

    The first ``solve`` compiles the whole model to arrays (``lp_matrix``) and hands them over
    in one ``passModel`` call; later solves send only what changed: costs, row and column
    bounds (and, rarely, coefficients) that the mutable parameters changed
    (``push_parameters``) and the integrality or bounds of variables given to ``set_domain``
    / ``set_bounds``. Times in seconds.
    """

    def __init__(
        self,
        m: pyo.ConcreteModel,
        *,
        mip_rel_gap: float,
        time_limit_s: float,
        threads: int,
        tee: bool | IO[str] = False,
    ):
        self.model = m
        self.highs = quiet_highs()
        self.tee = tee
        self.solver_options = {**HIGHS_OPTIONS, "threads": threads, "mip_rel_gap": mip_rel_gap}
        self.mip_rel_gap, self.time_limit_s, self.threads = mip_rel_gap, time_limit_s, threads
        self.compiler = lp_matrix.LpCompiler(m)
        self._started = False
        self.model_passes = 0  # whole-model hand-overs (``passModel``) so far
        self._pending = 0.0  # hand-off time spent outside ``solve`` since the last solve, s

    @property
    def lp(self) -> lp_matrix.LpArrays:
        """The arrays HiGHS holds."""
        return self.compiler.lp

    def _pass_model(self) -> None:
        self.highs.passModel(lp_matrix.to_highs(self.compiler.compile()))
        self.model_passes += 1
        self._started = True

    def _columns(self, variables: list) -> tuple[np.ndarray, list]:
        """(HiGHS columns, variables) of the variables that are columns."""
        col_of = self.lp.col_of
        pairs = [(col_of[id(v)], v) for v in variables if id(v) in col_of]
        return np.array([j for j, _ in pairs], dtype=np.int32), [v for _, v in pairs]

    def _send_columns(self, variables: list) -> None:
        """Send the current integrality and bounds of ``variables`` to HiGHS."""
        if not self._started or not variables:
            return
        t0 = time.perf_counter()
        cols, held = self._columns(variables)
        if len(cols):
            bounds = np.array([lp_matrix.column_bounds(v) for v in held]).reshape(-1, 2)
            integer = np.array([v.is_integer() for v in held], dtype=bool)
            self._send_bounds(cols, bounds[:, 0].copy(), bounds[:, 1].copy(), integer)
        self._pending += time.perf_counter() - t0

    def set_domain(self, variables: list, domain) -> None:
        """Give ``variables`` a new Pyomo domain (integrality, bounds) for the next solve."""
        changed = [v for v in variables if v.domain is not domain]
        for v in changed:
            v.domain = domain
        self._send_columns(changed)

    def set_bounds(self, bounds: list[tuple]) -> None:
        """Give variables new bounds for the next solve: (variable, lower, upper) triples."""
        changed = []
        for v, lo, hi in bounds:
            if (v.lb, v.ub) != (lo, hi):
                v.setlb(lo)
                v.setub(hi)
                changed.append(v)
        self._send_columns(changed)

    @contextmanager
    def columns_fixed(self, variables: list, values: list[float]) -> Iterator[None]:
        """Inside the block HiGHS holds ``variables`` (those that are columns) as continuous
        columns fixed at ``values``; their bounds and integrality as held before are restored
        on exit. The Pyomo variables are not touched (no bound is read from them)."""
        if not self._started:
            yield
            return
        t0 = time.perf_counter()
        lp = self.lp
        col_of = lp.col_of
        pairs = [(col_of.get(id(v)), x) for v, x in zip(variables, values, strict=True)]
        cols = np.array([j for j, _ in pairs if j is not None], dtype=np.int32)
        fixed = np.array([x for j, x in pairs if j is not None], dtype=float)
        held = lp.col_lower[cols].copy(), lp.col_upper[cols].copy(), lp.integer[cols].copy()
        self._send_bounds(cols, fixed, fixed, np.zeros(len(cols), dtype=bool))
        self._pending += time.perf_counter() - t0
        try:
            yield
        finally:
            t0 = time.perf_counter()
            self._send_bounds(cols, *held)
            self._pending += time.perf_counter() - t0

    def _send_bounds(
        self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray, integer: np.ndarray
    ) -> None:
        """Columns' bounds and integrality into the held arrays and HiGHS."""
        if not len(cols):
            return
        lp = self.lp
        lp.col_lower[cols], lp.col_upper[cols], lp.integer[cols] = lower, upper, integer
        self.highs.changeColsBounds(len(cols), cols, lower.copy(), upper.copy())
        kinds = np.where(integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
        self.highs.changeColsIntegrality(len(cols), cols, kinds)

    def size(self) -> tuple[int, int, int]:
        """(rows, columns, integer columns) as HiGHS holds the model; fixed variables excluded."""
        if not self._started:
            return model_size(self.model)
        lp = self.lp
        return len(lp.rows), len(lp.columns), int(lp.integer.sum())

    def row_activity(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """(activity, lower, upper, Pyomo constraint) per HiGHS row, at the last solution."""
        lp = self.lp
        return (
            np.asarray(self.highs.getSolution().row_value),
            lp.row_lower.copy(),
            lp.row_upper.copy(),
            lp.rows,
        )

    def row_duals(self) -> np.ndarray:
        """Row duals of the last solution, in ``row_activity``'s order."""
        return np.asarray(self.highs.getSolution().row_dual)

    def _time_limit_option(self, seconds: float, n_integer: int) -> float:
        """HiGHS's ``time_limit`` for the next run so that it gets ``seconds``.

        One HiGHS instance keeps one run clock across runs: an LP run stops when that clock
        passes ``time_limit``, while a MIP run times itself from its own start (HiGHS 1.16).
        """
        if not self._started or n_integer > 0:
            return seconds
        return self.highs.getRunTime() + seconds

    def push_parameters(self) -> None:
        """Send what the mutable parameters' values changed (costs, bounds) to HiGHS."""
        if not self._started:
            return
        t0 = time.perf_counter()
        try:
            ch = self.compiler.changes()
        except lp_matrix.NewColumnError:
            self._pass_model()  # a variable entered that HiGHS does not hold: hand all over
        else:
            h = self.highs
            if len(ch.cost[0]):
                h.changeColsCost(len(ch.cost[0]), *ch.cost)
            if len(ch.col_bounds[0]):
                h.changeColsBounds(len(ch.col_bounds[0]), *ch.col_bounds)
            if len(ch.row_bounds[0]):
                h.changeRowsBounds(len(ch.row_bounds[0]), *ch.row_bounds)
            for i, j, v in ch.coefficients:
                h.changeCoeff(i, j, v)
            if ch.offset is not None:
                h.changeObjectiveOffset(ch.offset)
        self._pending += time.perf_counter() - t0

    def set_abs_gap(self, usd: float | None) -> None:
        """Also stop once the absolute gap is at most ``usd`` $ (None: relative gap only)."""
        self.solver_options["mip_abs_gap"] = 1e-6 if usd is None else float(usd)

    def solve(
        self,
        *,
        build_seconds: float = 0.0,
        method: str = "monolithic_milp",
        time_limit_s: float | None = None,
    ) -> SolveReport:
        """Solve; a solution is loaded into the model when one exists, whatever the status.

        ``time_limit_s``: for this run only (default: the session's).
        """
        started = time.perf_counter()
        handoff = self._pending
        if not self._started:
            self._pass_model()
            handoff += time.perf_counter() - started
        size = self.size()  # domains do not change during the run
        h = self.highs
        for key, value in self.solver_options.items():
            h.setOptionValue(key, value)
        for key, (mip_value, lp_value) in MIP_OPTIONS.items():
            h.setOptionValue(key, mip_value if size[2] else lp_value)
        h.setOptionValue(
            "time_limit", self._time_limit_option(time_limit_s or self.time_limit_s, size[2])
        )
        self._run()
        run = self._result()
        if run.has_solution:
            self._load_solution()
        solve_seconds = time.perf_counter() - started + self._pending
        self._pending = 0.0
        return _report(self, run, size, build_seconds, solve_seconds, handoff, method)

    def _run(self) -> None:
        h = self.highs
        if not self.tee:
            h.run()
            return
        streams = [sys.stdout if self.tee is True else self.tee]
        with capture_output(TeeStream(*streams), capture_fd=True):
            h.setOptionValue("output_flag", True)
            h.setOptionValue("log_to_console", True)
            try:
                h.run()
            finally:
                h.setOptionValue("output_flag", False)

    def _result(self) -> _RunResult:
        h = self.highs
        status = h.getModelStatus()
        info = h.getInfo()
        has_sol = info.primal_solution_status == 2  # 0 none, 1 infeasible, 2 feasible
        termination = _TERMINATION.get(status.name, "unknown")
        objective = float(info.objective_function_value) if has_sol else None
        if info.mip_node_count == -1:  # an LP
            optimal = has_sol and termination == "convergenceCriteriaSatisfied"
            bound = objective if optimal else None
        else:
            bound = float(info.mip_dual_bound)
        return _RunResult(termination, has_sol, objective, bound)

    def _load_solution(self) -> None:
        values = self.highs.getSolution().col_value
        for v, value in zip(self.lp.columns, values, strict=True):
            v.set_value(value, skip_validation=True)


def _report(
    session: HighsSession,
    run: _RunResult,
    size: tuple[int, int, int],
    build_seconds: float,
    solve_seconds: float,
    handoff_seconds: float,
    method: str,
) -> SolveReport:
    tc, has_sol = run.termination, run.has_solution
    if tc == "convergenceCriteriaSatisfied" and has_sol:
        status = SolveStatus.OPTIMAL
    elif tc in ("provenInfeasible", "locallyInfeasible", "infeasibleOrUnbounded"):
        status = SolveStatus.INFEASIBLE
    elif has_sol:
        status = SolveStatus.TIME_LIMIT_FEASIBLE
    elif tc in ("maxTimeLimit", "iterationLimit"):
        status = SolveStatus.TIME_LIMIT_NO_SOLUTION
    else:
        status = SolveStatus.ERROR
    objective = run.objective if has_sol else None
    bound = run.bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    n_rows, n_cols, n_int = size
    if n_int == 0 and objective is not None and status == SolveStatus.OPTIMAL:
        bound = objective
    h = session.highs
    return SolveReport(
        status=status,
        termination=tc,
        objective=objective,
        best_bound=bound,
        mip_gap=mip_gap(objective, bound),
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        n_rows=n_rows,
        n_columns=n_cols,
        n_integer=n_int,
        method=method,
        solver=f"highs {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}",
        mip_rel_gap_requested=session.mip_rel_gap,
        time_limit_s=session.time_limit_s,
        threads=session.threads,
        handoff_seconds=handoff_seconds,
    )


def solve_model(
    m: pyo.ConcreteModel,
    *,
    mip_rel_gap: float,
    time_limit_s: float,
    threads: int,
    build_seconds: float,
    method: str = "monolithic_milp",
    tee: bool | IO[str] = False,
) -> SolveReport:
    """Solve ``m`` once with HiGHS; a solution is loaded when one exists, whatever the status."""
    session = HighsSession(
        m, mip_rel_gap=mip_rel_gap, time_limit_s=time_limit_s, threads=threads, tee=tee
    )
    return session.solve(build_seconds=build_seconds, method=method)
