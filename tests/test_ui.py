"""Streamlit UI: page logic through AppTest, and the chart/state helpers it is built from.

Solves are kept short: one 1-day example solve shared by the module, one solve through the
Case page and one tiny infeasible case.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import EXAMPLE_CASE, ROOT, infeasible_terminal_soc_case, write_tidy_prices
from streamlit.testing.v1 import AppTest

from dcpower.case import CaseError, case_from_dict, load_case
from dcpower.cli import main as cli_main
from dcpower.results import records_to_frame
from dcpower.runner import run_case
from dcpower.ui import APP_PATH, charts, state

TIMEOUT = 120  # s per script run (a solve included); a ceiling, not a measurement


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def short_case_path(tmp_path_factory):
    """The example case cut to one day."""
    data = json.loads(EXAMPLE_CASE.read_text())
    data["horizon"]["end"] = "2023-07-11"
    path = tmp_path_factory.mktemp("case") / "example_1d.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def short_results(short_case_path):
    return run_case(load_case(short_case_path))


@pytest.fixture
def app(monkeypatch, tmp_path):
    """The app on its default page, opening the shipped example case."""
    monkeypatch.setenv(state.ENV_DEFAULT_CASE, str(EXAMPLE_CASE))
    monkeypatch.setenv(state.ENV_RESULTS_DIR, str(tmp_path / "results"))
    # the UI opens files only below its roots: the project's config/ and this test's folder
    monkeypatch.setenv(state.ENV_ROOTS, os.pathsep.join([str(ROOT / "config"), str(tmp_path)]))
    at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT)
    return at.run()


@pytest.fixture
def sweep_dir(tmp_path, short_results):
    """results/<study>/ with a summary of three scenarios and one scenario's dispatch."""
    study = tmp_path / "results" / "tiny_study"
    names = [
        "bess_mwh~200/gen_units~2/transformer_mva~160",
        "bess_mwh~200/gen_units~4/transformer_mva~160",
        "bess_mwh~400/gen_units~4/transformer_mva~160",
    ]
    summary = pd.DataFrame(
        {
            "scenario": names,
            "bess_mwh": [200, 200, 400],
            "gen_units": [2, 4, 4],
            "transformer_mva": [160, 160, 160],
            "annual_total_cost_usd": [30e6, 35e6, 40e6],
            "annualised_capex_usd": [11e6, 15e6, 22e6],
            "net_operating_value_usd": [-17e6, -16e6, -13e6],
            "survival_prob_4h": [0.5, 0.4, 0.97],
            "survival_prob_8h": [0.0, 0.0, 0.9],
            "survival_min_8h": [0.0, 0.0, 0.8],
            "pareto": [True, False, True],
            "solver_status": ["optimal"] * 3,
        }
    )
    study.mkdir(parents=True)
    summary.to_parquet(study / "summary.parquet")
    scen = study / "scenarios" / names[0]
    scen.mkdir(parents=True)
    records_to_frame(short_results["dispatch"]).to_parquet(scen / "dispatch.parquet")
    return study


def _charts(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]


def _titles(at) -> list[str]:
    out = []
    for spec in _charts(at):
        title = spec.get("title")
        out.append(title.get("text") if isinstance(title, dict) else title)
    return out


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _flat(node, blocks: bool = False) -> list:
    """Elements of the page in document order (with the blocks holding them if ``blocks``)."""
    children = getattr(node, "children", None)
    if not isinstance(children, dict):
        return [node]
    out = [node] if blocks else []
    for key in sorted(children):
        out += _flat(children[key], blocks)
    return out


def _status_labels(at) -> list[str]:
    return [n.label for n in _flat(at.main, blocks=True) if n.type == "status"]


# --------------------------------------------------------------------------- case page


def test_case_page_shows_example_fields(app):
    assert not app.exception
    assert app.title[0].value == "Case & run"
    assert app.number_input(key="field:bess.energy_mwh").value == 400.0
    assert app.number_input(key="field:gas_gen.units").value == 6
    assert app.number_input(key="field:poi.import_limit_mw").value == 150.0
    assert app.date_input(key="field:horizon.start").value == date(2023, 7, 10)
    assert app.selectbox(key="field:horizon.timestep_minutes").value == 60
    assert str(EXAMPLE_CASE) in app.text_input(key="case_path").value
    assert not _errors(app)
    assert not app.button(key="run_milp").disabled
    assert "example_ercot.json" in " ".join(app.selectbox(key="case_pick").options)


