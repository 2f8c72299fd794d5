"""Known-answer cases worked out by hand."""

from __future__ import annotations

import math

import pytest
from conftest import small_site, solve_dict, write_tidy_prices

from dcpower.invariants import check_invariants
from dcpower.results import records_to_frame


@pytest.mark.parametrize("degradation", [0.0, 10.0])
def test_two_price_day_arbitrage_value(tmp_path, degradation):
    """12 h at 20 $/MWh then 12 h at 100 $/MWh; 10 MW / 40 MWh, 90 % each way, empty at both ends.

    Fill 40 MWh stored: 40/0.9 = 44.444 MWh bought at 20 = 888.89 $; sell 40·0.9 = 36 MWh at
    100 = 3600 $. Net 2711.11 $. Power is not binding (4.44 h to charge, 3.6 h to discharge).
    With wear at 10 $/MWh of throughput the same cycle still pays (a stored MWh costs
    (20 + 10)/0.9 and earns (100 − 10)·0.9): 2711.11 − 10·(44.444 + 36) = 1906.67 $.
    """
    prices = [20.0] * 12 + [100.0] * 12
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    case = small_site(
        pf,
        "2023-07-10",
        "2023-07-11",
        bess={
            "power_mw": 10,
            "energy_mwh": 40,
            "charge_efficiency": 0.9,
            "discharge_efficiency": 0.9,
            "soc_min_fraction": 0.0,
            "soc_initial_fraction": 0.0,
            "pcs_mva": 10,
            "degradation_cost_usd_per_mwh": degradation,
        },
    )
    res = solve_dict(case)
    expected = -(40 / 0.9) * 20 + 40 * 0.9 * 100 - degradation * (40 / 0.9 + 36)
    assert res["economics"]["net_value_usd"] == pytest.approx(expected, abs=1e-4)
    d = records_to_frame(res["dispatch"])
    assert d["bess_charge_mw"].iloc[:12].sum() == pytest.approx(40 / 0.9, abs=1e-6)
    assert d["bess_discharge_mw"].iloc[12:].sum() == pytest.approx(36.0, abs=1e-6)
    assert d["bess_soc_mwh"].iloc[11] == pytest.approx(40.0, abs=1e-6)
    assert d["bess_soc_mwh"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    assert check_invariants(res) == []


@pytest.mark.parametrize(
    "step_minutes, delay_minutes, lead_steps", [(60, 10, 1), (60, 60, 1), (15, 60, 4), (15, 20, 2)]
)
def test_generator_starts_ahead_of_spike(tmp_path, step_minutes, delay_minutes, lead_steps):
    """One 20 MW unit, fuel 35 $/MWh, start 100 $; price 10 $/MWh except one 1000 $/MWh hour.

    The unit must be started ceil(delay/Δt) steps before the spike to produce during it, and
    runs only then: value = 20 MW × (1000 − 35) $/MWh × 1 h − 100 $ = 19 200 $.
    """
    prices = [10.0] * 24
    prices[12] = 1000.0
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    case = small_site(
        pf,
        "2023-07-10",
        "2023-07-11",
        horizon={"timestep_minutes": step_minutes},
        gas_gen={
            "units": 1,
            "unit_mw": 20,
            "min_stable_fraction": 0.4,
            "start_delay_minutes": delay_minutes,
            "ramp_mw_per_min": 5.0,
            "fuel_cost_usd_per_mwh": 35,
            "start_cost_usd": 100,
            "min_power_factor": 0.8,
        },
    )
    res = solve_dict(case)
    assert res["economics"]["net_value_usd"] == pytest.approx(20 * 965 - 100, abs=1e-4)
    d = records_to_frame(res["dispatch"])
    per_hour = 60 // step_minutes
    spike = slice(12 * per_hour, 13 * per_hour)
    start_step = 12 * per_hour - lead_steps
    assert lead_steps == math.ceil(delay_minutes / step_minutes)
    assert d["gen_starts"].iloc[start_step] == 1
    assert d["gen_starts"].sum() == 1
    assert d["gen_mw"].iloc[spike].to_numpy() == pytest.approx([20.0] * per_hour, abs=1e-6)
    assert d["gen_mw"].iloc[: 12 * per_hour].max() == pytest.approx(0.0, abs=1e-6)
    # committed but not yet producing while the start delay runs
    assert (d["gen_units_committed"].iloc[start_step : 12 * per_hour] == 1).all()
    assert (d["gen_units_producing"].iloc[start_step : 12 * per_hour] == 0).all()
    assert check_invariants(res) == []


def test_transformer_mva_binds_and_is_explained(tmp_path):
    """100 MW of load at PF 0.95 through a 90 MVA transformer, no local P or Q sources.

    Q must cross the POI with P at exactly PF 0.95 (angle φ = acos 0.95 = 18.19°). The 16-facet
    inscribed polygon has vertices at 0°, 22.5°, …; the facet between them has normal 11.25°,
    offset 90·cos(π/16), so S_max = 90·cos(11.25°)/cos(φ − 11.25°) = 88.92 MVA and
    P_max = 0.95·S_max = 84.47 MW. The rest is shed cheapest first: 10 MW flexible
    (500 $/MWh) then non-critical (2000 $/MWh).
    """
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", [50.0] * 24)
    case = small_site(
        pf,
        "2023-07-10",
        "2023-07-11",
        load={
            "profile_mw": 100.0,
            "critical_fraction": 0.5,
            "flexible_fraction": 0.1,
            "flexible_curtailment_usd_per_mwh": 500,
            "power_factor": 0.95,
        },
        poi={"import_limit_mw": 150, "export_limit_mw": 50, "min_power_factor": 0.95},
        transformer={"rating_mva": 90, "polygon_facets": 16},
    )
    res = solve_dict(case)
    phi = math.acos(0.95)
    s_max = 90 * math.cos(math.pi / 16) / math.cos(phi - math.radians(11.25))
    p_max = 0.95 * s_max
    d = records_to_frame(res["dispatch"])
    assert d["load_served_mw"].to_numpy() == pytest.approx([p_max] * 24, abs=1e-5)
    assert d["flexible_curtailed_mw"].to_numpy() == pytest.approx([10.0] * 24, abs=1e-6)
    assert d["noncritical_unserved_mw"].to_numpy() == pytest.approx([90 - p_max] * 24, abs=1e-5)
    assert d["critical_unserved_mw"].max() == pytest.approx(0.0, abs=1e-9)
    binding = res["explainability"]["binding_constraints"]
    assert len(binding) == 24
    assert all("transformer_mva" in row["families"] for row in binding)
    assert res["explainability"]["binding_timesteps_per_family"]["transformer_mva"] == 24
    e = records_to_frame(res["electrical"])
    assert e["transformer_s_mva"].max() <= 90.0 + 1e-6  # polygon is inscribed: conservative
    assert e["transformer_polygon_loading_pct"].to_numpy() == pytest.approx([100.0] * 24, abs=1e-4)
    expected = -24 * (p_max * 50 + 10 * 500 + (90 - p_max) * 2000)
    assert res["economics"]["net_value_usd"] == pytest.approx(expected, abs=1e-3)
    assert check_invariants(res) == []


def test_selective_binaries_match_full_binaries_under_negative_prices(tmp_path):
    """Negative prices make burning energy (charge and discharge at once) attractive in the
    relaxation; selective binaries must end at the same optimum as binaries everywhere."""
    prices = [30.0] * 6 + [-80.0] * 4 + [30.0] * 4 + [120.0] * 4 + [30.0] * 6
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    bess = {
        "power_mw": 10,
        "energy_mwh": 20,
        "charge_efficiency": 0.9,
        "discharge_efficiency": 0.9,
        "soc_min_fraction": 0.0,
        "soc_initial_fraction": 0.5,
        "pcs_mva": 12,
    }
    values = {}
    for selective in (True, False):
        case = small_site(
            pf, "2023-07-10", "2023-07-11", bess=bess, solver={"selective_binaries": selective}
        )
        res = solve_dict(case)
        assert check_invariants(res) == []
        values[selective] = res["economics"]["net_value_usd"]
    assert values[True] == pytest.approx(values[False], abs=1e-4)
