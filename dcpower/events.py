"""Grid emergency events: intervals in which the site's net withdrawal is capped.

An event is a window ``[start, end)`` with a cap on import − export (MW; 0 = "switch to
backup"), either from the shipped ERCOT catalogue (``resources_data/ercot/events/
grid_emergencies.csv``, local Central times as ERCOT recorded them) or defined in the case.

Time rule: a model step ``[t, t + Δt)`` is an event step when it overlaps the window by any
positive length (``t < end`` and ``t + Δt > start``); the cap then holds for the whole step
(the step's average net withdrawal is what the model dispatches). Where events overlap, the
lowest cap holds.

Foresight: the cap is data of every step the model sees, so a rolling-horizon window (and its
look-ahead) that reaches the event knows it is coming and may pre-charge the battery or commit
gas units ahead: perfect foresight of the directive. ERCOT issues EEAs with little notice, so
the reported event cost is a lower bound on what an unprepared site would pay. Under
``operations.policy`` ``forecast`` the site learns of an event only ``notice_minutes`` before it
starts (default ``DEFAULT_NOTICE_MINUTES``) and re-dispatches from then
(``dcpower.optimization.operations``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dcpower import data_root
from dcpower.tables import TableError, parse_numbers, read_table, require_columns

CATALOGUE_PATH = data_root.shipped("ercot", "events", "grid_emergencies.csv")
#: the name of "no event" in the workflow's ``events`` dimension
NONE = "none"
#: notice of an event whose own ``notice_minutes`` is not given (every shipped event), minutes:
#: an assumption — ERCOT declares EEA levels as conditions develop, and a large load's
#: curtailment directive comes with minutes, not hours, of notice; 30 min is the study's figure
DEFAULT_NOTICE_MINUTES = 30.0


@dataclass(frozen=True)
class GridEventWindow:
    """One resolved event: UTC window, cap (MW) and where it comes from."""

    name: str
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    cap_mw: float
    source: str
    window: str = "user"
    #: fraction of pipeline gas delivered during the event, - (1: no curtailment)
    pipeline_gas_fraction: float = 1.0
    pipeline_gas_source: str = ""
    notice_minutes: float = DEFAULT_NOTICE_MINUTES

    @property
    def notice_utc(self) -> pd.Timestamp:
        """When the site learns of the event (``operations.policy`` ``forecast``)."""
        return self.start_utc - pd.Timedelta(minutes=self.notice_minutes)


def _utc(local: str, tz: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz))).tz_convert(
        "UTC"
    )


@lru_cache(maxsize=4)
def catalogue(path: Path = CATALOGUE_PATH) -> dict[str, GridEventWindow]:
    """The shipped events by name (times converted from local Central time to UTC)."""
    out: dict[str, GridEventWindow] = {}
    field = "events catalogue"
    table = read_table(path, field)
    where = f"{field}: {path}"
    require_columns(
        table,
        ["name", "start_local", "end_local", "timezone", "cap_mw", "window", "source_title"],
        where,
        TableError,
        "restore the shipped file",
    )
    caps = parse_numbers(table["cap_mw"], f"{where} column 'cap_mw'", lo=0.0)
    for row, cap in zip(table.to_dict("records"), caps, strict=True):
        source = (
            f"{row['source_title']} ({row['source_publisher']}, {row['source_date']}), "
            f"{row['source_url']}"
        )
        out[row["name"]] = GridEventWindow(
            row["name"],
            _utc(row["start_local"], row["timezone"]),
            _utc(row["end_local"], row["timezone"]),
            float(cap),
            source,
            row["window"],
        )
    return out


def shipped_names() -> list[str]:
    """Names of the shipped catalogue's events."""
    return sorted(catalogue())


def resolve(entries: list[Any]) -> list[GridEventWindow]:
    """The case's ``events`` entries (catalogue names or :class:`dcpower.case.GridEvent`) as
    windows; names are validated by the case schema."""
    shipped = catalogue()
    out = []
    for e in entries:
        if isinstance(e, str):
            out.append(shipped[e])
        else:
            out.append(
                GridEventWindow(
                    e.name,
                    pd.Timestamp(e.start).tz_convert("UTC"),
                    pd.Timestamp(e.end).tz_convert("UTC"),
                    float(e.cap_mw),
                    e.source,
                    pipeline_gas_fraction=float(e.pipeline_gas_fraction),
                    pipeline_gas_source=e.pipeline_gas_source or "",
                    notice_minutes=(
                        DEFAULT_NOTICE_MINUTES if e.notice_minutes is None else e.notice_minutes
                    ),
                )
            )
    return out


def gas_available_fraction(
    events: list[GridEventWindow],
    timestamps: pd.DatetimeIndex,
    minutes: int,
    fuel_supply: str,
    backup_fuel_hours: float = 0.0,
) -> np.ndarray:
    """Share of the gas units' MW their fuel allows at each step, - (1 where no event curtails).

    ``pipeline``: the lowest ``pipeline_gas_fraction`` of the events overlapping the step;
    ``dual_fuel``: full output for ``backup_fuel_hours`` from each event's start (the backup fuel
    burnt at full output, whatever the dispatch), then the pipeline fraction; ``on_site``: 1."""
    frac = np.ones(len(timestamps))
    if fuel_supply == "on_site":
        return frac
    start = pd.DatetimeIndex(timestamps)
    for ev in events:
        on = step_mask(ev, timestamps, minutes)
        if fuel_supply == "dual_fuel":
            on &= np.asarray(start >= ev.start_utc + pd.Timedelta(hours=backup_fuel_hours), bool)
        frac[on] = np.minimum(frac[on], ev.pipeline_gas_fraction)
    return frac


def step_mask(event: GridEventWindow, timestamps: pd.DatetimeIndex, minutes: int) -> np.ndarray:
    """True at the steps that overlap the event by any positive length."""
    start = pd.DatetimeIndex(timestamps)
    end = start + pd.Timedelta(minutes=minutes)
    return np.asarray((start < event.end_utc) & (end > event.start_utc), bool)


def cap_per_step(
    events: list[GridEventWindow], timestamps: pd.DatetimeIndex, minutes: int
) -> np.ndarray:
    """The lowest event cap at each step, MW; NaN where no event applies."""
    cap = np.full(len(timestamps), np.nan)
    for ev in events:
        on = step_mask(ev, timestamps, minutes)
        cap[on] = np.fmin(cap[on], ev.cap_mw)
    return cap


def voll_order_problem(case: Any) -> str | None:
    """A warning when the prices do not make the model shed flexible, then other, then critical
    load (flexible curtailment ≤ non-critical VoLL ≤ critical VoLL), else None."""
    flex = case.load.flexible_curtailment_usd_per_mwh
    other = case.reliability.voll_noncritical_usd_per_mwh
    crit = case.reliability.voll_critical_usd_per_mwh
    if flex <= other <= crit:
        return None
    return (
        f"load priority: flexible curtailment {flex:g} ≤ non-critical VoLL {other:g} ≤ critical "
        f"VoLL {crit:g} $/MWh does not hold, so under an event cap the model may shed critical "
        "load before other load; fix: order load.flexible_curtailment_usd_per_mwh, "
        "reliability.voll_noncritical_usd_per_mwh and reliability.voll_critical_usd_per_mwh"
    )
