"""Reserves: awards per product and eligible resource, and every constraint that couples them
to the gas units (headroom, deliverability within the deployment time, offline Non-Spin), the
battery (headroom, loss-aware energy backing) and N+1. Where deployment must fit the POI and
the MVA ratings: ``optimization.deployment`` from each component's deployment point."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from dcpower.optimization.components.base import (
    MUTABLE,
    Component,
    Family,
    has_bess,
    set_indexed,
    soft,
)
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import bess as bess_model
from dcpower.resources import gas_gen

_PER_UNIT = "per-unit formulation: "


class Reserves(Component):
    """Reserve awards (MW held per step) and their revenue at each product's price."""

    name = "reserves"
    families = {
        "bess_up_headroom": Family("discharge − charge + up-reserves ≤ power (MW)"),
        "bess_down_headroom": Family("charge − discharge + down-reserves ≤ power (MW)"),
        "reserve_energy_up": Family(
            "SOC − floor ≥ Σ up-reserve × duration / η_dis, at both ends of the step (MWh)",
            elastic=True,
        ),
        "reserve_energy_down": Family(
            "SOC max − SOC ≥ Σ down-reserve × duration × η_ch, at both ends of the step (MWh)"
        ),
        "gen_max_output": Family("gen + online up-reserves ≤ unit MW × producing units (MW)"),
        "gen_min_output": Family(
            "gen − down-reserves ≥ min stable MW × producing units (MW)", elastic=True
        ),
        "gen_reserve_deliverable_up": Family(
            "online gen up-reserves deployed within T minutes ≤ ramp·T per producing unit, for "
            "each product's deployment time T (MW)"
        ),
        "gen_reserve_deliverable_down": Family(
            "gen down-reserves deployed within T minutes ≤ ramp·T per producing unit, for each "
            "product's deployment time T (MW)"
        ),
        "gen_offline_reserve": Family(
            "reserve from offline units ≤ their start-and-ramp capability within the "
            "deployment time × units not committed (MW)"
        ),
        "gen_offline_reserve_share": Family("reserve from offline units ≤ the product's gen award"),
        "gen_unit_reserve_ramp_up": Family(
            _PER_UNIT + "a unit's share of the up-awards deployed within T ≤ ramp·T (MW)"
        ),
        "gen_unit_reserve_ramp_down": Family(
            _PER_UNIT + "a unit's share of the down-awards deployed within T ≤ ramp·T (MW)"
        ),
        "gen_unit_reserve_headroom_up": Family(
            _PER_UNIT + "a unit's up-awards ≤ unit MW − its output (MW)"
        ),
        "gen_unit_reserve_headroom_down": Family(
            _PER_UNIT + "a unit's down-awards ≤ its output − min MW (MW)"
        ),
        "gen_unit_reserve_nested_up": Family(_PER_UNIT + "shares grow with the deployment time"),
        "gen_unit_reserve_nested_down": Family(_PER_UNIT + "shares grow with the deployment time"),
        "gen_unit_reserve_sum_up": Family(_PER_UNIT + "unit shares add up to the fleet's awards"),
        "gen_unit_reserve_sum_down": Family(_PER_UNIT + "unit shares add up to the fleet's awards"),
        "n_plus_1": Family(
            "unit MW·(producing − 1) + BESS power − BESS up-reserves ≥ critical load (MW)",
            elastic=True,
        ),
        "n_plus_1_units": Family(
            "producing units ≥ ⌈(critical load − BESS power)/unit MW⌉ + 1 (units; the integer "
            "rounding of n_plus_1, which tightens the LP relaxation)"
        ),
    }

    def term_kinds(self, x: DispatchInputs) -> dict:
        return {f"reserve_{p.lower()}_revenue_usd": "revenue" for p in x.reserve_products}

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        m.reserve_price = pyo.Param(list(x.reserve_products), m.T, **MUTABLE)  # $/MW per hour
        m.n_plus_1_min_units = pyo.Param(m.T, **MUTABLE)  # units

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        m.reserve_price.store_values(
            {
                (p, t): v
                for p, prices in x.reserve_price_usd_per_mw_h.items()
                for t, v in enumerate(np.asarray(prices, dtype=float).tolist())
            },
            check=False,
        )
        set_indexed(m.n_plus_1_min_units, n_plus_1_min_units(x))

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        _add_reserves(m, x)

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        terms = {}
        for p in x.reserve_products:
            # the flexible load's awards are valued by ``load_reserves`` (a term of their own)
            pairs = [pr for pr in m.RESERVE_PAIRS if pr[0] == p and pr[1] != "load"]
            terms[f"reserve_{p.lower()}_revenue_usd"] = [
                sum(m.reserve_price[p, t] * m.reserve[p, res, t] * x.dt_h for _, res in pairs)
                for t in m.T
            ]
        return terms


