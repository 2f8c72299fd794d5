"""The LP relaxation of the same model bounds the MILP; time limits are flagged, not hidden."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLE_CASE

from dcpower.case import case_from_dict
from dcpower.runner import SolverFailedError, run_case


@pytest.fixture(scope="module")
def two_day_case():
    data = json.loads(EXAMPLE_CASE.read_text())
    data["horizon"]["end"] = "2023-07-12"
    return case_from_dict(data)


def test_lp_relaxation_bounds_milp(two_day_case):
    milp = run_case(two_day_case)
    lp = run_case(two_day_case, relax=True)
    assert lp["solver"]["method"] == "lp_relaxation" and lp["solver"]["n_integer"] == 0
    assert lp["solver"]["lp_bound"] == pytest.approx(lp["economics"]["net_value_usd"], abs=0.01)
    # maximisation: the relaxation can only be better
    assert lp["solver"]["objective"] >= milp["solver"]["objective"] - 1e-6
    assert milp["solver"]["best_bound"] <= lp["solver"]["objective"] + 1e-3 * abs(
        lp["solver"]["objective"]
    )


def test_time_limit_is_flagged(two_day_case):
    try:
        res = run_case(two_day_case, time_limit_s=0.05, mip_rel_gap=0.0)
    except SolverFailedError as exc:
        assert "time_limit" in str(exc)
        return
    s = res["solver"]
    if s["status"] == "optimal":  # solved inside the limit: nothing to flag
        assert s["mip_gap"] <= 1e-6 and not s["time_limit_reached"]
    else:
        assert s["status"] == "time_limit_feasible" and s["time_limit_reached"]
        assert "time limit" in s["warning"] and s["mip_gap"] is not None
