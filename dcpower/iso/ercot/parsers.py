"""ERCOT's native report parsers and ERCOT-flavoured tidy readers.

Native layouts: NP4-180-ER / NP4-190-CD DAM SPP, NP6-785-ER / NP6-905-CD RTM SPP, NP4-181-ER /
NP4-188-CD AS MCPC, and the gridstatus library's layout; the layout of a user file is detected
from its header. ERCOT labels intervals by operating day and *hour ending* in local prevailing
time (America/Chicago) with a Repeated Hour Flag on the fall-back day; every parser returns data
indexed by the tz-aware UTC interval start (see :mod:`dcpower.iso.ercot` for the convention).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from dcpower.iso.base import MarketDataError
from dcpower.iso.tidy import columns_text as _columns_text
from dcpower.iso.tidy import finish_long as _finish_long
from dcpower.iso.tidy import finish_wide as _finish_wide
from dcpower.iso.tidy import interval_minutes
from dcpower.iso.tidy import line_list as _line_list
from dcpower.iso.tidy import norm_header as _norm_header
from dcpower.iso.tidy import numeric_column as _numeric_column
from dcpower.iso.tidy import parse_int_field as _parse_int
from dcpower.iso.tidy import parse_numeric as _numeric
from dcpower.iso.tidy import parse_utc as _parse_utc
from dcpower.iso.tidy import read_raw_csv as _read_raw_csv
from dcpower.iso.tidy import read_table as _read_table
from dcpower.iso.tidy import require_columns as _require
from dcpower.iso.tidy import source_name as _source_name
from dcpower.iso.tidy import uniform_minutes as _uniform_minutes
from dcpower.iso.timegrid import INDEX_NAME as _INDEX_NAME
from dcpower.iso.timegrid import TIME_UNIT as _UNIT
from dcpower.tables import read_table

__all__ = [
    "AS_SERVICES",
    "ERCOT_TZ",
    "canonical_service",
    "parse_as_mcpc_native",
    "parse_dam_spp_native",
    "parse_gridstatus_csv",
    "parse_rtm_spp_native",
    "read_price_file",
    "read_reserve_price_file",
    "read_tidy_as_mcpc",
    "read_tidy_spp",
]

ERCOT_TZ = "America/Chicago"
#: Ancillary services ERCOT publishes MCPCs for (DAM), in ERCOT's column order.
AS_SERVICES: tuple[str, ...] = ("REGDN", "REGUP", "RRS", "NSPIN", "ECRS")

_SERVICE_ALIASES: dict[str, str] = {
    "REGDN": "REGDN",
    "REGDOWN": "REGDN",
    "REGULATIONDOWN": "REGDN",
    "REGUP": "REGUP",
    "REGULATIONUP": "REGUP",
    "RRS": "RRS",
    "RESPONSIVERESERVE": "RRS",
    "RESPONSIVERESERVES": "RRS",
    "NSPIN": "NSPIN",
    "NONSPIN": "NSPIN",
    "NONSPINNINGRESERVE": "NSPIN",
    "NONSPINNINGRESERVES": "NSPIN",
    "ECRS": "ECRS",
    "ERCOTCONTINGENCYRESERVESERVICE": "ECRS",
}
# Native header (normalised: lower case, alphanumerics only) -> canonical column.
_NATIVE_COLUMNS: dict[str, str] = {
    "deliverydate": "delivery_date",
    "operday": "delivery_date",
    "hourending": "hour_ending",
    "deliveryhour": "delivery_hour",
    "deliveryinterval": "delivery_interval",
    "repeatedhourflag": "repeated_hour_flag",
    "dstflag": "repeated_hour_flag",
    "settlementpoint": "settlement_point",
    "settlementpointname": "settlement_point",
    "settlementpointtype": "settlement_point_type",
    "settlementpointprice": "price_usd_per_mwh",
    "ancillarytype": "service",
    "mcpc": "mcpc_usd_per_mw",
}


def canonical_service(name: str) -> str | None:
    """ERCOT's product code of a service name or alias (``"Reg Up"`` -> ``"REGUP"``), else None."""
    return _SERVICE_ALIASES.get(re.sub(r"[^A-Z]", "", name.upper()))