def test_run_short_horizon_shows_status_charts_and_explain(app):
    app.date_input(key="field:horizon.end").set_value(date(2023, 7, 11))
    app.button(key="run_milp").click().run()
    assert not app.exception
    assert not _errors(app)
    status = _status_labels(app)
    assert len(status) == 1 and status[0].startswith("Solved: optimal")
    assert "gap" in status[0] and "solve" in status[0]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Solver status"] == "optimal"
    assert metrics["Net value"].endswith("$")
    assert any(s.value.startswith("Last run: example_ercot") for s in app.success)
    titles = _titles(app)
    for title in (
        "Dispatch",
        "Battery state of charge",
        "Gas units",
        "Equipment loading",
        "Reserves by product",
        "Binding constraint families × time",
    ):
        assert title in titles
    assert any(t.startswith("Revenues and costs") for t in titles)
    assert any("add up to the net value" in c.value for c in app.caption)
    assert len(app.get("download_button")) == 2
    results = app.session_state["results"]
    assert results["horizon"]["n_steps"] == 24

    # pick a timestep: its binding families are listed with their descriptions
    step = max(results["explainability"]["binding_constraints"], key=lambda r: len(r["families"]))
    app.select_slider(key="case:step").set_value(step["step"]).run()
    table = app.dataframe[-1].value
    assert sorted(table["family"]) == sorted(step["families"])
    assert all(table["description"].str.len() > 0)


def test_missing_case_path_shows_error_and_keeps_form(app):
    app.text_input(key="case_path").input(str(ROOT / "config" / "cases" / "nope.json")).run()
    assert not app.exception
    errors = _errors(app)
    assert any("Cannot open the case" in e and "file not found" in e for e in errors)
    assert app.number_input(key="field:bess.energy_mwh").value == 400.0  # last good case
    assert any("last case that opened" in c.value for c in app.caption)


def test_negative_bess_energy_error_under_its_field(app):
    app.number_input(key="field:bess.energy_mwh").set_value(-5.0).run()
    assert not app.exception
    errors = _errors(app)
    assert len(errors) == 1
    assert "$.bess.energy_mwh" in errors[0] and "greater than or equal to 0" in errors[0]
    assert "Traceback" not in errors[0]
    assert app.button(key="run_milp").disabled
    order = _flat(app.main)
    i_field = next(
        i for i, n in enumerate(order) if getattr(n, "key", "") == "field:bess.energy_mwh"
    )
    i_err = next(i for i, n in enumerate(order) if n.type == "error")
    i_next = next(i for i, n in enumerate(order) if getattr(n, "key", "") == "field:bess.pcs_mva")
    assert i_field < i_err < i_next  # directly under the field, before the next one


def test_cross_field_errors_under_their_section(app):
    app.number_input(key="field:bess.power_mw").set_value(200.0)
    app.date_input(key="field:horizon.end").set_value(date(2023, 7, 9)).run()
    errors = _errors(app)
    assert any("$.bess" in e and "pcs_mva must be at least power_mw" in e for e in errors)
    assert any("$.horizon" in e and "end must be after" in e for e in errors)
    assert app.button(key="run_milp").disabled


def test_run_time_case_problem_shown_in_its_section(app):
    """N+1 impossible by construction: run_case's precheck raises CaseError before solving."""
    app.number_input(key="field:gas_gen.units").set_value(1)
    # 1 MW of battery power (0 MW would leave the ride-through energy undischargeable, a schema
    # error) is far below the critical load
    app.number_input(key="field:bess.power_mw").set_value(1.0)
    app.button(key="run_milp").click().run()
    assert not app.exception
    errors = _errors(app)
    assert any(e.startswith("**Bad input**") for e in errors)
    assert any("$.reliability.n_plus_1" in e and "N+1 needs" in e for e in errors)
    order = [getattr(n, "label", None) or getattr(n, "value", None) for n in _flat(app.main)]
    i_err = next(i for i, v in enumerate(order) if "`$.reliability.n_plus_1`" in str(v))
    assert order.index("VoLL critical ($/MWh)") < i_err < order.index("**Solver**")
    assert "results" not in app.session_state


