"""Determinate reactive dispatch: with active power fixed, who supplies the load's Q.

Reactive power has no price in the dispatch, so a solver may return any feasible split, including
sources that circulate MVAr against each other. This second stage takes the active dispatch as
given and allocates the load's Q the way a plant operator would: every source in the direction of
the load's Q (no circulation, so Σ|Q of sources| = |Q of load|), on-site sources first — the
running gas units (their excitation is free), then the battery PCS — and the grid last, first
within the POI power-factor limit and only then beyond it (where the case prices the excess).
With P fixed each source's feasible Q is an interval (PF and MVA-polygon limits), so the greedy
allocation below is exact: it minimises Σ|Q| and, lexicographically, the grid's |Q| and the
excess beyond the POI PF limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: supply order of the load's reactive power (first = preferred).
REACTIVE_PRIORITY = ("gen", "pcs", "poi_within_pf", "poi_beyond_pf")


@dataclass(frozen=True)
class ReactiveDispatch:
    """Q per source and step, MVAr (positive = delivered to the site bus)."""

    gen_q_mvar: np.ndarray
    pcs_q_mvar: np.ndarray
    poi_q_mvar: np.ndarray
    poi_q_excess_mvar: np.ndarray  # |Q at POI| beyond tan(acos PF_min)·|P|, MVAr (≥ 0)
    residual_mvar: np.ndarray  # load Q no source could supply (0 for a feasible dispatch)


def _take(remaining: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The part of ``remaining`` a source with range [lo, hi] (containing 0) supplies."""
    return np.clip(remaining, np.minimum(lo, 0.0), np.maximum(hi, 0.0))


def allocate_reactive(
    q_load_mvar: np.ndarray,
    gen_range: tuple[np.ndarray, np.ndarray],
    pcs_range: tuple[np.ndarray, np.ndarray],
    poi_pf_range: tuple[np.ndarray, np.ndarray],
    poi_mva_range: tuple[np.ndarray, np.ndarray],
    allow_beyond_pf: bool,
) -> ReactiveDispatch:
    """Allocate ``q_load_mvar`` to the sources in ``REACTIVE_PRIORITY`` order.

    Each range is (Q min, Q max) per step in MVAr with P fixed: ``gen_range`` from the units' PF
    and MVA limits, ``pcs_range`` from the PCS polygon, ``poi_pf_range`` from the POI PF limit
    and ``poi_mva_range`` from the transformer polygon. ``allow_beyond_pf``: the grid may exceed
    its PF limit (priced) once every other source is exhausted.
    """
    remaining = np.asarray(q_load_mvar, float).copy()
    q_gen = _take(remaining, *gen_range)
    remaining -= q_gen
    q_pcs = _take(remaining, *pcs_range)
    remaining -= q_pcs
    xf_lo, xf_hi = poi_mva_range
    pf_lo = np.maximum(poi_pf_range[0], np.minimum(xf_lo, 0.0))
    pf_hi = np.minimum(poi_pf_range[1], np.maximum(xf_hi, 0.0))
    q_poi = _take(remaining, pf_lo, pf_hi)
    remaining -= q_poi
    excess = np.zeros_like(remaining)
    if allow_beyond_pf:
        excess = _take(remaining, np.minimum(xf_lo - pf_lo, 0.0), np.maximum(xf_hi - pf_hi, 0.0))
        remaining -= excess
        q_poi = q_poi + excess
    return ReactiveDispatch(
        gen_q_mvar=q_gen,
        pcs_q_mvar=q_pcs,
        poi_q_mvar=q_poi,
        poi_q_excess_mvar=np.abs(excess),
        residual_mvar=remaining,
    )
