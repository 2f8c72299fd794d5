"""Refinement: only the ties that decide something are re-solved, until they separate."""

from __future__ import annotations

import pytest
import yaml
from conftest import ROOT

from dcpower import refine, resolution, sweep
from dcpower.study import RefineConfig, load_study_config

DIMS = list(sweep.GRID_DIMS)
METRIC = "survival_prob_8h"


def _row(b, u, t, cost, lower, metric) -> dict:
    sizes = {"bess_mwh": b, "gen_units": u, "transformer_mva": t}
    return {
        "scenario": sweep.scenario_name(sizes, DIMS),
        **sizes,
        resolution.COST: cost,
        resolution.LOWER: lower,
        METRIC: metric,
        "solver_status": "optimal",
        "solver_gap": 0.005,
        "solver_gap_requested": 0.005,
        "solve_seconds": 1.0,
    }


ROWS = [
    _row(200, 4, 120, 30.0, 29.9, 0.0),  # cheapest, alone
    _row(200, 4, 160, 31.0, 30.95, 0.0),  # dominated, alone: nothing to decide
    _row(400, 4, 120, 35.74, 35.60, 0.93),  # tied pair that decides the 0.9 level
    _row(400, 4, 160, 35.736, 35.70, 0.93),
    _row(400, 6, 120, 50.0, 49.0, 0.5),  # tied with nothing that matters... (dominated)
    _row(400, 6, 160, 49.5, 49.4, 0.4),  # ...and ties only a less reliable size
]


def test_only_the_ties_that_decide_a_level_or_the_frontier_are_refined():
    summary = sweep.aggregate(ROWS, DIMS, METRIC)
    todo = refine.decisive_ties(summary, METRIC, [0.9])
    assert todo == [ROWS[2]["scenario"], ROWS[3]["scenario"]]


def _fake_solver(final: dict[str, tuple[float, float]]):
    calls = []

    def solve(sizes, settings):
        name = sweep.scenario_name(sizes, DIMS)
        calls.append((name, settings.solve.mip_rel_gap))
        row = dict(next(r for r in ROWS if r["scenario"] == name))
        cost, lower = final[name]
        row.update({resolution.COST: cost, resolution.LOWER: lower})
        return row

    return solve, calls


@pytest.fixture(scope="module")
def settings():
    data = yaml.safe_load((ROOT / "config/test/config.yaml").read_text())
    return load_study_config(data).scenario_settings()


def test_refined_ties_separate_and_the_choice_is_then_a_result(settings):
    a, b = ROWS[2]["scenario"], ROWS[3]["scenario"]
    solve, calls = _fake_solver({a: (35.74, 35.735), b: (35.70, 35.699)})
    summary, log = refine.refine_study(ROWS, DIMS, METRIC, [0.9], [0.001, 0.0001], settings, solve)
    assert calls == [(a, 0.001), (b, 0.001)]  # one round: separated, nothing left to refine
    by = summary.set_index("scenario")
    assert by.loc[a, refine.TIE_OUTCOME] == "separated" and by.loc[a, resolution.TIED] == ""
    assert (
        by.loc[a, refine.REFINED_GAP] == 0.001 and by.loc[ROWS[0]["scenario"], "tie_outcome"] == ""
    )
    assert "every deciding tie separated" in log[-1] and "no tie decides" in log[-2]


def test_ties_left_after_the_last_gap_are_declared_equivalent(settings):
    a, b = ROWS[2]["scenario"], ROWS[3]["scenario"]
    solve, calls = _fake_solver({a: (35.72, 35.70), b: (35.71, 35.70)})
    summary, log = refine.refine_study(ROWS, DIMS, METRIC, [0.9], [0.001, 0.0001], settings, solve)
    assert [g for _, g in calls] == [0.001, 0.001, 0.0001, 0.0001]
    assert set(summary.set_index("scenario").loc[[a, b], refine.TIE_OUTCOME]) == {"equivalent"}
    assert "declared equivalent" in log[-1] and a in log[-1]


def test_refine_gaps_must_decrease():
    with pytest.raises(ValueError, match="each gap must be below"):
        RefineConfig(mip_rel_gaps=[0.001, 0.002])


def test_a_real_loose_tie_is_re_solved_until_it_separates():
    """Two sizes of the tiny study (two days) solved at a 20 % gap tie; re-solved at 0.01 %
    only those two are solved again, and the refined intervals no longer overlap."""
    data = yaml.safe_load((ROOT / "config/test/config.yaml").read_text())
    data["market"]["end"] = "2016-07-12"
    data["solve"]["mip_rel_gap"] = 0.2
    study = load_study_config(data)
    settings = study.scenario_settings()
    solve = refine.scenario_solver(ROOT / data["study"]["base_case"], None)
    sizes = [{"bess_mwh": 400, "gen_units": 4, "transformer_mva": t} for t in (150, 160)]
    rows = [solve(s, settings) for s in sizes]
    loose = sweep.aggregate(rows, DIMS, METRIC)
    if not loose[resolution.TIED].ne("").all():
        pytest.fail(f"the loose solves do not tie: {loose[[resolution.COST, resolution.LOWER]]}")
    summary, log = refine.refine_study(rows, DIMS, METRIC, [0.0], [1e-4], settings, solve)
    assert summary[refine.REFINED_GAP].eq(1e-4).all()
    assert set(summary[refine.TIE_OUTCOME]) <= {"separated", "equivalent"}
    lo, hi = summary[resolution.LOWER], summary[resolution.COST]
    assert ((hi - lo) < (loose[resolution.COST] - loose[resolution.LOWER])).all()
    print(log, summary[["scenario", resolution.COST, resolution.LOWER, refine.TIE_OUTCOME]])


def test_the_study_summary_states_the_refinement(settings):
    a, b = ROWS[2]["scenario"], ROWS[3]["scenario"]
    solve, _ = _fake_solver({a: (35.72, 35.70), b: (35.71, 35.70)})
    summary, _ = refine.refine_study(ROWS, DIMS, METRIC, [0.9], [0.001], settings, solve)
    text = sweep.study_summary_markdown(summary, "t", "ERCOT", METRIC, [0.9])
    assert "## Refinement" in text
    assert f"- {a}: re-solved at 0.1000%, equivalent" in text
