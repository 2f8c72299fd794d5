"""Economics stacks in $: from the objective's own terms (what results report) and, as an
independent check, recomputed from the dispatch table alone (what the invariants compare).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dcpower import columns
from dcpower.case import Case


def _stack(revenues: dict[str, float], costs: dict[str, float]) -> dict[str, Any]:
    """Revenue and cost stacks ($, costs positive) with their totals and the net value."""
    total_rev, total_cost = sum(revenues.values()), sum(costs.values())
    return {
        "revenues_usd": revenues,
        "costs_usd": costs,
        "total_revenue_usd": total_rev,
        "total_cost_usd": total_cost,
        "net_value_usd": total_rev - total_cost,
    }


def economics_from_terms(terms_usd: dict[str, float], kinds: dict[str, str]) -> dict[str, Any]:
    """The economics stack from the objective's own named terms (signed $, see
    ``dispatch_milp.term_kinds``): revenues as they are, costs as positive amounts; they add
    up to ``net_value_usd``, which is the objective by construction."""
    revenues = {n: float(v) for n, v in terms_usd.items() if kinds[n] == "revenue"}
    costs = {n: -float(v) for n, v in terms_usd.items() if kinds[n] == "cost"}
    return _stack(revenues, costs)


def economics_from_dispatch(
    dispatch: pd.DataFrame, case: Case, reserve_products: list[str]
) -> dict[str, Any]:
    """Revenue and cost stacks ($) of ``dispatch`` (columns as ``results.dispatch``)."""
    dt = case.horizon.timestep_minutes / 60.0
    d = dispatch
    price = d["price_usd_per_mwh"]
    adder = case.market.export_price_adder_usd_per_mwh
    revenues = {
        "energy_export_revenue_usd": float(((price + adder) * d["grid_export_mw"]).sum() * dt)
    }
    load_held = 0.0 * price  # MW of every product held by the flexible load
    for p in reserve_products:
        cols = [c for r in ("gen", "bess") for c in columns.award_columns(d, p, r)]
        held = d[cols].sum(axis=1) if cols else 0.0
        revenues[columns.revenue_key(p)] = float((d[columns.price_column(p)] * held).sum() * dt)
        for c in columns.award_columns(d, p, "load"):
            load_rev = (d[columns.price_column(p)] * d[c]).sum() * dt
            revenues[columns.load_revenue_key(p)] = float(load_rev)
            load_held = load_held + d[c]
    g, b, rel, load = case.gas_gen, case.bess, case.reliability, case.load
    costs = {
        "energy_import_cost_usd": float((price * d["grid_import_mw"]).sum() * dt),
        "gen_fuel_cost_usd": float(g.fuel_cost_usd_per_mwh * d["gen_mw"].sum() * dt),
        "gen_start_cost_usd": float(g.start_cost_usd * d["gen_starts"].sum()),
        "bess_degradation_cost_usd": float(
            b.degradation_cost_usd_per_mwh
            * (d["bess_charge_mw"] + d["bess_discharge_mw"]).sum()
            * dt
        ),
        "unserved_critical_cost_usd": float(
            rel.voll_critical_usd_per_mwh * d["critical_unserved_mw"].sum() * dt
        ),
        "unserved_noncritical_cost_usd": float(
            rel.voll_noncritical_usd_per_mwh * d["noncritical_unserved_mw"].sum() * dt
        ),
        "flexible_curtailment_cost_usd": float(
            load.flexible_curtailment_usd_per_mwh * d["flexible_curtailed_mw"].sum() * dt
        ),
    }
    if case.load.reserves.products:
        deployed_mwh = load.reserves.expected_deployment_fraction * load_held.sum() * dt
        costs["load_reserve_deployment_cost_usd"] = float(
            load.deployment_cost_usd_per_mwh * deployed_mwh
        )
    if case.poi.power_factor_rule == "penalty":
        excess = d["poi_q_excess_mvar"] if "poi_q_excess_mvar" in d.columns else 0.0 * price
        costs["poi_excess_reactive_cost_usd"] = float(
            case.poi.excess_reactive_cost_usd_per_mvarh * excess.sum() * dt
        )
    if "da_position_mw" in d.columns:
        costs[DEVIATION_TERM] = realtime_deviation_cost_usd(d, dt)
    if case.tariff is not None and "cp_charge_usd_per_mw" in d.columns:
        # $ per MW of withdrawal in the step × the withdrawal (import: never with export)
        costs["transmission_cp_charge_usd"] = float(
            (d["cp_charge_usd_per_mw"] * d["grid_import_mw"]).sum()
        )
    return _stack(revenues, costs)


#: the two-settlement term: the real-time settlement of deviations from day-ahead positions
DEVIATION_TERM = "realtime_deviation_cost_usd"


def realtime_deviation_cost_usd(dispatch: pd.DataFrame, dt_h: float) -> float:
    """What settling deviations at real-time prices adds to the energy bill, $ (ERCOT's
    two-settlement: the day-ahead position D buys at the DAM price P_DA, the metered net
    withdrawal R's deviation R − D at the real-time price P_RT; the dispatch's energy terms
    already charge R × P_DA, so the bill is that + Σ (R − D)(P_RT − P_DA) Δt)."""
    d = dispatch
    net = d["grid_import_mw"] - d["grid_export_mw"]
    spread = d["rt_price_usd_per_mwh"] - d["price_usd_per_mwh"]
    return float(((net - d["da_position_mw"]) * spread).sum() * dt_h)


def settled_charge_usd(dispatch: pd.DataFrame) -> float:
    """The CP charge settled after the solve (responses 'alert' and 'none'), signed as an
    objective term (negative), from the dispatch: Σ cp_charge_usd_per_mw × import."""
    return -float((dispatch["cp_charge_usd_per_mw"] * dispatch["grid_import_mw"]).sum())


def per_mwh_figures(dispatch: pd.DataFrame, econ: dict[str, Any], dt_h: float) -> dict[str, Any]:
    """Energy totals (MWh) and $/MWh figures of a dispatch."""
    served = float(dispatch["load_served_mw"].sum() * dt_h)
    imported = float(dispatch["grid_import_mw"].sum() * dt_h)
    exported = float(dispatch["grid_export_mw"].sum() * dt_h)
    gen = float(dispatch["gen_mw"].sum() * dt_h)
    energy = {
        "load_mwh": float(dispatch["load_mw"].sum() * dt_h),
        "load_served_mwh": served,
        "load_unserved_mwh": float(dispatch["load_unserved_mw"].sum() * dt_h),
        "critical_unserved_mwh": float(dispatch["critical_unserved_mw"].sum() * dt_h),
        "grid_import_mwh": imported,
        "grid_export_mwh": exported,
        "gen_mwh": gen,
        "bess_charge_mwh": float(dispatch["bess_charge_mw"].sum() * dt_h),
        "bess_discharge_mwh": float(dispatch["bess_discharge_mw"].sum() * dt_h),
    }
    costs = econ["costs_usd"]
    rev = econ["revenues_usd"]

    def ratio(a: float, b: float) -> float | None:
        return a / b if b > 1e-9 else None

    per = {
        "net_cost_usd_per_mwh_served": ratio(-econ["net_value_usd"], served),
        "avg_import_price_usd_per_mwh": ratio(costs["energy_import_cost_usd"], imported),
        "avg_export_price_usd_per_mwh": ratio(rev["energy_export_revenue_usd"], exported),
        "avg_gen_cost_usd_per_mwh": ratio(
            costs["gen_fuel_cost_usd"] + costs["gen_start_cost_usd"], gen
        ),
        "avg_energy_price_usd_per_mwh": float(dispatch["price_usd_per_mwh"].mean()),
    }
    return {"energy_mwh": energy, "usd_per_mwh": per}


#: groups of economics terms the foresight premium is reported by
PREMIUM_GROUPS = ("energy", "ancillary_services", "transmission_4cp", "other")
_ENERGY_TERMS = {
    "energy_export_revenue_usd",
    "energy_import_cost_usd",
    "gen_fuel_cost_usd",
    "gen_start_cost_usd",
    "bess_degradation_cost_usd",
    DEVIATION_TERM,
}
_CP_TERM = "transmission_cp_charge_usd"


_AS_COSTS = {"load_reserve_deployment_cost_usd"}


def premium_groups(economics: dict[str, Any]) -> dict[str, str]:
    """Each term of an economics stack → its premium group: ``energy`` (energy bought and
    sold, gas fuel and starts, battery wear, two-settlement deviations: the BESS's arbitrage
    and the gas dispatch), ``ancillary_services`` (AS revenues of every resource, the load's
    deployment cost), ``transmission_4cp`` (the CP charge) or ``other`` (unserved load,
    curtailment, reactive power)."""
    revenues = economics["revenues_usd"]
    reserve = {
        c.column
        for c in columns.reserve_revenue_keys(revenues)
        + columns.load_reserve_revenue_keys(revenues)
    }
    out = {}
    for term in [*revenues, *economics["costs_usd"]]:
        if term in _ENERGY_TERMS:
            out[term] = "energy"
        elif term == _CP_TERM:
            out[term] = "transmission_4cp"
        elif term in reserve or term in _AS_COSTS:
            out[term] = "ancillary_services"
        else:
            out[term] = "other"
    return out


def net_by_group(economics: dict[str, Any]) -> dict[str, float]:
    """An economics stack's net value per premium group, $ (revenues − costs)."""
    group = premium_groups(economics)
    out = dict.fromkeys(PREMIUM_GROUPS, 0.0)
    for term, usd in economics["revenues_usd"].items():
        out[group[term]] += float(usd)
    for term, usd in economics["costs_usd"].items():
        out[group[term]] -= float(usd)
    return out


def foresight_premium(clairvoyant: dict[str, Any], realised: dict[str, Any]) -> dict[str, float]:
    """Clairvoyant − realised net value of the same case, $: in total
    (``foresight_premium_usd``) and per premium group (``foresight_premium_<group>_usd``);
    arguments are the two runs' economics stacks."""
    c, r = net_by_group(clairvoyant), net_by_group(realised)
    out = {"foresight_premium_usd": clairvoyant["net_value_usd"] - realised["net_value_usd"]}
    out.update({f"foresight_premium_{g}_usd": c[g] - r[g] for g in PREMIUM_GROUPS})
    return out
