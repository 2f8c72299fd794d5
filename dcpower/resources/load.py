"""Data-center load profile on the model's time index, split into priority segments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dcpower.case import Load


class LoadProfileError(ValueError):
    """The load profile file cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class LoadSegments:
    """Load per timestep, MW, split into critical, flexible and other (non-critical firm)."""

    total_mw: np.ndarray
    critical_mw: np.ndarray
    flexible_mw: np.ndarray
    other_mw: np.ndarray


def _read_profile(path: Path, ts_col: str, mw_col: str) -> pd.Series:
    if not path.is_file():
        raise LoadProfileError(f"load.profile_file: {path} not found; fix: check the path")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise LoadProfileError(f"load.profile_file: cannot read {path}: {exc}") from None
    missing = [c for c in (ts_col, mw_col) if c not in df.columns]
    if missing:
        raise LoadProfileError(
            f"load.profile_file: {path} lacks column(s) {missing}; it has {list(df.columns)}; "
            "fix: set load.profile_timestamp_column / load.profile_column"
        )
    try:
        idx = pd.to_datetime(df[ts_col], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise LoadProfileError(
            f"load.profile_file: {path} column {ts_col!r} is not ISO 8601 with offset: {exc}"
        ) from None
    values = pd.to_numeric(df[mw_col], errors="coerce")
    if values.isna().any() or (values < 0).any():
        bad = df.index[values.isna() | (values < 0)][:5].tolist()
        raise LoadProfileError(
            f"load.profile_file: {path} column {mw_col!r} has missing or negative MW at rows {bad}"
        )
    return pd.Series(values.to_numpy(float), index=idx).sort_index()


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
