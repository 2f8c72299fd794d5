"""Deployed operating points from a results table alone: hand-computed known answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from tests_paths import EXAMPLE

from dcpower.case import Case
from dcpower.topology.deployment import (
    POINT_COLUMNS,
    deployed_points,
    limit_excess,
    unit_q_chord,
    unit_q_room_mvar,
)

PRODUCTS = {
    "REGUP": {"direction": "up"},
    "REGDN": {"direction": "down"},
    "RRS": {"direction": "up"},
    "NSPIN": {"direction": "up"},
}


def _case(**sections) -> Case:
    data = json.loads(EXAMPLE.read_text())
    for name, fields in sections.items():
        data[name].update(fields)
    return Case.model_validate(data)


def _tables(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dispatch and electrical frames from a few hand-written steps (missing columns: 0)."""
    idx = pd.date_range("2024-03-04", periods=len(rows), freq="h", tz="UTC", name="timestamp")
    d_cols = [
        "grid_import_mw",
        "grid_export_mw",
        "gen_mw",
        "bess_charge_mw",
        "bess_discharge_mw",
        "load_served_mw",
        "gen_units_producing",
        "reserve_regup_bess_mw",
        "reserve_regdn_bess_mw",
        "reserve_rrs_gen_mw",
        "reserve_nspin_gen_mw",
        "gen_offline_nspin_mw",
        "reserve_rrs_load_mw",
    ]
    e_cols = ["transformer_q_mvar", "pcs_q_mvar", "gen_q_mvar", "load_q_mvar"]
    d = pd.DataFrame([{c: r.get(c, 0.0) for c in d_cols} for r in rows], index=idx)
    e = pd.DataFrame([{c: r.get(c, 0.0) for c in e_cols} for r in rows], index=idx)
    return d, e


def test_reg_down_while_importing_adds_to_the_import():
    # 120 MVA transformer, 100 MW imported for a 100 MW load, 30 MW Reg-Down on the BESS:
    # deployed, the BESS charges 30 MW more and the grid brings 130 MW through 120 MVA.
    d, e = _tables(
        [
            {
                "grid_import_mw": 100.0,
                "load_served_mw": 100.0,
                "reserve_regdn_bess_mw": 30.0,
                "transformer_q_mvar": 0.0,
            }
        ]
    )
    pts = deployed_points(d, e, PRODUCTS)
    assert set(pts) == {"dispatched", "up", "down"}
    assert list(pts["down"].columns) == list(POINT_COLUMNS)
    assert pts["dispatched"]["poi_p_mw"].iloc[0] == pytest.approx(100.0)
    assert pts["down"]["poi_p_mw"].iloc[0] == pytest.approx(130.0)
    assert pts["down"]["pcs_p_mw"].iloc[0] == pytest.approx(-30.0)
    assert pts["up"]["poi_p_mw"].iloc[0] == pytest.approx(100.0)
    case = _case(transformer={"rating_mva": 120})
    ex = limit_excess(pts["down"], case, np.zeros(1))
    assert ex["transformer_circle"][0] == pytest.approx(10.0)
    assert ex["transformer_polygon"][0] == pytest.approx(10.0)  # on the P axis: a vertex
    assert ex["poi_import"][0] == pytest.approx(130.0 - case.poi.import_limit_mw)
    assert limit_excess(pts["dispatched"], case, np.zeros(1))["transformer_circle"][0] < 0


