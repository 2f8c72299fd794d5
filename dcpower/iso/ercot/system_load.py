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

from dcpower.iso.base import MarketDataError

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[3] / "resources_data" / "ercot"


@lru_cache(maxsize=8)
def _read_year(path: Path) -> pd.Series:
    df = pd.read_csv(path, usecols=["interval_start_utc", "total_mw"])
    idx = pd.DatetimeIndex(pd.to_datetime(df["interval_start_utc"], utc=True), name="timestamp")
    s = pd.Series(df["total_mw"].to_numpy(float), index=idx, name="total_mw")
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
