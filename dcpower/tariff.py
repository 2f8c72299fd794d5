"""Transmission coincident-peak (CP) charge: intervals, rate, step weights, the causal alert
policy and the charge recomputed from a dispatch. No Pyomo here.

The charge of one CP interval i is ``rate_i × D_i / N`` where ``D_i`` is the site's mean net
grid withdrawal over the interval (kW; import − export, at least 0), ``rate_i`` the rate in
$/kW-yr and ``N`` the rule's intervals per year (months × intervals per month). Only intervals
that start inside the horizon count, so a full year pays the annual charge and a horizon
without CP months pays nothing. On the model's grid an interval is the overlap-weighted mean of
the steps it touches: with hourly steps the hour that contains a 15-min CP interval stands for
it; with 15-min steps a 30-min interval is the mean of its two steps.

Rate of a modelled year (default): the CPs of year Y set the transmission charges billed in
Y + 1 (16 TAC §25.192(d)), so a dispatch of year Y is priced at the postage-stamp rate of the
charges for Y + 1 (a 2024 dispatch: 68.55 $/kW-yr, the rate its 2024 4CP demand pays) —
the cost the year's behaviour causes. A case may give its own rate (e.g. its TDSP's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcpower import data_root
from dcpower.case import Case, Tariff
from dcpower.iso.base import MarketDataError
from dcpower.iso.ercot.system_load import system_load_mw
from dcpower.tables import (
    line_list,
    parse_ints,
    parse_numbers,
    parse_times,
    read_table,
    require_columns,
)

TARIFF_DIR = data_root.shipped("ercot", "tariffs")
INTERVALS_FILE = TARIFF_DIR / "four_cp_intervals.csv"
RATE_FILE = TARIFF_DIR / "ercot_transmission_postage_stamp_rate.csv"
KW_PER_MW = 1000.0
TERM = "transmission_cp_charge_usd"
#: cap written on steps without an alert (never binds: import − export ≤ import limit)
NO_CAP_MARGIN_MW = 1.0

RATE_CHOICE = (
    "the CPs of year Y set the transmission charges billed in Y + 1 (16 TAC §25.192(d)); a "
    "dispatch of year Y is priced at the postage-stamp rate of the charges for Y + 1, the cost "
    "its CP demand causes"
)
HOURLY_NOTE = (
    "with {minutes}-min steps a CP interval is the overlap-weighted mean of the steps it "
    "touches (hourly steps: the hour containing the interval stands for it)"
)


def read_intervals(path: Path, field: str = "tariff.intervals_file") -> pd.DataFrame:
    """CP intervals of a CSV (``interval_start_utc``, ``interval_end_utc``[, ``year``,
    ``month``, ``ercot_load_mw``]), read by the shared strict reader: times with a UTC offset
    or Z, each interval ending after it starts, ``year``/``month`` whole numbers that agree
    with the local (America/Chicago) date of the interval start (their default), and a finite,
    non-negative ``ercot_load_mw`` (blank = unknown). Raises MarketDataError naming the lines."""
    df = read_table(path, field, MarketDataError)
    where = f"{field}: {path}"
    require_columns(
        df,
        ["interval_start_utc", "interval_end_utc"],
        where,
        MarketDataError,
        "give interval_start_utc and interval_end_utc (ISO 8601 with Z or an offset)",
    )
    start = parse_times(
        df["interval_start_utc"], f"{where} column 'interval_start_utc'", MarketDataError
    )
    end = parse_times(df["interval_end_utc"], f"{where} column 'interval_end_utc'", MarketDataError)
    backwards = np.asarray(end <= start)
    if backwards.any():
        raise MarketDataError(
            f"{where}: a CP interval ends before it starts on line(s) "
            f"{line_list(np.flatnonzero(backwards) + 2)}; fix: interval_end_utc > "
            "interval_start_utc"
        )
    local = start.tz_convert("America/Chicago")
    out = pd.DataFrame(
        {"start_utc": start, "end_utc": end, "year": local.year, "month": local.month}
    )
    for col, lo, hi in (("year", 1900, 2200), ("month", 1, 12)):
        if col not in df:
            continue
        given = parse_ints(df[col], f"{where} column {col!r}", lo, hi, MarketDataError)
        wrong = given != out[col].to_numpy()
        if wrong.any():
            raise MarketDataError(
                f"{where} column {col!r} contradicts the local (America/Chicago) date of "
                f"interval_start_utc on line(s) {line_list(np.flatnonzero(wrong) + 2)}; fix: "
                f"correct the {col} or the time (or leave the column out)"
            )
    out["system_load_mw"] = (
        parse_numbers(
            df["ercot_load_mw"],
            f"{where} column 'ercot_load_mw'",
            MarketDataError,
            lo=0.0,
            hi=1e7,
            blank_is_missing=True,
        )
        if "ercot_load_mw" in df
        else np.nan
    )
    return out.sort_values("start_utc").reset_index(drop=True)


def read_rates(path: Path = RATE_FILE) -> pd.DataFrame:
    """The postage-stamp rate file, one row per charge year."""
    return pd.read_csv(path)


def rate_for_cp_year(year: int, tariff: Tariff, rates: pd.DataFrame) -> dict[str, Any]:
    """Rate ($/kW-yr) that prices the CP demand of ``year``, with its source and status."""
    if tariff.rate_usd_per_kw_yr is not None:
        return {
            "usd_per_kw_yr": float(tariff.rate_usd_per_kw_yr),
            "source": "case (tariff.rate_usd_per_kw_yr)",
            "status": "given by the user",
            "charges_for_year": None,
        }
    row = rates[rates["based_on_4cp_year"] == year]
    if row.empty:
        years = ", ".join(str(int(y)) for y in rates["based_on_4cp_year"])
        raise MarketDataError(
            f"no ERCOT postage-stamp rate set by the {year} CPs (charges for {year + 1}) in "
            f"{RATE_FILE.name} (CP years {years}); fix: give tariff.rate_usd_per_kw_yr"
        )
    r = row.iloc[0]
    return {
        "usd_per_kw_yr": float(r["postage_stamp_usd_per_kw_yr"]),
        "source": f"ERCOT postage-stamp rate for {int(r['charges_for_year'])} charges, PUCT "
        f"docket {int(r['puct_docket'])} ({RATE_FILE.name})",
        "status": str(r["status"]),
        "charges_for_year": int(r["charges_for_year"]),
    }


def _horizon_months(start_utc: pd.Timestamp, end_utc: pd.Timestamp, tz: str) -> list[tuple]:
    """(year, month) local months that overlap [start, end)."""
    local = pd.date_range(start_utc, end_utc, freq="h", inclusive="left").tz_convert(tz)
    return sorted(set(zip(local.year, local.month, strict=True)))


def cp_intervals(
    case: Case, start_utc: pd.Timestamp, end_utc: pd.Timestamp, data_dir: Path | None = None
) -> pd.DataFrame:
    """The CP intervals of the rule in the CP months the horizon touches (columns
    ``start_utc, end_utc, year, month, system_load_mw``); ``in_horizon`` marks those that start
    inside [start, end). Raises MarketDataError when a CP month lacks its intervals."""
    tariff = case.tariff
    assert tariff is not None
    rule = tariff.resolved()
    months = [
        ym
        for ym in _horizon_months(start_utc, end_utc, "America/Chicago")
        if ym[1] in rule["months"]
    ]
    k = rule["intervals_per_month"]
    if rule["intervals_source"] == "official":
        path = tariff.intervals_file or INTERVALS_FILE
        table = read_intervals(Path(path))
        _check_interval_length(table, rule["interval_minutes"], Path(path), tariff)
        parts = []
        for year, month in months:
            rows = table[(table["year"] == year) & (table["month"] == month)]
            if len(rows) != k:
                raise MarketDataError(
                    f"tariff.intervals_file: {path} has {len(rows)} CP interval(s) for "
                    f"{year}-{month:02d}, the "
                    f"rule needs {k}; fix: give tariff.intervals_file with them, or "
                    "tariff.intervals_source 'system_load_peaks' (hourly ERCOT load peaks)"
                )
            parts.append(rows)
        out = pd.concat(parts) if parts else table.iloc[0:0]
    else:
        if tariff.interval_minutes is not None and tariff.interval_minutes != 60:
            raise MarketDataError(
                f"tariff.interval_minutes is {tariff.interval_minutes}, but intervals_source "
                "'system_load_peaks' takes the peak hours of the hourly ERCOT load (60-min "
                "intervals); fix: leave tariff.interval_minutes out (or 60), or use "
                "intervals_source 'official' with a tariff.intervals_file"
            )
        load = system_load_mw(sorted({y for y, _ in months}), data_dir)
        local = load.index.tz_convert("America/Chicago")
        rows = []
        for year, month in months:
            sel = load[(local.year == year) & (local.month == month)]
            for ts, mw in sel.nlargest(k).items():
                rows.append(
                    {
                        "start_utc": ts,
                        "end_utc": ts + pd.Timedelta(hours=1),
                        "year": year,
                        "month": month,
                        "system_load_mw": float(mw),
                    }
                )
        out = pd.DataFrame(
            rows, columns=["start_utc", "end_utc", "year", "month", "system_load_mw"]
        )
    out = out.sort_values("start_utc").reset_index(drop=True)
    out["in_horizon"] = (out["start_utc"] >= start_utc) & (out["start_utc"] < end_utc)
    return out


def _check_interval_length(table: pd.DataFrame, minutes: int, path: Path, tariff: Tariff) -> None:
    """Every official interval lasts the rule's ``interval_minutes`` (never silently other)."""
    length = (table["end_utc"] - table["start_utc"]).dt.total_seconds() / 60.0
    wrong = np.flatnonzero(length.to_numpy() != minutes)
    if len(wrong):
        field = (
            "tariff.interval_minutes" if tariff.interval_minutes else f"tariff.rule {tariff.rule!r}"
        )
        raise MarketDataError(
            f"tariff.intervals_file: {path}: CP interval(s) of {length.iloc[wrong[0]]:g} min, "
            f"but {field} says "
            f"{minutes} min (first at {table['start_utc'].iloc[wrong[0]].isoformat()}); fix: "
            "set tariff.interval_minutes to the file's interval length, or correct the file"
        )


