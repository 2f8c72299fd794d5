"""Shared time-grid code of the market adapters: UTC formatting, coverage ranges, resampling to
the model step and the fill/coverage check of missing intervals.

Every adapter produces series indexed by the tz-aware UTC interval start (``interval_start_utc``)
at the data's native interval length; :func:`to_model_grid` puts them on the model's grid and
:func:`fill_and_check` fills short gaps per the case's fill policy (or names the missing intervals).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dcpower.iso.base import MarketDataError, MarketRequest

__all__ = [
    "INDEX_NAME",
    "SUPPORTED_TIMESTEPS_MINUTES",
    "TIME_UNIT",
    "SeriesSpec",
    "covers",
    "fill_and_check",
    "fmt_utc",
    "merge_ranges",
    "nan_runs",
    "overlaps",
    "ranges_text",
    "to_model_grid",
    "validate_request",
]

#: Name of the UTC interval-start index of every series an adapter returns.
INDEX_NAME = "interval_start_utc"
TIME_UNIT = "ns"
#: Model steps (minutes) the adapters resample to.
SUPPORTED_TIMESTEPS_MINUTES: tuple[int, ...] = (5, 10, 15, 20, 30, 60)


def fmt_utc(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%MZ")


def merge_ranges(
    ranges: Iterable[tuple[pd.Timestamp, pd.Timestamp]],
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    merged: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def ranges_text(ranges: list[tuple[pd.Timestamp, pd.Timestamp]]) -> str:
    return ", ".join(f"[{fmt_utc(a)}, {fmt_utc(b)})" for a, b in ranges) or "none"


def overlaps(rng: tuple[pd.Timestamp, pd.Timestamp], a: pd.Timestamp, b: pd.Timestamp) -> bool:
    return rng[0] < b and a < rng[1]


def to_model_grid(
    src: pd.Series, src_minutes: int, start: pd.Timestamp, end: pd.Timestamp, step_minutes: int
) -> pd.Series:
    """Put ``src`` (interval-start indexed, ``src_minutes`` long) on the model grid [start, end).

    Coarser source -> finer step: each step holds its interval's value. Finer source -> coarser
    step: time-weighted mean of the source intervals in the step; NaN if any is missing.
    """
    g = math.gcd(src_minutes, step_minutes)
    fine = pd.date_range(start, end, freq=f"{g}min", inclusive="left", unit=TIME_UNIT)
    keys = fine.floor(f"{src_minutes}min")
    vals = src.reindex(keys).to_numpy(dtype=float)
    k = step_minutes // g
    blocks = vals.reshape(-1, k)
    out = blocks.mean(axis=1) if k > 1 else blocks[:, 0]
    idx = pd.date_range(start, end, freq=f"{step_minutes}min", inclusive="left", unit=TIME_UNIT)
    return pd.Series(out, index=idx.rename(INDEX_NAME))


def nan_runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[i, j) index ranges of consecutive NaN."""
    isnan = np.isnan(values)
    if not isnan.any():
        return []
    d = np.diff(np.concatenate([[0], isnan.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


@dataclass
class SeriesSpec:
    label: str  # e.g. "energy price HB_NORTH (dam)" or "reserve price REGUP"
    series_key: str  # provenance key: "energy" or product name
    files: list[str]


def fill_and_check(
    window: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    request: MarketRequest,
    spec: SeriesSpec,
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
    for i, j in nan_runs(values):
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
                    {"series": spec.series_key, "interval_start_utc": fmt_utc(t), "method": policy}
                )
    if unfillable:
        missing = [t for i, j in unfillable for t in idx[i:j] if start <= t < end]
        shown = ", ".join(fmt_utc(t) for t in missing[:5])
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
            f"[{fmt_utc(start)}, {fmt_utc(end)}): {shown}{more}. File(s): {files}. {fix}"
        )
    return pd.Series(values, index=idx)[in_h]


def covers(
    ranges: Iterable[tuple[pd.Timestamp, pd.Timestamp]], start: pd.Timestamp, end: pd.Timestamp
) -> bool:
    """Whether one of the merged ``ranges`` contains the whole of [start, end)."""
    return any(a <= start and end <= b for a, b in merge_ranges(ranges))


def validate_request(request: MarketRequest) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Check the timestep, fill policy and horizon of ``request``; return UTC [start, end).

    Raises MarketDataError naming the field and the fix. Adapters check their own
    ``energy_market`` values first.
    """
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
        ts = ts.tz_convert("UTC").as_unit(TIME_UNIT)
        if ts != ts.floor(f"{request.timestep_minutes}min"):
            raise MarketDataError(
                f"{field_name}: {fmt_utc(ts)} is not aligned to the {request.timestep_minutes}-min "
                "model step; choose a horizon starting/ending on a step boundary."
            )
        stamps.append(ts)
    start, end = stamps
    if end <= start:
        raise MarketDataError(
            f"end_utc ({fmt_utc(end)}) must be after start_utc ({fmt_utc(start)})."
        )
    return start, end
