"""Hand a built model to HiGHS (through highspy), keep it there across solves, report times."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np
import pyomo.environ as pyo
from pyomo.common.timing import HierarchicalTimer
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs


class SolveStatus(StrEnum):
    """Outcome of one solve, as results report it."""

    OPTIMAL = "optimal"  # proven within the requested MIP gap
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

    @property
    def has_solution(self) -> bool:
        """A solution was loaded into the model."""
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT_FEASIBLE)

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


#: persistent-solver updates: only parameter values change between solves of a session; the
#: session itself sends domain changes (``set_binary``), so nothing else is re-scanned.
_AUTO_UPDATES = {
    "check_for_new_or_removed_constraints": False,
    "check_for_new_or_removed_vars": False,
    "check_for_new_or_removed_params": False,
    "check_for_new_objective": False,
    "update_constraints": False,
    "update_vars": False,
    "update_named_expressions": False,
    "update_objective": False,
    "update_parameters": True,
}


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
        tee: bool = False,
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
            "solver_options": {"random_seed": 0, "output_flag": tee},
        }
        self.mip_rel_gap, self.time_limit_s, self.threads = mip_rel_gap, time_limit_s, threads
        self._started = False

    def set_binary(self, variables: list, binary: bool) -> None:
        """Make ``variables`` binary (or continuous in [0, 1]) for the next solve."""
        domain = pyo.Binary if binary else pyo.UnitInterval
        changed = [v for v in variables if v.is_binary() != binary]
        for v in changed:
            v.domain = domain
        if changed and self._started:
            self.opt.update_variables(changed)

    def size(self) -> tuple[int, int, int]:
        """(rows, columns, integer columns) as HiGHS holds the model; fixed variables excluded."""
        if not self._started:
            return model_size(self.model)
        h = self.opt._solver_model
        integrality = np.asarray(h.getLp().integrality_)
        return h.getNumRow(), h.getNumCol(), int(np.count_nonzero(integrality))

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

    def solve(self, *, build_seconds: float = 0.0, method: str = "monolithic_milp") -> SolveReport:
        """Solve; a solution is loaded into the model when one exists, whatever the status."""
        timer = HierarchicalTimer()
        started = time.perf_counter()
        res = self.opt.solve(self.model, timer=timer, auto_updates=_AUTO_UPDATES, **self.options)
        solve_seconds = time.perf_counter() - started
        self._started = True
        handoff = sum(_timer_total(timer, name) for name in ("set_instance", "update"))
        return _report(self, res, build_seconds, solve_seconds, handoff, method)


def _timer_total(timer: HierarchicalTimer, name: str) -> float:
    try:
        return timer.get_total_time(name)
    except (KeyError, RuntimeError):
        return 0.0


def _report(
    session: HighsSession,
    res,
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
    n_rows, n_cols, n_int = session.size()
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
    tee: bool = False,
) -> SolveReport:
    """Solve ``m`` once with HiGHS; a solution is loaded when one exists, whatever the status."""
    session = HighsSession(
        m, mip_rel_gap=mip_rel_gap, time_limit_s=time_limit_s, threads=threads, tee=tee
    )
    return session.solve(build_seconds=build_seconds, method=method)
