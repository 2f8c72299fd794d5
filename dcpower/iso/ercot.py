"""ERCOT adapter: DAM/RTM settlement point prices and DAM ancillary-service clearing prices.

Data sources
------------
Shipped data lives in ``resources_data/ercot`` (tidy, gzip CSV; see the README there):

* ``dam_spp_hourly_*.csv.gz``  - Day-Ahead Market settlement point prices, hourly, $/MWh.
* ``rtm_spp_15min_*.csv.gz``   - Real-Time Market settlement point prices, 15-min, $/MWh.
* ``as_mcpc_hourly_*.csv.gz``  - DAM ancillary-service market clearing prices for capacity
  (MCPC), hourly, $/MW per hour.

A case may instead supply its own file (``price_file`` / ``reserve_price_file``) in the tidy layout
or in one of ERCOT's native layouts (NP4-180-ER / NP4-190-CD DAM SPP, NP6-785-ER / NP6-905-CD RTM
SPP, NP4-181-ER / NP4-188-CD AS MCPC) or the gridstatus library's layout; the layout is detected
from the header.

Time convention
---------------
ERCOT labels intervals by operating day and *hour ending* (1-24) in local prevailing time
(America/Chicago). The interval start is ``delivery_date + (hour_ending - 1) h`` (+ ``(interval - 1)
* 15 min`` for RTM). On the fall-back day the wall-clock hour 01:00-02:00 occurs twice: the row with
``Repeated Hour Flag`` (``DSTFlag``) ``N`` is the first pass (CDT, UTC-5), ``Y`` the second (CST,
UTC-6). On the spring-forward day ERCOT omits hour ending 03:00. Every parser returns data indexed
by the tz-aware UTC interval start (``interval_start_utc``); a local time that does not exist raises
:class:`MarketDataError` naming the line.

Reserve catalogue (energy-storage duration requirements)
--------------------------------------------------------
``duration_h`` is the number of hours an Energy Storage Resource must be able to sustain its
ancillary-service award. The defaults follow the ERCOT Nodal Protocols as in force with Real-Time
Co-optimization plus Batteries (RTC+B, go-live 5 Dec 2025):

* Reg-Up, Reg-Down, RRS: 0.5 h - NPRR1282 "Ancillary Service Duration under Real-Time
  Co-Optimization" (revises Protocols 8.1.1.2.1.x / 8.1.1.3.x).
* ECRS: 1 h - NPRR1282; NPRR1339 (posted May 2026, pending) corrects leftover two-hour references
  to the as-built one-hour duration. ECRS launched on 10 Jun 2023 (NPRR863) with 2 h (NPRR1096).
* Non-Spin: 4 h - NPRR1096 "Require Sustained Two-Hour Capability for ECRS and Four-Hour
  Capability for Non-Spin" (Non-Spin part implemented in ERCOT release R6, Dec 2022); NPRR1282
  did not change it.

Uncertainty: confirmed from ERCOT's NPRR1282 and NPRR1339 issue pages (TAC recommended NPRR1282 on
28 May 2025; NPRR1339 calls the one-hour ECRS duration "as-built"); the final Board/PUCT approval
record of NPRR1282 was not seen. The pre-RTC+B (NPRR1186-era) values - ECRS 2 h (NPRR1096) and,
as far as we know (unverified), Reg/RRS 1 h - are *not* the defaults. The same (current)
durations are applied to historical price years; use :func:`apply_catalogue_overrides` to model
another protocol revision.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from dcpower.iso.base import (
    MarketData,
    MarketDataError,
    MarketRequest,
    ReserveProduct,
    apply_catalogue_overrides,
)

__all__ = [
    "AS_SERVICES",
    "DEFAULT_DATA_DIR",
    "ERCOT_TZ",
    "SUPPORTED_TIMESTEPS_MINUTES",
    "ErcotAdapter",
    "apply_catalogue_overrides",
    "ercot_reserve_catalogue",
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
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "resources_data" / "ercot"
#: Model steps (minutes) the adapter resamples to.
SUPPORTED_TIMESTEPS_MINUTES: tuple[int, ...] = (5, 10, 15, 20, 30, 60)
#: Ancillary services ERCOT publishes MCPCs for (DAM), in ERCOT's column order.
AS_SERVICES: tuple[str, ...] = ("REGDN", "REGUP", "RRS", "NSPIN", "ECRS")

_INDEX_NAME = "interval_start_utc"
_UNIT = "ns"
_FILE_PATTERNS: dict[str, tuple[str, ...]] = {
    "dam": ("dam_spp_hourly_*.csv.gz", "dam_spp_hourly_*.csv", "dam_spp_hourly_*.parquet"),
    "rtm": ("rtm_spp_15min_*.csv.gz", "rtm_spp_15min_*.csv", "rtm_spp_15min_*.parquet"),
    "as": ("as_mcpc_hourly_*.csv.gz", "as_mcpc_hourly_*.csv", "as_mcpc_hourly_*.parquet"),
}
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


# --------------------------------------------------------------------------------------------
# Reserve catalogue
# --------------------------------------------------------------------------------------------

_NPRR1282 = (
    "NPRR1282 (Ancillary Service Duration under Real-Time Co-Optimization; revises Nodal "
    "Protocols 2.2, 5.5.2, 8.1.1.2.1.x, 8.1.1.3.x; in force with RTC+B, 5 Dec 2025)"
)
_SRC_REG = (
    f"{_NPRR1282}: Energy Storage Resources must sustain Regulation for 30 min. Pre-RTC+B "
    "requirements were longer (believed 1 h; not verified)."
)
_SRC_RRS = (
    f"{_NPRR1282}: Energy Storage Resources must sustain RRS for 30 min. Pre-RTC+B requirements "
    "were longer (believed 1 h; not verified)."
)
_SRC_ECRS = (
    f"{_NPRR1282}: ECRS duration 1 h; NPRR1339 (posted May 2026, pending) corrects leftover "
    "two-hour references to the as-built 1 h. At ECRS launch (10 Jun 2023, NPRR863) NPRR1096 "
    "required 2 h."
)
_SRC_NSPIN = (
    "NPRR1096 (Require Sustained Two-Hour Capability for ECRS and Four-Hour Capability for "
    "Non-Spin; approved 2022, Non-Spin part implemented in ERCOT release R6, Dec 2022; Nodal "
    "Protocols 2.1, 3.17.3): Non-Spin limited to capacity sustainable for 4 consecutive hours; "
    "not changed by NPRR1282."
)


_DEPLOY = (
    "Nodal Protocols 3.18 (Resource Limits in Providing Ancillary Service): a Generation "
    "Resource's award is limited to what its ramp rate delivers in the product's deployment "
    "time — Regulation 5 min, RRS 10 min, ECRS 10 min, Non-Spin 30 min (as this project reads "
    "3.18; verify against the current text)."
)
_DEPLOY_NSPIN = (
    f"{_DEPLOY} Nodal Protocols 2.1 (definition of Non-Spinning Reserve Service): Off-Line "
    "Generation Resources that can be synchronised and ramped to their award within 30 min may "
    "carry Non-Spin; here an offline unit counts min(unit MW, ramp × (30 min − start delay)) "
    "when that reaches its minimum stable output, else nothing."
)


def ercot_reserve_catalogue() -> dict[str, ReserveProduct]:
    """Default ERCOT reserve products (durations per current protocols; see module docstring)."""
    both = ("gen", "bess")

    def product(name, direction, duration_h, source, minutes, offline=False):
        return ReserveProduct(
            name,
            direction,
            duration_h,
            both,
            source,
            deployment_minutes=minutes,
            offline_gen_eligible=offline,
            deployment_source=_DEPLOY_NSPIN if offline else _DEPLOY,
        )

    return {
        "REGUP": product("REGUP", "up", 0.5, _SRC_REG, 5.0),
        "REGDN": product("REGDN", "down", 0.5, _SRC_REG, 5.0),
        "RRS": product("RRS", "up", 0.5, _SRC_RRS, 10.0),
        "ECRS": product("ECRS", "up", 1.0, _SRC_ECRS, 10.0),
        "NSPIN": product("NSPIN", "up", 4.0, _SRC_NSPIN, 30.0, offline=True),
    }


def _canonical_service(name: str) -> str | None:
    return _SERVICE_ALIASES.get(re.sub(r"[^A-Z]", "", name.upper()))


# --------------------------------------------------------------------------------------------
# Generic helpers
# --------------------------------------------------------------------------------------------


def _source_name(path_or_buffer: Any) -> str:
    if isinstance(path_or_buffer, str | Path):
        return str(path_or_buffer)
    return str(getattr(path_or_buffer, "name", "<buffer>"))


def _norm_header(col: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(col).strip().lower())


def _read_raw_csv(path_or_buffer: str | Path | IO[Any]) -> pd.DataFrame:
    """Read a CSV (optionally gzip) with every column as string and stripped headers."""
    src = _source_name(path_or_buffer)
    try:
        df = pd.read_csv(path_or_buffer, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise MarketDataError(f"{src}: cannot read as CSV ({exc}).") from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _line_list(lines: Sequence[int] | np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(x)) for x in list(lines)[:limit])
    more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
    return shown + more


#: prices outside ±this ($/MWh, $/MW per hour) are data errors (ERCOT's cap is 5 000-9 000)
MAX_ABS_PRICE = 100_000.0


def _columns_text(columns: Iterable[Any]) -> str:
    """How many columns a file has, without echoing its header (which may be any text)."""
    n = len(list(columns))
    return f"{n} column(s) that are not the expected ones"


def _safe_names(names: Iterable[Any], limit: int = 30) -> list[str]:
    """Names read from a data file that look like identifiers (others are not echoed)."""
    ok = [str(n) for n in names if re.fullmatch(r"[A-Za-z0-9_.\- ]{1,40}", str(n))]
    return ok[:limit]


def _check_values(values: np.ndarray, src: str, column: str) -> np.ndarray:
    """Blank/NaN = missing (fill policy); ±inf and |value| > MAX_ABS_PRICE raise naming lines."""
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > MAX_ABS_PRICE)
    if bad.any():
        raise MarketDataError(
            f"{src}: column {column!r} has infinite or absurd values (|value| > "
            f"{MAX_ABS_PRICE:g}) on line(s) {_line_list(np.flatnonzero(bad) + 2)}. Fix or remove "
            "these rows (leave a value blank to mark it missing)."
        )
    return values


def _numeric(values: pd.Series, src: str, column: str) -> np.ndarray:
    """Convert strings to float; blank -> NaN; other non-numbers raise naming the line."""
    s = values.astype(str).str.strip()
    out = pd.to_numeric(s.where(s != "", None), errors="coerce")
    bad = out.isna() & (s != "") & (s.str.lower() != "nan")
    if bad.any():
        lines = np.flatnonzero(bad.to_numpy()) + 2
        raise MarketDataError(
            f"{src}: column {column!r} has non-numeric values on line(s) {_line_list(lines)}. "
            "Fix or remove these rows."
        )
    return _check_values(out.to_numpy(dtype=float), src, column)


def _numeric_column(col: pd.Series, src: str, column: str) -> np.ndarray:
    """A price column that may already be numeric (Parquet) or text (CSV)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        raise MarketDataError(f"{src}: column {column!r} holds true/false, not prices.")
    if pd.api.types.is_numeric_dtype(col.dtype):
        return _check_values(col.to_numpy(dtype=float), src, column)
    return _numeric(col, src, column)


