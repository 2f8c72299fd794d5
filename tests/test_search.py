"""Sizing by search (dcpower.search): the stop rule on hand-built cases (no solver), the search
against a dense grid of real solves, and a killed and resumed search through Snakemake."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_workflow, run_snakemake

from dcpower import columns, search
from dcpower.study import StudyConfigError, load_study_config
from dcpower.sweep import load_checked_study, scenario_grid

METRIC = "survival_prob_8h"
CONFIG = ROOT / "config" / "test" / "config_search.yaml"


def _search_config(**overrides) -> search.SearchConfig:
    raw = {"bess_mwh": [0, 400], "gen_units": [2, 5], "transformer_mva": [160, 160]}
    raw.update(max_solves=40, tolerance=0.005, steps={"bess_mwh": 100})
    raw.update(overrides)
    return search.SearchConfig.model_validate(raw)


def _row(bess: float, units: int, cost: float, metric: float, mv_bess: float) -> dict:
    """A summary row as the solve writes it: sizes, cost, metric, BESS marginal value and the
    annualised cost of 1 MWh (35,000 $/yr; BESS power and gas priced at 0 here)."""
    row = {
        "bess_mwh": bess,
        "gen_units": units,
        "transformer_mva": 160,
        "gen_mw": 20.0 * units,
        "annual_total_cost_usd": cost,
        METRIC: metric,
        columns.marginal_value_column("bess_energy"): mv_bess,
        columns.unit_cost_column("bess_energy"): 35_000.0,
        columns.marginal_value_column("bess_power"): 0.0,
        columns.unit_cost_column("bess_power"): 0.0,
    }
    return row


# ------------------------------------------------------------------------------------------
# Pure Python: lattice, predictions, the stop rule
# ------------------------------------------------------------------------------------------


def test_lattice_includes_both_bounds_and_equal_bounds_fix_a_size():
    space = search.space_of(_search_config(steps={"bess_mwh": 150}))
    assert [d.values for d in space.dims] == [(0, 150, 300, 400), (2, 3, 4, 5), (160,)]
    assert space.n_points() == 16
    assert search.dense_grid_solves(_search_config(), 3) == 5 * 4 * 3


def test_stop_rule_certifies_the_cheapest_size_of_a_monotone_case():
    """Cost rises with both sizes, the metric with the units only: level 0.9 needs 4 units, so
    the cheapest size meeting it is 0 MWh / 4 units, and with every size evaluated the rule
    holds there; the cheaper 0 MWh / 3 units fails the level and is no rival."""
    cfg = _search_config()
    rows = [
        _row(b, u, 1e6 * u + 40_000.0 * b, {2: 0.5, 3: 0.8, 4: 0.95, 5: 0.999}[u], -5_000.0)
        for b in (0, 100, 200, 300, 400)
        for u in (2, 3, 4, 5)
    ]
    (c90, c99) = search.search_report(pd.DataFrame(rows), cfg, METRIC, [0.9, 0.99], 4.0)
    assert c90.sizes == {"bess_mwh": 0, "gen_units": 4, "transformer_mva": 160}
    assert c90.cost_usd == pytest.approx(4e6) and c90.cheapest
    assert c99.sizes == {"bess_mwh": 0, "gen_units": 5, "transformer_mva": 160} and c99.cheapest


@pytest.mark.parametrize(
    ("mv_bess", "rival"),
    [
        (5_000.0, 100),  # marginal value below the 35,000 $/yr annualised cost: too big
        (95_000.0, 300),  # marginal value above it: too small
    ],
)
def test_stop_rule_names_the_neighbour_the_marginal_value_predicts_cheaper(mv_bess, rival):
    """One size evaluated among unevaluated neighbours that meet the level: the neighbour on
    the side where the marginal value says cost falls is predicted cheaper by 30,000 $/yr per
    MWh × 100 MWh = 3 M$/yr (> 0.5 % of 10 M$/yr), so the size is not yet the cheapest."""
    cfg = _search_config(gen_units=[4, 4])
    evaluated = [_row(200, 4, 10e6, 0.999, mv_bess)]
    (choice,) = search.search_report(pd.DataFrame(evaluated), cfg, METRIC, [0.99], 4.0)
    assert choice.sizes["bess_mwh"] == 200 and not choice.cheapest
    assert f"bess_mwh~{rival}/" in choice.why
    other = 300 if rival == 100 else 100
    assert f"bess_mwh~{other}/" not in choice.why
    space = search.space_of(cfg)
    evals = search.evaluations(pd.DataFrame(evaluated), space, METRIC, 4.0)
    slope = 35_000.0 - mv_bess
    pred = search.predicted_cost(
        space, evals, space.point({"bess_mwh": rival, "gen_units": 4, "transformer_mva": 160})
    )
    assert pred == pytest.approx(10e6 + slope * (rival - 200))


def test_stop_rule_holds_within_the_tolerance():
    """A neighbour predicted 0.3 % cheaper is within a 0.5 % tolerance (no rival) and outside
    a 0.1 % one."""
    rows = [_row(200, 4, 10e6, 0.999, 35_000.0 + 300.0)]  # −300 $/yr/MWh × 100 MWh = −0.3 %
    for tol, cheapest in ((0.005, True), (0.001, False)):
        cfg = _search_config(gen_units=[4, 4], tolerance=tol)
        (choice,) = search.search_report(pd.DataFrame(rows), cfg, METRIC, [0.99], 4.0)
        assert choice.cheapest is cheapest, (tol, choice.why)


def test_metric_steps_prune_sizes_below_a_failure():
    """A size below (fewer units, less BESS) one that fails a level fails it too, and one above
    a size that meets it meets it: those are never candidates / always predicted to meet."""
    cfg = _search_config()
    space = search.space_of(cfg)
    rows = [_row(300, 4, 9e6, 0.5, 35_000.0), _row(100, 3, 5e6, 0.995, 35_000.0)]
    evals = search.evaluations(pd.DataFrame(rows), space, METRIC, 4.0)
    below = space.point({"bess_mwh": 200, "gen_units": 3, "transformer_mva": 160})
    above = space.point({"bess_mwh": 400, "gen_units": 5, "transformer_mva": 160})
    assert search.metric_bounds(space, evals, below)[1] == 0.5
    assert search.predicted_metric(space, evals, above) >= 0.995
    cands = {p for _, p in search.candidates(space, evals, 0.9, 0.005)}
    assert below not in cands


def _hand_built(bess: float, units: int) -> dict:
    """A convex cost in BESS (value 12 M$·(1 − e^(−b/150)), 35,000 $/yr per MWh), 4.4 M$/yr per
    unit against falling unit values, and a survival that rises with units and a little with
    BESS; the marginal value is the exact derivative."""
    value = 12e6 * (1 - math.exp(-bess / 150)) + sum((3e6, 2e6, 1e6, 0.5e6, 0.2e6)[:units])
    cost = 35_000.0 * bess + 4.4e6 * units - value
    metric = min(1.0, (0.5, 0.8, 0.95, 0.995, 0.9995)[units - 2] + 0.002 * bess / 400)
    return _row(bess, units, cost, metric, 12e6 / 150 * math.exp(-bess / 150))


def _run_search(cfg, levels, solve) -> tuple[pd.DataFrame, list[dict]]:
    rows, rounds = [], []
    for r in range(100):
        plan = search.plan_round(r, pd.DataFrame(rows), cfg, METRIC, levels, 4.0, 1)
        rounds.append(plan)
        if not plan["sizes"]:
            break
        rows += [solve(s) for s in plan["sizes"]]
    return pd.DataFrame(rows), rounds


def test_search_finds_the_hand_built_optimum_per_level_in_a_fraction_of_the_grid():
    cfg = _search_config(bess_mwh=[0, 400], gen_units=[2, 6], steps={"bess_mwh": 25})
    levels = [0.9, 0.99, 0.999]
    summary, rounds = _run_search(cfg, levels, lambda s: _hand_built(s["bess_mwh"], s["gen_units"]))
    space = search.space_of(cfg)
    dense = pd.DataFrame([_hand_built(*list(space.sizes(p).values())[:2]) for p in space.points()])
    choices = search.search_report(summary, cfg, METRIC, levels, 4.0)
    for c in choices:
        best = dense[dense[METRIC] >= c.level]["annual_total_cost_usd"].min()
        assert c.cost_usd <= best + 0.005 * abs(best), c
        assert c.cheapest
    assert len(summary) <= 0.25 * len(dense), (len(summary), len(dense))
    assert rounds[-1]["reason"].startswith("stop rule")


def test_search_respects_the_solve_budget():
    cfg = _search_config(bess_mwh=[0, 400], gen_units=[2, 6], steps={"bess_mwh": 25}, max_solves=4)
    summary, rounds = _run_search(
        cfg, [0.9, 0.99], lambda s: _hand_built(s["bess_mwh"], s["gen_units"])
    )
    assert len(summary) == 4 and rounds[-1]["reason"].startswith("solve budget spent")


def test_several_market_years_size_for_the_worst_year_or_the_mean():
    """Two sizes in two years: A costs 10 (2023) and 14 (2024) M$/yr and survives 0.995 / 0.98,
    B costs 13 and 13 and survives 0.999 / 0.995. For level 0.99 the worst year rules A out
    (0.98) and picks B; the mean (12 M$/yr, 0.9875) rules A out too; for level 0.98 the worst
    year picks B (13 < 14), the mean picks A (12 < 13). The report gives each year's cost."""
    rows = []
    for year, a, b in ((2023, (10e6, 0.995), (13e6, 0.999)), (2024, (14e6, 0.98), (13e6, 0.995))):
        for bess, (cost, metric) in ((200, a), (300, b)):
            rows.append({**_row(bess, 4, cost, metric, 35_000.0), "market_year": year})
    summary = pd.DataFrame(rows)
    for years, expected in (("worst", (300, 300)), ("mean", (200, 300))):
        cfg = _search_config(gen_units=[4, 4], years=years)
        chosen = search.search_report(summary, cfg, METRIC, [0.98, 0.99], 4.0)
        assert tuple(c.sizes["bess_mwh"] for c in chosen) == expected, years
    text = search.search_markdown(
        summary, _search_config(gen_units=[4, 4]), METRIC, [0.99], 4.0, []
    )
    assert "| 0.99 | 13.000 | 13.000 |" in text  # B in 2023 and 2024
    assert "4 years" not in text and "× 2 years" in text


