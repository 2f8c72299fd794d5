"""The Lagrangian block bound: a valid bound on every dispatch, never above the LP bound.

Site: the sweep's 2016 base case with N+1 on, 8–10 February 2016 (two days, 1-day blocks),
where gas units run at minimum output to back reserve sales and the LP relaxation credits
fractional units: LP bound −46,159 $, optimum −46,438 $ (proven by the monolithic MILP).
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from dcpower.case import case_from_dict
from dcpower.optimization import bounds
from dcpower.runner import prepare_inputs, run_case

OPTS = {"mip_rel_gap": 0.005, "time_limit_s": 60, "threads": 1}
BLOCK_STEPS = 24


@pytest.fixture(scope="module")
def feb_case():
    data = json.loads((ROOT / "config" / "cases" / "sweep_base_ercot_2016.json").read_text())
    data["horizon"].update(start="2016-02-08", end="2016-02-10")
    data["reliability"]["n_plus_1"] = True
    return case_from_dict(data)


@pytest.fixture(scope="module")
def inputs(feb_case):
    return prepare_inputs(feb_case)


@pytest.fixture(scope="module")
def lp(inputs):
    return bounds.lp_relaxation_bound(inputs, boundaries=[BLOCK_STEPS])


@pytest.fixture(scope="module")
def optimum(feb_case):
    res = run_case(feb_case, method="monolithic", mip_rel_gap=1e-6)
    assert res["solver"]["status"] == "optimal"
    return res["solver"]["objective"]


def test_lp_prices_every_linking_state(lp):
    assert set(lp.link_prices) == {BLOCK_STEPS}
    assert set(lp.link_prices[BLOCK_STEPS]) == {"soc", "committed", "gen_mw", "starts_1"}
    # stored energy is worth something to the second day (prices are ~15-30 $/MWh)
    assert 1.0 < lp.link_prices[BLOCK_STEPS]["soc"] < 100.0


def test_blocks_as_lps_reproduce_the_lp_bound(inputs, lp):
    """LP duality: with the LP's prices, the relaxed blocks sum to the LP bound exactly, so
    every linking state is priced with the right sign and coefficient."""
    relaxed = bounds.lagrangian_bound(inputs, OPTS, BLOCK_STEPS, lp, relax=True)
    assert relaxed.blocks == 2
    assert relaxed.objective == pytest.approx(lp.objective, rel=1e-7)


def test_integer_blocks_prove_a_tighter_valid_bound(inputs, lp, optimum):
    proven = bounds.lagrangian_bound(inputs, OPTS, BLOCK_STEPS, lp)
    assert proven.objective >= optimum - 1e-6 * abs(optimum)  # valid: no dispatch beats it
    assert proven.objective <= lp.objective + 1e-6 * abs(lp.objective)
    # the LP's integrality gap here is 0.6 %; the block bound closes most of it
    closed = (lp.objective - proven.objective) / (lp.objective - optimum)
    assert closed > 0.5
    assert proven.method.startswith("lagrangian_24_step_blocks")


def test_run_case_reports_the_proven_gap(feb_case, optimum):
    res = run_case(feb_case, method="rolling_horizon", proven_bound=True)
    s, value = res["solver"], res["economics"]["net_value_usd"]
    assert value <= s["proven_bound"] + 1e-6 * abs(value) <= s["lp_bound"] + 1e-6 * abs(value)
    assert s["proven_gap"] == pytest.approx((s["proven_bound"] - value) / abs(value))
    assert s["proven_gap"] < s["gap_to_lp_bound"]
    assert s["proven_bound_method"].startswith("lagrangian") and s["proven_bound_seconds"] > 0
    assert optimum <= s["proven_bound"] + 1e-6 * abs(optimum)


def test_monolithic_result_carries_its_dual_bound(feb_case):
    s = run_case(feb_case, method="monolithic")["solver"]
    assert s["proven_bound_method"] == "milp_dual_bound"
    assert s["proven_bound"] == s["best_bound"] and s["proven_gap"] >= -1e-9


def test_bound_stays_valid_when_blocks_hit_the_time_limit(inputs, lp, optimum):
    """Blocks stopped before or inside their root still count a valid bound (their dual bound,
    or their LP when HiGHS has none)."""
    proven = bounds.lagrangian_bound(inputs, OPTS | {"time_limit_s": 0.01}, BLOCK_STEPS, lp)
    assert proven.blocks_time_limited >= 1
    assert optimum - 1e-6 * abs(optimum) <= proven.objective <= lp.objective + 1e-6


def test_cli_proven_bound_writes_and_prints_it(tmp_path, capsys, feb_case):
    from dcpower.cli import main

    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(feb_case.model_dump(mode="json")))
    out = tmp_path / "out.json"
    assert main(["run", str(case_file), "--out", str(out), "--proven-bound"]) == 0
    s = json.loads(out.read_text())["solver"]
    assert s["proven_gap"] is not None and s["gap_to_lp_bound"] > s["proven_gap"] >= -1e-9
    printed = capsys.readouterr().out
    assert f"proven gap {s['proven_gap']:.3%}" in printed
    assert f"to LP bound {s['gap_to_lp_bound']:.3%}" in printed
