"""Hand a built model to HiGHS (through highspy), keep it there across solves, report times."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import IO

import numpy as np
import pyomo.environ as pyo
from pyomo.common.timing import HierarchicalTimer
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs


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


#: persistent-solver updates: nothing is re-scanned on a solve; the session sends parameter
#: values (``push_parameters``) and domain changes (``set_domain``) itself.
_AUTO_UPDATES = {
    "check_for_new_or_removed_constraints": False,
    "check_for_new_or_removed_vars": False,
    "check_for_new_or_removed_params": False,
    "check_for_new_objective": False,
    "update_constraints": False,
    "update_vars": False,
    "update_named_expressions": False,
    "update_objective": False,
    "update_parameters": False,  # sent once per new window: ``push_parameters``
}


#: HiGHS options set on every solve. RINS off: on 8-day windows of the 2016 benchmark site
#: (N+1, reserves) the same incumbents came 1.6× sooner without it (57 s vs 90 s over five
#: windows); the sub-MIP heuristic spent most of each root node.
HIGHS_OPTIONS = {"random_seed": 0, "mip_heuristic_run_rins": False}


class HighsSession:
    """One Pyomo model held in HiGHS across solves.

    The first ``solve`` hands the whole model over; later solves send only what changed: the
    values of mutable parameters (costs, row and column bounds) and the integrality of variables
    passed to ``set_binary``. Times in seconds.
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
        self.opt = Highs()
        self.options = {
            "tee": tee,
            "load_solutions": False,
            "raise_exception_on_nonoptimal_result": False,
            "time_limit": time_limit_s,
            "rel_gap": mip_rel_gap,
            "threads": threads,
            "solver_options": {**HIGHS_OPTIONS, "output_flag": bool(tee)},  # tee: True or a stream
        }
        self.mip_rel_gap, self.time_limit_s, self.threads = mip_rel_gap, time_limit_s, threads
        self._started = False

    def set_domain(self, variables: list, domain) -> None:
        """Give ``variables`` a new Pyomo domain (integrality, bounds) for the next solve."""
        changed = [v for v in variables if v.domain is not domain]
        for v in changed:
            v.domain = domain
        if changed and self._started:
            self.opt.update_variables(changed)

    def set_bounds(self, bounds: list[tuple]) -> None:
        """Give variables new bounds for the next solve: (variable, lower, upper) triples."""
        changed = []
        for v, lo, hi in bounds:
            if (v.lb, v.ub) != (lo, hi):
                v.setlb(lo)
                v.setub(hi)
                changed.append(v)
        if changed and self._started:
            self.opt.update_variables(changed)

    def size(self) -> tuple[int, int, int]:
        """(rows, columns, integer columns) as HiGHS holds the model; fixed variables excluded."""
        if not self._started:
            return model_size(self.model)
        h = self.opt._solver_model
        n_int = sum(int(v) != 0 for v in h.getLp().integrality_)  # HighsVarType enum
        return h.getNumRow(), h.getNumCol(), n_int

    def row_activity(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """(activity, lower, upper, Pyomo constraint) per HiGHS row, at the last solution."""
        h = self.opt._solver_model
        lp = h.getLp()
        rows = self.opt._solver_con_to_pyomo_con_map
        return (
            np.asarray(h.getSolution().row_value),
            np.asarray(lp.row_lower_),
            np.asarray(lp.row_upper_),
            [rows[i] for i in range(h.getNumRow())],
        )

    def _time_limit_option(self, seconds: float, n_integer: int) -> float:
        """HiGHS's ``time_limit`` for the next run so that it gets ``seconds``.

        One HiGHS instance keeps one run clock across runs: an LP run stops when that clock
        passes ``time_limit``, while a MIP run times itself from its own start (HiGHS 1.16).
        """
        if not self._started or n_integer > 0:
            return seconds
        return self.opt._solver_model.getRunTime() + seconds

    def push_parameters(self) -> None:
        """Send changed mutable-parameter values (costs, bounds) to HiGHS."""
        if self._started:
            self.opt.update_parameters()

    def set_abs_gap(self, usd: float | None) -> None:
        """Also stop once the absolute gap is at most ``usd`` $ (None: relative gap only)."""
        self.options["solver_options"]["mip_abs_gap"] = 1e-6 if usd is None else float(usd)

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
        timer = HierarchicalTimer()
        started = time.perf_counter()
        size = self.size()  # domains do not change during the run
        self.options["time_limit"] = self._time_limit_option(
            time_limit_s or self.time_limit_s, size[2]
        )
        res = self.opt.solve(self.model, timer=timer, auto_updates=_AUTO_UPDATES, **self.options)
        solve_seconds = time.perf_counter() - started
        self._started = True
        handoff = sum(_timer_total(timer, name) for name in ("set_instance", "update"))
        return _report(self, res, size, build_seconds, solve_seconds, handoff, method)


def _timer_total(timer: HierarchicalTimer, name: str) -> float:
    try:
        return timer.get_total_time(name)
    except (KeyError, RuntimeError):
        return 0.0


def _report(
    session: HighsSession,
    res,
    size: tuple[int, int, int],
    build_seconds: float,
    solve_seconds: float,
    handoff_seconds: float,
    method: str,
) -> SolveReport:
    tc = res.termination_condition
    has_sol = res.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if has_sol:
        res.solution_loader.load_vars()
    if tc == TerminationCondition.convergenceCriteriaSatisfied and has_sol:
        status = SolveStatus.OPTIMAL
    elif tc in (
        TerminationCondition.provenInfeasible,
        TerminationCondition.locallyInfeasible,
        TerminationCondition.infeasibleOrUnbounded,
    ):
        status = SolveStatus.INFEASIBLE
    elif has_sol:
        status = SolveStatus.TIME_LIMIT_FEASIBLE
    elif tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit):
        status = SolveStatus.TIME_LIMIT_NO_SOLUTION
    else:
        status = SolveStatus.ERROR
    objective = (
        float(res.incumbent_objective) if has_sol and res.incumbent_objective is not None else None
    )
    bound = res.objective_bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    n_rows, n_cols, n_int = size
    if n_int == 0 and objective is not None and status == SolveStatus.OPTIMAL:
        bound = objective
    return SolveReport(
        status=status,
        termination=str(tc.name),
        objective=objective,
        best_bound=bound,
        mip_gap=mip_gap(objective, bound),
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        n_rows=n_rows,
        n_columns=n_cols,
        n_integer=n_int,
        method=method,
        solver=f"highs {'.'.join(map(str, session.opt.version() or ()))}",
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
