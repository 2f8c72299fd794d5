"""Invariants per constraint family on the solved example week (real ERCOT July 2023 data)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from dcpower.invariants import check_invariants
from dcpower.results import records_to_frame


@pytest.fixture(scope="module")
def frames(example_results):
    return records_to_frame(example_results["dispatch"]), records_to_frame(
        example_results["electrical"]
    )


def test_solved_to_optimality_on_real_week(example_results):
    s = example_results["solver"]
    assert s["status"] == "optimal"
    assert s["mip_gap"] <= 1e-3
    assert example_results["horizon"]["n_steps"] == 168
    assert set(example_results["market"]["reserve_products"]) == {
        "REGUP",
        "REGDN",
        "RRS",
        "ECRS",
        "NSPIN",
    }
    assert s["n_integer"] > 0 and s["n_rows"] > 0


def test_checker_finds_nothing(example_results):
    assert check_invariants(example_results) == []


def test_energy_balance_every_step(frames):
    d, _ = frames
    lhs = d.grid_import_mw - d.grid_export_mw + d.gen_mw + d.bess_discharge_mw - d.bess_charge_mw
    assert np.max(np.abs(lhs - d.load_served_mw)) <= 1e-6
    assert np.max(np.abs(d.load_served_mw + d.load_unserved_mw - d.load_mw)) <= 1e-6


def test_soc_recursion_and_limits(frames, example_case_dict):
    d, _ = frames
    b = example_case_dict["bess"]
    soc = d.bess_soc_mwh.to_numpy()
    prev = np.concatenate([[b["soc_initial_fraction"] * b["energy_mwh"]], soc[:-1]])
    expected = (
        prev
        + b["charge_efficiency"] * d.bess_charge_mw
        - d.bess_discharge_mw / b["discharge_efficiency"]
    )
    assert np.max(np.abs(soc - expected)) <= 1e-6
    # floor = 5 % of 400 + 20 MWh market reserve + 80 MW × 0.25 h / 0.95 (hand-computed)
    assert d.bess_soc_floor_mwh.to_numpy() == pytest.approx(20 + 20 + 80 * 0.25 / 0.95)
    assert (soc >= d.bess_soc_floor_mwh - 1e-6).all() and (soc <= 400 + 1e-6).all()
    assert soc[-1] >= 200 - 1e-6


def test_never_charges_and_discharges_together(frames):
    d, _ = frames
    assert np.minimum(d.bess_charge_mw, d.bess_discharge_mw).max() <= 1e-7


def test_start_delay_ramps_and_unit_limits(frames, example_case_dict):
    d, _ = frames
    g = example_case_dict["gas_gen"]
    delay = math.ceil(g["start_delay_minutes"] / 60)  # 1 step at hourly resolution
    starts = d.gen_starts.to_numpy()
    recent = np.array([starts[max(0, t - delay + 1) : t + 1].sum() for t in range(len(d))])
    assert (d.gen_units_producing.to_numpy() == d.gen_units_committed.to_numpy() - recent).all()
    gen, prod = d.gen_mw.to_numpy(), d.gen_units_producing.to_numpy()
    assert (gen <= g["unit_mw"] * prod + 1e-6).all()
    up_res = sum(
        d[c]
        for c in d.columns
        if c.endswith("_gen_mw")
        and c.startswith("reserve_")
        and c.split("_")[1] in {"regup", "rrs", "ecrs", "nspin"}
    )
    offline = d["gen_offline_nspin_mw"]  # Non-Spin from units not committed
    assert (offline <= d["reserve_nspin_gen_mw"] + 1e-6).all()
    assert (gen + up_res - offline <= g["unit_mw"] * prod + 1e-6).all()
    assert starts.sum() > 0, "the week should see unit starts"
    ramp = min(g["ramp_mw_per_min"] * 60, g["unit_mw"])
    assert (np.abs(np.diff(gen)) <= ramp * np.maximum(prod[1:], prod[:-1]) + 1e-6).all()


def test_n_plus_1(frames, example_case_dict):
    d, _ = frames
    g, b = example_case_dict["gas_gen"], example_case_dict["bess"]
    bess_up = sum(d[f"reserve_{p}_bess_mw"] for p in ("regup", "rrs", "ecrs", "nspin"))
    cap = g["unit_mw"] * (d.gen_units_producing - 1) + b["power_mw"] - bess_up
    assert (cap >= d.load_critical_mw - 1e-6).all()


def test_electrical_limits(frames, example_case_dict):
    _, e = frames
    c = example_case_dict
    assert e.transformer_s_mva.max() <= c["transformer"]["rating_mva"] + 1e-6
    assert e.pcs_s_mva.max() <= c["bess"]["pcs_mva"] + 1e-6
    flowing = e.poi_s_mva > 1e-3
    assert (e.poi_pf[flowing] >= c["poi"]["min_power_factor"] - 1e-6).all()
    assert e.poi_p_mw.max() <= c["poi"]["import_limit_mw"] + 1e-6
    assert -e.poi_p_mw.min() <= c["poi"]["export_limit_mw"] + 1e-6
    gen_flowing = e.gen_p_mw > 1e-3
    pf_gen = e.gen_p_mw[gen_flowing] / e.gen_s_mva[gen_flowing]
    assert (pf_gen >= c["gas_gen"]["min_power_factor"] - 1e-6).all()
    # every source against its own MVA: units at 0.8 rated PF → 25 MVA each while producing
    d, _ = frames
    assert (e.gen_s_mva <= 25.0 * d.gen_units_producing + 1e-6).all()
    for col in ("transformer_loading_pct", "pcs_loading_pct", "gen_loading_pct"):
        assert e[col].max() <= 100 + 1e-6, col


def test_reserve_headroom_and_energy_backing(frames, example_results):
    d, _ = frames
    prods = example_results["market"]["reserve_products"]
    soc = d.bess_soc_mwh.to_numpy()
    up = sum(
        d[f"reserve_{p.lower()}_bess_mw"] * s["duration_h"]
        for p, s in prods.items()
        if s["direction"] == "up"
    )
    dn = sum(
        d[f"reserve_{p.lower()}_bess_mw"] * s["duration_h"]
        for p, s in prods.items()
        if s["direction"] == "down"
    )
    # delivering r MW for d h takes r·d/η_dis from the cells (η_dis = 0.95)
    assert (soc - d.bess_soc_floor_mwh >= up / 0.95 - 1e-6).all()
    assert (400 - soc >= dn * 0.95 - 1e-6).all()
    up_mw = sum(
        d[f"reserve_{p.lower()}_bess_mw"] for p, s in prods.items() if s["direction"] == "up"
    )
    assert (d.bess_discharge_mw - d.bess_charge_mw + up_mw <= 100 + 1e-6).all()
    assert sum(d[c].sum() for c in d.columns if c.startswith("reserve_") and c.endswith("_mw")) > 0


def test_economics_sum_to_objective(example_results):
    econ = example_results["economics"]
    total = sum(econ["revenues_usd"].values()) - sum(econ["costs_usd"].values())
    assert total == pytest.approx(econ["net_value_usd"], abs=0.01)
    assert econ["net_value_usd"] == pytest.approx(example_results["solver"]["objective"], abs=0.01)
    d = records_to_frame(example_results["dispatch"])
    assert econ["costs_usd"]["energy_import_cost_usd"] == pytest.approx(
        float((d.price_usd_per_mwh * d.grid_import_mw).sum()), abs=0.01
    )
    regup = float(
        (
            d.reserve_price_regup_usd_per_mw_h * (d.reserve_regup_bess_mw + d.reserve_regup_gen_mw)
        ).sum()
    )
    assert econ["revenues_usd"]["reserve_regup_revenue_usd"] == pytest.approx(regup, abs=0.01)


@pytest.mark.parametrize(
    "column, delta, family",
    [
        ("bess_soc_mwh", 5.0, "soc_dynamics"),
        ("grid_import_mw", 1.0, "power_balance"),
        ("gen_units_producing", 1.0, "gen_start_delay"),
    ],
)
def test_checker_catches_corruption(example_results, column, delta, family):
    """The checker is not vacuous: corrupting one value is reported under its family."""
    bad = copy.deepcopy(example_results)
    bad["dispatch"][10][column] += delta
    assert any(v.startswith(family) for v in check_invariants(bad))


def test_binding_constraints_reported(example_results):
    ex = example_results["explainability"]
    assert ex["binding_constraints"], "a real week always has binding limits"
    counts = ex["binding_timesteps_per_family"]
    n = example_results["horizon"]["n_steps"]
    assert all(0 < k <= n for k in counts.values())
    assert set(counts) <= set(ex["families"])
    rows = ex["binding_constraints"]
    assert sum(1 for r in rows for f in r["families"] if f == "soc_floor") == counts.get(
        "soc_floor", 0
    )


def test_binding_caps_match_flows_at_their_limits(frames, example_results, example_case_dict):
    """A cap is reported binding exactly where its flow sits at the limit (not where idle)."""
    d, _ = frames
    counts = example_results["explainability"]["binding_timesteps_per_family"]
    c = example_case_dict
    at_import = int((d.grid_import_mw >= c["poi"]["import_limit_mw"] - 1e-6).sum())
    at_export = int((d.grid_export_mw >= c["poi"]["export_limit_mw"] - 1e-6).sum())
    at_dis = int((d.bess_discharge_mw >= c["bess"]["power_mw"] - 1e-6).sum())
    at_ch = int((d.bess_charge_mw >= c["bess"]["power_mw"] - 1e-6).sum())
    assert counts.get("poi_import_cap", 0) == at_import
    assert counts.get("poi_export_cap", 0) == at_export
    assert counts.get("bess_discharge_cap", 0) == at_dis
    assert counts.get("bess_charge_cap", 0) == at_ch
