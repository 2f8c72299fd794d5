"""Interconnection headroom: how much of a site's load fits under a POI import limit below its
peak, at what curtailment, gas and cost (the Duke "Rethinking Load Growth" curve for one site).

Per scenario (:func:`scenario_metrics`, from the dispatch table alone): annual curtailed energy by
load segment (MWh/yr and % of the annual load energy), curtailed hours, gas energy, the POI limit
as % of the site's peak load. Across scenarios (:func:`add_relative_cost`): the annual total cost
relative to the same assets at the study's highest limit. :func:`curve` orders one asset set's
scenarios for the plot and :func:`limit_at_curtailment` reads the limit that a curtailment level
allows off it.

Reference: Norris, T. H., Profeta, T., Patino-Echeverri, D., Cowie-Haskell, A. (2025).
"Rethinking Load Growth: Assessing the Potential for Integration of Large Flexible Loads in US
Power Systems", NI R 25-01, Nicholas Institute for Energy, Environment & Sustainability, Duke
University, February 2025, https://hdl.handle.net/10161/32077. Its curtailment is a share of the
new load's maximum annual energy (uptime); here it is a share of the site's annual load energy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dcpower import columns

DIM = "poi_import_mw"
#: MW below which a step's unserved load counts as none (solver round-off)
CURTAILED_TOL_MW = 1e-6

#: the Duke study's US-wide figures: annual curtailment (% of the new load's energy) -> GW of
#: new load the 22 largest balancing authorities could integrate at that curtailment (0.5 %:
#: "nearly 100 GW" in the report's summary)
DUKE_GW_AT_CURTAILMENT_PCT: dict[float, float] = {0.25: 76.0, 0.5: 98.0, 1.0: 126.0}
DUKE_CITATION = (
    "Norris, Profeta, Patino-Echeverri, Cowie-Haskell, “Rethinking Load Growth”, Nicholas "
    "Institute, Duke University, Feb. 2025"
)


def scenario_metrics(
    dispatch: pd.DataFrame, dt_h: float, scale: float, limit_mw: float
) -> dict[str, float]:
    """Headroom figures of one dispatch (columns of ``dcpower.columns.HEADROOM_COLUMNS``).

    ``dt_h``: step length, h; ``scale``: year / horizon (operating figures per year);
    ``limit_mw``: the scenario's POI import limit. Shares are of the horizon's load energy, so
    they do not depend on ``scale``.
    """
    load = dispatch["load_mw"].to_numpy(float)
    load_mwh = float(load.sum() * dt_h)
    peak = float(load.max())
    net = dispatch["grid_import_mw"].to_numpy(float) - dispatch["grid_export_mw"].to_numpy(float)

    def share(mwh: float) -> float:
        return 100.0 * mwh / load_mwh if load_mwh > 0 else float("nan")

    out: dict[str, float] = {
        "poi_import_limit_mw": float(limit_mw),
        "site_peak_load_mw": peak,
        "poi_import_pct_of_peak": 100.0 * limit_mw / peak if peak > 0 else float("nan"),
        "max_net_import_mw": float(net.max()),
        "load_mwh": load_mwh * scale,
    }
    total_mw = np.zeros(len(dispatch))
    for segment, col in columns.UNSERVED_SEGMENTS.items():
        mw = dispatch[col].to_numpy(float)
        total_mw += mw
        mwh = float(mw.sum() * dt_h)
        out[columns.unserved_energy_column(segment)] = mwh * scale
        out[columns.unserved_share_column(segment)] = share(mwh)
    total = float(total_mw.sum() * dt_h)
    out[columns.unserved_energy_column("total")] = total * scale
    out[columns.unserved_share_column("total")] = share(total)
    out["curtailed_hours"] = float((total_mw > CURTAILED_TOL_MW).sum() * dt_h * scale)
    gen = float(dispatch["gen_mw"].to_numpy(float).sum() * dt_h)
    out["gen_mwh"] = gen * scale
    out["gen_pct_of_load"] = share(gen)
    return out


def asset_dims(dims: list[str]) -> list[str]:
    """The dimensions that name one asset set (and market year): all but the POI limit."""
    return [d for d in dims if d != DIM]


def add_relative_cost(summary: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """``cost_vs_highest_limit_usd``: each scenario's annual total cost minus that of the same
    assets (and market year) at the highest POI limit with a dispatch; only with the dimension."""
    if DIM not in dims or summary.empty:
        return summary
    out = summary.copy()
    cost = out["annual_total_cost_usd"].astype(float)
    out["cost_vs_highest_limit_usd"] = float("nan")
    for _, g in out.groupby(asset_dims(dims), sort=False):
        ok = g[cost.loc[g.index].notna()]
        if ok.empty:
            continue
        ref = cost.loc[ok[DIM].astype(float).idxmax()]
        out.loc[g.index, "cost_vs_highest_limit_usd"] = cost.loc[g.index] - ref
    return out


def curve(summary: pd.DataFrame, dims: list[str]) -> dict[tuple, pd.DataFrame]:
    """One curve per asset set (and market year): its scenarios with a dispatch, highest limit
    first, keyed by the values of :func:`asset_dims`."""
    keys = asset_dims(dims)
    ok = summary[summary[columns.unserved_share_column("total")].notna()]
    return {
        (k if isinstance(k, tuple) else (k,)): g.sort_values(DIM, ascending=False)
        for k, g in ok.groupby(keys, sort=True)
    }


def limit_at_curtailment(points: pd.DataFrame, level_pct: float) -> float:
    """POI limit (% of peak) at which the curve reaches ``level_pct`` % annual curtailment,
    linear between the two bracketing scenarios; NaN if the curve does not bracket it.

    ``points``: one curve of :func:`curve` (curtailment must not fall as the limit falls)."""
    x = points[columns.unserved_share_column("total")].to_numpy(float)
    y = points["poi_import_pct_of_peak"].to_numpy(float)
    for i in range(len(x) - 1):
        lo, hi = x[i], x[i + 1]
        if lo <= level_pct <= hi and hi > lo:
            return float(y[i] + (y[i + 1] - y[i]) * (level_pct - lo) / (hi - lo))
        if lo == level_pct:
            return float(y[i])
    return float("nan")


def curve_table(summary: pd.DataFrame, dims: list[str]) -> list[Mapping[str, Any]]:
    """For each curve, the POI limit (% of peak) at each of the Duke study's curtailment levels
    and the load that then fits per MW of import limit (100 / limit %)."""
    rows = []
    for key, points in curve(summary, dims).items():
        for level in DUKE_GW_AT_CURTAILMENT_PCT:
            pct = limit_at_curtailment(points, level)
            rows.append(
                {
                    **dict(zip(asset_dims(dims), key, strict=True)),
                    "curtailment_pct": level,
                    "limit_pct_of_peak": pct,
                    "load_per_mw_of_limit": 100.0 / pct if pct > 0 else float("nan"),
                }
            )
    return rows
