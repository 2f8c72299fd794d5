"""The solve path's hand-off (``lp_matrix``: the model as arrays in one ``passModel``) and the
provably non-binding reactive rows it leaves out (``pruning``)."""

from __future__ import annotations

import json

import numpy as np
import pyomo.environ as pyo
import pytest
from conftest import EXAMPLE_CASE
from pyomo.contrib.solver.solvers.highs import Highs
from pyomo.core.expr.visitor import identify_variables

from dcpower.case import case_from_dict
from dcpower.invariants import check_invariants
from dcpower.optimization import dispatch_milp, explain, pruning, reactive, strategies
from dcpower.optimization.solve import HighsSession, relax_integrality
from dcpower.runner import prepare_inputs, run_case

OPTS = {"mip_rel_gap": 1e-6, "time_limit_s": 60, "threads": 1}
Q_VARS = ("poi_q", "bess_q", "gen_q", "poi_q_excess")


def _example(days: int = 2, **sections) -> dict:
    data = json.loads(EXAMPLE_CASE.read_text())
    data["horizon"]["end"] = f"2023-07-{10 + days:02d}"
    for name, values in sections.items():
        data[name].update(values)
    return data


def _lp_objective(x, prune: bool) -> float:
    m = dispatch_milp.build_dispatch_model(x, prune=prune)
    relax_integrality(m)
    report = HighsSession(m, **OPTS).solve(method="lp")
    return report.objective


def test_arrays_solve_like_pyomos_persistent_interface():
    """A model with ranged rows, constants in bodies, fixed variables, mutable parameters in
    bounds, coefficients, costs and a named expression: the arrays give HiGHS the optimum
    Pyomo's own HiGHS interface gives, before and after the parameters change (a cached named
    expression with old parameter values fails this)."""
    m = pyo.ConcreteModel()
    m.p = pyo.Param([0, 1], mutable=True, initialize={0: 2.0, 1: 3.0})
    m.x = pyo.Var([0, 1, 2], bounds=(0, 10))
    m.y = pyo.Var(bounds=(0, m.p[1]))
    m.z = pyo.Var(within=pyo.Integers, bounds=(-5, 5))
    m.f = pyo.Var(initialize=1.5)
    m.f.fix()
    m.r1 = pyo.Constraint(expr=pyo.inequality(1, m.x[0] + 2 * m.x[1] - m.f + 3, 12))
    m.r2 = pyo.Constraint(expr=m.p[0] * m.x[2] + m.y - m.z >= m.p[1])
    m.e = pyo.Expression(expr=m.p[1] - m.x[2])  # named: compiled once per walk, then cached
    m.r3 = pyo.Constraint(expr=m.x[0] + m.x[1] + m.x[2] + m.y + m.z == 7 + m.f)
    m.r4 = pyo.Constraint(expr=m.x[1] <= m.e + 4)
    m.obj = pyo.Objective(expr=m.p[0] * m.x[0] - m.x[1] + 0.5 * m.y - 0.1 * m.z + 4)

    def reference() -> float:
        res = Highs().solve(m, load_solutions=False)
        return res.incumbent_objective

    session = HighsSession(m, **OPTS)
    assert session.solve().objective == pytest.approx(reference(), rel=1e-12, abs=1e-9)
    assert len(session.lp.rows) == 4  # the ranged row is one row
    m.p[0], m.p[1] = -1.0, 0.5  # cost, coefficient, rhs and a column bound change
    session.push_parameters()
    assert session.solve().objective == pytest.approx(reference(), rel=1e-12, abs=1e-9)
    fresh = HighsSession(m, **OPTS)
    fresh.solve()
    held, new = session.highs.getLp(), fresh.highs.getLp()
    for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        np.testing.assert_array_equal(getattr(held, name), getattr(new, name), err_msg=name)


