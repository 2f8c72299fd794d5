"""The workflow's ``events`` dimension on a tiny study (one size × [none, ercot_2021_uri], three
days of Feb 2021): scenario names, the event cost vs ``none`` and the report tables."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_workflow

from dcpower.study import StudyConfigError, load_study_config
from dcpower.sweep import (
    grid_dims,
    load_checked_study,
    parse_scenario_name,
    scenario_grid,
    scenario_name,
)

CONFIG = "config/test_events/config.yaml"


def _config() -> dict:
    return yaml.safe_load((ROOT / CONFIG).read_text())


def test_event_names_and_default_study_unchanged():
    study = load_study_config(_config())
    dims = grid_dims(study.market, study.grid.optional_dims())
    assert dims[-1] == "events"
    names = [scenario_name(r, dims) for r in scenario_grid(study).to_dict(orient="records")]
    assert names == [
        "bess_mwh~400/gen_units~6/transformer_mva~160/events~none",
        "bess_mwh~400/gen_units~6/transformer_mva~160/events~ercot_2021_uri",
    ]
    assert parse_scenario_name(names[1])["events"] == "ercot_2021_uri"
    assert parse_scenario_name(names[1])["bess_mwh"] == 400
    # without the key the default study keeps its dimensions and names
    default = yaml.safe_load((ROOT / "config" / "test" / "config.yaml").read_text())
    study = load_study_config(default)
    assert study.grid.events == ["none"]
    assert grid_dims(study.market, study.grid.optional_dims()) == [
        "bess_mwh",
        "gen_units",
        "transformer_mva",
    ]


@pytest.mark.parametrize(
    ("events", "needle"),
    [(["ercot_2021_uri"], "must include 'none'"), (["none", "nope"], "unknown event")],
)
def test_bad_events_dimension(events, needle):
    cfg = _config()
    cfg["grid"]["events"] = events
    with pytest.raises(StudyConfigError) as err:
        load_study_config(cfg)
    assert "grid.events" in str(err.value) and needle in str(err.value)


def test_preflight_rejects_an_event_outside_the_study_years():
    cfg = _config()
    cfg["grid"]["events"] = ["none", "ercot_2023_09_06_eea2"]
    with pytest.raises(StudyConfigError) as err:
        load_checked_study(cfg, ROOT / "resources_data" / "ercot")
    assert "outside the horizon" in str(err.value)


@pytest.fixture(scope="module")
def events_study(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("wf_events"))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", CONFIG],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work / "results" / "test_events"


def test_event_cost_against_none_and_report(events_study):
    summary = pd.read_parquet(events_study / "summary.parquet").set_index("events")
    assert (summary["invariant_violations"] == 0).all()
    none, uri = summary.loc["none"], summary.loc["ercot_2021_uri"]
    # the event's cost is the drop of (annualised) net operating value against `none`
    assert uri["event_cost_usd"] == pytest.approx(
        none["net_operating_value_usd"] - uri["net_operating_value_usd"], rel=1e-9
    )
    assert uri["event_cost_usd"] >= -1e-6  # a cap can only cost
    assert pd.isna(none["event_cost_usd"])
    # 6 × 20 MW gas + 100 MW BESS carry the 100 MW load: nothing critical is shed
    assert uri["event_critical_shed_mwh"] == 0.0 and uri["event_steps"] > 0
    assert uri["sb6_applies"] == 1.0 and uri["sb6_passes"] == 1.0
    text = (events_study / "study_summary.md").read_text()
    assert "## Grid emergency events" in text and "ercot_2021_uri" in text
    assert "## SB 6 screen" in text