def step_weights(
    intervals: pd.DataFrame, timestamps: pd.DatetimeIndex, step_minutes: int
) -> np.ndarray:
    """(n_intervals, n_steps) share of each interval covered by each step (rows sum to 1 when
    the interval lies inside the horizon)."""
    dt = pd.Timedelta(minutes=step_minutes)
    starts = timestamps.asi8
    ends = (timestamps + dt).asi8
    w = np.zeros((len(intervals), len(timestamps)))
    for i, (s, e) in enumerate(zip(intervals["start_utc"], intervals["end_utc"], strict=True)):
        s_ns, e_ns = pd.Timestamp(s).value, pd.Timestamp(e).value
        overlap = np.clip(np.minimum(ends, e_ns) - np.maximum(starts, s_ns), 0, None)
        w[i] = overlap / (e_ns - s_ns)
    return w


def alert_hours(load_mw: pd.Series, alert: Any, months: list[int], tz: str) -> pd.Series:
    """Causal alert flag per hour of ``load_mw`` (UTC hour-start index).

    Hour h is an alert when its local month is a CP month, its local start hour lies in
    [window_start_hour, window_end_hour), and, with s = h − known_lag_hours in the same local
    month, load[s] ≥ threshold_fraction × max(load of that month up to s) and load[s] ≥
    min_system_load_mw. Only loads up to s are read: a later load never changes the flag.
    """
    idx = pd.date_range(load_mw.index.min(), load_mw.index.max(), freq="h")
    load = load_mw.reindex(idx)
    local = idx.tz_convert(tz)
    month_key = pd.Series(local.year * 100 + local.month, index=idx)
    mtd_peak = load.groupby(month_key.to_numpy()).cummax()
    lag = int(alert.known_lag_hours)
    known = load.shift(lag)
    known_peak = mtd_peak.shift(lag)
    same_month = month_key.shift(lag) == month_key
    hour = pd.Series(local.hour, index=idx)
    flag = (
        pd.Series(local.month, index=idx).isin(months)
        & (hour >= alert.window_start_hour)
        & (hour < alert.window_end_hour)
        & same_month
        & known.notna()
        & (known >= alert.threshold_fraction * known_peak)
        & (known >= alert.min_system_load_mw)
    )
    return flag.reindex(load_mw.index).fillna(False).astype(bool)


