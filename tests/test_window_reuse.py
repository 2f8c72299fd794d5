"""One model per window length, re-used across rolling windows: it must equal a fresh build.

Also: ramps and the N+1 unit rounding, which the re-usable model states explicitly at a
window's first step and at every step.
"""

from __future__ import annotations

import json

import numpy as np
import pyomo.environ as pyo
import pytest
from conftest import EXAMPLE_CASE, small_site, solve_dict, write_tidy_prices

from dcpower.case import case_from_dict
from dcpower.invariants import check_invariants
from dcpower.optimization import dispatch_milp, explain, pruning
from dcpower.optimization.solve import HIGHS_OPTIONS, quiet_highs
from dcpower.optimization.strategies import WindowSolver
from dcpower.results import records_to_frame
from dcpower.runner import prepare_inputs, run_case

OPTS = {"mip_rel_gap": 1e-4, "time_limit_s": 60, "threads": 1}


def _example(days: int, **solver) -> dict:
    data = json.loads(EXAMPLE_CASE.read_text())
    data["horizon"]["end"] = f"2023-07-{10 + days:02d}"
    data["solver"].update(solver)
    return data


def _window(x, start: int, stop: int, state_from=None):
    """Window [start, stop) starting from the end of ``state_from``'s solution (or the case)."""
    if state_from is None:
        return x.window(
            start,
            stop,
            soc_initial_mwh=x.soc_initial_mwh,
            gen_initial_committed=x.gen_initial_committed,
            gen_initial_mw=x.gen_initial_mw,
            gen_prior_starts=(),
            last=False,
        )
    m = state_from.model
    last = len(m.T) - 1
    return x.window(
        start,
        stop,
        soc_initial_mwh=m.bess_soc[last].value,
        gen_initial_committed=round(m.gen_committed[last].value),
        gen_initial_mw=m.gen_mw[last].value,
        gen_prior_starts=(round(m.gen_starts[last].value),),
        last=stop == x.n_steps,
    )


def _lp_arrays(solver: WindowSolver) -> dict[str, np.ndarray]:
    lp = solver.session.highs.getLp()
    return {
        name: np.asarray(getattr(lp, name))
        for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_")
    } | {
        "a_value": np.asarray(lp.a_matrix_.value_),
        "a_index": np.asarray(lp.a_matrix_.index_),
        "offset": np.asarray([lp.offset_]),
    }


def test_reused_window_model_equals_a_fresh_build():
    """Day 2 solved in the model that solved day 1 is the same LP/MILP as day 2 built afresh."""
    x = prepare_inputs(case_from_dict(_example(3)))
    reused = WindowSolver(_window(x, 0, 24), OPTS, relax=False, selective=True)
    reused.solve(_window(x, 0, 24), "rolling_window")
    day2 = _window(x, 24, 48, state_from=reused)
    report_reused = reused.solve(day2, "rolling_window")
    arrays_reused = _lp_arrays(reused)
    fresh = WindowSolver(day2, OPTS, relax=False, selective=True)
    report_fresh = fresh.solve(day2, "rolling_window")
    arrays_fresh = _lp_arrays(fresh)
    # selective binaries leave the same steps binary when the solutions agree; costs, bounds
    # and matrix must be identical whatever HiGHS was handed first
    for name, value in arrays_fresh.items():
        np.testing.assert_allclose(arrays_reused[name], value, rtol=0, atol=1e-12, err_msg=name)
    assert report_reused.objective == pytest.approx(report_fresh.objective, rel=1e-4)
    # the second solve sent only parameter updates: the whole model went to HiGHS once
    assert reused.session.model_passes == 1
    assert fresh.session.model_passes == 1


def test_candidate_filter_reports_exactly_what_the_full_walk_reports():
    x = prepare_inputs(case_from_dict(_example(2)))
    solver = WindowSolver(x, OPTS, relax=False, selective=True)
    solver.solve(x, "monolithic_milp")
    m = solver.model
    # every row, the deactivated reactive rows of a pruned model too (checked at the final Q);
    # the polygon facets that were not built are checked by ``pruning.polygon_binding``
    expected = explain.binding_constraints(m, list(m.component_data_objects(pyo.Constraint)))
    for t, names in pruning.polygon_binding(m, x).items():
        expected[t] = sorted({*expected.get(t, ()), *names})
    assert solver.binding() == dict(sorted(expected.items()))
    assert solver.binding(), "a real two-day case has binding limits"


