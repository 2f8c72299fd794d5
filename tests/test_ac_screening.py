"""AC screening with pandapower: known answers by hand, pandapower's own runpp, the band warning."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import EXAMPLE_CASE, ROOT

from dcpower import columns, sweep
from dcpower.case import CaseError, case_from_dict
from dcpower.results import records_to_frame
from dcpower.runner import run_case
from dcpower.study import load_study_config
from dcpower.topology import ac_screening
from dcpower.topology.ac_network import SiteNet, SiteParameters

# 1000 MVA grid at X/R 10 and a 100 MVA, 10 %, X/R 40 transformer, on a 100 MVA base, by hand:
# grid |Z| = 100 / 1000 = 0.1 pu: R = 0.1 / √101, X = 10 R; transformer |Z| = 0.1 · 100 / 100.
R_GRID, X_GRID = 0.1 / math.sqrt(101), 1.0 / math.sqrt(101)
R_XF, X_XF = 0.1 / math.sqrt(1601), 4.0 / math.sqrt(1601)
STRONG = SiteParameters(1000.0, 10.0, 100.0, 10.0, 40.0)


def receiving_voltage(r: float, x: float, p: float, q: float) -> float:
    """Exact receiving-end |V| behind R + jX from a 1 pu source, receiving P + jQ (pu):
    V⁴ + (2(RP + XQ) − 1)V² + (R² + X²)(P² + Q²) = 0, the high-voltage root."""
    b = 2 * (r * p + x * q) - 1.0
    c = (r * r + x * x) * (p * p + q * q)
    return math.sqrt((-b + math.sqrt(b * b - 4 * c)) / 2)


def test_two_bus_known_answer_by_hand():
    """A 40 MW + 10 MVAr load: the site bus sits behind grid + transformer in series, the POI
    behind the grid alone carrying the load plus the transformer's I²R and I²X."""
    site = SiteNet(STRONG)
    p, q = 0.40, 0.10  # pu of 100 MVA
    ac = site.solve_points(np.array([-40.0]), np.array([-10.0]))  # the site injects −load
    ref = site.runpp_point(-40.0, -10.0)
    r, x = R_GRID + R_XF, X_GRID + X_XF
    v_mv = receiving_voltage(r, x, p, q)
    i2 = (p * p + q * q) / v_mv**2
    v_poi = receiving_voltage(R_GRID, X_GRID, p + R_XF * i2, q + X_XF * i2)
    assert ac.mv_voltage_pu[0] == pytest.approx(v_mv, abs=1e-9)
    assert ac.poi_voltage_pu[0] == pytest.approx(v_poi, abs=1e-9)
    assert ref.mv_voltage_pu[0] == pytest.approx(v_mv, abs=1e-8)
    assert ref.poi_voltage_pu[0] == pytest.approx(v_poi, abs=1e-8)
    assert ac.transformer_losses_mw[0] == pytest.approx(100 * R_XF * i2, rel=1e-6)
    assert ref.transformer_losses_mw[0] == pytest.approx(100 * R_XF * i2, rel=1e-6)
    # ΔV ≈ (R·P + X·Q) / V², to that formula's precision: its error is the quadrature term
    # (X·P − R·Q)² / 2V², here 3.3e-3 of a 0.0289 pu drop
    drop, approx = 1 - v_mv, (r * p + x * q) / v_mv
    quad = (x * p - r * q) ** 2 / (2 * v_mv**2)
    assert (r, x) == pytest.approx((0.012450, 0.199472), abs=1e-6)  # by hand
    assert approx == pytest.approx(0.02567, abs=1e-5)
    assert abs(drop - approx - quad) < 0.05 * quad
    assert abs(ac.mv_voltage_pu[0] - (1 - approx)) < 1.1 * quad


def test_export_raises_the_voltage():
    """Exporting at unity PF lifts the site bus above the source (R·P < 0 term) — the sign the
    dispatch cannot see."""
    ac = SiteNet(STRONG).solve_points(np.array([50.0]), np.array([0.0]))
    v = receiving_voltage(R_GRID + R_XF, X_GRID + X_XF, -0.5, 0.0)
    assert ac.mv_voltage_pu[0] == pytest.approx(v, abs=1e-9)
    assert ac.mv_voltage_pu[0] > 1.0 - 1e-3


def test_batch_solve_matches_pandapower_runpp_on_a_weak_grid():
    """Same answer as pandapower's own runpp at random points of a weak grid, including the
    points beyond voltage collapse (no solution in either)."""
    site = SiteNet(SiteParameters(200.0, 10.0, 160.0, 20.0, 40.0))
    rng = np.random.default_rng(7)
    p, q = rng.uniform(-150, 60, 16), rng.uniform(-60, 60, 16)
    ac = site.solve_points(p, q)
    assert 0 < ac.converged.sum() < len(p)  # both kinds are exercised
    for k in range(len(p)):
        ref = site.runpp_point(p[k], q[k])
        assert bool(ref.converged[0]) == bool(ac.converged[k])
        if ac.converged[k]:
            assert ac.mv_voltage_pu[k] == pytest.approx(ref.mv_voltage_pu[0], abs=1e-7)
            assert ac.poi_voltage_pu[k] == pytest.approx(ref.poi_voltage_pu[0], abs=1e-7)
            assert ac.transformer_loading_pct[k] == pytest.approx(
                ref.transformer_loading_pct[0], abs=1e-5
            )


