"""Generic adapter (market.iso "generic"): tidy files in, any market; errors name file, column
and fix without echoing file contents; a case and a tiny sweep run offline on the example."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from dcpower import sweep
from dcpower.case import CaseError, case_from_dict, case_json_schema, load_case
from dcpower.cli import main as cli_main
from dcpower.iso import GenericAdapter, MarketDataError, MarketRequest, get_adapter
from dcpower.runner import load_market, market_request
from dcpower.study import load_study_config

EXAMPLE = ROOT / "config" / "cases" / "example_generic.json"
DATA = ROOT / "resources_data" / "generic_example"
SECRET = "SECRET-CELL-TEXT"


@pytest.fixture(scope="module")
def case():
    return load_case(EXAMPLE)


def _request(case, **kw) -> MarketRequest:
    base = market_request(case)
    return MarketRequest(**{**base.__dict__, **kw})


def _energy_csv(tmp_path: Path, rows: list[str], header: str = "") -> Path:
    p = tmp_path / "energy.csv"
    head = header or "interval_start_utc,settlement_point,price_usd_per_mwh"
    p.write_text("\n".join([head, *rows]) + "\n")
    return p


def test_example_case_runs_offline(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli_main(["run", str(EXAMPLE), "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["market"]["iso"] == "generic"
    assert len(r["dispatch"]) == 47  # 30-31 March 2030 in Europe/Berlin: spring-forward day
    assert set(r["market"]["reserve_products"]) == {"SPIN", "REGDOWN"}
    prov = r["market"]["provenance"]
    assert prov["source_interval_minutes"] == {"energy": 60, "reserve": 240}
    assert r["economics"]["revenues_usd"]["reserve_spin_revenue_usd"] > 0


def test_prices_resampled_from_the_files(case):
    md = get_adapter("generic").load_market_data(market_request(case))
    energy = pd.read_csv(DATA / "energy_prices.csv", index_col="interval_start_utc")
    reserve = pd.read_csv(DATA / "reserve_prices.csv")
    idx = md.energy_price_usd_per_mwh.index
    assert str(idx.tz) == "UTC" and idx[0] == pd.Timestamp("2030-03-29T23:00Z")  # Berlin CET
    first = energy.loc["2030-03-29T23:00:00Z", "price_usd_per_mwh"]
    assert md.energy_price_usd_per_mwh.iloc[0] == first
    block = reserve[
        (reserve["interval_start_utc"] == "2030-03-30T00:00:00Z") & (reserve["product"] == "SPIN")
    ]["price_usd_per_mw_h"].item()
    # a 4-hour block holds its price in each of its hourly steps
    assert (md.reserve_price_usd_per_mw_h["SPIN"].iloc[1:5] == block).all()
    spin = md.reserve_products["SPIN"]
    assert (spin.direction, spin.duration_h, spin.deployment_minutes) == ("up", 1.0, 10.0)
    assert spin.eligible_resources == ("gen", "bess") and "Synthetic" in spin.source


def test_parquet_without_settlement_point_column(case, tmp_path):
    df = pd.read_csv(DATA / "energy_prices.csv")
    df["interval_start_utc"] = pd.to_datetime(df["interval_start_utc"], utc=True)
    path = tmp_path / "energy.parquet"
    df.drop(columns=["settlement_point", "interval_end_utc"]).to_parquet(path)
    md = GenericAdapter().load_market_data(_request(case, price_file=path))
    ref = GenericAdapter().load_market_data(market_request(case))
    pd.testing.assert_series_equal(md.energy_price_usd_per_mwh, ref.energy_price_usd_per_mwh)
    df["interval_start_utc"] = df["interval_start_utc"].dt.tz_localize(None)
    df.to_parquet(path := tmp_path / "naive.parquet")
    with pytest.raises(MarketDataError, match=r"naive.parquet.*'interval_start_utc'.*time zone"):
        GenericAdapter().load_market_data(_request(case, price_file=path))


T0, T1, NODE = "2030-03-29T23:00:00Z", "2030-03-30T00:00:00Z", "EXAMPLE_NODE"
BAD_ENERGY = [
    ([f"{T0[:-1]},{NODE},50"], "", r"'interval_start_utc'.*UTC offset on line\(s\) 2"),
    ([f"{T0},{NODE},{SECRET}"], "", r"'price_usd_per_mwh'.*line\(s\) 2"),
    ([f"{SECRET},{NODE},50"], "", r"'interval_start_utc'.*line\(s\) 2"),
    (
        [f"{T0},{NODE},50"],
        "interval_start_utc,settlement_point,price",
        r"columns interval_start_utc, price_usd_per_mwh.*missing column\(s\) \['price_usd_per_mwh'",
    ),
    ([f"{T0},OTHER,50", f"{T1},OTHER,50"], "", r"settlement_point.*'EXAMPLE_NODE'.*\['OTHER'\]"),
    ([f"{T0},{NODE},50", f"{T1},{NODE},50"], "", r"interval_start_utc.*cover.*requested horizon"),
    ([f"{T0},{NODE},50"] * 2 + [f"{T1},{NODE},50"], "", r"duplicate interval.*line\(s\) 2, 3"),
    ([f"{T0},{NODE},1e9", f"{T1},{NODE},1"], "", r"'price_usd_per_mwh'.*absurd.*line\(s\) 2"),
]


@pytest.mark.parametrize(("rows", "header", "match"), BAD_ENERGY)
def test_bad_energy_files_name_file_column_and_fix(case, tmp_path, rows, header, match):
    path = _energy_csv(tmp_path, rows, header)
    with pytest.raises(MarketDataError, match=match) as err:
        GenericAdapter().load_market_data(_request(case, price_file=path))
    assert "energy.csv" in str(err.value) and SECRET not in str(err.value)


def test_reserve_file_errors(case, tmp_path):
    bad = tmp_path / "reserve.csv"
    rows = "2030-03-30T00:00:00Z,REGDOWN,5\n2030-03-30T01:00:00Z,REGDOWN,5\n"
    bad.write_text("interval_start_utc,product,price_usd_per_mw_h\n" + rows)
    with pytest.raises(
        MarketDataError, match=r"SPIN has no rows in market.reserve_price_file.*\['REGDOWN'\]"
    ):
        GenericAdapter().load_market_data(_request(case, reserve_price_file=bad))
    bad.write_text("interval_start_utc,product,mcpc\n" + rows)
    with pytest.raises(MarketDataError, match=r"reserve.csv.*price_usd_per_mw_h"):
        GenericAdapter().load_market_data(_request(case, reserve_price_file=bad))
    with pytest.raises(MarketDataError, match=r"'FFR' is not in market.reserve_catalogue"):
        GenericAdapter().load_market_data(_request(case, reserve_products=("FFR",)))
    with pytest.raises(MarketDataError, match=r"market.price_file: required"):
        GenericAdapter().load_market_data(_request(case, price_file=None))


def test_gap_is_error_then_filled(case, tmp_path):
    df = pd.read_csv(DATA / "energy_prices.csv")
    df.loc[df["interval_start_utc"] == "2030-03-30T10:00:00Z", "price_usd_per_mwh"] = None
    df.to_csv(path := tmp_path / "gap.csv", index=False)
    with pytest.raises(MarketDataError, match=r"1 missing 60-min.*2030-03-30T10:00Z.*gap.csv"):
        GenericAdapter().load_market_data(_request(case, price_file=path))
    md = GenericAdapter().load_market_data(_request(case, price_file=path, fill_policy="ffill"))
    assert md.provenance["filled_intervals"][0]["interval_start_utc"] == "2030-03-30T10:00Z"


def _case_dict() -> dict:
    data = json.loads(EXAMPLE.read_text())
    for key in ("price_file", "reserve_price_file"):
        data["market"][key] = str((EXAMPLE.parent / data["market"][key]).resolve())
    return data


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda m: m["reserve_catalogue"].pop("SPIN"), r"no entry for \['SPIN'\]"),
        (lambda m: m.pop("reserve_price_file"), r"reserve_price_file is required"),
        (lambda m: m.pop("price_file"), r"price_file is required"),
        (lambda m: m.update(iso="ercot"), r"reserve_catalogue is only for iso 'generic'"),
        (lambda m: m.update(iso="nowhere"), r"unknown ISO 'nowhere'.*'generic'"),
        (lambda m: m["reserve_catalogue"]["SPIN"].update(duration_h=25.0), r"less than or equal"),
        (lambda m: m["reserve_catalogue"]["SPIN"].update(deployment_minutes=0), r"greater than 0"),
        (lambda m: m["reserve_catalogue"]["SPIN"].update(eligible_resources=[]), r"at least 1"),
        (
            lambda m: m["reserve_catalogue"].update(spin=m["reserve_catalogue"]["SPIN"]),
            "upper case",
        ),
    ],
)
def test_case_catalogue_validation(mutate, match):
    data = _case_dict()
    mutate(data["market"])
    with pytest.raises(CaseError, match=match):
        case_from_dict(data)


def test_schema_iso_enum_comes_from_the_registry():
    iso = case_json_schema()["$defs"]["Market"]["properties"]["iso"]
    assert {"ercot", "generic"} <= set(iso["enum"])


def test_cli_bad_generic_file_is_exit_2(tmp_path, capsys):
    data = _case_dict()
    data["market"]["price_file"] = str(_energy_csv(tmp_path, [f"{SECRET},EXAMPLE_NODE,1"]))
    (case_path := tmp_path / "case.json").write_text(json.dumps(data))
    assert cli_main(["validate", str(case_path)]) == 2
    assert cli_main(["run", str(case_path), "--out", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "interval_start_utc" in err and SECRET not in err
    assert not (tmp_path / "r.json").exists()


def test_tiny_sweep_offline(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "test" / "config.yaml").read_text())
    config["study"].update(name="generic_tiny", base_case=str(EXAMPLE))
    config["grid"].update(bess_mwh=[100, 200], gen_units=[4], transformer_mva=[160])
    config["market"].update(
        iso="generic",
        settlement_point="EXAMPLE_NODE",
        years=[2030],
        start="03-30",
        end="03-31",
        reserve_products=["SPIN", "REGDOWN"],
    )
    data_dir = tmp_path / "generic"  # the generic adapter needs no data folder
    assert sweep.check_config(copy.deepcopy(config), data_dir) == []
    study = load_study_config(config)
    prices = sweep.retrieve_prices(2030, EXAMPLE, study.market, data_dir)
    assert prices["n_steps"] == 24 and prices["reserve_products"] == ["REGDOWN", "SPIN"]
    assert {Path(f["path"]).name for f in prices["provenance"]["files"]} == {
        "energy_prices.csv",
        "reserve_prices.csv",
    }
    rows = []
    for sizes in sweep.scenario_grid(study).to_dict(orient="records"):
        row, dispatch, survival = sweep.solve_scenario(
            EXAMPLE, sizes, study.scenario_settings(), None
        )
        assert dispatch is not None and len(dispatch) == 24
        rows.append(row)
    summary = sweep.aggregate(
        rows, sweep.grid_dims(study.market), study.reliability.frontier_metric
    )
    assert len(summary) == 2 and summary["annual_total_cost_usd"].notna().all()
    bad = copy.deepcopy(config)
    bad["market"]["iso"] = "nowhere"
    assert any("'nowhere'" in p for p in sweep.check_config(bad, data_dir))


def test_load_market_applies_case_overrides(case):
    data = case.model_dump(mode="json")
    data["market"]["reserve_catalogue_overrides"] = {"SPIN": {"duration_h": 2.0}}
    md = load_market(case_from_dict(data))
    assert md.reserve_products["SPIN"].duration_h == 2.0


def test_repeated_z_stamps_parse_as_each_row_would():
    """``parse_utc`` parses each distinct ``...Z`` stamp once and spreads it over the rows that
    repeat it (one per key); the instants equal a row-by-row parse, and stamps with an offset
    or without a zone still take the row-by-row path (its errors name file lines; header = 1)."""
    import pandas as pd

    from dcpower.iso.base import MarketDataError
    from dcpower.iso.tidy import parse_utc

    stamps = [f"2024-03-10T{h:02d}:00:00Z" for h in range(6)]
    repeated = pd.Series([s for s in stamps for _ in range(5)][::-1] + [" " + stamps[0]])
    got = parse_utc(repeated, "f.csv", "interval_start_utc")
    want = pd.to_datetime(repeated.str.strip(), format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    assert (got == pd.DatetimeIndex(want)).all() and str(got.dtype) == "datetime64[ns, UTC]"
    mixed = pd.Series([stamps[0], "2024-03-10T01:00:00-06:00", stamps[0]])
    assert list(parse_utc(mixed, "f.csv", "c").hour) == [0, 7, 0]
    empty = parse_utc(pd.Series([], dtype=float), "f.csv", "c")  # no rows: no stamps, no error
    assert len(empty) == 0
    with pytest.raises(MarketDataError, match="line\\(s\\) 4"):
        parse_utc(pd.Series([stamps[0], stamps[1], "2024-03-10T02:00:00"]), "f.csv", "c")
