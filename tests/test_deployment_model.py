"""Awards deployed together fit every limit they pass: known answers worked by hand from the
dispatch and electrical tables (not from ``dcpower.topology.deployment``), and the invariants
catch a tampered result."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from conftest import small_site, solve_dict, write_tidy_prices
from tests_paths import ROOT

from dcpower.invariants import check_invariants
from dcpower.results import records_to_frame

BASE_2024 = ROOT / "config" / "cases" / "sweep_base_ercot_2024.json"


def _frames(res: dict):
    return records_to_frame(res["dispatch"]), records_to_frame(res["electrical"])


def _awards(d, direction_products: list[str]) -> np.ndarray:
    cols = [
        c
        for c in d.columns
        if c.startswith("reserve_")
        and c.endswith("_mw")
        and not c.startswith("reserve_price")
        and c.split("_")[1].upper() in direction_products
    ]
    return d[cols].sum(axis=1).to_numpy()


def _march_120(method: str) -> dict:
    case = json.loads(BASE_2024.read_text())
    case["horizon"].update({"start": "2024-03-04", "end": "2024-03-06"})
    case["transformer"]["rating_mva"] = 120
    case.pop("tariff")
    case["solver"].update({"method": method, "window_days": 1, "lookahead_days": 1})
    return case


@pytest.fixture(scope="module", params=["monolithic", "rolling_horizon"])
def march_120(request) -> dict:
    return solve_dict(_march_120(request.param))


def test_march_120_mva_reg_down_fits_the_transformer(march_120):
    """Behind 120 MVA with a 150 MW POI import limit, the site imports and sells Reg-Down:
    deployed, the Reg-Down awards add to the import, so awards ≤ √(120² − Q²) − net import."""
    res = march_120
    d, e = _frames(res)
    net = (d["grid_import_mw"] - d["grid_export_mw"]).to_numpy()
    q = e["transformer_q_mvar"].to_numpy()
    room = np.sqrt(120.0**2 - q**2)
    down = _awards(d, ["REGDN"])
    up = _awards(d, ["REGUP", "RRS", "ECRS", "NSPIN"])
    assert (net + down <= room + 0.1).all()
    assert (-(net - up) <= room + 0.1).all()  # up-awards while exporting push more export
    # the transformer, not the 150 MW POI limit, is what holds Reg-Down back: it fills it
    assert (net + down).max() == pytest.approx(120.0, abs=0.1)
    assert res["economics"]["revenues_usd"]["reserve_regdn_revenue_usd"] > 0
    assert res["verification"]["violations"] == []
    assert "transformer_deployed_down" in res["explainability"]["binding_timesteps_per_family"]


def test_tampered_reg_down_breaks_the_deployed_transformer(march_120):
    res = copy.deepcopy(march_120)
    d, _ = _frames(res)
    net = (d["grid_import_mw"] - d["grid_export_mw"]).to_numpy()
    worst = int(np.argmax(net + _awards(d, ["REGDN"])))
    col = "reserve_regdn_bess_mw"
    res["dispatch"][worst][col] += 1.0
    found = check_invariants(res)
    assert any(v.startswith("deployed_down_transformer_circle") for v in found), found
    assert any(v.startswith("deployed_down_transformer_polygon") for v in found), found


def _hourly_site(tmp_path, products: list[str], **sections) -> dict:
    """One ERCOT day (2016-03-01, HB_HOUSTON shipped prices) on a small site."""
    pf = write_tidy_prices(tmp_path / "p.csv", "2016-03-01 00:00", [20.0] * 24)
    case = small_site(
        pf,
        "2016-03-01",
        "2016-03-02",
        market={"reserve_products": products, "reserve_price_file": None},
        **sections,
    )
    del case["market"]["reserve_price_file"]
    del case["market"]["price_file"]
    case["market"]["settlement_point"] = "HB_HOUSTON"
    return case


def test_pcs_at_its_rating_with_reg_up_keeps_no_q(tmp_path):
    """A 10 MVA PCS on a 10 MW battery: where its P plus its Reg-Up reach 10 MW, the deployed
    point is on the P axis of its rating, so it carries no Q; the grid supplies the load's."""
    case = _hourly_site(
        tmp_path,
        ["REGUP"],
        load={"profile_mw": 5.0, "critical_fraction": 0.0, "power_factor": 0.8},
        bess={"power_mw": 10, "energy_mwh": 40, "pcs_mva": 10, "soc_initial_fraction": 0.5},
    )
    res = solve_dict(case)
    d, e = _frames(res)
    p = (d["bess_discharge_mw"] - d["bess_charge_mw"]).to_numpy()
    reg = d["reserve_regup_bess_mw"].to_numpy()
    q_pcs, q_poi = e["pcs_q_mvar"].to_numpy(), e["transformer_q_mvar"].to_numpy()
    full = p + reg >= 10.0 - 1e-6
    assert full.any(), "the case should fill the PCS with Reg-Up at some hour"
    assert np.abs(q_pcs[full]).max() <= 1e-6
    q_load = math.tan(math.acos(0.8)) * d["load_served_mw"].to_numpy()
    assert q_poi[full] == pytest.approx(q_load[full], abs=1e-6)
    assert (np.hypot(p + reg, q_pcs) <= 10.0 + 1e-6).all()
    assert res["verification"]["violations"] == []
    # the same hour with the PCS carrying the load's Q: fine as dispatched, not once deployed
    bad = copy.deepcopy(res)
    t = int(np.flatnonzero(full & (np.abs(p) < 9.0))[0])
    bad["electrical"][t]["pcs_q_mvar"] = q_load[t]
    bad["electrical"][t]["transformer_q_mvar"] = 0.0
    bad["electrical"][t]["poi_q_mvar"] = 0.0
    found = check_invariants(bad)
    assert any(v.startswith("deployed_up_pcs_circle") for v in found), found


