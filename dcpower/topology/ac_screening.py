"""AC screening of a solved dispatch: which steps, which operating points, voltages and the band.

The dispatch model is linear (MW balance, MVA polygons, PF cones): it has no voltage, no
impedance and no losses. This module re-solves the site one-line (``ac_network``) as an AC power
flow at

- every step where a reactive-power or MVA row comes within 10 % of its limit
  (``NEAR_LIMIT_FRACTION``) at the dispatched point or a deployed one
  (``deployment.deployed_points``): transformer, PCS and gas-unit MVA polygons, the POI and
  gas-unit PF cones;
- the year's extremes: largest import, largest export, largest |Q| and S at the POI, and the
  highest and lowest voltage the linear estimate ΔV ≈ (R·P + X·Q) / V² predicts;

each at the dispatched point and, where the step carries awards of that direction, at the points
with all up (or all down) awards deployed. Per step the electrical table reports the point
closest to (or furthest outside) the voltage band (``ac_point`` names it: 0 dispatched, +1 up
awards deployed, −1 down awards deployed); steps not screened stay NaN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dcpower import columns
from dcpower.case import Case
from dcpower.resources import gas_gen
from dcpower.topology import deployment
from dcpower.topology.ac_network import (
    BASE_MVA,
    AcPoints,
    SiteNet,
    SiteParameters,
    grid_impedance_pu,
    transformer_impedance_pu,
)
from dcpower.topology.polygon import polygon_loading

#: a row is "near its limit" at this fraction of it (the issue's 10 %)
NEAR_LIMIT_FRACTION = 0.9
#: Q below this is no flow for the PF tests, MVAr
Q_TOLERANCE_MVAR = 1e-3
#: code of each operating point in the ``ac_point`` column
POINT_CODES = {"dispatched": 0, "deployed_up": 1, "deployed_down": -1}
#: the binding-report family of steps outside the voltage band
BAND_FAMILY = "ac_voltage_band"
BAND_FAMILY_TEXT = (
    "AC screening (pandapower one-line): POI or site-bus voltage outside poi.voltage_band_pu "
    "at the dispatched or a deployed point, or no AC solution (voltage collapse)"
)
#: AC transformer loading above 100 % by more than this is reported, %
OVERLOAD_TOLERANCE_PCT = 0.1
#: largest |batch − pandapower runpp| voltage accepted at the cross-checked point, pu
CROSS_CHECK_TOLERANCE_PU = 1e-6


@dataclass(frozen=True)
class SitePoint:
    """One operating point per step: the site bus's net injection (sources − load)."""

    name: str
    p_mw: np.ndarray
    q_mvar: np.ndarray
    active: np.ndarray  # bool: the point exists at this step (e.g. awards to deploy)


@dataclass
class AcScreening:
    """Columns for the electrical table, steps outside the band (binding-report ``family``,
    described by ``family_text``), the results' ``ac_screening`` section and warnings."""

    columns: dict[str, np.ndarray]
    outside_band: list[int]
    summary: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    family: str = BAND_FAMILY
    family_text: str = BAND_FAMILY_TEXT


def site_parameters(case: Case) -> SiteParameters:
    """The one-line's electrical data from the case."""
    return SiteParameters(
        short_circuit_mva=case.poi.short_circuit_mva,
        grid_x_over_r=case.poi.x_over_r,
        transformer_rating_mva=case.transformer.rating_mva,
        transformer_impedance_pct=case.transformer.impedance_pct,
        transformer_x_over_r=case.transformer.x_over_r,
    )


def site_points(
    dispatch: pd.DataFrame, electrical: pd.DataFrame, products: Mapping[str, Any]
) -> tuple[list[SitePoint], dict[str, pd.DataFrame]]:
    """The dispatched point and the two deployed ones (``deployment.deployed_points``) as the
    site bus's net injection −(P, Q) at the POI (the lossless site balance); a deployed point
    is active where its direction's awards move the POI."""
    states = deployment.deployed_points(dispatch, electrical, products)
    base = states["dispatched"]["poi_p_mw"].to_numpy(float)
    points = []
    for state, name in zip(deployment.STATES, POINT_CODES, strict=True):
        p = states[state]["poi_p_mw"].to_numpy(float)
        q = states[state]["poi_q_mvar"].to_numpy(float)
        active = np.ones(p.size, bool) if state == "dispatched" else np.abs(p - base) > 1e-6
        points.append(SitePoint(name, -p, -q, active))
    return points, states


