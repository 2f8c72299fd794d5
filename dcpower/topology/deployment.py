"""Deployed operating points, recomputed from a results table alone (plain numpy / pandas).

A reserve award is a promise to move: when every award of one direction is deployed together,
each resource moves by its awards and the grid takes the rest. This module rebuilds that
operating point per step from the dispatch table (P and award columns) and the electrical table
(Q per element), without the model, so invariants and the AC screening can check what the
limits see once the awards are called.

Deployment, per direction (``up``: sources inject more, the load consumes less):

- BESS PCS: P = discharge − charge ± its awards (MW, positive into the site bus);
- gas units: P = output ± their awards; ``gen_online_p_mw`` is what the producing units carry
  (up: output + online awards; down: output − awards), ``gen_offline_p_mw`` what units started
  for an offline award (ERCOT Non-Spin) add, each from a unit of its own;
- flexible load: served MW − its up-awards (it curtails); it carries no down product;
- POI (= transformer): import − export after the site balance, i.e. the load's P minus every
  source's P (MW, positive into the site);
- Q: every element keeps its Q as dispatched (MVAr, positive into the site bus; the load's Q
  positive drawn), so the reactive balance still holds. A curtailed load draws less Q at its
  PF; holding its Q (and the grid's) is the stated simplification.

``deployed_points`` returns one frame per state; ``limit_excess`` measures each against the
case's MW limits and MVA ratings with the true circle and with the model's K-facet polygon.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dcpower import columns
from dcpower.case import Case
from dcpower.resources import gas_gen
from dcpower.topology.polygon import polygon_loading, q_range_mvar

#: the states ``deployed_points`` returns: as dispatched, then each direction deployed
STATES = ("dispatched", "up", "down")
DIRECTIONS = ("up", "down")
#: columns of each state's frame (MW / MVAr)
POINT_COLUMNS = (
    "poi_p_mw",
    "poi_q_mvar",
    "pcs_p_mw",
    "pcs_q_mvar",
    "gen_p_mw",
    "gen_online_p_mw",
    "gen_offline_p_mw",
    "gen_q_mvar",
    "load_p_mw",
    "load_q_mvar",
)


def _direction(spec: Any) -> str:
    return spec["direction"] if isinstance(spec, Mapping) else spec.direction


def award_sums(
    dispatch: pd.DataFrame, products: Mapping[str, Any]
) -> dict[tuple[str, str], np.ndarray]:
    """(resource, direction) → Σ of that resource's awards of that direction per step, MW;
    plus ("gen_offline", "up"): the part of the gas units' awards carried by offline units.

    ``products``: product → spec with a ``direction`` (a results' ``market.reserve_products``
    or ``ReserveProduct`` objects); award columns of products not in it are ignored.
    """
    n = len(dispatch)
    out = {(r, d): np.zeros(n) for r in columns.RESOURCES for d in DIRECTIONS}
    out[("gen_offline", "up")] = np.zeros(n)
    for a in columns.reserve_award_columns(dispatch, list(products)):
        if a.product in products:
            out[(a.resource, _direction(products[a.product]))] += dispatch[a.column].to_numpy(float)
    for o in columns.offline_award_columns(dispatch, list(products)):
        if o.product in products:
            out[("gen_offline", "up")] += dispatch[o.column].to_numpy(float)
    return out


def deployed_points(
    dispatch: pd.DataFrame,
    electrical: pd.DataFrame,
    products: Mapping[str, Any],
) -> dict[str, pd.DataFrame]:
    """Each element's (P, Q) per step as dispatched and with every award of one direction
    deployed together.

    Parameters
    ----------
    dispatch : the results' dispatch table (``grid_import_mw``, ``gen_mw``, ``bess_*_mw``,
        ``load_served_mw``, award columns ``reserve_<p>_<r>_mw``, ``gen_offline_<p>_mw``).
    electrical : the electrical table (``transformer_q_mvar``, ``gen_q_mvar``, ``pcs_q_mvar``,
        ``load_q_mvar``), same index.
    products : product → spec with its ``direction``.

    Returns
    -------
    ``{"dispatched" | "up" | "down": DataFrame}`` with ``POINT_COLUMNS``, indexed like
    ``dispatch``. P in MW (POI: import positive; PCS and gas units: into the site bus; load:
    drawn), Q in MVAr (same signs; the load's Q drawn).
    """
    aw = award_sums(dispatch, products)
    gen = dispatch["gen_mw"].to_numpy(float)
    pcs = dispatch["bess_discharge_mw"].to_numpy(float) - dispatch["bess_charge_mw"].to_numpy(float)
    load = dispatch["load_served_mw"].to_numpy(float)
    q = {
        "poi": electrical["transformer_q_mvar"].to_numpy(float),
        "pcs": electrical["pcs_q_mvar"].to_numpy(float),
        "gen": electrical["gen_q_mvar"].to_numpy(float),
        "load": electrical["load_q_mvar"].to_numpy(float),
    }
    offline_up = aw[("gen_offline", "up")]
    zero = np.zeros(len(dispatch))
    moves = {
        "dispatched": (zero, zero, zero, zero),
        # (PCS shift, online gen shift, offline gen shift, load shift), MW
        "up": (aw[("bess", "up")], aw[("gen", "up")] - offline_up, offline_up, -aw[("load", "up")]),
        "down": (-aw[("bess", "down")], -aw[("gen", "down")], zero, aw[("load", "down")]),
    }
    out = {}
    for state, (d_pcs, d_online, d_offline, d_load) in moves.items():
        p_pcs, p_online, p_load = pcs + d_pcs, gen + d_online, load + d_load
        p_gen = p_online + d_offline
        frame = pd.DataFrame(
            {
                "poi_p_mw": p_load - p_gen - p_pcs,  # the grid takes the rest (site balance)
                "poi_q_mvar": q["poi"],
                "pcs_p_mw": p_pcs,
                "pcs_q_mvar": q["pcs"],
                "gen_p_mw": p_gen,
                "gen_online_p_mw": p_online,
                "gen_offline_p_mw": d_offline.copy(),
                "gen_q_mvar": q["gen"],
                "load_p_mw": p_load,
                "load_q_mvar": q["load"],
            },
            index=dispatch.index,
        )
        out[state] = frame[list(POINT_COLUMNS)]
    return out


def unit_q_room_mvar(case: Case, p_mw: float, facets: int | None = None) -> float:
    """Q one gas unit keeps at ``p_mw`` inside its MVA rating, MVAr: √(S² − P²) with the true
    circle (``facets`` None) or the smaller edge of the K-facet polygon at that P."""
    s = gas_gen.unit_mva(case.gas_gen)
    if facets is None:
        return float(np.sqrt(max(s * s - p_mw * p_mw, 0.0)))
    lo, hi = q_range_mvar(np.array([float(p_mw)]), s, facets)
    return float(max(min(-lo[0], hi[0]), 0.0))


def unit_q_chord(case: Case, facets: int | None = None) -> tuple[float, float]:
    """(intercept, MVAr; fall, MVAr per MW) of the chord under one gas unit's Q room between
    its minimum stable MW and its rated MW. The room is concave in P (circle or convex
    polygon), so n producing units whose outputs sum to P, each within [min MW, rated MW],
    always keep Σ room ≥ n·intercept − fall·P together, however P is split among them (the
    least sum is at a split with every unit but one at either end)."""
    g = case.gas_gen
    pmin, pmax = gas_gen.min_output_mw(g), g.unit_mw
    low = unit_q_room_mvar(case, pmin, facets)
    rated = unit_q_room_mvar(case, pmax, facets)
    if pmax - pmin <= 1e-9:
        return rated, 0.0
    fall = (low - rated) / (pmax - pmin)
    return low + fall * pmin, fall


def limit_excess(
    point: pd.DataFrame, case: Case, producing_units: np.ndarray
) -> dict[str, np.ndarray]:
    """How far (MW / MVA / MVAr; ≤ 0: within) one state's point is beyond each limit it passes.

    Keys: ``poi_import`` / ``poi_export`` (MW limits); ``transformer``, ``pcs``, ``gen``
    (MVA of the producing units, clustered: their aggregate), each twice — ``*_circle`` with
    the true √(P² + Q²) and ``*_polygon`` with the model's inscribed K-facet polygon (stricter);
    ``gen_unit_circle`` / ``gen_unit_polygon``: per unit, whatever the split of the producing
    units' P (each within its rating): |Q| − the Q room the units keep together
    (``unit_q_chord``), so a Q split with every unit inside its own rating exists where ≤ 0;
    units started for offline awards carry P ≤ unit MW at Q 0 and always fit.
    """
    facets = case.transformer.polygon_facets
    p_poi, q_poi = point["poi_p_mw"].to_numpy(float), point["poi_q_mvar"].to_numpy(float)
    out = {
        "poi_import": p_poi - case.poi.import_limit_mw,
        "poi_export": -p_poi - case.poi.export_limit_mw,
    }

    def mva(name: str, p: np.ndarray, q: np.ndarray, rating: np.ndarray | float) -> None:
        rating = np.broadcast_to(np.asarray(rating, float), p.shape)
        out[f"{name}_circle"] = np.hypot(p, q) - rating
        out[f"{name}_polygon"] = polygon_loading(p, q, facets) - rating

    mva("transformer", p_poi, q_poi, case.transformer.rating_mva)
    p_pcs, q_pcs = point["pcs_p_mw"].to_numpy(float), point["pcs_q_mvar"].to_numpy(float)
    mva("pcs", p_pcs, q_pcs, case.bess.pcs_mva if case.bess.installed else 0.0)
    n = np.maximum(np.asarray(producing_units, float), 0.0)
    p_gen, q_gen = point["gen_online_p_mw"].to_numpy(float), point["gen_q_mvar"].to_numpy(float)
    if case.gas_gen.installed:
        mva("gen", p_gen, q_gen, gas_gen.unit_mva(case.gas_gen) * n)
        for label, k in (("circle", None), ("polygon", facets)):
            intercept, fall = unit_q_chord(case, k)
            out[f"gen_unit_{label}"] = np.abs(q_gen) - (intercept * n - fall * p_gen)
    else:
        out["gen_circle"] = np.hypot(p_gen, q_gen)
        out["gen_polygon"] = out["gen_circle"]
    return out
