"""Independent checks of a results dict against the physics and economics it claims.

Reads only the results (dispatch, electrical, economics, case echo) — never the model — so a
result produced by any method (monolithic MILP, decomposition, another tool) can be verified.
Returns human-readable violations; an empty list means every invariant holds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dcpower import columns
from dcpower.case import Case
from dcpower.economics import economics_from_dispatch
from dcpower.events import resolve, step_mask
from dcpower.records import records_to_frame
from dcpower.resources import bess as bess_model
from dcpower.resources import gas_gen
from dcpower.tariff import charge_from_dispatch, cp_intervals, rate_for_cp_year, read_rates
from dcpower.topology.deployment import DIRECTIONS, deployed_points, limit_excess

BALANCE_TOL_MW = 1e-6
#: Σ|Q of the sources| may exceed |Q of the load| by this much, MVAr
REACTIVE_CIRCULATION_TOL_MVAR = 0.5
TOL = 1e-5  # MW, MWh, MVAr: row feasibility of HiGHS (1e-7) with headroom for scaling
ECONOMICS_TOL_USD = 0.01


def _fail(out: list[str], name: str, bad: np.ndarray, idx: pd.DatetimeIndex, excess: np.ndarray):
    if bad.any():
        i = int(np.argmax(np.where(bad, excess, -np.inf)))
        out.append(
            f"{name}: violated at {int(bad.sum())} step(s), worst {idx[i]} by {excess[i]:.3g}"
        )


def check_invariants(results: dict[str, Any]) -> list[str]:
    """Every invariant violation in ``results`` (empty list when all hold)."""

    case = Case.model_validate(results["case"])
    d = records_to_frame(results["dispatch"])
    e = records_to_frame(results["electrical"])
    idx = d.index
    dt = case.horizon.timestep_minutes / 60.0
    out: list[str] = []

    def check(name: str, excess: np.ndarray, tol: float = TOL) -> None:
        excess = np.asarray(excess, float)
        _fail(out, name, excess > tol, idx, excess)

    imp, exp_ = d["grid_import_mw"].to_numpy(), d["grid_export_mw"].to_numpy()
    gen, ch, dis = (
        d["gen_mw"].to_numpy(),
        d["bess_charge_mw"].to_numpy(),
        d["bess_discharge_mw"].to_numpy(),
    )
    served, load = d["load_served_mw"].to_numpy(), d["load_mw"].to_numpy()
    check("power_balance", np.abs(imp - exp_ + gen + dis - ch - served), BALANCE_TOL_MW)
    check(
        "served_plus_unserved",
        np.abs(served + d["load_unserved_mw"].to_numpy() - load),
        BALANCE_TOL_MW,
    )
    check("unserved_nonnegative", -d["load_unserved_mw"].to_numpy())
    # POI
    check("poi_import_cap", imp - case.poi.import_limit_mw)
    check("poi_export_cap", exp_ - case.poi.export_limit_mw)
    check("no_simultaneous_import_export", np.minimum(imp, exp_))
    k_poi = gas_gen.reactive_ratio(case.poi.min_power_factor)
    p_poi, q_poi = e["poi_p_mw"].to_numpy(), e["poi_q_mvar"].to_numpy()
    excess = (
        d["poi_q_excess_mvar"].to_numpy()
        if case.poi.power_factor_rule == "penalty" and "poi_q_excess_mvar" in d.columns
        else np.zeros(len(idx))
    )
    check("poi_power_factor", np.abs(q_poi) - k_poi * np.abs(p_poi) - excess)
    check(
        "poi_q_excess_definition",
        np.abs(excess - np.maximum(np.abs(q_poi) - k_poi * np.abs(p_poi), 0.0)),
    )
    check("transformer_mva", e["transformer_s_mva"].to_numpy() - case.transformer.rating_mva)
    # BESS
    b = case.bess
    soc = d["bess_soc_mwh"].to_numpy()
    if b.installed:
        prev = np.concatenate([[bess_model.soc_initial_mwh(b)], soc[:-1]])
        expected = prev + b.charge_efficiency * ch * dt - dis * dt / b.discharge_efficiency
        check("soc_dynamics", np.abs(soc - expected))
        check("no_simultaneous_charge_discharge", np.minimum(ch, dis))
        check("bess_charge_cap", ch - b.power_mw)
        check("bess_discharge_cap", dis - b.power_mw)
        check("soc_floor", d["bess_soc_floor_mwh"].to_numpy() - soc)
        check("soc_ceiling", soc - bess_model.soc_max_mwh(b))
        floor_expected = bess_model.soc_floor_mwh(
            b, d["load_critical_mw"].to_numpy(), case.reliability.ride_through_minutes
        )
        check("soc_floor_definition", np.abs(d["bess_soc_floor_mwh"].to_numpy() - floor_expected))
        if soc[-1] < bess_model.soc_final_min_mwh(b) - TOL:
            out.append(
                f"soc_terminal: final SOC {soc[-1]:.4f} < {bess_model.soc_final_min_mwh(b):.4f}"
            )
        check("pcs_mva", e["pcs_s_mva"].to_numpy() - b.pcs_mva)
    else:
        check("no_bess", np.abs(ch) + np.abs(dis))
    # Gas units
    g = case.gas_gen
    committed = d["gen_units_committed"].to_numpy()
    producing = d["gen_units_producing"].to_numpy()
    starts = d["gen_starts"].to_numpy()
    delay = gas_gen.start_delay_steps(g, case.horizon.timestep_minutes)
    recent = np.array([starts[max(0, t - delay + 1) : t + 1].sum() for t in range(len(idx))])
    check("gen_start_delay", np.abs(producing - (committed - recent)))
    check("gen_producing_nonnegative", -producing)
    prev_c = np.concatenate([[g.initial_units_online], committed[:-1]])
    check("gen_starts_cover_commitment_increase", (committed - prev_c) - starts)
    check("gen_units_installed", committed - g.units)
    products = results["market"]["reserve_products"]
    awards = columns.reserve_award_columns(d, products)
    reserves = {a.column: d[a.column].to_numpy() for a in awards}

    def rsum(resource: str, direction: str) -> np.ndarray:
        total = np.zeros(len(idx))
        for a in awards:
            spec = products.get(a.product)
            if a.resource == resource and spec is not None and spec["direction"] == direction:
                total += reserves[a.column]
        return total

    for a in awards:
        check(f"{a.column}_nonnegative", -reserves[a.column])
        if a.resource not in products.get(a.product, {}).get("eligible_resources", []):
            out.append(
                f"reserve eligibility: {a.column} is not an eligible resource for {a.product}"
            )
    pmin = gas_gen.min_output_mw(g)
    offline = {
        o.product: d[o.column].to_numpy()
        for o in columns.offline_award_columns(d, products)
        if o.product in products
    }
    offline_total = sum(offline.values()) if offline else np.zeros(len(idx))
    check("gen_max_output", gen + rsum("gen", "up") - offline_total - g.unit_mw * producing)
    check("gen_min_output", pmin * producing - (gen - rsum("gen", "down")))
    _check_gen_deliverability(check, d, g, products, offline, producing, committed)
    prev_p = np.concatenate([[g.initial_units_online], producing[:-1]])
    stops = prev_c + starts - committed
    check("gen_stop_producing", stops - prev_p)
    new = np.array([starts[t - delay] if t - delay >= 0 else 0 for t in range(len(idx))])
    if len(idx) > 1:
        excess_ramp = per_unit_ramp_excess_mw(
            g, case.horizon.timestep_minutes, gen[:-1], gen[1:], producing[1:], new[1:], stops[1:]
        )
        _fail(out, "gen_ramp_per_unit", excess_ramp > TOL, idx[1:], excess_ramp)
    k_gen = gas_gen.reactive_ratio(g.min_power_factor)
    check("gen_power_factor", np.abs(e["gen_q_mvar"].to_numpy()) - k_gen * gen)
    check("gen_mva", e["gen_s_mva"].to_numpy() - gas_gen.unit_mva(g) * producing)
    for col in columns.loading_columns(e):
        check(f"{col}_at_most_100", e[col].to_numpy() - 100.0, 1e-4)
    q_load = gas_gen.reactive_ratio(case.load.power_factor) * served
    q_src = [e[f"{n}_q_mvar"].to_numpy() for n in ("poi", "gen", "pcs")]
    check("reactive_balance", np.abs(sum(q_src) - q_load))
    check(
        "reactive_no_circulation",
        sum(np.abs(q) for q in q_src) - np.abs(q_load),
        REACTIVE_CIRCULATION_TOL_MVAR,
    )
    if case.reliability.n_plus_1:
        bess_mw = b.power_mw if b.installed else 0.0
        cap = gas_gen.n_plus_1_capacity_mw(g, producing, bess_mw - rsum("bess", "up"))
        check("n_plus_1", d["load_critical_mw"].to_numpy() - cap)
    if b.installed and reserves:
        floor = d["bess_soc_floor_mwh"].to_numpy()
        prev = np.concatenate([[bess_model.soc_initial_mwh(b)], soc[:-1]])
        top = bess_model.soc_max_mwh(b)
        bess_awards = {
            a.product: (products[a.product], reserves[a.column])
            for a in awards
            if a.resource == "bess" and a.product in products
        }
        for label, level in (("end", soc), ("start", prev)):
            low, high = deploy_bess_reserves(level, bess_awards, b)
            check(f"reserve_energy_up_{label}", floor - low)
            check(f"reserve_energy_down_{label}", high - top)
        check("bess_up_headroom", dis - ch + rsum("bess", "up") - b.power_mw)
        check("bess_down_headroom", ch - dis + rsum("bess", "down") - b.power_mw)
    # curtailing the flexible load by its awards raises net export by as much
    up_all, dn_all = (
        rsum("gen", "up") + rsum("bess", "up") + rsum("load", "up"),
        rsum("gen", "down") + rsum("bess", "down") + rsum("load", "down"),
    )
    load_awards = {
        a.product: reserves[a.column]
        for a in awards
        if a.resource == "load" and a.product in products
    }
    if load_awards or case.load.reserves.weekly_curtailment_limit_mwh is not None:
        out += check_load_reserves(case, d, products, load_awards)
    if reserves:
        check("poi_reserve_up", exp_ - imp + up_all - case.poi.export_limit_mw)
        check("poi_reserve_down", imp - exp_ + dn_all - case.poi.import_limit_mw)
        # every award of a direction deployed together, rebuilt from the tables alone: each
        # element's P ± its awards (the grid by the site balance), Q as dispatched, against the
        # MW limits and MVA ratings with the true circle and with the model's polygon
        points = deployed_points(d, e, products)
        for state in DIRECTIONS:
            for limit, over in limit_excess(points[state], case, producing).items():
                check(f"deployed_{state}_{limit}", over)
    if case.events:
        out += _check_events(case, d)
    # Economics add up to the objective
    econ = results["economics"]
    total = sum(econ["revenues_usd"].values()) - sum(econ["costs_usd"].values())
    if abs(total - econ["net_value_usd"]) > ECONOMICS_TOL_USD:
        out.append(
            f"economics: stacks sum to {total:.2f}, net_value_usd is {econ['net_value_usd']:.2f}"
        )
    obj = econ.get("objective_usd")
    tariff = results.get("tariff")
    settled = econ.get("settled_after_solve_usd", {})
    expected = (
        {"transmission_cp_charge_usd"}
        if tariff is not None and not tariff["charge_in_objective"]
        else set()
    )
    if case.operations.settlement == "two_settlement":  # deviations at real-time prices
        expected.add("realtime_deviation_cost_usd")
    if set(settled) != expected:
        out.append(
            f"economics: settled_after_solve_usd names {sorted(settled)}, the case settles "
            f"{sorted(expected)} after the solve"
        )
    for name, usd in settled.items():
        if abs(econ["costs_usd"].get(name, math.nan) - usd) > ECONOMICS_TOL_USD:
            out.append(f"economics: settled {name} {usd:.2f} $ differs from its cost line")
    if obj is not None and expected:
        # a CP charge (or two-settlement deviation) settled after the solve is not in the
        # solver's objective
        obj = obj - sum(econ["costs_usd"].get(name, 0.0) for name in expected)
    if obj is not None and abs(econ["net_value_usd"] - obj) > max(
        ECONOMICS_TOL_USD, 1e-9 * abs(obj)
    ):
        out.append(f"economics: net_value_usd {econ['net_value_usd']:.2f} != objective {obj:.2f}")
    if case.tariff is not None:
        out += _check_tariff(case, d, econ, tariff, dt)
    # every line of the stack recomputed from the dispatch table alone (not the model's terms)

    table = economics_from_dispatch(d, case, list(products))
    for stack in ("revenues_usd", "costs_usd"):
        for name, usd in econ[stack].items():
            again = table[stack].get(name)
            if again is None or abs(again - usd) > max(ECONOMICS_TOL_USD, 1e-9 * abs(usd)):
                out.append(
                    f"economics: {name} is {usd:.2f} $ but the dispatch table gives "
                    f"{again if again is None else round(again, 2)} $"
                )
    price = d["price_usd_per_mwh"].to_numpy()
    recomputed_import = float(np.sum(price * imp * dt))
    if not math.isclose(
        recomputed_import,
        econ["costs_usd"]["energy_import_cost_usd"],
        rel_tol=1e-9,
        abs_tol=ECONOMICS_TOL_USD,
    ):
        out.append("economics: energy_import_cost_usd does not equal Σ price × import × Δt")
    return out


def sustained_load_margin_mw(
    consumed_mw: np.ndarray, awards: dict[str, np.ndarray], steps: dict[str, int]
) -> np.ndarray:
    """Deploy the flexible load's awards of each step t at once and keep each curtailed for
    its product's ``steps``: the least flexible MW left consumed over the steps it covers
    (negative: the load cannot deliver). Steps past the end of the table are not known and
    not checked."""
    n = len(consumed_mw)
    margin = np.full(n, np.inf)
    for k in range(max(steps.values(), default=0)):
        held = sum((a for p, a in awards.items() if steps[p] > k), np.zeros(n))
        later = np.concatenate([consumed_mw[k:], np.full(min(k, n), np.inf)])[:n]
        margin = np.minimum(margin, later - held)
    return margin


def check_load_reserves(
    case: Case, d: pd.DataFrame, products: dict[str, Any], awards: dict[str, np.ndarray]
) -> list[str]:
    """The flexible load's reserve awards, from the table and the case alone: up products only,
    each step's awards delivered out of the flexible MW consumed and sustained for their
    duration, and the energy curtailed per calendar week (planned + expected deployment)
    within the case's weekly limit."""
    out: list[str] = []
    dt = case.horizon.timestep_minutes / 60.0
    for p in awards:
        if products[p]["direction"] != "up":
            out.append(f"load reserves: {p} is a down product; the load may only carry up")
    flexible = d["load_mw"].to_numpy() * case.load.flexible_fraction
    consumed = flexible - d["flexible_curtailed_mw"].to_numpy()
    steps = {p: max(1, math.ceil(products[p]["duration_h"] / dt - 1e-9)) for p in awards}
    margin = sustained_load_margin_mw(consumed, awards, steps)
    _fail(out, "load_reserve_sustain", margin < -TOL, d.index, -margin)
    limit = case.load.reserves.weekly_curtailment_limit_mwh
    if limit is not None:
        frac = case.load.reserves.expected_deployment_fraction
        used = (d["flexible_curtailed_mw"] + frac * sum(awards.values())) * dt
        local = d.index.tz_convert(case.horizon.timezone).tz_localize(None)
        weekly = used.groupby(local.to_period("W-SUN")).sum()
        for week, mwh in weekly.items():
            if mwh > limit + TOL:
                out.append(
                    f"load_week_limit: week of {week.start_time.date()} curtails {mwh:.4f} MWh "
                    f"> limit {limit:.4f} MWh"
                )
    return out


