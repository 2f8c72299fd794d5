"""The UI shows its numbers whole and validates uploads as the CLI does (no Streamlit run)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import EXAMPLE_CASE

from dcpower.case import CaseError
from dcpower.cli import main as cli_main
from dcpower.ui import charts, state

# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (-8_732_745.12, "$", "−8.73 M$"),
        (512_000.0, "$", "512 k$"),
        (999_700.0, "$", "1.00 M$"),
        (35_736_407.18, "$/yr", "35.7 M$/yr"),
        (12.0, "$", "12 $"),
        (None, "$", "n/a"),
        (float("nan"), "$", "n/a"),
    ],
)
def test_compact_numbers(value, unit, text):
    assert state.compact_number(value, unit) == text


def _results(mip_gap, window_gap, status="feasible_above_requested_gap") -> dict:
    return {
        "solver": {
            "status": status,
            "mip_gap": mip_gap,
            "max_window_gap": window_gap,
            "mip_rel_gap_requested": 0.005,
            "solve_seconds": 12.3456,
        },
        "economics": {"net_value_usd": -8_732_745.12, "energy_mwh": {"load_served_mwh": 876e3}},
    }


def test_headline_is_compact_with_the_full_value_on_hover_and_the_window_gap():
    tiles = {m.label: m for m in state.headline_metrics(_results(None, 0.0094))}
    assert tiles["Net value"].value == "−8.73 M$"
    assert tiles["Net value"].full == "-8,732,745.12 $"
    # a rolling-horizon solve has no single MIP gap: its worst window's, never "n/a"
    assert tiles["Worst window gap"].value == "0.940 %"
    assert "0.500 % requested" in tiles["Worst window gap"].full
    assert tiles["Solver status"].value == "above gap"
    assert tiles["Solver status"].full == "feasible_above_requested_gap"
    assert tiles["Load served"].value == "876 GWh"
    # every tile fits a fifth of a 1400-px page (≈ 14 characters at the metric's font)
    assert all(len(m.value) <= 12 for m in tiles.values())
    mono = {m.label: m for m in state.headline_metrics(_results(0.0002, None, "optimal"))}
    assert mono["MIP gap"].value == "0.020 %"
    assert "gap 0.940 %" in state.solver_line(_results(None, 0.0094))


# --------------------------------------------------------------------------- sweep table


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "scenario": ["a", "b"],
            "bess_mwh": [200, 400],
            "gen_units": [4, 4],
            "transformer_mva": [120, 160],
            "annual_total_cost_usd": [2.0, 1.0],
            "annual_total_cost_lower_bound_usd": [1.9, 0.8],
            "survival_prob_4h": [0.1, 0.2],
            "survival_prob_8h": [0.0, 0.1],
            "tied_with": ["", ""],
            "solver_status": ["optimal"] * 2,
        }
    )


def test_sweep_table_is_led_by_the_size_the_cost_interval_and_the_chosen_metric():
    view = state.with_frontier(_summary(), "survival_prob_8h")
    table = state.scenario_table(view, "annual_total_cost_usd", True, metric="survival_prob_8h")
    assert list(table.columns[:7]) == [
        "bess_mwh",
        "gen_units",
        "transformer_mva",
        "annual_total_cost_usd",
        "annual_total_cost_lower_bound_usd",
        "survival_prob_8h",
        "tied_with",
    ]
    assert table.columns[-1] == "scenario" and list(table["scenario"]) == ["b", "a"]
    every = state.scenario_table(view, "bess_mwh", True, all_columns=True, metric="x")
    assert set(every.columns) == set(view.columns) and every.columns[0] == "bess_mwh"


# --------------------------------------------------------------------------- charts


def test_sweep_reserve_chart_has_signs_from_the_iso_and_no_undrawn_series(tmp_path):
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "prices_2024.json").write_text(
        json.dumps({"provenance": {"iso": "ercot"}})
    )
    products = state.sweep_reserve_products(tmp_path)
    assert products["REGDN"]["direction"] == "down" and products["REGUP"]["direction"] == "up"
    index = pd.date_range("2024-07-01", periods=3, freq="h", tz="UTC")
    dispatch = pd.DataFrame(
        {"reserve_regup_bess_mw": [5.0, 6.0, 0.0], "reserve_regdn_bess_mw": [4.0, 0.0, 2.0],
         "reserve_rrs_bess_mw": [0.0, 0.0, 0.0]},
        index=index,
    )  # fmt: skip
    long = charts.reserves_data(dispatch, "UTC", products)
    assert set(long["series"]) == {"REGUP · BESS", "REGDN · BESS"}  # RRS never awarded
    down = long[long["product"].str.upper() == "REGDN"]["mw"].to_numpy()
    np.testing.assert_allclose(down, [-4.0, 0.0, -2.0])  # Reg-Down below zero
    spec = charts.reserves_chart(dispatch, "UTC", products).to_dict()
    assert "up + / down −" in json.dumps(spec, ensure_ascii=False)
    # no ISO known: the axis does not claim signs it cannot give
    assert state.sweep_reserve_products(tmp_path / "nowhere") == {}
    unknown = charts.reserves_chart(dispatch, "UTC", {}).to_dict()
    assert "up + / down −" not in json.dumps(unknown, ensure_ascii=False)


def test_frontier_labels_of_coinciding_points_share_one_label():
    eff = pd.DataFrame(
        {
            "label": ["400 · 120", "400 · 160", "200 · 120"],
            "cost_musd": [35.740, 35.736, 30.7],
            "survival_prob_8h": [0.9379, 0.9318, 0.0],
        }
    )
    text = charts.frontier_labels(eff, "survival_prob_8h")
    assert len(text) == 2
    assert sorted(text["label"]) == ["200 · 120", "400 · 160\n400 · 120"]


# --------------------------------------------------------------------------- uploads


def _ui_problems(raw: bytes) -> list[tuple[str, str]]:
    """What the Case page does with an upload: strict parse, fill the form, validate."""
    try:
        data = state.parse_case_bytes(raw, "upload: x.json")
    except CaseError as exc:
        return list(exc.problems)
    values = {s.path: state.to_widget(s, state.get_path(data, s.path)) for s in state.FIELDS}
    edited = state.apply_edits(data, values)
    _, problems = state.validate(edited, "upload: x.json", EXAMPLE_CASE.parent)
    return problems


def _mutated(edit) -> bytes:
    data = json.loads(EXAMPLE_CASE.read_text())
    edit(data)
    return json.dumps(data).encode()


BAD_CASES = {
    "units as a string": _mutated(lambda d: d["gas_gen"].__setitem__("units", "4")),
    "units as 4.0": _mutated(lambda d: d["gas_gen"].__setitem__("units", 4.0)),
    "energy as a string": _mutated(lambda d: d["bess"].__setitem__("energy_mwh", "400")),
    "gap as a boolean": _mutated(lambda d: d["solver"].__setitem__("mip_rel_gap", True)),
    "unknown key": _mutated(lambda d: d["bess"].__setitem__("energy_mwhh", 1)),
    "duplicate key": b'{"name": "a", "name": "b"}',
    "not JSON": b"{units: 4}",
}


@pytest.mark.parametrize("name", list(BAD_CASES))
def test_uploads_are_rejected_exactly_as_the_cli_rejects_them(name, tmp_path, capsys):
    raw = BAD_CASES[name]
    path = tmp_path / "case.json"
    path.write_bytes(raw)
    assert cli_main(["validate", str(path)]) == 2
    cli = capsys.readouterr().err
    cli_paths = re.findall(r"^  (\$[^:]*):", cli, flags=re.M)
    ui = _ui_problems(raw)
    assert ui, f"the UI accepted what the CLI rejects: {cli}"
    assert sorted(p for p, _ in ui) == sorted(cli_paths)
    for where, msg in ui:  # the same words (the UI never echoes the rejected value)
        assert f"{where}: {msg}" in cli or f"{where}: {msg.split(';')[0]}" in cli


def test_dcpower_ui_sets_its_own_streamlit_config(monkeypatch):
    calls = []

    class FakePopen:
        def __init__(self, cmd, env):
            calls.append(cmd)

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url))
    monkeypatch.setattr("threading.Timer", lambda delay, fn, args: _Now(fn, args))
    assert cli_main(["ui", "--port", "8766"]) == 0  # not --headless: still no prompt
    cmd = calls[0]
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"  # no Deploy button
    assert opened == ["http://localhost:8766"]  # the browser is opened by dcpower instead
    assert sys.executable == cmd[0]


class _Now:
    """A threading.Timer stand-in that runs at start()."""

    def __init__(self, fn, args):
        self.fn, self.args, self.daemon = fn, args, False

    def start(self):
        self.fn(*self.args)


def test_frontier_draws_each_cost_interval():
    summary = _summary().assign(frontier=[True, True])
    spec = charts.frontier_chart(summary, "survival_prob_8h").to_dict()
    rules = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "rule"]
    assert len(rules) == 1
    enc = rules[0]["encoding"]
    assert enc["y"]["field"] == "cost_lower_musd" and enc["y2"]["field"] == "cost_musd"
    data = pd.DataFrame(spec["datasets"][rules[0]["data"]["name"]])
    assert sorted(data["cost_lower_musd"]) == pytest.approx([0.8e-6, 1.9e-6])