@dataclass
class TariffSchedule:
    """What the model and the results need of a case's CP charge, on the model's time index."""

    intervals: pd.DataFrame  # start_utc, end_utc, year, month, system_load_mw, in_horizon, rate
    rates: dict[int, dict[str, Any]]  # CP year → rate record
    intervals_per_year: int
    rule: dict[str, Any]
    weight: np.ndarray  # per step: Σ_i overlap share / N (in-horizon intervals), -
    usd_per_mw: np.ndarray  # per step: Σ_i rate_i × 1000 × overlap share / N, $/MW
    alert: np.ndarray | None = None  # per step: 1 in an alert hour (response 'alert')
    alert_cap_mw: np.ndarray | None = None  # per step: withdrawal cap (no alert: never binds)
    alert_hours_utc: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))


def build_schedule(
    case: Case, timestamps: pd.DatetimeIndex, data_dir: Path | None = None
) -> TariffSchedule:
    """The CP intervals, rates, step weights and (response 'alert') the alert schedule."""
    tariff = case.tariff
    assert tariff is not None
    rule = tariff.resolved()
    minutes = case.horizon.timestep_minutes
    start, end = timestamps[0], timestamps[-1] + pd.Timedelta(minutes=minutes)
    iv = cp_intervals(case, start, end, data_dir)
    table = read_rates()
    rates = {int(y): rate_for_cp_year(int(y), tariff, table) for y in sorted(set(iv["year"]))}
    iv["rate_usd_per_kw_yr"] = [rates[int(y)]["usd_per_kw_yr"] for y in iv["year"]]
    n_year = len(rule["months"]) * rule["intervals_per_month"]
    w = step_weights(iv, timestamps, minutes) * iv["in_horizon"].to_numpy(float)[:, None]
    weight = w.sum(axis=0) / n_year
    usd = (w * iv["rate_usd_per_kw_yr"].to_numpy()[:, None] * KW_PER_MW).sum(axis=0) / n_year
    sched = TariffSchedule(iv, rates, n_year, rule, weight, usd)
    if tariff.response == "alert":
        years = sorted(set(timestamps.tz_convert("America/Chicago").year))
        load = system_load_mw(years, data_dir)
        flags = alert_hours(load, tariff.alert, rule["months"], "America/Chicago")
        hours = flags.index[flags.to_numpy()]
        step_hour = timestamps.floor("h")
        on = step_hour.isin(hours)
        cap_off = max(case.poi.import_limit_mw, tariff.alert.max_withdrawal_mw) + NO_CAP_MARGIN_MW
        sched.alert = on.astype(float)
        sched.alert_cap_mw = np.where(on, tariff.alert.max_withdrawal_mw, cap_off)
        sched.alert_hours_utc = hours[(hours >= start) & (hours < end)]
    return sched


