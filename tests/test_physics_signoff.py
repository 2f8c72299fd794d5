"""Numbers an engineer can sign: known answers and first-principles checks of the physics
that the model's own rows could get wrong (MVA, reactive split, reserve delivery, start delay,
rolling economics), and the invariant checker catching each kind of broken result."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from conftest import small_site, solve_dict, write_tidy_prices

from dcpower.invariants import check_invariants
from dcpower.results import records_to_frame
from dcpower.topology.polygon import facet_coefficients, q_range_mvar

BESS_100 = {
    "power_mw": 100,
    "energy_mwh": 400,
    "charge_efficiency": 0.95,
    "discharge_efficiency": 0.95,
    "soc_initial_fraction": 1.0,
    "soc_final_min_fraction": 0.0,
    "pcs_mva": 100,
    "degradation_cost_usd_per_mwh": 0.0,
}


def test_polygon_vertex_on_p_axis():
    for k in (8, 12, 16, 32):
        lo, hi = q_range_mvar(np.array([100.0]), 100.0, k)
        assert lo[0] == pytest.approx(0.0, abs=1e-9) and hi[0] == pytest.approx(0.0, abs=1e-9)
        assert max(a * 100 for a, _, s in facet_coefficients(k)) <= 100 * math.cos(math.pi / k)


def test_pcs_of_rated_mva_discharges_rated_mw(tmp_path):
    """100 MW / 100 MVA PCS, full battery, one 200 $/MWh hour: it sells 100 MW (not 98.08)."""
    prices = [10.0] * 24
    prices[18] = 200.0
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    res = solve_dict(small_site(pf, "2023-07-10", "2023-07-11", bess=BESS_100))
    d = records_to_frame(res["dispatch"])
    assert d["bess_discharge_mw"].iloc[18] == pytest.approx(100.0, abs=1e-6)
    assert res["verification"]["violations"] == []


def test_start_delay_is_explained_while_units_wait(tmp_path):
    """A unit started 1 h ahead of a 2000 $/MWh hour waits out its 60 min start delay while the
    site imports at 2000 $/MWh: the delay is what binds there, and the results say so."""
    prices = [20.0] * 24
    prices[11] = prices[12] = 2000.0
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    case = small_site(
        pf,
        "2023-07-10",
        "2023-07-11",
        load={"profile_mw": 20.0, "critical_fraction": 0.0, "power_factor": 1.0},
        gas_gen={
            "units": 1,
            "unit_mw": 20,
            "start_delay_minutes": 60,
            "ramp_mw_per_min": 5.0,
            "fuel_cost_usd_per_mwh": 35,
            "start_cost_usd": 100,
        },
    )
    res = solve_dict(case)
    d = records_to_frame(res["dispatch"])
    waiting = np.flatnonzero(d["gen_units_committed"] > d["gen_units_producing"] + 0.5)
    assert len(waiting) >= 1 and d["gen_mw"].iloc[12] == pytest.approx(20.0)
    rows = {r["step"]: r["families"] for r in res["explainability"]["binding_constraints"]}
    for t in waiting:
        assert "gen_start_delay" in rows[int(t)], rows.get(int(t))
    assert res["explainability"]["binding_timesteps_per_family"]["gen_start_delay"] == len(waiting)


def _pf_case(tmp_path, pcs_mva: float, load_pf: float, rule: str = "penalty") -> dict:
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", [40.0] * 12 + [80.0] * 12)
    return small_site(
        pf,
        "2023-07-10",
        "2023-07-11",
        load={"profile_mw": 60.0, "critical_fraction": 0.8, "power_factor": load_pf},
        bess={
            **BESS_100,
            "soc_initial_fraction": 0.5,
            "soc_final_min_fraction": 0.5,
            "power_mw": 5,
            "energy_mwh": 20,
            "pcs_mva": pcs_mva,
        },
        poi={
            "import_limit_mw": 100,
            "export_limit_mw": 0,
            "min_power_factor": 0.98,
            "power_factor_rule": rule,
        },
    )


def test_cheap_pcs_pays_for_pf_instead_of_shedding(tmp_path):
    """Load PF 0.9 needs 29 MVAr; the grid may carry 12.2 MVAr at PF 0.98 and the 5 MVA PCS
    little: the rest crosses the POI at the excess-reactive price — no load is shed."""
    res = solve_dict(_pf_case(tmp_path, pcs_mva=5.0, load_pf=0.9))
    d = records_to_frame(res["dispatch"])
    e = records_to_frame(res["electrical"])
    assert d["load_unserved_mw"].max() == pytest.approx(0.0, abs=1e-6)
    q_load = 60 * math.tan(math.acos(0.9))
    assert (e["poi_q_mvar"] + e["pcs_q_mvar"]).to_numpy() == pytest.approx([q_load] * 24)
    assert res["economics"]["costs_usd"]["poi_excess_reactive_cost_usd"] > 0
    assert res["verification"]["violations"] == []


def test_hard_pf_rule_sheds_rather_than_exceed(tmp_path):
    res = solve_dict(_pf_case(tmp_path, pcs_mva=5.0, load_pf=0.9, rule="hard"))
    assert records_to_frame(res["dispatch"])["load_unserved_mw"].max() > 1.0
    assert "poi_excess_reactive_cost_usd" not in res["economics"]["costs_usd"]


def test_unity_pf_load_makes_no_reactive_flows(tmp_path):
    """Unity-PF load: no source makes MVAr, and the POI PF rows never bind."""
    res = solve_dict(_pf_case(tmp_path, pcs_mva=50.0, load_pf=1.0))
    e = records_to_frame(res["electrical"])
    for col in ("poi_q_mvar", "pcs_q_mvar", "gen_q_mvar"):
        assert e[col].abs().max() == pytest.approx(0.0, abs=1e-9), col
    counts = res["explainability"]["binding_timesteps_per_family"]
    assert "poi_pf_lower" not in counts and "poi_pf_upper" not in counts


def test_example_reactive_dispatch_does_not_circulate(example_results):
    e = records_to_frame(example_results["electrical"])
    d = records_to_frame(example_results["dispatch"])
    q_load = math.tan(math.acos(0.95)) * d["load_served_mw"].to_numpy()
    q_src = sum(e[f"{n}_q_mvar"].abs().to_numpy() for n in ("poi", "gen", "pcs"))
    assert (q_src <= np.abs(q_load) + 0.5).all()
    # gas units supply first (their excitation is free), the grid last
    running = d["gen_mw"].to_numpy() > 1e-6
    assert (e["gen_q_mvar"].to_numpy()[running] > 0).any()


def test_slow_units_award_only_what_they_ramp(tmp_path):
    """Units ramping 0.1 MW/min can deliver 1 MW of Reg-Up in 5 min, 2 MW of RRS + Reg-Up in
    10 min and 3 MW of Non-Spin (+ the rest) in 30 min per producing unit; offline units add
    Non-Spin only if they start and ramp to at least their minimum within 30 min."""
    hours = 48
    pf = write_tidy_prices(tmp_path / "p.csv", "2016-03-01 00:00", [60.0] * hours)
    case = small_site(
        pf,
        "2016-03-01",
        "2016-03-03",
        market={"reserve_products": ["REGUP", "RRS", "NSPIN"], "reserve_price_file": None},
        load={"profile_mw": 40.0, "critical_fraction": 0.0, "power_factor": 1.0},
        gas_gen={
            "units": 3,
            "unit_mw": 20,
            "min_stable_fraction": 0.4,
            "start_delay_minutes": 10,
            "ramp_mw_per_min": 0.1,
            "fuel_cost_usd_per_mwh": 30,
        },
    )
    del case["market"]["reserve_price_file"]
    case["market"]["settlement_point"] = "HB_HOUSTON"
    del case["market"]["price_file"]
    res = solve_dict(case)
    d = records_to_frame(res["dispatch"])
    n = d["gen_units_producing"].to_numpy()
    reg = d["reserve_regup_gen_mw"].to_numpy()
    rrs = d["reserve_rrs_gen_mw"].to_numpy()
    ns_online = d["reserve_nspin_gen_mw"].to_numpy() - d.get("gen_offline_nspin_mw", 0 * reg)
    assert (reg <= 0.5 * n + 1e-6).all()
    assert (reg + rrs <= 1.0 * n + 1e-6).all()
    assert (reg + rrs + ns_online <= 3.0 * n + 1e-6).all()
    # an offline unit reaches 0.1 × 20 = 2 MW < 8 MW minimum in 30 − 10 min: no offline Non-Spin
    assert "gen_offline_nspin_mw" not in d.columns or d["gen_offline_nspin_mw"].max() <= 1e-9
    assert (reg + rrs).sum() > 0, "the case should sell some reserve from the units"
    assert res["verification"]["violations"] == []


def test_rolling_economics_equal_objective_and_status(tmp_path):
    """Three days in 1-day windows (the second keeps its look-ahead day): the objective summed
    over the kept steps equals the economics stack recomputed from the dispatch table."""
    prices = [20.0, 30.0, 80.0, 15.0] * 18
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    case = small_site(
        pf,
        "2023-07-10",
        "2023-07-13",
        bess={
            **BESS_100,
            "soc_initial_fraction": 0.5,
            "soc_final_min_fraction": 0.5,
            "degradation_cost_usd_per_mwh": 10.0,
        },
        load={"profile_mw": 30.0, "critical_fraction": 0.5, "power_factor": 0.95},
        gas_gen={"units": 2, "unit_mw": 20, "ramp_mw_per_min": 0.2, "fuel_cost_usd_per_mwh": 40},
    )
    case["solver"].update({"method": "rolling_horizon", "window_days": 1, "lookahead_days": 1})
    res = solve_dict(case)
    s = res["solver"]
    assert s["windows"] == 2 and s["status"] in ("optimal", "feasible_above_requested_gap")
    assert res["economics"]["net_value_usd"] == pytest.approx(s["objective"], abs=0.01)
    assert res["verification"]["violations"] == []


# ------------------------------------------------------------------------------------------
# the checker catches results that break each physical rule
# ------------------------------------------------------------------------------------------


def _break(results: dict, section: str, step: int, **changes) -> list[str]:
    bad = copy.deepcopy(results)
    for key, value in changes.items():
        bad[section][step][key] = value(bad[section][step][key]) if callable(value) else value
    return check_invariants(bad)


def _first(results: dict, column: str) -> int:
    rows = results["dispatch"]
    return next(i for i, r in enumerate(rows) if (r.get(column) or 0) > 1e-3)


def test_checker_catches_gen_over_mva(example_results):
    t = _first(example_results, "gen_mw")
    v = _break(example_results, "electrical", t, gen_s_mva=lambda s: 1e3, gen_loading_pct=500.0)
    assert any(x.startswith("gen_mva") for x in v) and any("gen_loading_pct" in x for x in v)


def test_checker_catches_reactive_circulation(example_results):
    t = 5
    v = _break(
        example_results,
        "electrical",
        t,
        gen_q_mvar=lambda q: q + 40.0,
        pcs_q_mvar=lambda q: q - 40.0,
    )
    assert any(x.startswith("reactive_no_circulation") for x in v)


def test_checker_catches_reserve_without_losses(example_results):
    """SOC just enough for the awards × duration, but not for the η_dis losses."""
    bad = copy.deepcopy(example_results)
    prods = bad["market"]["reserve_products"]
    row = bad["dispatch"][20]
    need = sum(
        row[f"reserve_{p.lower()}_bess_mw"] * s["duration_h"]
        for p, s in prods.items()
        if s["direction"] == "up"
    )
    if need < 1.0:
        row["reserve_nspin_bess_mw"] = row.get("reserve_nspin_bess_mw", 0.0) + 10.0
        need += 40.0
    row["bess_soc_mwh"] = row["bess_soc_floor_mwh"] + need + 0.01  # lossless backing only
    assert any(x.startswith("reserve_energy_up") for x in check_invariants(bad))


def test_checker_catches_undeliverable_gen_award(example_results):
    t = _first(example_results, "gen_mw")
    producing = example_results["dispatch"][t]["gen_units_producing"]
    v = _break(example_results, "dispatch", t, reserve_regup_gen_mw=11.0 * producing)
    assert any(x.startswith("gen_reserve_deliverable_regup") for x in v)


def test_checker_catches_per_unit_ramp(example_results):
    """Slow the case's units to 0.1 MW/min: the dispatch's hourly moves are now impossible."""
    bad = copy.deepcopy(example_results)
    bad["case"]["gas_gen"]["ramp_mw_per_min"] = 0.1
    assert any(x.startswith("gen_ramp_per_unit") for x in check_invariants(bad))
