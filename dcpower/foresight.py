"""What each decision of the forecast policy may know, and the ``foresight`` results section.

``Forecaster.priced`` turns a window's actual inputs into the inputs its decision sees: every
price published before the decision time (``dcpower.forecast.published_utc``) as it is, every
other one forecast (a shipped baseline from the price history, or the case's forecast file).
The official CP intervals of a ``perfect_foresight`` tariff response are published after the
month: a decision sees their charge as 0 (the settlement charges the actual one).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from dcpower import columns
from dcpower import events as grid_events
from dcpower import forecast as fc
from dcpower.case import Case
from dcpower.economics import economics_from_dispatch
from dcpower.iso.base import MarketData
from dcpower.optimization.inputs import DispatchInputs
from dcpower.optimization.operations import Decision, OperatingDay
from dcpower.optimization.strategies import DispatchSolution

#: the label results give each policy's value
LABELS = {
    "perfect_foresight": "upper bound",
    "forecast": "realisable (causal)",
}


#: what the forecast policy knows of grid events and CP alerts (results' information set)
EVENTS_SEEN = (
    "; grid events from notice_minutes before their start, followed by a re-dispatch of the "
    "committed day from that time; CP alert hours "
)
ALERTS_SEEN = {
    "day_ahead": "at the decision of their day (an exact day-ahead alert forecast)",
    "hour_start": "from the start of their hour (the lagged system load they read is published "
    "then), followed by a re-dispatch",
}


def operating_days(x: DispatchInputs) -> list[OperatingDay]:
    """The horizon's local days as step ranges, each with its decision time."""
    case = x.case
    tz, clock = case.horizon.timezone, case.operations.decision_time_local
    local = x.timestamps.tz_convert(tz).tz_localize(None).normalize()
    days: list[OperatingDay] = []
    starts = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
    stops = np.r_[starts[1:], x.n_steps]
    for a, b in zip(starts, stops, strict=True):
        day = local[a].date()
        days.append(OperatingDay(int(a), int(b), fc.decision_time_utc(day, clock, tz)))
    return days


def history_start(case: Case) -> date:
    """First local day of prices the baselines read (``HISTORY_DAYS`` before the horizon)."""
    return case.horizon.start - timedelta(days=fc.HISTORY_DAYS)