def deploy_bess_reserves(
    level_mwh: np.ndarray, awards: dict[str, tuple[dict, np.ndarray]], bess
) -> tuple[np.ndarray, np.ndarray]:
    """Deliver every BESS reserve award from ``level_mwh`` and watch the SOC, minute by minute.

    Up-reserves discharge their MW at the AC side for their duration (the cells lose MW/η_dis),
    down-reserves charge theirs (the cells gain MW·η_ch); all products of one direction are
    deployed together. Returns (lowest SOC after the up deployment, highest SOC after the down
    deployment), MWh per step.
    """
    low = np.asarray(level_mwh, float).copy()
    high = low.copy()
    minutes = int(np.ceil(max((spec["duration_h"] * 60 for spec, _ in awards.values()), default=0)))
    for minute in range(minutes):
        for spec, mw in awards.values():
            if minute >= spec["duration_h"] * 60:
                continue
            share = min(1.0, spec["duration_h"] * 60 - minute)  # part of this minute delivered
            if spec["direction"] == "up":
                low = low - mw * share / 60.0 / bess.discharge_efficiency
            else:
                high = high + mw * share / 60.0 * bess.charge_efficiency
    return low, high


def per_unit_ramp_excess_mw(
    gen,
    timestep_minutes: int,
    before_mw: np.ndarray,
    after_mw: np.ndarray,
    producing: np.ndarray,
    new: np.ndarray,
    stops: np.ndarray,
) -> np.ndarray:
    """How far (MW) each transition is from having a per-unit dispatch, 0 where one exists.

    Units split into continuing (produce before and after), stopping (before only) and new
    (after only). Each unit of a group carries an equal share; a split exists when the stopping
    units' output before (x) and the new units' output after (y) can be chosen with every unit
    within [min MW, unit MW], stopping units ≤ the shut-down capability, new units ≤ the
    start-up capability and every continuing unit moving by at most the ramp: an interval
    intersection in (x, y), computed here without the model's rows.
    """
    pmin, pmax = gas_gen.min_output_mw(gen), gen.unit_mw
    ramp = gas_gen.ramp_per_step_mw(gen, timestep_minutes)
    su = gas_gen.startup_shutdown_ramp_mw(gen, timestep_minutes)
    c = np.maximum(producing - new, 0.0)
    a, b_ = np.asarray(before_mw, float), np.asarray(after_mw, float)
    x_lo = np.maximum(pmin * stops, a - pmax * c)
    x_hi = np.minimum(su * stops, a - pmin * c)
    y_lo = np.maximum(pmin * new, b_ - pmax * c)
    y_hi = np.minimum(su * new, b_ - pmin * c)
    # continuing units' change: (b − y) − (a − x) within [−ramp·c, ramp·c] ⇔ x − y ∈ [d_lo, d_hi]
    d_lo = -ramp * c - (b_ - a)
    d_hi = ramp * c - (b_ - a)
    gaps = [x_lo - x_hi, y_lo - y_hi, (x_lo - y_hi) - d_hi, d_lo - (x_hi - y_lo)]
    return np.maximum.reduce([np.maximum(gap, 0.0) for gap in gaps])


