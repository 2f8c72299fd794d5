"""The component registry is the one place constraint families, elastic/reactive families,
linking states and the economics stack come from."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from tests_paths import EXAMPLE

from dcpower.case import load_case
from dcpower.optimization import dispatch_milp
from dcpower.optimization.components import REGISTRY
from dcpower.runner import prepare_inputs


@pytest.fixture(scope="module")
def inputs():
    return prepare_inputs(load_case(EXAMPLE))


@pytest.mark.parametrize("kw", [{}, {"elastic": True}, {"free_start": True}, {"per_unit": True}])
def test_every_row_belongs_to_a_declared_family(inputs, kw):
    m = dispatch_milp.build_dispatch_model(inputs, **kw)
    rows = {c.local_name for c in m.component_objects(pyo.Constraint, active=True)}
    assert rows <= set(dispatch_milp.FAMILIES), rows - set(dispatch_milp.FAMILIES)


def test_families_are_declared_once_and_derived(inputs):
    names = [n for c in REGISTRY for n in c.families]
    assert len(names) == len(set(names))
    assert set(dispatch_milp.CONSTRAINT_FAMILIES) == set(names) | set(
        dispatch_milp.BALANCE_FAMILIES
    )
    for name in dispatch_milp.ELASTIC_FAMILIES:
        assert dispatch_milp.FAMILIES[name].elastic
    assert "poi_pf_upper" in dispatch_milp.REACTIVE_FAMILIES


def test_objective_is_the_sum_of_the_declared_terms(inputs):
    m = dispatch_milp.build_dispatch_model(inputs)
    kinds = dispatch_milp.term_kinds(inputs)
    terms = dispatch_milp.objective_terms_by_step(m, inputs)
    assert list(terms) == list(kinds)
    assert all(k in ("revenue", "cost") for k in kinds.values())
    # any point: the objective equals the sum of the terms
    for v in m.component_data_objects(pyo.Var):
        if not v.fixed:
            v.set_value(1.0 if v.is_binary() else (v.lb or 0.0) + 0.5, skip_validation=True)
    total = sum(pyo.value(sum(parts)) for parts in terms.values())
    assert pyo.value(m.net_value) == pytest.approx(total, rel=1e-12)


def test_link_states_come_from_the_components(inputs):
    names = dispatch_milp.link_state_names(inputs)
    assert names[:3] == ["soc", "committed", "gen_mw"]
    assert names[3:] == ["starts_1"]  # 10 min delay at 60 min steps: one step
    m = dispatch_milp.build_dispatch_model(inputs, free_start=True)
    for name in names:
        assert dispatch_milp.link_state_start(m, name) is not None
        assert dispatch_milp.link_state_at(m, name, 5) is not None


@pytest.mark.slow
def test_rolling_year_economics_equal_objective():
    """A full 2016 year in 53 weekly windows (battery + Reg-Up/Down): the economics stack,
    summed from the objective's own terms over each window's kept steps, equals the objective
    and, line by line, the stack recomputed from the dispatch table (the invariants)."""
    import json

    from tests_paths import ROOT

    from dcpower.case import case_from_dict
    from dcpower.runner import run_case

    data = json.loads((ROOT / "config" / "cases" / "sweep_base_ercot_2016.json").read_text())
    data["gas_gen"]["units"] = 0
    data["market"]["reserve_products"] = ["REGUP", "REGDN"]
    data["reliability"]["ride_through_minutes"] = 0
    data["solver"].update({"mip_rel_gap": 0.01, "time_limit_s": 20})
    res = run_case(case_from_dict(data, base_dir=ROOT / "config" / "cases"))
    s, econ = res["solver"], res["economics"]
    assert s["windows"] == 53 and s["method"] == "rolling_horizon"
    assert econ["net_value_usd"] == pytest.approx(s["objective"], abs=0.01)
    assert econ["objective_usd"] == s["objective"]
    assert res["verification"]["violations"] == []
