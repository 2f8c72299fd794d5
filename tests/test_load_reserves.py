"""The flexible load as a reserve resource (ERCOT Load Resource): awards within the flexible MW
consumed and sustained for the product's duration, revenue by hand, the weekly curtailment
limit (also across rolling windows and a week boundary), invariants that catch a broken award,
and bad input."""

from __future__ import annotations

import copy
import gzip
import json

import numpy as np
import pandas as pd
import pytest
from conftest import small_site, solve_dict, write_tidy_prices
from tests_paths import ROOT

from dcpower import columns
from dcpower.case import CaseError, case_from_dict
from dcpower.errors import InputError
from dcpower.invariants import check_invariants, sustained_load_margin_mw
from dcpower.results import records_to_frame

AS_JULY_2023 = ROOT / "resources_data" / "ercot" / "as_mcpc_hourly_2023_07.csv.gz"
FLEX_MW = 5.0  # 10 MW load, half of it flexible


def _as_prices(start: str, days: int) -> pd.DataFrame:
    """Shipped ERCOT AS clearing prices ($/MW per hour) by UTC hour, one column per product."""
    with gzip.open(AS_JULY_2023, "rt") as f:
        df = pd.read_csv(f)
    df["t"] = pd.to_datetime(df["interval_start_utc"])
    wide = df.pivot_table(index="t", columns="service", values="mcpc_usd_per_mw")
    first = pd.Timestamp(start, tz="America/Chicago").tz_convert("UTC")
    return wide.loc[first : first + pd.Timedelta(hours=24 * days - 1)]


def _site(tmp_path, start="2023-07-10", days=1, prices=None, **reserves) -> dict:
    n = 24 * days
    pf = write_tidy_prices(tmp_path / "p.csv", f"{start} 00:00", prices or [50.0] * n)
    end = (pd.Timestamp(start) + pd.Timedelta(days=days)).strftime("%Y-%m-%d")
    return small_site(
        pf,
        start,
        end,
        market={"reserve_products": ["ECRS", "NSPIN"], "price_file": str(pf)},
        load={
            "profile_mw": 10.0,
            "critical_fraction": 0.0,
            "flexible_fraction": 0.5,
            "flexible_curtailment_usd_per_mwh": 500.0,
            "power_factor": 1.0,
            "reserves": {"products": ["ECRS", "NSPIN"], **reserves},
        },
    )


def test_awards_bound_by_consumed_flexible_mw_revenue_by_hand(tmp_path):
    """No curtailment at 50 $/MWh (curtailing costs 500): 5 MW flexible consumed every hour.
    ECRS is sustained 1 h, Non-Spin 4 h, both within the 5 MW, so each hour carries 5 MW of
    the dearer product: revenue = Σ_t 5 × max(ECRS, NSPIN price) × 1 h; energy 10 MW × 50 × 24."""
    res = solve_dict(_site(tmp_path))
    assert check_invariants(res) == []
    d = records_to_frame(res["dispatch"])
    ecrs, nspin = d["reserve_ecrs_load_mw"].to_numpy(), d["reserve_nspin_load_mw"].to_numpy()
    assert d["flexible_curtailed_mw"].abs().max() < 1e-9
    assert np.all(ecrs + nspin <= FLEX_MW + 1e-6)
    prices = _as_prices("2023-07-10", 1)
    by_hand = float((FLEX_MW * np.maximum(prices["ECRS"], prices["NSPIN"])).sum())
    rev = res["economics"]["revenues_usd"]
    load_rev = rev[columns.load_revenue_key("ECRS")] + rev[columns.load_revenue_key("NSPIN")]
    assert load_rev == pytest.approx(by_hand, abs=1e-4)
    assert load_rev > 0
    assert res["economics"]["net_value_usd"] == pytest.approx(by_hand - 10 * 50 * 24, abs=1e-4)
    assert res["economics"]["net_value_usd"] == pytest.approx(
        res["economics"]["objective_usd"], abs=1e-6
    )