def n_plus_1_min_units(x: DispatchInputs) -> np.ndarray:
    """Fewest producing units N+1 allows at each step: ⌈(critical − BESS power)/unit MW⌉ + 1.

    From unit MW·(producing − 1) + BESS power − up-reserves ≥ critical with up-reserves ≥ 0 and
    producing integer (clipped at 0). Zeros when N+1 is off or there are no gas units.
    """
    g, b = x.case.gas_gen, x.case.bess
    if not x.case.reliability.n_plus_1 or g.unit_mw <= 0 or g.units <= 0:
        return np.zeros(x.n_steps)
    bess_power = b.power_mw if b.installed else 0.0
    need = (x.load.critical_mw - bess_power) / g.unit_mw + 1.0
    return np.maximum(np.ceil(need - 1e-9), 0.0)


def _reserve_sum(m: pyo.ConcreteModel, x: DispatchInputs, resource: str, direction: str, t: int):
    return sum(
        m.reserve[p, r, t]
        for p, r in m.RESERVE_PAIRS
        if r == resource and x.reserve_products[p].direction == direction
    )


def _add_reserves(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Reserve variables and every constraint that couples them to gen, BESS and POI."""
    m.RESERVE_PAIRS = pyo.Set(initialize=x.eligible_pairs(), dimen=2, ordered=True)
    m.reserve = pyo.Var(m.RESERVE_PAIRS, m.T, within=pyo.NonNegativeReals)
    g, b = x.case.gas_gen, x.case.bess
    pmin, pmax = m.gen_pmin_mw, g.unit_mw

    def r(resource, direction):
        return lambda t: _reserve_sum(m, x, resource, direction, t)

    gen_up, gen_dn, bess_up, bess_dn = (
        r("gen", "up"),
        r("gen", "down"),
        r("bess", "up"),
        r("bess", "down"),
    )
    _add_gen_deliverability(m, x)
    gen_up_online = (
        (lambda t: gen_up(t) - sum(m.reserve_offline[p, t] for p in m.OFFLINE_PRODUCTS))
        if hasattr(m, "OFFLINE_PRODUCTS")
        else gen_up
    )
    m.gen_max_output = pyo.Constraint(
        m.T, rule=lambda m, t: m.gen_mw[t] + gen_up_online(t) <= pmax * m.gen_producing[t]
    )
    m.gen_min_output = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.gen_mw[t] - gen_dn(t) + soft(m, "gen_min_output", t) >= pmin * m.gen_producing[t]
        ),
    )
    bess_on = has_bess(x)
    bess_pairs = [pr for pr in m.RESERVE_PAIRS if pr[1] == "bess"]
    if bess_on and bess_pairs:
        top = bess_model.soc_max_mwh(b)

        def backing(direction: str, t: int):
            """Energy the awards take when deployed for their durations, at the AC side, MWh."""
            return sum(
                m.reserve[p, "bess", t] * x.reserve_products[p].duration_h
                for p, res in bess_pairs
                if x.reserve_products[p].direction == direction
            )

        m.bess_up_headroom = pyo.Constraint(
            m.T, rule=lambda m, t: m.bess_discharge[t] - m.bess_charge[t] + bess_up(t) <= b.power_mw
        )
        m.bess_down_headroom = pyo.Constraint(
            m.T, rule=lambda m, t: m.bess_charge[t] - m.bess_discharge[t] + bess_dn(t) <= b.power_mw
        )
        m.STEP_END = pyo.Set(initialize=["start", "end"])

        def soc_at(m, t, end):
            if end == "end":
                return m.bess_soc[t]
            return m.soc_initial if t == 0 else m.bess_soc[t - 1]

        m.reserve_energy_up = pyo.Constraint(
            m.T,
            m.STEP_END,
            rule=lambda m, t, e: (
                soc_at(m, t, e) - m.soc_floor_param[t] + soft(m, "reserve_energy_up", t)
                >= backing("up", t) / b.discharge_efficiency
            ),
        )
        m.reserve_energy_down = pyo.Constraint(
            m.T,
            m.STEP_END,
            rule=lambda m, t, e: top - soc_at(m, t, e) >= backing("down", t) * b.charge_efficiency,
        )
    # the POI after deployment (``poi_reserve_up/down``) and every MVA limit the awards pass:
    # each component's ``deployment_points``, built by ``optimization.deployment``
    if x.case.reliability.n_plus_1:
        bess_power = b.power_mw if bess_on else 0.0
        m.n_plus_1 = pyo.Constraint(
            m.T,
            rule=lambda m, t: (
                pmax * (m.gen_producing[t] - 1) + bess_power - bess_up(t) + soft(m, "n_plus_1", t)
                >= m.load_critical[t]
            ),
        )
        if not m.elastic and pmax > 0 and g.units > 0:
            m.n_plus_1_units = pyo.Constraint(
                m.T, rule=lambda m, t: m.gen_producing[t] >= m.n_plus_1_min_units[t]
            )


def _add_gen_deliverability(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Gas-unit awards a unit can ramp to in each product's deployment time.

    For every deployment time T among the gen-eligible products of one direction: the online
    awards of products deployed within T sum to at most ramp·T (capped at unit MW) per producing
    unit, so products deployed together are delivered together. Products marked
    ``offline_gen_eligible`` (ERCOT Non-Spin) may also come from units not committed, each
    contributing what it delivers after its start delay (``offline_reserve_capability_mw``).
    """
    g = x.case.gas_gen
    gen_products = [p for p, res in m.RESERVE_PAIRS if res == "gen"]
    if not gen_products:
        return
    offline = [
        p
        for p in gen_products
        if x.reserve_products[p].offline_gen_eligible
        and gas_gen.offline_reserve_capability_mw(g, x.reserve_products[p].deployment_minutes) > 0
    ]
    if offline:
        m.OFFLINE_PRODUCTS = pyo.Set(initialize=offline, ordered=True)
        m.reserve_offline = pyo.Var(m.OFFLINE_PRODUCTS, m.T, within=pyo.NonNegativeReals)
        m.gen_offline_reserve = pyo.Constraint(
            m.OFFLINE_PRODUCTS,
            m.T,
            rule=lambda m, p, t: (
                m.reserve_offline[p, t]
                <= gas_gen.offline_reserve_capability_mw(
                    g, x.reserve_products[p].deployment_minutes
                )
                * (g.units - m.gen_committed[t])
            ),
        )
        m.gen_offline_reserve_share = pyo.Constraint(
            m.OFFLINE_PRODUCTS,
            m.T,
            rule=lambda m, p, t: m.reserve_offline[p, t] <= m.reserve[p, "gen", t],
        )

    def online(p, t):
        award = m.reserve[p, "gen", t]
        return award - m.reserve_offline[p, t] if p in offline else award

    for direction in ("up", "down"):
        products = [p for p in gen_products if x.reserve_products[p].direction == direction]
        times = sorted({x.reserve_products[p].deployment_minutes for p in products})
        if not times:
            continue
        index = pyo.Set(initialize=times, ordered=True)
        setattr(m, f"GEN_DEPLOY_{direction.upper()}", index)

        def rule(m, T, t, products=products):
            within = [p for p in products if x.reserve_products[p].deployment_minutes <= T]
            cap = gas_gen.online_reserve_capability_mw(g, T)
            return sum(online(p, t) for p in within) <= cap * m.gen_producing[t]

        setattr(m, f"gen_reserve_deliverable_{direction}", pyo.Constraint(index, m.T, rule=rule))
        if m.gen_per_unit:
            _add_unit_reserve_shares(m, x, direction, index, products, online)


def _add_unit_reserve_shares(m, x: DispatchInputs, direction: str, tiers, products, online):
    """Per-unit formulation: split the fleet's online awards among the producing units, so each
    unit's share fits its own ramp within every deployment time and its own headroom (up: unit
    MW − its output; down: its output − min MW). ``share[T, i, t]``: unit i's part of the
    awards deployed within T minutes (non-decreasing in T)."""
    g = x.case.gas_gen
    pmin, pmax = gas_gen.min_output_mw(g), g.unit_mw
    share = pyo.Var(tiers, m.U, m.T, within=pyo.NonNegativeReals)
    setattr(m, f"unit_reserve_share_{direction}", share)
    times = list(tiers)

    def total(m, T, t):
        within = [p for p in products if x.reserve_products[p].deployment_minutes <= T]
        return sum(share[T, i, t] for i in m.U) == sum(online(p, t) for p in within)

    def ramp(m, T, i, t):
        cap = gas_gen.online_reserve_capability_mw(g, T)
        return share[T, i, t] <= cap * m.unit_producing[i, t]

    def nested(m, T, i, t):
        k = times.index(T)
        return pyo.Constraint.Skip if k == 0 else share[times[k - 1], i, t] <= share[T, i, t]

    def headroom(m, i, t):
        last = share[times[-1], i, t]
        if direction == "up":
            return last <= pmax * m.unit_producing[i, t] - m.unit_mw[i, t]
        return last <= m.unit_mw[i, t] - pmin * m.unit_producing[i, t]

    setattr(m, f"gen_unit_reserve_sum_{direction}", pyo.Constraint(tiers, m.T, rule=total))
    setattr(m, f"gen_unit_reserve_ramp_{direction}", pyo.Constraint(tiers, m.U, m.T, rule=ramp))
    setattr(m, f"gen_unit_reserve_nested_{direction}", pyo.Constraint(tiers, m.U, m.T, rule=nested))
    setattr(m, f"gen_unit_reserve_headroom_{direction}", pyo.Constraint(m.U, m.T, rule=headroom))