class Forecaster:
    """The prices each decision sees; keeps what it forecast for the error report."""

    def __init__(self, x: DispatchInputs, market: MarketData, history: MarketData | None):
        case = x.case
        self.case, self.steps = case, x.timestamps
        ops = case.operations
        self.source = ops.forecast
        tz = case.horizon.timezone
        self.file = fc.ForecastFile.read(ops.forecast_file) if ops.forecast == "file" else None
        self.products = [fc.ENERGY, *market.reserve_products]
        series = {fc.ENERGY: market.energy_price_usd_per_mwh}
        series.update({p: market.reserve_price_usd_per_mw_h[p] for p in market.reserve_products})
        if history is not None:
            start = x.timestamps[0]
            past = {fc.ENERGY: history.energy_price_usd_per_mwh}
            past.update(
                {p: history.reserve_price_usd_per_mw_h[p] for p in history.reserve_products}
            )
            series = {p: pd.concat([past[p][past[p].index < start], s]) for p, s in series.items()}
        realtime = case.market.energy_market == "rtm"
        published = {
            p: fc.published_utc(s.index, tz, realtime and p == fc.ENERGY) for p, s in series.items()
        }
        self.history = (
            {p: fc.PriceHistory.build(s, published[p], tz) for p, s in series.items()}
            if self.file is None
            else {}
        )
        #: each horizon step's (local day, column) in each product's history
        self.cells = {p: h.cells(x.timestamps) for p, h in self.history.items()}
        n = x.n_steps
        self.published = {p: np.asarray(v[-n:].asi8) for p, v in published.items()}
        minutes = case.horizon.timestep_minutes
        self.events = grid_events.resolve(case.events) if case.events else []
        self.event_caps = [
            grid_events.cap_per_step([e], x.timestamps, minutes) for e in self.events
        ]
        #: CP alert hours learnt at the start of their hour (``alert_notice`` hour_start; with
        #: day_ahead none: the decisions see them as the clairvoyant run does)
        self.alert_hour = x.timestamps.floor("h")
        self.alert_on = (
            np.zeros(x.n_steps, bool)
            if x.alert_cap_mw is None or ops.alert_notice == "day_ahead"
            else x.alert_cap_mw < np.max(x.alert_cap_mw)
        )
        self.alert_off_mw = None if x.alert_cap_mw is None else float(np.max(x.alert_cap_mw))
        #: decision time ns → product → (window start step, forecast seen, actual, unknown)
        self.seen: dict[int, dict[str, tuple[int, np.ndarray, np.ndarray, np.ndarray]]] = {}

    def _forecast(self, product: str, decision: pd.Timestamp, steps: np.ndarray):
        """Forecast of the horizon steps ``steps`` (indices) made at ``decision``."""
        targets = self.steps[steps]
        if self.file is not None:
            return self.file.forecast(product, decision, targets)
        day, col = self.cells[product]
        history = self.history[product]
        return fc.baseline_forecast(
            self.source, history, decision, targets, (day[steps], col[steps])
        )

    def _seen(
        self, product: str, actual: np.ndarray, start: int, stop: int, decision: pd.Timestamp
    ) -> np.ndarray:
        unknown = self.published[product][start:stop] >= decision.value
        out = np.array(actual, dtype=float)
        if unknown.any():
            out[unknown] = self._forecast(product, decision, start + np.flatnonzero(unknown))
        self.seen.setdefault(decision.value, {})[product] = (
            start,
            out,
            np.array(actual, dtype=float),
            unknown,
        )
        return out

    def priced(
        self, actual: DispatchInputs, start: int, stop: int, decision: pd.Timestamp
    ) -> DispatchInputs:
        """The inputs the decision at ``decision`` sees for horizon steps [start, stop)
        (``actual``: the window's inputs with the actual prices)."""
        energy = self._seen(fc.ENERGY, actual.price_usd_per_mwh, start, stop, decision)
        reserve = {
            p: self._seen(p, v, start, stop, decision)
            for p, v in actual.reserve_price_usd_per_mw_h.items()
        }
        cp = actual.cp_usd_per_mw
        if cp is not None:
            cp = np.zeros_like(cp)  # official CP intervals: published after the month
        caps = actual.event_cap_mw
        if caps is not None:  # only the events whose notice has come
            caps = np.full(stop - start, np.nan)
            for e, cap in zip(self.events, self.event_caps, strict=True):
                if e.notice_utc <= decision:
                    caps = np.fmin(caps, cap[start:stop])
        alert = actual.alert_cap_mw
        if alert is not None:  # only the alert hours already issued
            issued = np.asarray(self.alert_hour[start:stop] <= decision)
            alert = np.where(self.alert_on[start:stop] & ~issued, self.alert_off_mw, alert)
        return replace(
            actual,
            alert_cap_mw=alert,
            price_usd_per_mwh=energy,
            reserve_price_usd_per_mw_h=reserve,
            cp_usd_per_mw=cp,
            event_cap_mw=caps,
        )

    def notice_times(self) -> list[pd.Timestamp]:
        """When the site learns of each grid event and each CP alert hour (sorted, distinct;
        UTC): the times the forecast policy re-dispatches at."""
        alerts = set(self.alert_hour[self.alert_on])
        return sorted({e.notice_utc for e in self.events} | alerts)

    def planned_value(self, dispatch: pd.DataFrame, decisions: list[Decision]) -> float:
        """The committed schedule's net value at the prices its day-ahead decisions saw (CP
        charges unknown: 0), $ — what the operator expected; from the dispatch table with the
        same term definitions as the economics check (``economics_from_dispatch``)."""
        seen = dispatch.copy()
        names = {fc.ENERGY: "price_usd_per_mwh"}
        names.update({p: columns.price_column(p) for p in self.products if p != fc.ENERGY})
        for d in decisions:
            for product, (start, values, _, _) in self.seen[d.day.decision_utc.value].items():
                rows = slice(d.day.start, d.day.stop)
                seen.iloc[rows, seen.columns.get_loc(names[product])] = values[
                    d.day.start - start : d.day.stop - start
                ]
        if "cp_charge_usd_per_mw" in seen.columns:
            seen["cp_charge_usd_per_mw"] = 0.0
        products = [p for p in self.products if p != fc.ENERGY]
        return float(economics_from_dispatch(seen, self.case, products)["net_value_usd"])

    def errors(self, decisions: list[Decision]) -> dict[str, dict[str, dict[str, float | int]]]:
        """MAE and bias (forecast − actual) of the forecasts the committed days were decided
        on, per product and local year ($/MWh energy, $/MW per hour reserves): each operating
        day's unpublished steps, as forecast at its decision time."""
        tz = self.case.horizon.timezone
        years = np.asarray(self.steps.tz_convert(tz).year)
        parts: dict[tuple[str, int], tuple[list, list]] = {}
        for d in decisions:
            for product, (start, seen, actual, unknown) in self.seen[
                d.day.decision_utc.value
            ].items():
                keep = slice(d.day.start - start, d.day.stop - start)
                mask = unknown[keep]
                for year in np.unique(years[d.day.start : d.day.stop]):
                    in_year = mask & (years[d.day.start : d.day.stop] == year)
                    f, a = parts.setdefault((product, int(year)), ([], []))
                    f.append(seen[keep][in_year])
                    a.append(actual[keep][in_year])
        out: dict[str, dict[str, dict[str, float | int]]] = {}
        for (product, year), (f, a) in sorted(parts.items()):
            out.setdefault(product, {})[str(year)] = fc.error_stats(
                np.concatenate(f), np.concatenate(a)
            )
        return out