def test_infeasible_case_shows_message_and_keeps_previous_result(app, tmp_path, short_results):
    prices = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", [30.0] * 24)
    case = infeasible_terminal_soc_case(prices)
    path = tmp_path / "infeasible.json"
    path.write_text(json.dumps(case))
    app.session_state["results"] = short_results  # a previous good run
    app.session_state["results_origin"] = "example_1d (earlier)"
    app.text_input(key="case_path").input(str(path)).run()
    assert app.number_input(key="field:bess.energy_mwh").value == 40.0
    app.button(key="run_milp").click().run()
    assert not app.exception
    errors = _errors(app)
    assert any(e.startswith("**Infeasible case**") and "soc_terminal" in e for e in errors)
    assert _status_labels(app) == ["Run failed: Infeasible case"]
    assert app.session_state["results"] is short_results
    assert {m.label: m.value for m in app.metric}["Solver status"] == "optimal"
    assert any("last successful result" in i.value for i in app.info)
    assert "Dispatch" in _titles(app)


# --------------------------------------------------------------------------- results file page


def test_results_file_page(app, tmp_path, short_results):
    path = tmp_path / "results.json"
    path.write_bytes(state.results_json_bytes(short_results))
    app.switch_page("views/results.py").run()
    assert any("No run yet" in i.value for i in app.info)
    app.radio(key="results_source").set_value("Results JSON file").run()
    app.text_input(key="results_file_path").input(str(path)).run()
    assert not app.exception and not _errors(app)
    assert "Dispatch" in _titles(app)
    app.text_input(key="results_file_path").input(str(tmp_path / "nope.json")).run()
    assert any("file not found" in e for e in _errors(app))
    assert "Dispatch" in _titles(app)  # the last good file stays


def _stretched(results: dict, days: int) -> dict:
    """``results`` (one day) repeated over ``days`` consecutive days: a long horizon to draw."""
    n = len(results["dispatch"])

    def shifted(records, k):
        out = []
        for r in records:
            ts = pd.Timestamp(r["timestamp"]) + pd.Timedelta(days=k)
            out.append({**r, "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ")})
        return out

    long = json.loads(json.dumps(results))
    for section in ("dispatch", "electrical"):
        long[section] = [r for k in range(days) for r in shifted(results[section], k)]
    end = pd.Timestamp(results["horizon"]["end_utc"]) + pd.Timedelta(days=days - 1)
    long["horizon"].update(n_steps=n * days, end_utc=end.strftime("%Y-%m-%dT%H:%M:%SZ"))
    ex = long["explainability"]
    ex["binding_constraints"] = [
        {**r, "step": r["step"] + k * n}
        for k in range(days)
        for r in shifted(results["explainability"]["binding_constraints"], k)
    ]
    return long


def test_long_horizon_shows_a_day_window(app, tmp_path, short_results):
    path = tmp_path / "long.json"
    path.write_bytes(state.results_json_bytes(_stretched(short_results, 15)))
    app.switch_page("views/results.py").run()
    app.radio(key="results_source").set_value("Results JSON file").run()
    app.text_input(key="results_file_path").input(str(path)).run()
    assert not app.exception and not _errors(app)
    slider = app.slider(key="file:days")
    assert slider.value == (date(2023, 7, 10), date(2023, 7, 16))
    assert app.select_slider(key="file:step").options[-1] == "2023-07-16 23:00 CDT"
    slider.set_value((date(2023, 7, 20), date(2023, 7, 24))).run()
    assert not app.exception
    step = app.select_slider(key="file:step")
    assert step.value == 10 * 24 and step.options[0] == "2023-07-20 00:00 CDT"


# --------------------------------------------------------------------------- sweep page


