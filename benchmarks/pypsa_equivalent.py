"""The energy-only LP of a dcpower case (grid + battery, no gas units, no reserves) in PyPSA.

Benchmark-only (PyPSA is the optional ``bench`` extra, never needed by dcpower or its tests).
One bus; the POI as an import generator (price) and an export generator (negative output,
price + export adder); the battery as a store with charge and discharge links (efficiencies,
degradation cost on the AC MWh of both, SOC floor per step, initial SOC, terminal SOC floor);
the load's critical, flexible and other segments as fixed demand with a shedding generator per
segment at its cost (VOLL, curtailment cost). What PyPSA's plain components do not state, and
dcpower's LP relaxation does (so dcpower's optimum is ≤ PyPSA's): charge + discharge ≤ power
and import/import limit + export/export limit ≤ 1 (the relaxed mode variables). Transformer and
PF rows are not stated either: on the benchmark site they cannot bind (``pruning``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd


def solve_pypsa(x) -> dict:
    """Build and solve the PyPSA model of ``DispatchInputs`` ``x``; times in seconds, the
    objective as dcpower's net value ($, maximised)."""
    import logging
    import warnings

    import pypsa

    warnings.simplefilter("ignore", FutureWarning)
    for name in ("pypsa", "linopy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    case = x.case
    t0 = time.perf_counter()
    n = pypsa.Network()
    snapshots = pd.RangeIndex(x.n_steps)
    n.set_snapshots(snapshots)
    n.snapshot_weightings.loc[:, :] = x.dt_h
    n.add("Bus", "site")
    price = pd.Series(np.asarray(x.price_usd_per_mwh, float), index=snapshots)
    poi = case.poi
    n.add("Generator", "import", bus="site", p_nom=poi.import_limit_mw, marginal_cost=price)
    n.add(
        "Generator",
        "export",
        bus="site",
        p_nom=poi.export_limit_mw,
        p_max_pu=0.0,
        p_min_pu=-1.0,
        marginal_cost=price + case.market.export_price_adder_usd_per_mwh,
    )
    rel, load = case.reliability, case.load
    segments = {
        "critical": (x.load.critical_mw, rel.voll_critical_usd_per_mwh),
        "flexible": (x.load.flexible_mw, load.flexible_curtailment_usd_per_mwh),
        "other": (x.load.other_mw, rel.voll_noncritical_usd_per_mwh),
    }
    for name, (mw, cost) in segments.items():
        mw = np.asarray(mw, float)
        n.add("Load", name, bus="site", p_set=pd.Series(mw, index=snapshots))
        top = max(float(mw.max()), 1e-6)
        n.add(
            "Generator",
            f"shed_{name}",
            bus="site",
            p_nom=top,
            p_max_pu=pd.Series(mw / top, index=snapshots),
            marginal_cost=cost,
        )
    b = case.bess
    n.add("Bus", "battery")
    floor = np.asarray(x.soc_floor_mwh, float).copy()
    if x.soc_final_min_mwh is not None:
        floor[-1] = max(floor[-1], x.soc_final_min_mwh)
    top = b.energy_mwh * b.soc_max_fraction
    n.add(
        "Store",
        "soc",
        bus="battery",
        e_nom=b.energy_mwh,
        e_max_pu=b.soc_max_fraction,
        e_min_pu=pd.Series(np.minimum(floor, top) / b.energy_mwh, index=snapshots),
        e_initial=x.soc_initial_mwh,
    )
    wear = b.degradation_cost_usd_per_mwh
    n.add(
        "Link",
        "charge",
        bus0="site",
        bus1="battery",
        p_nom=b.power_mw,
        efficiency=b.charge_efficiency,
        marginal_cost=wear,
    )
    n.add(  # p0 is the battery-side MWh: the AC MWh is p0·η, so the cost per p0 is wear·η
        "Link",
        "discharge",
        bus0="battery",
        bus1="site",
        p_nom=b.power_mw / b.discharge_efficiency,
        efficiency=b.discharge_efficiency,
        marginal_cost=wear * b.discharge_efficiency,
    )
    n.optimize.create_model(include_objective_constant=False)
    t1 = time.perf_counter()
    status, condition = n.optimize.solve_model(
        solver_name="highs", io_api="direct", output_flag=False
    )
    t2 = time.perf_counter()
    if status != "ok":
        raise RuntimeError(f"PyPSA: {status} {condition}")
    return {
        "pypsa_build_s": t1 - t0,
        "pypsa_solve_s": t2 - t1,
        "pypsa_s": t2 - t0,
        "pypsa_rows": int(n.model.constraints.ncons),
        "pypsa_columns": int(n.model.variables.nvars),
        "pypsa_objective": -float(n.objective),
    }
