"""Independent checks of a results dict against the physics and economics it claims.

Reads only the results (dispatch, electrical, economics, case echo) — never the model — so a
result produced by any method (monolithic MILP, decomposition, another tool) can be verified.
Returns human-readable violations; an empty list means every invariant holds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dcpower.case import Case
from dcpower.resources import bess as bess_model
from dcpower.resources import gas_gen

BALANCE_TOL_MW = 1e-6
TOL = 1e-5  # MW, MWh, MVAr: row feasibility of HiGHS (1e-7) with headroom for scaling
ECONOMICS_TOL_USD = 0.01


def _fail(out: list[str], name: str, bad: np.ndarray, idx: pd.DatetimeIndex, excess: np.ndarray):
    if bad.any():
        i = int(np.argmax(np.where(bad, excess, -np.inf)))
        out.append(
            f"{name}: violated at {int(bad.sum())} step(s), worst {idx[i]} by {excess[i]:.3g}"
        )


def check_invariants(results: dict[str, Any]) -> list[str]:
    """Every invariant violation in ``results`` (empty list when all hold)."""
    from dcpower.results import records_to_frame

    case = Case.model_validate(results["case"])
    d = records_to_frame(results["dispatch"])
    e = records_to_frame(results["electrical"])
    idx = d.index
    dt = case.horizon.timestep_minutes / 60.0
    out: list[str] = []

    def check(name: str, excess: np.ndarray, tol: float = TOL) -> None:
        excess = np.asarray(excess, float)
        _fail(out, name, excess > tol, idx, excess)

    imp, exp_ = d["grid_import_mw"].to_numpy(), d["grid_export_mw"].to_numpy()
    gen, ch, dis = (
        d["gen_mw"].to_numpy(),
        d["bess_charge_mw"].to_numpy(),
        d["bess_discharge_mw"].to_numpy(),
    )
    served, load = d["load_served_mw"].to_numpy(), d["load_mw"].to_numpy()
    check("power_balance", np.abs(imp - exp_ + gen + dis - ch - served), BALANCE_TOL_MW)
    check(
        "served_plus_unserved",
        np.abs(served + d["load_unserved_mw"].to_numpy() - load),
        BALANCE_TOL_MW,
    )
    check("unserved_nonnegative", -d["load_unserved_mw"].to_numpy())
    # POI
    check("poi_import_cap", imp - case.poi.import_limit_mw)
    check("poi_export_cap", exp_ - case.poi.export_limit_mw)
    check("no_simultaneous_import_export", np.minimum(imp, exp_))
    k_poi = gas_gen.reactive_ratio(case.poi.min_power_factor)
    p_poi, q_poi = e["poi_p_mw"].to_numpy(), e["poi_q_mvar"].to_numpy()
    check("poi_power_factor", np.abs(q_poi) - k_poi * np.abs(p_poi))
    check("transformer_mva", e["transformer_s_mva"].to_numpy() - case.transformer.rating_mva)
    # BESS
    b = case.bess
    soc = d["bess_soc_mwh"].to_numpy()
    if b.energy_mwh > 0 and b.power_mw > 0:
        prev = np.concatenate([[bess_model.soc_initial_mwh(b)], soc[:-1]])
        expected = prev + b.charge_efficiency * ch * dt - dis * dt / b.discharge_efficiency
        check("soc_dynamics", np.abs(soc - expected))
        check("no_simultaneous_charge_discharge", np.minimum(ch, dis))
        check("bess_charge_cap", ch - b.power_mw)
        check("bess_discharge_cap", dis - b.power_mw)
        check("soc_floor", d["bess_soc_floor_mwh"].to_numpy() - soc)
        check("soc_ceiling", soc - bess_model.soc_max_mwh(b))
        floor_expected = bess_model.soc_floor_mwh(
            b, d["load_critical_mw"].to_numpy(), case.reliability.ride_through_minutes
        )
        check("soc_floor_definition", np.abs(d["bess_soc_floor_mwh"].to_numpy() - floor_expected))
        if soc[-1] < bess_model.soc_final_min_mwh(b) - TOL:
            out.append(
                f"soc_terminal: final SOC {soc[-1]:.4f} < {bess_model.soc_final_min_mwh(b):.4f}"
            )
        check("pcs_mva", e["pcs_s_mva"].to_numpy() - b.pcs_mva)
    else:
        check("no_bess", np.abs(ch) + np.abs(dis))
    # Gas units
    g = case.gas_gen
    committed = d["gen_units_committed"].to_numpy()
    producing = d["gen_units_producing"].to_numpy()
    starts = d["gen_starts"].to_numpy()
    delay = gas_gen.start_delay_steps(g, case.horizon.timestep_minutes)
    recent = np.array([starts[max(0, t - delay + 1) : t + 1].sum() for t in range(len(idx))])
    check("gen_start_delay", np.abs(producing - (committed - recent)))
    check("gen_producing_nonnegative", -producing)
    prev_c = np.concatenate([[g.initial_units_online], committed[:-1]])
    check("gen_starts_cover_commitment_increase", (committed - prev_c) - starts)
    check("gen_units_installed", committed - g.units)
    reserves = {
        c: d[c].to_numpy()
        for c in d.columns
        if c.startswith("reserve_") and c.endswith("_mw") and not c.startswith("reserve_price_")
    }
    products = results["market"]["reserve_products"]

    def rsum(resource: str, direction: str) -> np.ndarray:
        total = np.zeros(len(idx))
        for p, spec in products.items():
            col = f"reserve_{p.lower()}_{resource}_mw"
            if spec["direction"] == direction and col in reserves:
                total += reserves[col]
        return total

    def rbacking(direction: str) -> np.ndarray:
        total = np.zeros(len(idx))
        for p, spec in products.items():
            col = f"reserve_{p.lower()}_bess_mw"
            if spec["direction"] == direction and col in reserves:
                total += reserves[col] * spec["duration_h"]
        return total

    for col, v in reserves.items():
        check(f"{col}_nonnegative", -v)
        resource = col.rsplit("_", 2)[1]
        product = col.removeprefix("reserve_").rsplit("_", 2)[0].upper()
        if resource not in products.get(product, {}).get("eligible_resources", []):
            out.append(f"reserve eligibility: {col} is not an eligible resource for {product}")
    pmin = gas_gen.min_output_mw(g)
    check("gen_max_output", gen + rsum("gen", "up") - g.unit_mw * producing)
    check("gen_min_output", pmin * producing - (gen - rsum("gen", "down")))
    ramp = gas_gen.ramp_per_step_mw(g, case.horizon.timestep_minutes)
    su = gas_gen.startup_shutdown_ramp_mw(g, case.horizon.timestep_minutes)
    new = np.array([starts[t - delay] if t - delay >= 0 else 0 for t in range(len(idx))])
    stops = np.maximum(prev_c + starts - committed, 0)
    up = np.diff(gen, prepend=np.nan)[1:] - (ramp * (producing - new) + su * new)[1:]
    down = -np.diff(gen, prepend=np.nan)[1:] - (ramp * producing + su * stops)[1:]
    if len(idx) > 1:
        _fail(out, "gen_ramp_up", up > TOL, idx[1:], up)
        _fail(out, "gen_ramp_down", down > TOL, idx[1:], down)
    k_gen = gas_gen.reactive_ratio(g.min_power_factor)
    check("gen_power_factor", np.abs(e["gen_q_mvar"].to_numpy()) - k_gen * gen)
    if case.reliability.n_plus_1:
        bess_mw = b.power_mw if b.energy_mwh > 0 else 0.0
        cap = gas_gen.n_plus_1_capacity_mw(g, producing, bess_mw - rsum("bess", "up"))
        check("n_plus_1", d["load_critical_mw"].to_numpy() - cap)
    if b.energy_mwh > 0 and reserves:
        floor = d["bess_soc_floor_mwh"].to_numpy()
        prev = np.concatenate([[bess_model.soc_initial_mwh(b)], soc[:-1]])
        for label, level in (("end", soc), ("start", prev)):
            check(f"reserve_energy_up_{label}", rbacking("up") - (level - floor))
            check(
                f"reserve_energy_down_{label}",
                rbacking("down") * b.charge_efficiency - (bess_model.soc_max_mwh(b) - level),
            )
        check("bess_up_headroom", dis - ch + rsum("bess", "up") - b.power_mw)
        check("bess_down_headroom", ch - dis + rsum("bess", "down") - b.power_mw)
    up_all, dn_all = (
        rsum("gen", "up") + rsum("bess", "up"),
        rsum("gen", "down") + rsum("bess", "down"),
    )
    if reserves:
        check("poi_reserve_up", exp_ - imp + up_all - case.poi.export_limit_mw)
        check("poi_reserve_down", imp - exp_ + dn_all - case.poi.import_limit_mw)
    # Economics add up to the objective
    econ = results["economics"]
    total = sum(econ["revenues_usd"].values()) - sum(econ["costs_usd"].values())
    if abs(total - econ["net_value_usd"]) > ECONOMICS_TOL_USD:
        out.append(
            f"economics: stacks sum to {total:.2f}, net_value_usd is {econ['net_value_usd']:.2f}"
        )
    obj = econ.get("objective_usd")
    if obj is not None and abs(econ["net_value_usd"] - obj) > max(
        ECONOMICS_TOL_USD, 1e-9 * abs(obj)
    ):
        out.append(f"economics: net_value_usd {econ['net_value_usd']:.2f} != objective {obj:.2f}")
    price = d["price_usd_per_mwh"].to_numpy()
    recomputed_import = float(np.sum(price * imp * dt))
    if not math.isclose(
        recomputed_import,
        econ["costs_usd"]["energy_import_cost_usd"],
        rel_tol=1e-9,
        abs_tol=ECONOMICS_TOL_USD,
    ):
        out.append("economics: energy_import_cost_usd does not equal Σ price × import × Δt")
    return out
