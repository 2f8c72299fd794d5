"""The study config model (dcpower.study): types, defaults, cross-field checks, messages, schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from conftest import ROOT

from dcpower import sweep
from dcpower.study import (
    SCHEMA_PATH,
    StudyConfigError,
    json_schema,
    load_study_config,
    schema_yaml,
    study_config_problems,
)

CONFIGS = [ROOT / "config" / "config.yaml", ROOT / "config" / "test" / "config.yaml"]


def _raw(path=CONFIGS[1]) -> dict:
    return yaml.safe_load(path.read_text())


def _problems(mutate) -> list[str]:
    cfg = json.loads(json.dumps(_raw()))
    mutate(cfg)
    return study_config_problems(cfg)


def test_shipped_configs_validate_with_defaults():
    for path in CONFIGS:
        study = load_study_config(_raw(path))
        assert study.study.name and study.market.iso == "ercot"
    study = load_study_config(_raw())
    assert study.grid.bess_mwh == [200, 400] and isinstance(study.grid.bess_mwh[0], int)
    raw = _raw()
    del raw["resources"], raw["grid"]["pcs_mva_per_mw"], raw["reliability"]["report_levels"]
    study = load_study_config(raw)  # the defaults live in the model only
    assert (study.resources.solve_mem_mb, study.resources.solve_runtime_min) == (1500, 30)
    assert study.grid.pcs_mva_per_mw == 1.1 and study.reliability.report_levels == [0.9, 0.99]


def test_schema_file_is_generated_from_the_model():
    assert (ROOT / SCHEMA_PATH).read_text() == schema_yaml(), "run: python -m dcpower.study"
    schema = json_schema()
    for path in CONFIGS:  # the exported schema accepts the shipped configs (editors, validate())
        jsonschema.validate(_raw(path), schema)
    bad = _raw()
    bad["market"]["energy_market"] = "spot"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda c: c["reliability"].update(frontier_metric="survival_prob_6h"),
            "reliability.frontier_metric 'survival_prob_6h' matches no outage duration",
        ),
        (lambda c: c["reliability"].update(frontier_metric="survival_min_24h"), None),
        (lambda c: c["market"].update(iso="nowhere"), "market.iso: unknown ISO 'nowhere'"),
        (lambda c: c["market"].update(iso="ERCOT"), None),
        (
            lambda c: c["market"].update(reserve_products=["REGUP", "SPIN"]),
            "allowed: distinct products of the ERCOT catalogue",
        ),
        (
            lambda c: c["market"].update(reserve_products={2016: ["REGUP"]}, years=[2016, 2021]),
            "no entry for year(s) [2021]",
        ),
        (lambda c: c["market"].update(reserve_products={"2016": ["REGUP"]}), None),
        (lambda c: c["grid"].update(bess_mwh=[200, 200]), "grid.bess_mwh: values must be distinct"),
        (lambda c: c["grid"].update(bess_mwh=[True]), "grid.bess_mwh.0: must be a number"),
        (lambda c: c["grid"].update(gen_units=[2.0]), "grid.gen_units.0"),
        (lambda c: c["costs"].update(discount_rate=float("nan")), "must be a finite number"),
        (lambda c: c["solve"].update(method="fast"), "'auto', 'monolithic' or 'rolling_horizon'"),
        (lambda c: c["resources"].update(solve_mem_mb="1000"), "resources.solve_mem_mb"),
        (lambda c: c.update(extra={}), "config: extra: unknown key; allowed keys: ['costs'"),
        (lambda c: c["market"].pop("years"), "config: market.years: is required"),
    ],
)
def test_cross_field_and_type_checks_name_the_key(mutate, expected):
    problems = _problems(mutate)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems
        assert all(p.startswith("config: ") and "pydantic" not in p for p in problems)


def test_all_problems_reported_together():
    def mutate(c):
        c["market"].update(energy_market="spot")
        c["costs"].pop("discount_rate")
        c["reliability"].update(frontier_metric="survival_prob_6h")

    with pytest.raises(StudyConfigError) as err:
        load_study_config(_mutated(mutate))
    assert len(err.value.problems) == 3
    assert "(3 problem(s))" in str(err.value)


def _mutated(mutate) -> dict:
    cfg = _raw()
    mutate(cfg)
    return cfg


def test_preflight_runs_only_when_asked(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the base case path does not resolve here
    cfg = _raw()
    assert load_study_config(cfg).study.base_case == cfg["study"]["base_case"]
    problems = sweep.check_config(cfg)
    assert problems and "study.base_case" in problems[0] and "does not exist" in problems[0]
    monkeypatch.chdir(ROOT)
    assert sweep.check_config(cfg) == []


def test_rules_get_sections_not_the_whole_config():
    study = load_study_config(_raw())
    settings = study.scenario_settings()
    dumped = settings.model_dump(mode="json")
    assert set(dumped) == {"study_name", "grid", "market", "solve", "costs", "outage"}
    assert set(dumped["grid"]) == {"bess_duration_h", "pcs_mva_per_mw"}  # no size lists
    assert set(dumped["outage"]) == {
        "outage_durations_h",
        "failure_to_start_probability",
        "operational_availability",
        "mean_time_to_failure_h",
        "fuel_limit_mwh",
        "outage_start_units",
    }
    # a section's dump validates back into the same model (what the scripts do)
    assert type(settings).model_validate(dumped) == settings