def _polygon_p_max(q_mvar: float, s_mva: float, facets: int = 16) -> float:
    """Largest P the inscribed K-facet polygon of ``s_mva`` admits at ``q_mvar``, by hand:
    facet k is cos θ_k·P + sin θ_k·Q ≤ S·cos(π/K), θ_k = (2k + 1)π/K."""
    out = math.inf
    for k in range(facets):
        theta = (2 * k + 1) * math.pi / facets
        if math.cos(theta) > 1e-12:
            bound = s_mva * math.cos(math.pi / facets) - math.sin(theta) * q_mvar
            out = min(out, bound / math.cos(theta))
    return out


@pytest.mark.parametrize("ramp", [2.0, 0.1], ids=["clustered", "per_unit"])
def test_gas_unit_at_rated_pf_with_rrs(tmp_path, ramp):
    """One 20 MW unit (rated PF 0.8: 25 MVA, allowed down to PF 0.8) alone serves a 19 MW load
    at PF 0.8 (no import): it runs at 19 MW and 14.25 MVAr, at its rated PF. Its RRS would take
    it to 20 MW at 14.25 MVAr: √(20² + 14.25²) = 24.56 MVA fits the circle, but the model's
    16-facet polygon admits only P ≤ 19.97 MW at that Q, so RRS stays below the 1 MW headroom.
    At 0.1 MW/min (6 MW per hour < 20 MW) the unit has its own variables (per-unit model); RRS
    (10 min) can still reach the 1 MW headroom."""
    case = _hourly_site(
        tmp_path,
        ["RRS"],
        load={"profile_mw": 19.0, "critical_fraction": 0.0, "power_factor": 0.8},
        gas_gen={
            "units": 1,
            "unit_mw": 20,
            "min_stable_fraction": 0.4,
            "ramp_mw_per_min": ramp,
            "fuel_cost_usd_per_mwh": 60,
            "min_power_factor": 0.8,
            "initial_units_online": 1,
        },
        poi={
            "import_limit_mw": 0,
            "export_limit_mw": 50,
            "min_power_factor": 0.9,
            "power_factor_rule": "hard",
        },
    )
    res = solve_dict(case)
    d, e = _frames(res)
    gen, rrs = d["gen_mw"].to_numpy(), d["reserve_rrs_gen_mw"].to_numpy()
    q_gen = e["gen_q_mvar"].to_numpy()
    assert gen == pytest.approx(19.0, abs=1e-6)
    assert q_gen == pytest.approx(0.75 * 19.0, abs=1e-6)  # at its rated PF 0.8
    p_max = _polygon_p_max(14.25, 25.0)
    assert 19.9 < p_max < 20.0
    assert rrs.max() > 0.5, "the case should sell RRS"
    assert (gen + rrs <= p_max + 1e-6).all()
    assert (np.hypot(gen + rrs, q_gen) <= 25.0 + 1e-6).all()
    assert res["verification"]["violations"] == []
    # the full 1 MW headroom would fit the circle but not the polygon: the invariants say so
    bad = copy.deepcopy(res)
    t = int(np.argmax(rrs))
    bad["dispatch"][t]["reserve_rrs_gen_mw"] = 1.0
    found = check_invariants(bad)
    assert any(v.startswith("deployed_up_gen_polygon") for v in found), found
    assert not any(v.startswith("deployed_up_gen_circle") for v in found), found
