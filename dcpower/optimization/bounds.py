"""Upper bounds on any dispatch's net value: the LP relaxation, and a proven Lagrangian bound.

The LP relaxation of the whole-horizon model bounds every feasible dispatch, but on sites where
gas units are committed to back reserves (N+1, spinning products) it credits fractional units
and can sit more than 1 % above the best dispatch. ``lagrangian_bound`` proves a tighter one:
the horizon is cut into blocks whose start state (SOC, units committed, output, recent starts)
is a free variable; the constraints that tie a block's start to the previous block's end are
moved into the objective, priced by the LP relaxation's duals. For any prices, the sum of the
blocks' MILP bounds bounds the whole horizon (weak duality); with the LP's optimal prices and
integer unit counts inside each block it is never above the LP bound.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import pyomo.environ as pyo

from dcpower.optimization import dispatch_milp, lp_matrix
from dcpower.optimization.inputs import DispatchInputs
from dcpower.optimization.solve import (
    HighsSession,
    SolveStatus,
    quiet_highs,
    relax_integrality,
)

logger = logging.getLogger(__name__)

#: A block's MIP stops at this fraction of the dispatch's relative gap: its dual bound is what
#: counts, so it is driven further than a dispatch window.
BOUND_GAP_FRACTION = 0.2


@dataclass
class LpBound:
    """Objective of the whole-horizon LP relaxation ($, an upper bound on any dispatch's net
    value) and its times in seconds: Pyomo build, hand-off (the model compiled to arrays and
    passed to HiGHS) and HiGHS's own solve. ``link_prices``: block start step → linking
    state → the LP's price of that state at the block boundary ($ per MWh, unit or MW), when
    asked for."""

    objective: float
    build_seconds: float
    handoff_seconds: float
    solve_seconds: float
    link_prices: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        """Build + hand-off + solve, s."""
        return self.build_seconds + self.handoff_seconds + self.solve_seconds


def _row_step(con, last: int) -> int:
    """The time step a constraint row belongs to (the last integer of its index)."""
    idx = con.index()
    if idx is None:  # scalar rows (the terminal SOC) belong to the last step
        return last
    if isinstance(idx, int):
        return idx
    return [i for i in idx if isinstance(i, int)][-1]


def _link_columns(m: pyo.ConcreteModel, boundaries: list[int]) -> dict[tuple[int, str], object]:
    """(boundary step b, linking state) → the model variable that is that state before b."""
    names = m.link_names
    out = {}
    for b in boundaries:
        for name in names:
            if b - dispatch_milp.starts_lag(name) >= 0 and not (
                name == "soc" and m.bess_soc[b - 1].fixed
            ):
                out[(b, name)] = dispatch_milp.link_state_at(m, name, b - 1)
    return out


def _link_rows(
    lp: lp_matrix.LpArrays, columns: dict[tuple[int, str], object], last: int
) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
    """(b, linking state) → (rows of steps ≥ b in which the state's variable appears, its
    coefficients there); no rows when the variable is not in the LP."""
    out = {}
    entries = lp_matrix.column_entries(lp)
    for key, var in columns.items():
        j = lp.col_of.get(id(var))
        if j is None:
            out[key] = (np.zeros(0, dtype=int), np.zeros(0))
            continue
        rows, coefs = entries(j)
        later = np.array([_row_step(lp.rows[i], last) >= key[0] for i in rows], dtype=bool)
        out[key] = (rows[later], coefs[later])
    return out


def lp_relaxation_bound(
    x: DispatchInputs, threads: int = 1, boundaries: list[int] | None = None
) -> LpBound:
    """Solve the LP relaxation of the whole-horizon model for its objective.

    The same Pyomo model as every solve (mode variables continuous, integers relaxed) goes to
    HiGHS as arrays (``lp_matrix``); no solution is mapped back. With ``boundaries``
    (block start steps) it also prices each linking state there: the row duals × coefficients
    of the state's variable over the rows of the steps from the boundary on.
    """
    t0 = time.perf_counter()
    m = dispatch_milp.build_dispatch_model(x, per_unit=False)  # a relaxation of per-unit
    relax_integrality(m)  # mode variables too
    t1 = time.perf_counter()
    h = quiet_highs()
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", 0)
    lp = lp_matrix.LpCompiler(m).compile()
    h.passModel(lp_matrix.to_highs(lp))
    link_rows = {}
    if boundaries:
        link_rows = _link_rows(lp, _link_columns(m, boundaries), x.n_steps - 1)
    del m, lp
    gc.collect()  # a Pyomo model is a web of cycles: free it before HiGHS allocates its own
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(
            f"the whole-horizon LP relaxation ended '{h.modelStatusToString(status)}' although a "
            "dispatch exists; report this case (numerical trouble in HiGHS)"
        )
    # price of each linking state: −Σ dual × coefficient over the later block's rows
    dual = np.asarray(h.getSolution().row_dual)
    prices: dict[int, dict[str, float]] = {b: {} for b in boundaries or ()}
    for (b, name), (rows, coefs) in link_rows.items():
        prices[b][name] = -float(dual[rows] @ coefs)
    return LpBound(
        objective=float(h.getInfo().objective_function_value),
        build_seconds=t1 - t0,
        handoff_seconds=t2 - t1,
        solve_seconds=t3 - t2,
        link_prices=prices,
    )


@dataclass
class ProvenBound:
    """A proven upper bound on the net value of any dispatch of the horizon, $."""

    objective: float
    seconds: float
    blocks: int
    blocks_time_limited: int  # blocks whose MIP stopped at the time limit (their bound counts)
    method: str
    lp: LpBound  # the whole-horizon LP whose duals priced the blocks


def block_boundaries(n_steps: int, block_steps: int) -> list[tuple[int, int]]:
    """[start, stop) of consecutive blocks of ``block_steps`` covering ``n_steps``."""
    return [(s, min(n_steps, s + block_steps)) for s in range(0, n_steps, block_steps)]


class _BlockModel:
    """A free-start model of one block length kept in HiGHS across blocks."""

    def __init__(self, x: DispatchInputs, opts: dict, relax: bool):
        self.model = dispatch_milp.build_dispatch_model(
            replace(x, binary_steps=frozenset()), free_start=True
        )
        if relax:
            relax_integrality(self.model)
        self.session = HighsSession(self.model, **opts)
        m = self.model
        start_vars = [m.soc_initial, m.gen_initial_committed, m.gen_initial_mw]
        #: (start-state variable, lower, upper) as built: what any dispatch can hand over
        self.free_start = [(v, v.lb, v.ub) for v in start_vars + list(m.gen_prior_starts.values())]

    def lp_value(self) -> float:
        """Objective of the block's LP relaxation (unit counts continuous), $."""
        ints = [v for v in self.model.component_data_objects(pyo.Var) if v.is_integer()]
        self.session.set_domain(ints, pyo.NonNegativeReals)
        try:
            # a block's LP takes well under a second; the MIP's limit may be far shorter
            report = self.session.solve(
                method="lagrangian_block_lp", time_limit_s=max(self.session.time_limit_s, 60.0)
            )
        finally:
            self.session.set_domain(ints, pyo.NonNegativeIntegers)
        if report.objective is None:
            raise RuntimeError(f"a bound block's LP ended {report.status.value}")
        return report.objective


