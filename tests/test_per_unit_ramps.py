"""Clustered gas units against an independent per-unit model of the same physics.

The per-unit model below is written from the unit's own rules, not from dcpower's rows: each
unit has its own on/start/stop binaries; a started unit produces nothing for ceil(delay/Δt)
steps; a producing unit stays within [min MW, unit MW]; in its first producing step it reaches
at most its start-up capability, in its last at most its shut-down capability; a running unit
moves by at most its ramp per step; a unit stops only from producing. The clustered model must
reach the same optimum (to 1e-6): it may neither lend ramp room between units nor lose any
dispatch a fleet of real units can follow.
"""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo
import pytest
from conftest import small_site

from dcpower.case import case_from_dict
from dcpower.optimization.inputs import DispatchInputs
from dcpower.runner import prepare_inputs, run_case

DAYS = {"start": "2016-07-19", "end": "2016-07-21"}


def site(step_minutes: int, units: int, ramp_mw_per_min: float, reserves: bool = False) -> dict:
    """3–5 units of 20 MW on a 30 MW site load, real July 2016 HB_HOUSTON DAM energy (and, with
    ``reserves``, AS) prices."""
    case = small_site(
        None,
        DAYS["start"],
        DAYS["end"],
        market={
            "iso": "ercot",
            "settlement_point": "HB_HOUSTON",
            "energy_market": "dam",
            "reserve_products": ["REGUP", "REGDN", "RRS", "NSPIN"] if reserves else [],
            "export_price_adder_usd_per_mwh": -2.0,
        },
        load={"profile_mw": 30.0, "critical_fraction": 0.0, "power_factor": 1.0},
        gas_gen={
            "units": units,
            "unit_mw": 20.0,
            "min_stable_fraction": 0.4,
            "start_delay_minutes": 10.0,
            "ramp_mw_per_min": ramp_mw_per_min,
            "fuel_cost_usd_per_mwh": 24.0,
            "start_cost_usd": 150.0,
        },
        poi={"import_limit_mw": 100, "export_limit_mw": 40, "min_power_factor": 0.5},
    )
    del case["market"]["price_file"]
    case["horizon"]["timestep_minutes"] = step_minutes
    case["solver"] = {
        "mip_rel_gap": 1e-9,
        "time_limit_s": 120,
        "threads": 1,
        "method": "monolithic",
    }
    return case


