"""Read a solved model into plain pandas/numpy: dispatch, electrical screening, economics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dcpower import columns
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import gas_gen
from dcpower.topology.polygon import polygon_loading
from dcpower.topology.screening import power_factor, screen_element


def _values(var_or_expr, index) -> np.ndarray:
    """Values of ``var_or_expr[t]`` for ``t`` in ``index`` (a variable's held values read
    directly; expressions, and a variable without a value, through ``pyo.value``, which raises
    on a missing value)."""
    if isinstance(var_or_expr, pyo.Var):
        held = [var_or_expr[t].value for t in index]
        if None not in held:
            return np.array(held, dtype=float)
    return np.array([pyo.value(var_or_expr[t]) for t in index], dtype=float)


def _near_integers(v: np.ndarray) -> np.ndarray:
    """Snap solver noise (1e-9) on integer quantities; relaxed values stay fractional."""
    r = np.rint(v)
    return np.where(np.abs(v - r) < 1e-6, r, v)


def dispatch_frame(m: pyo.ConcreteModel, x: DispatchInputs) -> pd.DataFrame:
    """One row per timestep (UTC interval start), MW / MWh / units; SOC at end of step."""
    T = list(m.T)
    df = pd.DataFrame(index=pd.DatetimeIndex(x.timestamps, name="timestamp"))
    df["price_usd_per_mwh"] = x.price_usd_per_mwh
    df["load_mw"] = x.load.total_mw
    df["load_critical_mw"] = x.load.critical_mw
    unserved_c = _values(m.unserved_critical, T)
    unserved_f = _values(m.unserved_flexible, T)
    unserved_o = _values(m.unserved_other, T)
    unserved = unserved_c + unserved_f + unserved_o
    df["load_served_mw"] = x.load.total_mw - unserved
    df["load_unserved_mw"] = unserved
    df["critical_unserved_mw"] = unserved_c
    df["flexible_curtailed_mw"] = unserved_f
    df["noncritical_unserved_mw"] = unserved_o
    df["grid_import_mw"] = _values(m.grid_import, T)
    df["grid_export_mw"] = _values(m.grid_export, T)
    df["gen_mw"] = _values(m.gen_mw, T)
    df["gen_units_committed"] = _near_integers(_values(m.gen_committed, T))
    df["gen_units_producing"] = _near_integers(_values(m.gen_producing, T))
    df["gen_starts"] = _near_integers(_values(m.gen_starts, T))
    df["bess_charge_mw"] = _values(m.bess_charge, T)
    df["bess_discharge_mw"] = _values(m.bess_discharge, T)
    df["bess_soc_mwh"] = _values(m.bess_soc, T)
    df["bess_soc_floor_mwh"] = x.soc_floor_mwh
    for p, res in m.RESERVE_PAIRS:
        df[columns.award_column(p, res)] = _values(m.reserve, [(p, res, t) for t in T])
    for p in getattr(m, "OFFLINE_PRODUCTS", ()):
        df[columns.offline_column(p)] = _values(m.reserve_offline, [(p, t) for t in T])
    if hasattr(m, "poi_q_excess"):
        df["poi_q_excess_mvar"] = _values(m.poi_q_excess, T)
    for p in x.reserve_products:
        df[columns.price_column(p)] = x.reserve_price_usd_per_mw_h[p]
    if x.cp_usd_per_mw is not None:
        df["cp_charge_usd_per_mw"] = x.cp_usd_per_mw
    if x.alert_cap_mw is not None:
        cap = x.case.tariff.alert.max_withdrawal_mw
        df["cp_alert"] = (x.alert_cap_mw <= cap + 1e-9).astype(float)
    if x.event_cap_mw is not None:
        df["event_cap_mw"] = x.event_cap_mw
    columns.check_columns(df.columns, "dispatch")
    return df


def electrical_frame(m: pyo.ConcreteModel, x: DispatchInputs) -> pd.DataFrame:
    """P, Q, S, loading % per element and PF at the POI, per timestep."""
    T = list(m.T)
    case = x.case
    p_poi = _values(m.grid_import, T) - _values(m.grid_export, T)
    q_poi = _values(m.poi_q, T)
    p_pcs = _values(m.bess_discharge, T) - _values(m.bess_charge, T)
    q_pcs = _values(m.bess_q, T)
    p_gen = _values(m.gen_mw, T)
    q_gen = _values(m.gen_q, T)
    cols: dict[str, np.ndarray] = {}
    cols.update(screen_element("transformer", p_poi, q_poi, case.transformer.rating_mva))
    cols.update(screen_element("pcs", p_pcs, q_pcs, case.bess.pcs_mva))
    producing = np.maximum(_near_integers(_values(m.gen_producing, T)), 0.0)
    gen_rating = gas_gen.unit_mva(case.gas_gen) * producing  # MVA of the producing units
    cols.update(screen_element("gen", p_gen, q_gen, 1.0))
    cols["gen_rating_mva"] = gen_rating
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["gen_loading_pct"] = np.where(
            gen_rating > 0,
            100.0 * cols["gen_s_mva"] / np.where(gen_rating > 0, gen_rating, 1.0),
            np.where(cols["gen_s_mva"] > 1e-9, np.inf, 0.0),
        )
    poi = screen_element("poi", p_poi, q_poi, 1.0)
    limit = np.where(p_poi >= 0, case.poi.import_limit_mw, case.poi.export_limit_mw)
    with np.errstate(divide="ignore", invalid="ignore"):
        poi["poi_loading_pct"] = np.where(
            limit > 0,
            100.0 * np.abs(p_poi) / np.where(limit > 0, limit, 1.0),
            np.where(np.abs(p_poi) > 1e-9, np.inf, 0.0),
        )
    cols.update(poi)
    cols["poi_pf"] = power_factor(p_poi, q_poi)
    facets = case.transformer.polygon_facets
    cols["transformer_polygon_loading_pct"] = (
        100.0 * polygon_loading(p_poi, q_poi, facets) / case.transformer.rating_mva
    )
    if case.bess.pcs_mva > 0:
        cols["pcs_polygon_loading_pct"] = (
            100.0 * polygon_loading(p_pcs, q_pcs, facets) / case.bess.pcs_mva
        )
    if case.gas_gen.installed:
        cols["gen_polygon_loading_pct"] = np.where(
            gen_rating > 0,
            100.0 * polygon_loading(p_gen, q_gen, facets) / np.where(gen_rating > 0, gen_rating, 1),
            0.0,
        )
    cols["load_q_mvar"] = q_poi + q_gen + q_pcs
    columns.check_columns(cols, "electrical")
    return pd.DataFrame(cols, index=pd.DatetimeIndex(x.timestamps, name="timestamp"))
