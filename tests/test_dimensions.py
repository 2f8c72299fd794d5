"""Study dimensions: one registry gives the grid order, sweep.nc units, labels, the UI's size
columns and the Pareto grouping (the UI's frontier equals summary.parquet's)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from dcpower import dimensions, sweep
from dcpower.plots import scenario_label
from dcpower.ui import state

METRIC = "survival_prob_8h"
DIMS = ["bess_mwh", "gen_units", "transformer_mva", "market_year", "events"]


def two_year_summary() -> pd.DataFrame:
    """A two-year, two-event study aggregated as the workflow does: year 2024 is much dearer,
    so a frontier over the whole table would drop all of 2024's scenarios."""
    rows = []
    grid = itertools.product([0, 400], [2, 4], [150], [2023, 2024], ["none", "uri"])
    for i, (bess, units, mva, year, event) in enumerate(grid):
        sizes = dict(zip(DIMS, (bess, units, mva, year, event), strict=True))
        rows.append(
            {
                "scenario": sweep.scenario_name(sizes, DIMS),
                **sizes,
                "annual_total_cost_usd": 1e6 * (10 + bess / 100 + units)
                + (50e6 if year == 2024 else 0.0)
                + (5e6 if event == "uri" else 0.0),
                METRIC: 0.5 + 0.1 * units / 2 + bess / 1000 - 0.01 * (i % 3),
                "solver_status": "optimal",
            }
        )
    return sweep.aggregate(rows, DIMS, METRIC)


def test_ui_frontier_equals_summary_pareto_on_two_years():
    summary = two_year_summary()
    ui = state.with_frontier(summary, METRIC)
    assert ui["frontier"].tolist() == summary["pareto"].tolist()
    for (_, _), part in summary.groupby(["market_year", "events"]):
        assert part["pareto"].any()  # every year and event has its own frontier


def test_every_sweep_dimension_has_its_own_unit():
    ds = sweep.to_dataset(two_year_summary(), DIMS, {"study": "t"})
    units = {d: ds[d].attrs["units"] for d in DIMS}
    assert units == {
        "bess_mwh": "MWh",
        "gen_units": "units",
        "transformer_mva": "MVA",
        "market_year": "year",
        "events": "event",
    }


def test_registry_gives_ui_columns_labels_and_grid_order():
    assert set(dimensions.NAMES) <= set(state.SIZE_COLUMNS)
    for name in ("poi_import_mw", "events", "operations_policy"):
        assert name in state.SIZE_COLUMNS
    row = pd.Series({"bess_mwh": 400, "gen_units": 4, "transformer_mva": 150, "events": "uri"})
    other = row.copy()
    other["events"] = "none"
    assert scenario_label(row) != scenario_label(other)
    assert scenario_label(row).startswith("400 MWh · 4 units · 150 MVA")
    assert list(sweep.grid_dims(_market(2), ["events", "poi_import_mw"])) == [
        "bess_mwh",
        "gen_units",
        "transformer_mva",
        "poi_import_mw",
        "market_year",
        "events",
    ]
    assert np.array_equal(
        list(dimensions.FRONTIER_GROUPS), ["market_year", "events", "operations_policy"]
    )


def _market(n_years: int):
    class Market:
        years = list(range(2023, 2023 + n_years))

    return Market()


def test_every_sweep_dimension_is_registered():
    """A dimension the sweep can add (sizes, optional, year, event, policy) is in the registry,
    so it gets a unit, a label, a UI column and its frontier grouping."""
    known = [
        *sweep.GRID_DIMS,
        *sweep.OPTIONAL_DIMS,
        sweep.YEAR_DIM,
        sweep.EVENT_DIM,
        sweep.POLICY_DIM,
    ]
    assert set(known) == set(dimensions.NAMES)