def _check_gen_deliverability(check, d, g, products, offline, producing, committed) -> None:
    """Gas-unit reserve awards a unit can ramp to within each product's deployment time."""
    if g.units == 0 or g.unit_mw == 0:
        return
    gen_award = {
        a.product: d[a.column].to_numpy()
        for a in columns.reserve_award_columns(d, products, resource="gen")
        if a.product in products
    }
    for direction in ("up", "down"):
        spec_of = {
            p: spec
            for p, spec in products.items()
            if spec["direction"] == direction and p in gen_award
        }
        for p, spec in spec_of.items():
            minutes = spec.get("deployment_minutes", 10.0)
            within = [q for q, s in spec_of.items() if s.get("deployment_minutes", 10.0) <= minutes]
            online = sum(gen_award[q] - offline.get(q, 0.0) for q in within)
            # each producing unit ramps from its output at its ramp rate for the deployment time
            reach = min(g.unit_mw, g.ramp_mw_per_min * minutes) * producing
            check(f"gen_reserve_deliverable_{p.lower()}", online - reach)
    for p, mw in offline.items():
        minutes = products[p].get("deployment_minutes", 30.0)
        check(f"gen_offline_{p.lower()}_share", mw - gen_award.get(p, 0.0))
        cap = gas_gen.offline_reserve_capability_mw(g, minutes) * (g.units - committed)
        check(f"gen_offline_{p.lower()}_capability", mw - cap)