def test_nspin_sustained_through_a_curtailed_hour(tmp_path):
    """One hour at 2 000 $/MWh curtails the 5 MW flexible segment (saves 2 000 − 500 per MWh):
    no award at that hour, and no Non-Spin in the 3 hours before it (it must stay curtailed
    4 h, but the load it would shed is already off)."""
    prices = [50.0] * 24
    spike = 15
    prices[spike] = 2000.0
    res = solve_dict(_site(tmp_path, prices=prices))
    assert check_invariants(res) == []
    d = records_to_frame(res["dispatch"])
    assert d["flexible_curtailed_mw"].iloc[spike] == pytest.approx(FLEX_MW)
    assert d["reserve_ecrs_load_mw"].iloc[spike] + d["reserve_nspin_load_mw"].iloc[spike] < 1e-6
    assert d["reserve_nspin_load_mw"].iloc[spike - 3 : spike].max() < 1e-6


def test_weekly_limit_binds_on_expected_deployment_by_hand(tmp_path):
    """Expected deployment 50 % of award-hours at 10 $/MWh, weekly limit 6 MWh, ECRS only:
    award-hours ≤ 6 / 0.5 = 12 MW·h, placed on the dearest hours (5 + 5 + 2 MW), each earning
    price − 0.5 × 10 $ per MW·h."""
    case = _site(
        tmp_path,
        products=["ECRS"],
        weekly_curtailment_limit_mwh=6.0,
        expected_deployment_fraction=0.5,
        deployment_cost_usd_per_mwh=10.0,
    )
    res = solve_dict(case)
    assert check_invariants(res) == []
    d = records_to_frame(res["dispatch"])
    ecrs = d["reserve_ecrs_load_mw"].to_numpy()
    assert 0.5 * ecrs.sum() == pytest.approx(6.0, abs=1e-6)
    top = np.sort(_as_prices("2023-07-10", 1)["ECRS"].to_numpy())[::-1]
    assert top[2] > 5.0  # the third hour still pays its deployment cost
    by_hand = 5 * (top[0] - 5) + 5 * (top[1] - 5) + 2 * (top[2] - 5)
    econ = res["economics"]
    value = econ["revenues_usd"]["load_reserve_ecrs_revenue_usd"]
    cost = econ["costs_usd"]["load_reserve_deployment_cost_usd"]
    assert cost == pytest.approx(0.5 * 10 * 12, abs=1e-6)
    assert value - cost == pytest.approx(by_hand, abs=1e-4)


def test_weekly_limit_carried_across_rolling_windows_and_reset_at_monday(tmp_path):
    """Saturday to Tuesday in 1-day windows: the weekly energy is handed from window to window
    (each week stays within 6 MWh although every window alone could use 6 MWh) and starts
    again on Monday 00:00 local (the second week also uses its 6 MWh)."""
    case = _site(
        tmp_path,
        start="2023-07-15",
        days=4,
        products=["ECRS"],
        weekly_curtailment_limit_mwh=6.0,
        expected_deployment_fraction=0.5,
        deployment_cost_usd_per_mwh=0.0,
    )
    case["solver"] = {
        **case["solver"],
        "method": "rolling_horizon",
        "window_days": 1,
        "lookahead_days": 1,
    }
    res = solve_dict(case)
    assert res["solver"]["windows"] == 3  # the last window keeps its look-ahead day
    assert check_invariants(res) == []
    d = records_to_frame(res["dispatch"])
    local = d.index.tz_convert("America/Chicago")
    used = 0.5 * d["reserve_ecrs_load_mw"]
    first_week = used[local < pd.Timestamp("2023-07-17", tz="America/Chicago")].sum()
    second_week = used[local >= pd.Timestamp("2023-07-17", tz="America/Chicago")].sum()
    assert first_week == pytest.approx(6.0, abs=1e-6)
    assert second_week == pytest.approx(6.0, abs=1e-6)