def test_sweep_page_frontier_table_and_dispatch(app, sweep_dir):
    app.switch_page("views/sweep.py").run()
    assert not app.exception and not _errors(app)
    assert app.text_input(key="sweep_path").value.endswith("tiny_study")
    assert app.selectbox(key="sweep_metric").value == "survival_prob_8h"
    assert app.selectbox(key="sweep_metric").options == [
        "survival_prob_4h — P(survive 4 h outage)",
        "survival_prob_8h — P(survive 8 h outage)",
    ]
    specs = _charts(app)
    assert _titles(app)[0] == "Cost–reliability frontier"
    assert "pick" in json.dumps(specs[0])  # click-to-select parameter
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Scenarios"] == "3" and metrics["Pareto-efficient"] == "2"
    table = app.dataframe[0].value
    assert list(table["annual_total_cost_usd"]) == [30e6, 35e6, 40e6]
    assert list(table["frontier"]) == [True, False, True]

    app.selectbox(key="sweep_sort").set_value("survival_prob_4h")
    app.toggle(key="sweep_asc").set_value(False).run()
    assert list(app.dataframe[0].value["survival_prob_4h"]) == [0.97, 0.5, 0.4]

    # re-sorting keeps the chosen scenario (the cheapest, first row at first)
    assert app.selectbox(key="sweep_scenario").value.startswith("bess_mwh~200/gen_units~2")
    assert app.selectbox(key="sweep_scenario").options[0].startswith("bess_mwh~400")
    # a scenario without a dispatch file: a clear error
    app.selectbox(key="sweep_scenario").set_value(
        "bess_mwh~400/gen_units~4/transformer_mva~160"
    ).run()
    assert not app.exception
    assert any("no dispatch.parquet" in e for e in _errors(app))
    app.selectbox(key="sweep_scenario").set_value(
        "bess_mwh~200/gen_units~2/transformer_mva~160"
    ).run()
    assert not _errors(app)
    titles = _titles(app)
    assert titles[0] == "Cost–reliability frontier"
    assert {"Dispatch", "Battery state of charge", "Gas units"} <= set(titles)

    # another metric recomputes the Pareto set
    app.selectbox(key="sweep_metric").set_value("survival_prob_4h").run()
    assert {m.label: m.value for m in app.metric}["Pareto-efficient"] == "2"

    # a missing folder: error, the last study stays
    app.text_input(key="sweep_path").input(str(sweep_dir.parent / "missing")).run()
    assert not app.exception
    assert any("Cannot open the sweep" in e and "folder not found" in e for e in _errors(app))
    assert any("last study that opened" in i.value for i in app.info)
    assert _titles(app)[0] == "Cost–reliability frontier"


def test_sweep_page_without_studies(app, tmp_path):
    app.switch_page("views/sweep.py").run()
    assert not app.exception
    assert any("Pick a study folder" in i.value for i in app.info)
    (tmp_path / "empty").mkdir()
    app.text_input(key="sweep_path").input(str(tmp_path / "empty")).run()
    assert any("no summary.parquet" in e for e in _errors(app))


# --------------------------------------------------------------------------- helpers


def test_waterfall_adds_up_to_net_value(short_results):
    econ = short_results["economics"]
    frame = charts.waterfall_frame(econ)
    steps = frame[frame["kind"] != "net"]
    assert steps["amount_usd"].sum() == pytest.approx(econ["net_value_usd"], abs=0.01)
    assert frame.iloc[-1]["label"] == "Net value"
    assert frame.iloc[-1]["end_usd"] == pytest.approx(econ["net_value_usd"], abs=0.01)
    assert steps.iloc[-1]["end_usd"] == pytest.approx(econ["net_value_usd"], abs=0.01)
    assert np.allclose(steps["start_usd"].iloc[1:], steps["end_usd"].iloc[:-1])
    assert set(steps["kind"]) <= {"revenue", "cost"}
    assert (steps.loc[steps["kind"] == "cost", "amount_usd"] < 0).all()


def test_waterfall_refuses_bars_that_do_not_add_up():
    econ = {
        "revenues_usd": {"energy_export_revenue_usd": 100.0},
        "costs_usd": {"energy_import_cost_usd": 40.0, "gen_fuel_cost_usd": 0.0},
        "net_value_usd": 60.0,
    }
    frame = charts.waterfall_frame(econ)
    assert list(frame["label"]) == ["Energy export revenue", "Energy import", "Net value"]
    with pytest.raises(AssertionError, match="net_value_usd"):
        charts.waterfall_frame({**econ, "net_value_usd": 60.5})


