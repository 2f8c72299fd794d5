"""Price forecasts a causal operator can make: only prices published before a decision time.

Information set (``published_utc``): a day-ahead price (energy and AS of ``energy_market``
``dam``; AS always, ERCOT procures them day-ahead) of operating day D is published at
``DAM_PUBLISHED_LOCAL`` (13:30, ERCOT's DAM posting time) local on D − 1; a real-time energy
price (``rtm``) at the end of its interval. The same rule holds for ``market.iso`` ``generic``.

Baselines (``BASELINES``; each reads only values published before the decision time):

- ``same_hour_median_7d``: the median of the same local time of day over the last 7 days
  whose value there is published;
- ``seasonal_naive_7d``: the value at the same local time of day on the last published day of
  the same weekday (for a decision at 10:00 the day before: one week earlier); where that day
  has no such time (the DST spring-forward hour), the latest published day's value there.

Prices are $/MWh (energy) and $/MW per hour (reserves); times are UTC unless named ``_local``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from dcpower import tables
from dcpower.case import MAX_USD_PER_MWH
from dcpower.errors import InputError

#: ERCOT posts day-ahead market results (energy SPPs, AS MCPCs) by 13:30 the day before
DAM_PUBLISHED_LOCAL = time(13, 30)
#: what a decision knows, as results state it
INFORMATION_SET = (
    "prices published before the decision time: day-ahead energy and AS prices of a day at "
    "13:30 local the day before (ERCOT's DAM posting; the same rule for iso 'generic'), "
    "real-time energy prices at the end of their interval; forecasts for every other price"
)
#: days of prices before the horizon that the baselines read (7 needed; 14 leave room for
#: days whose value at a time of day is missing, e.g. the DST spring-forward hour)
HISTORY_DAYS = 14
#: the baselines' look-back, days
LOOKBACK_DAYS = 7
#: product name of the energy price in forecast files and error tables
ENERGY = "energy"


class ForecastError(InputError):
    """A forecast cannot be made or read; the message names the field or file and the fix."""


def published_utc(index: pd.DatetimeIndex, tz: str, realtime: bool) -> pd.DatetimeIndex:
    """When each step's price becomes known (UTC): the end of the step (``realtime``) or
    ``DAM_PUBLISHED_LOCAL`` on the local day before the step's operating day."""
    if realtime:
        step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)
        return index + step
    local_day = index.tz_convert(tz).normalize().tz_localize(None)
    hours = DAM_PUBLISHED_LOCAL.hour + DAM_PUBLISHED_LOCAL.minute / 60
    stamp = local_day - pd.Timedelta(days=1) + pd.Timedelta(hours=hours)
    return stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")


def decision_time_utc(day: date, clock_local: str, tz: str) -> pd.Timestamp:
    """The decision time of operating day ``day``: ``clock_local`` (HH:MM) on the day before."""
    hh, mm = (int(p) for p in clock_local.split(":"))
    local = datetime.combine(day, time(hh, mm)) - pd.Timedelta(days=1)
    return (
        pd.Timestamp(local)
        .tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        .tz_convert("UTC")
    )


