"""CLI behaviour: success path, bad input (exit 2, names the field, writes nothing), infeasible."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import EXAMPLE_CASE, ROOT, infeasible_terminal_soc_case, write_tidy_prices

from dcpower.cli import main


def _write(tmp_path, data, name="case.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _mutate(base: dict, path: str, value) -> dict:
    case = json.loads(json.dumps(base))
    keys = path.split(".")
    node = case
    for k in keys[:-1]:
        node = node[k]
    if value is KeyError:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return case


@pytest.mark.parametrize(
    "path, value, expect",
    [
        ("bess.energy_mwh", -5, "$.bess.energy_mwh"),
        ("gas_gen.unit_mw", KeyError, "$.gas_gen.unit_mw"),
        ("poi.min_power_factor", 1.5, "$.poi.min_power_factor"),
        ("horizon.timestep_minutes", 7, "$.horizon.timestep_minutes"),
        ("bess.pcs_mva", 50, "pcs_mva"),
        ("load.critical_fraction", "lots", "$.load.critical_fraction"),
        ("market.settlement_point", "HB_NOWHERE", "HB_NOWHERE"),
        ("horizon.start", "2030-01-01", "horizon"),
    ],
)
def test_bad_input_exit_2_names_field_writes_nothing(
    tmp_path, capsys, example_case_dict, path, value, expect
):
    if path == "horizon.start":
        case = _mutate(_mutate(example_case_dict, path, value), "horizon.end", "2030-01-08")
    else:
        case = _mutate(example_case_dict, path, value)
    out = tmp_path / "out.json"
    code = main(
        ["run", str(_write(tmp_path, case)), "--out", str(out), "--parquet", str(tmp_path / "pq")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert expect in err
    assert not out.exists() and not (tmp_path / "pq").exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "case.json"]


def test_malformed_json(tmp_path, capsys):
    out = tmp_path / "out.json"
    code = main(["run", str(_write(tmp_path, '{"name": "x",,}')), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "malformed JSON at line 1" in err and not out.exists()


def test_missing_file(tmp_path, capsys):
    code = main(["validate", str(tmp_path / "nope.json")])
    assert code == 2 and "file not found" in capsys.readouterr().err


def test_validate_lists_every_problem(tmp_path, capsys, example_case_dict):
    case = _mutate(_mutate(example_case_dict, "bess.energy_mwh", -1), "poi.typo_field", 3)
    code = main(["validate", str(_write(tmp_path, case))])
    err = capsys.readouterr().err
    assert code == 2
    assert "$.bess.energy_mwh" in err and "$.poi.typo_field" in err and "2 problem(s)" in err


def test_validate_and_schema_ok(capsys):
    assert main(["validate", str(EXAMPLE_CASE)]) == 0
    assert "valid case 'example_ercot'" in capsys.readouterr().out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "bess" in schema["properties"] and "energy_mwh" in schema["$defs"]["Bess"]["properties"]


def test_n_plus_1_impossible_is_bad_input(tmp_path, capsys, example_case_dict):
    case = _mutate(_mutate(example_case_dict, "gas_gen.units", 1), "bess.power_mw", 20)
    case = _mutate(case, "bess.pcs_mva", 25)
    code = main(["run", str(_write(tmp_path, case)), "--out", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert code == 2 and "$.reliability.n_plus_1" in err and "fix:" in err


def test_infeasible_case_names_family_and_timestep(tmp_path, capsys):
    """Battery must end full but can never charge (no import, no generation): soc_terminal."""
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", [30.0] * 24)
    case = infeasible_terminal_soc_case(pf)
    out = tmp_path / "o.json"
    code = main(["run", str(_write(tmp_path, case)), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 3
    assert "soc_terminal" in err and "2023-07-11T04:00Z" in err  # last step, 23:00 CDT
    assert not out.exists()


def test_run_writes_json_and_parquet(tmp_path, example_case_dict):
    """`python -m dcpower.runner` (the seed's form) in a subprocess: exit 0, both outputs."""
    case = _mutate(_mutate(example_case_dict, "horizon.end", "2023-07-12"), "name", "two_days")
    out, pq = tmp_path / "r.json", tmp_path / "pq"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dcpower.runner",
            str(_write(tmp_path, case)),
            "--out",
            str(out),
            "--parquet",
            str(pq),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["horizon"]["n_steps"] == 48 and res["verification"]["violations"] == []
    import pandas as pd

    d = pd.read_parquet(pq / "dispatch.parquet")
    assert len(d) == 48 and str(d.index.tz) == "UTC"
    assert {"family"} <= set(pd.read_parquet(pq / "binding.parquet").columns)
    assert not list(tmp_path.glob("**/*.tmp"))


def test_bad_input_exit_code_in_subprocess(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dcpower",
            "run",
            str(_write(tmp_path, "[1]")),
            "--out",
            str(tmp_path / "o.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "a case must be a JSON object" in proc.stderr


def test_one_error_taxonomy_maps_every_failure():
    """Every documented failure carries its exit code and kind; CLI, UI and sweep read them."""
    from dcpower.case import CaseError
    from dcpower.errors import outcome
    from dcpower.iso.base import MarketDataError
    from dcpower.resources.load import LoadProfileError
    from dcpower.results import OutputError, ResultsFileError
    from dcpower.runner import InfeasibleCaseError, SolverFailedError

    assert outcome(CaseError("c.json", [("$", "bad")])) == (2, "bad_input")
    for exc in (MarketDataError("x"), LoadProfileError("x"), OutputError("x")):
        assert outcome(exc) == (2, "bad_input")
    assert outcome(ResultsFileError("x")) == (2, "bad_input")
    assert outcome(InfeasibleCaseError("x", {})) == (3, "infeasible")
    assert outcome(SolverFailedError("x")) == (4, "no_solution")
    assert outcome(KeyboardInterrupt()) == (130, "interrupted")
    assert outcome(ZeroDivisionError()) == (1, "unexpected")


def test_runner_does_not_import_the_cli():
    """The library is acyclic: cli → runner, never runner → cli (only ``python -m
    dcpower.runner``, the package's ``__main__``, calls the CLI)."""
    import ast

    from conftest import ROOT

    tree = ast.parse((ROOT / "dcpower" / "runner" / "__init__.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module != "dcpower.cli"