def test_dispatch_stack_nets_to_served_load(short_results):
    dispatch = charts.dispatch_frame(short_results)
    stack = charts.dispatch_stack_data(dispatch, "America/Chicago")
    net = stack.groupby("time", sort=False)["mw"].sum().to_numpy()
    assert np.allclose(net, dispatch["load_served_mw"].to_numpy(), atol=1e-5)
    first = stack.iloc[0]["time"]
    assert first == pd.Timestamp("2023-07-10 00:00")  # local midnight, naive


def test_soc_backing_matches_reserves(short_results):
    dispatch = charts.dispatch_frame(short_results)
    products = short_results["market"]["reserve_products"]
    bess = short_results["case"]["bess"]
    soc = charts.soc_data(dispatch, "America/Chicago", products, bess)
    up = sum(
        dispatch[f"reserve_{p.lower()}_bess_mw"].to_numpy() * spec["duration_h"]
        for p, spec in products.items()
        if spec["direction"] == "up"
    )
    assert np.allclose(soc["up_backing_mwh"], up)
    assert (soc["soc_max_mwh"] == bess["energy_mwh"] * bess["soc_max_fraction"]).all()
    assert (soc["bess_soc_mwh"] >= soc["up_top_mwh"] - 1e-4).all()  # reserve_energy_up
    assert (soc["bess_soc_mwh"] <= soc["down_bottom_mwh"] + 1e-4).all()


def test_chart_specs_build_and_validate(short_results):
    """Every chart builds a schema-valid Vega-Lite spec (Altair validates in to_dict)."""
    r = short_results
    d, e, tz = charts.dispatch_frame(r), charts.electrical_frame(r), charts.timezone_of(r)
    products, bess = r["market"]["reserve_products"], r["case"]["bess"]
    specs = {
        "dispatch": charts.dispatch_chart(d, tz),
        "soc": charts.soc_chart(d, tz, products, bess),
        "soc_no_size": charts.soc_chart(d, tz),
        "gen": charts.gen_units_chart(d, tz),
        "loading": charts.loading_chart(e, tz),
        "reserves": charts.reserves_chart(d, tz, products),
        "waterfall": charts.waterfall_chart(r["economics"]),
        "heatmap": charts.binding_heatmap(r, selected_step=3),
    }
    dicts = {k: v.to_dict() for k, v in specs.items()}
    assert [{"pct": 100.0}] in dicts["loading"]["datasets"].values()  # the 100 % rule
    # selections never sit in a nested layer (Vega fails with "Duplicate signal name")
    for name in ("dispatch", "gen"):
        for layer in dicts[name]["layer"]:
            for inner in layer.get("layer", []):
                assert "params" not in inner, name
    loading = charts.loading_data(e, tz)
    assert set(loading["equipment"]) >= {"POI (MW limit)", "Transformer (MVA)", "PCS (MVA)"}
    reserves = charts.reserves_data(d, tz, products)
    down = [p for p, s in products.items() if s["direction"] == "down"]
    assert (reserves.loc[reserves["product"].isin(down), "mw"] <= 0).all()


def test_binding_frame_and_step_lookup(short_results):
    ex = short_results["explainability"]
    frame = charts.binding_frame(short_results)
    assert len(frame) == sum(len(r["families"]) for r in ex["binding_constraints"])
    assert (frame["description"] != "").all()
    assert charts.family_order(short_results)[0] == max(
        ex["binding_timesteps_per_family"], key=ex["binding_timesteps_per_family"].get
    )
    row = ex["binding_constraints"][0]
    hits = charts.binding_at_step(short_results, row["step"])
    assert [f for f, _ in hits] == row["families"]
    assert hits[0][1] == ex["families"][row["families"][0]]
    assert charts.binding_at_step(short_results, 10_000) == []
    assert len(charts.step_labels(short_results)) == 24


def test_downloads(short_results):
    back = json.loads(state.results_json_bytes(short_results))
    assert back["economics"]["net_value_usd"] == pytest.approx(
        short_results["economics"]["net_value_usd"]
    )
    with zipfile.ZipFile(io.BytesIO(state.parquet_zip_bytes(short_results))) as zf:
        assert sorted(zf.namelist()) == [
            "binding.parquet",
            "dispatch.parquet",
            "electrical.parquet",
        ]
        dispatch = pd.read_parquet(io.BytesIO(zf.read("dispatch.parquet")))
    assert len(dispatch) == 24


