"""Outage survival: hand-computed known answers, wrap-around, summary, and a scalar reference."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dcpower.outage import (
    OutageSite,
    survival_by_start,
    survival_summary,
    units_started_pmf,
)


def site(**kw) -> OutageSite:
    """Battery 60 MWh (floor 10, ceiling 60), 100 MW PCS, lossless, no gas units by default."""
    base = dict(
        bess_power_mw=100.0,
        bess_energy_mwh=60.0,
        bess_soc_min_mwh=10.0,
        bess_soc_max_mwh=60.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        gen_units=0,
        unit_mw=0.0,
        start_delay_minutes=0.0,
        failure_to_start_probability=0.0,
    )
    base.update(kw)
    return OutageSite(**base)


def flat(n: int, soc: float, mw: float) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, soc), np.full(n, mw)


@pytest.mark.parametrize("minutes", [60, 15])
def test_battery_only_survives_exactly_four_hours(minutes):
    # 40 MWh above the floor, 10 MW critical, η_dis = 1 → exactly 4 h.
    n = 24 * 60 // minutes
    soc, crit = flat(n, 50.0, 10.0)
    p = survival_by_start(soc, crit, site(), [1, 4, 5, 8], minutes)
    assert p.shape == (n, 4)
    np.testing.assert_array_equal(p, np.tile([1.0, 1.0, 0.0, 0.0], (n, 1)))


def test_discharge_losses_shorten_ride_through():
    # η_dis = 0.8 → 40 MWh · 0.8 = 32 MWh delivered = 3.2 h at 10 MW: 3 h yes, 4 h no.
    soc, crit = flat(10, 50.0, 10.0)
    p = survival_by_start(soc, crit, site(discharge_efficiency=0.8), [3, 4], 60)
    np.testing.assert_array_equal(p, np.tile([1.0, 0.0], (10, 1)))


def test_fractional_durations_round_up_to_whole_steps():
    # Same 3.2 h battery: 3.2 h → 4 steps → fails; 2.5 h → 3 steps → survives.
    soc, crit = flat(5, 50.0, 10.0)
    p = survival_by_start(soc, crit, site(discharge_efficiency=0.8), [2.5, 3.2, 0.5], 60)
    np.testing.assert_array_equal(p, np.tile([1.0, 0.0, 1.0], (5, 1)))
    # A battery sitting at its floor cannot carry even a half-hour (one step) outage.
    p0 = survival_by_start(np.full(5, 10.0), crit, site(), [0.5], 60)
    np.testing.assert_array_equal(p0, np.zeros((5, 1)))


def test_power_limit_below_critical_load_fails_immediately():
    soc, crit = flat(6, 60.0, 10.0)
    p = survival_by_start(soc, crit, site(bess_power_mw=9.0), [0.25, 1, 24], 15)
    np.testing.assert_array_equal(p, np.zeros((6, 3)))


def two_units(**kw) -> OutageSite:
    # 2 × 10 MW, p = 0.1, 30 min start delay (one hourly step), battery 40 MWh above the floor.
    base = dict(
        gen_units=2, unit_mw=10.0, start_delay_minutes=30.0, failure_to_start_probability=0.1
    )
    return site(**(base | kw))


def test_one_unit_suffices_survival_is_one_minus_p_squared():
    soc, crit = flat(48, 50.0, 8.0)
    p = survival_by_start(soc, crit, two_units(), [1, 24], 60)
    np.testing.assert_allclose(p[:, 0], 1.0)  # the battery alone covers 1 h
    np.testing.assert_allclose(p[:, 1], 1 - 0.1**2)  # k = 0 runs out after 5 h


def test_both_units_needed_mixes_binomial_outcomes():
    # 15 MW critical. k = 0: battery 40 MWh lasts 2 h. k = 1: 15 MW for the 30-min delay then
    # a 5 MW deficit: 10 MWh in step 1, then 30 MWh / 5 MW = 6 more steps → 7 h. k = 2: forever.
    soc, crit = flat(30, 50.0, 15.0)
    p = survival_by_start(soc, crit, two_units(), [2, 3, 6, 7, 8, 24], 60)
    expected = [1.0, 1 - 0.1**2, 1 - 0.1**2, 1 - 0.1**2, 0.9**2, 0.9**2]
    np.testing.assert_allclose(p, np.tile(expected, (30, 1)))


def test_start_delay_longer_than_battery_bridge_fails():
    # Battery 20 MWh above floor at 10 MW → 2 h; units arrive after 3 h → fail in step 3.
    soc, crit = flat(12, 30.0, 10.0)
    s = two_units(start_delay_minutes=180.0, failure_to_start_probability=0.0)
    p = survival_by_start(soc, crit, s, [2, 3, 24], 60)
    np.testing.assert_array_equal(p, np.tile([1.0, 0.0, 0.0], (12, 1)))


def test_generator_surplus_recharges_battery():
    # One 10 MW unit, no delay, critical alternates 5 / 15 MW, battery empty (at floor 0).
    # Even starts: +5 MWh surplus, then 5 MW deficit covered by it → survives all day.
    # Odd starts: 5 MW deficit with an empty battery → fail in the first step.
    crit = np.tile([5.0, 15.0], 12)
    soc = np.zeros(24)
    base = site(bess_soc_min_mwh=0.0, gen_units=1, unit_mw=10.0)
    p = survival_by_start(soc, crit, base, [24], 60)[:, 0]
    np.testing.assert_array_equal(p, np.tile([1.0, 0.0], 12))
    # Each battery limit on the recharge breaks it: losses, ceiling, PCS limit.
    for limited in (
        dataclasses.replace(base, charge_efficiency=0.5),  # stores only 2.5 MWh
        dataclasses.replace(base, bess_soc_max_mwh=3.0),  # room for 3 MWh
        dataclasses.replace(base, bess_power_mw=4.0),  # charges 4 MWh, deficit 5 > 4 MW
    ):
        np.testing.assert_array_equal(survival_by_start(soc, crit, limited, [2], 60), 0.0)


def test_critical_load_wraps_around_the_end():
    # Battery 25 MWh above an empty floor; no gas. Loads after index 5 continue at index 0.
    crit = np.array([20.0, 0.0, 0.0, 0.0, 0.0, 10.0])
    soc = np.full(6, 25.0)
    p = survival_by_start(soc, crit, site(bess_soc_min_mwh=0.0), [1, 2, 3, 6], 60)
    expected = np.array(
        [
            [1, 1, 1, 0],  # 20, 0, 0, 0, 0, 10 (5 MWh left)
            [1, 1, 1, 0],  # 0, 0, 0, 0, 10, 20 (15 left)
            [1, 1, 1, 0],  # 0, 0, 0, 10, 20
            [1, 1, 1, 0],  # 0, 0, 10, 20
            [1, 1, 0, 0],  # 0, 10, 20
            [1, 0, 0, 0],  # 10, 20
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(p, expected)


def test_zero_duration_and_all_units_reliable():
    soc, crit = flat(4, 10.0, 10.0)
    s = site(gen_units=3, unit_mw=10.0, failure_to_start_probability=0.0)
    np.testing.assert_array_equal(survival_by_start(soc, crit, s, [0, 24], 60), 1.0)


def test_pmf_sums_to_one():
    pmf = units_started_pmf(6, 0.07)
    assert pmf.shape == (7,)
    assert pmf.sum() == pytest.approx(1.0)
    assert pmf[6] == pytest.approx(0.93**6)


def test_bad_inputs_raise():
    soc, crit = flat(4, 10.0, 10.0)
    with pytest.raises(ValueError, match="shapes"):
        survival_by_start(soc[:3], crit, site(), [1], 60)
    with pytest.raises(ValueError, match="non-negative"):
        survival_by_start(soc, crit, site(), [-1], 60)
    with pytest.raises(ValueError, match="timestep"):
        survival_by_start(soc, crit, site(), [1], 0)


def test_summary_keys_mean_and_min():
    probs = np.array([[1.0, 0.5], [0.5, 0.25], [0.0, 1.0]])
    out = survival_summary(probs, [4, 0.5])
    assert list(out) == [
        "survival_prob_4h",
        "survival_prob_0.5h",
        "survival_min_4h",
        "survival_min_0.5h",
    ]
    assert out["survival_prob_4h"] == pytest.approx(0.5)
    assert out["survival_prob_0.5h"] == pytest.approx(1.75 / 3)
    assert out["survival_min_4h"] == 0.0
    assert out["survival_min_0.5h"] == 0.25
    assert all(isinstance(v, float) for v in out.values())


def reference(soc0: float, crit: np.ndarray, start: int, s: OutageSite, steps: int, dt: float):
    """Scalar, loop-based survival probability for one start (independent implementation): the
    start delay splits a step into a battery-only part and a part with the started units."""
    delay_h = s.start_delay_minutes / 60.0
    total = 0.0
    for k in range(s.gen_units + 1):
        q = 1 - s.failure_to_start_probability
        w = math.comb(s.gen_units, k) * q**k * s.failure_to_start_probability ** (s.gen_units - k)
        soc, ok = soc0, True
        for i in range(steps):
            load = crit[(start + i) % len(crit)]
            before = min(max(delay_h - i * dt, 0.0), dt)
            for h, gen in ((before, 0.0), (dt - before, k * s.unit_mw)):
                if h <= 0 or not ok:
                    continue
                if load > gen:
                    need = load - gen
                    avail = max(soc - s.bess_soc_min_mwh, 0) * s.discharge_efficiency / h
                    if need > min(s.bess_power_mw, avail) + 1e-9:
                        ok = False
                    soc -= need * h / s.discharge_efficiency
                else:
                    room = max(s.bess_soc_max_mwh - soc, 0.0) / (s.charge_efficiency * h)
                    soc += min(gen - load, s.bess_power_mw, room) * h * s.charge_efficiency
            if not ok:
                break
        total += w * ok
    return total


def test_year_of_starts_matches_scalar_reference():
    # 8760 hourly starts × 7 values of k × 24 steps; a sample of starts checked against a loop.
    rng = np.random.default_rng(7)
    n = 8760
    crit = 40 + 15 * rng.random(n)
    soc = 20 + 180 * rng.random(n)
    s = OutageSite(
        bess_power_mw=50.0,
        bess_energy_mwh=200.0,
        bess_soc_min_mwh=20.0,
        bess_soc_max_mwh=190.0,
        charge_efficiency=0.95,
        discharge_efficiency=0.95,
        gen_units=6,
        unit_mw=12.0,
        start_delay_minutes=10.0,
        failure_to_start_probability=0.15,
    )
    durations = [1, 2, 4, 8, 12, 24]
    p = survival_by_start(soc, crit, s, durations, 60)
    assert p.shape == (n, len(durations))
    assert np.all((p >= 0) & (p <= 1 + 1e-12))
    assert np.all(np.diff(p, axis=1) <= 1e-12)  # longer outages are never easier
    for t in rng.choice(n, 40, replace=False):
        for j, d in enumerate(durations):
            assert p[t, j] == pytest.approx(reference(soc[t], crit, t, s, d, 1.0), abs=1e-12)
