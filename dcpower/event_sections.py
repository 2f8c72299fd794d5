"""The results' event and SB 6 sections: what each grid emergency event cost and cut, and the
SB 6 backup-generation screen (recomputed from the dispatch table after the solve)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcpower import columns, events
from dcpower.economics import economics_from_dispatch

#: critical load shed below this (MWh) counts as none
SHED_TOLERANCE_MWH = 1e-6


def events_section(case: Any, dispatch: pd.DataFrame) -> list[dict[str, Any]]:
    """Per event: its steps and cap, the largest net withdrawal in it, energy curtailed per
    segment (MWh), whether critical load was shed, self-supply (MWh) and the operating cost
    of the event's steps ($, recomputed from the dispatch table)."""
    minutes = case.horizon.timestep_minutes
    dt = minutes / 60.0
    products = [c.product for c in columns.reserve_price_columns(dispatch)]
    out = []
    g = case.gas_gen
    windows = events.resolve(case.events)
    gas = events.gas_available_fraction(
        windows, dispatch.index, minutes, g.fuel_supply, g.backup_fuel_hours
    ) * (g.units * g.unit_mw)
    for ev in windows:
        on = events.step_mask(ev, dispatch.index, minutes)
        d = dispatch.loc[on]
        net = (d["grid_import_mw"] - d["grid_export_mw"]).to_numpy()
        econ = economics_from_dispatch(d, case, products)
        costs = econ["costs_usd"]
        crit = float(d["critical_unserved_mw"].sum() * dt)
        out.append(
            {
                "name": ev.name,
                "source": ev.source,
                "window": ev.window,
                "start_utc": ev.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_utc": ev.end_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "cap_mw": ev.cap_mw,
                "steps": int(on.sum()),
                "max_net_withdrawal_mw": float(net.max()) if len(net) else None,
                "curtailed_mwh": {
                    "flexible": float(d["flexible_curtailed_mw"].sum() * dt),
                    "noncritical": float(d["noncritical_unserved_mw"].sum() * dt),
                    "critical": crit,
                },
                "critical_shed": crit > SHED_TOLERANCE_MWH,
                "self_supply_mwh": {
                    "load": float(d["load_mw"].sum() * dt),
                    "served": float(d["load_served_mw"].sum() * dt),
                    "gen": float(d["gen_mw"].sum() * dt),
                    "bess_discharge": float(d["bess_discharge_mw"].sum() * dt),
                    "bess_charge": float(d["bess_charge_mw"].sum() * dt),
                    "grid_import": float(d["grid_import_mw"].sum() * dt),
                    "grid_export": float(d["grid_export_mw"].sum() * dt),
                },
                "operating_cost_usd": {
                    "fuel": costs["gen_fuel_cost_usd"] + costs["gen_start_cost_usd"],
                    "flexible_curtailment": costs["flexible_curtailment_cost_usd"],
                    "voll": costs["unserved_noncritical_cost_usd"]
                    + costs["unserved_critical_cost_usd"],
                    "energy_net": costs["energy_import_cost_usd"]
                    - econ["revenues_usd"]["energy_export_revenue_usd"],
                    "net_value_in_window": econ["net_value_usd"],
                },
                "fuel_supply": g.fuel_supply,
                "pipeline_gas_fraction": ev.pipeline_gas_fraction,
                "pipeline_gas_source": ev.pipeline_gas_source or None,
                "gas_available_mw_min": float(gas[on].min()) if on.any() else None,
            }
        )
    return out


#: SB 6 applies to loads at or above this, MW (Utilities Code §37.0561 as SB 6 adds it)
SB6_THRESHOLD_MW = 75.0
SB6_BACKUP_SHARE = 0.5
SB6_SOURCE = (
    "Texas SB 6, 89th Legislature (R.S.), 2025, enrolled text (signed 20 June 2025): large "
    "loads of 75 MW or more disclose on-site backup generation able to serve at least 50 % of "
    "on-site demand and may be directed by ERCOT to curtail or switch to backup during an "
    "energy emergency; PUCT Project No. 58317 implements it. "
    "https://capitol.texas.gov/tlodocs/89R/billtext/html/SB00006F.htm"
)


def _shortfall(backup_mw: float, load: np.ndarray, dt: float, idx) -> dict[str, Any]:
    short = SB6_BACKUP_SHARE * load - backup_mw
    bad = short > 1e-9
    return {
        "backup_mw": backup_mw,
        "passes": not bool(bad.any()),
        "hours_short": float(bad.sum() * dt),
        "worst_shortfall_mw": float(max(short.max(), 0.0)) if len(short) else 0.0,
        "first_short_utc": idx[bad][0].strftime("%Y-%m-%dT%H:%M:%SZ") if bad.any() else None,
    }


def sb6_section(case: Any, dispatch: pd.DataFrame) -> dict[str, Any]:
    """SB 6 screen: installed gas units (MW) vs 50 % of the load at every step, for a site whose
    peak load is at least 75 MW. The test counts gas only (SB 6 speaks of backup
    *generation*); gas + BESS at its power rating is reported for information."""
    load = dispatch["load_mw"].to_numpy(float)
    dt = case.horizon.timestep_minutes / 60.0
    g, b = case.gas_gen, case.bess
    gas = g.units * g.unit_mw if g.installed else 0.0
    peak = float(load.max()) if len(load) else 0.0
    return {
        "threshold_mw": SB6_THRESHOLD_MW,
        "peak_load_mw": peak,
        "applies": peak >= SB6_THRESHOLD_MW,
        "required_share": SB6_BACKUP_SHARE,
        "gas_only": _shortfall(gas, load, dt, dispatch.index),
        "gas_plus_bess_info": _shortfall(
            gas + (b.power_mw if b.installed else 0.0), load, dt, dispatch.index
        ),
        "rule": "pass when installed gas MW ≥ 50 % of load_mw at every step; hours_short "
        "counts the steps where it is not (× Δt)",
        "source": SB6_SOURCE,
    }