def _check_tariff(
    case: Case, d: pd.DataFrame, econ: dict[str, Any], tariff: dict | None, dt: float
) -> list[str]:
    """The CP charge recomputed from the dispatch alone at the CP intervals (official ones
    re-read from their file, not the model's weights) and the rate; alert caps hold."""

    out: list[str] = []
    minutes = case.horizon.timestep_minutes
    start, end = d.index[0], d.index[-1] + pd.Timedelta(minutes=minutes)
    rule = case.tariff.resolved()
    if rule["intervals_source"] == "official":
        iv = cp_intervals(case, start, end)
    elif tariff is not None:
        iv = pd.DataFrame(tariff["intervals"])
        iv["start_utc"] = pd.to_datetime(iv["start_utc"], utc=True)
        iv["end_utc"] = pd.to_datetime(iv["end_utc"], utc=True)
    else:
        return ["tariff: results have no tariff section"]
    rates = read_rates()
    iv["rate_usd_per_kw_yr"] = [
        rate_for_cp_year(int(y), case.tariff, rates)["usd_per_kw_yr"] for y in iv["year"]
    ]
    n = len(rule["months"]) * rule["intervals_per_month"]
    usd, mw = charge_from_dispatch(d, iv, n, minutes)
    if np.isnan(mw[iv["in_horizon"].to_numpy(bool)]).any():
        out.append("tariff: a CP interval inside the horizon is not covered by the dispatch")
    line = econ["costs_usd"].get("transmission_cp_charge_usd")
    if line is None or abs(line - usd) > max(ECONOMICS_TOL_USD, 1e-7 * abs(usd)):
        out.append(
            f"tariff: transmission_cp_charge_usd is {line} $ but rate × mean withdrawal at the "
            f"CP intervals gives {usd:.2f} $"
        )
    if tariff is not None and abs(tariff["charge_usd"] - usd) > max(ECONOMICS_TOL_USD, 1e-7 * usd):
        out.append(f"tariff: section charge_usd {tariff['charge_usd']:.2f} != {usd:.2f} $")
    if case.tariff.response == "alert":
        if "cp_alert" not in d.columns:
            return [*out, "tariff: alert policy without a cp_alert column"]
        on = d["cp_alert"].to_numpy() > 0.5
        net = (d["grid_import_mw"] - d["grid_export_mw"]).to_numpy()
        excess = np.where(on, net - case.tariff.alert.max_withdrawal_mw, 0.0)
        _fail(out, "cp_alert_cap", excess > TOL, d.index, excess)
    return out


def _check_events(case: Case, d: pd.DataFrame) -> list[str]:
    """Net withdrawal ≤ cap at every step an event overlaps, the event steps and caps
    recomputed from the case's events and the timestamps (not the model's column)."""

    out: list[str] = []
    minutes = case.horizon.timestep_minutes
    net = (d["grid_import_mw"] - d["grid_export_mw"]).to_numpy()
    for ev in resolve(case.events):
        on = step_mask(ev, d.index, minutes)
        excess = np.where(on, net - ev.cap_mw, 0.0)
        _fail(out, f"event_cap_{ev.name}", excess > TOL, d.index, excess)
    return out