def test_pandapower_loading_against_the_polygon_from_first_principles(example_results):
    """At the screened point of each step, pandapower's loading is the transformer current:
    |S at the site bus| / (V · rating), S from the dispatch (P ± deployed awards, Q as
    dispatched); the model's polygon measures the same S at 1 pu, from above."""
    res = example_results
    e = pd.DataFrame(res["electrical"])
    d = pd.DataFrame(res["dispatch"])
    rating = res["case"]["transformer"]["rating_mva"]
    directions = {k: v["direction"] for k, v in res["market"]["reserve_products"].items()}
    screened = e["ac_point"].notna()
    assert screened.sum() > 0
    awards = {s: np.zeros(len(d)) for s in (1, -1)}
    for c in columns.reserve_award_columns(d, list(directions)):
        awards[1 if directions[c.product] == "up" else -1] += d[c.column].to_numpy()
    checked = 0
    for t in np.flatnonzero(screened):
        code = int(e.at[t, "ac_point"])
        p_in = e.at[t, "transformer_p_mw"] - (code * awards[code][t] if code else 0.0)
        s_in = math.hypot(p_in, e.at[t, "transformer_q_mvar"])
        v = e.at[t, "mv_bus_voltage_pu"]
        assert e.at[t, "transformer_ac_loading_pct"] == pytest.approx(
            100 * s_in / (v * rating), rel=1e-6
        )
        if code == 0:
            true_circle = e.at[t, "transformer_loading_pct"]
            assert e.at[t, "transformer_polygon_loading_pct"] >= true_circle - 1e-9
            assert e.at[t, "transformer_ac_loading_pct"] == pytest.approx(true_circle / v)
        checked += 1
    assert checked == screened.sum()


def test_example_case_shows_the_voltage_columns(example_results):
    e = pd.DataFrame(example_results["electrical"])
    for c in ("poi_voltage_pu", "mv_bus_voltage_pu", "transformer_ac_loading_pct", "ac_point"):
        assert c in e.columns and columns.lookup(c) is not None
    screened = e["ac_point"].notna()
    assert screened.any()
    assert e.loc[~screened, "poi_voltage_pu"].isna().all()
    v = e.loc[screened, ["poi_voltage_pu", "mv_bus_voltage_pu"]].to_numpy()
    assert ((v > 0.95) & (v < 1.05)).all()  # 2500 MVA grid, 160 MVA at 12.5 %
    # the row shows the step's worst point: never a wider margin than the dispatched point's
    case = case_from_dict(example_results["case"])
    at = e.loc[screened]
    dispatched = SiteNet(ac_screening.site_parameters(case)).solve_points(
        -at["transformer_p_mw"].to_numpy(float), -at["transformer_q_mvar"].to_numpy(float)
    )

    def margin(poi, mv):
        return np.minimum.reduce([poi - 0.95, 1.05 - poi, mv - 0.95, 1.05 - mv])

    shown = margin(at["poi_voltage_pu"].to_numpy(float), at["mv_bus_voltage_pu"].to_numpy(float))
    own = margin(dispatched.poi_voltage_pu, dispatched.mv_voltage_pu)
    assert (shown <= own + 1e-12).all()
    assert (at["ac_point"] != 0).any()  # the deployed points do show up
    s = example_results["ac_screening"]
    assert s["steps_screened"] == screened.sum() and s["steps_outside_band"] == 0
    assert s["runpp_cross_check_abs_diff_pu"] < 1e-6
    assert not any("voltage band" in w for w in example_results["warnings"])


def test_weak_grid_and_high_impedance_warn_about_the_band(example_case_dict, monkeypatch):
    d = json.loads(json.dumps(example_case_dict))
    d["horizon"]["end"] = "2023-07-11"
    d["poi"]["short_circuit_mva"] = 200.0
    d["transformer"]["impedance_pct"] = 20.0
    monkeypatch.chdir(EXAMPLE_CASE.parent)
    res = run_case(case_from_dict(d))
    warn = [w for w in res["warnings"] if "outside the voltage band" in w]
    assert len(warn) == 1
    out = res["ac_screening"]["steps_outside_band"]
    assert out > 0
    ex = res["explainability"]
    assert ex["binding_timesteps_per_family"][ac_screening.BAND_FAMILY] == out
    assert ac_screening.BAND_FAMILY in ex["families"]
    e = pd.DataFrame(res["electrical"])
    v = e[["poi_voltage_pu", "mv_bus_voltage_pu"]].astype(float).to_numpy()
    low = v[np.isfinite(v)] < 0.95
    assert low.any() or res["ac_screening"]["points_without_solution"] > 0


