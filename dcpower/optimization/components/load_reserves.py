"""The flexible load as a reserve resource (Load Resource): its up-awards are held out of the
flexible MW it consumes and sustained, by staying curtailed, for each product's duration; an
optional weekly limit on the energy curtailed (planned + expected deployment) is carried from
one rolling window to the next; revenue per product and the expected deployment cost.

The awards themselves are ``m.reserve[p, "load", t]`` (``reserves``); they count in the POI
deployment row ``poi_reserve_up`` there (curtailing raises net export by the award) and never
in N+1 (critical load is never backed by flexible load).
"""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from dcpower import columns
from dcpower.optimization.components.base import MUTABLE, Component, Family, set_indexed, soft
from dcpower.optimization.inputs import DispatchInputs

DEPLOYMENT_COST = "load_reserve_deployment_cost_usd"


def sustain_steps(x: DispatchInputs) -> dict[str, int]:
    """Steps each load product's award must be sustained: ⌈duration_h / Δt⌉, at least 1."""
    return {
        p: max(1, math.ceil(x.reserve_products[p].duration_h / x.dt_h - 1e-9))
        for p in x.load_reserve_products()
    }


def _week_limit(x: DispatchInputs) -> float | None:
    """The weekly curtailment limit (MWh), when set on a site with flexible load."""
    if x.case.load.flexible_fraction <= 0:
        return None
    return x.case.load.reserves.weekly_curtailment_limit_mwh


class LoadReserves(Component):
    """Load Resource awards: sustained within the flexible MW consumed, weekly energy limit."""

    name = "load_reserves"
    families = {
        "load_reserve_sustain": Family(
            "Σ load up-awards of step t still deployed k steps later ≤ flexible MW consumed at "
            "t + k, for k within each product's duration (MW)"
        ),
        "load_sustain_floor": Family(
            "flexible MW consumed ≥ what load awards of the steps before the window still need (MW)"
        ),
        "load_week_energy": Family(
            "E[t] = E[t−1] − reset at a new calendar week + (curtailed + expected deployment)·Δt "
            "(MWh)"
        ),
        "load_week_reset": Family("reset ≤ weekly limit × (1 if step t starts a week) (MWh)"),
        "load_week_floor": Family("E[t] ≥ this step's curtailed + expected deployment·Δt (MWh)"),
        "load_week_limit": Family(
            "flexible energy curtailed in the calendar week so far ≤ weekly limit (MWh)",
            elastic=True,
        ),
    }

    def term_kinds(self, x: DispatchInputs) -> dict:
        products = x.load_reserve_products()
        if not products:
            return {}
        out = {columns.load_revenue_key(p): "revenue" for p in products}
        out.update(columns.term_kinds(DEPLOYMENT_COST))
        return out

    def link_states(self, x: DispatchInputs) -> dict[str, str]:
        if _week_limit(x) is None:
            return {}
        return {"load_week_energy": "flexible energy curtailed in the week so far (MWh)"}

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        m.load_sustain_floor_mw = pyo.Param(m.T, **MUTABLE)  # MW
        m.load_week_new = pyo.Param(m.T, **MUTABLE)  # 1 where a step starts a calendar week
        limit = _week_limit(x)
        if m.free_start and limit is not None:
            m.load_week_energy_start = pyo.Var(bounds=(0, limit))
        else:
            m.load_week_energy_start = pyo.Param(**MUTABLE)  # MWh

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        floor = np.zeros(x.n_steps)
        given = np.asarray(x.load_sustain_floor_mw[: x.n_steps], float)
        floor[: len(given)] = given
        # an award beyond an earlier window's view may ask more than the profile has: the
        # invariants report it; the model keeps what the profile allows
        set_indexed(m.load_sustain_floor_mw, np.minimum(floor, x.load.flexible_mw))
        set_indexed(m.load_week_new, x.week_starts())
        if not isinstance(m.load_week_energy_start, pyo.Var):
            m.load_week_energy_start = float(x.load_week_energy_mwh)

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        products = x.load_reserve_products()
        consumed = {t: m.load_flexible[t] - m.unserved_flexible[t] for t in m.T}
        if products:
            _add_sustain(m, x, products, consumed)
        if _week_limit(x) is not None:
            _add_week_limit(m, x, products)

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        products = x.load_reserve_products()
        if not products:
            return {}
        dt, load = x.dt_h, x.case.load
        frac, cost = load.reserves.expected_deployment_fraction, load.deployment_cost_usd_per_mwh
        terms = {
            columns.load_revenue_key(p): [
                m.reserve_price[p, t] * m.reserve[p, "load", t] * dt for t in m.T
            ]
            for p in products
        }
        terms[DEPLOYMENT_COST] = [
            -cost * frac * sum(m.reserve[p, "load", t] for p in products) * dt for t in m.T
        ]
        return terms

    def link_state_start(self, m: pyo.ConcreteModel, name: str):
        if name != "load_week_energy":
            raise KeyError(name)
        return m.load_week_energy_start

    def link_state_at(self, m: pyo.ConcreteModel, name: str, t: int):
        if name != "load_week_energy":
            raise KeyError(name)
        return m.load_week_mwh[t]

    def handover(self, m: pyo.ConcreteModel, x: DispatchInputs, keep: int) -> dict:
        products = x.load_reserve_products()
        state = {}
        if products:
            awards = {
                p: [pyo.value(m.reserve[p, "load", t]) for t in range(keep)] for p in products
            }
            state["load_sustain_floor_mw"] = sustain_floor_after(
                awards, sustain_steps(x), keep, x.load_sustain_floor_mw
            )
        if _week_limit(x) is not None:
            state["load_week_energy_mwh"] = week_energy_after(m, x, keep, products)
        return state


