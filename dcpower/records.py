"""JSON records (a results document's tables) back to DataFrames."""

from __future__ import annotations

from typing import Any

import pandas as pd


def records_to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Inverse of :func:`dcpower.results.frame_to_records`: a UTC DatetimeIndex from
    ``timestamp``."""
    df = pd.DataFrame.from_records(records)
    if "timestamp" in df.columns:
        df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("timestamp"), utc=True), name="timestamp")
    return df