def interval_withdrawal_mw(dispatch: pd.DataFrame, intervals: pd.DataFrame, step_minutes: int):
    """The site's mean net withdrawal (MW, import − export at least 0) over each interval,
    computed on a 1-minute grid from the dispatch table alone (independent of step weights);
    NaN for an interval the dispatch does not cover entirely."""
    net = (dispatch["grid_import_mw"] - dispatch["grid_export_mw"]).clip(lower=0.0)
    out = []
    dt = pd.Timedelta(minutes=step_minutes)
    for s, e in zip(intervals["start_utc"], intervals["end_utc"], strict=True):
        minutes = pd.date_range(s, e, freq="min", inclusive="left")
        pos = net.index.searchsorted(minutes, side="right") - 1
        ok = (pos >= 0) & (minutes < net.index[-1] + dt) if len(net) else pos < -1
        if not ok.all():
            out.append(np.nan)
            continue
        out.append(float(net.to_numpy()[pos].mean()))
    return np.array(out, dtype=float)


def charge_from_dispatch(
    dispatch: pd.DataFrame, intervals: pd.DataFrame, n_per_year: int, step_minutes: int
) -> tuple[float, np.ndarray]:
    """Σ over in-horizon intervals of rate × 1000 × mean withdrawal / N, $; and the
    per-interval withdrawal, MW."""
    mw = interval_withdrawal_mw(dispatch, intervals, step_minutes)
    inside = intervals["in_horizon"].to_numpy(bool)
    rate = intervals["rate_usd_per_kw_yr"].to_numpy(float)
    usd = float(np.nansum(np.where(inside, rate * KW_PER_MW * mw / n_per_year, 0.0)))
    return usd, mw


