"""A case's outage reliability from its solved dispatch: the ``outage`` results section, the
per-start survival table the study summarises, and why a size's survival is below 1 in words.

Each step's outage starts from the dispatch at that instant: the battery at its SOC at the start
of the step (the end of the previous one), and — with ``reliability.outage_start_units =
"dispatched"`` — the units that produced in the previous step running (no start, no delay).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcpower import columns, events
from dcpower.case import Case
from dcpower.outage import TOLERANCE_MW, OutageSite, simulate
from dcpower.resources import bess as bess_model

#: percentiles of survival over outage starts in the ``outage`` section, %
PERCENTILES = (5, 25, 50)


def outage_site(case: Case) -> OutageSite:
    """Islanded-operation parameters of a case (battery limits, units and their failure modes)."""
    b, g = case.bess, case.gas_gen
    return OutageSite(
        bess_power_mw=b.power_mw,
        bess_energy_mwh=b.energy_mwh,
        bess_soc_min_mwh=b.soc_min_fraction * b.energy_mwh,
        bess_soc_max_mwh=bess_model.soc_max_mwh(b),
        charge_efficiency=b.charge_efficiency,
        discharge_efficiency=b.discharge_efficiency,
        gen_units=g.units,
        unit_mw=g.unit_mw,
        start_delay_minutes=g.start_delay_minutes,
        failure_to_start_probability=g.failure_to_start_probability,
        operational_availability=g.operational_availability,
        mean_time_to_failure_h=g.mean_time_to_failure_h,
        fuel_limit_mwh=g.fuel_limit_mwh,
    )


def gas_fraction(case: Case, dispatch: pd.DataFrame) -> np.ndarray:
    """Share of the units' MW their fuel allows at each step (grid events that curtail pipeline
    gas; ``dcpower.events.gas_available_fraction``), -."""
    g = case.gas_gen
    return events.gas_available_fraction(
        events.resolve(case.events),
        dispatch.index,
        case.horizon.timestep_minutes,
        g.fuel_supply,
        g.backup_fuel_hours,
    )


def outage_starts(case: Case, dispatch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(SOC at the start of each step, MWh; critical load, MW; units running at the start)."""
    soc_end = dispatch["bess_soc_mwh"].to_numpy(dtype=float)
    soc = np.concatenate([[bess_model.soc_initial_mwh(case.bess)], soc_end[:-1]])
    crit = dispatch["load_critical_mw"].to_numpy(dtype=float)
    if case.reliability.outage_start_units == "cold" or "gen_units_producing" not in dispatch:
        running = np.zeros(crit.size, dtype=int)
    else:
        producing = np.rint(dispatch["gen_units_producing"].to_numpy(dtype=float)).astype(int)
        running = np.concatenate([[case.gas_gen.initial_units_online], producing[:-1]])
    return soc, crit, np.clip(running, 0, case.gas_gen.units)


def duration_key(hours: float) -> str:
    """A duration as text: 4 → ``"4"``, 0.5 → ``"0.5"``."""
    return f"{float(hours):g}"


