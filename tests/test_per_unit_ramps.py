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


def site(step_minutes: int, units: int, ramp_mw_per_min: float) -> dict:
    """Four-ish 20 MW units on a 30 MW site load, real July 2016 HB_HOUSTON DAM prices."""
    case = small_site(
        None,
        DAYS["start"],
        DAYS["end"],
        market={
            "iso": "ercot",
            "settlement_point": "HB_HOUSTON",
            "energy_market": "dam",
            "reserve_products": [],
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
    for t in T:
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
            for t in T
        ),
        sense=pyo.maximize,
    )
    res = pyo.SolverFactory("highs").solve(m, options={"mip_rel_gap": 1e-9, "threads": 1})
    assert str(res.solver.termination_condition) == "optimal"
    total = np.array([sum(pyo.value(m.p[u, t]) for u in U) for t in T])
    return float(pyo.value(m.value)), total


@pytest.mark.parametrize(
    "step_minutes, units, ramp",
    [(60, 3, 0.15), (60, 4, 0.1), (60, 5, 0.3), (15, 3, 0.15), (15, 4, 0.05)],
)
def test_clustered_equals_per_unit(step_minutes, units, ramp):
    case = case_from_dict(site(step_minutes, units, ramp))
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