def test_search_round_column_marks_the_round_that_evaluated_each_size():
    rounds = [
        {"round": 0, "sizes": [{"bess_mwh": 200, "gen_units": 4, "transformer_mva": 160}]},
        {"round": 1, "sizes": [{"bess_mwh": 237.5, "gen_units": 4, "transformer_mva": 160}]},
    ]
    summary = pd.DataFrame(
        {"bess_mwh": [200, 237.5, 400], "gen_units": [4, 4, 4], "transformer_mva": [160] * 3}
    )
    out = search.add_round_column(summary, rounds)
    assert list(out[search.ROUND_COLUMN]) == [0, 1, -1]


# ------------------------------------------------------------------------------------------
# Study config
# ------------------------------------------------------------------------------------------


def _raw() -> dict:
    return yaml.safe_load(CONFIG.read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["grid"].update(bess_mwh=[200]), "grid.bess_mwh: not allowed with a search"),
        (lambda c: c["search"].update(bess_mwh=[400, 200]), "search.bess_mwh: bounds [400, 200]"),
        (lambda c: c["search"].update(gen_units=[2.5, 4]), "search.gen_units.0"),
        (lambda c: c["search"].update(steps={"gen_units": 1}), "search.steps.gen_units"),
        (lambda c: c["search"].pop("max_solves"), "search.max_solves: is required"),
        (lambda c: c["search"].update(years="best"), "search.years"),
        (lambda c: c.pop("search"), "grid.bess_mwh: is required (or give a search: section)"),
        (
            lambda c: c.update(operations={"policy": ["perfect_foresight", "forecast"]}),
            "operations.policy: a search sizes for one dispatch policy",
        ),
    ],
)
def test_search_config_errors_name_the_key(edit, message):
    raw = _raw()
    edit(raw)
    with pytest.raises(StudyConfigError) as err:
        load_study_config(raw)
    assert message in str(err.value)