def survival_table(case: Case, dispatch: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Survival probability and expected unserved critical MWh per outage start (rows: the
    dispatch's steps) and duration (columns ``survival_prob_<d>h``), as two frames."""
    durations = [float(h) for h in case.reliability.outage_durations_h]
    soc, crit, running = outage_starts(case, dispatch)
    r = simulate(
        soc,
        crit,
        outage_site(case),
        durations,
        case.horizon.timestep_minutes,
        running_units=running,
        gas_fraction=gas_fraction(case, dispatch),
    )
    names = [columns.survival_column(h) for h in durations]
    surv = pd.DataFrame(r.survival, index=dispatch.index, columns=names)
    unserved = pd.DataFrame(r.unserved_mwh, index=dispatch.index, columns=names)
    return surv, unserved


def outage_section(case: Case, dispatch: pd.DataFrame) -> dict[str, Any]:
    """The ``outage`` results section: survival by duration (mean over starts) and its spread,
    expected unserved critical energy and outage cost, the per-start detail and the reason."""
    surv, unserved = survival_table(case, dispatch)
    durations = [float(h) for h in case.reliability.outage_durations_h]
    voll = case.reliability.voll_critical_usd_per_mwh
    keys = [duration_key(h) for h in durations]
    p, e = surv.to_numpy(), unserved.to_numpy()
    stamps = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in surv.index]
    return {
        "assumptions": assumptions(case),
        "durations_h": durations,
        "survival_prob_by_duration_h": dict(zip(keys, map(float, p.mean(axis=0)), strict=True)),
        "survival_min_by_duration_h": dict(zip(keys, map(float, p.min(axis=0)), strict=True)),
        "survival_percentiles_by_duration_h": {
            str(q): dict(zip(keys, map(float, np.percentile(p, q, axis=0)), strict=True))
            for q in PERCENTILES
        },
        "expected_unserved_critical_mwh_by_duration_h": dict(
            zip(keys, map(float, e.mean(axis=0)), strict=True)
        ),
        "expected_outage_cost_usd_by_duration_h": dict(
            zip(keys, map(float, e.mean(axis=0) * voll), strict=True)
        ),
        "limited_by_by_duration_h": {
            k: limited_by(case, dispatch, surv, h) for k, h in zip(keys, durations, strict=True)
        },
        "by_start": {
            "start_utc": stamps,
            "survival_prob": {k: p[:, i].tolist() for i, k in enumerate(keys)},
            "expected_unserved_critical_mwh": {k: e[:, i].tolist() for i, k in enumerate(keys)},
        },
    }


def assumptions(case: Case) -> str:
    """The outage model's assumptions in one sentence (report and summary)."""
    g = case.gas_gen
    mttf = "never" if g.mean_time_to_failure_h is None else f"MTTF {g.mean_time_to_failure_h:g} h"
    fuel = "unlimited" if g.fuel_limit_mwh is None else f"{g.fuel_limit_mwh:g} MWh"
    start = (
        "units the dispatch has running need no start"
        if case.reliability.outage_start_units == "dispatched"
        else "every unit starts cold"
    )
    return (
        f"REopt-style outage survival from every step: availability {g.operational_availability:g}"
        f", failure to start {g.failure_to_start_probability:g}, failure while running: {mttf}, "
        f"fuel: {fuel}; {start}; battery from its dispatched SOC; {g.start_delay_minutes:g}-min "
        "start delay ridden through by battery and running units; critical load lost from the "
        "failing step to the outage's end"
    )


def survival_from_section(section: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    """Per-start survival table from an ``outage`` results section (columns survival_prob_<d>h)."""
    by = section["by_start"]["survival_prob"]
    return pd.DataFrame(
        {columns.survival_column(float(k)): v for k, v in by.items()}, index=index, dtype=float
    )


def limited_by(case: Case, dispatch: pd.DataFrame, surv: pd.DataFrame, hours: float) -> str:
    """Why survival of ``hours`` outages is below 1, in words (empty when every start survives
    surely): the first failing start and what ran short there, and the worst start's if its
    reason differs."""
    col = columns.survival_column(hours)
    p = surv[col].to_numpy()
    failing = np.flatnonzero(p < 1.0 - 1e-12)
    if failing.size == 0:
        return ""
    soc, crit, running = outage_starts(case, dispatch)
    frac = gas_fraction(case, dispatch)

    def at(t: int) -> tuple[str, str]:
        stamp = surv.index[t].strftime("%Y-%m-%dT%H:%MZ")
        cause = shortfall(case, soc, crit, running, frac, t, hours)
        return f"{stamp} (P = {p[t]:.6g} for {hours:g} h)", cause

    first, cause = at(int(failing[0]))
    text = f"{failing.size / len(p):.1%} of starts below 1; first at {first}: {cause}"
    worst = int(np.argmin(p))
    if worst != int(failing[0]):
        where, why = at(worst)
        text += f"; worst at {where}: " + ("the same" if why == cause else why)
    return text


def shortfall(
    case: Case,
    soc: np.ndarray,
    crit: np.ndarray,
    running: np.ndarray,
    frac: np.ndarray,
    t: int,
    hours: float,
) -> str:
    """What runs short for the outage starting at step ``t``: the path with every unit working
    first (battery MW or energy during the start delay, battery energy, fuel), else the number of
    units the outage needs (lost to availability, failure to start or failure while running)."""
    g = case.gas_gen
    dt = case.horizon.timestep_minutes / 60.0
    steps = max(0, int(np.ceil(hours / dt - 1e-9)))
    r0 = int(running[t])
    full = _path(case, soc[t], crit, frac, t, r0, g.units - r0, steps)
    if full is not None:
        return full
    for k in range(g.units - 1, -1, -1):  # the most units that still fall short
        lost = _path(case, soc[t], crit, frac, t, min(r0, k), k - min(r0, k), steps)
        if lost is not None:
            return (
                f"unit count: {k + 1} of {g.units} units ({g.unit_mw:g} MW each) ride through; "
                f"with {k} (lost to availability, failure to start or while running): {lost}"
            )
    return "unit count"


def _path(
    case: Case,
    soc0: float,
    crit: np.ndarray,
    frac: np.ndarray,
    t: int,
    running: int,
    started: int,
    steps: int,
) -> str | None:
    """Deterministic outage from step ``t`` with ``running`` + ``started`` units that never fail:
    None if it rides through, else what ran short and when."""
    site = outage_site(case)
    b, U = case.bess, site.unit_mw
    dt = case.horizon.timestep_minutes / 60.0
    delay = site.start_delay_minutes / 60.0
    soc, used = float(soc0), 0.0
    fuel = np.inf if site.fuel_limit_mwh is None else site.fuel_limit_mwh
    lo, hi = site.bess_soc_min_mwh, site.bess_soc_max_mwh
    for i in range(steps):
        load = float(crit[(t + i) % crit.size])
        unit_mw = U * float(frac[(t + i) % crit.size])
        h_a = min(max(delay - i * dt, 0.0), dt)
        for in_delay, h, units in ((True, h_a, running), (False, dt - h_a, running + started)):
            if h <= 1e-12:
                continue
            cap = min(units * unit_mw, max(fuel - used, 0.0) / h)
            served = min(cap, load)
            deficit = load - served
            can = min(site.bess_power_mw, max(soc - lo, 0.0) * site.discharge_efficiency / h)
            if deficit > can + TOLERANCE_MW:
                above = f"{max(soc - lo, 0.0):.1f} MWh above its floor"
                if cap < units * unit_mw - TOLERANCE_MW:
                    return f"fuel: the {site.fuel_limit_mwh:g} MWh ran out in hour {i + 1}"
                if unit_mw < U - 1e-9:
                    return (
                        f"fuel: pipeline gas curtailed to {unit_mw / U:.0%} in a grid event "
                        f"(hour {i + 1}: {load:.1f} MW critical > {units} × {unit_mw:.1f} MW "
                        f"+ battery, {above})"
                    )
                what = (
                    "battery MW"
                    if deficit > site.bess_power_mw + TOLERANCE_MW
                    else "battery energy"
                )
                if in_delay:
                    return (
                        f"{what} during the {site.start_delay_minutes:g}-min start delay "
                        f"({load:.1f} MW critical; battery {b.power_mw:g} MW, {above}; "
                        f"{running} unit(s) running)"
                    )
                return (
                    f"{what} in hour {i + 1}: {load:.1f} MW critical > {units} × {U:g} MW units "
                    f"+ battery ({b.power_mw:g} MW, {above})"
                )
            charge = min(
                cap - served, site.bess_power_mw, max(hi - soc, 0.0) / (site.charge_efficiency * h)
            )
            soc += (
                charge * site.charge_efficiency * h
                - min(deficit, can) * h / site.discharge_efficiency
            )
            used += (served + charge) * h
    return None
