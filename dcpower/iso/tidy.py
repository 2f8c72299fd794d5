"""Shared readers of tidy market files: CSV/Parquet reading, strict numeric and UTC timestamp
parsing (errors name the file, the column and the line, never the cell's text), and long/wide
frames indexed by ``interval_start_utc``.

A tidy file has one row per interval (and key): ``interval_start_utc`` as ISO-8601 with ``Z`` or
a UTC offset (naive local times are rejected), an optional ``interval_end_utc`` fixing the
interval length, and value columns in the units their names carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from dcpower import tables
from dcpower.iso.base import MarketDataError
from dcpower.iso.timegrid import INDEX_NAME, TIME_UNIT

__all__ = [
    "MAX_ABS_PRICE",
    "check_values",
    "columns_text",
    "finish_long",
    "finish_wide",
    "interval_minutes",
    "line_list",
    "norm_header",
    "numeric_column",
    "parse_int_field",
    "parse_numeric",
    "parse_utc",
    "read_raw_csv",
    "read_table",
    "require_columns",
    "safe_names",
    "source_name",
    "uniform_minutes",
]


def source_name(path_or_buffer: Any) -> str:
    if isinstance(path_or_buffer, str | Path):
        return str(path_or_buffer)
    return str(getattr(path_or_buffer, "name", "<buffer>"))


def norm_header(col: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(col).strip().lower())


def read_raw_csv(path_or_buffer: str | Path | IO[Any]) -> pd.DataFrame:
    """Read a CSV (optionally gzip) with every column as string and stripped headers."""
    if isinstance(path_or_buffer, str | Path):
        return tables.read_table(path_or_buffer, "market data file", MarketDataError)
    return tables.read_table_buffer(path_or_buffer, source_name(path_or_buffer), MarketDataError)


def line_list(lines: Sequence[int] | np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(x)) for x in list(lines)[:limit])
    more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
    return shown + more


#: prices outside ±this ($/MWh, $/MW per hour) are data errors (ERCOT's cap is 5 000-9 000)
MAX_ABS_PRICE = 100_000.0


def columns_text(columns: Iterable[Any]) -> str:
    """How many columns a file has, without echoing its header (which may be any text)."""
    n = len(list(columns))
    return f"{n} column(s) that are not the expected ones"


def safe_names(names: Iterable[Any], limit: int = 30) -> list[str]:
    """Names read from a data file that look like identifiers (others are not echoed)."""
    ok = [str(n) for n in names if re.fullmatch(r"[A-Za-z0-9_.\- ]{1,40}", str(n))]
    return ok[:limit]


def check_values(values: np.ndarray, src: str, column: str) -> np.ndarray:
    """Blank/NaN = missing (fill policy); ±inf and |value| > MAX_ABS_PRICE raise naming lines."""
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > MAX_ABS_PRICE)
    if bad.any():
        raise MarketDataError(
            f"{src}: column {column!r} has infinite or absurd values (|value| > "
            f"{MAX_ABS_PRICE:g}) on line(s) {line_list(np.flatnonzero(bad) + 2)}. Fix or remove "
            "these rows (leave a value blank to mark it missing)."
        )
    return values


def parse_numeric(values: pd.Series, src: str, column: str) -> np.ndarray:
    """Convert strings to float; blank -> NaN; other non-numbers raise naming the line."""
    s = values.astype(str).str.strip()
    out = pd.to_numeric(s.where(s != "", None), errors="coerce")
    bad = out.isna() & (s != "") & (s.str.lower() != "nan")
    if bad.any():
        lines = np.flatnonzero(bad.to_numpy()) + 2
        raise MarketDataError(
            f"{src}: column {column!r} has non-numeric values on line(s) {line_list(lines)}. "
            "Fix or remove these rows."
        )
    return check_values(out.to_numpy(dtype=float), src, column)


def numeric_column(col: pd.Series, src: str, column: str) -> np.ndarray:
    """A price column that may already be numeric (Parquet) or text (CSV)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        raise MarketDataError(f"{src}: column {column!r} holds true/false, not prices.")
    if pd.api.types.is_numeric_dtype(col.dtype):
        return check_values(col.to_numpy(dtype=float), src, column)
    return parse_numeric(col, src, column)