def foresight_section(
    case: Case,
    decisions: list[Decision] | None = None,
    forecaster: Forecaster | None = None,
    dispatch: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The ``foresight`` results section: the policy, its label, and for ``forecast`` the
    decision times, the forecast source, its errors and the planned vs realised value."""
    ops = case.operations
    out: dict[str, Any] = {"policy": ops.policy, "label": LABELS[ops.policy]}
    if ops.policy == "perfect_foresight" or decisions is None or forecaster is None:
        out["note"] = (
            "every price of each window was known when it was dispatched: an upper bound on "
            "what an operator can earn (operations.policy 'forecast' gives the realisable value)"
        )
        out["forecast_source"] = "actual prices (perfect foresight)"
        return out
    out.update(
        {
            "decision_time_local": ops.decision_time_local,
            "decisions": len(decisions),
            "first_decision_utc": _utc(decisions[0].day.decision_utc),
            "last_decision_utc": _utc(decisions[-1].day.decision_utc),
            "decision_times_utc": [_utc(d.day.decision_utc) for d in decisions],
            "forecast_source": ops.forecast,
            "forecast_file": None if ops.forecast_file is None else str(ops.forecast_file),
            "information_set": fc.INFORMATION_SET + EVENTS_SEEN + ALERTS_SEEN[ops.alert_notice],
            "settlement": ops.settlement,
            "forecast_errors": forecaster.errors(decisions),
            "redispatches": [
                {"notice_utc": _utc(t), "from_utc": _utc(forecaster.steps[i])}
                for d in decisions
                for t, i in d.redispatches
            ],
            "planned_net_value_usd": forecaster.planned_value(dispatch, decisions),
            "realised_net_value_usd": float(sum(d.realised_usd for d in decisions)),
        }
    )
    return out


def _utc(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%MZ")


def settle_in_two(
    solution: DispatchSolution, decisions: list[Decision], realtime: pd.Series
) -> None:
    """ERCOT's two-settlement, in place: the dispatch columns ``da_position_mw`` (each step's
    day-ahead position: the net withdrawal its day-ahead decision committed, settled at the DAM
    price) and ``rt_price_usd_per_mwh`` (the real-time price the deviation of the dispatched
    net withdrawal settles at, $/MWh). The results settle the term
    ``realtime_deviation_cost_usd`` from them after the solve (``dcpower.economics``)."""
    d = solution.dispatch
    d["da_position_mw"] = np.concatenate([dec.da_net_mw for dec in decisions])
    d["rt_price_usd_per_mwh"] = realtime.reindex(d.index).to_numpy(float)
