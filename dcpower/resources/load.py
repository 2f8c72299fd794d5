"""Data-center load profile on the model's time index, split into priority segments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dcpower.case import MAX_MW, Load
from dcpower.errors import InputError


class LoadProfileError(InputError):
    """The load profile file cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class LoadSegments:
    """Load per timestep, MW, split into critical, flexible and other (non-critical firm)."""

    total_mw: np.ndarray
    critical_mw: np.ndarray
    flexible_mw: np.ndarray
    other_mw: np.ndarray


#: a timestamp with an explicit UTC offset or Z (ISO 8601); times without one are rejected
_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)",
    re.IGNORECASE,
)


def _lines(mask: np.ndarray, limit: int = 5) -> str:
    """File line numbers (header = line 1) of the rows in ``mask``."""
    rows = np.flatnonzero(mask) + 2
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (f" (+{len(rows) - limit} more)" if len(rows) > limit else "")


def _parse_times(column: pd.Series, path: Path, ts_col: str) -> pd.DatetimeIndex:
    """UTC times of a profile column; every time must carry its UTC offset (or Z).

    A time without an offset is ambiguous (local? UTC?) and is rejected, never guessed.
    Messages name the file, column and line numbers, never the file's contents.
    """
    where = f"load.profile_file: {path} column {ts_col!r}"
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        if getattr(column.dt, "tz", None) is None:
            raise LoadProfileError(
                f"{where} holds times without a time zone; fix: store tz-aware (UTC) times"
            )
        return pd.DatetimeIndex(column.dt.tz_convert("UTC"))
    text = column.astype(str).str.strip()
    naive = ~text.str.fullmatch(_WITH_OFFSET)
    if naive.any():
        raise LoadProfileError(
            f"{where}: time(s) without a UTC offset on line(s) {_lines(naive.to_numpy())}; "
            "times are never guessed to be local or UTC; fix: write ISO 8601 times with "
            "their offset, e.g. 2023-07-10T14:00:00-05:00 or 2023-07-10T19:00:00Z"
        )
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    if parsed.isna().any():
        raise LoadProfileError(
            f"{where}: not an ISO 8601 time on line(s) {_lines(parsed.isna().to_numpy())}; "
            "fix: write e.g. 2023-07-10T19:00:00Z"
        )
    return pd.DatetimeIndex(parsed)


def _read_profile(path: Path, ts_col: str, mw_col: str) -> pd.Series:
    if not path.is_file():
        raise LoadProfileError(f"load.profile_file: {path} not found; fix: check the path")
    kind = "Parquet" if path.suffix == ".parquet" else "CSV"
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise LoadProfileError(
            f"load.profile_file: {path} is not UTF-8 text; fix: save it as UTF-8 CSV"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise LoadProfileError(
            f"load.profile_file: cannot read {path} as {kind} ({type(exc).__name__}); "
            "fix: give a CSV or Parquet file with columns "
            f"{ts_col!r} and {mw_col!r}"
        ) from None
    missing = [c for c in (ts_col, mw_col) if c not in df.columns]
    if missing:
        raise LoadProfileError(
            f"load.profile_file: {path} lacks column(s) {missing} ({len(df.columns)} column(s) "
            "found); fix: set load.profile_timestamp_column / load.profile_column"
        )
    idx = _parse_times(df[ts_col], path, ts_col)
    raw = df[mw_col]
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.astype(float)
    else:
        values = pd.to_numeric(raw.astype(str).str.strip(), errors="coerce")
    values = values.to_numpy(float)
    where = f"load.profile_file: {path} column {mw_col!r}"
    bad = ~np.isfinite(values)
    if bad.any():
        raise LoadProfileError(
            f"{where} has a missing, non-numeric or non-finite (NaN/inf) value on line(s) "
            f"{_lines(bad)}; fix: give a finite MW number on every line"
        )
    out = (values < 0) | (values > MAX_MW)
    if out.any():
        raise LoadProfileError(
            f"{where} has MW outside [0, {MAX_MW:g}] on line(s) {_lines(out)}; "
            f"fix: give the site load in MW (at most {MAX_MW:g} MW)"
        )
    return pd.Series(values, index=idx).sort_index()


def build_load_segments(load: Load, index: pd.DatetimeIndex) -> LoadSegments:
    """Load on ``index`` (UTC interval starts), MW; a file profile is averaged/held to the step."""
    if load.profile_mw is not None:
        total = np.full(len(index), float(load.profile_mw))
    else:
        assert load.profile_file is not None
        series = _read_profile(
            load.profile_file, load.profile_timestamp_column, load.profile_column
        )
        if series.index.has_duplicates:
            raise LoadProfileError(f"load.profile_file: {load.profile_file} has duplicate times")
        step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)
        src_step = series.index.to_series().diff().min() if len(series) > 1 else step
        if src_step < step:
            series = series.resample(step, origin=index[0]).mean()
        aligned = series.reindex(
            index, method="ffill", tolerance=max(src_step, step) - pd.Timedelta(1)
        )
        if aligned.isna().any():
            gaps = index[aligned.isna().to_numpy()]
            raise LoadProfileError(
                f"load.profile_file: {load.profile_file} does not cover {len(gaps)} model "
                f"interval(s), first {gaps[0].isoformat()}; fix: extend the file or the horizon"
            )
        total = aligned.to_numpy(float)
    critical = total * load.critical_fraction
    flexible = total * load.flexible_fraction
    return LoadSegments(total, critical, flexible, total - critical - flexible)
