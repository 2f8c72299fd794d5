"""Outage survival of a mixed fleet (several unit types): the one-type case equals the
identical-unit model, a two-type case by hand, and an independent Monte Carlo simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dcpower.outage import OutageSite, UnitType, simulate

NO_BESS = dict(
    bess_power_mw=0.0,
    bess_energy_mwh=0.0,
    bess_soc_min_mwh=0.0,
    bess_soc_max_mwh=0.0,
    charge_efficiency=1.0,
    discharge_efficiency=1.0,
    gen_units=0,
    unit_mw=0.0,
    start_delay_minutes=0.0,
    failure_to_start_probability=0.0,
)


def test_one_type_equals_identical_units_model():
    # Battery, start delay inside a step, availability, failure to start, MTTF, fuel limit and
    # units running at the start: the one-type chain must reproduce the identical-unit model.
    single = OutageSite(
        **(
            NO_BESS
            | dict(
                bess_power_mw=4.0,
                bess_energy_mwh=8.0,
                bess_soc_max_mwh=8.0,
                charge_efficiency=0.95,
                discharge_efficiency=0.95,
                gen_units=3,
                unit_mw=5.0,
                start_delay_minutes=20.0,
                failure_to_start_probability=0.1,
            )
        ),
        operational_availability=0.9,
        mean_time_to_failure_h=6.0,
        fuel_limit_mwh=60.0,
    )
    load = np.array([6.0, 9.0, 11.0, 7.0, 4.0, 10.0])
    soc = np.array([2.0, 8.0, 5.0, 0.0, 3.0, 6.0])
    run = np.array([0, 1, 2, 3, 0, 1])
    one = UnitType(3, 5.0, 20.0, 0.1, 0.9, 6.0)
    mixed = dataclasses.replace(single, types=(one,))
    durations = [1, 2, 4, 6]
    a = simulate(soc, load, single, durations, 60, run)
    b = simulate(soc, load, mixed, durations, 60, run[:, None])
    np.testing.assert_allclose(b.survival, a.survival, atol=1e-9)
    np.testing.assert_allclose(b.unserved_mwh, a.unserved_mwh, atol=1e-9)
    assert a.survival[1:5, 2].min() > 0.3 and a.survival[:, 2].max() < 0.99  # not trivial


def test_two_types_by_hand():
    # Turbine A: 1 × 20 MW; engines B: 2 × 10 MW; 15 MW flat load, no battery, cold start.
    # The load survives while A works or both B work; units fail independently, so after
    # n hourly steps (failures apply before each step's check):
    #   a = qA (1 − 1/MTTF_A)^n, b = (qB (1 − 1/MTTF_B)^n)², survival = a + b − a b.
    qa, qb = 0.99 * (1 - 0.05), 0.98 * (1 - 0.02)
    types = (UnitType(1, 20.0, 0.0, 0.05, 0.99, 10.0), UnitType(2, 10.0, 0.0, 0.02, 0.98, 20.0))
    site = OutageSite(**NO_BESS, types=types)
    durations = [1, 3, 8]
    p = simulate(np.zeros(2), np.full(2, 15.0), site, durations, 60).survival
    for col, n in enumerate(durations):
        a = qa * (1 - 1 / 10) ** n
        b = (qb * (1 - 1 / 20) ** n) ** 2
        assert p[0, col] == pytest.approx(a + b - a * b, abs=1e-12)
    # At 25 MW one B alone no longer suffices with A: A and at least one B, or ... A + B ≥ 25
    # needs A and one B (30) or both B (20 < 25: fails). survival = a (1 − (1 − bb)²), bb per B.
    p25 = simulate(np.zeros(1), np.full(1, 25.0), site, [4], 60).survival[0, 0]
    a, bb = qa * 0.9**4, qb * 0.95**4
    assert p25 == pytest.approx(a * (1 - (1 - bb) ** 2), abs=1e-12)


def monte_carlo(soc0, load, site, steps, dt, running, draws, rng):
    """Independent path simulation of the stated process: every unit's start draw and the step
    at whose start it fails (geometric); each step split at the types' delay ends; units first
    (fuel-capped over the sub-interval), the battery covers the deficit and charges from the
    surplus. Returns survival after 1..steps steps."""
    alive = np.ones(draws, dtype=bool)
    soc = np.full(draws, float(soc0))
    fuel = np.full(draws, np.inf if site.fuel_limit_mwh is None else site.fuel_limit_mwh)
    fleet = []  # per type: works (draws, units), failure step, running-at-start mask
    for u, r in zip(site.types, running, strict=True):
        q = u.operational_availability * (1 - u.failure_to_start_probability)
        works = np.ones((draws, u.units), dtype=bool)
        works[:, r:] = rng.random((draws, u.units - r)) < q
        p = dt / u.mean_time_to_failure_h
        fail_step = rng.geometric(p, (draws, u.units)) - 1  # step whose start kills the unit
        fleet.append((u, works, fail_step, np.arange(u.units) < r))
    out = []
    for i in range(steps):
        t0 = i * dt
        cuts = sorted({0.0, dt, *(u.start_delay_minutes / 60 - t0 for u in site.types)})
        cuts = [c for c in cuts if 0.0 <= c <= dt]
        demand = load[i % load.size]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            h = b - a
            if h <= 1e-12:
                continue
            cap = np.zeros(draws)
            for u, works, fail_step, running_u in fleet:
                ready = running_u | (u.start_delay_minutes / 60 <= t0 + a + 1e-12)
                cap += (works & (fail_step > i) & ready).sum(axis=1) * u.unit_mw
            cap = np.minimum(cap, np.maximum(fuel, 0) / h)
            served = np.minimum(cap, demand)
            deficit = demand - served
            room = site.bess_soc_max_mwh - soc
            can = np.clip((soc - site.bess_soc_min_mwh) * site.discharge_efficiency / h, 0, 6.0)
            charge = np.minimum(cap - served, np.clip(room / (site.charge_efficiency * h), 0, 6.0))
            alive &= deficit <= can + 1e-9
            drawn = np.minimum(deficit, can) * h / site.discharge_efficiency
            soc += charge * site.charge_efficiency * h - drawn
            fuel -= (served + charge) * h
        out.append(alive.mean())
    return np.array(out)


def test_markov_matches_independent_monte_carlo_two_types_fuel_limited():
    # 2 × 10 MW turbines (15 min delay, one running at the start) + 3 × 4 MW engines (40 min
    # delay), a 6 MW / 12 MWh battery at 8 MWh, 14 MW critical load, 150 MWh of fuel.
    types = (UnitType(2, 10.0, 15.0, 0.05, 0.9, 8.0), UnitType(3, 4.0, 40.0, 0.1, 0.95, 12.0))
    site = OutageSite(
        **(
            NO_BESS
            | dict(
                bess_power_mw=6.0,
                bess_energy_mwh=12.0,
                bess_soc_max_mwh=12.0,
                charge_efficiency=0.92,
                discharge_efficiency=0.92,
            )
        ),
        fuel_limit_mwh=150.0,
        soc_bins=200,
        types=types,
    )
    load = np.array([14.0, 16.0, 12.0, 14.0])
    durations = list(range(1, 13))
    running = (1, 0)
    # the Markov model reads the load cyclically from each start: start 0 is the MC's sequence
    starts = 4
    markov = simulate(
        np.array([8.0] * starts), load, site, durations, 60, np.array([running] * starts)
    ).survival[0]
    draws = 100_000
    mc = monte_carlo(8.0, load, site, 12, 1.0, running, draws, np.random.default_rng(7))
    half_width = 4.0 * np.sqrt(np.maximum(mc * (1 - mc), 1e-12) / draws)
    np.testing.assert_array_less(np.abs(markov - mc), half_width + 2e-3)
    assert 0.3 < mc[5] < 0.95  # failures while running and the delay both matter
    assert markov[-1] == 0.0  # 150 MWh of fuel: gone before 12 h of ≥ 12 MW


def test_running_units_shape_is_checked():
    site = OutageSite(**NO_BESS, types=(UnitType(2, 10.0), UnitType(1, 5.0)))
    with pytest.raises(ValueError, match="running_units"):
        simulate(np.zeros(3), np.ones(3), site, [1], 60, np.zeros(3, dtype=int))


@pytest.mark.parametrize("soc_mwh", [4.0, 8.0, 12.0])
def test_battery_rides_through_each_types_own_start_delay(soc_mwh):
    # A: 1 × 10 MW, 30 min start delay; B: 1 × 10 MW, no delay; 15 MW for one hour; a lossless
    # 15 MW battery at soc_mwh; units work with probability qA, qB. Battery energy each start
    # needs: both work 5 MW × 0.5 h = 2.5 MWh; B only 5 MW × 1 h = 5; A only 15 × 0.5 + 5 × 0.5
    # = 10; neither 15. So 4 MWh → qA·qB, 8 MWh → qB, 12 MWh → qA + qB − qA·qB.
    qa, qb = 0.8, 0.7
    types = (UnitType(1, 10.0, 30.0, 1 - qa), UnitType(1, 10.0, 0.0, 1 - qb))
    site = OutageSite(
        **(NO_BESS | dict(bess_power_mw=15.0, bess_energy_mwh=20.0, bess_soc_max_mwh=20.0)),
        types=types,
    )
    p = simulate(np.array([soc_mwh]), np.array([15.0]), site, [1], 60).survival[0, 0]
    expected = {4.0: qa * qb, 8.0: qb, 12.0: qa + qb - qa * qb}[soc_mwh]
    assert p == pytest.approx(expected, abs=1e-12)


def test_pipeline_share_per_type():
    # A: 1 × 20 MW on pipeline gas cut to 50 %; B: 1 × 10 MW on on-site fuel (share 1); 18 MW.
    # Both working: 10 + 10 = 20 ≥ 18 → survival qA·qB. The same 50 % on both types (a 1-D
    # share): 10 + 5 = 15 < 18 → 0.
    qa, qb = 0.9, 0.8
    site = OutageSite(
        **NO_BESS, types=(UnitType(1, 20.0, 0.0, 1 - qa), UnitType(1, 10.0, 0.0, 1 - qb))
    )
    load = np.full(2, 18.0)
    per_type = simulate(np.zeros(2), load, site, [2], 60, gas_fraction=np.array([[0.5, 1.0]] * 2))
    common = simulate(np.zeros(2), load, site, [2], 60, gas_fraction=np.full(2, 0.5))
    assert per_type.survival[0, 0] == pytest.approx(qa * qb, abs=1e-12)
    assert common.survival[0, 0] == 0.0
    with pytest.raises(ValueError, match="gas_fraction"):
        simulate(np.zeros(2), load, site, [2], 60, gas_fraction=np.ones((2, 3)))
