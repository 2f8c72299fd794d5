"""Grid emergency events: the cap holds at every event step (checked from the results alone),
load is shed in VoLL order, gas covers it when installed; bad input; the shipped catalogue on
the hourly grid; the SB 6 screen by hand."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import small_site, solve_dict, write_tidy_prices

from dcpower import event_sections
from dcpower import events as grid_events
from dcpower.case import CaseError, case_from_dict
from dcpower.invariants import check_invariants
from dcpower.results import records_to_frame

# 18:00–21:00 CDT on 11 July 2023 = 23:00Z to 02:00Z: three hourly steps
EVENT = {
    "name": "test_evening",
    "start": "2023-07-11T18:00-05:00",
    "end": "2023-07-11T21:00-05:00",
    "cap_mw": 0.0,
    "source": "hand-made test event",
}
LOAD = {
    "profile_mw": 80.0,
    "critical_fraction": 0.25,
    "flexible_fraction": 0.25,
    "flexible_curtailment_usd_per_mwh": 500.0,
    "power_factor": 1.0,
}


@pytest.fixture(scope="module")
def prices(tmp_path_factory):
    path = tmp_path_factory.mktemp("events") / "prices.csv"
    hours = 72
    return write_tidy_prices(path, "2023-07-10T00:00", [30.0 + (h % 24) for h in range(hours)])


def _site(prices, cap_mw: float = 0.0, **overrides) -> dict:
    event = {**EVENT, "cap_mw": cap_mw}
    return small_site(prices, "2023-07-10", "2023-07-13", load=LOAD, events=[event], **overrides)


def _event_steps(results: dict) -> np.ndarray:
    d = records_to_frame(results["dispatch"])
    ev = grid_events.resolve(case_from_dict(results["case"]).events)[0]
    return grid_events.step_mask(ev, d.index, 60)


@pytest.mark.parametrize(
    ("cap", "flexible", "other", "critical"),
    [(30.0, 20.0, 30.0, 0.0), (10.0, 20.0, 40.0, 10.0), (0.0, 20.0, 40.0, 20.0)],
)
def test_cap_without_gas_or_bess_sheds_flexible_then_other_then_critical(
    prices, cap, flexible, other, critical
):
    r = solve_dict(_site(prices, cap))
    assert r["verification"]["violations"] == []
    d = records_to_frame(r["dispatch"])
    on = _event_steps(r)
    assert on.sum() == 3
    # the cap: 80 MW of load, at most `cap` MW from the grid; the rest is shed in VoLL order
    np.testing.assert_allclose(d["grid_import_mw"][on], cap, atol=1e-6)
    np.testing.assert_allclose(d["flexible_curtailed_mw"][on], flexible, atol=1e-6)
    np.testing.assert_allclose(d["noncritical_unserved_mw"][on], other, atol=1e-6)
    np.testing.assert_allclose(d["critical_unserved_mw"][on], critical, atol=1e-6)
    assert d["load_unserved_mw"][~on].abs().max() < 1e-6  # nothing shed outside the event
    (ev,) = r["events"]
    assert ev["steps"] == 3 and ev["cap_mw"] == cap
    assert ev["curtailed_mwh"]["critical"] == pytest.approx(3 * critical, abs=1e-6)
    assert ev["critical_shed"] is (critical > 0)
    assert ev["max_net_withdrawal_mw"] <= cap + 1e-6
    # the event's VoLL and curtailment cost by hand: 3 h × MW × $/MWh
    voll = 3 * (other * 2000.0 + critical * 10000.0)
    assert ev["operating_cost_usd"]["voll"] == pytest.approx(voll, rel=1e-9)
    assert ev["operating_cost_usd"]["flexible_curtailment"] == pytest.approx(3 * 20 * 500.0)
    assert any("critical load shed" in w for w in r["warnings"]) is (critical > 0)


def test_gas_units_cover_the_event_and_no_load_is_shed(prices):
    gas = {
        "units": 2,
        "unit_mw": 50.0,
        "min_stable_fraction": 0.4,
        "ramp_mw_per_min": 10.0,
        "fuel_cost_usd_per_mwh": 60.0,
    }
    r = solve_dict(_site(prices, 0.0, gas_gen=gas))
    assert r["verification"]["violations"] == []
    d = records_to_frame(r["dispatch"])
    on = _event_steps(r)
    net = (d["grid_import_mw"] - d["grid_export_mw"]).to_numpy()
    assert net[on].max() <= 1e-6
    assert d["load_unserved_mw"].abs().max() < 1e-6
    assert d["gen_mw"][on].min() >= 80.0 - 1e-6  # the units carry the whole load
    (ev,) = r["events"]
    assert not ev["critical_shed"]
    assert ev["self_supply_mwh"]["gen"] >= 240.0 - 1e-6
    assert ev["operating_cost_usd"]["fuel"] >= 240.0 * 60.0 - 1e-6


def test_rolling_horizon_windows_keep_the_cap(prices):
    solver = {"method": "rolling_horizon", "window_days": 1, "lookahead_days": 1}
    bess = {"power_mw": 40, "energy_mwh": 160, "pcs_mva": 40}
    r = solve_dict(_site(prices, 0.0, bess=bess, solver=solver))
    assert r["solver"]["windows"] >= 2
    assert r["verification"]["violations"] == []
    d = records_to_frame(r["dispatch"])
    on = _event_steps(r)
    assert (d["grid_import_mw"] - d["grid_export_mw"])[on].max() <= 1e-6
    assert np.isnan(d["event_cap_mw"][~on]).all() and (d["event_cap_mw"][on] == 0).all()


def test_invariant_catches_a_withdrawal_above_the_cap(prices):
    r = solve_dict(_site(prices, 30.0))
    assert check_invariants(r) == []
    broken = copy.deepcopy(r)
    on = np.flatnonzero(_event_steps(r))
    row = broken["dispatch"][int(on[1])]
    row["grid_import_mw"] += 5.0  # 35 MW from the grid against a 30 MW cap
    row["load_served_mw"] += 5.0
    row["load_unserved_mw"] -= 5.0
    row["noncritical_unserved_mw"] -= 5.0
    problems = check_invariants(broken)
    assert any(p.startswith("event_cap_test_evening: violated at 1 step") for p in problems)


def test_bad_event_input_names_the_field_and_the_fix(prices):
    def problems(events) -> str:
        with pytest.raises(CaseError) as err:
            case_from_dict(small_site(prices, "2023-07-10", "2023-07-13", events=events))
        return str(err.value)

    msg = problems(["ercot_2022_nope"])
    assert "$.events" in msg and "ercot_2021_uri" in msg and "ercot_2023_09_06_eea2" in msg
    assert "end must be after start" in problems([{**EVENT, "end": EVENT["start"]}])
    msg = problems([{**EVENT, "start": "2023-07-11T18:00"}])
    assert "$.events[0].start" in msg and "UTC offset" in msg
    assert "outside the horizon" in problems(["ercot_2021_uri"])
    assert "more than once" in problems([EVENT, EVENT])
    assert "$.events[0].cap_mw" in problems([{**EVENT, "cap_mw": -1.0}])


def test_shipped_events_map_onto_the_hourly_grid():
    cat = grid_events.catalogue()
    # Uri: 01:25 CST 15 Feb → 09:00 CST 19 Feb 2021 = 07:25Z → 15:00Z; hours starting
    # 07:00Z on the 15th to 14:00Z on the 19th (partly covered first hour counts)
    grid = pd.date_range("2021-02-01", "2021-03-01", freq="60min", tz="UTC", inclusive="left")
    on = grid_events.step_mask(cat["ercot_2021_uri"], grid, 60)
    assert grid[on][0] == pd.Timestamp("2021-02-15T07:00Z")
    assert grid[on][-1] == pd.Timestamp("2021-02-19T14:00Z")
    assert on.sum() == 4 * 24 + 8
    # 6 Sept 2023 EEA: 19:25 → 20:37 CDT = 00:25Z → 01:37Z on the 7th: two hourly steps
    grid = pd.date_range("2023-09-06", "2023-09-08", freq="60min", tz="UTC", inclusive="left")
    on = grid_events.step_mask(cat["ercot_2023_09_06_eea2"], grid, 60)
    assert list(grid[on]) == [pd.Timestamp("2023-09-07T00:00Z"), pd.Timestamp("2023-09-07T01:00Z")]
    assert all(ev.cap_mw == 0.0 for ev in cat.values())


def test_sb6_screen_by_hand(prices):
    idx = pd.date_range("2023-07-10", periods=4, freq="60min", tz="UTC")
    d = pd.DataFrame({"load_mw": [60.0, 80.0, 100.0, 90.0]}, index=idx)
    gas = {"units": 2, "unit_mw": 22.5, "ramp_mw_per_min": 1.0, "fuel_cost_usd_per_mwh": 50.0}
    bess = {"power_mw": 10, "energy_mwh": 40, "pcs_mva": 10}
    case = case_from_dict(small_site(prices, "2023-07-10", "2023-07-13", gas_gen=gas, bess=bess))
    s = event_sections.sb6_section(case, d)
    # peak 100 MW ≥ 75 MW: the screen applies; 45 MW of gas vs 50 % of load = 30, 40, 50, 45
    assert s["applies"] and s["peak_load_mw"] == 100.0
    assert not s["gas_only"]["passes"]
    assert s["gas_only"]["hours_short"] == 1.0 and s["gas_only"]["worst_shortfall_mw"] == 5.0
    assert s["gas_only"]["first_short_utc"] == "2023-07-10T02:00:00Z"
    assert s["gas_plus_bess_info"]["passes"]  # 55 MW ≥ 50 MW at every step
    small = event_sections.sb6_section(case, d * 0.5)
    assert not small["applies"] and small["gas_only"]["passes"]


def test_solved_case_reports_the_sb6_screen(prices):
    r = solve_dict(_site(prices, 30.0))
    s = r["sb6"]
    assert s["applies"] and s["peak_load_mw"] == 80.0
    assert not s["gas_only"]["passes"] and s["gas_only"]["hours_short"] == 72.0
    assert s["gas_only"]["worst_shortfall_mw"] == 40.0