def _utc(ts: Any) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def tariff_section(case: Case, sched: TariffSchedule, dispatch: pd.DataFrame) -> dict[str, Any]:
    """The ``tariff`` section of results: rule, rate (and why), each CP interval with the
    site's withdrawal and charge, and, for the alert policy, alerts and what responding took."""
    tariff = case.tariff
    assert tariff is not None
    minutes = case.horizon.timestep_minutes
    iv = sched.intervals
    charge, mw = charge_from_dispatch(dispatch, iv, sched.intervals_per_year, minutes)
    alert_hours = set(sched.alert_hours_utc)
    rows = []
    for i, r in iv.iterrows():
        inside = bool(r["in_horizon"])
        row = {
            "start_utc": _utc(r["start_utc"]),
            "end_utc": _utc(r["end_utc"]),
            "year": int(r["year"]),
            "month": int(r["month"]),
            "system_load_mw": None if pd.isna(r["system_load_mw"]) else float(r["system_load_mw"]),
            "in_horizon": inside,
            "rate_usd_per_kw_yr": float(r["rate_usd_per_kw_yr"]),
            "site_withdrawal_mw": None if np.isnan(mw[i]) else float(mw[i]),
            "charge_usd": float(
                r["rate_usd_per_kw_yr"] * KW_PER_MW * mw[i] / sched.intervals_per_year
            )
            if inside and not np.isnan(mw[i])
            else 0.0,
        }
        if tariff.response == "alert":
            hours = pd.date_range(
                pd.Timestamp(r["start_utc"]).floor("h"), r["end_utc"], freq="h", inclusive="left"
            )
            row["in_alert"] = bool(any(h in alert_hours for h in hours))
        rows.append(row)
    out: dict[str, Any] = {
        "rule": {
            "preset": tariff.rule,
            **sched.rule,
            "intervals_per_year": sched.intervals_per_year,
        },
        "response": tariff.response,
        "charge_in_objective": tariff.response == "perfect_foresight",
        "charge_usd": charge,
        "rate": {
            "by_cp_year": {str(y): rec for y, rec in sched.rates.items()},
            "choice": "case rate" if tariff.rate_usd_per_kw_yr is not None else RATE_CHOICE,
        },
        "notes": [
            "charge = Σ over CP intervals starting inside the horizon of rate ($/kW-yr) × the "
            "site's mean net withdrawal (kW, import − export, at least 0) over the interval / "
            f"{sched.intervals_per_year} intervals per year: a full year pays the annual "
            "charge, a part year only its own intervals",
            HOURLY_NOTE.format(minutes=minutes),
        ],
        "intervals": rows,
        "alert": None,
    }
    if tariff.response != "perfect_foresight":
        out["notes"].append(
            "the model does not see the official CP intervals: the charge is settled after the "
            "solve from the dispatch; objective_usd is the solver's objective without it and "
            "net_value_usd = objective_usd − transmission_cp_charge_usd"
        )
    if tariff.response == "alert" and sched.alert is not None:
        out["alert"] = _alert_summary(case, sched, dispatch, rows)
    return out


def _alert_summary(case, sched, dispatch, rows) -> dict[str, Any]:
    a = case.tariff.alert
    dt = case.horizon.timestep_minutes / 60.0
    on = sched.alert.astype(bool)
    d = dispatch[on]
    local = sched.alert_hours_utc.tz_convert(case.horizon.timezone)
    per_month: dict[str, int] = {}
    for t in local:
        key = f"{t.year}-{t.month:02d}"
        per_month[key] = per_month.get(key, 0) + 1
    inside = [r for r in rows if r["in_horizon"]]

    def mwh(col: str) -> float:
        return float(d[col].sum() * dt)

    net = mwh("grid_import_mw") - mwh("grid_export_mw")
    return {
        "definition": (
            f"hour h (local start hour in [{a.window_start_hour}, {a.window_end_hour}), CP month) "
            f"is an alert when the ERCOT hourly system load of hour h − {a.known_lag_hours} "
            f"(NP6-346-CD, shipped) is ≥ {a.threshold_fraction:g} × the month's peak up to that "
            f"hour and ≥ {a.min_system_load_mw:g} MW; only loads up to h − "
            f"{a.known_lag_hours} are read. During alerts net withdrawal ≤ "
            f"{a.max_withdrawal_mw:g} MW. The dispatch knows each alert as far ahead as its "
            "window (like prices), so it may pre-charge the battery or pre-commit units"
        ),
        "parameters": a.model_dump(),
        "hours_total": len(sched.alert_hours_utc),
        "hours_per_month": per_month,
        "intervals_in_horizon": len(inside),
        "intervals_covered": sum(bool(r.get("in_alert")) for r in inside),
        "intervals_missed": [r["start_utc"] for r in inside if not r.get("in_alert")],
        "during_alerts_mwh": {
            "load": mwh("load_mw"),
            "load_served": mwh("load_served_mw"),
            "net_withdrawal": net,
            "withdrawal_avoided": mwh("load_served_mw") - net,
            "gen": mwh("gen_mw"),
            "bess_discharge": mwh("bess_discharge_mw"),
            "bess_charge": mwh("bess_charge_mw"),
            "flexible_curtailed": mwh("flexible_curtailed_mw"),
            "load_unserved": mwh("load_unserved_mw"),
        },
        "cost_of_responding": (
            "the gas, battery and curtailment used during alerts are above; the net-value cost "
            "of responding is this run's net value minus that of the same case with response "
            "'none' (run both)"
        ),
    }