def _parse_int(values: pd.Series, src: str, column: str, lo: int, hi: int) -> np.ndarray:
    """Parse ``"HH:00"`` or ``"H"`` into ints within [lo, hi]; raise naming the line otherwise."""
    s = values.astype(str).str.strip()
    head = pd.to_numeric(s.str.extract(r"^(\d{1,2})(?::00)?$")[0], errors="coerce")
    bad = head.isna() | (head < lo) | (head > hi)
    if bad.any():
        lines = np.flatnonzero(bad.to_numpy()) + 2
        raise MarketDataError(
            f"{src}: column {column!r} must be an integer {lo}-{hi} (or 'HH:00'); bad value "
            f"on line(s) {_line_list(lines)}."
        )
    return head.to_numpy(dtype=np.int64)


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


def _finish_long(
    times: pd.DatetimeIndex,
    key: np.ndarray,
    values: np.ndarray,
    key_col: str,
    value_col: str,
    src: str,
    interval_minutes: int,
) -> pd.DataFrame:
    """Long frame sorted by (time, key); duplicate (time, key) pairs raise."""
    df = pd.DataFrame({key_col: key, value_col: values}, index=times)
    df.index.name = _INDEX_NAME
    pairs = pd.MultiIndex.from_arrays([df.index, df[key_col]])
    d = pairs.duplicated(keep=False)
    if d.any():
        lines = np.flatnonzero(d) + 2
        first = pairs[d][0]
        raise MarketDataError(
            f"{src}: duplicate interval for {key_col} {first[1]!r} at {first[0]} (UTC) on "
            f"line(s) {_line_list(lines)}; check the Repeated Hour Flag of the fall-back hour."
        )
    df = df.reset_index().sort_values([_INDEX_NAME, key_col], kind="stable")
    df = df.set_index(_INDEX_NAME)
    df.attrs["interval_minutes"] = interval_minutes
    return df