def test_search_config_preflight_builds_the_corner_cases():
    study = load_checked_study(_raw())
    assert study.optional_dims() == []

    corners = scenario_grid(study)
    assert len(corners) == 4 and set(corners["bess_mwh"]) == {240, 400}


# ------------------------------------------------------------------------------------------
# Real solves: a dense grid of the tiny study against the search
# ------------------------------------------------------------------------------------------


def _solve(sizes: dict) -> dict:
    from dcpower.sweep import solve_scenario

    study = load_study_config(_raw())
    row, _, _ = solve_scenario(ROOT / study.study.base_case, sizes, study.scenario_settings(), None)
    return row


@pytest.mark.slow
def test_search_finds_the_dense_grid_cheapest_per_level_with_a_quarter_of_its_solves():
    """The tiny study's dense grid (5 BESS × 4 unit counts, one day, real solves) against the
    search: per level within the tolerance of the grid's cheapest, in at most 25 % of its
    solves. The search reads its solves from the grid's (the same deterministic solve)."""
    study = load_study_config(_raw())
    cfg, levels = study.search, list(study.reliability.report_levels)
    space = search.space_of(cfg)
    assert cfg.max_solves == space.n_points() // 4  # the budget: a quarter of the grid
    points = [space.sizes(p) for p in space.points()]
    with ProcessPoolExecutor(max_workers=2) as pool:
        dense = pd.DataFrame(list(pool.map(_solve, points)))
    assert (dense["solver_status"] == "optimal").all()

    def lookup(sizes):
        hit = dense[
            (dense["bess_mwh"] == sizes["bess_mwh"]) & (dense["gen_units"] == sizes["gen_units"])
        ]
        return hit.iloc[0].to_dict()

    summary, _ = _run_search(cfg, levels, lookup)
    assert len(summary) <= 0.25 * len(dense), len(summary)
    for c in search.search_report(summary, cfg, METRIC, levels, study.grid.bess_duration_h):
        meets = dense[dense[METRIC] >= c.level - 1e-12]
        assert len(meets), c  # the tiny study reaches both levels
        best = meets["annual_total_cost_usd"].min()
        assert c.sizes is not None and c.cost_usd <= best + float(cfg.tolerance) * abs(best), c


