"""Case schema details, reserve catalogue overrides and the single source of version pins."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from conftest import EXAMPLE_CASE, ROOT

from dcpower.case import CaseError, case_from_dict, load_case
from dcpower.iso import MarketDataError
from dcpower.runner import horizon_utc, run_case


def test_example_case_round_trips():
    case = load_case(EXAMPLE_CASE)
    again = case_from_dict(case.model_dump(mode="json"))
    assert again == case
    start, end = horizon_utc(case)
    assert start.isoformat() == "2023-07-10T05:00:00+00:00"  # local midnight CDT
    assert (end - start).total_seconds() == 7 * 24 * 3600


def test_cross_field_errors_name_the_fields(example_case_dict):
    data = {
        **example_case_dict,
        "bess": {**example_case_dict["bess"], "soc_initial_fraction": 0.01},
    }
    with pytest.raises(CaseError, match=r"\$\.bess.*soc_initial_fraction"):
        case_from_dict(data)
    data = {**example_case_dict, "horizon": {**example_case_dict["horizon"], "end": "2023-07-01"}}
    with pytest.raises(CaseError, match="horizon.end must be after horizon.start"):
        case_from_dict(data)


def test_reserve_catalogue_override_is_applied_and_cited(example_case_dict):
    data = {**example_case_dict, "horizon": {**example_case_dict["horizon"], "end": "2023-07-11"}}
    data["market"] = {**data["market"], "reserve_catalogue_overrides": {"ECRS": {"duration_h": 2}}}
    res = run_case(case_from_dict(data))
    ecrs = res["market"]["reserve_products"]["ECRS"]
    assert ecrs["duration_h"] == 2.0 and "Overridden by case" in ecrs["source"]
    assert res["verification"]["violations"] == []


def test_override_of_product_not_offered_is_an_error(example_case_dict):
    data = {**example_case_dict, "horizon": {**example_case_dict["horizon"], "end": "2023-07-11"}}
    data["market"] = {
        **data["market"],
        "reserve_products": ["REGUP"],
        "reserve_catalogue_overrides": {"ECRS": {"duration_h": 2}},
    }
    with pytest.raises(MarketDataError, match="ECRS"):
        run_case(case_from_dict(data))


def test_environment_yml_pins_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for spec in project["dependencies"] + [
        s for group in project["optional-dependencies"].values() for s in group
    ]:
        name, version = re.split(r"==", spec)
        pins[name.lower()] = version
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_pins = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    for spec in pip_pins:
        name, version = spec.split("==")
        assert pins[name.lower()] == version, f"{name}: environment.yml {version} vs pyproject"