def _finish_wide(
    times: pd.DatetimeIndex, data: dict[str, np.ndarray], src: str, minutes: int
) -> pd.DataFrame:
    df = pd.DataFrame(data, index=times)
    df.index.name = _INDEX_NAME
    d = df.index.duplicated(keep=False)
    if d.any():
        lines = np.flatnonzero(d) + 2
        raise MarketDataError(
            f"{src}: duplicate interval {df.index[d][0]} (UTC) on line(s) {_line_list(lines)}; "
            "check the Repeated Hour Flag of the fall-back hour."
        )
    df = df.sort_index()
    df.attrs["interval_minutes"] = minutes
    return df


def _canonical_native(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [_NATIVE_COLUMNS.get(_norm_header(c), str(c).strip()) for c in df.columns]
    return out


def _require(df: pd.DataFrame, cols: Iterable[str], src: str, layout: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MarketDataError(
            f"{src}: not a valid {layout} file; missing column(s) {missing} (the file has "
            f"{_columns_text(df.columns)})."
        )


# --------------------------------------------------------------------------------------------
# Native parsers
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Tidy readers
# --------------------------------------------------------------------------------------------


def _uniform_minutes(durations: pd.TimedeltaIndex | pd.Series, src: str) -> int:
    mins = pd.Series(pd.TimedeltaIndex(durations).total_seconds() / 60.0).dropna()
    if mins.empty:
        raise MarketDataError(f"{src}: cannot determine the interval length (no valid rows).")
    values = mins.unique()
    if len(values) != 1 or values[0] <= 0 or values[0] != int(values[0]):
        raise MarketDataError(
            f"{src}: intervals must all have the same whole-minute length; found "
            f"{sorted(values.tolist())[:5]} minutes."
        )
    return int(values[0])


def _parse_utc(values: pd.Series, src: str, column: str) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        t = pd.to_datetime(values, utc=True)
    else:
        s = values.astype(str).str.strip()
        t = pd.to_datetime(s, format="%Y-%m-%dT%H:%M:%SZ", utc=True, errors="coerce")
        if t.isna().any():
            t = t.fillna(pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce"))
    if t.isna().any():
        lines = np.flatnonzero(t.isna().to_numpy()) + 2
        raise MarketDataError(
            f"{src}: column {column!r} must be ISO-8601 UTC timestamps (e.g. "
            f"2021-01-01T06:00:00Z); bad on line(s) {_line_list(lines)}."
        )
    return pd.DatetimeIndex(t, name=_INDEX_NAME).as_unit(_UNIT)


def _interval_minutes_tidy(df: pd.DataFrame, times: pd.DatetimeIndex, src: str) -> int:
    if "interval_end_utc" in df.columns:
        end = _parse_utc(df["interval_end_utc"], src, "interval_end_utc")
        return _uniform_minutes(end - times, src)
    if "delivery_interval" in df.columns:
        return 15
    uniq = times.unique().sort_values()
    if len(uniq) < 2:
        raise MarketDataError(
            f"{src}: cannot infer the interval length from one timestamp; add interval_end_utc."
        )
    return int(pd.Series(np.diff(uniq.asi8)).mode().iloc[0] // 60_000_000_000)


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


def _read_table(path: str | Path | IO[Any]) -> pd.DataFrame:
    src = _source_name(path)
    if isinstance(path, str | Path) and str(path).lower().endswith((".parquet", ".pq")):
        try:
            df = pd.read_parquet(path)
        except (OSError, ValueError, ImportError) as exc:
            raise MarketDataError(f"{src}: cannot read as Parquet ({exc}).") from exc
        df.columns = [str(c).strip() for c in df.columns]
        return df
    return _read_raw_csv(path)


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
    if not Path(path).is_file():
        raise MarketDataError(f"market.price_file: file {src} does not exist.")
    df = _read_table(path)
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
    if not Path(path).is_file():
        raise MarketDataError(f"market.reserve_price_file: file {src} does not exist.")
    df = _read_table(path)
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


# --------------------------------------------------------------------------------------------
# Shipped-file index (cached per process, keyed on path + mtime + size)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """One file's data: long (``key`` column + ``value``) on a UTC index."""

    path: Path
    frame: pd.DataFrame  # index interval_start_utc, columns key (category), value (float)
    interval_minutes: int
    coverage: dict[str, tuple[pd.Timestamp, pd.Timestamp]]  # key -> [first start, last end)


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _load_shipped_cached(path_str: str, mtime_ns: int, size: int, kind: str) -> _Table:
    path = Path(path_str)
    key_col = "service" if kind == "as" else "settlement_point"
    val_col = "mcpc_usd_per_mw" if kind == "as" else "price_usd_per_mwh"
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(
                path,
                usecols=[_INDEX_NAME, "interval_end_utc", key_col, val_col],
                dtype={key_col: "category", val_col: "float64"},
            )
    except (OSError, ValueError) as exc:
        raise MarketDataError(
            f"{path}: shipped ERCOT file cannot be read ({exc}); expected the tidy layout of "
            "resources_data/ercot/README.md."
        ) from exc
    _require(df, [_INDEX_NAME, key_col, val_col], str(path), "tidy ERCOT")
    times = _parse_utc(df[_INDEX_NAME], str(path), _INDEX_NAME)
    minutes = _interval_minutes_tidy(df, times, str(path))
    key = df[key_col].astype(str).str.strip().str.upper()
    if kind == "as":
        key = key.map(lambda s: _canonical_service(s) or s)
    values = _check_values(df[val_col].to_numpy(dtype=float), str(path), val_col)
    frame = pd.DataFrame({"key": pd.Categorical(key), "value": values}, index=times)
    pairs = pd.MultiIndex.from_arrays([frame.index, frame["key"]])
    dup = pairs.duplicated(keep=False)
    if dup.any():
        first = pairs[dup][0]
        raise MarketDataError(
            f"{path}: duplicate interval {_fmt(first[0])} for {first[1]}; the file is corrupt."
        )
    frame = frame.sort_index(kind="stable")
    step = pd.Timedelta(minutes=minutes)
    grouped = pd.Series(frame.index, index=frame.index).groupby(
        frame["key"].to_numpy(), observed=True
    )
    first_t, last_t = grouped.min(), grouped.max()
    coverage = {str(k): (first_t[k], last_t[k] + step) for k in first_t.index}
    return _Table(path, frame, minutes, coverage)


def _load_shipped(path: Path, kind: str) -> _Table:
    return _load_shipped_cached(*_file_key(path), kind)


@functools.lru_cache(maxsize=256)
def _sha256_cached(path_str: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path_str, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return _sha256_cached(*_file_key(path))


def _shipped_files(data_dir: Path, kind: str) -> list[Path]:
    files: set[Path] = set()
    for pattern in _FILE_PATTERNS[kind]:
        files.update(data_dir.glob(pattern))
    return sorted(files)


def _file_year(path: Path) -> int | None:
    m = re.search(r"_((?:19|20)\d{2})(?=[_.])", path.name)
    return int(m.group(1)) if m else None


def _candidate_files(files: list[Path], start: pd.Timestamp, end: pd.Timestamp) -> list[Path]:
    """Files whose name year can overlap [start, end) (files without a year always qualify)."""
    years = set(range((start - pd.Timedelta(days=1)).year, (end + pd.Timedelta(days=1)).year + 1))
    return [p for p in files if (_file_year(p) is None or _file_year(p) in years)]


def _fmt(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%MZ")


def _merge_ranges(
    ranges: Iterable[tuple[pd.Timestamp, pd.Timestamp]],
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    merged: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _ranges_text(ranges: list[tuple[pd.Timestamp, pd.Timestamp]]) -> str:
    return ", ".join(f"[{_fmt(a)}, {_fmt(b)})" for a, b in ranges) or "none"


# --------------------------------------------------------------------------------------------
# Resampling and gap handling
# --------------------------------------------------------------------------------------------


def _to_model_grid(
    src: pd.Series, src_minutes: int, start: pd.Timestamp, end: pd.Timestamp, step_minutes: int
) -> pd.Series:
    """Put ``src`` (interval-start indexed, ``src_minutes`` long) on the model grid [start, end).

    Coarser source -> finer step: each step holds its interval's value. Finer source -> coarser
    step: time-weighted mean of the source intervals in the step; NaN if any is missing.
    """
    g = math.gcd(src_minutes, step_minutes)
    fine = pd.date_range(start, end, freq=f"{g}min", inclusive="left", unit=_UNIT)
    keys = fine.floor(f"{src_minutes}min")
    vals = src.reindex(keys).to_numpy(dtype=float)
    k = step_minutes // g
    blocks = vals.reshape(-1, k)
    out = blocks.mean(axis=1) if k > 1 else blocks[:, 0]
    idx = pd.date_range(start, end, freq=f"{step_minutes}min", inclusive="left", unit=_UNIT)
    return pd.Series(out, index=idx.rename(_INDEX_NAME))


def _nan_runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[i, j) index ranges of consecutive NaN."""
    isnan = np.isnan(values)
    if not isnan.any():
        return []
    d = np.diff(np.concatenate([[0], isnan.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


@dataclass
class _SeriesSpec:
    label: str  # e.g. "energy price HB_NORTH (dam)" or "reserve price REGUP"
    series_key: str  # provenance key: "energy" or product name
    files: list[str]


def _fill_and_check(
    window: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    request: MarketRequest,
    spec: _SeriesSpec,
    filled: list[dict[str, Any]],
) -> pd.Series:
    """Fill short gaps per the request's fill policy and return the [start, end) slice.

    ``window`` extends past the horizon so fills can use real neighbours; gaps longer than
    ``max_fill_steps`` (or any gap when the policy is "error") raise MarketDataError.
    """
    values = window.to_numpy(dtype=float).copy()
    idx = window.index
    in_h = (idx >= start) & (idx < end)
    policy = request.fill_policy
    step = request.timestep_minutes
    unfillable: list[tuple[int, int]] = []
    for i, j in _nan_runs(values):
        if not in_h[i:j].any():
            continue
        n = j - i
        has_left = i > 0
        has_right = j < len(values)
        ok = (
            policy in ("ffill", "interpolate")
            and n <= request.max_fill_steps
            and has_left
            and (has_right or policy == "ffill")
        )
        if not ok:
            unfillable.append((i, j))
            continue
        if policy == "ffill":
            values[i:j] = values[i - 1]
        else:
            x0, x1 = i - 1, j
            frac = (np.arange(i, j) - x0) / (x1 - x0)
            values[i:j] = values[x0] + frac * (values[x1] - values[x0])
        for t in idx[i:j]:
            if start <= t < end:
                filled.append(
                    {"series": spec.series_key, "interval_start_utc": _fmt(t), "method": policy}
                )
    if unfillable:
        missing = [t for i, j in unfillable for t in idx[i:j] if start <= t < end]
        shown = ", ".join(_fmt(t) for t in missing[:5])
        more = f" ... ({len(missing)} missing in total)" if len(missing) > 5 else ""
        files = ", ".join(spec.files) or "<none>"
        if policy == "error":
            fix = (
                "Choose a horizon the data covers, or set market.fill_policy to 'ffill' or "
                "'interpolate' (fills gaps of at most "
                f"market.max_fill_steps={request.max_fill_steps} steps)."
            )
        else:
            fix = (
                f"These gaps are longer than market.max_fill_steps={request.max_fill_steps} steps "
                "or lie at the edge of the data; choose a covered horizon, raise "
                "market.max_fill_steps, or supply a complete price file."
            )
        raise MarketDataError(
            f"{spec.label}: {len(missing)} missing {step}-min interval(s) in "
            f"[{_fmt(start)}, {_fmt(end)}): {shown}{more}. File(s): {files}. {fix}"
        )
    return pd.Series(values, index=idx)[in_h]


# --------------------------------------------------------------------------------------------
# Adapter
# --------------------------------------------------------------------------------------------


def _validate_request(request: MarketRequest) -> tuple[pd.Timestamp, pd.Timestamp]:
    if request.energy_market not in ("dam", "rtm"):
        raise MarketDataError(
            f"market.energy_market: {request.energy_market!r} is not supported by ERCOT; use "
            "'dam' (hourly Day-Ahead SPP) or 'rtm' (15-min Real-Time SPP)."
        )
    if request.timestep_minutes not in SUPPORTED_TIMESTEPS_MINUTES:
        raise MarketDataError(
            f"timestep_minutes: {request.timestep_minutes} is not supported; use one of "
            f"{list(SUPPORTED_TIMESTEPS_MINUTES)} minutes."
        )
    if request.fill_policy not in ("error", "ffill", "interpolate"):
        raise MarketDataError(
            f"market.fill_policy: {request.fill_policy!r} is not one of 'error', 'ffill', "
            "'interpolate'."
        )
    if request.max_fill_steps < 0:
        raise MarketDataError(f"market.max_fill_steps: must be >= 0, got {request.max_fill_steps}.")
    stamps = []
    for field_name in ("start_utc", "end_utc"):
        ts = pd.Timestamp(getattr(request, field_name))
        if ts.tzinfo is None:
            raise MarketDataError(
                f"{field_name}: {ts} is tz-naive; give a tz-aware timestamp (e.g. "
                "'2023-07-10T05:00Z')."
            )
        ts = ts.tz_convert("UTC").as_unit(_UNIT)
        if ts != ts.floor(f"{request.timestep_minutes}min"):
            raise MarketDataError(
                f"{field_name}: {_fmt(ts)} is not aligned to the {request.timestep_minutes}-min "
                "model step; choose a horizon starting/ending on a step boundary."
            )
        stamps.append(ts)
    start, end = stamps
    if end <= start:
        raise MarketDataError(f"end_utc ({_fmt(end)}) must be after start_utc ({_fmt(start)}).")
    return start, end


def _product_names(requested: Sequence[str], catalogue: Mapping[str, ReserveProduct]) -> list[str]:
    names: list[str] = []
    for raw in requested:
        name = _canonical_service(str(raw))
        if name is None or name not in catalogue:
            raise MarketDataError(
                f"market.reserve_products: unknown product {raw!r}; ERCOT catalogue products: "
                f"{sorted(catalogue)}."
            )
        if name not in names:
            names.append(name)
    return names


class ErcotAdapter:
    """ERCOT market adapter (energy $/MWh, reserves $/MW per hour, UTC index).

    Shipped data: ``resources_data/ercot`` (or ``MarketRequest.data_dir``).
    """

    name = "ercot"

    def __init__(self, catalogue_overrides: Mapping[str, Mapping[str, Any]] | None = None):
        self._catalogue = apply_catalogue_overrides(ercot_reserve_catalogue(), catalogue_overrides)

    # -- protocol ---------------------------------------------------------------------------

    def settlement_points(self, data_dir: Path | None = None) -> list[str]:
        """Settlement points with shipped DAM or RTM prices."""
        d = self._data_dir(data_dir)
        points: set[str] = set()
        for kind in ("dam", "rtm"):
            for p in _shipped_files(d, kind):
                points.update(_load_shipped(p, kind).coverage)
        return sorted(points)

    def reserve_catalogue(self) -> dict[str, ReserveProduct]:
        """Default ERCOT reserve products (REGUP, REGDN, RRS, ECRS, NSPIN), each citing a source."""
        return dict(self._catalogue)

    def load_market_data(self, request: MarketRequest) -> MarketData:
        """Energy ($/MWh) and reserve ($/MW per hour) prices on the model's UTC grid."""
        start, end = _validate_request(request)
        point = request.settlement_point.strip().upper()
        names = _product_names(request.reserve_products, self._catalogue)
        step = request.timestep_minutes
        pad = pd.Timedelta(minutes=step * (request.max_fill_steps + 1))
        wstart, wend = start - pad, end + pad
        files_used: list[dict[str, str]] = []
        filled: list[dict[str, Any]] = []

        energy_src, energy_minutes, energy_files = self._energy_source(
            request, point, start, end, wstart, wend
        )
        for f in energy_files:
            files_used.append({"role": "energy", "path": str(f), "sha256": _sha256(f)})
        label = f"energy price {point} ({request.energy_market.upper()})"
        window = _to_model_grid(energy_src, energy_minutes, wstart, wend, step)
        energy = _fill_and_check(
            window,
            start,
            end,
            request,
            _SeriesSpec(label, "energy", [f.name for f in energy_files]),
            filled,
        )
        energy.name = "energy_price_usd_per_mwh"
        energy.index.name = _INDEX_NAME

        reserve = pd.DataFrame(index=energy.index)
        reserve_minutes: int | None = None
        if names:
            as_wide, reserve_minutes, as_files = self._reserve_source(
                request, names, start, end, wstart, wend
            )
            for f in as_files:
                files_used.append({"role": "reserve", "path": str(f), "sha256": _sha256(f)})
            cols = {}
            for name in names:
                w = _to_model_grid(as_wide[name], reserve_minutes, wstart, wend, step)
                cols[name] = _fill_and_check(
                    w,
                    start,
                    end,
                    request,
                    _SeriesSpec(f"reserve price {name}", name, [f.name for f in as_files]),
                    filled,
                )
            reserve = pd.DataFrame(cols, index=energy.index)
        reserve.index.name = _INDEX_NAME

        provenance: dict[str, Any] = {
            "iso": self.name,
            "settlement_point": point,
            "energy_market": request.energy_market,
            "start_utc": _fmt(start),
            "end_utc": _fmt(end),
            "timestep_minutes": step,
            "source_interval_minutes": {"energy": energy_minutes, "reserve": reserve_minutes},
            "reserve_products": names,
            "files": files_used,
            "fill_policy": request.fill_policy,
            "max_fill_steps": request.max_fill_steps,
            "filled_intervals": filled,
        }
        return MarketData(
            energy_price_usd_per_mwh=energy,
            reserve_price_usd_per_mw_h=reserve,
            reserve_products={n: self._catalogue[n] for n in names},
            provenance=provenance,
        )

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _data_dir(data_dir: Path | None) -> Path:
        d = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
        if not d.is_dir():
            raise MarketDataError(
                f"market.data_dir: {d} does not exist; point it at resources_data/ercot."
            )
        return d

    def _energy_source(
        self,
        request: MarketRequest,
        point: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        wstart: pd.Timestamp,
        wend: pd.Timestamp,
    ) -> tuple[pd.Series, int, list[Path]]:
        """Native-resolution price series for ``point`` over the padded window, and its files."""
        market = request.energy_market
        horizon = f"[{_fmt(start)}, {_fmt(end)})"
        if request.price_file is not None:
            path = Path(request.price_file)
            long = read_price_file(path, default_settlement_point=point)
            minutes = int(long.attrs["interval_minutes"])
            available = sorted(long["settlement_point"].unique())
            if point not in available:
                raise MarketDataError(
                    f"market.settlement_point: {point!r} not in market.price_file {path}; points "
                    f"in that file: {_safe_names(available)}."
                )
            s = long.loc[long["settlement_point"] == point, "price_usd_per_mwh"]
            step = pd.Timedelta(minutes=minutes)
            cover = [(s.index.min(), s.index.max() + step)]
            if not (cover[0][0] <= start and end <= cover[0][1]):
                raise MarketDataError(
                    f"market.price_file {path}: requested horizon {horizon} for {point} is outside "
                    f"the file's data {_ranges_text(cover)}. Choose a covered horizon."
                )
            return self._window(s, wstart, wend, minutes, str(path)), minutes, [path]

        data_dir = self._data_dir(request.data_dir)
        files = _shipped_files(data_dir, market)
        if not files:
            raise MarketDataError(
                f"market.energy_market: no shipped ERCOT {market.upper()} files in {data_dir}."
            )
        tables = [_load_shipped(p, market) for p in _candidate_files(files, start, end)]
        ranges = [t.coverage[point] for t in tables if point in t.coverage]
        merged = _merge_ranges(ranges)
        if not any(a <= start and end <= b for a, b in merged):
            all_tables = [_load_shipped(p, market) for p in files]
            known = sorted({k for t in all_tables for k in t.coverage})
            if point not in known:
                others = sorted(set(self.settlement_points(data_dir)) - set(known))
                hint = (
                    f" ({point} has shipped data only for the other energy market)"
                    if point in others
                    else ""
                )
                raise MarketDataError(
                    f"market.settlement_point: unknown ERCOT settlement point {point!r} for "
                    f"{market.upper()}{hint}; shipped {market.upper()} points: {known}."
                )
            cover = _merge_ranges(t.coverage[point] for t in all_tables if point in t.coverage)
            raise MarketDataError(
                f"market horizon: requested {horizon} for {point} ({market.upper()}) is outside "
                f"the shipped ERCOT data; {point} is covered for {_ranges_text(cover)} (UTC). "
                "Choose a horizon inside one of these ranges or give market.price_file."
            )
        used = [
            t for t in tables if point in t.coverage and _overlaps(t.coverage[point], wstart, wend)
        ]
        minutes_set = {t.interval_minutes for t in used}
        if len(minutes_set) != 1:
            raise MarketDataError(
                f"{[t.path.name for t in used]}: mixed interval lengths {sorted(minutes_set)} min."
            )
        minutes = minutes_set.pop()
        parts = []
        for t in used:
            f = t.frame
            sel = f[(f["key"] == point) & (f.index >= wstart) & (f.index < wend)]["value"]
            parts.append(sel)
        s = self._combine(parts, [t.path.name for t in used])
        return self._window(s, wstart, wend, minutes, ""), minutes, [t.path for t in used]

    def _reserve_source(
        self,
        request: MarketRequest,
        names: list[str],
        start: pd.Timestamp,
        end: pd.Timestamp,
        wstart: pd.Timestamp,
        wend: pd.Timestamp,
    ) -> tuple[pd.DataFrame, int, list[Path]]:
        """Wide native-resolution AS prices for ``names`` over the padded window, and files."""
        horizon = f"[{_fmt(start)}, {_fmt(end)})"
        years = sorted(
            {
                start.tz_convert(ERCOT_TZ).year,
                (end - pd.Timedelta(seconds=1)).tz_convert(ERCOT_TZ).year,
            }
        )
        year_txt = "/".join(str(y) for y in years)
        fix = (
            "List only products with prices for the horizon in market.reserve_products, set "
            "market.reserve_products to [] explicitly to offer no reserves, or give "
            "market.reserve_price_file. Reserve prices are never assumed to be zero."
        )
        if request.reserve_price_file is not None:
            path = Path(request.reserve_price_file)
            wide = read_reserve_price_file(path)
            minutes = int(wide.attrs["interval_minutes"])
            step = pd.Timedelta(minutes=minutes)
            for name in names:
                col = wide[name].dropna() if name in wide.columns else pd.Series(dtype=float)
                if col.empty:
                    raise MarketDataError(
                        f"market.reserve_products: {name} has no prices in "
                        f"market.reserve_price_file {path} (services there: "
                        f"{_safe_names(wide.columns)}). {fix}"
                    )
                cover = (col.index.min(), col.index.max() + step)
                if not (cover[0] <= start and end <= cover[1]):
                    raise MarketDataError(
                        f"market.reserve_price_file {path}: {name} prices cover "
                        f"{_ranges_text([cover])}, not the requested horizon {horizon}. {fix}"
                    )
            win = wide[(wide.index >= wstart) & (wide.index < wend)]
            return win.reindex(columns=names), minutes, [path]

        data_dir = self._data_dir(request.data_dir)
        files = _shipped_files(data_dir, "as")
        all_tables = [_load_shipped(p, "as") for p in files]
        used: dict[Path, _Table] = {}
        for name in names:
            ranges = [t.coverage[name] for t in all_tables if name in t.coverage]
            merged = _merge_ranges(ranges)
            if not any(a <= start and end <= b for a, b in merged):
                overlap = any(_overlaps(r, start, end) for r in merged)
                what = (
                    "prices only for part of the horizon"
                    if overlap
                    else f"no AS prices for {year_txt}"
                )
                summary = (
                    "; ".join(f"{t.path.name}: {sorted(t.coverage)}" for t in all_tables) or "none"
                )
                raise MarketDataError(
                    f"market.reserve_products: {name} has {what} (requested {horizon}); shipped "
                    f"ERCOT AS prices cover {name} for {_ranges_text(merged)} (UTC). Shipped AS "
                    f"files: {summary}. {fix}"
                )
            for t in all_tables:
                if name in t.coverage and _overlaps(t.coverage[name], wstart, wend):
                    used[t.path] = t
        tables = list(used.values())
        minutes_set = {t.interval_minutes for t in tables}
        if len(minutes_set) != 1:
            raise MarketDataError(
                f"{[t.path.name for t in tables]}: mixed interval lengths {sorted(minutes_set)}."
            )
        minutes = minutes_set.pop()
        cols = {}
        for name in names:
            parts = []
            for t in tables:
                f = t.frame
                sel = f[(f["key"] == name) & (f.index >= wstart) & (f.index < wend)]["value"]
                parts.append(sel)
            cols[name] = self._combine(parts, [t.path.name for t in tables])
        wide = pd.DataFrame(cols)
        return wide, minutes, [t.path for t in tables]

    @staticmethod
    def _combine(parts: list[pd.Series], names: list[str]) -> pd.Series:
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.Series(dtype=float)
        s = pd.concat(parts) if len(parts) > 1 else parts[0]
        if s.index.has_duplicates:
            dup = s[s.index.duplicated(keep=False)]
            conflict = dup.groupby(level=0).nunique() > 1
            if conflict.any():
                t = conflict[conflict].index[0]
                raise MarketDataError(
                    f"files {names} give different prices for the same interval {_fmt(t)}; "
                    "remove the overlapping file."
                )
            s = s[~s.index.duplicated(keep="first")]
        return s.sort_index()

    @staticmethod
    def _window(
        s: pd.Series, wstart: pd.Timestamp, wend: pd.Timestamp, minutes: int, src: str
    ) -> pd.Series:
        s = s[(s.index >= wstart) & (s.index < wend)]
        misaligned = s.index != s.index.floor(f"{minutes}min")
        if misaligned.any():
            raise MarketDataError(
                f"{src}: interval starts must be aligned to {minutes} min (e.g. "
                f"{_fmt(s.index[misaligned][0])} is not)."
            )
        return s


def _overlaps(rng: tuple[pd.Timestamp, pd.Timestamp], a: pd.Timestamp, b: pd.Timestamp) -> bool:
    return rng[0] < b and a < rng[1]