# ------------------------------------------------------------------------------------------
# Snakemake: a search killed in its first round resumes without re-solving
# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_search_killed_and_resumed_solves_nothing_twice(tmp_path):
    work = copy_workflow(tmp_path)
    config = work / "config" / "test" / "config_search.yaml"
    raw = yaml.safe_load(config.read_text())
    raw["search"]["max_solves"] = 4  # the initial design (3 solves), one more, the budget stop
    config.write_text(yaml.safe_dump(raw))
    out = work / "results" / "test_search"
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile"]
    cmd += ["config/test/config_search.yaml"]
    proc = subprocess.Popen(
        cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("scenarios/**/summary.json")):
            assert proc.poll() is None and time.monotonic() < deadline, "no scenario solved"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, mid-round
        proc.wait()
    first = {p: p.stat().st_mtime_ns for p in out.glob("scenarios/**/summary.json")}
    assert not (out / "summary.parquet").exists()

    unlock = run_snakemake(work, *cmd[3:], "--unlock")  # a killed run leaves its lock
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    done = run_snakemake(work, *cmd[3:], "--rerun-incomplete")
    assert done.returncode == 0, done.stderr[-3000:]
    for path, mtime in first.items():
        assert path.stat().st_mtime_ns == mtime, f"{path} was solved again"
    summary = pd.read_parquet(out / "summary.parquet")
    assert len(summary) == 4 and list(summary[search.ROUND_COLUMN].value_counts().sort_index()) == [
        3,
        1,
    ]  # the initial design (3 sizes), then one size within the budget
    last = json.loads((out / "search" / "round_2.json").read_text())
    assert last["sizes"] == [] and last["reason"].startswith("solve budget spent")
    text = (out / "study_summary.md").read_text()
    assert "## Sizing by search" in text and "| 0.9 | bess_mwh~" in text

    again = run_snakemake(work, *cmd[3:], "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_frontier_plot_marks_the_search_path_and_the_chosen_size_per_level(tmp_path):
    """The frontier plot colours every size by its round (gid search_path, one point per size,
    coloured by the round number), stars the chosen size of each level (gid chosen) and prints
    its assets' annualised cost vs marginal value; the UI chart numbers the rounds."""
    from dcpower.plots import plot_frontier
    from dcpower.ui.charts import frontier_chart

    cfg = _search_config(gen_units=[3, 5])
    rows = [
        {**_row(b, u, 1e6 * u + 40_000.0 * b, {3: 0.8, 4: 0.95, 5: 0.999}[u], 5_000.0)}
        for b, u in ((200, 4), (200, 3), (200, 5), (100, 4), (100, 5))
    ]
    summary = pd.DataFrame(rows).assign(search_round=[0, 0, 0, 1, 1], pareto=False, scenario="s")
    chosen = search.chosen_rows(summary, cfg, METRIC, [0.9, 0.99], 4.0)
    assert list(chosen["bess_mwh"]) == [100, 100] and list(chosen["gen_units"]) == [4, 5]
    fig = plot_frontier(summary, METRIC, [tmp_path / "f.png"], chosen=chosen)
    ax = fig.axes[0]
    (path,) = [c for c in ax.collections if c.get_gid() == "search_path"]
    assert list(path.get_array()) == [0, 0, 0, 1, 1]
    (star,) = [c for c in ax.collections if c.get_gid() == "chosen"]
    assert [tuple(o) for o in star.get_offsets()] == [(0.95, 4.0 + 4.0), (0.999, 5.0 + 4.0)]
    note = "\n".join(t.get_text() for t in fig.texts)
    assert "bess_energy 35,000 vs 5,000/MWh" in note and "level 0.99" in note
    spec = frontier_chart(summary, METRIC).to_dict()
    assert any(
        layer.get("encoding", {}).get("text", {}).get("field") == "search_round"
        for layer in spec["layer"]
    )


def test_bess_duration_is_a_search_dimension_with_power_following_it():
    """search.bess_duration_h adds the dimension: a scenario's BESS MW is its MWh / duration
    (PCS × 1.1), its slope is the power's net value × −MWh/h², and a longer duration (less MW)
    is never more reliable: a failure at 2 h fails at 4 h."""
    from dcpower.case import load_case
    from dcpower.sweep import grid_dims, scenario_case, scenario_grid

    raw = _raw()
    raw["search"]["bess_duration_h"] = [2, 4]
    raw["search"]["steps"]["bess_duration_h"] = 1
    study = load_study_config(raw)
    assert grid_dims(study.market, study.optional_dims())[-1] == "bess_duration_h"
    assert len(scenario_grid(study)) == 8  # corners of 3 ranges (transformer fixed) × 2
    sizes = {"bess_mwh": 320, "gen_units": 4, "transformer_mva": 160, "bess_duration_h": 2}
    case = scenario_case(load_case(ROOT / study.study.base_case), sizes, study.scenario_settings())
    assert case.bess.power_mw == 160 and case.bess.pcs_mva == pytest.approx(176)

    row = {**_row(320, 4, 1e7, 0.5, 35_000.0), "bess_mw": 160.0}
    row[columns.marginal_value_column("bess_power")] = 50_000.0
    row[columns.unit_cost_column("bess_power")] = 20_000.0
    slopes = search.size_slopes(row, 4.0)
    assert slopes["bess_duration_h"] == pytest.approx(-30_000.0 * -320 / 4)  # +1 h: −80 MW
    assert slopes["bess_mwh"] == pytest.approx(0.0 + -30_000.0 / 2)

    space = search.space_of(study.search)
    evals = search.evaluations(pd.DataFrame([{**row, "bess_duration_h": 2}]), space, METRIC, 4.0)
    at_4h = space.point({**sizes, "bess_duration_h": 4})
    assert search.metric_bounds(space, evals, at_4h)[1] == 0.5
    assert search.reliability_corner(space)[-1] == 0  # the most reliable size: shortest duration


def test_a_bess_step_between_a_failure_and_a_pass_is_bisected():
    """0 MWh fails level 0.9 and 400 MWh meets it (4 units): 200 MWh, midway, is a candidate
    (cheaper, and the step may lie below it) though the interpolation predicts it fails;
    100 MWh, not a bisection point and nearer the failure, is not."""
    cfg = _search_config(gen_units=[4, 4])
    rows = [_row(0, 4, 5e6, 0.0, 25_000.0), _row(400, 4, 9e6, 0.95, 25_000.0)]  # +10 k$/MWh
    space = search.space_of(cfg)
    evals = search.evaluations(pd.DataFrame(rows), space, METRIC, 4.0)
    cands = [space.sizes(p)["bess_mwh"] for _, p in search.candidates(space, evals, 0.9, 0.005)]
    assert 200 in cands and 100 not in cands
    assert search.predicted_metric(space, evals, space.point({**rows[0], "bess_mwh": 200})) < 0.9
