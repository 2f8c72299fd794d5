"""Cost intervals and ties: every cost carries the resolution the solver proved."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from dcpower import resolution, sweep
from dcpower.study import load_study_config


def test_unclosed_value_prefers_a_proven_bound_and_annualises():
    rolling = {"objective": 1000.0, "window_gap_usd": 40.0, "mip_rel_gap_requested": 0.005}
    assert resolution.unclosed_net_value_usd(rolling) == (40.0, "window_mip_bounds")
    proven = {**rolling, "proven_bound": 1100.0, "proven_bound_method": "lagrangian_blocks"}
    assert resolution.unclosed_net_value_usd(proven) == (100.0, "lagrangian_blocks")
    cols = resolution.cost_interval_columns({"solver": rolling}, scale=52.0, cost=5e6)
    assert cols[resolution.LOWER] == pytest.approx(5e6 - 40.0 * 52.0)
    assert cols["solver_gap_requested"] == 0.005
    lp = {"objective": 1000.0, "best_bound": 1000.0, "relaxed_integrality": True}
    assert math.isnan(resolution.cost_interval_columns({"solver": lp}, 1.0, 5.0)[resolution.LOWER])


def test_ties_are_overlapping_intervals_within_a_year():
    s = pd.DataFrame(
        {
            "scenario": ["a", "b", "c", "d", "e"],
            "market_year": [2024, 2024, 2024, 2024, 2023],
            resolution.COST: [12.0, 13.0, 15.0, 15.0, 12.5],
            resolution.LOWER: [10.0, 11.5, 14.0, float("nan"), 12.0],
        }
    )
    tied = resolution.tied_with(s, ["market_year", "events"])
    # a [10, 12] and b [11.5, 13] overlap; c [14, 15] holds d (an exact point at 15);
    # e overlaps a and b in cost but is another year
    assert list(tied) == ["b", "a", "d", "c", ""]
    assert resolution.tie_names(tied[2]) == ["d"] and resolution.tie_names("") == []


@pytest.fixture(scope="module")
def two_gaps():
    """One tiny scenario (two days) solved at a loose and at a tight gap."""
    data = yaml.safe_load((ROOT / "config/test/config.yaml").read_text())
    data["market"]["end"] = "2016-07-12"
    rows = {}
    for gap in (0.05, 1e-6):
        data["solve"]["mip_rel_gap"] = gap
        settings = load_study_config(data).scenario_settings()
        row, _, _ = sweep.solve_scenario(
            ROOT / data["study"]["base_case"],
            {"bess_mwh": 400, "gen_units": 4, "transformer_mva": 160},
            settings,
            None,
        )
        rows[gap] = row
    return rows[0.05], rows[1e-6]


def test_the_optimum_lies_inside_the_loose_interval(two_gaps):
    """An independent check of the bound: the near-exact solve's cost falls inside the
    interval the loose solve proved (the loose interval is not trivially wide open)."""
    loose, tight = two_gaps
    lo, hi = loose[resolution.LOWER], loose[resolution.COST]
    assert lo <= hi
    assert lo - 1.0 <= tight[resolution.COST] <= hi + 1.0
    assert tight[resolution.LOWER] <= hi + 1.0
    assert hi - tight[resolution.COST] <= (hi - lo) + 1.0
    assert loose["solver_gap_requested"] == 0.05 and loose["cost_bound_method"] != "none"
    assert hi - lo > 10 * (tight[resolution.COST] - tight[resolution.LOWER]) + 1e4


def _row(name: str, cost: float, lower: float, gap: float, **extra) -> dict:
    sizes = sweep.parse_scenario_name(name)
    return {
        "scenario": name,
        **sizes,
        resolution.COST: cost,
        resolution.LOWER: lower,
        "cost_unclosed_usd": cost - lower,
        "solver_gap": gap,
        "solver_gap_requested": 0.005,
        "solver_status": "optimal" if gap <= 0.005 else "feasible_above_requested_gap",
        "solve_seconds": 1.0,
        "survival_prob_8h": extra.pop("metric"),
        "binding_steps_soc_floor": 10,
        "binding_steps_n_plus_1": 0,
        **extra,
    }


def test_summary_table_dataset_and_markdown_carry_intervals_ties_and_gaps():
    dims = list(sweep.GRID_DIMS)
    rows = [
        _row("bess_mwh~400/gen_units~4/transformer_mva~120", 35.740e6, 35.66e6, 0.0096,
             metric=0.95, warnings="5 of 53 windows stopped above the requested gap"),
        _row("bess_mwh~400/gen_units~4/transformer_mva~160", 35.736e6, 35.70e6, 0.004,
             metric=0.95),
        _row("bess_mwh~200/gen_units~4/transformer_mva~120", 30.0e6, 29.99e6, 0.001, metric=0.0),
    ]  # fmt: skip
    summary = sweep.aggregate(rows, dims, "survival_prob_8h")
    by = summary.set_index("scenario")
    assert by.loc[rows[0]["scenario"], resolution.TIED] == rows[1]["scenario"]
    assert by.loc[rows[2]["scenario"], resolution.TIED] == ""
    assert (summary[resolution.LOWER] <= summary[resolution.COST]).all()
    ds = sweep.to_dataset(summary, dims, {"study": "t"})
    assert ds[resolution.LOWER].attrs["units"] == "$/yr"
    assert (
        str(ds[resolution.TIED].sel(bess_mwh=400, gen_units=4, transformer_mva=160).item())
        == (rows[0]["scenario"])
    )
    text = sweep.study_summary_markdown(summary, "t", "ERCOT", "survival_prob_8h", [0.9])
    assert "Requested MIP gap 0.5000%; worst achieved gap 0.9600%" in text
    assert "5 of 53 windows stopped above the requested gap" in text
    # the level's choice (160 MVA, cheaper by 4 k$) is marked as tied with the 120 MVA size
    level = next(line for line in text.splitlines() if line.startswith("| 0.9 |"))
    assert "transformer_mva~160" in level and level.endswith(f"{rows[0]['scenario']} |")
    # the binding table states the family in words
    from dcpower.optimization.dispatch_milp import CONSTRAINT_FAMILIES

    assert CONSTRAINT_FAMILIES["soc_floor"] in text
