"""Data-center load profile on the model's time index, split into priority segments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dcpower.case import MAX_MW, Load
from dcpower.errors import InputError
from dcpower.tables import parse_numbers, parse_times, read_table, require_columns, to_step_means


class LoadProfileError(InputError):
    """The load profile file cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class LoadSegments:
    """Load per timestep, MW, split into critical, flexible and other (non-critical firm)."""

    total_mw: np.ndarray
    critical_mw: np.ndarray
    flexible_mw: np.ndarray
    other_mw: np.ndarray


def _read_profile(path: Path, ts_col: str, mw_col: str) -> pd.Series:
    """The profile's MW by UTC interval start, through the shared strict reader."""
    field = "load.profile_file"
    df = read_table(path, field, LoadProfileError)
    require_columns(
        df,
        [ts_col, mw_col],
        f"{field}: {path}",
        LoadProfileError,
        "set load.profile_timestamp_column / load.profile_column",
    )
    idx = parse_times(df[ts_col], f"{field}: {path} column {ts_col!r}", LoadProfileError)
    values = parse_numbers(
        df[mw_col], f"{field}: {path} column {mw_col!r}", LoadProfileError, lo=0.0, hi=MAX_MW
    )
    return pd.Series(values, index=idx)


def build_load_segments(load: Load, index: pd.DatetimeIndex) -> LoadSegments:
    """Load on ``index`` (UTC interval starts), MW; a file profile is averaged/held to the step."""
    if load.profile_mw is not None:
        total = np.full(len(index), float(load.profile_mw))
    else:
        assert load.profile_file is not None
        series = _read_profile(
            load.profile_file, load.profile_timestamp_column, load.profile_column
        )
        step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)
        total = to_step_means(
            series, index, step, f"load.profile_file: {load.profile_file}", LoadProfileError
        )
    critical = total * load.critical_fraction
    flexible = total * load.flexible_fraction
    return LoadSegments(total, critical, flexible, total - critical - flexible)