@dataclass(frozen=True)
class PriceHistory:
    """One price series (history before the horizon + the horizon) laid out as local days ×
    local times of day, with each value's publication time; the baselines read it."""

    days: np.ndarray  # local dates (datetime64[D]), ascending
    minutes: np.ndarray  # local time of day of each column, minutes after midnight
    values: np.ndarray  # days × columns; NaN where the day has no such time (DST)
    published_ns: np.ndarray  # days × columns, UTC ns; max int where no value
    tz: str

    @classmethod
    def build(cls, series: pd.Series, published: pd.DatetimeIndex, tz: str) -> PriceHistory:
        """From a UTC-indexed series and its publication times (``published_utc``)."""
        local = series.index.tz_convert(tz)
        day = np.asarray(local.tz_localize(None).normalize().values, dtype="datetime64[D]")
        minute = np.asarray(local.hour * 60 + local.minute)
        days, di = np.unique(day, return_inverse=True)
        minutes, mi = np.unique(minute, return_inverse=True)
        total = np.zeros((len(days), len(minutes)))
        count = np.zeros((len(days), len(minutes)))
        np.add.at(total, (di, mi), series.to_numpy(float))
        np.add.at(count, (di, mi), 1.0)  # the repeated fall-back hour: its mean
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(count > 0, total / count, np.nan)
        never = np.iinfo(np.int64).max
        pub = np.full((len(days), len(minutes)), never, dtype=np.int64)
        pub[count > 0] = np.iinfo(np.int64).min
        np.maximum.at(pub, (di, mi), np.asarray(published.asi8, dtype=np.int64))
        return cls(days, minutes, values, pub, tz)

    def cells(self, targets: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        """(local date, column) of each target step."""
        local = targets.tz_convert(self.tz)
        day = np.asarray(local.tz_localize(None).normalize().values, dtype="datetime64[D]")
        minute = np.asarray(local.hour * 60 + local.minute)
        col = np.searchsorted(self.minutes, minute)
        bad = (col >= len(self.minutes)) | (
            self.minutes[np.minimum(col, len(self.minutes) - 1)] != minute
        )
        if bad.any():
            raise ForecastError(f"no price history at local time {minute[bad][0]} min of day")
        return day, col

    def recent(self, decision_ns: int) -> tuple[slice, np.ndarray]:
        """(rows, known): the last ``2 × LOOKBACK_DAYS + 2`` days with any value published
        before the decision time, and which of their cells are (days × columns)."""
        first_pub = self.published_ns.min(axis=1)  # rises with the day
        last = int(np.searchsorted(first_pub, decision_ns, side="left"))
        rows = slice(max(0, last - 2 * LOOKBACK_DAYS - 2), last)
        known = (self.published_ns[rows] < decision_ns) & np.isfinite(self.values[rows])
        return rows, known


def _same_hour_median(
    h: PriceHistory, rows: slice, known: np.ndarray, day: np.ndarray, col: np.ndarray
) -> np.ndarray:
    """Median over the last ``LOOKBACK_DAYS`` published values of each target's column."""
    newest_first = np.cumsum(known[::-1], axis=0)[::-1]  # rank of each known cell from the end
    use = known & (newest_first <= LOOKBACK_DAYS)
    vals = np.where(use, h.values[rows], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns with nothing known: NaN
        per_col = np.nanmedian(vals, axis=0) if len(vals) else np.full(len(h.minutes), np.nan)
    return per_col[col]


def _seasonal_naive(
    h: PriceHistory, rows: slice, known: np.ndarray, day: np.ndarray, col: np.ndarray
) -> np.ndarray:
    """The value of each target's column on the last published day of its weekday."""
    weekday = (h.days[rows].view("int64") + 3) % 7  # 1970-01-01 was a Thursday
    target_wd = (day.view("int64") + 3) % 7
    values = h.values[rows]
    out = np.full(len(day), np.nan)
    for wd in np.unique(target_wd):
        ok = known & (weekday == wd)[:, None]
        if not ok.any():
            continue
        last = len(ok) - 1 - np.argmax(ok[::-1], axis=0)  # last known row per column
        per_col = np.where(ok.any(axis=0), values[last, np.arange(values.shape[1])], np.nan)
        pick = target_wd == wd
        out[pick] = per_col[col[pick]]
    gap = np.isnan(out)  # no such weekday published there (a DST hour): the latest day's value
    if gap.any():
        ok = known.any(axis=0)
        last = len(known) - 1 - np.argmax(known[::-1], axis=0)
        latest = np.where(ok, values[last, np.arange(values.shape[1])], np.nan)
        out[gap] = latest[col[gap]]
    return out


#: baseline name → forecast of target cells from the published values
BASELINES: dict[str, Callable[..., np.ndarray]] = {
    "same_hour_median_7d": _same_hour_median,
    "seasonal_naive_7d": _seasonal_naive,
}
#: every source of ``operations.forecast`` (the case schema's list; a test checks they agree)
SOURCES = (*BASELINES, "file")


def baseline_forecast(
    method: str,
    history: PriceHistory,
    decision: pd.Timestamp,
    targets: pd.DatetimeIndex,
    cells: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Forecast of ``targets`` made at ``decision`` by a shipped baseline ($ per unit as the
    series); raises ForecastError when nothing at a target's time of day is published yet.
    ``cells``: the targets' ``history.cells`` when already known."""
    day, col = history.cells(targets) if cells is None else cells
    rows, known = history.recent(decision.value)
    out = BASELINES[method](history, rows, known, day, col)
    if np.isnan(out).any():
        first = targets[np.flatnonzero(np.isnan(out))[0]]
        raise ForecastError(
            f"operations.forecast {method!r}: no price published before the decision time "
            f"{decision:%Y-%m-%dT%H:%MZ} to forecast {first:%Y-%m-%dT%H:%MZ} from; the baselines "
            f"read {HISTORY_DAYS} days of prices before horizon.start. Fix: give a price file "
            "that starts earlier, or start the horizon later"
        )
    return out


FILE_COLUMNS = ("decision_time", "timestamp", "product", "value")


@dataclass(frozen=True)
class ForecastFile:
    """A tidy forecast file: one vintage (a forecast of every step) per decision time."""

    path: Path
    table: dict[tuple[int, str], pd.Series]  # (decision ns, product) → values on UTC steps

    @classmethod
    def read(cls, path: Path) -> ForecastFile:
        """Read and check the file with the shared table reader (``dcpower.tables``: regular
        file, CSV/gzip/Parquet, times with a UTC offset, finite values); raises ForecastError
        naming the file, column, lines and the fix."""
        field = "operations.forecast_file"
        df = tables.read_table(path, field, ForecastError)
        where = f"{field}: {path}"
        tables.require_columns(
            df, FILE_COLUMNS, where, ForecastError, f"give columns {list(FILE_COLUMNS)}"
        )
        frame = pd.DataFrame(
            {
                "decision": tables.parse_times(
                    df["decision_time"], f"{where} column decision_time", ForecastError
                ),
                "timestamp": tables.parse_times(
                    df["timestamp"], f"{where} column timestamp", ForecastError
                ),
                "product": df["product"].astype(str).str.strip().to_numpy(),
                "value": tables.parse_numbers(
                    df["value"],
                    f"{where} column value",
                    ForecastError,
                    lo=-MAX_USD_PER_MWH,
                    hi=MAX_USD_PER_MWH,
                ),
            }
        )
        if frame.duplicated(["decision", "timestamp", "product"]).any():
            raise ForecastError(
                f"{where}: a (decision_time, timestamp, product) appears twice; fix: one value "
                "per step of each vintage"
            )
        table = {
            (int(pd.Timestamp(d).value), str(p)): g.set_index("timestamp")["value"].sort_index()
            for (d, p), g in frame.groupby(["decision", "product"])
        }
        return cls(path, table)

    def forecast(
        self, product: str, decision: pd.Timestamp, targets: pd.DatetimeIndex
    ) -> np.ndarray:
        """The latest vintage issued at or before ``decision`` for ``targets`` (a decision's
        own vintage; a re-dispatch between decisions reads the last one); raises ForecastError
        naming what is missing."""
        where = f"operations.forecast_file {self.path}"
        issued = sorted(d for d, p in self.table if p == product and d <= decision.value)
        if not issued:
            raise ForecastError(
                f"{where}: no vintage issued at or before {decision:%Y-%m-%dT%H:%MZ} for product "
                f"{product!r}; fix: add a forecast (decision_time = the decision time) of every "
                "step the decision cannot know"
            )
        series = self.table[(issued[-1], product)]
        got = series.reindex(targets)
        if got.isna().any():
            first = targets[np.flatnonzero(got.isna().to_numpy())[0]]
            vintage = pd.Timestamp(issued[-1], tz="UTC")
            raise ForecastError(
                f"{where}: the vintage of {vintage:%Y-%m-%dT%H:%MZ} (read at "
                f"{decision:%Y-%m-%dT%H:%MZ}) lacks {product!r} at {first:%Y-%m-%dT%H:%MZ}; fix: "
                "forecast every step of the decision's window"
            )
        return got.to_numpy(float)


def error_stats(forecast: np.ndarray, actual: np.ndarray) -> dict[str, float | int]:
    """Mean absolute error and bias (mean of forecast − actual) of forecast steps, in the
    series' unit, with the number of steps."""
    err = np.asarray(forecast, float) - np.asarray(actual, float)
    if not len(err):
        return {"mae": 0.0, "bias": 0.0, "steps": 0}
    return {"mae": float(np.mean(np.abs(err))), "bias": float(np.mean(err)), "steps": len(err)}