def parse_int_field(values: pd.Series, src: str, column: str, lo: int, hi: int) -> np.ndarray:
    """Parse ``"HH:00"`` or ``"H"`` into ints within [lo, hi]; raise naming the line otherwise."""
    s = values.astype(str).str.strip()
    head = pd.to_numeric(s.str.extract(r"^(\d{1,2})(?::00)?$")[0], errors="coerce")
    bad = head.isna() | (head < lo) | (head > hi)
    if bad.any():
        lines = np.flatnonzero(bad.to_numpy()) + 2
        raise MarketDataError(
            f"{src}: column {column!r} must be an integer {lo}-{hi} (or 'HH:00'); bad value "
            f"on line(s) {line_list(lines)}."
        )
    return head.to_numpy(dtype=np.int64)


def finish_long(
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
    df.index.name = INDEX_NAME
    pairs = pd.MultiIndex.from_arrays([df.index, df[key_col]])
    d = pairs.duplicated(keep=False)
    if d.any():
        lines = np.flatnonzero(d) + 2
        first = pairs[d][0]
        raise MarketDataError(
            f"{src}: duplicate interval for {key_col} {first[1]!r} at {first[0]} (UTC) on "
            f"line(s) {line_list(lines)}; check the Repeated Hour Flag of the fall-back hour."
        )
    df = df.reset_index().sort_values([INDEX_NAME, key_col], kind="stable")
    df = df.set_index(INDEX_NAME)
    df.attrs["interval_minutes"] = interval_minutes
    return df


def finish_wide(
    times: pd.DatetimeIndex, data: dict[str, np.ndarray], src: str, minutes: int
) -> pd.DataFrame:
    df = pd.DataFrame(data, index=times)
    df.index.name = INDEX_NAME
    d = df.index.duplicated(keep=False)
    if d.any():
        lines = np.flatnonzero(d) + 2
        raise MarketDataError(
            f"{src}: duplicate interval {df.index[d][0]} (UTC) on line(s) {line_list(lines)}; "
            "check the Repeated Hour Flag of the fall-back hour."
        )
    df = df.sort_index()
    df.attrs["interval_minutes"] = minutes
    return df


def require_columns(df: pd.DataFrame, cols: Iterable[str], src: str, layout: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MarketDataError(
            f"{src}: not a valid {layout} file; missing column(s) {missing} (the file has "
            f"{columns_text(df.columns)})."
        )


def uniform_minutes(durations: pd.TimedeltaIndex | pd.Series, src: str) -> int:
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


def parse_utc(values: pd.Series, src: str, column: str) -> pd.DatetimeIndex:
    """Tz-aware UTC instants from ISO-8601 text with ``Z``/offset (or tz-aware datetimes), by
    the shared reader's rule (:func:`dcpower.tables.parse_times`): a naive time (no ``Z`` or
    offset, or a Parquet column without a time zone) is refused naming the file, the column and
    the lines, since a local time is ambiguous at a DST change."""
    t = tables.parse_times(values, f"{src}: column {column!r}", MarketDataError)
    return pd.DatetimeIndex(t, name=INDEX_NAME).as_unit(TIME_UNIT)


def interval_minutes(
    df: pd.DataFrame, times: pd.DatetimeIndex, src: str, default_minutes: int | None = None
) -> int:
    """Interval length, min: from ``interval_end_utc``, else ``default_minutes``, else the most
    common spacing of the timestamps."""
    if "interval_end_utc" in df.columns:
        end = parse_utc(df["interval_end_utc"], src, "interval_end_utc")
        return uniform_minutes(end - times, src)
    if default_minutes is not None:
        return default_minutes
    uniq = times.unique().sort_values()
    if len(uniq) < 2:
        raise MarketDataError(
            f"{src}: cannot infer the interval length from one timestamp; add interval_end_utc."
        )
    return int(pd.Series(np.diff(uniq.asi8)).mode().iloc[0] // 60_000_000_000)


def read_table(path: str | Path | IO[Any]) -> pd.DataFrame:
    """A tidy CSV (optionally gzip) or Parquet file (the shared reader, :mod:`dcpower.tables`)."""
    return read_raw_csv(path)
