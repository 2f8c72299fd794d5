"""Outage survival with availability, failure to start, failure while running (MTTF) and a fuel
limit: REopt.jl's published backup-reliability cases, closed forms by hand, and an independent
Monte Carlo simulation of the same process."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dcpower import reliability
from dcpower.case import Case
from dcpower.outage import OutageSite, simulate, survival_by_start
from dcpower.results import records_to_frame


def site(**kw) -> OutageSite:
    base = dict(
        bess_power_mw=0.0,
        bess_energy_mwh=0.0,
        bess_soc_min_mwh=0.0,
        bess_soc_max_mwh=0.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        gen_units=2,
        unit_mw=1.0,
        start_delay_minutes=0.0,
        failure_to_start_probability=0.0,
        operational_availability=1.0,
        mean_time_to_failure_h=5.0,
    )
    return OutageSite(**(base | kw))


LOADS = np.array([1.0, 2.0, 2.0, 1.0])


def test_reopt_survival_gen_only_docstring_matrix():
    # REopt.jl backup_reliability.jl, survival_gen_only example (marginal_survival = false):
    # loads [1, 2, 2, 1], 2 units of 1, failure to run 1/5 per step, no battery.
    p = survival_by_start(np.zeros(4), LOADS, site(), [1, 2, 3], 60)
    expected = [
        [0.96, 0.4096, 0.262144],
        [0.64, 0.4096, 0.393216],
        [0.64, 0.6144, 0.557056],
        [0.96, 0.8704, 0.262144],
    ]
    np.testing.assert_allclose(p, expected, atol=1e-12)


def test_reopt_survival_with_battery_docstring_matrix():
    # survival_with_battery example: battery 2 kWh / 1 kW starting at 1 kWh, lossless.
    s = site(bess_power_mw=1.0, bess_energy_mwh=2.0, bess_soc_max_mwh=2.0)
    p = survival_by_start(np.ones(4), LOADS, s, [1, 2, 3], 60)
    expected = [
        [1.0, 0.8704, 0.557056],
        [0.96, 0.6144, 0.57344],
        [0.96, 0.896, 0.8192],
        [1.0, 0.96, 0.761856],
    ]
    np.testing.assert_allclose(p, expected, atol=1e-12)


def test_reopt_runtests_minimum_soc_case():
    # runtests.jl: battery 4 kWh with a 0.5 minimum SOC fraction, starting at 0.75 → 1 kWh usable
    # of 2; the hand trace in the test gives 0.557056 after 3 h from the first start.
    s = site(bess_power_mw=1.0, bess_energy_mwh=4.0, bess_soc_min_mwh=2.0, bess_soc_max_mwh=4.0)
    p = survival_by_start(np.full(4, 3.0), LOADS, s, [3], 60)
    assert p[0, 0] == pytest.approx(0.557056, abs=1e-12)


def test_reopt_runtests_flat_load_closed_form():
    # runtests.jl: flat 100 kW, one 100 kW unit (availability 0.98, failure to start 0.1,
    # MTTF 100 h), a full 400 kWh / 100 kW battery covering 4 h: 24 h survival is
    # 0.99^20 · 0.9 · 0.98 (REopt's tolerance 1e-5).
    s = site(
        gen_units=1,
        unit_mw=100.0,
        operational_availability=0.98,
        failure_to_start_probability=0.1,
        mean_time_to_failure_h=100.0,
        bess_power_mw=100.0,
        bess_energy_mwh=400.0,
        bess_soc_max_mwh=400.0,
    )
    p = survival_by_start(np.full(48, 400.0), np.full(48, 100.0), s, [4, 24], 60)
    np.testing.assert_allclose(p[:, 0], 1.0)
    np.testing.assert_allclose(p[:, 1], 0.99**20 * 0.9 * 0.98, atol=1e-5)


def one_unit_with_delay(**kw) -> OutageSite:
    # 10 MW flat critical load; one 10 MW unit (no surplus to recharge); 45 MWh above the floor,
    # η_dis = 0.9 → 11.1 MWh drawn per hour of battery-only operation; 30-min start delay.
    base = dict(
        gen_units=1,
        unit_mw=10.0,
        start_delay_minutes=30.0,
        operational_availability=0.97,
        failure_to_start_probability=0.05,
        mean_time_to_failure_h=50.0,
        bess_power_mw=20.0,
        bess_energy_mwh=60.0,
        bess_soc_min_mwh=5.0,
        bess_soc_max_mwh=60.0,
        discharge_efficiency=0.9,
    )
    return site(**(base | kw))


def test_closed_form_one_unit_battery_start_delay():
    # Battery alone: 45 MWh · 0.9 / 10 MW = 4.05 h → 4 whole steps. With the unit: the delay
    # costs 10 · 0.5 / 0.9 = 5.56 MWh, leaving 39.44 MWh = 3.55 h → 3 whole steps after a unit
    # failure at the start of step k ≥ 2, so D > 4 needs the unit started and alive through
    # transitions 1..D−3: a · (1 − f) · (1 − 1/MTTF)^(D − 3).
    s = one_unit_with_delay()
    p = survival_by_start(np.full(24, 50.0), np.full(24, 10.0), s, [4, 5, 8, 24], 60)
    a_f = 0.97 * 0.95
    expected = [1.0] + [a_f * (1 - 1 / 50) ** (d - 3) for d in (5, 8, 24)]
    np.testing.assert_allclose(p, np.tile(expected, (24, 1)), rtol=1e-12)


def test_dispatched_running_unit_needs_no_start_and_no_delay():
    # The dispatch has the unit running: no availability/start draw, no delay; the battery
    # keeps its 45 MWh (4 steps) until the unit fails: (1 − 1/MTTF)^(D − 4).
    s = one_unit_with_delay()
    soc, crit = np.full(6, 50.0), np.full(6, 10.0)
    running = np.array([1, 1, 1, 0, 0, 0])
    p = survival_by_start(soc, crit, s, [24], 60, running_units=running)[:, 0]
    cold = 0.97 * 0.95 * (1 - 1 / 50) ** 21
    np.testing.assert_allclose(p, [(1 - 1 / 50) ** 20] * 3 + [cold] * 3, rtol=1e-12)


def test_fuel_limit_ends_the_ride_through():
    # 2 × 10 MW units never fail; 15 MW flat; no battery; 60 MWh of fuel → 4 h exactly.
    s = site(gen_units=2, unit_mw=10.0, mean_time_to_failure_h=None, fuel_limit_mwh=60.0)
    p = survival_by_start(np.zeros(5), np.full(5, 15.0), s, [4, 5], 60)
    np.testing.assert_array_equal(p, np.tile([1.0, 0.0], (5, 1)))
    # With a 30 MWh battery (lossless, full) the site lasts 2 more hours after the fuel.
    b = dataclasses.replace(s, bess_power_mw=20.0, bess_energy_mwh=30.0, bess_soc_max_mwh=30.0)
    p = survival_by_start(np.full(5, 30.0), np.full(5, 15.0), b, [6, 7], 60)
    np.testing.assert_array_equal(p, np.tile([1.0, 0.0], (5, 1)))


def test_expected_unserved_energy_by_hand():
    # Battery-only 10 MW flat with 25 MWh: survives 2 steps, fails in step 3; a 5 h outage
    # loses steps 3..5 = 30 MWh; units absent.
    s = site(
        gen_units=0,
        bess_power_mw=20.0,
        bess_energy_mwh=25.0,
        bess_soc_max_mwh=25.0,
        mean_time_to_failure_h=None,
    )
    r = simulate(np.full(3, 25.0), np.full(3, 10.0), s, [2, 5], 60)
    np.testing.assert_allclose(r.unserved_mwh, np.tile([0.0, 30.0], (3, 1)))


def monte_carlo(
    soc0, crit, start, s: OutageSite, steps: int, draws: int, rng, running: int = 0
) -> np.ndarray:
    """Independent simulation of the outage process: per draw, units that start (availability
    and start draws; the first ``running`` units are running and need neither), the step at whose
    start each fails (geometric), then a step-by-step dispatch of units, fuel and battery with the
    start delay inside the first step. Survival after 1..steps steps, shape (steps,)."""
    dt, n = 1.0, len(crit)
    works = rng.random((draws, s.gen_units)) < s.operational_availability * (
        1 - s.failure_to_start_probability
    )
    works[:, :running] = True
    p = dt / s.mean_time_to_failure_h
    fails_at = rng.geometric(p, size=(draws, s.gen_units))  # step whose start kills the unit
    soc = np.full(draws, soc0)
    fuel = np.full(draws, np.inf if s.fuel_limit_mwh is None else s.fuel_limit_mwh)
    alive = np.ones(draws, dtype=bool)
    out = np.empty(steps)
    delay = s.start_delay_minutes / 60.0
    for i in range(steps):
        units = (works & (fails_at > i + 1)).sum(axis=1)
        load = crit[(start + i) % n]
        for h, producing in ((min(delay, dt) if i == 0 else 0.0, 0), (dt, None)):
            if i == 0 and producing is None:
                h = dt - min(delay, dt)
            if h <= 0:
                continue
            if producing == 0:  # the delay: running units only
                cap = (works[:, :running] & (fails_at[:, :running] > i + 1)).sum(1) * s.unit_mw
            else:
                cap = units * s.unit_mw
            cap = np.minimum(cap, np.maximum(fuel, 0) / h)
            served = np.minimum(cap, load)
            need = load - served
            can = np.clip((soc - s.bess_soc_min_mwh) * s.discharge_efficiency / h, 0, None)
            can = np.minimum(can, s.bess_power_mw)
            alive &= need <= can + 1e-9
            room = np.clip((s.bess_soc_max_mwh - soc) / (s.charge_efficiency * h), 0, None)
            charge = np.minimum(np.minimum(cap - served, s.bess_power_mw), room)
            soc = (
                soc
                + charge * h * s.charge_efficiency
                - np.minimum(need, can) * h / (s.discharge_efficiency)
            )
            fuel = fuel - (served + charge) * h
        out[i] = alive.mean()
    return out


def test_markov_matches_independent_monte_carlo_multi_unit_fuel_limited():
    # Three 10 MW units for an 18-26 MW load (two needed most hours, three at peak), a small
    # battery with losses that bridges the 10-min start delay, every failure mode and 330 MWh of
    # fuel (runs out between 14 and 20 h).
    s = OutageSite(
        bess_power_mw=30.0,
        bess_energy_mwh=30.0,
        bess_soc_min_mwh=3.0,
        bess_soc_max_mwh=30.0,
        charge_efficiency=0.95,
        discharge_efficiency=0.95,
        gen_units=3,
        unit_mw=10.0,
        start_delay_minutes=10.0,
        failure_to_start_probability=0.05,
        operational_availability=0.97,
        mean_time_to_failure_h=40.0,
        fuel_limit_mwh=330.0,
        soc_bins=200,
    )
    crit = 22.0 + 4.0 * np.sin(np.arange(24) * 2 * np.pi / 24)
    soc0 = np.array([30.0, 20.0, 12.0])
    starts = np.array([0, 6, 15])
    durations = [1, 2, 4, 8, 12, 14, 16, 20]
    rng = np.random.default_rng(2025)
    draws = 200_000
    worst = 0.0
    for soc, t in zip(soc0, starts, strict=True):
        socs = np.full(24, soc)
        m = survival_by_start(socs, crit, s, durations, 60)[t]
        mc = monte_carlo(soc, crit, t, s, max(durations), draws, rng)[np.array(durations) - 1]
        half_width = 4.0 * np.sqrt(np.maximum(mc * (1 - mc), 1e-12) / draws)  # ≈ 99.99 % CI
        assert np.all(np.abs(m - mc) <= half_width + 2e-4), (t, m, mc)
        worst = max(worst, float(np.max(np.abs(m - mc))))
        assert 0.3 < m[4] < 0.9  # 12 h: every failure mode matters, not a trivial 0 or 1
        assert m[-1] == 0.0  # 20 h: the fuel has run out whatever worked
    assert worst < 0.005


def test_case_outage_section_matches_monte_carlo_on_the_solved_week(example_results):
    """End to end on a solved dispatch: the section's inputs (SOC at each start, critical load,
    units running, battery limits) and its Markov result against the Monte Carlo above, with
    harsh failure modes so that every one matters."""
    case = Case.model_validate(example_results["case"])
    data = case.model_dump(mode="json")
    data["gas_gen"].update(mean_time_to_failure_h=30.0, fuel_limit_mwh=1200.0)
    data["gas_gen"].update(operational_availability=0.95, failure_to_start_probability=0.1)
    data["reliability"].update(outage_durations_h=[4.0, 12.0, 24.0])
    case = Case.model_validate(data)
    dispatch = records_to_frame(example_results["dispatch"])
    section = reliability.outage_section(case, dispatch)
    by = section["by_start"]["survival_prob"]
    assert section["survival_prob_by_duration_h"]["24"] == pytest.approx(np.mean(by["24"]))
    cost = section["expected_outage_cost_usd_by_duration_h"]["24"]
    assert cost == pytest.approx(
        section["expected_unserved_critical_mwh_by_duration_h"]["24"] * 1e4
    )
    # inputs read straight from the dispatch records, not through dcpower.reliability
    soc_end = [r["bess_soc_mwh"] for r in example_results["dispatch"]]
    producing = [r["gen_units_producing"] for r in example_results["dispatch"]]
    crit = np.array([r["load_critical_mw"] for r in example_results["dispatch"]])
    site = reliability.outage_site(case)
    rng = np.random.default_rng(11)
    draws = 100_000
    tested_running = set()
    for t in (5, 30, 77, 120, 160):
        soc0 = soc_end[t - 1]
        running = int(round(producing[t - 1]))
        tested_running.add(running)
        mc = monte_carlo(soc0, crit, t, site, 24, draws, rng, running)[[3, 11, 23]]
        m = np.array([by[k][t] for k in ("4", "12", "24")])
        half_width = 4.0 * np.sqrt(np.maximum(mc * (1 - mc), 1e-12) / draws)
        assert np.all(np.abs(m - mc) <= half_width + 2e-4), (t, running, m, mc)
    assert len(tested_running) > 1  # starts with different units running were checked
    by_duration = section["survival_prob_by_duration_h"]
    assert 0.05 < by_duration["12"] < 0.95  # every failure mode matters
    assert by_duration["24"] == 0.0  # 1200 MWh of fuel is 15 h of 80 MW, the battery < 5 h more


def test_limited_by_names_what_ran_short(example_results):
    case = Case.model_validate(example_results["case"])
    dispatch = records_to_frame(example_results["dispatch"])

    def reason(**fields) -> str:
        data = case.model_dump(mode="json")
        for key, value in fields.items():
            section, name = key.split("__")
            data[section][name] = value
        c = Case.model_validate(data)
        return reliability.outage_section(c, dispatch)["limited_by_by_duration_h"]["8"]

    base = dict(
        reliability__outage_durations_h=[8.0],
        reliability__outage_start_units="cold",
        gas_gen__mean_time_to_failure_h=None,
    )
    # 80 MW critical through the 10-min start delay on a 50 MW battery, every unit cold
    text = reason(**base, bess__power_mw=50.0)
    assert "battery MW during the 10-min start delay" in text and "80.0 MW critical" in text
    # fuel for 2 h of 80 MW
    text = reason(**base, gas_gen__fuel_limit_mwh=160.0)
    assert text.startswith("100.0% of starts below 1") and "fuel: the 160 MWh ran out" in text
    # all six units ride through; with 2 of 6 (40 MW) the battery runs out within 8 h
    text = reason(**base)
    assert "unit count: 3 of 6 units (20 MW each) ride through; with 2" in text
    assert "battery energy in hour" in text
    # perfect units: nothing is short
    assert (
        reason(
            **base, gas_gen__failure_to_start_probability=0.0, gas_gen__operational_availability=1.0
        )
        == ""
    )