def test_field_edits_and_problem_mapping(tmp_path, monkeypatch):
    monkeypatch.setenv(state.ENV_ROOTS, str(tmp_path))
    base = json.loads(EXAMPLE_CASE.read_text())
    values = state.field_values(base)
    assert values["horizon.start"] == date(2023, 7, 10)
    assert values["gas_gen.units"] == 6
    values["bess.energy_mwh"] = -1.0
    values["horizon.end"] = date(2023, 7, 12)
    values["poi.export_limit_mw"] = None  # an emptied field → missing key
    edited = state.apply_edits(base, values)
    assert edited["horizon"]["end"] == "2023-07-12"
    assert "export_limit_mw" not in edited["poi"]
    assert base["bess"]["energy_mwh"] == 400  # the base is not modified
    case, problems = state.validate(edited, "x", None)
    assert case is None
    sorted_ = state.sort_problems(problems + [("$.load", "bad"), ("$.bess", "cross")])
    assert set(sorted_.by_field) == {"bess.energy_mwh", "poi.export_limit_mw"}
    assert sorted_.by_section == {"bess": ["`$.bess`: cross"]}
    assert sorted_.other == ["`$.load`: bad"]
    assert len(sorted_) == 4

    with pytest.raises(CaseError, match="file not found"):
        state.read_case_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(CaseError, match="malformed JSON"):
        state.read_case_file(tmp_path / "bad.json")
    assert state.choice_options(state.FIELDS_BY_PATH["horizon.timestep_minutes"], 7)[-1] == 7

    # a file value no widget can show is kept (and reported) while its field stays empty
    odd = json.loads(EXAMPLE_CASE.read_text())
    odd["horizon"]["start"] = "soon"
    odd["gas_gen"]["units"] = 2.5
    values = state.field_values(odd)
    assert values["horizon.start"] is None and values["gas_gen.units"] is None
    _, problems = state.validate(state.apply_edits(odd, values), "x", None)
    paths = dict(problems)
    assert "valid date" in paths["$.horizon.start"]
    assert "soon" not in paths["$.horizon.start"]  # the UI never echoes file contents
    assert "valid integer" in paths["$.gas_gen.units"]