def _ratio(value: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """|value| / limit with 0 where there is no flow and inf where the limit is 0 with flow."""
    value, limit = np.abs(value), np.asarray(limit, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(limit > 0, value / np.where(limit > 0, limit, 1.0), np.inf)
    return np.where(value > Q_TOLERANCE_MVAR, r, 0.0)


def limit_ratios(case: Case, point: pd.DataFrame, producing: np.ndarray) -> dict[str, np.ndarray]:
    """Each MVA, PF and Q row of one operating point (``deployment.POINT_COLUMNS``) as a
    fraction of its limit: the transformer, PCS and producing gas units on the model's K-facet
    polygon, |Q| against tan(acos PF min)·|P| at the POI and the gas units."""
    facets = case.transformer.polygon_facets
    col = {c: point[c].to_numpy(float) for c in deployment.POINT_COLUMNS}
    out = {
        "transformer_mva": _ratio(
            polygon_loading(col["poi_p_mw"], col["poi_q_mvar"], facets), case.transformer.rating_mva
        ),
        "poi_pf": _ratio(
            col["poi_q_mvar"],
            math.tan(math.acos(case.poi.min_power_factor)) * np.abs(col["poi_p_mw"]),
        ),
    }
    if case.bess.pcs_mva > 0:
        out["pcs_mva"] = _ratio(
            polygon_loading(col["pcs_p_mw"], col["pcs_q_mvar"], facets), case.bess.pcs_mva
        )
    if case.gas_gen.installed:
        n = np.maximum(np.asarray(producing, float), 0.0)
        p_on, q_gen = col["gen_online_p_mw"], col["gen_q_mvar"]
        out["gen_mva"] = _ratio(
            polygon_loading(p_on, q_gen, facets), gas_gen.unit_mva(case.gas_gen) * n
        )
        out["gen_pf"] = np.where(
            p_on > 1e-6,
            _ratio(q_gen, gas_gen.reactive_ratio(case.gas_gen.min_power_factor) * p_on),
            0.0,
        )
    return out


def near_limit_steps(
    case: Case, states: Mapping[str, pd.DataFrame], producing: np.ndarray
) -> np.ndarray:
    """Steps where an MVA, PF or Q row is within ``1 − NEAR_LIMIT_FRACTION`` of its limit at
    the dispatched point or a deployed one."""
    near = np.zeros(len(producing), bool)
    for point in states.values():
        for ratio in limit_ratios(case, point, producing).values():
            near |= ratio >= NEAR_LIMIT_FRACTION
    return near


def extreme_steps(params: SiteParameters, points: list[SitePoint]) -> set[int]:
    """Steps of the extremes over all points: import, export, |Q|, S at the POI and the
    linear voltage estimate's highest and lowest value."""
    r_g, x_g = grid_impedance_pu(params.short_circuit_mva, params.grid_x_over_r)
    r_t, x_t = transformer_impedance_pu(
        params.transformer_rating_mva, params.transformer_impedance_pct, params.transformer_x_over_r
    )
    out: set[int] = set()
    for pt in points:
        if not pt.active.any():
            continue
        idx = np.flatnonzero(pt.active)
        p_in, q_in = -pt.p_mw[idx], -pt.q_mvar[idx]  # flow into the site
        drop = ((r_g + r_t) * p_in + (x_g + x_t) * q_in) / BASE_MVA
        for series in (p_in, -p_in, np.abs(q_in), np.hypot(p_in, q_in), drop, -drop):
            out.add(int(idx[int(np.argmax(series))]))
    return out


def _margin(ac: AcPoints, band: tuple[float, float]) -> np.ndarray:
    """Smallest distance to the band edge over both buses, pu (negative outside; −inf where
    there is no AC solution)."""
    lo, hi = band
    v_poi, v_mv = ac.poi_voltage_pu, ac.mv_voltage_pu
    m = np.minimum.reduce([v_poi - lo, hi - v_poi, v_mv - lo, hi - v_mv])
    return np.where(ac.converged, m, -np.inf)


def screen(
    case: Case,
    dispatch: pd.DataFrame,
    electrical: pd.DataFrame,
    products: Mapping[str, Any],
    timestamps: pd.DatetimeIndex,
) -> AcScreening:
    """AC screening of one solved case (see the module docstring); ``products``: product →
    spec with its ``direction``."""
    started = time.perf_counter()
    n = len(electrical)
    params = site_parameters(case)
    band = (case.poi.voltage_band_pu[0], case.poi.voltage_band_pu[1])
    points, states = site_points(dispatch, electrical, products)
    producing = dispatch["gen_units_producing"].to_numpy(float)
    selected = near_limit_steps(case, states, producing)
    near_count = int(selected.sum())
    extremes = extreme_steps(params, points)
    selected[list(extremes)] = True
    steps = np.flatnonzero(selected)

    site = SiteNet(params)
    p_all, q_all, codes, owners = [], [], [], []
    for pt in points:
        on = steps[pt.active[steps]]
        p_all.append(pt.p_mw[on])
        q_all.append(pt.q_mvar[on])
        codes.append(np.full(on.size, POINT_CODES[pt.name]))
        owners.append(on)
    p_cat, q_cat = np.concatenate(p_all), np.concatenate(q_all)
    code, owner = np.concatenate(codes), np.concatenate(owners)
    ac = site.solve_points(p_cat, q_cat)
    margin = _margin(ac, band)

    cols = {name: np.full(n, np.nan) for name in columns.AC_COLUMNS}
    # per step the point of smallest margin; ties go to the earlier point (dispatched first)
    order = np.lexsort((np.arange(owner.size), margin, owner))
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if owner.size else order
    t = owner[first]
    cols["poi_voltage_pu"][t] = ac.poi_voltage_pu[first]
    cols["mv_bus_voltage_pu"][t] = ac.mv_voltage_pu[first]
    cols["transformer_ac_loading_pct"][t] = ac.transformer_loading_pct[first]
    cols["transformer_losses_mw"][t] = ac.transformer_losses_mw[first]
    cols["ac_point"][t] = code[first]
    outside = [int(x) for x in t[margin[first] < 0]]

    # cross-check the batch solve against pandapower's own runpp at the worst point
    worst = int(np.argmin(margin)) if len(margin) else None
    check_diff = None
    if worst is not None:
        ref = site.runpp_point(float(p_cat[worst]), float(q_cat[worst]))
        if ref.converged[0] and ac.converged[worst]:
            check_diff = float(
                max(
                    abs(ref.poi_voltage_pu[0] - ac.poi_voltage_pu[worst]),
                    abs(ref.mv_voltage_pu[0] - ac.mv_voltage_pu[worst]),
                )
            )
        elif bool(ref.converged[0]) != bool(ac.converged[worst]):
            check_diff = math.inf
    warn = []
    if outside:
        warn.append(_band_warning(outside, cols, band, timestamps, ac, owner))
    over = np.unique(owner[ac.transformer_loading_pct > 100.0 + OVERLOAD_TOLERANCE_PCT])
    if over.size:
        k = int(np.nanargmax(ac.transformer_loading_pct))
        name = next(n for n, c in POINT_CODES.items() if c == code[k])
        warn.append(
            f"AC screening: transformer current above its rating at {over.size} step(s), "
            f"worst {ac.transformer_loading_pct[k]:.1f} % ({name} point, "
            f"{timestamps[owner[k]]:%Y-%m-%dT%H:%MZ}); the model holds S = √(P² + Q²) at 1 pu, "
            "the current is S / V at the AC voltage (and a deployed point may exceed S)"
        )
    if check_diff is not None and check_diff > CROSS_CHECK_TOLERANCE_PU:
        warn.append(
            f"AC screening: the batch power flow differs from pandapower's runpp by "
            f"{check_diff:.3g} pu at its worst point; the voltages are not reliable"
        )
    with np.errstate(all="ignore"):
        summary = {
            "method": "pandapower one-line (grid Thevenin impedance, main transformer, site bus); "
            "Newton-Raphson on pandapower's admittance matrix, cross-checked with runpp",
            "voltage_band_pu": list(band),
            "steps_screened": int(steps.size),
            "steps_near_limit": near_count,
            "steps_extreme": len(extremes),
            "points_solved": int(owner.size),
            "points_without_solution": int((~ac.converged).sum()),
            "steps_outside_band": len(outside),
            "steps_transformer_over_rating": int(over.size),
            "min_voltage_pu": _finite(np.nanmin, [ac.poi_voltage_pu, ac.mv_voltage_pu]),
            "max_voltage_pu": _finite(np.nanmax, [ac.poi_voltage_pu, ac.mv_voltage_pu]),
            "max_transformer_ac_loading_pct": _finite(np.nanmax, [ac.transformer_loading_pct]),
            "runpp_cross_check_abs_diff_pu": (
                check_diff if check_diff is not None and math.isfinite(check_diff) else None
            ),
            "wall_seconds": time.perf_counter() - started,
        }
    return AcScreening(cols, outside, summary, warn)


def _finite(fn, arrays: list[np.ndarray]) -> float | None:
    vals = np.concatenate([a[np.isfinite(a)] for a in arrays])
    return float(fn(vals)) if vals.size else None


def _band_warning(
    outside: list[int],
    cols: dict[str, np.ndarray],
    band: tuple[float, float],
    timestamps: pd.DatetimeIndex,
    ac: AcPoints,
    owner: np.ndarray,
) -> str:
    collapsed = np.unique(owner[~ac.converged])
    v = np.concatenate([cols["poi_voltage_pu"][outside], cols["mv_bus_voltage_pu"][outside]])
    v = v[np.isfinite(v)]
    span = f"; voltages from {v.min():.3f} to {v.max():.3f} pu" if v.size else ""
    nose = (
        f"; no AC solution (voltage collapse) at {collapsed.size} step(s)" if collapsed.size else ""
    )
    first = timestamps[outside[0]].strftime("%Y-%m-%dT%H:%MZ")
    return (
        f"AC screening: {len(outside)} step(s) outside the voltage band "
        f"[{band[0]:g}, {band[1]:g}] pu at the POI or the site bus, first at {first}{span}{nose}; "
        "the dispatch is linear and does not see voltage: check poi.short_circuit_mva, "
        "transformer.impedance_pct and the reactive dispatch, or add voltage support"
    )