def test_binding_from_arrays_after_a_coefficient_leaves_the_matrix():
    """A parameter that multiplies a column and goes to 0 removes a matrix entry: the binding
    report kept for the compiled rows must read the re-laid matrix, not the first layout."""
    m = pyo.ConcreteModel()
    m.T = pyo.Set(initialize=[0])
    m.p = pyo.Param(mutable=True, initialize=2.0)
    m.x = pyo.Var(bounds=(0, 10))
    m.y = pyo.Var(bounds=(0, 10))
    m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.p * m.x + m.y <= 6)
    m.obj = pyo.Objective(expr=m.x + m.y, sense=pyo.maximize)
    session = HighsSession(m, **OPTS)
    session.solve()
    index = explain.row_index(m, session.lp)  # kept across parameter changes, as the solver does
    m.p = 0.0  # x leaves the row: 0·x + y ≤ 6
    session.push_parameters()
    session.solve()
    lp = session.lp
    assert len(lp.value) == 1  # the entry of x is gone
    values = np.array([v.value for v in lp.columns])
    found = explain.binding_from_arrays(lp, index, values)
    assert {t: sorted(names) for t, names in found.items()} == {0: ["cap"]}
    assert explain.binding_constraints(m) == {0: ["cap"]}
    assert m.y.value == pytest.approx(6.0) and m.x.value == pytest.approx(10.0)


def test_pruning_keeps_the_optimum_and_the_explanations():
    """Two days of the example site (N+1, five AS products): the LP with the reactive rows left
    out has the optimum of the full model, no active row holds a Q variable, and at the MILP
    solution the binding families (final Q; pruned facets checked numerically) are those the
    full model's rows give at the same point."""
    x = prepare_inputs(case_from_dict(_example()))
    assert pruning.reactive_rows_redundant(x)
    assert _lp_objective(x, prune=True) == pytest.approx(_lp_objective(x, prune=False), rel=1e-9)
    solver = strategies.WindowSolver(x, OPTS, relax=False, selective=True)
    m = solver.model
    assert m.reactive_pruned and not hasattr(m, "transformer_mva") and not hasattr(m, "pcs_mva")
    for con in m.component_data_objects(pyo.Constraint, active=True):
        names = {v.parent_component().local_name for v in identify_variables(con.body)}
        assert not names & set(Q_VARS), con.name
    report = solver.solve(x, "monolithic_milp")
    full = dispatch_milp.build_dispatch_model(x, prune=False, per_unit=m.gen_per_unit)
    assert not full.reactive_pruned and len(full.transformer_deployed_down) > 0
    for v in m.component_data_objects(pyo.Var):
        full.find_component(v.name).set_value(v.value, skip_validation=True)
    reactive.dispatch_reactive(full, x)
    assert solver.binding() == explain.binding_constraints(full)
    assert report.n_rows < len(list(full.component_data_objects(pyo.Constraint))) / 2


def test_pruning_is_refused_where_reactive_rows_can_bind(monkeypatch):
    """A PCS rated at the BESS's power cannot carry the load's Q at full power, and a POI
    limit above the transformer's MVA can reach the polygon at Q = 0: no pruning. Forcing it
    anyway (the proof broken on purpose) gives a different optimum, so the check matters."""
    tight = _example(1, bess={"pcs_mva": 100}, transformer={"rating_mva": 90})
    x = prepare_inputs(case_from_dict(tight))
    assert not pruning.reactive_rows_redundant(x)
    assert not dispatch_milp.build_dispatch_model(x).reactive_pruned
    for limit in (170, 160):  # above, or at, the transformer's 160 MVA (no room for a probe)
        poi = prepare_inputs(case_from_dict(_example(1, poi={"import_limit_mw": limit})))
        assert not pruning.reactive_rows_redundant(poi)
    honest = _lp_objective(x, prune=True)
    monkeypatch.setattr(pruning, "reactive_rows_redundant", lambda *a, **k: True)
    forced = _lp_objective(x, prune=True)
    assert forced > honest + 1.0  # the relaxation without the rows is worth more: rows bind


def test_a_pruned_run_passes_every_invariant():
    """The results' own checks (transformer, PCS and gen MVA recomputed from P and the final
    Q, PF at the POI, balances) hold on a pruned rolling run of the example site."""
    res = run_case(
        case_from_dict(_example(3, solver={"method": "rolling_horizon", "window_days": 1}))
    )
    assert check_invariants(res) == []
