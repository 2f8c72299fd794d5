"""Inscribed K-facet polygon linearisation of the MVA circle P² + Q² ≤ S².

Facet k: cos(θ_k)·P + sin(θ_k)·Q ≤ S·cos(π/K) with θ_k = (2k + 1)π/K. The vertices lie on the
circle at angles 2πk/K, one of them on the P axis, so rated MW is reachable at unity PF (and, for
K divisible by 4, rated MVAr at zero P). The polygon is conservative (never admits a point outside
the circle); it under-states the rating by at most 1 − cos(π/K) of S, at a facet midpoint
(PF = cos(π/K) for the first facet):
K=8: 7.61 %, K=12: 3.41 %, K=16: 1.92 %, K=24: 0.86 %, K=32: 0.48 %.
"""

from __future__ import annotations

import math

import numpy as np


def facet_coefficients(facets: int) -> list[tuple[float, float, float]]:
    """(a_P, a_Q, scale) per facet: a_P·P + a_Q·Q ≤ scale·S."""
    scale = math.cos(math.pi / facets)
    out = []
    for k in range(facets):
        theta = (2 * k + 1) * math.pi / facets
        a_p, a_q = math.cos(theta), math.sin(theta)
        # exact zeros where the normal is on an axis (keeps rows free of 1e-17 coefficients)
        out.append((0.0 if abs(a_p) < 1e-15 else a_p, 0.0 if abs(a_q) < 1e-15 else a_q, scale))
    return out


def worst_case_error_fraction(facets: int) -> float:
    """Largest fraction of S the polygon cuts off the circle: 1 − cos(π/K)."""
    return 1.0 - math.cos(math.pi / facets)


def polygon_loading(p_mw: np.ndarray, q_mvar: np.ndarray, facets: int) -> np.ndarray:
    """Apparent power as the polygon measures it, MVA (≥ the true S, ≤ S / cos(π/K))."""
    coeffs = np.array([(a, b) for a, b, _ in facet_coefficients(facets)])
    proj = np.outer(np.asarray(p_mw, float), coeffs[:, 0]) + np.outer(
        np.asarray(q_mvar, float), coeffs[:, 1]
    )
    return proj.max(axis=1) / math.cos(math.pi / facets)


def q_range_mvar(
    p_mw: np.ndarray, s_mva: np.ndarray | float, facets: int
) -> tuple[np.ndarray, np.ndarray]:
    """(Q min, Q max) the polygon of rating ``s_mva`` admits at active power ``p_mw``, MVAr.

    An empty range (P outside the polygon) comes back as (0, 0) where |P| ≤ S within 1e-9·S,
    otherwise with Q min > Q max.
    """
    p = np.asarray(p_mw, float)
    s = np.broadcast_to(np.asarray(s_mva, float), p.shape)
    lo = np.full(p.shape, -np.inf)
    hi = np.full(p.shape, np.inf)
    for a_p, a_q, scale in facet_coefficients(facets):
        if a_q == 0.0:
            continue
        bound = (scale * s - a_p * p) / a_q
        if a_q > 0:
            hi = np.minimum(hi, bound)
        else:
            lo = np.maximum(lo, bound)
    # P at the rating (a vertex): the range is the single point Q = 0 up to rounding
    tiny = 1e-9 * np.maximum(1.0, s)
    lo = np.where((lo > 0) & (lo <= tiny), 0.0, lo)
    hi = np.where((hi < 0) & (hi >= -tiny), 0.0, hi)
    return lo, hi
