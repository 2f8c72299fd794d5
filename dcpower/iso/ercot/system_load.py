"""ERCOT hourly system load (NP6-346-CD, ``load_hourly_<year>.csv.gz``), as shipped.

Columns of the tidy file: ``interval_start_utc, interval_end_utc, interval_start_local,
delivery_date, hour_ending, repeated_hour_flag, north_mw, south_mw, west_mw, houston_mw,
total_mw``; ``total_mw`` is the ERCOT system total, an hourly average in MW, indexed here by the
UTC start of its hour (DST days have 23 or 25 hours; no local time is parsed).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from dcpower import data_root
from dcpower.iso.base import MarketDataError
from dcpower.tables import parse_numbers, parse_times, read_table, require_columns

DEFAULT_DATA_DIR = data_root.shipped("ercot")


@lru_cache(maxsize=8)
def _read_year(path: Path) -> pd.Series:
    """One year's file through the shared reader (times with Z/offset, finite MW ≥ 0)."""
    field = "ERCOT system load file"
    df = read_table(path, field, MarketDataError)
    where = f"{field}: {path}"
    require_columns(
        df,
        ["interval_start_utc", "total_mw"],
        where,
        MarketDataError,
        "give the tidy NP6-346-CD layout (interval_start_utc, total_mw)",
    )
    idx = pd.DatetimeIndex(
        parse_times(
            df["interval_start_utc"], f"{where} column 'interval_start_utc'", MarketDataError
        ),
        name="timestamp",
    )
    mw = parse_numbers(
        df["total_mw"], f"{where} column 'total_mw'", MarketDataError, lo=0.0, hi=1e6
    )
    s = pd.Series(mw, index=idx, name="total_mw")
    if s.index.has_duplicates:
        raise MarketDataError(f"{path}: duplicate hours in the system load file")
    return s.sort_index()


def system_load_mw(years: list[int], data_dir: Path | None = None) -> pd.Series:
    """ERCOT system load (MW, hourly, UTC hour-start index) of the given calendar years.

    Raises MarketDataError naming the missing file.
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    parts = []
    for year in sorted(set(years)):
        path = folder / f"load_hourly_{year}.csv.gz"
        if not path.is_file():
            raise MarketDataError(
                f"no ERCOT hourly system load for {year} ({path.name} not in {folder}); the CP "
                "alert policy and system-load-peak intervals need it; fix: choose a year with "
                "shipped load (2021–2025) or give official CP intervals and response "
                "'perfect_foresight' or 'none'"
            )
        parts.append(_read_year(path))
    return pd.concat(parts).sort_index()
