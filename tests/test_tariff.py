"""Transmission coincident-peak charge (``case.tariff``): known answers, the charge recomputed
from the dispatch at the official intervals, causal alerts, 12CP on 15-min steps, rolling
windows whose CP intervals fall in different windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_site, solve_dict, write_tidy_prices

from dcpower.case import CoincidentPeakAlert
from dcpower.tariff import INTERVALS_FILE, alert_hours, read_intervals

RATE_2025 = 68.547301  # $/kW-yr, charges for 2025, set by the 2024 4CP (shipped rate file)
LOAD_MW = 10.0


def _site(tmp_path, start, end, minutes=60, **over):
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days
    n = days * 24 * 60 // minutes + 4  # DST margin
    prices = write_tidy_prices(tmp_path / "p.csv", start, [30.0] * n, minutes=minutes)
    case = small_site(
        prices,
        start,
        end,
        load={"profile_mw": LOAD_MW, "critical_fraction": 1.0, "power_factor": 1.0},
        reliability={
            "voll_critical_usd_per_mwh": 1_000_000,
            "ride_through_minutes": 0,
            "n_plus_1": False,
        },
        **{k: v for k, v in over.items() if k != "tariff"},
    )
    if "tariff" in over:
        case["tariff"] = over["tariff"]
    case["horizon"]["timestep_minutes"] = minutes
    if minutes != 60:
        case["market"]["energy_market"] = "rtm"
    return case


BIG_BESS = {
    "power_mw": 20,
    "energy_mwh": 80,
    "pcs_mva": 20,
    "soc_initial_fraction": 0.5,
    "degradation_cost_usd_per_mwh": 0.0,
}


def _official(year, month):
    iv = read_intervals(INTERVALS_FILE)
    return iv[(iv["year"] == year) & (iv["month"] == month)].iloc[0]


def _by_hand(res, year, month, rate, per_year=4):
    """rate × withdrawal in the dispatch step that contains the official interval / N."""
    d = pd.DataFrame(res["dispatch"]).set_index("timestamp")
    start = _official(year, month)["start_utc"].floor("h").strftime("%Y-%m-%dT%H:%M:%SZ")
    row = d.loc[start]
    return rate * 1000 * max(0.0, row["grid_import_mw"] - row["grid_export_mw"]) / per_year


def test_unavoidable_peak_pays_rate_times_load(tmp_path):
    case = _site(tmp_path, "2024-08-20", "2024-08-21", tariff={"response": "perfect_foresight"})
    res = solve_dict(case)
    assert res["verification"]["violations"] == []
    line = res["economics"]["costs_usd"]["transmission_cp_charge_usd"]
    assert line == pytest.approx(RATE_2025 * 1000 * LOAD_MW / 4, rel=1e-9)
    assert line == pytest.approx(_by_hand(res, 2024, 8, RATE_2025), rel=1e-9)
    t = res["tariff"]
    inside = [r for r in t["intervals"] if r["in_horizon"]]
    assert len(inside) == 1 and inside[0]["site_withdrawal_mw"] == pytest.approx(LOAD_MW)
    assert t["rate"]["by_cp_year"]["2024"]["charges_for_year"] == 2025
    econ = res["economics"]
    stack = sum(econ["revenues_usd"].values()) - sum(econ["costs_usd"].values())
    assert stack == pytest.approx(econ["net_value_usd"], abs=0.01)


def test_big_battery_with_perfect_foresight_pays_nothing(tmp_path):
    case = _site(tmp_path, "2024-08-20", "2024-08-21", bess=BIG_BESS, tariff={})
    res = solve_dict(case)
    assert res["verification"]["violations"] == []
    assert res["economics"]["costs_usd"]["transmission_cp_charge_usd"] == pytest.approx(0, abs=1)
    # the same site without response pays the full charge, settled after the solve
    case["tariff"] = {"response": "none"}
    none = solve_dict(case)
    assert none["verification"]["violations"] == []
    assert none["tariff"]["charge_in_objective"] is False
    assert none["economics"]["costs_usd"]["transmission_cp_charge_usd"] == pytest.approx(
        RATE_2025 * 1000 * LOAD_MW / 4, rel=1e-6
    )


def test_user_rate_and_no_cp_month(tmp_path):
    case = _site(tmp_path, "2024-05-01", "2024-05-02", tariff={"rate_usd_per_kw_yr": 50.0})
    res = solve_dict(case)
    assert res["economics"]["costs_usd"]["transmission_cp_charge_usd"] == 0.0
    assert res["tariff"]["intervals"] == []


def test_invariant_catches_a_wrong_charge(tmp_path):
    from dcpower.invariants import check_invariants

    res = solve_dict(_site(tmp_path, "2024-08-20", "2024-08-21", tariff={"response": "none"}))
    res["economics"]["costs_usd"]["transmission_cp_charge_usd"] *= 0.5
    assert any("transmission_cp_charge_usd" in v for v in check_invariants(res))


def test_alerts_are_causal():
    idx = pd.date_range("2024-07-01 05:00", periods=24 * 20, freq="h", tz="UTC")
    rng = np.random.default_rng(1)
    load = pd.Series(60_000 + 10_000 * rng.random(len(idx)), index=idx)
    for lag in (0, 1, 2):
        alert = CoincidentPeakAlert(threshold_fraction=0.95, known_lag_hours=lag)
        base = alert_hours(load, alert, [7], "America/Chicago")
        assert base.any()
        for h in (50, 200, 333):
            changed = load.copy()
            changed.iloc[h + 1 :] = rng.random(len(idx) - h - 1) * 90_000
            again = alert_hours(changed, alert, [7], "America/Chicago")
            assert (again.iloc[: h + 1 + lag] == base.iloc[: h + 1 + lag]).all()


def test_alert_policy_caps_withdrawal_and_settles_at_official_interval(tmp_path):
    gas = {
        "units": 2,
        "unit_mw": 10,
        "ramp_mw_per_min": 5.0,
        "fuel_cost_usd_per_mwh": 40.0,
        "start_delay_minutes": 0,
    }
    case = _site(
        tmp_path,
        "2024-08-19",
        "2024-08-22",
        gas_gen=gas,
        tariff={"response": "alert", "alert": {"threshold_fraction": 0.97}},
    )
    res = solve_dict(case)
    assert res["verification"]["violations"] == []
    t = res["tariff"]
    a = t["alert"]
    assert a["hours_total"] > 0 and sum(a["hours_per_month"].values()) == a["hours_total"]
    d = pd.DataFrame(res["dispatch"])
    on = d["cp_alert"] > 0.5
    assert on.sum() == a["hours_total"]
    assert (d.loc[on, "grid_import_mw"] - d.loc[on, "grid_export_mw"]).max() <= 1e-6
    line = res["economics"]["costs_usd"]["transmission_cp_charge_usd"]
    assert line == pytest.approx(_by_hand(res, 2024, 8, RATE_2025), abs=0.01)
    assert a["intervals_covered"] + len(a["intervals_missed"]) == a["intervals_in_horizon"] == 1
    if a["intervals_covered"]:
        assert line == pytest.approx(0.0, abs=0.01)
    assert a["during_alerts_mwh"]["gen"] > 0
    econ = res["economics"]
    assert econ["net_value_usd"] == pytest.approx(econ["objective_usd"] - line, abs=0.01)


def test_12cp_30_minute_intervals_on_15_minute_steps(tmp_path):
    start = pd.Timestamp("2024-08-20 21:45", tz="UTC")  # 16:45 CDT, half past a 15-min step
    iv = pd.DataFrame(
        {
            "interval_start_utc": [start.strftime("%Y-%m-%dT%H:%M:%SZ")],
            "interval_end_utc": [(start + pd.Timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")],
        }
    )
    iv.to_csv(tmp_path / "cp.csv", index=False)
    bess = {
        "power_mw": 10,
        "energy_mwh": 2.5,
        "pcs_mva": 10,
        "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0,
        "soc_initial_fraction": 1.0,
        "soc_final_min_fraction": 0.0,
        "degradation_cost_usd_per_mwh": 0.0,
    }
    tariff = {
        "rule": "12cp",
        "intervals_source": "official",
        "intervals_file": str(tmp_path / "cp.csv"),
        "rate_usd_per_kw_yr": 60.0,
    }
    case = _site(tmp_path, "2024-08-20", "2024-08-21", minutes=15, bess=bess, tariff=tariff)
    res = solve_dict(case)
    assert res["verification"]["violations"] == []
    t = res["tariff"]
    assert t["rule"]["interval_minutes"] == 30 and t["rule"]["intervals_per_year"] == 12
    # 2.5 MWh covers one 15-min step of the 30-min interval: mean withdrawal 5 MW
    assert t["intervals"][0]["site_withdrawal_mw"] == pytest.approx(LOAD_MW / 2, abs=1e-6)
    assert res["economics"]["costs_usd"]["transmission_cp_charge_usd"] == pytest.approx(
        60.0 * 1000 * LOAD_MW / 2 / 12, rel=1e-6
    )


def test_rolling_windows_price_intervals_in_different_windows(tmp_path):
    """2024's June (30 Jun 17:30 CDT) and July (1 Jul 16:45 CDT) CPs fall in consecutive
    one-day windows: each window prices its own interval, nothing is carried across."""
    solver = {"method": "rolling_horizon", "window_days": 1, "lookahead_days": 0}
    case = _site(tmp_path, "2024-06-30", "2024-07-02", solver=solver, tariff={})
    res = solve_dict(case)
    assert res["solver"]["windows"] == 2 and res["verification"]["violations"] == []
    line = res["economics"]["costs_usd"]["transmission_cp_charge_usd"]
    assert line == pytest.approx(RATE_2025 * 1000 * LOAD_MW * 2 / 4, rel=1e-9)
    case["bess"] = BIG_BESS
    res = solve_dict(case)
    assert res["solver"]["windows"] == 2 and res["verification"]["violations"] == []
    assert res["economics"]["costs_usd"]["transmission_cp_charge_usd"] == pytest.approx(0, abs=1)
    assert [r["site_withdrawal_mw"] for r in res["tariff"]["intervals"]] == pytest.approx(
        [0.0, 0.0], abs=1e-4
    )


def test_missing_official_intervals_is_an_input_problem(tmp_path):
    from dcpower.case import case_from_dict
    from dcpower.runner import input_problems

    case = _site(tmp_path, "2021-07-01", "2021-07-02", tariff={})
    problems = input_problems(case_from_dict(case))
    assert [p for p, _ in problems] == ["$.tariff"]
    assert "2021-07" in problems[0][1] and "system_load_peaks" in problems[0][1]
    case["tariff"] = {"intervals_source": "system_load_peaks", "rate_usd_per_kw_yr": 50.0}
    assert input_problems(case_from_dict(case)) == []