def _add_sustain(m: pyo.ConcreteModel, x: DispatchInputs, products: list[str], consumed) -> None:
    """Awards within the flexible MW consumed at every step they must be sustained over."""
    steps = sustain_steps(x)
    n = x.n_steps
    m.LOAD_SUSTAIN_K = pyo.RangeSet(0, max(steps.values()) - 1)

    def sustain(m, t, k):
        if t + k >= n:
            return pyo.Constraint.Skip
        held = [m.reserve[p, "load", t] for p in products if steps[p] > k]
        if not held:
            return pyo.Constraint.Skip
        return sum(held) <= consumed[t + k]

    m.load_reserve_sustain = pyo.Constraint(m.T, m.LOAD_SUSTAIN_K, rule=sustain)
    m.load_sustain_floor = pyo.Constraint(
        m.T, rule=lambda m, t: consumed[t] >= m.load_sustain_floor_mw[t]
    )


def _add_week_limit(m: pyo.ConcreteModel, x: DispatchInputs, products: list[str]) -> None:
    """Energy curtailed per calendar week (planned + expected deployment) ≤ the limit."""
    limit = _week_limit(x)
    dt, frac = x.dt_h, x.case.load.reserves.expected_deployment_fraction
    used = {
        t: (m.unserved_flexible[t] + frac * sum(m.reserve[p, "load", t] for p in products)) * dt
        for t in m.T
    }
    m.load_week_mwh = pyo.Var(m.T, bounds=(0, None))  # MWh
    m.load_week_reset_mwh = pyo.Var(m.T, bounds=(0, None))  # MWh
    m.load_week_energy = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.load_week_mwh[t]
            == (m.load_week_energy_start if t == 0 else m.load_week_mwh[t - 1])
            - m.load_week_reset_mwh[t]
            + used[t]
        ),
    )
    # a reset only where a week starts; there the week's energy is at least this step's,
    # and resetting the whole carried energy is the model's best choice (any less only
    # tightens the limit)
    m.load_week_reset = pyo.Constraint(
        m.T, rule=lambda m, t: m.load_week_reset_mwh[t] <= limit * m.load_week_new[t]
    )
    m.load_week_floor = pyo.Constraint(m.T, rule=lambda m, t: m.load_week_mwh[t] >= used[t])
    m.load_week_limit = pyo.Constraint(
        m.T, rule=lambda m, t: m.load_week_mwh[t] <= limit + soft(m, "load_week_limit", t)
    )


def sustain_floor_after(
    awards: dict[str, list[float]],
    steps: dict[str, int],
    keep: int,
    carried: tuple[float, ...] = (),
) -> tuple[float, ...]:
    """Flexible MW the steps after the first ``keep`` must still consume: at step keep + j,
    the largest Σ of the awards of a kept step t still deployed there (keep + j − t < their
    sustain steps), and what ``carried`` (this window's own floor) asks beyond ``keep``."""
    horizon = max(steps.values(), default=1) - 1
    out = []
    for j in range(horizon):
        need = carried[keep + j] if keep + j < len(carried) else 0.0
        for t in range(max(0, keep + j - horizon), keep):
            k = keep + j - t
            need = max(need, sum(awards[p][t] for p in awards if steps[p] > k))
        out.append(float(need))
    while out and out[-1] <= 0.0:
        out.pop()
    return tuple(out)


def week_energy_after(m: pyo.ConcreteModel, x: DispatchInputs, keep: int, products) -> float:
    """Energy curtailed (planned + expected deployment) in the calendar week of step
    ``keep − 1`` up to its end, MWh: what the next window starts from (0 when the step after
    starts a new week, which the next window's own reset handles)."""
    dt, frac = x.dt_h, x.case.load.reserves.expected_deployment_fraction
    new = x.week_starts()
    energy = float(x.load_week_energy_mwh)
    for t in range(keep):
        if new[t]:
            energy = 0.0
        deployed = frac * sum(pyo.value(m.reserve[p, "load", t]) for p in products)
        energy += (pyo.value(m.unserved_flexible[t]) + deployed) * dt
    return energy
