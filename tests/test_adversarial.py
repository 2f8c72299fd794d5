"""Adversarial inputs: every bad input is exit 2 with the field or file named, `validate` agrees
with `run`, nothing is written and earlier good outputs stay byte-identical.

Classes (one section each): non-finite and absurd numbers, silent coercion, data files and time
zones, command-line overrides, output safety, interrupts, result warnings, workflow pre-flight,
UI exposure. Almost every case fails before any solve; the few solves are one-day toy sites.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import EXAMPLE_CASE, ROOT, copy_workflow, small_site, write_tidy_prices

from dcpower import cli
from dcpower.cli import main
from dcpower.study import load_study_config
from dcpower.sweep import check_config

START, END = "2023-07-10", "2023-07-11"
SECRET = "s3cr3t-first-line-must-not-leak"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """A one-day toy site (grid only, 10 MW load, 50 % critical) and its price file."""
    d = tmp_path_factory.mktemp("site")
    prices = write_tidy_prices(d / "prices.csv", f"{START} 00:00", [30.0 + i for i in range(24)])
    case = small_site(prices, START, END, load={"profile_mw": 10.0, "critical_fraction": 0.5})
    (d / "case.json").write_text(json.dumps(case))
    return {"dir": d, "case": case, "prices": prices}


@pytest.fixture(scope="module")
def good_outputs(site, tmp_path_factory) -> Path:
    """results.json + pq/ of a good run: what every failed run must leave untouched."""
    out = tmp_path_factory.mktemp("good")
    code = main(
        [
            "run",
            str(site["dir"] / "case.json"),
            "--out",
            str(out / "results.json"),
            "--parquet",
            str(out / "pq"),
        ]
    )
    assert code == 0
    return out


@pytest.fixture
def outdir(good_outputs, tmp_path) -> Path:
    dest = tmp_path / "out"
    shutil.copytree(good_outputs, dest)
    return dest


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _mutated(case: dict, path: str, value) -> dict:
    data = json.loads(json.dumps(case))
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return data


def _write_case(tmp_path: Path, data, name: str = "case.json") -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        # allow_nan: write NaN/Infinity the way a careless tool would
        path.write_text(json.dumps(data, allow_nan=True), encoding="utf-8")
    return path


def _run_and_validate(capsys, case_path: Path, outdir: Path, *extra: str) -> dict:
    """`run` (into the good outputs' folder) and `validate`; exit codes and stderr of both."""
    before = _snapshot(outdir)
    code = main(
        [
            "run",
            str(case_path),
            "--out",
            str(outdir / "results.json"),
            "--parquet",
            str(outdir / "pq"),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert _snapshot(outdir) == before, "a failed run changed earlier outputs"
    vcode = main(["validate", str(case_path)])
    verr = capsys.readouterr().err
    return {"code": code, "err": err, "vcode": vcode, "verr": verr}


def _assert_bad(res: dict, *named: str) -> None:
    assert res["code"] == 2, res["err"]
    assert res["vcode"] == 2, f"validate disagrees with run: {res['verr']}"
    for text in named:
        assert text in res["err"], res["err"]
        assert text in res["verr"], res["verr"]
    assert "Traceback" not in res["err"] + res["verr"]


# --------------------------------------------------------------------------- 1. numbers

NON_FINITE = [
    ("market.export_price_adder_usd_per_mwh", float("nan"), "finite number"),
    ("poi.import_limit_mw", float("inf"), "finite number"),
    ("poi.export_limit_mw", float("-inf"), "finite number"),
    ("reliability.voll_critical_usd_per_mwh", 1e308, "less than or equal to 1000000"),
    ("reliability.voll_noncritical_usd_per_mwh", float("inf"), "finite number"),
    ("gas_gen.fuel_cost_usd_per_mwh", 1e300, "less than or equal to 100000"),
    ("gas_gen.unit_mw", 1e9, "less than or equal to 10000"),
    ("gas_gen.start_cost_usd", float("nan"), "finite number"),
    ("gas_gen.ramp_mw_per_min", float("inf"), "finite number"),
    ("bess.energy_mwh", float("nan"), "finite number"),
    ("bess.power_mw", 1e308, "less than or equal to 10000"),
    ("load.profile_mw", 1e12, "less than or equal to 10000"),
    ("load.flexible_curtailment_usd_per_mwh", float("inf"), "finite number"),
    ("solver.time_limit_s", 1e308, "less than or equal to 604800"),
    ("transformer.rating_mva", float("nan"), "finite number"),
    ("gas_gen.units", 10**9, "less than or equal to 1000"),
]


@pytest.mark.parametrize("path, value, message", NON_FINITE, ids=[c[0] for c in NON_FINITE])
def test_non_finite_or_absurd_number(site, outdir, tmp_path, capsys, path, value, message):
    res = _run_and_validate(
        capsys, _write_case(tmp_path, _mutated(site["case"], path, value)), outdir
    )
    _assert_bad(res, f"$.{path}", message)


def test_nan_adder_no_longer_hangs(site, tmp_path):
    """The NaN that used to hang HiGHS past --time-limit now fails at once (subprocess)."""
    case = _mutated(site["case"], "market.export_price_adder_usd_per_mwh", float("nan"))
    proc = subprocess.run(
        [sys.executable, "-m", "dcpower", "run", str(_write_case(tmp_path, case))]
        + ["--out", str(tmp_path / "r.json"), "--time-limit", "5"],
        capture_output=True,
        text=True,
        timeout=5 + 30,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "export_price_adder_usd_per_mwh" in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_reserve_override_duration_nan(site, outdir, tmp_path, capsys):
    case = _mutated(
        site["case"], "market.reserve_catalogue_overrides", {"REGUP": {"duration_h": float("nan")}}
    )
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "$.market.reserve_catalogue_overrides.REGUP.duration_h", "finite")


def test_every_numeric_field_has_explicit_bounds():
    """A new MW/MWh/$/minute field without a maximum would let 1e308 through: name it here."""
    from dcpower.case import Case

    def walk(schema, defs, where):
        for name, prop in schema.get("properties", {}).items():
            ref = prop.get("$ref") or next(
                (a.get("$ref") for a in prop.get("anyOf", []) if "$ref" in a), None
            )
            if ref:
                yield from walk(defs[ref.split("/")[-1]], defs, f"{where}.{name}")
                continue
            add = prop.get("additionalProperties")
            if isinstance(add, dict) and "$ref" in add:
                yield from walk(defs[add["$ref"].split("/")[-1]], defs, f"{where}.{name}.*")
                continue
            options = prop.get("anyOf", [prop])
            numeric = [o for o in options if o.get("type") in ("number", "integer")]
            for o in numeric:
                if name in ("timestep_minutes",):  # an enumerated choice, checked by value
                    continue
                has_max = "maximum" in o or "exclusiveMaximum" in o
                has_min = "minimum" in o or "exclusiveMinimum" in o
                if not (has_max and has_min):
                    yield f"{where}.{name}"

    schema = Case.model_json_schema()
    missing = list(walk(schema, schema["$defs"], "$"))
    assert missing == [], f"numeric case fields without explicit min and max: {missing}"


# --------------------------------------------------------------------------- 2. coercion

COERCION = [
    ("gas_gen.units", True, "valid integer"),
    ("gas_gen.units", 2.0, "valid integer"),
    ("gas_gen.units", "2", "valid integer"),
    ("poi.import_limit_mw", "100", "valid number"),
    ("load.critical_fraction", "0.5", "valid number"),
    ("load.profile_mw", False, "valid number"),
    ("reliability.n_plus_1", 0, "valid boolean"),
    ("horizon.timestep_minutes", "60", "valid integer"),
    ("horizon.start", 1688947200, "date string"),
    ("market.price_file", 42, "file path"),
    ("market.reserve_products", "REGUP", "valid list"),
]


@pytest.mark.parametrize(
    "path, value, message", COERCION, ids=[f"{c[0]}={c[1]!r}" for c in COERCION]
)
def test_no_silent_coercion(site, outdir, tmp_path, capsys, path, value, message):
    res = _run_and_validate(
        capsys, _write_case(tmp_path, _mutated(site["case"], path, value)), outdir
    )
    _assert_bad(res, f"$.{path}", message)


def _text(case: dict) -> str:
    return json.dumps(case, indent=1)


BAD_TEXT = [
    (
        "duplicate top-level key",
        lambda t: t.replace('"name": ', '"name": "a", "name": ', 1),
        "$.name",
    ),
    (
        "duplicate nested key",
        lambda t: t.replace(
            '"import_limit_mw": 1000', '"import_limit_mw": 1, "import_limit_mw": 1000'
        ),
        "$.poi.import_limit_mw",
    ),
    ("latin-1 file", lambda t: t.replace("known_answer", "caf\u00e9").encode("latin-1"), "UTF-8"),
    ("UTF-16 file", lambda t: t.encode("utf-16"), "UTF-8"),
    ("binary garbage", lambda t: bytes(range(256)) * 4, "UTF-8"),
    (
        "NaN literal as text",
        lambda t: t.replace('"profile_mw": 10.0', '"profile_mw": NaN'),
        "$.load.profile_mw",
    ),
    (
        "Infinity literal",
        lambda t: t.replace('"import_limit_mw": 1000', '"import_limit_mw": Infinity'),
        "finite",
    ),
    (
        "huge exponent",
        lambda t: t.replace('"import_limit_mw": 1000', '"import_limit_mw": 1e400'),
        "finite",
    ),
    ("top-level array", lambda t: "[" + t + "]", "JSON object"),
    ("truncated JSON", lambda t: t[: len(t) // 2], "malformed JSON"),
    ("deep nesting", lambda t: "[" * 100_000 + "]" * 100_000, "$"),
]


@pytest.mark.parametrize("label, mutate, named", BAD_TEXT, ids=[c[0] for c in BAD_TEXT])
def test_bad_case_text(site, outdir, tmp_path, capsys, label, mutate, named):
    res = _run_and_validate(capsys, _write_case(tmp_path, mutate(_text(site["case"]))), outdir)
    _assert_bad(res, named)


def test_utf8_bom_is_accepted(site, tmp_path, capsys):
    path = _write_case(tmp_path, b"\xef\xbb\xbf" + _text(site["case"]).encode())
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_all_problems_reported_together(site, tmp_path, capsys):
    case = _mutated(site["case"], "gas_gen.units", True)
    case = _mutated(case, "poi.import_limit_mw", float("nan"))
    case = _mutated(case, "bess.energy_mwh", "40")
    assert main(["validate", str(_write_case(tmp_path, case))]) == 2
    err = capsys.readouterr().err
    assert "3 problem(s)" in err
    for p in ("$.gas_gen.units", "$.poi.import_limit_mw", "$.bess.energy_mwh"):
        assert p in err


# --------------------------------------------------------------------------- 3. data files


def _load_csv(path: Path, stamps: list[str], mw: list) -> Path:
    pd.DataFrame({"timestamp": stamps, "load_mw": mw}).to_csv(path, index=False)
    return path


def _utc_day(offset: str = "Z") -> list[str]:
    hours = pd.date_range("2023-07-10T05:00Z", periods=24, freq="h")
    return [t.strftime("%Y-%m-%dT%H:%M:%S") + offset for t in hours]


LOAD_FILES = [
    ("inf MW", lambda: (_utc_day(), [10.0] * 23 + [float("inf")]), "line(s) 25"),
    ("NaN MW", lambda: (_utc_day(), [10.0] * 10 + [float("nan")] + [10.0] * 13), "line(s) 12"),
    ("text MW", lambda: (_utc_day(), ["10"] * 5 + ["lots"] + ["10"] * 18), "line(s) 7"),
    ("negative MW", lambda: (_utc_day(), [10.0] * 3 + [-1.0] + [10.0] * 20), "outside [0, 10000]"),
    ("absurd MW", lambda: (_utc_day(), [1e9] * 24), "outside [0, 10000]"),
    ("no offset", lambda: ([s[:-1] for s in _utc_day()], [10.0] * 24), "without a UTC offset"),
    ("date only", lambda: (["2023-07-10"] * 24, [10.0] * 24), "without a UTC offset"),
    ("gap in file", lambda: (_utc_day()[:12], [10.0] * 12), "does not cover"),
]


@pytest.mark.parametrize("label, make, named", LOAD_FILES, ids=[c[0] for c in LOAD_FILES])
def test_bad_load_file(site, outdir, tmp_path, capsys, label, make, named):
    stamps, mw = make()
    load = _load_csv(tmp_path / "load.csv", stamps, mw)
    case = _mutated(site["case"], "load", {"profile_file": str(load), "critical_fraction": 0.5})
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "load.profile_file", str(load), named)
    assert "$.bess" not in res["err"]  # the old blame of an inf load


def _written(path: Path, data: str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def _price_csv(path: Path, value_text: str) -> Path:
    write_tidy_prices(path, f"{START} 00:00", [30.0] * 24)
    lines = path.read_text().splitlines()
    last = lines[5].rsplit(",", 1)[0] + "," + value_text
    lines[5] = last
    path.write_text("\n".join(lines) + "\n")
    return path


PRICE_FILES = [
    ("inf price", lambda p: _price_csv(p, "inf"), "infinite or absurd"),
    ("absurd price", lambda p: _price_csv(p, "1e12"), "infinite or absurd"),
    ("text price", lambda p: _price_csv(p, "cheap"), "non-numeric"),
    (
        "not a price file",
        lambda p: _written(p, f"{SECRET}\nroot:x:0:0\n"),
        "unrecognised layout",
    ),
    ("binary file", lambda p: _written(p, bytes(range(256)) * 8), ""),
]


@pytest.mark.parametrize("label, make, named", PRICE_FILES, ids=[c[0] for c in PRICE_FILES])
def test_bad_price_file(site, outdir, tmp_path, capsys, label, make, named):
    prices = make(tmp_path / "prices.csv")
    case = _mutated(site["case"], "market.price_file", str(prices))
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, str(prices), named)
    assert "does not exist" not in res["err"]
    assert SECRET not in res["err"] + res["verr"] and "root:x" not in res["err"]


def test_offset_timestamps_keep_the_local_peak(site, tmp_path):
    """A 14-18 h local (CDT, -05:00) peak stays at 14-18 h local; nothing is read as UTC."""
    local = pd.date_range("2023-07-10 00:00", periods=24, freq="h", tz="America/Chicago")
    mw = [40.0 if 14 <= t.hour < 18 else 10.0 for t in local]
    stamps = [t.isoformat() for t in local]
    load = _load_csv(tmp_path / "load.csv", stamps, mw)
    case = _mutated(site["case"], "load", {"profile_file": str(load), "critical_fraction": 0.5})
    out = tmp_path / "r.json"
    assert main(["run", str(_write_case(tmp_path, case)), "--out", str(out)]) == 0
    d = pd.DataFrame(json.loads(out.read_text())["dispatch"])
    hours = pd.to_datetime(d["timestamp"], utc=True).dt.tz_convert("America/Chicago").dt.hour
    peak = sorted(hours[d["load_mw"] > 20].tolist())
    assert peak == [14, 15, 16, 17]


# --------------------------------------------------------------------------- 4. overrides

OVERRIDES = [
    (["--threads", "-1"], "$.solver.threads (--threads)", "greater than or equal to 1"),
    (["--threads", "0"], "--threads", "greater than or equal to 1"),
    (["--threads", "100000"], "--threads", "less than or equal to 256"),
    (["--mip-gap", "-1"], "$.solver.mip_rel_gap (--mip-gap)", "greater than or equal to 0"),
    (["--mip-gap", "nan"], "--mip-gap", "finite number"),
    (["--mip-gap", "inf"], "--mip-gap", "finite number"),
    (["--mip-gap", "2"], "--mip-gap", "less than or equal to 1"),
    (["--time-limit", "-5"], "$.solver.time_limit_s (--time-limit)", "greater than 0"),
    (["--time-limit", "0"], "--time-limit", "greater than 0"),
    (["--time-limit", "nan"], "--time-limit", "finite number"),
    (["--time-limit", "1e308"], "--time-limit", "less than or equal to 604800"),
]


@pytest.mark.parametrize("args, field, message", OVERRIDES, ids=[" ".join(c[0]) for c in OVERRIDES])
def test_bad_override(site, outdir, capsys, args, field, message):
    before = _snapshot(outdir)
    code = main(
        ["run", str(site["dir"] / "case.json"), "--out", str(outdir / "results.json"), *args]
    )
    err = capsys.readouterr().err
    assert code == 2 and field in err and message in err and "Traceback" not in err
    assert _snapshot(outdir) == before


# --------------------------------------------------------------------------- 5. outputs


def _out_cases(site: dict, tmp_path: Path, outdir: Path) -> dict:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(site["case"]))
    # a case whose price file is called dispatch.parquet: --parquet on its folder would
    # overwrite it
    pq_input = tmp_path / "inputs" / "dispatch.parquet"
    pq_input.parent.mkdir()
    pd.read_csv(site["prices"]).to_parquet(pq_input)
    case2 = tmp_path / "case2.json"
    case2.write_text(json.dumps(_mutated(site["case"], "market.price_file", str(pq_input))))
    return {
        "out is the case": (case, ["--out", str(case)], "is an input"),
        "out is the price file": (case, ["--out", str(site["prices"])], "is an input"),
        "out via another spelling": (
            case,
            ["--out", str(tmp_path / "." / ".." / tmp_path.name / "case.json")],
            "is an input",
        ),
        "parquet table is an input": (
            case2,
            ["--out", str(outdir / "results.json"), "--parquet", str(pq_input.parent)],
            "is an input",
        ),
        "out is a folder": (case, ["--out", str(outdir)], "is a folder"),
        "out below a file": (case, ["--out", str(outdir / "results.json" / "r.json")], "is a file"),
        "over-long out": (case, ["--out", str(outdir / ("x" * 300 + ".json"))], "too long"),
        "parquet is a file": (
            case,
            ["--out", str(outdir / "results.json"), "--parquet", str(outdir / "results.json")],
            "is a file",
        ),
        "out in the market data folder": (
            case,
            ["--out", str(ROOT / "resources_data" / "ercot" / "r.json")],
            "market data folder",
        ),
    }


OUT_IDS = [
    "out is the case",
    "out is the price file",
    "out via another spelling",
    "parquet table is an input",
    "out is a folder",
    "out below a file",
    "over-long out",
    "parquet is a file",
    "out in the market data folder",
]


@pytest.mark.parametrize("label", OUT_IDS)
def test_bad_output_path(site, outdir, tmp_path, capsys, label):
    case, args, message = _out_cases(site, tmp_path, outdir)[label]
    inputs = {p: p.read_bytes() for p in (case, site["prices"], *tmp_path.glob("inputs/*"))}
    before = _snapshot(outdir)
    code = main(["run", str(case), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert _snapshot(outdir) == before
    assert all(p.read_bytes() == b for p, b in inputs.items())
    assert not (ROOT / "resources_data" / "ercot" / "r.json").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_out_folder_fails_before_the_solve(site, tmp_path, capsys, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    monkeypatch.setattr("dcpower.cli.run_case", lambda *a, **k: pytest.fail("solved"))
    code = main(["run", str(site["dir"] / "case.json"), "--out", str(ro / "r.json")])
    assert code == 2 and str(ro) in capsys.readouterr().err


def test_json_write_failure_keeps_the_old_set(site, outdir, capsys, monkeypatch):
    """New Parquet is staged, the JSON write fails: the old JSON and old Parquet both stay."""
    import dcpower.results as results_mod

    before = _snapshot(outdir)

    def fail(obj, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(results_mod, "write_json_atomic", fail)
    code = main(
        ["run", str(site["dir"] / "case.json"), "--out", str(outdir / "results.json")]
        + ["--parquet", str(outdir / "pq")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err and "results.json" in err
    assert _snapshot(outdir) == before
    assert sorted(p.name for p in outdir.iterdir()) == ["pq", "results.json"]


def test_commit_failure_rolls_back_renamed_tables(site, outdir, capsys, monkeypatch):
    """The second rename fails: the first table already renamed is put back."""
    import dcpower.results as results_mod

    before = _snapshot(outdir)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        if Path(dst).parent == outdir / "pq" and Path(dst).suffix == ".parquet":
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(5, "Input/output error", str(dst))
        return real(src, dst)

    monkeypatch.setattr(results_mod.os, "replace", flaky)
    code = main(
        ["run", str(site["dir"] / "case.json"), "--out", str(outdir / "results.json")]
        + ["--parquet", str(outdir / "pq")]
    )
    assert code == 2 and "Input/output error" in capsys.readouterr().err
    monkeypatch.setattr(results_mod.os, "replace", real)
    assert _snapshot(outdir) == before


def test_good_run_writes_a_consistent_set_and_cleans_orphans(site, outdir, capsys):
    dead = 2**22 + 12345  # above the default pid_max: no such process
    (outdir / f".results.json.{dead}.abcd1234.tmp").write_text("half")
    (outdir / f".dcpower-staging-{dead}-00ff").mkdir()
    live = outdir / f".results.json.{os.getpid()}.live0000.tmp"
    live.write_text("a concurrent writer's file")
    code = main(
        ["run", str(site["dir"] / "case.json"), "--out", str(outdir / "results.json")]
        + ["--parquet", str(outdir / "pq")]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "left by an earlier run" in err
    assert sorted(p.name for p in outdir.iterdir()) == sorted(["pq", "results.json", live.name])
    doc = json.loads((outdir / "results.json").read_text())
    import hashlib

    for name, digest in doc["outputs"]["parquet_tables"].items():
        assert hashlib.sha256((outdir / "pq" / name).read_bytes()).hexdigest() == digest


# --------------------------------------------------------------------------- 6. interrupts


def test_ctrl_c_exits_130_and_writes_nothing(site, outdir, capsys, monkeypatch):
    def interrupted_solve(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, through the CLI's handler
        raise AssertionError("the signal must interrupt the solve")

    monkeypatch.setattr("dcpower.cli.run_case", interrupted_solve)
    before = _snapshot(outdir)
    handler = signal.getsignal(signal.SIGINT)
    code = main(["run", str(site["dir"] / "case.json"), "--out", str(outdir / "results.json")])
    err = capsys.readouterr().err
    assert code == 130 and "interrupted" in err and "time limit" not in err
    assert _snapshot(outdir) == before
    assert signal.getsignal(signal.SIGINT) is handler  # restored


def test_interrupt_swallowed_by_the_solver_is_not_a_solver_failure(
    site, outdir, capsys, monkeypatch
):
    from dcpower.runner import SolverFailedError

    def solver_swallows(*args, **kwargs):
        # what a solver that catches Ctrl-C does; then it reports no solution
        with contextlib.suppress(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
        raise SolverFailedError("HiGHS returned no solution; fix: raise solver.time_limit_s")

    monkeypatch.setattr("dcpower.cli.run_case", solver_swallows)
    code = main(["run", str(site["dir"] / "case.json"), "--out", str(outdir / "results.json")])
    err = capsys.readouterr().err
    assert code == 130 and "interrupted" in err and "time_limit" not in err


# --------------------------------------------------------------------------- 7. warnings


def test_critical_load_shed_warns(site, tmp_path, capsys):
    case = _mutated(site["case"], "poi", {"import_limit_mw": 4, "export_limit_mw": 0})
    out = tmp_path / "r.json"
    assert main(["run", str(_write_case(tmp_path, case)), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["solver"]["status"] == "optimal"
    assert any("critical load shed" in w for w in doc["warnings"])
    assert "warning: critical load shed: 24.000 MWh unserved in 24 step(s)" in err


@pytest.mark.parametrize(
    "solver, expect",
    [
        ({"mip_gap": 0.05, "mip_rel_gap_requested": 0.001}, "final MIP gap 5.0000%"),
        ({"time_limit_reached": True, "time_limit_s": 5}, "time limit of 5 s stopped"),
        ({"windows_time_limited": 3, "time_limit_s": 60}, "in 3 window(s)"),
        ({"mip_gap": 0.0009, "mip_rel_gap_requested": 0.001}, None),
    ],
)
def test_gap_and_time_limit_warnings(solver, expect):
    from dcpower.results import result_warnings

    results = {"solver": solver, "economics": {"energy_mwh": {"critical_unserved_mwh": 0.0}}}
    dispatch = pd.DataFrame({"critical_unserved_mw": np.zeros(3)})
    warnings = result_warnings(results, dispatch)
    if expect is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expect in warnings[0]


# --------------------------------------------------------------------------- 8. workflow


def _test_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "test" / "config.yaml").read_text())


def _with(cfg: dict, **market) -> dict:
    cfg = json.loads(json.dumps(cfg))
    cfg["market"].update(market)
    return cfg


WORKFLOW = [
    (
        "full dates with several years",
        dict(years=[2016, 2021], reserve_products={"2016": [], "2021": []}),
        "outside market year 2021",
    ),
    ("start after end", dict(start="2016-07-13", end="2016-07-10"), "must be after market.start"),
    ("impossible date", dict(start="2016-02-30"), "not a valid date"),
    (
        "29 Feb in a non-leap year",
        dict(years=[2021], start="02-29", end="03-02", reserve_products=[]),
        "not a valid date in 2021",
    ),
    ("not a date", dict(start="soon"), "is not a date"),
    (
        "year without data",
        dict(years=[2019], start="07-10", end="07-13", reserve_products=[]),
        "market.years 2019",
    ),
    (
        "AS products for an energy-only year",
        dict(years=[2021], start="07-10", end="07-13"),
        "REGUP",
    ),
    (
        "window outside the year",
        dict(start="2017-01-05", end="2017-01-08"),
        "outside market year 2016",
    ),
]


@pytest.mark.parametrize("label, market, message", WORKFLOW, ids=[c[0] for c in WORKFLOW])
def test_workflow_preflight(label, market, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    problems = check_config(_with(_test_config(), **market), ROOT / "resources_data" / "ercot")
    assert any(message in p for p in problems), problems


def test_workflow_preflight_grid_bounds(monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = _test_config()
    cfg["grid"]["bess_mwh"] = [200, 1e9]
    problems = check_config(cfg, ROOT / "resources_data" / "ercot")
    assert any("bess_mwh~1000000000" in p and "$.bess.energy_mwh" in p for p in problems)


def test_month_day_window_applies_to_every_year(monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = _with(
        _test_config(),
        years=[2016, 2021],
        start="07-10",
        end="07-13",
        reserve_products={"2016": [], "2021": []},
    )
    assert check_config(cfg, ROOT / "resources_data" / "ercot") == []
    market = load_study_config(cfg).market
    assert [market.window(y)[0].year for y in (2016, 2021)] == [2016, 2021]
    late = load_study_config(_with(cfg, start="12-01", end="01-01")).market
    assert late.window(2021)[1].isoformat() == "2022-01-01"


@pytest.mark.parametrize(
    "market, message",
    [
        (
            dict(years=[2016, 2021], reserve_products={"2016": [], "2021": []}),
            "outside market year 2021",
        ),
        (dict(start="2016-07-13", end="2016-07-10"), "must be after market.start"),
    ],
    ids=["several years, full dates", "start after end"],
)
def test_workflow_fails_before_any_job(tmp_path, market, message):
    work = copy_workflow(tmp_path)
    (work / "config/test/bad.yaml").write_text(yaml.safe_dump(_with(_test_config(), **market)))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1"]
        + ["--configfile", "config/test/bad.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr  # Snakemake prints the error to either, by version
    assert proc.returncode != 0 and message in output
    assert "pydantic" not in output and not (work / "results").exists()


# --------------------------------------------------------------------------- 9. UI


@pytest.fixture
def ui(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from dcpower.ui import APP_PATH, state

    monkeypatch.setenv(state.ENV_DEFAULT_CASE, str(EXAMPLE_CASE))
    monkeypatch.setenv(state.ENV_RESULTS_DIR, str(tmp_path / "results"))
    monkeypatch.delenv(state.ENV_ROOTS, raising=False)
    return AppTest.from_file(str(APP_PATH), default_timeout=60).run()


def _page_text(at) -> str:
    parts = []
    for kind in ("error", "warning", "info", "caption", "markdown", "json", "code", "text"):
        for el in at.get(kind):
            parts.append(str(getattr(el, "value", "")))
            parts.append(str(getattr(el, "proto", "")))
    return "\n".join(parts)


@pytest.fixture
def secret_json(tmp_path) -> Path:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"api_token": SECRET, "name": SECRET}))
    return path


@pytest.mark.parametrize("target", ["secret json", "/etc/passwd", "relative escape"])
def test_ui_case_path_outside_roots(ui, secret_json, target):
    path = {
        "secret json": str(secret_json),
        "/etc/passwd": "/etc/passwd",
        "relative escape": "config/../../" + "etc/passwd",
    }[target]
    ui.text_input(key="case_path").input(path).run()
    assert not ui.exception
    text = _page_text(ui)
    assert "outside the folders this UI may open" in text
    assert SECRET not in text and "root:x" not in text
    assert ui.number_input(key="field:bess.energy_mwh").value == 400.0  # last good case kept


def test_ui_invalid_case_shows_no_raw_fields(ui, monkeypatch, tmp_path):
    from dcpower.ui import state

    case = json.loads(EXAMPLE_CASE.read_text())
    case["name"] = {"token": SECRET}
    case["bess"]["power_mw"] = SECRET
    (tmp_path / "c.json").write_text(json.dumps(case))
    monkeypatch.setenv(state.ENV_ROOTS, str(tmp_path))
    ui.text_input(key="case_path").input(str(tmp_path / "c.json")).run()
    assert not ui.exception
    text = _page_text(ui)
    assert "$.bess.power_mw" in text
    assert SECRET not in text
    assert not ui.get("json")  # "All case fields" shows validated fields only
    assert ui.button(key="run_milp").disabled


def test_ui_case_data_file_outside_roots(ui, monkeypatch, tmp_path):
    from dcpower.ui import state

    case = json.loads(EXAMPLE_CASE.read_text())
    case["market"]["price_file"] = "/etc/passwd"
    (tmp_path / "c.json").write_text(json.dumps(case))
    monkeypatch.setenv(state.ENV_ROOTS, str(tmp_path))
    ui.text_input(key="case_path").input(str(tmp_path / "c.json")).run()
    text = _page_text(ui)
    assert "$.market.price_file" in text and "outside the folders" in text
    assert ui.button(key="run_milp").disabled


def test_ui_results_and_sweep_paths_outside_roots(ui, secret_json):
    ui.switch_page("views/results.py").run()
    ui.radio(key="results_source").set_value("Results JSON file").run()
    ui.text_input(key="results_file_path").input(str(secret_json)).run()
    assert not ui.exception
    text = _page_text(ui)
    assert "outside the folders" in text and SECRET not in text
    ui.switch_page("views/sweep.py").run()
    ui.text_input(key="sweep_path").input(str(secret_json.parent)).run()
    assert not ui.exception and "outside the folders" in _page_text(ui)


@pytest.mark.parametrize(
    "data, expect",
    [
        (b'{"name": "a", "name": "b"}', "duplicate key"),
        ("caf\u00e9".encode("latin-1"), "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'{"name": NaN}', None),
    ],
    ids=["duplicate keys", "latin-1", "array", "NaN reaches the schema"],
)
def test_ui_upload_uses_the_strict_reader(data, expect):
    """The upload widget's bytes go through the same strict JSON reader as `dcpower run`."""
    from dcpower.case import CaseError
    from dcpower.ui import state

    if expect is None:
        data = state.parse_case_bytes(data, "upload: x.json")
        case, problems = state.validate(data, "upload: x.json", None)
        assert case is None and "finite number" in dict(problems)["$.name"] or problems
        return
    with pytest.raises(CaseError, match=expect):
        state.parse_case_bytes(data, "upload: x.json")


def test_ui_binds_to_localhost_by_default():
    args = cli._parser().parse_args(["ui"])
    assert args.address == "127.0.0.1"
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'address = "127.0.0.1"' in config


# --------------------------------------------------------------------------- 10. one guarded path
# Every file a run reads goes through one reader (dcpower.tables) and every output through one
# writer (dcpower.filecheck.check_output_target): the same rules for CP intervals, load, prices.

CP_START = "2023-07-10T21:45:00Z"
CP_END = "2023-07-10T22:00:00Z"


def _tariff_case(site: dict, intervals: Path, **tariff) -> dict:
    case = json.loads(json.dumps(site["case"]))
    case["tariff"] = {"intervals_file": str(intervals), "rate_usd_per_kw_yr": 50.0, **tariff}
    return case


def _intervals(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


IV_HEAD = "interval_start_utc,interval_end_utc"
INTERVAL_FILES = [
    ("unparseable date", (IV_HEAD, f"yesterday,{CP_END}"), "not an ISO 8601 time"),
    ("naive times", (IV_HEAD, "2023-07-10T21:45:00,2023-07-10T22:00:00"), "without a UTC offset"),
    ("empty year", (IV_HEAD + ",year", f"{CP_START},{CP_END},"), "column 'year'"),
    ("text year", (IV_HEAD + ",year", f"{CP_START},{CP_END},twenty"), "column 'year'"),
    ("fractional month", (IV_HEAD + ",month", f"{CP_START},{CP_END},7.5"), "column 'month'"),
    ("year contradicts time", (IV_HEAD + ",year", f"{CP_START},{CP_END},2022"), "contradicts"),
    ("month contradicts time", (IV_HEAD + ",month", f"{CP_START},{CP_END},8"), "contradicts"),
    ("text load", (IV_HEAD + ",ercot_load_mw", f"{CP_START},{CP_END},high"), "ercot_load_mw"),
    ("NaN load", (IV_HEAD + ",ercot_load_mw", f"{CP_START},{CP_END},nan"), "non-finite"),
    ("inf load", (IV_HEAD + ",ercot_load_mw", f"{CP_START},{CP_END},inf"), "non-finite"),
    ("ends before start", (IV_HEAD, f"{CP_END},{CP_START}"), "ends before it starts"),
    ("ragged line", (IV_HEAD, f"{CP_START},{CP_END},extra,fields"), "cannot parse as CSV"),
    ("30-min interval, 15-min rule", (IV_HEAD, f"{CP_START},2023-07-10T22:15:00Z"), "15 min"),
    ("header only", (IV_HEAD,), "has 0 CP interval(s)"),
]


@pytest.mark.parametrize("label, lines, named", INTERVAL_FILES, ids=[c[0] for c in INTERVAL_FILES])
def test_bad_cp_intervals_file(site, outdir, tmp_path, capsys, label, lines, named):
    iv = _intervals(tmp_path / "cp.csv", *lines)
    res = _run_and_validate(capsys, _write_case(tmp_path, _tariff_case(site, iv)), outdir)
    _assert_bad(res, str(iv), named)


def test_cp_intervals_file_honours_interval_minutes(site, outdir, tmp_path, capsys):
    """A 15-min file with tariff.interval_minutes 30 is refused naming the field, not ignored."""
    iv = _intervals(tmp_path / "cp.csv", IV_HEAD, f"{CP_START},{CP_END}")
    case = _tariff_case(site, iv, interval_minutes=30)
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "tariff.interval_minutes", "15 min")


def test_cp_intervals_file_with_matching_columns_is_read(site, tmp_path):
    from dcpower.tariff import read_intervals

    iv = _intervals(
        tmp_path / "cp.csv",
        IV_HEAD + ",year,month,ercot_load_mw",
        f"{CP_START},{CP_END},2023,7,80000",
        "2023-08-10T16:45:00-05:00,2023-08-10T17:00:00-05:00,2023,8,",
    )
    t = read_intervals(iv)
    assert t["start_utc"].tolist() == [
        pd.Timestamp(CP_START),
        pd.Timestamp("2023-08-10T21:45:00Z"),
    ]
    assert t["system_load_mw"].iloc[0] == 80000.0 and np.isnan(t["system_load_mw"].iloc[1])


def _gz_truncated(path: Path, text: bytes) -> Path:
    import gzip

    blob = gzip.compress(text * 50)
    path.write_bytes(blob[: len(blob) // 2])
    return path


@pytest.mark.parametrize("field", ["tariff.intervals_file", "market.price_file", "load"])
def test_truncated_gzip_is_refused(site, outdir, tmp_path, capsys, field):
    if field == "tariff.intervals_file":
        bad = _gz_truncated(tmp_path / "cp.csv.gz", f"{IV_HEAD}\n{CP_START},{CP_END}\n".encode())
        case = _tariff_case(site, bad)
    elif field == "market.price_file":
        bad = _gz_truncated(tmp_path / "p.csv.gz", Path(site["prices"]).read_bytes())
        case = _mutated(site["case"], "market.price_file", str(bad))
    else:
        csv = tmp_path / "l.csv"
        _load_csv(csv, _utc_day(), [10.0] * 24)
        bad = _gz_truncated(tmp_path / "l.csv.gz", csv.read_bytes())
        case = _mutated(site["case"], "load", {"profile_file": str(bad), "critical_fraction": 0.5})
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, str(bad), "truncated or corrupt")


@pytest.mark.parametrize(
    "field", ["market.price_file", "load.profile_file", "tariff.intervals_file"]
)
@pytest.mark.parametrize("kind", ["folder", "fifo", "too long", "latin-1", "empty", "NUL byte"])
def test_every_data_file_field_has_the_same_rules(site, outdir, tmp_path, capsys, field, kind):
    """The same refusal, message and exit code, whichever field names the file."""
    if kind == "folder":
        bad, named = tmp_path / "data.csv", "is a folder"
        bad.mkdir()
    elif kind == "fifo":
        bad, named = tmp_path / "data.csv", "FIFO"
        os.mkfifo(bad)  # reading it would hang: refused before any read
    elif kind == "too long":
        bad, named = tmp_path / ("x" * 300 + ".csv"), "too long"
    elif kind == "latin-1":
        bad, named = _written(tmp_path / "data.csv", "caf\xe9,x\n1,2\n".encode("latin-1")), "UTF-8"
    elif kind == "empty":
        bad, named = _written(tmp_path / "data.csv", b""), "is empty"
    else:  # pandas would cut "1\x000" to "1": a silent wrong number
        bad, named = _written(tmp_path / "data.csv", b"a,b\nx,1\x000\n"), "NUL byte on line 2"
    if field == "tariff.intervals_file":
        case = _tariff_case(site, bad)
    elif field == "load.profile_file":
        case = _mutated(site["case"], "load", {"profile_file": str(bad), "critical_fraction": 0.5})
    else:
        case = _mutated(site["case"], "market.price_file", str(bad))
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, field, named)
    assert "not found" not in res["err"]


def test_load_step_partly_covered_is_refused(site, outdir, tmp_path, capsys):
    """15-min samples with one missing in one hour: that hour is not averaged over 3 samples."""
    stamps = pd.date_range("2023-07-10T05:00Z", periods=96, freq="15min")
    keep = [i for i in range(96) if i != 41]  # sample 41 = 15:15Z: the 15:00Z hour loses one
    load = _load_csv(
        tmp_path / "load.csv",
        [stamps[i].strftime("%Y-%m-%dT%H:%M:%SZ") for i in keep],
        [10.0 + (i == 40) * 40.0 for i in keep],
    )
    case = _mutated(site["case"], "load", {"profile_file": str(load), "critical_fraction": 0.5})
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "load.profile_file", "3 of 4 samples", "2023-07-10T15:00:00+00:00")


@pytest.mark.parametrize(
    "minutes, named", [(90, "do not align"), (25, "do not divide")], ids=["90 min", "25 min"]
)
def test_load_spacing_that_does_not_fit_the_step_is_refused(
    site, outdir, tmp_path, capsys, minutes, named
):
    stamps = pd.date_range("2023-07-10T05:00Z", "2023-07-11T05:00Z", freq=f"{minutes}min")
    load = _load_csv(
        tmp_path / "load.csv",
        [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in stamps],
        [10.0] * len(stamps),
    )
    case = _mutated(site["case"], "load", {"profile_file": str(load), "critical_fraction": 0.5})
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "load.profile_file", named)


def test_sub_step_load_is_averaged_and_upper_case_parquet_is_parquet(site, tmp_path):
    """15-min samples average to the hour by hand; ``LOAD.PARQUET`` is read as Parquet."""
    from dcpower.case import case_from_dict
    from dcpower.resources.load import build_load_segments

    stamps = pd.date_range("2023-07-10T05:00Z", periods=96, freq="15min")
    mw = np.tile([8.0, 12.0, 10.0, 30.0], 24)  # each hour: (8 + 12 + 10 + 30) / 4 = 15 MW
    path = tmp_path / "LOAD.PARQUET"
    pd.DataFrame({"timestamp": stamps, "load_mw": mw}).to_parquet(path)
    case = case_from_dict(
        _mutated(site["case"], "load", {"profile_file": str(path), "critical_fraction": 0.5})
    )
    hours = pd.date_range("2023-07-10T05:00Z", periods=24, freq="h")
    seg = build_load_segments(case.load, hours)
    assert seg.total_mw.tolist() == [15.0] * 24
    assert seg.critical_mw.tolist() == [7.5] * 24


def test_huge_json_number_and_control_characters(site, outdir, tmp_path, capsys):
    text = json.dumps(site["case"]).replace('"profile_mw": 10.0', '"profile_mw": ' + "9" * 5000)
    res = _run_and_validate(capsys, _write_case(tmp_path, text), outdir)
    _assert_bad(res, "number")
    res = _run_and_validate(
        capsys, _write_case(tmp_path, _mutated(site["case"], "name", "ok\x1b[2J\rgone")), outdir
    )
    _assert_bad(res, "$.name", "control")
    assert "\x1b" not in res["err"] + res["verr"]


def test_ride_through_needs_battery_power(site, outdir, tmp_path, capsys):
    case = _mutated(site["case"], "bess", {"power_mw": 0, "energy_mwh": 20, "pcs_mva": 0})
    case["reliability"]["ride_through_minutes"] = 15
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "bess.power_mw", "ride_through_minutes")


def test_over_long_case_path(capsys, tmp_path):
    long = tmp_path / ("c" * 300 + ".json")
    for argv in (["validate", str(long)], ["run", str(long), "--out", str(tmp_path / "r.json")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "too long" in err and "--out" not in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


# data loss: no output may be an input (any file field), shipped data or a non-regular file


def _loss_cases(site: dict, tmp_path: Path) -> dict:
    iv = _intervals(tmp_path / "cp.csv", IV_HEAD, f"{CP_START},{CP_END}")
    load = _load_csv(tmp_path / "load.csv", _utc_day(), [10.0] * 24)
    case = _tariff_case(site, iv)
    case["load"] = {"profile_file": str(load), "critical_fraction": 0.5}
    shipped = ROOT / "resources_data"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    other = tmp_path / "elsewhere"
    other.mkdir()
    return {
        "case": _write_case(tmp_path, case),
        "targets": {
            "intervals file": (["--out", str(iv)], "tariff.intervals_file"),
            "load file": (["--out", str(load)], "load.profile_file"),
            "load file via symlink": (["--out", str(_symlink(tmp_path, load))], "is an input"),
            "shipped events, other data dir": (
                [
                    "--out",
                    str(shipped / "ercot" / "events" / "grid_emergencies.csv"),
                    "--data-dir",
                    str(other),
                ],
                "market data folder",
            ),
            "shipped site load": (
                ["--out", str(next((shipped / "sites").glob("*.csv.gz")))],
                "market data folder",
            ),
            "new file in shipped sites": (
                ["--out", str(shipped / "sites" / "new.json")],
                "market data folder",
            ),
            "parquet into shipped data": (
                ["--out", str(tmp_path / "r.json"), "--parquet", str(shipped / "generic_example")],
                "--parquet",
            ),
            "device": (["--out", "/dev/null"], "is a device"),
            "fifo": (["--out", str(fifo)], "FIFO"),
            "empty parquet": (["--out", str(tmp_path / "r.json"), "--parquet", ""], "--parquet"),
            "empty out": (["--out", ""], "--out"),
            "empty data dir": (["--out", str(tmp_path / "r.json"), "--data-dir", ""], "--data-dir"),
        },
    }


def _symlink(tmp_path: Path, target: Path) -> Path:
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    return link


LOSS_IDS = [
    "intervals file",
    "load file",
    "load file via symlink",
    "shipped events, other data dir",
    "shipped site load",
    "new file in shipped sites",
    "parquet into shipped data",
    "device",
    "fifo",
    "empty parquet",
    "empty out",
    "empty data dir",
]


@pytest.mark.parametrize("label", LOSS_IDS)
def test_no_output_overwrites_an_input_or_shipped_data(site, tmp_path, capsys, monkeypatch, label):
    monkeypatch.chdir(tmp_path)  # an empty path must not mean "the working folder"
    cases = _loss_cases(site, tmp_path)
    args, named = cases["targets"][label]
    shipped = _snapshot(ROOT / "resources_data")
    inputs = {p: p.read_bytes() for p in tmp_path.glob("*.csv") if p.is_file()}
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr("dcpower.cli.run_case", lambda *a, **k: pytest.fail("solved"))
    code = main(["run", str(cases["case"]), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert named in err and "Traceback" not in err
    assert _snapshot(ROOT / "resources_data") == shipped
    assert all(p.read_bytes() == b for p, b in inputs.items())
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert stat_is_fifo(tmp_path / "fifo")


def stat_is_fifo(path: Path) -> bool:
    import stat

    return stat.S_ISFIFO(os.lstat(path).st_mode)


@pytest.mark.parametrize(
    "writer", ["write_json_atomic", "write_text_atomic", "write_parquet_atomic", "save_figure"]
)
def test_every_writer_refuses_shipped_data_and_devices(tmp_path, writer):
    """The one writer behind results, tables, summaries and plots has the same guard."""
    from dcpower import plots, results
    from dcpower.errors import InputError

    target = ROOT / "resources_data" / "sites" / "probe.png"
    calls = {
        "write_json_atomic": lambda p: results.write_json_atomic({"a": 1}, p),
        "write_text_atomic": lambda p: results.write_text_atomic("x", p),
        "write_parquet_atomic": lambda p: results.write_parquet_atomic(pd.DataFrame({"a": [1]}), p),
        "save_figure": lambda p: plots.save_figure(_figure(), p),
    }
    for bad in (target, Path("/dev/null")) if writer != "save_figure" else (target,):
        with pytest.raises(InputError, match="market data folder|is a device"):
            calls[writer](bad)
    assert not target.exists()
    calls[writer](tmp_path / "ok.png")  # an ordinary target still works
    assert list(tmp_path.iterdir())


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    return fig


@pytest.mark.parametrize(
    "flags, case_relax",
    [
        (["--relax-integrality", "--proven-bound"], False),
        (["--relax-integrality", "--marginal-values"], False),
        (["--relax-integrality", "--lp-bound"], False),
        (["--relax-integrality", "--mip-gap", "0"], False),
        (["--marginal-values"], True),
        (["--proven-bound"], True),
    ],
    ids=[
        "relax+proven",
        "relax+marginal",
        "relax+lp",
        "relax+mip-gap",
        "case relax+marginal",
        "case relax+proven",
    ],
)
def test_options_that_cannot_combine_are_refused(site, outdir, tmp_path, capsys, flags, case_relax):
    case = json.loads(json.dumps(site["case"]))
    if case_relax:
        case.setdefault("solver", {})["relax_integrality"] = True
    before = _snapshot(outdir)
    code = main(["run", str(_write_case(tmp_path, case)), "--out", str(outdir / "r.json"), *flags])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be combined" in err
    assert next(f for f in flags[::-1] if f.startswith("--") and f != "--relax-integrality") in err
    assert ("solver.relax_integrality" in err) == case_relax
    assert _snapshot(outdir) == before


# study config: duplicate keys, names escaping results/, every message naming its key


@pytest.mark.parametrize(
    "text, key",
    [
        ("study:\n  name: a\n  name: b\n", "study.name: duplicate key on line 3"),
        ("grid:\n  bess_mwh: [0]\ngrid:\n  bess_mwh: [400]\n", "grid: duplicate key on line 3"),
        ("market:\n  reserve_products:\n    '2016': []\n    '2016': [REGUP]\n", "'2016'"),
    ],
    ids=["study.name", "section", "nested key"],
)
def test_study_yaml_duplicate_keys_are_refused(tmp_path, text, key):
    from dcpower.study import config_file_problems

    path = _written(tmp_path / "c.yaml", text)
    problems = config_file_problems([path])
    assert len(problems) == 1 and str(path) in problems[0]
    assert key.replace("'2016'", "market.reserve_products.2016") in problems[0]


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "../x", "a/b", "x" * 101])
def test_study_name_cannot_escape_results(name):
    cfg = _test_config()
    cfg["study"]["name"] = name
    problems = check_config(cfg, ROOT / "resources_data" / "ercot")
    assert problems and all(p.startswith("config: study.name") for p in problems[:1]), problems


def test_workflow_refuses_duplicate_keys_before_any_job(tmp_path):
    work = copy_workflow(tmp_path)
    text = (work / "config/test/config.yaml").read_text()
    (work / "config/test/dup.yaml").write_text(text + "\nstudy:\n  name: other\n")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1"]
        + ["--configfile", "config/test/dup.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "study: duplicate key" in output and "dup.yaml" in output
    assert not (work / "results").exists()


def test_base_case_problems_name_the_config_key_and_the_case_field(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = _test_config()
    base = json.loads((ROOT / cfg["study"]["base_case"]).read_text())
    base["poi"]["import_limit_mw"] = float("nan")
    bad = tmp_path / "base.json"
    bad.write_text(json.dumps(base, allow_nan=True))
    folder = tmp_path / "folder.json"
    folder.mkdir()
    for path, named in ((bad, "$.poi.import_limit_mw"), (folder, "is a folder")):
        cfg["study"]["base_case"] = str(path)
        problems = check_config(cfg, ROOT / "resources_data" / "ercot")
        assert problems and all("study.base_case" in p for p in problems)
        assert any(named in p for p in problems), problems


# infeasibility diagnosis covers every capped-withdrawal family and names the conflict

FLEX_LOAD = {
    "profile_mw": 10.0,
    "critical_fraction": 0.2,
    "flexible_fraction": 0.5,
    "reserves": {"weekly_curtailment_limit_mwh": 1.0},
}


@pytest.mark.parametrize("cap", ["event", "alert"])
def test_withdrawal_cap_conflicts_are_named(site, tmp_path, capsys, cap):
    """A zero withdrawal cap with no gas or battery needs the flexible load curtailed beyond
    its 1 MWh weekly limit: exit 3 naming the cap family and the weekly limit, not "could not
    localise"."""
    case = _mutated(site["case"], "load", FLEX_LOAD)
    if cap == "event":
        case["events"] = [
            {
                "name": "probe",
                "start": "2023-07-10T12:00:00-05:00",
                "end": "2023-07-10T16:00:00-05:00",
                "cap_mw": 0.0,
                "source": "test",
            }
        ]
        family = "event_cap"
    else:
        case["tariff"] = {
            "response": "alert",
            "rate_usd_per_kw_yr": 50.0,
            "alert": {"max_withdrawal_mw": 0.0, "threshold_fraction": 0.5},
        }
        family = "cp_alert_cap"
    out = tmp_path / "r.json"
    code = main(["run", str(_write_case(tmp_path, case)), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 3, err
    assert family in err and "load_week_limit" in err and "in conflict with" in err
    assert "could not localise" not in err and not out.exists()


def test_load_shed_warning_names_the_binding_families(site, tmp_path, capsys):
    """A 0.8 PF load behind a 0.99 PF rule and a 4 MVA transformer: the shed is caused by the
    PF rule and the transformer, and the warning says so."""
    case = _mutated(
        site["case"], "load", {"profile_mw": 10.0, "critical_fraction": 0.5, "power_factor": 0.8}
    )
    case["poi"]["min_power_factor"] = 0.99
    case["transformer"]["rating_mva"] = 4
    out = tmp_path / "r.json"
    assert main(["run", str(_write_case(tmp_path, case)), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    shed = [line for line in err.splitlines() if "critical load shed" in line]
    assert shed and "poi_pf_upper" in shed[0] and "transformer_mva" in shed[0]


@pytest.mark.parametrize(
    "tz, minutes, offset",
    [
        ("Asia/Kolkata", 60, "UTC+05:30"),
        ("America/St_Johns", 60, "UTC-02:30"),
        ("Asia/Kathmandu", 30, "UTC+05:45"),
    ],
)
def test_time_zone_offset_off_the_step_names_the_zone(
    site, outdir, tmp_path, capsys, tz, minutes, offset
):
    case = _mutated(site["case"], "horizon.timezone", tz)
    case["horizon"]["timestep_minutes"] = minutes
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "horizon.timezone", offset, "horizon.timestep_minutes")
    assert "does not exist" not in res["err"]


# UI: every file a case or study names is checked against the roots after resolving links


def test_ui_every_case_file_field_is_checked_against_the_roots(monkeypatch, tmp_path):
    from dcpower.ui import state

    monkeypatch.setenv(state.ENV_ROOTS, str(tmp_path / "allowed"))
    outside = _intervals(tmp_path / "cp.csv", IV_HEAD, f"{SECRET},{CP_END}")
    case = json.loads(EXAMPLE_CASE.read_text())
    case["tariff"] = {"intervals_file": str(outside)}
    got, problems = state.validate(case, "c.json", None)
    assert got is None
    assert [p for p, _ in problems] == ["$.tariff.intervals_file"]
    assert SECRET not in str(problems)
    (tmp_path / "allowed").mkdir()
    link = tmp_path / "allowed" / "cp.csv"
    link.symlink_to(outside)  # a link inside the roots that leads outside them
    case["tariff"] = {"intervals_file": str(link)}
    assert [p for p, _ in state.validate(case, "c.json", None)[1]] == ["$.tariff.intervals_file"]


def test_ui_symlinked_sweep_files_are_not_followed_outside(monkeypatch, tmp_path):
    from dcpower.ui import state

    secret = tmp_path / "secret"
    (secret / "scenarios" / "s1").mkdir(parents=True)
    pd.DataFrame({"scenario": ["s1"], "annual_total_cost_usd": [1.0]}).to_parquet(
        secret / "summary.parquet"
    )
    pd.DataFrame({"load_mw": [1.0]}).to_parquet(secret / "scenarios" / "s1" / "dispatch.parquet")
    study = tmp_path / "allowed" / "study"
    (study / "scenarios").mkdir(parents=True)
    (study / "summary.parquet").symlink_to(secret / "summary.parquet")
    (study / "scenarios" / "s1").symlink_to(secret / "scenarios" / "s1")
    monkeypatch.setenv(state.ENV_ROOTS, str(tmp_path / "allowed"))
    with pytest.raises(state.SweepError, match="outside the folders"):
        state.load_sweep(study)
    with pytest.raises(state.SweepError, match="outside the folders|not a scenario path"):
        state.load_scenario_dispatch(study, "s1")


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp* write them) listening on ``port``."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(name) as fh:
            for line in fh.readlines()[1:]:
                parts = line.split()
                addr, hexport = parts[1].split(":")
                if int(hexport, 16) == port and parts[3] == "0A":
                    out.append(addr)
    return out


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp")
def test_ui_listens_on_localhost_from_any_folder(tmp_path):
    """`streamlit run <abs path>/app.py` from a folder without the project's settings binds
    to 127.0.0.1 only: the app's own settings travel with it."""
    import socket
    import time

    from dcpower.ui import APP_PATH

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env["HOME"] = str(tmp_path)  # no user-level ~/.streamlit either
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP_PATH), "--server.port", str(port)]
        + ["--server.headless", "true"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        addrs = _listening(port)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert addrs, "streamlit did not start"
    assert set(addrs) == {"0100007F"}, addrs  # 127.0.0.1, not 0.0.0.0 or ::


@pytest.mark.parametrize("field", ["price_file", "reserve_price_file"])
@pytest.mark.parametrize("kind", ["truncated gzip", "folder", "naive times"])
def test_generic_market_files_have_the_same_rules(tmp_path, capsys, field, kind):
    case = json.loads((ROOT / "config" / "cases" / "example_generic.json").read_text())
    src = ROOT / "resources_data" / "generic_example" / Path(case["market"][field]).name
    for key in ("price_file", "reserve_price_file"):
        case["market"][key] = str(
            ROOT / "resources_data" / "generic_example" / Path(case["market"][key]).name
        )
    if kind == "truncated gzip":
        bad, named = _gz_truncated(tmp_path / "x.csv.gz", src.read_bytes()), "truncated"
    elif kind == "folder":
        bad, named = tmp_path / "x.csv", "is a folder"
        bad.mkdir()
    else:
        text = src.read_text().replace("Z,", ",")  # drop every UTC designator
        bad, named = _written(tmp_path / "x.csv", text), "interval_start_utc"
    case["market"][field] = str(bad)
    path = _write_case(tmp_path, case)
    for argv in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "r.json")]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and f"market.{field}" in err and named in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


def test_system_load_peaks_refuse_another_interval_length(site, outdir, tmp_path, capsys):
    case = json.loads(json.dumps(site["case"]))
    case["tariff"] = {
        "rule": "12cp",
        "intervals_source": "system_load_peaks",
        "interval_minutes": 30,
        "rate_usd_per_kw_yr": 50.0,
    }
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, "tariff.interval_minutes", "60-min")


def test_control_characters_in_a_path_are_escaped(tmp_path, capsys):
    bad = tmp_path / "c\x1b[31m\x07.json"
    bad.write_text("{")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\\x1b[31m\\x07" in err


def test_fetch_cache_never_replaces_shipped_data_or_a_fifo(tmp_path):
    from dcpower.errors import InputError
    from dcpower.filecheck import check_cache_target

    shipped = next((ROOT / "resources_data" / "ercot").glob("*.csv.gz"))
    fifo = tmp_path / "f.csv.gz"
    os.mkfifo(fifo)
    for bad, named in ((shipped, "never replaced"), (fifo, "FIFO")):
        with pytest.raises(InputError, match=named):
            check_cache_target(bad)
    assert check_cache_target(tmp_path / "new.csv.gz") == tmp_path / "new.csv.gz"
    assert check_cache_target(ROOT / "resources_data" / "ercot" / "absent_2099.csv.gz")


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_data_dir_problems_name_the_option(site, tmp_path, capsys, kind):
    target = tmp_path / "nowhere" if kind == "missing" else site["prices"]
    for argv in (
        ["validate", str(site["dir"] / "case.json"), "--data-dir", str(target)],
        ["run", str(site["dir"] / "case.json"), "--out", str(tmp_path / "r.json")]
        + ["--data-dir", str(target)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "--data-dir" in err and str(target) in err and "--out" not in err
    assert not (tmp_path / "r.json").exists()


def test_ui_results_path_that_is_a_fifo_is_not_read(monkeypatch, tmp_path):
    from dcpower.ui import state

    monkeypatch.setenv(state.ENV_ROOTS, str(tmp_path))
    fifo = tmp_path / "r.json"
    os.mkfifo(fifo)  # opening it would block the UI forever
    with pytest.raises(ValueError, match="FIFO"):
        state.load_results_file(fifo)


@pytest.mark.parametrize("kind", ["truncated", "naive", "text MW"])
def test_system_load_in_a_data_dir_goes_through_the_shared_reader(tmp_path, kind):
    """The CP alert policy reads load_hourly_<year>.csv.gz from --data-dir: same rules."""
    import gzip

    from dcpower.iso.base import MarketDataError
    from dcpower.iso.ercot.system_load import system_load_mw

    good = "interval_start_utc,total_mw\n2023-07-10T05:00:00Z,70000\n2023-07-10T06:00:00Z,71000\n"
    text = {
        "truncated": good * 200,
        "naive": good.replace(":00Z", ":00"),
        "text MW": good.replace("71000", "lots"),
    }[kind]
    blob = gzip.compress(text.encode())
    path = tmp_path / "load_hourly_2023.csv.gz"
    path.write_bytes(blob[: len(blob) // 2] if kind == "truncated" else blob)
    named = {"truncated": "truncated", "naive": "without a UTC offset", "text MW": "total_mw"}
    with pytest.raises(MarketDataError, match=named[kind]) as info:
        system_load_mw([2023], tmp_path)
    assert str(path) in str(info.value)


def test_truncated_file_in_a_data_dir_is_named(tmp_path, capsys):
    """Shipped-layout files read from --data-dir have the same compression rule."""
    shipped = ROOT / "resources_data" / "ercot"
    dam = shipped / "dam_spp_hourly_2023_07_hb_north.csv.gz"
    data = tmp_path / "data"
    data.mkdir()
    (data / dam.name).write_bytes(dam.read_bytes()[:3000])
    shutil.copy(shipped / "as_mcpc_hourly_2023_07.csv.gz", data)
    for argv in (
        ["validate", str(EXAMPLE_CASE), "--data-dir", str(data)],
        ["run", str(EXAMPLE_CASE), "--out", str(tmp_path / "r.json"), "--data-dir", str(data)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert str(data / dam.name) in err and "truncated" in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    "field", ["market.price_file", "load.profile_file", "tariff.intervals_file"]
)
def test_nul_byte_in_a_file_path_is_a_schema_error(site, outdir, tmp_path, capsys, field):
    case = json.loads(json.dumps(site["case"]))
    if field == "load.profile_file":
        case["load"] = {"profile_file": "load\x00.csv", "critical_fraction": 0.5}
    elif field == "tariff.intervals_file":
        case["tariff"] = {"intervals_file": "cp\x00.csv", "rate_usd_per_kw_yr": 50.0}
    else:
        case["market"]["price_file"] = "p\x00.csv"
    res = _run_and_validate(capsys, _write_case(tmp_path, case), outdir)
    _assert_bad(res, f"$.{field}", "NUL byte")


def test_input_list_follows_the_schema(site, tmp_path, capsys, monkeypatch):
    """Every Path field of the case schema is an input of the run (found from the schema, not a
    hand list): the operations section's forecast and real-time price files included."""
    from dcpower.case import Case, case_from_dict, input_files

    def path_fields(model, prefix=""):
        out = []
        for name, f in model.model_fields.items():
            ann = str(f.annotation)
            if "Path" in ann:
                out.append(prefix + name)
            for sub in getattr(f.annotation, "__args__", (f.annotation,)):
                if isinstance(sub, type) and hasattr(sub, "model_fields"):
                    out += path_fields(sub, f"{prefix}{name}.")
        return out

    schema_fields = set(path_fields(Case))
    fc = _written(tmp_path / "fc.csv", "decision_time,timestamp,product,value\n")
    rt = _written(tmp_path / "rt.csv", "x\n")
    iv = _intervals(tmp_path / "cp.csv", IV_HEAD, f"{CP_START},{CP_END}")
    load = _load_csv(tmp_path / "load.csv", _utc_day(), [10.0] * 24)
    data = _tariff_case(site, iv)
    data["load"] = {"profile_file": str(load), "critical_fraction": 0.5}
    data["market"]["reserve_price_file"] = str(site["prices"])
    data["operations"] = {
        "policy": "forecast",
        "forecast": "file",
        "forecast_file": str(fc),
        "settlement": "two_settlement",
        "realtime_price_file": str(rt),
    }
    found = dict(input_files(case_from_dict(data)))
    assert set(found) == schema_fields, (set(found), schema_fields)
    case_path = _write_case(tmp_path, data)
    monkeypatch.setattr("dcpower.cli.run_case", lambda *a, **k: pytest.fail("solved"))
    for field in ("operations.forecast_file", "operations.realtime_price_file"):
        target = found[field]
        before = target.read_bytes()
        assert main(["run", str(case_path), "--out", str(target)]) == 2
        err = capsys.readouterr().err
        assert f"is an input of this run ({field}" in err
        assert target.read_bytes() == before