def test_sweep_helpers(sweep_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(state.ENV_ROOTS, str(tmp_path))
    assert state.find_sweeps(sweep_dir.parent) == [str(sweep_dir)]
    summary = state.load_sweep(sweep_dir)
    assert state.survival_metrics(summary) == ["survival_prob_4h", "survival_prob_8h"]
    view = state.with_frontier(summary, "survival_prob_4h")
    assert list(view["frontier"]) == [True, False, True]
    table = state.scenario_table(view, "annual_total_cost_usd", ascending=False)
    assert table["annual_total_cost_usd"].is_monotonic_decreasing
    assert "survival_min_8h" in table and "annualised_capex_usd" in table
    assert "solver_status" not in state.sortable_columns(summary)
    assert "pareto" in state.sortable_columns(summary)
    dispatch = state.load_scenario_dispatch(sweep_dir, summary["scenario"][0])
    assert str(dispatch.index.tz) == "UTC" and len(dispatch) == 24
    with pytest.raises(state.SweepError, match="no dispatch.parquet"):
        state.load_scenario_dispatch(sweep_dir, summary["scenario"][1])
    with pytest.raises(state.SweepError, match="not a scenario path"):
        state.scenario_dispatch_path(sweep_dir, "../../etc")
    with pytest.raises(state.SweepError, match="folder not found"):
        state.load_sweep(tmp_path / "nope")
    data = charts.frontier_data(view, "survival_prob_4h")
    assert data.loc[0, "label"] == "200 MWh · 2 units · 160 MVA"
    assert data.loc[0, "cost_musd"] == 30.0


def test_run_outcome_never_raises(short_case_path):
    case = load_case(short_case_path)

    def boom(_case):
        raise ZeroDivisionError("bad luck")

    outcome = state.run(case, runner=boom)
    assert not outcome.ok and outcome.kind == "unexpected" and "bad luck" in outcome.error


def test_cli_ui_starts_streamlit(monkeypatch, tmp_path):
    calls = []

    class FakePopen:
        def __init__(self, cmd, env):
            calls.append((cmd, env))

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    assert cli_main(["ui", "--port", "8765", "--headless", "--case", str(EXAMPLE_CASE)]) == 0
    cmd, env = calls[0]
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"  # this machine only
    assert env[state.ENV_DEFAULT_CASE] == str(EXAMPLE_CASE.resolve())


def test_load_reserves_in_reserve_chart_and_waterfall(tmp_path):
    """A day of the flexible-load example: the reserve chart carries the load's awards as their
    own series (MW as in the dispatch) and the waterfall a "Load reserve ECRS" step, adding up
    to the net value."""
    case = json.loads((ROOT / "config" / "cases" / "example_flex_ercot.json").read_text())
    case["horizon"] = {**case["horizon"], "start": "2023-07-10", "end": "2023-07-11"}
    case["load"]["reserves"] = {"products": ["ECRS", "NSPIN"]}  # capacity only: awards > 0
    path = tmp_path / "flex.json"
    path.write_text(json.dumps(case))
    r = run_case(load_case(path))
    d, tz = charts.dispatch_frame(r), charts.timezone_of(r)
    products = r["market"]["reserve_products"]
    reserves = charts.reserves_data(d, tz, products)
    load_ecrs = reserves.loc[reserves["series"] == "ECRS · LOAD", "mw"].to_numpy()
    assert load_ecrs.max() > 0
    assert np.allclose(load_ecrs, d["reserve_ecrs_load_mw"].to_numpy())
    charts.reserves_chart(d, tz, products).to_dict()
    steps = charts.waterfall_frame(r["economics"])
    row = steps.loc[steps["label"] == "Load reserve ECRS"]
    assert len(row) == 1
    assert row["amount_usd"].iloc[0] == pytest.approx(
        r["economics"]["revenues_usd"]["load_reserve_ecrs_revenue_usd"]
    )
    charts.waterfall_chart(r["economics"]).to_dict()


# --------------------------------------------------------------------------- grid events, SB 6


@pytest.fixture(scope="module")
def event_results(short_case_path):
    """The one-day example with an evening event (18:00–21:00 CDT, cap 0)."""
    data = json.loads(short_case_path.read_text())
    data["events"] = [
        {
            "name": "evening_test",
            "start": "2023-07-10T18:00-05:00",
            "end": "2023-07-10T21:00-05:00",
            "cap_mw": 0.0,
            "source": "test",
        }
    ]
    return run_case(case_from_dict(data, base_dir=short_case_path.parent))


def test_event_spans_shade_the_dispatch_chart(event_results):
    d = records_to_frame(event_results["dispatch"])
    spans = charts.event_spans(d, "America/Chicago")
    assert len(spans) == 1
    assert spans.iloc[0]["start"] == pd.Timestamp("2023-07-10 18:00")
    assert spans.iloc[0]["end"] == pd.Timestamp("2023-07-10 21:00")
    spec = charts.dispatch_chart(d, "America/Chicago").to_dict()
    marks = json.dumps(spec)
    assert '"rect"' in marks and "grid event" in marks
    assert charts.event_spans(d.drop(columns="event_cap_mw"), "America/Chicago").empty


def test_events_table_and_sb6_lines(event_results, short_results):
    table = charts.events_table(event_results)
    assert list(table["event"]) == ["evening_test"] and table["steps"].iloc[0] == 3
    assert table["max net withdrawal MW"].iloc[0] <= 1e-6
    lines = charts.sb6_lines(event_results)
    s = event_results["sb6"]
    assert ("PASS" if s["gas_only"]["passes"] else "FAIL") in lines[1]
    assert charts.events_table(short_results).empty


def test_results_page_shows_events_and_sb6(app, tmp_path, event_results):
    path = tmp_path / "events.json"
    path.write_bytes(state.results_json_bytes(event_results))
    app.switch_page("views/results.py").run()
    app.radio(key="results_source").set_value("Results JSON file").run()
    app.text_input(key="results_file_path").input(str(path)).run()
    assert not app.exception and not _errors(app)
    assert [s.value for s in app.subheader][-2:] == ["Grid emergency events", "SB 6 screen"]
    (frame,) = [df.value for df in app.dataframe if "event" in df.value.columns]
    assert list(frame["event"]) == ["evening_test"]
    assert any("Gas units" in m.value and "50 %" in m.value for m in app.markdown)