def test_near_limit_selection_follows_the_rows(example_case_dict):
    """A step at 91 % of the PCS polygon or at 95 % of the POI PF limit is screened, one at
    50 % is not — unless a deployed point brings the transformer to 95 %."""
    case = case_from_dict(example_case_dict)  # PCS 110 MVA, transformer 160 MVA, POI PF 0.95
    tan = math.tan(math.acos(0.95))
    zero = [0.0, 0.0, 0.0]
    point = pd.DataFrame(
        {
            "poi_p_mw": [60.0, 60.0, 60.0],
            "poi_q_mvar": [0.0, 0.95 * tan * 60.0, 1.0],
            "pcs_p_mw": [100.1, 55.0, 55.0],  # on the P axis the polygon is exact: 91 %, 50 %
            "pcs_q_mvar": zero,
            "gen_p_mw": zero,
            "gen_online_p_mw": zero,
            "gen_offline_p_mw": zero,
            "gen_q_mvar": zero,
            "load_p_mw": zero,
            "load_q_mvar": zero,
        }
    )
    producing = np.zeros(3)
    near = ac_screening.near_limit_steps(case, {"dispatched": point}, producing)
    assert near.tolist() == [True, True, False]
    down = point.assign(poi_p_mw=[60.0, 60.0, 0.95 * 160.0])
    near = ac_screening.near_limit_steps(case, {"dispatched": point, "down": down}, producing)
    assert near.tolist() == [True, True, True]


@pytest.mark.parametrize(
    ("section", "field", "value", "fix"),
    [
        ("poi", "voltage_band_pu", [1.05, 0.95], "min < 1 < max"),
        ("poi", "voltage_band_pu", [0.95], "at least 2"),
        ("poi", "short_circuit_mva", 0.0, "greater than or equal to 10"),
        ("poi", "x_over_r", "10", "valid number"),
        ("transformer", "impedance_pct", 60.0, "less than or equal to 40"),
        ("transformer", "x_over_r", True, "valid number"),
    ],
)
def test_bad_electrical_fields_name_the_field(example_case_dict, section, field, value, fix):
    d = json.loads(json.dumps(example_case_dict))
    d[section][field] = value
    with pytest.raises(CaseError) as err:
        case_from_dict(d)
    msg = str(err.value)
    assert f"{section}.{field}" in msg and fix in msg


def test_sweep_summary_carries_the_screening(example_results):
    """A scenario's summary row (summary.parquet, sweep.nc) has the screening's figures."""
    config = load_study_config(yaml.safe_load((ROOT / "config/test/config.yaml").read_text()))
    settings = config.scenario_settings()
    survival = sweep.outage_survival(example_results, settings.outage)
    dispatch = records_to_frame(example_results["dispatch"])
    sizes = {"bess_mwh": 400, "gen_units": 6, "transformer_mva": 160}  # the example's
    row = sweep.scenario_summary(example_results, sizes, settings, survival, dispatch)
    s = example_results["ac_screening"]
    assert row["ac_min_voltage_pu"] == s["min_voltage_pu"] < 1.0
    assert row["ac_steps_outside_band"] == 0
    assert row["ac_max_transformer_loading_pct"] == s["max_transformer_ac_loading_pct"]
    assert set(columns.AC_SUMMARY_COLUMNS) <= set(row)


def test_transformer_current_above_rating_warns(example_results):
    """The example's dispatch behind a 140 MVA transformer: with every down award deployed the
    site imports 150 MW, 150 / 140 = 107 % before the voltage's 1/V; the screening says so."""
    d = json.loads(json.dumps(example_results["case"]))
    d["transformer"]["rating_mva"] = 140.0
    case = case_from_dict(d)
    dispatch = records_to_frame(example_results["dispatch"])
    electrical = records_to_frame(example_results["electrical"]).drop(columns=[*columns.AC_COLUMNS])
    products = example_results["market"]["reserve_products"]
    ac = ac_screening.screen(case, dispatch, electrical, products, dispatch.index)
    assert ac.summary["steps_transformer_over_rating"] > 0
    assert ac.summary["max_transformer_ac_loading_pct"] > 150 / 140 * 100
    assert any("transformer current above its rating" in w for w in ac.warnings)
    assert example_results["ac_screening"]["steps_transformer_over_rating"] == 0


def test_extremes_are_screened_even_far_from_limits():
    """Import, export, |Q| and the linear voltage estimate's ends pick their steps; an idle
    step is no extreme."""
    inj_p = np.array([10.0, -50.0, 5.0, 0.0])  # site bus injection: −(flow into the site)
    inj_q = np.array([0.0, 0.0, -30.0, 0.0])
    point = ac_screening.SitePoint("dispatched", inj_p, inj_q, np.ones(4, bool))
    assert ac_screening.extreme_steps(STRONG, [point]) == {0, 1, 2}
    # a deployed point that exists only at step 3 brings step 3 in
    up = ac_screening.SitePoint("deployed_up", inj_p, inj_q, np.array([False] * 3 + [True]))
    assert ac_screening.extreme_steps(STRONG, [point, up]) == {0, 1, 2, 3}