def test_ramp_holds_across_a_window_boundary(tmp_path):
    """100 MW unit, ramp 30 MW/h, start-up ramp max(20 MW minimum, 30) = 30 MW: day 1 ends
    with the unit off after four loss-making hours, day 2 pays 100 $/MWh. The second window
    restarts it but may not jump to 100 MW in its first hour."""
    prices = [100.0] * 20 + [-50.0] * 4 + [100.0] * 24
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    case = small_site(
        pf,
        "2023-07-10",
        "2023-07-12",
        gas_gen={
            "units": 1,
            "unit_mw": 100,
            "min_stable_fraction": 0.2,
            "start_delay_minutes": 0,
            "ramp_mw_per_min": 0.5,
            "fuel_cost_usd_per_mwh": 0,
            "start_cost_usd": 0,
            "initial_units_online": 1,
        },
        solver={"method": "rolling_horizon", "window_days": 1, "lookahead_days": 0},
    )
    res = solve_dict(case)
    assert res["solver"]["windows"] == 2
    gen = records_to_frame(res["dispatch"])["gen_mw"].to_numpy()
    d = records_to_frame(res["dispatch"])
    assert gen[23] == pytest.approx(0.0, abs=1e-6)
    assert d["gen_starts"].iloc[24] == 1
    # day 2's first step is limited by day 1's last one: 0 + 30 MW start-up ramp, then 30 MW/h
    assert gen[24:28] == pytest.approx([30.0, 60.0, 90.0, 100.0], abs=1e-6)
    assert check_invariants(res) == []


def test_n_plus_1_units_rounding_holds_in_the_lp_relaxation():
    """Critical 80 MW, BESS 50 MW, 20 MW units: N+1 needs ⌈(80 − 50)/20⌉ + 1 = 3 producing
    units at every step, and the LP relaxation must say so too (the rounded row)."""
    data = _example(1)
    data["bess"].update(power_mw=50, pcs_mva=55)
    data["gas_gen"]["initial_units_online"] = 4  # producing from the first step
    case = case_from_dict(data)
    x = prepare_inputs(case)
    assert set(dispatch_milp.n_plus_1_min_units(x)) == {3.0}
    milp = run_case(case)
    lp = run_case(case, relax=True)
    for res in (milp, lp):
        producing = records_to_frame(res["dispatch"])["gen_units_producing"].to_numpy()
        assert (producing >= 3 - 1e-6).all(), res["solver"]["method"]
    # the relaxation's bound is valid for the MILP (maximisation)
    assert milp["economics"]["net_value_usd"] <= lp["economics"]["net_value_usd"] + 1e-6
    assert check_invariants(milp) == []


def test_every_run_of_a_kept_model_gets_the_full_time_limit():
    """HiGHS keeps one run clock per instance and an LP run stops when that clock passes
    ``time_limit`` (a MIP run times itself from its own start): a late LP run in a session
    (the fixed-integer LP after a window's MILP) must be given the clock so far plus its own
    limit, or it stops at once."""
    x = prepare_inputs(case_from_dict(_example(1)))
    solver = WindowSolver(x, {**OPTS, "time_limit_s": 7.0}, relax=False, selective=True)
    solver.solve(x, "rolling_window")  # MILP round(s)
    highs = solver.session.highs
    assert highs.getRunTime() > 0
    assert solver.session._time_limit_option(7.0, solver.session.size()[2]) == 7.0  # MIP: per run
    clock = highs.getRunTime()
    assert solver.session._time_limit_option(7.0, 0) == pytest.approx(clock + 7.0)
    assert solver.fixed_integer_duals() is not None  # an LP run, optimal
    assert highs.getOptionValue("time_limit")[1] == pytest.approx(clock + 7.0)