def test_load_awards_count_at_the_poi_not_in_n_plus_1(tmp_path):
    """Export limit 0 and a site that imports 10 MW: curtailing 5 MW still imports 5 MW, so
    the POI row allows the award; with the import limit forcing zero net import there is no
    headroom to export the curtailed MW and no award."""
    case = _site(tmp_path)
    case["poi"] = {"import_limit_mw": 1000, "export_limit_mw": 0, "min_power_factor": 0.5}
    res = solve_dict(case)
    d = records_to_frame(res["dispatch"])
    held = d["reserve_ecrs_load_mw"] + d["reserve_nspin_load_mw"]
    assert held.min() == pytest.approx(FLEX_MW, abs=1e-6)  # −10 + 5 ≤ 0
    # a battery that serves the whole load leaves nothing to curtail at the POI
    case["bess"] = {
        "power_mw": 10,
        "energy_mwh": 400,
        "soc_initial_fraction": 1.0,
        "soc_final_min_fraction": 0.0,
        "pcs_mva": 10,
        "degradation_cost_usd_per_mwh": 0.0,
    }
    case["market"]["reserve_products"] = ["ECRS", "NSPIN"]
    res = solve_dict(case)
    assert check_invariants(res) == []
    d = records_to_frame(res["dispatch"])
    up = sum(d[c] for c in columns.award_columns(d, "ECRS") + columns.award_columns(d, "NSPIN"))
    assert np.all(d["grid_export_mw"] - d["grid_import_mw"] + up <= 1e-6)


def test_invariants_catch_an_award_the_load_cannot_sustain(tmp_path):
    res = solve_dict(_site(tmp_path))
    broken = copy.deepcopy(res)
    broken["dispatch"][3]["reserve_nspin_load_mw"] = FLEX_MW + 1.0
    assert any(v.startswith("load_reserve_sustain") for v in check_invariants(broken))
    limited = copy.deepcopy(res)
    limited["case"]["load"]["reserves"]["weekly_curtailment_limit_mwh"] = 1.0
    limited["case"]["load"]["reserves"]["expected_deployment_fraction"] = 0.5
    assert any(v.startswith("load_week_limit") for v in check_invariants(limited))


def test_sustained_margin_by_hand():
    consumed = np.array([5.0, 5.0, 2.0, 5.0])
    awards = {"ECRS": np.array([1.0, 0.0, 0.0, 0.0]), "NSPIN": np.array([3.0, 2.0, 0.0, 0.0])}
    margin = sustained_load_margin_mw(consumed, awards, {"ECRS": 1, "NSPIN": 3})
    # step 0: 5 − 4, then 5 − 3, then 2 − 3 → −1; step 1: 5 − 2, 2 − 2, 5 − 2 → 0
    assert margin[:2].tolist() == [-1.0, 0.0]


@pytest.mark.parametrize(
    "products, error, match",
    [
        (["REGUP"], CaseError, r"not in market\.reserve_products"),
        (["ECRS", "ECRS"], CaseError, r"list each product once"),
    ],
)
def test_bad_load_products_name_the_field(tmp_path, products, error, match):
    case = _site(tmp_path, products=products)
    with pytest.raises(error, match=match):
        case_from_dict(case)


def test_catalogue_closed_products_are_refused_with_the_rule(tmp_path):
    case = _site(tmp_path, products=["REGUP"])
    case["market"]["reserve_products"] = ["REGUP", "ECRS"]
    with pytest.raises(InputError, match=r"load\.reserves\.products: REGUP.*Controllable Load"):
        solve_dict(case)
    case["market"]["reserve_catalogue_overrides"] = {"REGDN": {"eligible_resources": ["load"]}}
    case["market"]["reserve_products"] = ["REGDN"]
    case["load"]["reserves"]["products"] = ["REGDN"]
    with pytest.raises(InputError, match=r"REGDN is a down product"):
        solve_dict(case)


def test_reserves_need_a_flexible_segment(tmp_path):
    case = _site(tmp_path)
    case["load"]["flexible_fraction"] = 0.0
    with pytest.raises(CaseError, match=r"load\.flexible_fraction > 0"):
        case_from_dict(case)


def test_cli_validate_names_the_field_and_exits_2(tmp_path, capsys):
    from dcpower.cli import main

    case = _site(tmp_path, products=["REGUP"])
    case["market"]["reserve_products"] = ["REGUP"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "$.load.reserves.products" in err and "Controllable Load Resource" in err