def per_unit_optimum(x: DispatchInputs) -> tuple[float, np.ndarray]:
    """Optimal net value ($) and total gas output (MW per step) with one variable set per unit."""
    case = x.case
    g, poi = case.gas_gen, case.poi
    dt = x.dt_h
    delay = math.ceil(g.start_delay_minutes / case.horizon.timestep_minutes - 1e-9)
    pmin, pmax = g.min_stable_fraction * g.unit_mw, g.unit_mw
    ramp = min(g.ramp_mw_per_min * case.horizon.timestep_minutes, pmax)
    su = max(pmin, ramp)  # a started unit reaches at least its minimum in its first step
    price = x.price_usd_per_mwh
    load = x.load.total_mw
    T, U = range(x.n_steps), range(g.units)
    m = pyo.ConcreteModel()
    m.on = pyo.Var(U, T, within=pyo.Binary)
    m.start = pyo.Var(U, T, within=pyo.Binary)
    m.stop = pyo.Var(U, T, within=pyo.Binary)
    m.p = pyo.Var(U, T, within=pyo.NonNegativeReals)
    m.imp = pyo.Var(T, within=pyo.NonNegativeReals)
    m.exp = pyo.Var(T, within=pyo.NonNegativeReals)
    m.importing = pyo.Var(T, within=pyo.Binary)
    m.shed = pyo.Var(T, bounds=lambda m, t: (0, load[t]))
    products = {p: x.reserve_products[p] for p in x.reserve_products}
    m.r = pyo.Var(list(products), U, T, within=pyo.NonNegativeReals)  # online award per unit
    m.off = pyo.Var(list(products), U, T, within=pyo.NonNegativeReals)  # from the unit offline

    def started(u, tau):
        return m.start[u, tau] if tau >= 0 else 0

    def producing(u, t):
        if t < 0:
            return 0
        return m.on[u, t] - sum(started(u, tau) for tau in range(t - delay + 1, t + 1))

    def first(u, t):  # first producing step of a start
        return started(u, t - delay)

    def output(u, t):
        return m.p[u, t] if t >= 0 else 0

    m.c = pyo.ConstraintList()
    c = m.c
    for u in U:
        for t in T:
            prev_on = m.on[u, t - 1] if t > 0 else 0
            c.add(m.on[u, t] - prev_on == m.start[u, t] - m.stop[u, t])
            c.add(producing(u, t) >= 0)
            c.add(m.stop[u, t] <= producing(u, t - 1))
            c.add(m.p[u, t] >= pmin * producing(u, t))
            c.add(m.p[u, t] <= pmax * (producing(u, t) - first(u, t)) + su * first(u, t))
            c.add(
                output(u, t - 1) <= pmax * (producing(u, t - 1) - m.stop[u, t]) + su * m.stop[u, t]
            )
            c.add(
                m.p[u, t] - output(u, t - 1)
                <= ramp * (producing(u, t) - first(u, t)) + su * first(u, t)
            )
            c.add(
                output(u, t - 1) - m.p[u, t]
                <= ramp * (producing(u, t) - first(u, t)) + su * m.stop[u, t]
            )
    for u in U:
        for t in T:
            y = producing(u, t)
            for direction in ("up", "down"):
                mine = [p for p, s in products.items() if s.direction == direction]
                for p in mine:  # what the unit can ramp to within each deployment time
                    minutes = products[p].deployment_minutes
                    within = [q for q in mine if products[q].deployment_minutes <= minutes]
                    reach = min(pmax, g.ramp_mw_per_min * minutes)
                    c.add(sum(m.r[q, u, t] for q in within) <= reach * y)
                room = pmax * y - m.p[u, t] if direction == "up" else m.p[u, t] - pmin * y
                c.add(sum(m.r[p, u, t] for p in mine) <= room)
            for p, spec in products.items():
                # an offline unit that starts now: delay, then ramps from 0 (kept if ≥ min MW)
                ramp_min = spec.deployment_minutes - g.start_delay_minutes
                quick = min(pmax, g.ramp_mw_per_min * ramp_min) if ramp_min > 0 else 0.0
                quick = quick if spec.offline_gen_eligible and quick >= pmin else 0.0
                c.add(m.off[p, u, t] <= quick * (1 - m.on[u, t]))

    def awards(direction, t):
        return sum(
            m.r[p, u, t] + m.off[p, u, t]
            for p, s in products.items()
            if s.direction == direction
            for u in U
        )

    for t in T:
        if products:
            c.add(m.exp[t] - m.imp[t] + awards("up", t) <= poi.export_limit_mw)
            c.add(m.imp[t] - m.exp[t] + awards("down", t) <= poi.import_limit_mw)
        c.add(m.imp[t] <= poi.import_limit_mw * m.importing[t])
        c.add(m.exp[t] <= poi.export_limit_mw * (1 - m.importing[t]))
        c.add(m.imp[t] - m.exp[t] + sum(m.p[u, t] for u in U) == load[t] - m.shed[t])
    adder = case.market.export_price_adder_usd_per_mwh
    m.value = pyo.Objective(
        expr=sum(
            (price[t] + adder) * m.exp[t] * dt
            - price[t] * m.imp[t] * dt
            - g.fuel_cost_usd_per_mwh * sum(m.p[u, t] for u in U) * dt
            - g.start_cost_usd * sum(m.start[u, t] for u in U)
            - case.reliability.voll_noncritical_usd_per_mwh * m.shed[t] * dt
            + sum(
                x.reserve_price_usd_per_mw_h[p][t] * (m.r[p, u, t] + m.off[p, u, t]) * dt
                for p in products
                for u in U
            )
            for t in T
        ),
        sense=pyo.maximize,
    )
    res = pyo.SolverFactory("highs").solve(m, options={"mip_rel_gap": 1e-9, "threads": 1})
    assert str(res.solver.termination_condition) == "optimal"
    total = np.array([sum(pyo.value(m.p[u, t]) for u in U) for t in T])
    return float(pyo.value(m.value)), total


@pytest.mark.parametrize(
    "step_minutes, units, ramp, reserves",
    [
        (60, 3, 0.15, False),
        (60, 4, 0.1, False),
        (60, 5, 0.3, False),
        (15, 3, 0.15, False),
        (15, 4, 0.05, False),
        (60, 4, 0.1, True),
        (15, 3, 0.15, True),
    ],
)
def test_clustered_equals_per_unit(step_minutes, units, ramp, reserves):
    case = case_from_dict(site(step_minutes, units, ramp, reserves))
    x = prepare_inputs(case)
    expected, per_unit_gen = per_unit_optimum(x)
    res = run_case(case)
    assert res["solver"]["status"] == "optimal"
    value = res["economics"]["net_value_usd"]
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-6)
    binding = res["explainability"]["binding_timesteps_per_family"]
    # not vacuous: the units really ramp against their limits in this case
    assert binding.get("gen_ramp_up", 0) + binding.get("gen_ramp_down", 0) > 0, binding
    assert per_unit_gen.max() > 0
    assert res["verification"]["violations"] == []
    if reserves:
        sold = sum(v for k, v in res["economics"]["revenues_usd"].items() if "reserve" in k)
        assert sold > 0, "the units should sell reserves in this case"


@pytest.mark.parametrize("step_minutes", [60, 15])
def test_fast_units_stay_clustered_and_exact(step_minutes):
    """At 2 MW/min a unit ramps its full 20 MW within a step: no ramp row can bind, the model
    keeps integer counts (no per-unit variables), and the optimum is the per-unit one."""
    case = case_from_dict(site(step_minutes, 4, 2.0, reserves=True))
    x = prepare_inputs(case)
    from dcpower.optimization.dispatch_milp import gen_needs_per_unit

    assert not gen_needs_per_unit(x)
    expected, _ = per_unit_optimum(x)
    res = run_case(case)
    assert res["economics"]["net_value_usd"] == pytest.approx(expected, rel=1e-6, abs=1e-6)