_canonical_service = canonical_service


def _interval_minutes_tidy(df: pd.DataFrame, times: pd.DatetimeIndex, src: str) -> int:
    # ERCOT's tidy RTM layout carries delivery_interval (1-4): 15-min intervals
    default = 15 if "delivery_interval" in df.columns else None
    return interval_minutes(df, times, src, default_minutes=default)


def _parse_dates(values: pd.Series, src: str) -> pd.DatetimeIndex:
    s = values.astype(str).str.strip()
    d = pd.to_datetime(s, format="%m/%d/%Y", errors="coerce")
    if d.isna().any():
        iso = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
        d = d.fillna(iso)
    if d.isna().any():
        lines = np.flatnonzero(d.isna().to_numpy()) + 2
        raise MarketDataError(
            f"{src}: Delivery Date must be MM/DD/YYYY (or YYYY-MM-DD); bad value "
            f"on line(s) {_line_list(lines)}."
        )
    return pd.DatetimeIndex(d).as_unit(_UNIT)


def _local_to_utc(
    local: pd.DatetimeIndex, flags: pd.Series | None, src: str, labels: pd.Series
) -> pd.DatetimeIndex:
    """Localise naive America/Chicago interval starts to UTC using the Repeated Hour Flag.

    ``N`` (or blank) = first pass / CDT on the fall-back day, ``Y`` = repeated pass / CST.
    A non-existent local time, or ``Y`` on a time that is not repeated, raises naming the line.
    """
    n = len(local)
    if flags is None:
        flag_y = np.zeros(n, dtype=bool)
    else:
        f = flags.astype(str).str.strip().str.upper()
        bad = ~f.isin(["N", "Y", ""])
        if bad.any():
            lines = np.flatnonzero(bad.to_numpy()) + 2
            raise MarketDataError(
                f"{src}: Repeated Hour Flag must be 'N' or 'Y'; bad value on "
                f"line(s) {_line_list(lines)}."
            )
        flag_y = f.eq("Y").to_numpy()
    first = local.tz_localize(ERCOT_TZ, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    second = local.tz_localize(ERCOT_TZ, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    missing = np.asarray(first.isna())
    if missing.any():
        lines = np.flatnonzero(missing) + 2
        raise MarketDataError(
            f"{src}: local time {local[missing][0]} ({labels.iloc[int(lines[0]) - 2]}) on line(s) "
            f"{_line_list(lines)} does not exist in {ERCOT_TZ} (spring-forward gap; ERCOT omits "
            "hour ending 03:00 on that day). Remove or correct these rows."
        )
    repeated = np.asarray(first != second)
    wrong_y = flag_y & ~repeated
    if wrong_y.any():
        lines = np.flatnonzero(wrong_y) + 2
        raise MarketDataError(
            f"{src}: Repeated Hour Flag 'Y' on line(s) {_line_list(lines)} but local time "
            f"{local[wrong_y][0]} is not a repeated (fall-back) hour. Set the flag to 'N'."
        )
    utc = first.where(~flag_y, second).tz_convert("UTC")
    return pd.DatetimeIndex(utc, name=_INDEX_NAME).as_unit(_UNIT)


def _canonical_native(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [_NATIVE_COLUMNS.get(_norm_header(c), str(c).strip()) for c in df.columns]
    return out


def _dam_spp_from_raw(raw: pd.DataFrame, src: str) -> pd.DataFrame:
    df = _canonical_native(raw)
    _require(
        df,
        ["delivery_date", "hour_ending", "settlement_point", "price_usd_per_mwh"],
        src,
        "ERCOT DAM SPP (NP4-180-ER / NP4-190-CD)",
    )
    day = _parse_dates(df["delivery_date"], src)
    he = _parse_int(df["hour_ending"], src, "Hour Ending", 1, 24)
    local = day + pd.to_timedelta(he - 1, unit="h")
    labels = df["delivery_date"].astype(str) + " HE " + df["hour_ending"].astype(str)
    utc = _local_to_utc(local, df.get("repeated_hour_flag"), src, labels)
    points = df["settlement_point"].astype(str).str.strip().str.upper().to_numpy()
    price = _numeric(df["price_usd_per_mwh"], src, "Settlement Point Price")
    return _finish_long(utc, points, price, "settlement_point", "price_usd_per_mwh", src, 60)


def parse_dam_spp_native(path_or_buffer: str | Path | IO[Any]) -> pd.DataFrame:
    """Parse ERCOT DAM settlement point prices (NP4-180-ER annual / NP4-190-CD daily layout).

    Columns ``Delivery Date`` (MM/DD/YYYY), ``Hour Ending`` (``HH:00``, 1-24), ``Repeated Hour
    Flag`` (or ``DSTFlag``), ``Settlement Point``, ``Settlement Point Price`` ($/MWh).

    Returns a long DataFrame indexed by ``interval_start_utc`` (tz-aware UTC, hourly) with columns
    ``settlement_point`` and ``price_usd_per_mwh``, sorted by (time, point); each (time, point)
    occurs once.
    """
    src = _source_name(path_or_buffer)
    return _dam_spp_from_raw(_read_raw_csv(path_or_buffer), src)


def _rtm_spp_from_raw(raw: pd.DataFrame, src: str) -> pd.DataFrame:
    df = _canonical_native(raw)
    _require(
        df,
        [
            "delivery_date",
            "delivery_hour",
            "delivery_interval",
            "settlement_point",
            "price_usd_per_mwh",
        ],
        src,
        "ERCOT RTM SPP (NP6-785-ER / NP6-905-CD)",
    )
    day = _parse_dates(df["delivery_date"], src)
    hour = _parse_int(df["delivery_hour"], src, "Delivery Hour", 1, 24)
    interval = _parse_int(df["delivery_interval"], src, "Delivery Interval", 1, 4)
    local = (
        day + pd.to_timedelta(hour - 1, unit="h") + pd.to_timedelta((interval - 1) * 15, unit="min")
    )
    labels = (
        df["delivery_date"].astype(str)
        + " hour "
        + df["delivery_hour"].astype(str)
        + " interval "
        + df["delivery_interval"].astype(str)
    )
    utc = _local_to_utc(local, df.get("repeated_hour_flag"), src, labels)
    points = df["settlement_point"].astype(str).str.strip().str.upper().to_numpy()
    price = _numeric(df["price_usd_per_mwh"], src, "Settlement Point Price")
    return _finish_long(utc, points, price, "settlement_point", "price_usd_per_mwh", src, 15)


def parse_rtm_spp_native(path_or_buffer: str | Path | IO[Any]) -> pd.DataFrame:
    """Parse ERCOT RTM settlement point prices (NP6-785-ER annual / NP6-905-CD layout).

    Columns ``Delivery Date``, ``Delivery Hour`` (1-24), ``Delivery Interval`` (1-4), ``Repeated
    Hour Flag`` (or ``DSTFlag``), ``Settlement Point Name``, ``Settlement Point Type``,
    ``Settlement Point Price`` ($/MWh). Interval start = date + (hour-1) h + (interval-1)*15 min
    local.

    Returns a long DataFrame indexed by ``interval_start_utc`` (15-min) with columns
    ``settlement_point`` and ``price_usd_per_mwh``.
    """
    src = _source_name(path_or_buffer)
    return _rtm_spp_from_raw(_read_raw_csv(path_or_buffer), src)


def _as_mcpc_from_raw(raw: pd.DataFrame, src: str) -> pd.DataFrame:
    df = _canonical_native(raw)
    _require(df, ["delivery_date", "hour_ending"], src, "ERCOT AS MCPC (NP4-181-ER/NP4-188-CD)")
    if "service" in df.columns and "mcpc_usd_per_mw" in df.columns:  # NP4-188-CD long layout
        service = df["service"].astype(str).map(lambda s: _canonical_service(s) or s.strip())
        mcpc = _numeric(df["mcpc_usd_per_mw"], src, "MCPC")
        day = _parse_dates(df["delivery_date"], src)
        he = _parse_int(df["hour_ending"], src, "Hour Ending", 1, 24)
        labels = df["delivery_date"].astype(str) + " HE " + df["hour_ending"].astype(str)
        local = day + pd.to_timedelta(he - 1, unit="h")
        utc = _local_to_utc(local, df.get("repeated_hour_flag"), src, labels)
        long = _finish_long(
            utc, service.to_numpy(), mcpc, "service", "mcpc_usd_per_mw", src, interval_minutes=60
        )
        return _long_as_to_wide(long, src)
    service_cols = {c: _canonical_service(c) for c in df.columns}
    service_cols = {c: s for c, s in service_cols.items() if s is not None}
    if not service_cols:
        raise MarketDataError(
            f"{src}: no ancillary-service columns found (expected some of {list(AS_SERVICES)}); "
            f"the file has {_columns_text(df.columns)}."
        )
    day = _parse_dates(df["delivery_date"], src)
    he = _parse_int(df["hour_ending"], src, "Hour Ending", 1, 24)
    labels = df["delivery_date"].astype(str) + " HE " + df["hour_ending"].astype(str)
    local = day + pd.to_timedelta(he - 1, unit="h")
    utc = _local_to_utc(local, df.get("repeated_hour_flag"), src, labels)
    data = {s: _numeric(df[c], src, c) for c, s in service_cols.items()}
    return _finish_wide(utc, _order_services(data), src, 60)


def _order_services(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    known = [s for s in AS_SERVICES if s in data]
    return {s: data[s] for s in known + sorted(set(data) - set(known))}


def parse_as_mcpc_native(path_or_buffer: str | Path | IO[Any]) -> pd.DataFrame:
    """Parse ERCOT DAM AS clearing prices (NP4-181-ER annual CSV; NP4-188-CD long layout too).

    NP4-181-ER header:
    ``Delivery Date,Hour Ending,Repeated Hour Flag,REGDN,REGUP ,RRS,NSPIN[,ECRS]``
    (ERCOT writes ``REGUP`` with a trailing space; headers are stripped).

    Returns a wide DataFrame indexed by ``interval_start_utc`` (hourly), one column per service
    (REGDN, REGUP, RRS, NSPIN, ECRS as present), values in $/MW per hour.
    """
    src = _source_name(path_or_buffer)
    return _as_mcpc_from_raw(_read_raw_csv(path_or_buffer), src)


def _gridstatus_from_raw(raw: pd.DataFrame, src: str) -> pd.DataFrame:
    _require(raw, ["Interval Start"], src, "gridstatus")
    start = pd.to_datetime(
        raw["Interval Start"].astype(str).str.strip(), utc=True, format="ISO8601", errors="coerce"
    )
    if start.isna().any():
        lines = np.flatnonzero(start.isna().to_numpy()) + 2
        raise MarketDataError(
            f"{src}: 'Interval Start' must be ISO-8601 with UTC offset; bad on line(s) "
            f"{_line_list(lines)}."
        )
    times = pd.DatetimeIndex(start, name=_INDEX_NAME).as_unit(_UNIT)
    minutes = 60
    if "Interval End" in raw.columns:
        end = pd.to_datetime(
            raw["Interval End"].astype(str).str.strip(), utc=True, format="ISO8601", errors="coerce"
        )
        minutes = _uniform_minutes(pd.DatetimeIndex(end) - times, src)
    if "SPP" in raw.columns or "LMP" in raw.columns:
        price_col = "SPP" if "SPP" in raw.columns else "LMP"
        _require(raw, ["Location"], src, "gridstatus settlement point price")
        points = raw["Location"].astype(str).str.strip().str.upper().to_numpy()
        price = _numeric(raw[price_col], src, price_col)
        return _finish_long(
            times, points, price, "settlement_point", "price_usd_per_mwh", src, minutes
        )
    service_cols = {c: _canonical_service(c) for c in raw.columns}
    service_cols = {c: s for c, s in service_cols.items() if s is not None}
    if not service_cols:
        raise MarketDataError(
            f"{src}: gridstatus file has neither an 'SPP' column nor AS columns "
            f"{list(AS_SERVICES)}; the file has {_columns_text(raw.columns)}."
        )
    data = {s: _numeric(raw[c], src, c) for c, s in service_cols.items()}
    return _finish_wide(times, _order_services(data), src, minutes)


def parse_gridstatus_csv(path_or_buffer: str | Path | IO[Any]) -> pd.DataFrame:
    """Parse the gridstatus library layout (``Time, Interval Start, Interval End, ...``).

    Settlement point prices (``Location, Location Type, Market, SPP``) give a long DataFrame with
    ``settlement_point``/``price_usd_per_mwh`` ($/MWh); AS prices (``REGDN, REGUP, RRS, NSPIN,
    ECRS`` or gridstatus' long names) give a wide DataFrame in $/MW per hour (blank -> NaN). Index:
    ``interval_start_utc`` converted from the offsets in ``Interval Start``.
    """
    src = _source_name(path_or_buffer)
    return _gridstatus_from_raw(_read_raw_csv(path_or_buffer), src)


def _tidy_spp_from_frame(
    df: pd.DataFrame, src: str, default_settlement_point: str | None = None
) -> pd.DataFrame:
    _require(df, [_INDEX_NAME, "price_usd_per_mwh"], src, "tidy settlement point price")
    if "settlement_point" not in df.columns and default_settlement_point is None:
        raise MarketDataError(f"{src}: tidy price file needs a 'settlement_point' column.")
    times = _parse_utc(df[_INDEX_NAME], src, _INDEX_NAME)
    minutes = _interval_minutes_tidy(df, times, src)
    if "settlement_point" in df.columns:
        points = df["settlement_point"].astype(str).str.strip().str.upper().to_numpy()
    else:
        points = np.full(len(df), str(default_settlement_point).strip().upper(), dtype=object)
    values = _numeric_column(df["price_usd_per_mwh"], src, "price_usd_per_mwh")
    return _finish_long(
        times, points, values, "settlement_point", "price_usd_per_mwh", src, minutes
    )


def read_tidy_spp(
    path: str | Path | IO[Any], default_settlement_point: str | None = None
) -> pd.DataFrame:
    """Read a tidy settlement point price file (the shipped ``dam_spp_*``/``rtm_spp_*`` layout).

    Required columns: ``interval_start_utc`` (ISO-8601 UTC), ``price_usd_per_mwh`` ($/MWh) and
    ``settlement_point`` (unless ``default_settlement_point`` is given); ``interval_end_utc`` sets
    the interval length (``df.attrs["interval_minutes"]``). Returns a long DataFrame indexed by
    ``interval_start_utc`` with columns ``settlement_point``, ``price_usd_per_mwh``.
    """
    return _tidy_spp_from_frame(_read_table(path), _source_name(path), default_settlement_point)


def _long_as_to_wide(long: pd.DataFrame, src: str) -> pd.DataFrame:
    minutes = long.attrs.get("interval_minutes", 60)
    wide = long.pivot_table(
        index=long.index, columns="service", values="mcpc_usd_per_mw", aggfunc="first"
    )
    wide.columns = [str(c) for c in wide.columns]
    known = [s for s in AS_SERVICES if s in wide.columns]
    wide = wide[known + sorted(set(wide.columns) - set(known))].sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name=_INDEX_NAME).as_unit(_UNIT)
    wide.columns.name = None
    wide.attrs["interval_minutes"] = minutes
    return wide


def _tidy_as_from_frame(df: pd.DataFrame, src: str) -> pd.DataFrame:
    _require(df, [_INDEX_NAME], src, "tidy AS MCPC")
    times = _parse_utc(df[_INDEX_NAME], src, _INDEX_NAME)
    minutes = _interval_minutes_tidy(df, times, src)
    if "service" in df.columns and "mcpc_usd_per_mw" in df.columns:
        service = df["service"].astype(str).map(lambda s: _canonical_service(s) or s.strip())
        values = _numeric_column(df["mcpc_usd_per_mw"], src, "mcpc_usd_per_mw")
        long = _finish_long(
            times, service.to_numpy(), values, "service", "mcpc_usd_per_mw", src, minutes
        )
        return _long_as_to_wide(long, src)
    service_cols = {c: _canonical_service(c) for c in df.columns}
    service_cols = {c: s for c, s in service_cols.items() if s is not None}
    if not service_cols:
        raise MarketDataError(
            f"{src}: tidy AS file needs 'service' + 'mcpc_usd_per_mw' columns or one column per "
            f"service {list(AS_SERVICES)}; the file has {_columns_text(df.columns)}."
        )
    data = {s: _numeric_column(df[c], src, c) for c, s in service_cols.items()}
    return _finish_wide(times, _order_services(data), src, minutes)


def read_tidy_as_mcpc(path: str | Path | IO[Any]) -> pd.DataFrame:
    """Read a tidy AS MCPC file (shipped ``as_mcpc_hourly_*`` long layout, or wide).

    Returns a wide DataFrame indexed by ``interval_start_utc``, one column per service, $/MW per
    hour.
    """
    return _tidy_as_from_frame(_read_table(path), _source_name(path))


def _detect_layout(columns: Iterable[str]) -> str:
    cols = {_norm_header(c) for c in columns}
    if "intervalstartutc" in cols:
        return "tidy"
    if "intervalstart" in cols:
        return "gridstatus"
    if "deliveryinterval" in cols:
        return "rtm_native"
    if cols & {"settlementpointprice"}:
        return "dam_native"
    if ("deliverydate" in cols or "operday" in cols) and (
        "ancillarytype" in cols or any(_canonical_service(c) for c in columns)
    ):
        return "as_native"
    return "unknown"


def read_price_file(path: str | Path, default_settlement_point: str | None = None) -> pd.DataFrame:
    """Read a user energy price file (CSV, CSV.gz or Parquet), detecting the layout by header.

    Layouts: tidy (``interval_start_utc, ..., settlement_point, price_usd_per_mwh``), ERCOT
    native DAM (NP4-180-ER/NP4-190-CD) or RTM (NP6-785-ER/NP6-905-CD), gridstatus. Returns the
    long frame of :func:`read_tidy_spp` ($/MWh), with ``attrs["interval_minutes"]``.
    """
    src = str(path)
    df = read_table(path, "market.price_file", MarketDataError)
    layout = _detect_layout(df.columns)
    if layout == "tidy":
        return _tidy_spp_from_frame(df, src, default_settlement_point)
    if layout == "gridstatus":
        out = _gridstatus_from_raw(df.astype(str), src)
        if "settlement_point" not in out.columns:
            raise MarketDataError(f"{src}: gridstatus file holds AS prices, not energy prices.")
        return out
    if layout == "rtm_native":
        return _rtm_spp_from_raw(df.astype(str), src)
    if layout == "dam_native":
        return _dam_spp_from_raw(df.astype(str), src)
    raise MarketDataError(
        f"market.price_file {src}: unrecognised layout ({_columns_text(df.columns)}). Use the tidy "
        "layout (interval_start_utc, interval_end_utc, settlement_point, price_usd_per_mwh) or an "
        "ERCOT native DAM/RTM SPP report."
    )


def read_reserve_price_file(path: str | Path) -> pd.DataFrame:
    """Read a user AS price file (tidy long/wide, ERCOT NP4-181-ER/NP4-188-CD or gridstatus).

    Returns a wide DataFrame (one column per service, $/MW per hour) indexed by
    ``interval_start_utc`` with ``attrs["interval_minutes"]``.
    """
    src = str(path)
    df = read_table(path, "market.reserve_price_file", MarketDataError)
    layout = _detect_layout(df.columns)
    if layout == "tidy":
        return _tidy_as_from_frame(df, src)
    if layout == "gridstatus":
        out = _gridstatus_from_raw(df.astype(str), src)
        if "settlement_point" in out.columns:
            raise MarketDataError(f"{src}: gridstatus file holds energy prices, not AS prices.")
        return out
    if layout == "as_native":
        return _as_mcpc_from_raw(df.astype(str), src)
    raise MarketDataError(
        f"market.reserve_price_file {src}: unrecognised layout ({_columns_text(df.columns)}). Use "
        "the tidy layout (interval_start_utc, interval_end_utc, service, mcpc_usd_per_mw) or ERCOT "
        "NP4-181-ER."
    )