def lagrangian_bound(
    x: DispatchInputs,
    opts: dict,
    block_steps: int,
    lp: LpBound | None = None,
    relax: bool = False,
) -> ProvenBound:
    """Proven upper bound on the net value of any dispatch of ``x``, $.

    Blocks of ``block_steps``; the first keeps the case's start state, the others start free
    and pay ``link_price`` for it, while the block before is credited the same price for its
    end state. Each block's MIP (mode variables relaxed, unit counts integer) runs to
    ``BOUND_GAP_FRACTION`` × the case's gap or its time limit, and its dual bound counts.
    ``lp``: the whole-horizon LP with prices at the block starts (solved when None);
    ``relax``: blocks as LPs too (then the bound equals the LP bound: a check of the prices).
    """
    started = time.perf_counter()
    blocks = block_boundaries(x.n_steps, block_steps)
    starts = [s for s, _ in blocks[1:]]
    if lp is None or any(s not in lp.link_prices for s in starts):
        lp = lp_relaxation_bound(x, opts["threads"], starts)
    block_opts = {**opts, "mip_rel_gap": opts["mip_rel_gap"] * BOUND_GAP_FRACTION}
    models: dict[int, _BlockModel] = {}
    total, limited = 0.0, 0
    for start, stop in blocks:
        first, last = start == 0, stop == x.n_steps
        xi = x.window(
            start,
            stop,
            soc_initial_mwh=x.soc_initial_mwh,
            gen_initial_committed=x.gen_initial_committed,
            gen_initial_mw=x.gen_initial_mw if first else 0.0,
            gen_prior_starts=x.gen_prior_starts if first else (),
            last=last,
        )
        if xi.n_steps not in models:
            models[xi.n_steps] = _BlockModel(xi, block_opts, relax)
        block = models[xi.n_steps]
        m = block.model
        dispatch_milp.load_window_data(m, xi)
        for name in m.LINKS:
            m.link_price_start[name] = 0.0 if first else lp.link_prices[start].get(name, 0.0)
            m.link_price_end[name] = 0.0 if last else lp.link_prices[stop].get(name, 0.0)
        _set_start_state(block, xi, fixed=first)
        block.session.push_parameters()
        report = block.session.solve(method="lagrangian_block")
        bound = report.best_bound
        if bound is None:  # the MIP stopped before its root: the block's LP bounds it too
            bound = block.lp_value()
        limited += report.status in (
            SolveStatus.TIME_LIMIT_FEASIBLE,
            SolveStatus.TIME_LIMIT_NO_SOLUTION,
        )
        total += bound
        logger.info("bound block from step %d: %.0f $ (%s)", start, bound, report.status.value)
    return ProvenBound(
        objective=min(total, lp.objective) if not relax else total,
        seconds=time.perf_counter() - started,
        blocks=len(blocks),
        blocks_time_limited=limited,
        method=f"lagrangian_{block_steps}_step_blocks_lp_prices",
        lp=lp,
    )


def _set_start_state(block: _BlockModel, xi: DispatchInputs, fixed: bool) -> None:
    """Fix the start-state variables to ``xi``'s state (the case's first block) or free them
    within what any dispatch can hand over."""
    if not fixed:
        block.session.set_bounds(block.free_start)
        return
    m = block.model
    values = [
        xi.soc_initial_mwh,
        xi.gen_initial_committed,
        xi.gen_initial_mw or 0.0,
        *(dispatch_milp.prior_starts(xi, k) for k in m.gen_prior_starts),
    ]
    block.session.set_bounds(
        [(v, value, value) for (v, _, _), value in zip(block.free_start, values, strict=True)]
    )
