"""Economics name the terms settled after the solve: a 4CP charge with response ``none`` (or
``alert``) is in the cost stack but not in the solver's objective, by exactly its amount."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import solve_dict
from tests_paths import ROOT

from dcpower.invariants import check_invariants

TERM = "transmission_cp_charge_usd"


def _cp_day(response: str) -> dict:
    """2024-08-20 (the August 4CP interval, 16:45 CDT) of the 2024 base case without gas and
    with a 20 MW battery: the 100 MW site imports at the interval."""
    case = json.loads((ROOT / "config" / "cases" / "sweep_base_ercot_2024.json").read_text())
    case["gas_gen"]["units"] = 0
    case["bess"].update(
        {"power_mw": 20, "energy_mwh": 80, "pcs_mva": 22, "market_soc_reserve_mwh": 0}
    )
    case["horizon"].update({"start": "2024-08-20", "end": "2024-08-21"})
    case["tariff"]["response"] = response
    case["solver"]["method"] = "monolithic"
    return case


def test_a_charge_settled_after_the_solve_is_named():
    res = solve_dict(_cp_day("none"))
    econ = res["economics"]
    charge = econ["costs_usd"][TERM]
    assert charge > 0  # the site withdraws at the August interval
    assert econ["settled_after_solve_usd"] == {TERM: charge}
    assert econ["objective_usd"] - charge == pytest.approx(econ["net_value_usd"], abs=0.01)
    assert res["verification"]["violations"] == []
    bad = copy.deepcopy(res)
    bad["economics"]["settled_after_solve_usd"] = {}
    assert any("settled_after_solve_usd" in v for v in check_invariants(bad))


def test_a_charge_in_the_objective_is_not_settled_after():
    res = solve_dict(_cp_day("perfect_foresight"))
    econ = res["economics"]
    assert econ["costs_usd"][TERM] >= 0
    assert econ["settled_after_solve_usd"] == {}
    assert econ["objective_usd"] == pytest.approx(econ["net_value_usd"], abs=0.01)
    assert res["verification"]["violations"] == []
