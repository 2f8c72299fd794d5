"""Deployment-state limit rows, derived from every component's deployment points.

Each component declares the elements it rates (``Component.deployment_points``: P, Q, the MW
its awards move it by per direction, its limit rows) and how far deploying its own awards moves
its injection into the site bus (``Component.deployment_shift``; the grid takes the sum). This
module builds, for every element, limit row and step, the one row that can bind among the
dispatched point and the two deployed ones (``DeploymentPoint``): the POI's MW limits after
deployment (``poi_reserve_up/down``), the transformer, PCS and gas-unit MVA polygons at the
deployed points (``*_deployed_up/down``) and at the dispatched point where no deployment moves
towards a facet (``transformer_mva``, ``pcs_mva``, ``gen_mva``). A pruned model
(``pruning``) builds no reactive row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pyomo.environ as pyo

from dcpower.optimization.components import REGISTRY
from dcpower.optimization.components.base import DeploymentPoint, Direction
from dcpower.optimization.inputs import DispatchInputs


def site_shift(m: pyo.ConcreteModel, x: DispatchInputs):
    """(t, direction) → MW the site's net injection moves by when every award of ``direction``
    is deployed (Σ of the components' ``deployment_shift``), None when no award has it."""

    def shift(t: int, direction: Direction) -> Any:
        parts = [c.deployment_shift(m, x, t, direction) for c in REGISTRY]
        parts = [p for p in parts if p is not None]
        return sum(parts) if parts else None

    return shift


def deployment_points(m: pyo.ConcreteModel, x: DispatchInputs) -> list[DeploymentPoint]:
    """Every component's deployment points, in registry order (needs ``m.reserve``). Built once
    per model: a model serves every window of its length, and each shift expression is built
    once (``_memo``) and only re-evaluated."""
    cached = getattr(m, "_deployment_points", None)
    if cached is not None:
        return cached
    shift = _memo(site_shift(m, x))
    points = [
        replace(point, shift=_memo(point.shift))
        for c in REGISTRY
        for point in c.deployment_points(m, x, shift)
    ]
    m._deployment_points = points
    return points


def _memo(fn):
    """``fn(t, direction)`` computed once per argument pair."""
    cache: dict = {}

    def memo(t: int, direction: Direction) -> Any:
        key = (t, direction)
        if key not in cache:
            cache[key] = fn(t, direction)
        return cache[key]

    return memo


def row_states(point: DeploymentPoint) -> list[str]:
    """Per limit row of ``point``, the state whose row can bind: the direction whose deployment
    moves the row's a_P·P up when that direction has awards, else ``dispatched``."""
    out = []
    for a_p, _a_q, _scale in point.rows:
        facing = point.facing(a_p)
        has_awards = facing is not None and point.shift(0, facing) is not None
        out.append(facing if has_awards else "dispatched")
    return out


def add_deployment_rows(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Build every deployment point's limit rows (after every component's ``add``)."""
    for point in deployment_points(m, x):
        if point.q is not None and m.reactive_pruned:
            continue  # cannot bind: ``pruning``
        states = row_states(point)
        families = {"dispatched": point.family, **point.deployed}
        for state, family in families.items():
            rows = [k for k, s in enumerate(states) if s == state]
            if family is None or not rows:
                continue
            setattr(m, family, pyo.Constraint(rows, m.T, rule=_rule(point, state)))


def _rule(point: DeploymentPoint, state: str):
    def rule(m, k, t):
        a_p, a_q, scale = point.rows[k]
        body = a_p * point.p_at(t, state)
        if a_q != 0.0 and point.q is not None:
            body = body + a_q * point.q(t)
        return body <= scale * point.rating(t)

    return rule


def values(fn, T: list[int]) -> np.ndarray:
    """``fn(t)`` (an expression, a variable, a number or None for 0) at the steps ``T``."""
    return np.array([pyo.value(v) if (v := fn(t)) is not None else 0.0 for t in T], dtype=float)


def point_values(point: DeploymentPoint, T: list[int]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The solved model's values of ``point``: (state → P, MW, for ``dispatched`` and each
    direction with awards; rating per step). Q is not read (a pruned model's Q is unset
    until the reactive second stage sets it)."""
    p = values(point.p, T)
    out = {"dispatched": p}
    for d in ("up", "down"):
        if point.shift(0, d) is not None:
            sign = point.up_sign if d == "up" else -point.up_sign
            out[d] = p + sign * values(lambda t, d=d: point.shift(t, d), T)
    return out, values(point.rating, T)


def q_range_at_deployment(
    m: pyo.ConcreteModel, point: DeploymentPoint, T: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(Q min, Q max) per step, MVAr, that keeps ``point`` within every limit row at its
    dispatched and deployed P (the solved model's values): what the reactive second stage may
    choose once P is fixed."""
    lo = np.full(len(T), -np.inf)
    hi = np.full(len(T), np.inf)
    ps, rating = point_values(point, T)
    for a_p, a_q, scale in point.rows:
        if a_q == 0.0:
            continue
        for p in ps.values():
            edge = (scale * rating - a_p * p) / a_q
            if a_q > 0:
                hi = np.minimum(hi, edge)
            else:
                lo = np.maximum(lo, edge)
    return lo, hi