@pytest.mark.parametrize(
    "sections",
    [
        {},  # reactive rows left out (pruned)
        {"bess": {"pcs_mva": 100}, "transformer": {"rating_mva": 90}},  # every reactive row kept
        {"gas_gen": {"ramp_mw_per_min": 0.1}},  # per-unit gas formulation
    ],
    ids=["pruned", "full", "per_unit"],
)
def test_binding_from_arrays_equals_a_pyomo_walk_in_every_window(sections):
    """The binding report read from HiGHS's arrays at the final values equals the Pyomo walk
    over every row (active or not) plus the unbuilt facets, window after window of one model."""
    data = _example(3)
    for name, values in sections.items():
        data[name].update(values)
    x = prepare_inputs(case_from_dict(data))
    solver = WindowSolver(_window(x, 0, 24), OPTS, relax=False, selective=True)
    m = solver.model
    assert m.gen_per_unit == ("gas_gen" in sections)
    assert m.reactive_pruned == (not sections or "gas_gen" in sections)
    state_from = None
    for start in (0, 24, 48):
        xi = _window(x, start, start + 24, state_from=state_from)
        solver.solve(xi, "rolling_window")
        expected = explain.binding_constraints(m, list(m.component_data_objects(pyo.Constraint)))
        for t, names in pruning.polygon_binding(m, xi).items():
            expected[t] = sorted({*expected.get(t, ()), *names})
        got = solver.binding()
        assert got == dict(sorted(expected.items())), start
        assert got, "a real day has binding limits"
        state_from = solver


def test_fixed_integer_lp_duals_do_not_depend_on_the_mip_options():
    """The MIP runs use their own HiGHS options (``solve.MIP_OPTIONS``); the fixed-integer LP
    whose duals give the marginal values must run with HiGHS's defaults: its duals equal those
    of a fresh HiGHS instance solving the same LP."""
    x = prepare_inputs(case_from_dict(_example(1)))
    solver = WindowSolver(x, OPTS, relax=False, selective=True)
    solver.solve(x, "rolling_window")
    session = solver.session
    ints = [v for v in solver.integer_vars if not v.fixed]
    values = [round(pyo.value(v)) for v in ints]
    with session.columns_fixed(ints, values):
        fixed_lp = session.highs.getLp()
    got = solver.fixed_integer_duals()
    assert got
    assert session.highs.getOptionValue("presolve_mode")[1] == 0
    fresh = quiet_highs()
    for key, value in {**HIGHS_OPTIONS, "threads": 1}.items():
        fresh.setOptionValue(key, value)
    fresh.passModel(fixed_lp)
    fresh.run()
    expected = np.asarray(fresh.getSolution().row_dual)
    row_of = {id(con): i for i, con in enumerate(session.lp.rows)}
    for con, dual, _ in got:
        assert dual == pytest.approx(expected[row_of[id(con)]], rel=1e-9, abs=1e-9)
    assert np.count_nonzero(np.abs(expected) > 1e-9) == len(got)


def test_fewer_collections_restores_the_callers_thresholds():
    """``run_case`` raises the garbage collector's thresholds while it builds and solves and
    gives the caller's back afterwards, also when it raises, and when two calls overlap in two
    threads (the thresholds are global: the last one out restores them)."""
    import gc
    import threading

    from dcpower.gc_pacing import THRESHOLDS, fewer_collections

    before = gc.get_threshold()
    try:
        gc.set_threshold(1000, 5, 5)
        with fewer_collections():
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_threshold() == (1000, 5, 5)
        with pytest.raises(RuntimeError), fewer_collections():
            raise RuntimeError("inside")
        assert gc.get_threshold() == (1000, 5, 5)

        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
        seen = {}

        def a():
            with fewer_collections():
                a_in.set()
                b_in.wait(5)
            a_out.set()

        def b():
            a_in.wait(5)
            with fewer_collections():
                b_in.set()
                a_out.wait(5)
                seen["b after a left"] = gc.get_threshold()
            seen["after both"] = gc.get_threshold()

        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert seen == {"b after a left": THRESHOLDS, "after both": (1000, 5, 5)}

        gc.set_threshold(0)  # collection switched off by the caller: left off
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_mip_only_options_name_highs_own_defaults():
    """Every MIP-only HiGHS option records, as its LP-run value, the value HiGHS itself starts
    with, so an LP run gets HiGHS's own setting back."""
    from dcpower.optimization.solve import MIP_OPTIONS

    fresh = quiet_highs()
    assert MIP_OPTIONS
    for key, (_, lp_value) in MIP_OPTIONS.items():
        assert fresh.getOptionValue(key)[1] == lp_value