def test_reg_up_at_the_pcs_rating_keeps_its_q():
    # PCS 110 MVA discharging 90 MW with Q 10 MVAr and 20 MW Reg-Up: deployed at 110 MW the
    # 10 MVAr no longer fit the circle: √(110² + 10²) − 110 = 0.4536 MVA.
    d, e = _tables(
        [
            {
                "bess_discharge_mw": 90.0,
                "load_served_mw": 90.0,
                "reserve_regup_bess_mw": 20.0,
                "pcs_q_mvar": 10.0,
                "load_q_mvar": 10.0,
            }
        ]
    )
    pts = deployed_points(d, e, PRODUCTS)
    up = pts["up"]
    assert up["pcs_p_mw"].iloc[0] == pytest.approx(110.0)
    assert up["pcs_q_mvar"].iloc[0] == pytest.approx(10.0)  # Q as dispatched
    assert up["poi_p_mw"].iloc[0] == pytest.approx(-20.0)  # the 20 MW go out to the grid
    case = _case(bess={"power_mw": 100, "pcs_mva": 110})
    ex = limit_excess(up, case, np.zeros(1))
    assert ex["pcs_circle"][0] == pytest.approx(math.hypot(110, 10) - 110)
    assert ex["pcs_polygon"][0] >= ex["pcs_circle"][0]  # the polygon is inside the circle
    assert limit_excess(pts["dispatched"], case, np.zeros(1))["pcs_circle"][0] < 0


def test_gas_units_with_rrs_and_offline_nspin():
    # 2 units of 20 MW at rated PF 0.8 (25 MVA each) producing 30 MW at Q 22.5 MVAr; RRS 10 MW
    # online; Non-Spin 15 MW, of which 12 MW from a unit that starts; flexible load RRS 5 MW.
    d, e = _tables(
        [
            {
                "gen_mw": 30.0,
                "grid_import_mw": 70.0,
                "load_served_mw": 100.0,
                "gen_units_producing": 2,
                "reserve_rrs_gen_mw": 10.0,
                "reserve_nspin_gen_mw": 15.0,
                "gen_offline_nspin_mw": 12.0,
                "reserve_rrs_load_mw": 5.0,
                "gen_q_mvar": 22.5,
                "load_q_mvar": 22.5,
            }
        ]
    )
    up = deployed_points(d, e, PRODUCTS)["up"]
    assert up["gen_online_p_mw"].iloc[0] == pytest.approx(30 + 10 + 3)
    assert up["gen_offline_p_mw"].iloc[0] == pytest.approx(12.0)
    assert up["gen_p_mw"].iloc[0] == pytest.approx(55.0)
    assert up["load_p_mw"].iloc[0] == pytest.approx(95.0)
    assert up["poi_p_mw"].iloc[0] == pytest.approx(95.0 - 55.0)
    case = _case(
        gas_gen={"units": 2, "unit_mw": 20, "min_power_factor": 0.8, "min_stable_fraction": 0.0}
    )
    ex = limit_excess(up, case, np.array([2.0]))
    assert ex["gen_circle"][0] == pytest.approx(math.hypot(43, 22.5) - 50)
    # a unit at its 20 MW keeps √(25² − 20²) = 15 MVAr inside its circle, at its 0 MW minimum
    # 25 MVAr: the chord falls by 0.5 MVAr per MW, so 2 units at 43 MW keep 50 − 21.5 = 28.5
    assert unit_q_room_mvar(case, 20.0) == pytest.approx(15.0)
    assert unit_q_chord(case) == pytest.approx((25.0, 0.5))
    assert ex["gen_unit_circle"][0] == pytest.approx(22.5 - 28.5)
    # the 16-facet polygon leaves less at 20 MW than the circle (a vertex at 0 MW: 25 MVAr)
    assert unit_q_room_mvar(case, 20.0, 16) < 15.0
    assert unit_q_room_mvar(case, 0.0, 16) == pytest.approx(25.0)
    # both units at their 20 MW (40 MW) with 31 MVAr: 1 MVAr more than the 2 × 15 they keep
    d2, e2 = _tables([{"gen_mw": 40.0, "load_served_mw": 40.0, "gen_q_mvar": 31.0}])
    ex2 = limit_excess(deployed_points(d2, e2, PRODUCTS)["up"], case, np.array([2.0]))
    assert ex2["gen_unit_circle"][0] == pytest.approx(1.0)
    # with a 10 MW minimum the chord runs from √(25² − 10²) at 10 MW to 15 at 20 MW
    case10 = _case(gas_gen={"units": 2, "unit_mw": 20, "min_stable_fraction": 0.5})
    low = math.sqrt(25**2 - 10**2)
    fall = (low - 15.0) / 10.0
    assert unit_q_chord(case10) == pytest.approx((low + 10 * fall, fall))
