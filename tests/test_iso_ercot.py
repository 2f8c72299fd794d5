"""ERCOT adapter: native parsers (DST), shipped data, resampling, gaps, errors, registry.

Expected UTC instants are worked out by hand from ERCOT's convention (interval start =
delivery date + (HE - 1) h local America/Chicago; Repeated Hour Flag N = first pass CDT (UTC-5),
Y = second pass CST (UTC-6)).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dcpower.iso import (
    ErcotAdapter,
    IsoAdapter,
    MarketData,
    MarketDataError,
    MarketRequest,
    ReserveProduct,
    available_adapters,
    ercot,
    get_adapter,
    register_adapter,
)
from dcpower.iso import base as iso_base
from dcpower.iso.ercot import (
    apply_catalogue_overrides,
    parse_as_mcpc_native,
    parse_dam_spp_native,
    parse_gridstatus_csv,
    parse_rtm_spp_native,
    read_tidy_as_mcpc,
    read_tidy_spp,
)

ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "tests" / "data" / "ercot_native"
SHIPPED = ROOT / "resources_data" / "ercot"

DAM_2021_FALL = NATIVE / "DAMLZHBSPP_2021_excerpt_2021-11-06_to_08_fall_back.csv"
DAM_2021_SPRING = NATIVE / "DAMLZHBSPP_2021_excerpt_2021-03-13_to_15_spring_forward.csv"
DAM_2021_URI = NATIVE / "DAMLZHBSPP_2021_excerpt_2021-02-14_to_16_winter_storm_uri.csv"
DAM_2022_FALL = NATIVE / "DAMLZHBSPP_2022_excerpt_2022-11-05_to_07_fall_back.csv"
AS_2015 = "rpt.00013091.0000000000000000.20160101080005.DAMASMCPC_2015_excerpt_{}.csv"
AS_2016 = "rpt.00013091.0000000000000000.20170101080004.DAMASMCPC_2016_excerpt_{}.csv"
ALL_AS = ("REGUP", "REGDN", "RRS", "ECRS", "NSPIN")


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s)


def request(**kw) -> MarketRequest:
    base = dict(
        settlement_point="HB_NORTH",
        energy_market="dam",
        start_utc=ts("2023-07-10T05:00Z"),
        end_utc=ts("2023-07-17T05:00Z"),
        timestep_minutes=60,
    )
    base.update(kw)
    return MarketRequest(**base)


@pytest.fixture(scope="module")
def adapter() -> ErcotAdapter:
    return ErcotAdapter()


def _local_day_rows(index: pd.DatetimeIndex, day: str) -> int:
    local = index.tz_convert("America/Chicago")
    return int((local.strftime("%Y-%m-%d") == day).sum())


def _assert_clean_index(index: pd.Index) -> None:
    assert isinstance(index, pd.DatetimeIndex)
    assert str(index.tz) == "UTC"
    assert index.is_monotonic_increasing and index.is_unique


# ------------------------------------------------------------------ native DAM SPP (NP4-180-ER)


@pytest.mark.parametrize(
    ("path", "day", "point", "he1_utc", "n_utc", "y_utc", "he3_utc"),
    [
        (
            DAM_2021_FALL,
            "2021-11-07",
            "HB_NORTH",
            "2021-11-07T05:00Z",  # HE1 = 00:00 CDT
            "2021-11-07T06:00Z",  # HE2 N = 01:00 CDT
            "2021-11-07T07:00Z",  # HE2 Y = 01:00 CST
            "2021-11-07T08:00Z",  # HE3 = 02:00 CST
        ),
        (
            DAM_2022_FALL,
            "2022-11-06",
            "HB_HOUSTON",
            "2022-11-06T05:00Z",
            "2022-11-06T06:00Z",
            "2022-11-06T07:00Z",
            "2022-11-06T08:00Z",
        ),
    ],
)
def test_dam_native_fall_back(path, day, point, he1_utc, n_utc, y_utc, he3_utc):
    df = parse_dam_spp_native(path)
    raw = pd.read_csv(path, dtype=str)
    assert set(df.columns) == {"settlement_point", "price_usd_per_mwh"}
    assert df.index.name == "interval_start_utc"
    points = sorted(df["settlement_point"].unique())
    assert len(points) == 15
    for p in points:
        s = df.loc[df["settlement_point"] == p, "price_usd_per_mwh"]
        _assert_clean_index(s.index)
        assert _local_day_rows(s.index, day) == 25
        # whole 3-day excerpt is gap-free in UTC: 24 + 25 + 24 hourly rows
        assert len(s) == 73
        assert (np.diff(s.index.asi8) == 3600 * 10**9).all()
    s = df.loc[df["settlement_point"] == point, "price_usd_per_mwh"]
    mdy = pd.Timestamp(day).strftime("%m/%d/%Y")
    sel = raw[(raw["Delivery Date"] == mdy) & (raw["Settlement Point"] == point)]

    def raw_price(he: str, flag: str) -> float:
        row = sel[(sel["Hour Ending"] == he) & (sel["Repeated Hour Flag"] == flag)]
        assert len(row) == 1
        return float(row["Settlement Point Price"].iloc[0])

    assert s[ts(he1_utc)] == raw_price("01:00", "N")
    assert s[ts(n_utc)] == raw_price("02:00", "N")
    assert s[ts(y_utc)] == raw_price("02:00", "Y")
    assert s[ts(he3_utc)] == raw_price("03:00", "N")


def test_dam_native_fall_back_exact_values_2021():
    s = parse_dam_spp_native(DAM_2021_FALL).query("settlement_point == 'HB_NORTH'")
    s = s["price_usd_per_mwh"]
    assert s[ts("2021-11-07T06:00Z")] == 27.57  # HE 02:00 N (CDT)
    assert s[ts("2021-11-07T07:00Z")] == 28.59  # HE 02:00 Y (CST)


def test_dam_native_spring_forward():
    df = parse_dam_spp_native(DAM_2021_SPRING)
    for p in df["settlement_point"].unique():
        s = df.loc[df["settlement_point"] == p, "price_usd_per_mwh"]
        _assert_clean_index(s.index)
        assert _local_day_rows(s.index, "2021-03-14") == 23
        assert len(s) == 24 + 23 + 24
        assert (np.diff(s.index.asi8) == 3600 * 10**9).all()  # no gap in UTC
    s = df.loc[df["settlement_point"] == "HB_NORTH", "price_usd_per_mwh"]
    assert s[ts("2021-03-14T07:00Z")] == 15.73  # HE2 = 01:00 CST
    assert s[ts("2021-03-14T08:00Z")] == 14.54  # next row HE4 = 03:00 CDT


def test_dam_native_matches_shipped_tidy_2021():
    native = parse_dam_spp_native(DAM_2021_FALL)
    tidy = read_tidy_spp(SHIPPED / "dam_spp_hourly_2021.csv.gz")
    assert tidy.attrs["interval_minutes"] == 60
    for path in (DAM_2021_FALL, DAM_2021_SPRING, DAM_2021_URI):
        native = parse_dam_spp_native(path)
        t0, t1 = native.index.min(), native.index.max()
        sub = tidy[(tidy.index >= t0) & (tidy.index <= t1)]
        a = native.reset_index().set_index(["interval_start_utc", "settlement_point"])
        b = sub.reset_index().set_index(["interval_start_utc", "settlement_point"])
        assert len(a) == len(b)
        pd.testing.assert_series_equal(
            a["price_usd_per_mwh"].sort_index(), b["price_usd_per_mwh"].sort_index()
        )


def test_dam_native_hour_24_and_errors():
    ok = io.StringIO(
        "Delivery Date,Hour Ending,Repeated Hour Flag,Settlement Point,Settlement Point Price\n"
        "07/01/2023,24:00,N,HB_NORTH,10.5\n07/01/2023,23:00,N,HB_NORTH,11\n"
    )
    s = parse_dam_spp_native(ok)
    assert list(s.index) == [ts("2023-07-02T03:00Z"), ts("2023-07-02T04:00Z")]  # 22:00, 23:00 CDT
    assert list(s["price_usd_per_mwh"]) == [11.0, 10.5]

    nonexistent = io.StringIO(
        "Delivery Date,Hour Ending,Repeated Hour Flag,Settlement Point,Settlement Point Price\n"
        "03/14/2021,02:00,N,HB_NORTH,1\n03/14/2021,03:00,N,HB_NORTH,2\n"
    )
    with pytest.raises(MarketDataError, match=r"line\(s\) 3.*does not exist"):
        parse_dam_spp_native(nonexistent)

    bad_flag = io.StringIO(
        "Delivery Date,Hour Ending,Repeated Hour Flag,Settlement Point,Settlement Point Price\n"
        "07/01/2023,05:00,Y,HB_NORTH,1\n"
    )
    with pytest.raises(MarketDataError, match="not a repeated"):
        parse_dam_spp_native(bad_flag)

    dup = io.StringIO(
        "Delivery Date,Hour Ending,Repeated Hour Flag,Settlement Point,Settlement Point Price\n"
        "11/07/2021,02:00,N,HB_NORTH,1\n11/07/2021,02:00,N,HB_NORTH,2\n"
    )
    with pytest.raises(MarketDataError, match="duplicate"):
        parse_dam_spp_native(dup)


# ------------------------------------------------------------------ native RTM SPP (NP6-785-ER)


def test_rtm_native_fall_back_layout():
    header = (
        "Delivery Date,Delivery Hour,Delivery Interval,Repeated Hour Flag,"
        "Settlement Point Name,Settlement Point Type,Settlement Point Price\n"
    )
    rows = [
        f"11/07/2021,2,{i},{f},HB_NORTH,HU,{10 * (f == 'Y') + i}\n"
        for f in "NY"
        for i in (1, 2, 3, 4)
    ]
    df = parse_rtm_spp_native(io.StringIO(header + "".join(rows)))
    assert df.attrs["interval_minutes"] == 15
    _assert_clean_index(df.index)
    expected = pd.date_range("2021-11-07T06:00Z", periods=8, freq="15min")
    assert (df.index == expected).all()
    assert list(df["price_usd_per_mwh"]) == [1, 2, 3, 4, 11, 12, 13, 14]


# ------------------------------------------------------------------ native AS MCPC (NP4-181-ER)


@pytest.mark.parametrize(
    ("name", "day", "n_utc", "y_utc"),
    [
        (AS_2015.format("fall_back"), "2015-11-01", "2015-11-01T06:00Z", "2015-11-01T07:00Z"),
        (AS_2016.format("fall_back"), "2016-11-06", "2016-11-06T06:00Z", "2016-11-06T07:00Z"),
    ],
)
def test_as_native_fall_back(name, day, n_utc, y_utc):
    header = (NATIVE / name).read_text().splitlines()[0]
    assert "REGUP ," in header  # ERCOT's trailing space is really there
    df = parse_as_mcpc_native(NATIVE / name)
    assert list(df.columns) == ["REGDN", "REGUP", "RRS", "NSPIN"]
    _assert_clean_index(df.index)
    assert _local_day_rows(df.index, day) == 25
    assert (np.diff(df.index.asi8) == 3600 * 10**9).all()
    raw = pd.read_csv(NATIVE / name, dtype=str)
    raw.columns = [c.strip() for c in raw.columns]
    mdy = pd.Timestamp(day).strftime("%m/%d/%Y")
    he2 = raw[(raw["Delivery Date"] == mdy) & (raw["Hour Ending"] == "02:00")]
    n_row = he2[he2["Repeated Hour Flag"] == "N"].iloc[0]
    y_row = he2[he2["Repeated Hour Flag"] == "Y"].iloc[0]
    for col in df.columns:
        assert df.loc[ts(n_utc), col] == float(n_row[col])
        assert df.loc[ts(y_utc), col] == float(y_row[col])


def test_as_native_fall_back_exact_2016():
    df = parse_as_mcpc_native(NATIVE / AS_2016.format("fall_back"))
    assert df.loc[ts("2016-11-06T06:00Z"), "RRS"] == 10.0  # HE 02:00 N
    assert df.loc[ts("2016-11-06T07:00Z"), "RRS"] == 15.0  # HE 02:00 Y
    assert df.loc[ts("2016-11-06T07:00Z"), "NSPIN"] == 1.48


@pytest.mark.parametrize(
    ("name", "day", "he2_utc", "he4_utc"),
    [
        (AS_2015.format("spring_forward"), "2015-03-08", "2015-03-08T07:00Z", "2015-03-08T08:00Z"),
        (AS_2016.format("spring_forward"), "2016-03-13", "2016-03-13T07:00Z", "2016-03-13T08:00Z"),
    ],
)
def test_as_native_spring_forward(name, day, he2_utc, he4_utc):
    df = parse_as_mcpc_native(NATIVE / name)
    _assert_clean_index(df.index)
    assert _local_day_rows(df.index, day) == 23
    assert (np.diff(df.index.asi8) == 3600 * 10**9).all()
    assert df.index.get_loc(ts(he4_utc)) == df.index.get_loc(ts(he2_utc)) + 1


def test_as_native_matches_shipped_tidy_2016():
    tidy = read_tidy_as_mcpc(SHIPPED / "as_mcpc_hourly_2016.csv.gz")
    assert list(tidy.columns) == ["REGDN", "REGUP", "RRS", "NSPIN"]
    assert len(tidy) == 8784
    for kind in ("fall_back", "spring_forward"):
        native = parse_as_mcpc_native(NATIVE / AS_2016.format(kind))
        sub = tidy.loc[native.index, native.columns]
        pd.testing.assert_frame_equal(native, sub, check_freq=False)


# ------------------------------------------------------------------ gridstatus layout


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("gridstatus_format_as_2023_03_12_raw.csv", 23),
        ("gridstatus_format_as_2023_11_05_raw.csv", 25),
        ("gridstatus_format_hb_north_2023_03_12_raw.csv", 23),
        ("gridstatus_format_hb_north_2023_11_05_raw.csv", 25),
    ],
)
def test_gridstatus_dst_days(name, rows):
    df = parse_gridstatus_csv(NATIVE / name)
    _assert_clean_index(df.index)
    assert len(df) == rows
    assert df.attrs["interval_minutes"] == 60
    assert (np.diff(df.index.asi8) == 3600 * 10**9).all()
    if "hb_north" in name:
        assert set(df["settlement_point"]) == {"HB_NORTH"}
    else:
        assert list(df.columns) == ["REGDN", "REGUP", "RRS", "NSPIN", "ECRS"]
    if name.endswith("11_05_raw.csv"):
        assert df.index[1] == ts("2023-11-05T06:00Z")  # 01:00 CDT
        assert df.index[2] == ts("2023-11-05T07:00Z")  # 01:00 CST
    else:
        assert df.index[1] == ts("2023-03-12T07:00Z")  # 01:00 CST
        assert df.index[2] == ts("2023-03-12T08:00Z")  # 03:00 CDT


def test_gridstatus_values_and_blank_ecrs():
    df = parse_gridstatus_csv(NATIVE / "gridstatus_format_as_2023_11_05_raw.csv")
    assert df.loc[ts("2023-11-05T06:00Z"), "REGDN"] == 1.49
    assert df.loc[ts("2023-11-05T07:00Z"), "REGDN"] == 4.98
    march = parse_gridstatus_csv(NATIVE / "gridstatus_format_as_2023_03_12_raw.csv")
    assert march["ECRS"].isna().all()  # ECRS did not exist before 10 Jun 2023
    hb = parse_gridstatus_csv(NATIVE / "gridstatus_format_hb_north_2023_11_05_raw.csv")
    assert hb.loc[ts("2023-11-05T07:00Z"), "price_usd_per_mwh"] == 24.98


# ------------------------------------------------------------------ load_market_data


def test_july_2023_week_dam_with_all_reserves(adapter):
    md = adapter.load_market_data(request(reserve_products=ALL_AS))
    assert isinstance(md, MarketData)
    e, r = md.energy_price_usd_per_mwh, md.reserve_price_usd_per_mw_h
    assert len(e) == 168 and len(r) == 168
    _assert_clean_index(e.index)
    assert (e.index == r.index).all()
    assert list(r.columns) == list(ALL_AS)
    assert not e.isna().any() and not r.isna().any().any()
    assert set(md.reserve_products) == set(ALL_AS)
    # the July 2023 gridstatus fixtures equal the annual reports, which take precedence
    tidy = read_tidy_spp(SHIPPED / "dam_spp_hourly_2023_07_hb_north.csv.gz")
    np.testing.assert_array_equal(e.to_numpy(), tidy.loc[e.index, "price_usd_per_mwh"].to_numpy())
    as_tidy = read_tidy_as_mcpc(SHIPPED / "as_mcpc_hourly_2023_07.csv.gz")
    np.testing.assert_array_equal(r.to_numpy(), as_tidy.loc[r.index, list(ALL_AS)].to_numpy())
    prov = md.provenance
    assert prov["settlement_point"] == "HB_NORTH" and prov["energy_market"] == "dam"
    sums = dict(line.split()[::-1] for line in (SHIPPED / "SHA256SUMS").read_text().splitlines())
    names = {Path(f["path"]).name: f["sha256"] for f in prov["files"]}
    assert names == {
        "dam_spp_hourly_2023.csv.gz": sums["dam_spp_hourly_2023.csv.gz"],
        "as_mcpc_hourly_2023.csv.gz": sums["as_mcpc_hourly_2023.csv.gz"],
    }
    assert prov["filled_intervals"] == []


def test_july_2023_week_at_15_min_holds_hourly_price(adapter):
    hourly = adapter.load_market_data(request(reserve_products=ALL_AS))
    md = adapter.load_market_data(request(timestep_minutes=15, reserve_products=ALL_AS))
    e = md.energy_price_usd_per_mwh
    assert len(e) == 672
    assert (np.diff(e.index.asi8) == 15 * 60 * 10**9).all()
    np.testing.assert_array_equal(
        e.to_numpy(), np.repeat(hourly.energy_price_usd_per_mwh.to_numpy(), 4)
    )
    np.testing.assert_array_equal(
        md.reserve_price_usd_per_mw_h.to_numpy(),
        np.repeat(hourly.reserve_price_usd_per_mw_h.to_numpy(), 4, axis=0),
    )


def test_rtm_2024_hourly_is_mean_of_quarter_hours(adapter):
    kw = dict(
        settlement_point="HB_HUBAVG",
        energy_market="rtm",
        start_utc=ts("2024-05-08T05:00Z"),
        end_utc=ts("2024-05-10T05:00Z"),
    )
    q = adapter.load_market_data(request(timestep_minutes=15, **kw)).energy_price_usd_per_mwh
    h = adapter.load_market_data(request(timestep_minutes=60, **kw)).energy_price_usd_per_mwh
    assert len(q) == 192 and len(h) == 48
    tidy = read_tidy_spp(SHIPPED / "rtm_spp_15min_2024_hb_hubavg.csv.gz")
    np.testing.assert_array_equal(q.to_numpy(), tidy.loc[q.index, "price_usd_per_mwh"].to_numpy())
    np.testing.assert_allclose(h.to_numpy(), q.to_numpy().reshape(-1, 4).mean(axis=1))
    assert h.max() > 1000  # the 8 May 2024 scarcity evening is in there


def test_2016_houston_reserves_and_missing_ecrs(adapter):
    kw = dict(
        settlement_point="HB_HOUSTON",
        start_utc=ts("2016-11-05T05:00Z"),
        end_utc=ts("2016-11-08T06:00Z"),
    )
    md = adapter.load_market_data(
        request(reserve_products=("REGUP", "REGDN", "RRS", "NSPIN"), **kw)
    )
    assert len(md.energy_price_usd_per_mwh) == 73  # includes the 25-hour fall-back day
    native = parse_as_mcpc_native(NATIVE / AS_2016.format("fall_back"))
    r = md.reserve_price_usd_per_mw_h
    pd.testing.assert_frame_equal(
        r, native.loc[r.index, list(r.columns)], check_freq=False, check_names=False
    )
    assert set(md.reserve_products) == {"REGUP", "REGDN", "RRS", "NSPIN"}
    with pytest.raises(MarketDataError, match="ECRS has no AS prices before operating day") as exc:
        adapter.load_market_data(request(reserve_products=("REGUP", "ECRS"), **kw))
    assert "2023-06-10" in str(exc.value) and "reserve_products to []" in str(exc.value)


def test_2022_energy_only(adapter):
    kw = dict(start_utc=ts("2022-12-22T06:00Z"), end_utc=ts("2022-12-26T06:00Z"))
    md = adapter.load_market_data(request(reserve_products=(), **kw))
    assert len(md.energy_price_usd_per_mwh) == 96
    assert md.reserve_price_usd_per_mw_h.shape == (96, 0)
    assert md.reserve_products == {}


def test_unknown_point_and_product(adapter):
    with pytest.raises(MarketDataError, match=r"unknown ERCOT settlement point 'HB_NOWHERE'") as e:
        adapter.load_market_data(request(settlement_point="HB_NOWHERE"))
    assert "HB_NORTH" in str(e.value) and "LZ_WEST" in str(e.value)
    with pytest.raises(MarketDataError, match=r"unknown product 'SPIN'.*REGUP"):
        adapter.load_market_data(request(reserve_products=("SPIN",)))


def test_horizon_outside_data(adapter):
    req = request(start_utc=ts("2019-07-01T05:00Z"), end_utc=ts("2019-07-02T05:00Z"))
    with pytest.raises(MarketDataError, match=r"HB_NORTH.*outside") as exc:
        adapter.load_market_data(req)
    msg = str(exc.value)
    assert "2019-07-01T05:00Z" in msg
    assert "[2016-01-01T06:00Z, 2017-01-01T06:00Z)" in msg
    rtm = request(settlement_point="HB_NORTH", energy_market="rtm")
    with pytest.raises(MarketDataError, match="HB_HUBAVG"):
        adapter.load_market_data(rtm)


def test_request_validation(adapter):
    with pytest.raises(MarketDataError, match="timestep_minutes"):
        adapter.load_market_data(request(timestep_minutes=7))
    with pytest.raises(MarketDataError, match="tz-naive"):
        adapter.load_market_data(request(start_utc=pd.Timestamp("2023-07-10 05:00")))
    with pytest.raises(MarketDataError, match="energy_market"):
        adapter.load_market_data(request(energy_market="hasp"))


def _gappy_file(tmp_path: Path, drop: list[str]) -> Path:
    tidy = pd.read_csv(SHIPPED / "dam_spp_hourly_2021.csv.gz")
    week = tidy[
        (tidy["settlement_point"] == "HB_NORTH")
        & (tidy["interval_start_utc"] >= "2021-06-01T05:00:00Z")
        & (tidy["interval_start_utc"] < "2021-06-08T05:00:00Z")
    ]
    week = week[~week["interval_start_utc"].isin(drop)]
    path = tmp_path / "hb_north_gap.csv"
    week.to_csv(path, index=False)
    return path


def test_gap_errors_then_ffill(adapter, tmp_path):
    path = _gappy_file(tmp_path, ["2021-06-03T12:00:00Z"])
    req = request(
        price_file=path, start_utc=ts("2021-06-02T05:00Z"), end_utc=ts("2021-06-05T05:00Z")
    )
    with pytest.raises(MarketDataError, match=r"2021-06-03T12:00Z") as exc:
        adapter.load_market_data(req)
    assert "hb_north_gap.csv" in str(exc.value) and "fill_policy" in str(exc.value)

    md = adapter.load_market_data(dataclasses.replace(req, fill_policy="ffill"))
    e = md.energy_price_usd_per_mwh
    assert len(e) == 72 and not e.isna().any()
    assert e[ts("2021-06-03T12:00Z")] == e[ts("2021-06-03T11:00Z")]
    assert md.provenance["filled_intervals"] == [
        {"series": "energy", "interval_start_utc": "2021-06-03T12:00Z", "method": "ffill"}
    ]
    assert md.provenance["files"][0]["path"] == str(path)

    md = adapter.load_market_data(dataclasses.replace(req, fill_policy="interpolate"))
    e = md.energy_price_usd_per_mwh
    mid = (e[ts("2021-06-03T11:00Z")] + e[ts("2021-06-03T13:00Z")]) / 2
    assert e[ts("2021-06-03T12:00Z")] == pytest.approx(mid)


def test_gap_longer_than_max_fill_steps(adapter, tmp_path):
    drop = [f"2021-06-03T{h:02d}:00:00Z" for h in range(10, 16)]
    path = _gappy_file(tmp_path, drop)
    req = request(
        price_file=path,
        start_utc=ts("2021-06-02T05:00Z"),
        end_utc=ts("2021-06-05T05:00Z"),
        fill_policy="ffill",
        max_fill_steps=4,
    )
    with pytest.raises(MarketDataError, match=r"6 missing 60-min.*max_fill_steps=4"):
        adapter.load_market_data(req)
    # at 15 min the same gap is 24 steps
    with pytest.raises(MarketDataError, match="24 missing 15-min"):
        adapter.load_market_data(dataclasses.replace(req, timestep_minutes=15, max_fill_steps=20))
    md = adapter.load_market_data(dataclasses.replace(req, timestep_minutes=15, max_fill_steps=24))
    assert len(md.provenance["filled_intervals"]) == 24


def test_native_price_files_as_user_input(adapter):
    req = request(
        settlement_point="HB_NORTH",
        start_utc=ts("2021-11-07T05:00Z"),
        end_utc=ts("2021-11-08T06:00Z"),
        price_file=DAM_2021_FALL,
    )
    md = adapter.load_market_data(req)
    e = md.energy_price_usd_per_mwh
    assert len(e) == 25
    shipped = adapter.load_market_data(dataclasses.replace(req, price_file=None))
    pd.testing.assert_series_equal(e, shipped.energy_price_usd_per_mwh)

    as_req = request(
        settlement_point="HB_HOUSTON",
        start_utc=ts("2016-11-06T05:00Z"),
        end_utc=ts("2016-11-07T06:00Z"),
        reserve_products=("RRS",),
        reserve_price_file=NATIVE / AS_2016.format("fall_back"),
    )
    md = adapter.load_market_data(as_req)
    assert md.reserve_price_usd_per_mw_h["RRS"].tolist()[1:3] == [10.0, 15.0]


def test_2016_dam_one_point_full_year_and_file_cache():
    ercot._load_shipped_cached.cache_clear()
    req = request(
        settlement_point="HB_WEST",
        start_utc=ts("2016-01-01T06:00Z"),
        end_utc=ts("2017-01-01T06:00Z"),
    )
    md = ErcotAdapter().load_market_data(req)
    assert len(md.energy_price_usd_per_mwh) == 8784
    # the parsed shipped file is cached per process: a second load reuses the same table
    path = SHIPPED / "dam_spp_hourly_2016.csv.gz"
    assert ercot._load_shipped(path, "dam") is ercot._load_shipped(path, "dam")
    again = ErcotAdapter().load_market_data(req)
    pd.testing.assert_series_equal(again.energy_price_usd_per_mwh, md.energy_price_usd_per_mwh)


# ------------------------------------------------------------------ catalogue and registry


def test_reserve_catalogue_defaults(adapter):
    cat = adapter.reserve_catalogue()
    assert set(cat) == set(ALL_AS)
    assert {k: v.duration_h for k, v in cat.items()} == {
        "REGUP": 0.5,
        "REGDN": 0.5,
        "RRS": 0.5,
        "ECRS": 1.0,
        "NSPIN": 4.0,
    }
    assert cat["REGDN"].direction == "down"
    assert all(v.direction == "up" for k, v in cat.items() if k != "REGDN")
    # Regulation needs a Controllable Load Resource; the curtail-only flexible load may carry
    # RRS, ECRS and Non-Spin (each product states its load rule)
    assert {k: v.eligible_resources for k, v in cat.items()} == {
        "REGUP": ("gen", "bess"),
        "REGDN": ("gen", "bess"),
        "RRS": ("gen", "bess", "load"),
        "ECRS": ("gen", "bess", "load"),
        "NSPIN": ("gen", "bess", "load"),
    }
    assert "Controllable Load Resource" in cat["REGUP"].load_source
    assert "NPRR1148" in cat["ECRS"].load_source and "NPRR1096" in cat["NSPIN"].load_source
    assert "NPRR1096" in cat["NSPIN"].source and "NPRR1282" in cat["ECRS"].source


def test_catalogue_overrides():
    cat = ercot.ercot_reserve_catalogue()
    new = apply_catalogue_overrides(cat, {"ECRS": {"duration_h": 2, "eligible_resources": ["gen"]}})
    assert new["ECRS"].duration_h == 2.0 and new["ECRS"].eligible_resources == ("gen",)
    assert "Overridden" in new["ECRS"].source
    assert cat["ECRS"].duration_h == 1.0  # original untouched
    with pytest.raises(MarketDataError, match=r"ECRS\.duration_h"):
        apply_catalogue_overrides(cat, {"ECRS": {"duration_h": -1}})
    with pytest.raises(MarketDataError, match=r"RRS\.direction"):
        apply_catalogue_overrides(cat, {"RRS": {"direction": "sideways"}})
    with pytest.raises(MarketDataError, match=r"REGUP\.eligible_resources"):
        apply_catalogue_overrides(cat, {"REGUP": {"eligible_resources": ["nuclear"]}})
    with pytest.raises(MarketDataError, match=r"NSPIN\.price"):
        apply_catalogue_overrides(cat, {"NSPIN": {"price": 3}})
    with pytest.raises(MarketDataError, match="unknown product 'FFR'"):
        apply_catalogue_overrides(cat, {"FFR": {"duration_h": 0.25}})


def test_registry(monkeypatch):
    a = get_adapter("ercot")
    assert isinstance(a, ErcotAdapter) and isinstance(a, IsoAdapter) and a.name == "ercot"
    assert "ercot" in available_adapters()
    with pytest.raises(MarketDataError, match="unknown ISO 'nope'"):
        get_adapter("nope")

    class FakeAdapter:
        name = "fake"

        def settlement_points(self, data_dir=None):
            return ["X"]

        def reserve_catalogue(self):
            return {"R": ReserveProduct("R", "up", 1.0, ("gen",), "test")}

        def load_market_data(self, request):
            raise NotImplementedError

    monkeypatch.setitem(iso_base._REGISTRY, "fake", FakeAdapter)
    register_adapter("Fake", FakeAdapter)
    assert isinstance(get_adapter("FAKE"), FakeAdapter)
    assert "fake" in available_adapters()


def test_settlement_points(adapter):
    pts = adapter.settlement_points()
    assert "HB_NORTH" in pts and "HB_HUBAVG" in pts and "HB_PAN" in pts
    assert len(pts) == 15


# ------------------------------------------------------------------ shipped 2022-2024 years

LEGACY_AS = ("REGUP", "REGDN", "RRS", "NSPIN")
#: (spring-forward day, fall-back day) per year, local operating days
DST_DAYS = {
    2022: ("2022-03-13", "2022-11-06"),
    2023: ("2023-03-12", "2023-11-05"),
    2024: ("2024-03-10", "2024-11-03"),
}
#: the largest change of ERCOT's January 2024 DAM price correction at HB_HUBAVG (operating day
#: 2024-01-15, HE 13): the annual report vs the older gridstatus.io extract (see the data README)
JAN_2024_CORRECTED = {"utc": "2024-01-15T18:00Z", "corrected": 122.17, "original": 117.78}


def _local_day_request(day: str, point: str, products) -> MarketRequest:
    """One local operating day (23, 24 or 25 hours)."""
    a = pd.Timestamp(day)
    return request(
        settlement_point=point,
        start_utc=a.tz_localize("America/Chicago").tz_convert("UTC"),
        end_utc=(a + pd.Timedelta(days=1)).tz_localize("America/Chicago").tz_convert("UTC"),
        reserve_products=tuple(products),
    )


def _tidy_day(path: Path, key_col: str, key: str, value_col: str, day: str) -> pd.Series:
    """One local operating day of a shipped tidy file read with plain pandas (not the adapter)."""
    raw = pd.read_csv(path)
    raw = raw[(raw[key_col] == key) & (raw["delivery_date"] == day)]
    idx = pd.DatetimeIndex(pd.to_datetime(raw["interval_start_utc"], utc=True))
    return pd.Series(raw[value_col].to_numpy(float), index=idx).sort_index()


@pytest.mark.parametrize("year", sorted(DST_DAYS))
def test_shipped_years_dst_days_have_23_and_25_hours(adapter, year):
    dam = SHIPPED / f"dam_spp_hourly_{year}.csv.gz"
    products = LEGACY_AS + (("ECRS",) if year >= 2024 else ())
    for day, n_hours in zip(DST_DAYS[year], (23, 25), strict=True):
        for point in ("HB_HOUSTON", "LZ_WEST"):
            md = adapter.load_market_data(_local_day_request(day, point, products))
            e = md.energy_price_usd_per_mwh
            assert _local_day_rows(e.index, day) == n_hours == len(e)
            want = _tidy_day(dam, "settlement_point", point, "price_usd_per_mwh", day)
            assert len(want) == n_hours
            np.testing.assert_array_equal(e.loc[want.index].to_numpy(), want.to_numpy())
            energy_files = {Path(f["path"]).name for f in md.provenance["files"]} - {
                f"as_mcpc_hourly_{year}.csv.gz"
            }
            assert energy_files == {dam.name}
        r = md.reserve_price_usd_per_mw_h
        assert len(r) == n_hours and not r.isna().any().any()
        for name in products:
            want = _tidy_day(
                SHIPPED / f"as_mcpc_hourly_{year}.csv.gz", "service", name, "mcpc_usd_per_mw", day
            )
            np.testing.assert_array_equal(r.loc[want.index, name].to_numpy(), want.to_numpy())


@pytest.mark.parametrize(
    "excerpt, day, n_hours",
    [
        ("DAMASMCPC_2022_excerpt_spring_forward.csv", "2022-03-13", 23),
        ("DAMASMCPC_2022_excerpt_fall_back.csv", "2022-11-06", 25),
        ("DAMASMCPC_2023_excerpt_fall_back.csv", "2023-11-05", 25),
        ("DAMASMCPC_2024_excerpt_spring_forward.csv", "2024-03-10", 23),
        ("DAMASMCPC_2024_excerpt_fall_back.csv", "2024-11-03", 25),
    ],
)
def test_shipped_as_matches_native_ercot_lines_on_dst_days(adapter, excerpt, day, n_hours):
    native = parse_as_mcpc_native(NATIVE / excerpt)
    products = [p for p in ALL_AS if p in native.columns and native[p].notna().all()]
    md = adapter.load_market_data(_local_day_request(day, "HB_HOUSTON", products))
    r = md.reserve_price_usd_per_mw_h
    local_day = native.index.tz_convert("America/Chicago").strftime("%Y-%m-%d")
    day_rows = native[local_day == day]
    assert len(day_rows) == n_hours == len(r)
    np.testing.assert_array_equal(
        r.loc[day_rows.index, products].to_numpy(), day_rows[products].to_numpy()
    )


def test_fall_back_2024_repeated_hour_is_the_second_pass(adapter):
    # ERCOT 11/03/2024 HE 02:00 N (first pass, 01:00 CDT = 06:00Z) REGUP 0.55;
    # HE 02:00 Y (second pass, 01:00 CST = 07:00Z) 0.84; HE 01:00 (00:00 CDT = 05:00Z) 1.29
    md = adapter.load_market_data(_local_day_request("2024-11-03", "HB_HOUSTON", ["REGUP"]))
    r = md.reserve_price_usd_per_mw_h["REGUP"]
    assert r[ts("2024-11-03T05:00Z")] == 1.29
    assert r[ts("2024-11-03T06:00Z")] == 0.55
    assert r[ts("2024-11-03T07:00Z")] == 0.84


def test_ecrs_first_priced_on_2023_06_10(adapter):
    native = parse_as_mcpc_native(NATIVE / "DAMASMCPC_2023_excerpt_ecrs_start.csv")
    launch = ts("2023-06-10T05:00Z")  # operating day 10 Jun 2023, HE 01 starts 00:00 CDT
    assert native.loc[native.index < launch, "ECRS"].isna().all()
    assert native.loc[native.index >= launch, "ECRS"].notna().all()
    md = adapter.load_market_data(_local_day_request("2023-06-10", "HB_NORTH", ALL_AS))
    r = md.reserve_price_usd_per_mw_h
    assert len(r) == 24 and not r.isna().any().any()
    np.testing.assert_array_equal(r["ECRS"].to_numpy(), native.loc[r.index, "ECRS"].to_numpy())
    # one hour earlier (the last hour of 9 Jun) ECRS did not exist: a clear error
    early = request(
        start_utc=launch - pd.Timedelta(hours=1),
        end_utc=launch + pd.Timedelta(days=1),
        reserve_products=ALL_AS,
    )
    with pytest.raises(MarketDataError, match="ECRS has no AS prices before operating day") as exc:
        adapter.load_market_data(early)
    msg = str(exc.value)
    assert "2022: [REGUP, REGDN, RRS, NSPIN]" in msg and "on or after 2023-06-10" in msg
    for year in (2022, 2023):  # the whole of 2022 and the start of 2023: no ECRS
        with pytest.raises(MarketDataError, match="2023-06-10"):
            adapter.load_market_data(
                request(
                    start_utc=ts(f"{year}-01-01T06:00Z"),
                    end_utc=ts(f"{year}-01-03T06:00Z"),
                    reserve_products=("ECRS",),
                )
            )
    legacy = adapter.load_market_data(
        request(
            start_utc=ts("2022-01-01T06:00Z"),
            end_utc=ts("2023-01-01T06:00Z"),
            reserve_products=LEGACY_AS,
        )
    )
    assert legacy.reserve_price_usd_per_mw_h.shape == (8760, 4)


def test_2024_dam_carries_ercot_january_price_correction(adapter):
    # HB_HUBAVG: the annual NP4-180-ER file holds the corrected price, the older gridstatus.io
    # extract the original one; the adapter reads the annual report (no conflict error)
    hour = ts(JAN_2024_CORRECTED["utc"])
    kw = dict(
        settlement_point="HB_HUBAVG",
        start_utc=ts("2024-01-01T06:00Z"),
        end_utc=ts("2024-02-01T06:00Z"),
    )
    e = adapter.load_market_data(request(**kw)).energy_price_usd_per_mwh
    assert e[hour] == JAN_2024_CORRECTED["corrected"]
    old = read_tidy_spp(SHIPPED / "dam_spp_hourly_2024_hb_hubavg.csv.gz")
    assert old.loc[hour, "price_usd_per_mwh"] == JAN_2024_CORRECTED["original"]
    differ = e.to_numpy() != old.loc[e.index, "price_usd_per_mwh"].to_numpy()
    days = set(e.index[differ].tz_convert("America/Chicago").strftime("%m-%d"))
    assert days == {"01-10", "01-15", "01-17", "01-18", "01-19", "01-20", "01-23", "01-25"}
