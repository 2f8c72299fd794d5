"""Correlated fuel failure: a grid event that curtails pipeline gas limits the units in the
dispatch and in the outage survival; dual fuel buys its backup hours; on-site fuel is immune.
Answers by hand on a 3-day site (checked from the results alone)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_site, solve_dict, write_tidy_prices

from dcpower import events as grid_events
from dcpower import reliability
from dcpower.case import CaseError, case_from_dict
from dcpower.results import records_to_frame

# 18:00–21:00 CDT on 11 July 2023: three hourly steps; pipeline gas at 15 %
EVENT = {
    "name": "gas_freeze",
    "start": "2023-07-11T18:00-05:00",
    "end": "2023-07-11T21:00-05:00",
    "cap_mw": 0.0,
    "source": "hand-made test event",
    "pipeline_gas_fraction": 0.15,
    "pipeline_gas_source": "hand-made figure",
}
LOAD = {
    "profile_mw": 80.0,
    "critical_fraction": 0.25,  # 20 MW
    "flexible_fraction": 0.25,
    "flexible_curtailment_usd_per_mwh": 500.0,
    "power_factor": 1.0,
}
# Two 50 MW units at 40 % minimum stable output: 15 % of 100 MW = 15 MW < one unit's 20 MW
# minimum, so on pipeline gas no unit can run in the event.
GAS = {
    "units": 2,
    "unit_mw": 50.0,
    "min_stable_fraction": 0.4,
    "ramp_mw_per_min": 10.0,
    "fuel_cost_usd_per_mwh": 60.0,
    "start_delay_minutes": 0.0,
    "operational_availability": 1.0,
    "failure_to_start_probability": 0.1,
    "mean_time_to_failure_h": None,
}


@pytest.fixture(scope="module")
def prices(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuel") / "prices.csv"
    return write_tidy_prices(path, "2023-07-10T00:00", [30.0 + (h % 24) for h in range(72)])


def _solve(prices, **gas) -> dict:
    case = small_site(
        prices,
        "2023-07-10",
        "2023-07-13",
        load=LOAD,
        gas_gen={**GAS, **gas},
        events=[EVENT],
        reliability={"outage_durations_h": [1.0]},
    )
    return solve_dict(case)


def _on(r: dict) -> np.ndarray:
    d = records_to_frame(r["dispatch"])
    return grid_events.step_mask(
        grid_events.resolve(case_from_dict(r["case"]).events)[0], d.index, 60
    )


@pytest.mark.parametrize(
    ("supply", "backup_h", "critical_shed_mwh"),
    [("pipeline", 0.0, 60.0), ("dual_fuel", 2.0, 20.0), ("on_site", 0.0, 0.0)],
)
def test_pipeline_curtailment_in_the_dispatch(prices, supply, backup_h, critical_shed_mwh):
    r = _solve(prices, fuel_supply=supply, backup_fuel_hours=backup_h)
    d = records_to_frame(r["dispatch"])
    on = _on(r)
    gen = d["gen_mw"].to_numpy()[on]
    allowed = np.array([1.0 if supply == "on_site" or i < backup_h else 0.15 for i in range(3)])
    assert np.all(gen <= allowed * 100.0 + 1e-6)
    (ev,) = r["events"]
    assert ev["curtailed_mwh"]["critical"] == pytest.approx(critical_shed_mwh, abs=1e-6)
    assert ev["fuel_supply"] == supply and ev["pipeline_gas_fraction"] == 0.15
    assert ev["gas_available_mw_min"] == pytest.approx(100.0 if supply == "on_site" else 15.0)
    # outage survival from the event's steps: 15 MW of gas for 20 MW critical, no battery;
    # a unit the dispatch had running in the previous step needs no start
    p = np.array(r["outage"]["by_start"]["survival_prob"]["1"])
    ran = np.concatenate([[0], d["gen_units_producing"].to_numpy()[:-1]]) >= 1
    either_starts = 1 - 0.1**2
    full = np.where(ran, 1.0, either_starts)
    expected = np.where(on, 0.0, full)
    expected[np.flatnonzero(on)] = np.where(allowed == 1.0, full[on], 0.0)
    np.testing.assert_allclose(p, expected, atol=1e-12)


def test_shortfall_names_the_pipeline(prices):
    r = _solve(prices, fuel_supply="pipeline")
    text = r["outage"]["limited_by_by_duration_h"]["1"]
    case = case_from_dict(r["case"])
    assert reliability.gas_fraction(case, records_to_frame(r["dispatch"])).min() == 0.15
    # the first start below 1 is outside the event (a failure to start): its reason is the
    # unit count; the worst start is in the event (P = 0) and names the pipeline
    first, worst = text.split("; worst at ")
    assert "unit count" in first
    assert "(P = 0 for 1 h): fuel: pipeline gas curtailed to 15% in a grid event" in worst
    soc, crit, running = reliability.outage_starts(case, records_to_frame(r["dispatch"]))
    t = int(np.flatnonzero(_on(r))[0])
    frac = reliability.gas_fraction(case, records_to_frame(r["dispatch"]))
    cause = reliability.shortfall(case, soc, crit, running, frac, t, 1.0)
    assert cause.startswith("fuel: pipeline gas curtailed to 15% in a grid event")


def test_a_curtailed_pipeline_needs_its_source(prices):
    bad = {**EVENT}
    bad.pop("pipeline_gas_source")
    case = small_site(prices, "2023-07-10", "2023-07-13", events=[bad])
    with pytest.raises(CaseError, match="pipeline_gas_source"):
        case_from_dict(case)
