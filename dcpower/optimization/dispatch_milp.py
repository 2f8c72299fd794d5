"""The dispatch MILP: every constraint family a named, time-indexed Pyomo component.

Everything that changes from one rolling window to the next (prices, load, SOC floor, the state
handed over at the window start, the terminal SOC) is a mutable ``Param``: a model built once
for a window length is re-used for every window of that length, and HiGHS receives only the
changed costs and bounds (``load_window_data``).

Sign conventions: P at the POI is import − export (MW, positive into the site); Q is positive
when delivered to the site bus (MVAr). BESS P is discharge − charge. Prices are $/MWh, reserve
prices $/MW per hour, Δt in hours. The objective maximises the site's net value in $.

Families (see ``CONSTRAINT_FAMILIES``) are what explainability reports when they bind.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import bess as bess_model
from dcpower.resources import gas_gen
from dcpower.topology.polygon import facet_coefficients

#: family name → what it states (units), for docs and explainability.
CONSTRAINT_FAMILIES: dict[str, str] = {
    "power_balance": "import − export + gen + discharge − charge = served load (MW)",
    "reactive_balance": "Q from POI + gen + PCS = Q of served load at its PF (MVAr)",
    "poi_import_cap": "import ≤ POI import limit · importing (MW)",
    "poi_export_cap": "export ≤ POI export limit · (1 − importing) (MW)",
    "poi_pf_upper": "Q at POI ≤ tan(acos PF_min)·|P| + priced excess (MVAr)",
    "poi_pf_lower": "−Q at POI ≤ tan(acos PF_min)·|P| + priced excess (MVAr)",
    "transformer_mva": "transformer (P, Q) inside the inscribed K-facet MVA polygon",
    "poi_reserve_up": "export after deploying all up-reserves ≤ export limit (MW)",
    "poi_reserve_down": "import after deploying all down-reserves ≤ import limit (MW)",
    "bess_charge_cap": "charge ≤ power·(1 − discharge mode) (MW)",
    "bess_discharge_cap": "discharge ≤ power·discharge mode (MW)",
    "pcs_mva": "PCS (P, Q) inside the inscribed K-facet MVA polygon",
    "soc_dynamics": "SOC[t] = SOC[t−1] + η_ch·charge·Δt − discharge·Δt/η_dis (MWh)",
    "soc_floor": "SOC ≥ physical min + market SOC reserve + ride-through energy (MWh)",
    "soc_ceiling": "SOC ≤ physical max (MWh)",
    "soc_terminal": "SOC at the end ≥ required final SOC (MWh)",
    "bess_up_headroom": "discharge − charge + up-reserves ≤ power (MW)",
    "bess_down_headroom": "charge − discharge + down-reserves ≤ power (MW)",
    "reserve_energy_up": "SOC − floor ≥ Σ up-reserve × duration / η_dis, at both ends of the "
    "step (MWh)",
    "reserve_energy_down": "SOC max − SOC ≥ Σ down-reserve × duration × η_ch, at both ends of "
    "the step (MWh)",
    "gen_commitment": "committed[t] = committed[t−1] + starts − stops (units)",
    "gen_start_delay": "units started in the last ceil(delay/Δt) steps do not produce (units); "
    "reported binding at the steps where started units wait",
    "gen_stop_producing": "stops[t] ≤ producing[t−1]: only producing units stop (units)",
    "gen_max_output": "gen + online up-reserves ≤ unit MW × producing units (MW)",
    "gen_min_output": "gen − down-reserves ≥ min stable MW × producing units (MW)",
    "gen_startup_capacity": "gen[t] ≤ unit MW·continuing + start-up ramp·new units: a unit's "
    "first producing step stays within its start-up capability (MW)",
    "gen_shutdown_capacity": "gen[t−1] ≤ unit MW·continuing + shut-down ramp·stopping units: a "
    "unit's last producing step stays within its shut-down capability (MW)",
    "gen_ramp_up": "gen[t] − gen[t−1] ≤ ramp·continuing + start-up ramp·new − min MW·stopping "
    "units (MW; per unit, no lending between groups)",
    "gen_ramp_down": "gen[t−1] − gen[t] ≤ ramp·continuing + shut-down ramp·stopping − min "
    "MW·new units (MW; per unit, no lending between groups)",
    "gen_reactive_upper": "Q gen ≤ tan(acos PF_min)·P gen (MVAr)",
    "gen_reactive_lower": "−Q gen ≤ tan(acos PF_min)·P gen (MVAr)",
    "gen_mva": "gas units (P, Q) inside the K-facet polygon of unit MVA × producing units",
    "gen_reserve_deliverable_up": "online gen up-reserves deployed within T minutes ≤ ramp·T per "
    "producing unit, for each product's deployment time T (MW)",
    "gen_reserve_deliverable_down": "gen down-reserves deployed within T minutes ≤ ramp·T per "
    "producing unit, for each product's deployment time T (MW)",
    "gen_offline_reserve": "reserve from offline units ≤ their start-and-ramp capability within "
    "the deployment time × units not committed (MW)",
    "gen_offline_reserve_share": "reserve from offline units ≤ the product's gen award (MW)",
    "gen_unit_min_output": "per-unit formulation: a producing unit's output ≥ min stable MW (MW)",
    "gen_unit_reserve_ramp_up": "per-unit formulation: a unit's share of the up-awards deployed "
    "within T ≤ ramp·T (MW)",
    "gen_unit_reserve_ramp_down": "per-unit formulation: a unit's share of the down-awards "
    "deployed within T ≤ ramp·T (MW)",
    "gen_unit_reserve_headroom_up": "per-unit formulation: a unit's up-awards ≤ unit MW − its "
    "output (MW)",
    "gen_unit_reserve_headroom_down": "per-unit formulation: a unit's down-awards ≤ its output "
    "− min MW (MW)",
    "gen_unit_reserve_nested_up": "per-unit formulation: shares grow with the deployment time",
    "gen_unit_reserve_nested_down": "per-unit formulation: shares grow with the deployment time",
    "n_plus_1": "unit MW·(producing − 1) + BESS power − BESS up-reserves ≥ critical load (MW)",
    "n_plus_1_units": "producing units ≥ ⌈(critical load − BESS power)/unit MW⌉ + 1 (units; the "
    "integer rounding of n_plus_1, which tightens the LP relaxation)",
}

#: families that involve reactive power: the second stage (``reactive.dispatch_reactive``)
#: re-sets Q after the solve, so their rows are re-checked for binding at the final Q.
REACTIVE_FAMILIES: tuple[str, ...] = (
    "poi_pf_upper",
    "poi_pf_lower",
    "transformer_mva",
    "pcs_mva",
    "gen_reactive_upper",
    "gen_reactive_lower",
    "gen_mva",
)

#: families that get elastic slacks when an infeasible case is re-solved to explain itself.
ELASTIC_FAMILIES: tuple[str, ...] = (
    "soc_floor",
    "soc_ceiling",
    "soc_terminal",
    "n_plus_1",
    "reactive_balance",
    "gen_ramp_up",
    "gen_ramp_down",
    "gen_min_output",
    "reserve_energy_up",
    "poi_pf_upper",
    "poi_pf_lower",
)

ELASTIC_PENALTY_USD = 1e7


def gen_needs_per_unit(x: DispatchInputs) -> bool:
    """Whether the gas units need the per-unit formulation: their ramp per step is below unit
    MW, so start-up, shut-down and ramp limits can bind and clustered counts could lend ramp
    room between units across steps. Otherwise every ramp row is slack and the clustered
    model is exact."""
    g = x.case.gas_gen
    if g.units == 0 or g.unit_mw == 0:
        return False
    return gas_gen.ramp_per_step_mw(g, x.case.horizon.timestep_minutes) < g.unit_mw - 1e-9


def build_dispatch_model(
    inputs: DispatchInputs,
    elastic: bool = False,
    free_start: bool = False,
    per_unit: bool | None = None,
) -> pyo.ConcreteModel:
    """Build the dispatch model.

    Parameters
    ----------
    inputs : numeric inputs on the model's time index.
    elastic : add penalised slacks to ``ELASTIC_FAMILIES`` (diagnosing infeasible cases).
    free_start : the start state (initial SOC, units committed, output, recent starts) is a
        variable, and the objective prices the start and end states (``link_price_start``,
        ``link_price_end``, $ per unit of state): one block of a Lagrangian decomposition of
        the horizon (``bounds.lagrangian_bound``), never a dispatch.
    per_unit : one set of commitment and output variables per gas unit (exact when ramps can
        bind); default ``gen_needs_per_unit`` for dispatch models, clustered for elastic and
        free-start models (the clustered model is a relaxation of the per-unit one, so bounds
        and diagnoses built on it stay valid).
    """
    m = pyo.ConcreteModel(name=inputs.case.name)
    m.T = pyo.RangeSet(0, inputs.n_steps - 1)
    m.K = pyo.RangeSet(0, inputs.case.transformer.polygon_facets - 1)
    m.elastic = elastic
    m.free_start = free_start
    if per_unit is None:
        per_unit = gen_needs_per_unit(inputs) and not (elastic or free_start)
    m.gen_per_unit = bool(per_unit) and inputs.case.gas_gen.units > 0
    if elastic:
        m.ELASTIC = pyo.Set(initialize=ELASTIC_FAMILIES)
        m.slack = pyo.Var(m.ELASTIC, m.T, ["pos", "neg"], within=pyo.NonNegativeReals)
    _add_window_params(m, inputs)
    _add_load(m, inputs)
    _add_grid(m, inputs)
    _add_bess(m, inputs)
    _add_gen(m, inputs)
    _add_reserves(m, inputs)
    _add_balances(m, inputs)
    _add_objective(m, inputs)
    load_window_data(m, inputs)
    return m


def _add_window_params(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Mutable parameters for every input that differs between windows of equal length."""
    products = list(x.reserve_products)
    mutable = {"mutable": True, "initialize": 0.0, "within": pyo.Reals}
    m.price = pyo.Param(m.T, **mutable)  # $/MWh
    m.reserve_price = pyo.Param(products, m.T, **mutable)  # $/MW per hour
    m.load_total = pyo.Param(m.T, **mutable)  # MW
    m.load_critical = pyo.Param(m.T, **mutable)
    m.load_flexible = pyo.Param(m.T, **mutable)
    m.load_other = pyo.Param(m.T, **mutable)
    m.soc_floor_param = pyo.Param(m.T, **mutable)  # MWh
    m.n_plus_1_min_units = pyo.Param(m.T, **mutable)  # units
    m.soc_final_min = pyo.Param(**mutable)  # MWh (0 when the window has no terminal SOC)
    #: MW added to the first step's ramp limits: the case's first step has no prior output
    #: (unit MW × units, never binding); 0 for later windows, whose prior output is known.
    m.gen_first_ramp_relief_mw = pyo.Param(**mutable)
    delay = gas_gen.start_delay_steps(x.case.gas_gen, x.case.horizon.timestep_minutes)
    prior = pyo.RangeSet(1, max(delay, 1))
    if m.free_start:
        _add_free_start(m, x, prior)
        return
    m.soc_initial = pyo.Param(**mutable)  # MWh
    m.gen_initial_committed = pyo.Param(**mutable)  # units
    m.gen_initial_mw = pyo.Param(**mutable)  # MW
    #: starts k = 1…delay steps before the window's first step (may still be in their delay).
    m.gen_prior_starts = pyo.Param(prior, **mutable)
    if m.gen_per_unit:
        m.U = pyo.RangeSet(0, x.case.gas_gen.units - 1)
        m.unit_initial_on = pyo.Param(m.U, **mutable)
        m.unit_initial_mw = pyo.Param(m.U, **mutable)
        m.unit_prior_starts = pyo.Param(m.U, prior, **mutable)


#: the state one window hands to the next: name → what it is (units).
LINK_STATES: dict[str, str] = {
    "soc": "SOC at the end of the previous step (MWh)",
    "committed": "units committed at the previous step (units)",
    "gen_mw": "gas output at the previous step (MW)",
}


def link_state_names(delay_steps: int) -> list[str]:
    """Names of the linking states: ``LINK_STATES`` plus ``starts_k``, the starts k steps
    before the block (k = 1…start-delay steps)."""
    return [*LINK_STATES, *(f"starts_{k}" for k in range(1, delay_steps + 1))]


def _add_free_start(m: pyo.ConcreteModel, x: DispatchInputs, prior: pyo.RangeSet) -> None:
    """Start state as variables (bounded by what any dispatch can hand over), and the mutable
    prices of the start and end states in $ per MWh, unit or MW (``link_price_*``)."""
    b, g = x.case.bess, x.case.gas_gen
    units = g.units if g.unit_mw > 0 else 0
    top = bess_model.soc_max_mwh(b) if b.power_mw > 0 and b.energy_mwh > 0 else 0.0
    m.soc_initial = pyo.Var(bounds=(0, top))
    m.gen_initial_committed = pyo.Var(within=pyo.NonNegativeIntegers, bounds=(0, units))
    m.gen_initial_mw = pyo.Var(bounds=(0, units * g.unit_mw))
    m.gen_prior_starts = pyo.Var(prior, within=pyo.NonNegativeIntegers, bounds=(0, units))
    # valid for every dispatch: recent starts are committed, output needs committed units
    m.free_start_starts = pyo.Constraint(
        expr=sum(m.gen_prior_starts[k] for k in prior) <= m.gen_initial_committed
    )
    m.free_start_output = pyo.Constraint(
        expr=m.gen_initial_mw <= g.unit_mw * m.gen_initial_committed
    )
    delay = gas_gen.start_delay_steps(g, x.case.horizon.timestep_minutes)
    m.LINKS = pyo.Set(initialize=link_state_names(delay), ordered=True)
    m.link_price_start = pyo.Param(m.LINKS, mutable=True, initialize=0.0, within=pyo.Reals)
    m.link_price_end = pyo.Param(m.LINKS, mutable=True, initialize=0.0, within=pyo.Reals)


def starts_lag(name: str) -> int:
    """k of a ``starts_k`` linking state; 1 for the others (the state just before)."""
    return int(name.split("_")[1]) if name.startswith("starts_") else 1


def prior_starts(x: DispatchInputs, k: int) -> float:
    """Units started k steps before ``x``'s first step (0 beyond what ``x`` records)."""
    prior = x.gen_prior_starts
    return float(prior[-k]) if k <= len(prior) else 0.0


def link_state_start(m: pyo.ConcreteModel, name: str):
    """The start-state variable (free_start model) or parameter of a linking state."""
    if name.startswith("starts_"):
        return m.gen_prior_starts[starts_lag(name)]
    return {
        "soc": m.soc_initial,
        "committed": m.gen_initial_committed,
        "gen_mw": m.gen_initial_mw,
    }[name]


def link_state_at(m: pyo.ConcreteModel, name: str, t: int):
    """The variable that a linking state is at the end of step ``t`` (``starts_k``: the starts
    of step t − k + 1, which are k steps before step t + 1)."""
    if name.startswith("starts_"):
        return m.gen_starts[t - starts_lag(name) + 1]
    return {"soc": m.bess_soc, "committed": m.gen_committed, "gen_mw": m.gen_mw}[name][t]


def _set_indexed(param, values) -> None:
    for t, v in enumerate(values):
        param[t] = float(v)


def load_window_data(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Write the inputs of one window into the model's mutable parameters.

    ``x`` must have the model's length, reserve products and case; only data changes.
    """
    if x.n_steps != len(m.T):
        raise ValueError(f"window of {x.n_steps} steps given to a {len(m.T)}-step model")
    _set_indexed(m.price, x.price_usd_per_mwh)
    for p, prices in x.reserve_price_usd_per_mw_h.items():
        for t, v in enumerate(prices):
            m.reserve_price[p, t] = float(v)
    _set_indexed(m.load_total, x.load.total_mw)
    _set_indexed(m.load_critical, x.load.critical_mw)
    _set_indexed(m.load_flexible, x.load.flexible_mw)
    _set_indexed(m.load_other, x.load.other_mw)
    _set_indexed(m.soc_floor_param, x.soc_floor_mwh)
    _set_indexed(m.n_plus_1_min_units, n_plus_1_min_units(x))
    m.soc_final_min = float(x.soc_final_min_mwh or 0.0)
    g = x.case.gas_gen
    m.gen_first_ramp_relief_mw = float(g.units * g.unit_mw) if x.gen_initial_mw is None else 0.0
    if m.free_start:  # the start state is a variable; bounds.lagrangian_bound fixes or frees it
        return
    m.soc_initial = float(x.soc_initial_mwh)
    m.gen_initial_committed = float(x.gen_initial_committed)
    m.gen_initial_mw = float(x.gen_initial_mw or 0.0)
    for k in m.gen_prior_starts:
        m.gen_prior_starts[k] = prior_starts(x, k)
    if m.gen_per_unit:
        for i, (on, mw, starts) in enumerate(initial_units(x)):
            m.unit_initial_on[i] = float(on)
            m.unit_initial_mw[i] = float(mw)
            for k in range(1, len(m.gen_prior_starts) + 1):
                m.unit_prior_starts[i, k] = float(starts[-k]) if k <= len(starts) else 0.0


def initial_units(x: DispatchInputs) -> tuple[tuple[int, float, tuple[int, ...]], ...]:
    """Per-unit start state (on 0/1, output MW, recent starts oldest first) of ``x``."""
    if x.gen_initial_units is not None:
        return x.gen_initial_units
    g = x.case.gas_gen
    mw = (x.gen_initial_mw or 0.0) / max(x.gen_initial_committed, 1)
    return tuple(
        (1, mw, ()) if i < x.gen_initial_committed else (0, 0.0, ()) for i in range(g.units)
    )


def units_end_state(
    m: pyo.ConcreteModel, last: int
) -> tuple[tuple[int, float, tuple[int, ...]], ...] | None:
    """Per-unit state at the end of step ``last`` (the next window's start), or None for the
    clustered formulation."""
    if not m.gen_per_unit:
        return None
    delay = m.gen_delay_steps
    out = []
    for i in m.U:
        recent = [
            int(round(pyo.value(m.unit_start[i, t]))) if t >= 0 else 0
            for t in range(last - delay + 1, last + 1)
        ]
        out.append(
            (
                int(round(pyo.value(m.unit_on[i, last]))),
                float(pyo.value(m.unit_mw[i, last])),
                tuple(recent),
            )
        )
    return tuple(out)


def n_plus_1_min_units(x: DispatchInputs) -> np.ndarray:
    """Fewest producing units N+1 allows at each step: ⌈(critical − BESS power)/unit MW⌉ + 1.

    From unit MW·(producing − 1) + BESS power − up-reserves ≥ critical with up-reserves ≥ 0 and
    producing integer (clipped at 0). Zeros when N+1 is off or there are no gas units.
    """
    g, b = x.case.gas_gen, x.case.bess
    if not x.case.reliability.n_plus_1 or g.unit_mw <= 0 or g.units <= 0:
        return np.zeros(x.n_steps)
    bess_power = b.power_mw if b.power_mw > 0 and b.energy_mwh > 0 else 0.0
    need = (x.load.critical_mw - bess_power) / g.unit_mw + 1.0
    return np.maximum(np.ceil(need - 1e-9), 0.0)


def _mode_domain(x: DispatchInputs, t: int):
    """Binary where ``x.binary_steps`` asks for it (default everywhere), else [0, 1]."""
    return pyo.Binary if x.binary_steps is None or t in x.binary_steps else pyo.UnitInterval


def _soft(m: pyo.ConcreteModel, family: str, t: int, sign: str = "pos"):
    """Elastic slack of a family at t, or 0 when the model is not elastic."""
    return m.slack[family, t, sign] if m.elastic else 0.0


def _add_load(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    m.unserved_critical = pyo.Var(m.T, bounds=lambda m, t: (0, m.load_critical[t]))
    m.unserved_flexible = pyo.Var(m.T, bounds=lambda m, t: (0, m.load_flexible[t]))
    m.unserved_other = pyo.Var(m.T, bounds=lambda m, t: (0, m.load_other[t]))
    m.served = pyo.Expression(
        m.T,
        rule=lambda m, t: (
            m.load_total[t] - m.unserved_critical[t] - m.unserved_flexible[t] - m.unserved_other[t]
        ),
    )


def _add_grid(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    poi, xf = x.case.poi, x.case.transformer
    k_poi = gas_gen.reactive_ratio(poi.min_power_factor)
    m.grid_import = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.grid_export = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.poi_q = pyo.Var(m.T, within=pyo.Reals)
    # One direction per step: keeps |P| = import + export exact for the PF rows and stops
    # import/export circulation (free money when the export adder is ≥ 0).
    m.grid_importing = pyo.Var(m.T, within=lambda m, t: _mode_domain(x, t))
    m.poi_import_cap = pyo.Constraint(
        m.T, rule=lambda m, t: m.grid_import[t] <= poi.import_limit_mw * m.grid_importing[t]
    )
    m.poi_export_cap = pyo.Constraint(
        m.T, rule=lambda m, t: m.grid_export[t] <= poi.export_limit_mw * (1 - m.grid_importing[t])
    )
    if poi.power_factor_rule == "penalty":
        m.poi_q_excess = pyo.Var(m.T, within=pyo.NonNegativeReals)  # MVAr beyond the PF limit

    def excess(m, t):
        return m.poi_q_excess[t] if hasattr(m, "poi_q_excess") else 0.0

    m.poi_pf_upper = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.poi_q[t] - excess(m, t) - _soft(m, "poi_pf_upper", t)
            <= k_poi * (m.grid_import[t] + m.grid_export[t])
        ),
    )
    m.poi_pf_lower = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            -m.poi_q[t] - excess(m, t) - _soft(m, "poi_pf_lower", t)
            <= k_poi * (m.grid_import[t] + m.grid_export[t])
        ),
    )
    facets = facet_coefficients(xf.polygon_facets)
    m.transformer_mva = pyo.Constraint(
        m.K,
        m.T,
        rule=lambda m, k, t: (
            facets[k][0] * (m.grid_import[t] - m.grid_export[t]) + facets[k][1] * m.poi_q[t]
            <= facets[k][2] * xf.rating_mva
        ),
    )


def _add_bess(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    b = x.case.bess
    dt = x.dt_h
    has_bess = b.power_mw > 0 and b.energy_mwh > 0
    power = b.power_mw if has_bess else 0.0
    m.bess_charge = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.bess_discharge = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.bess_q = pyo.Var(m.T, within=pyo.Reals)
    m.bess_soc = pyo.Var(m.T, within=pyo.NonNegativeReals)
    if has_bess:
        m.bess_discharging = pyo.Var(m.T, within=lambda m, t: _mode_domain(x, t))
        m.bess_charge_cap = pyo.Constraint(
            m.T, rule=lambda m, t: m.bess_charge[t] <= power * (1 - m.bess_discharging[t])
        )
        m.bess_discharge_cap = pyo.Constraint(
            m.T, rule=lambda m, t: m.bess_discharge[t] <= power * m.bess_discharging[t]
        )
    else:
        for t in m.T:
            m.bess_charge[t].fix(0)
            m.bess_discharge[t].fix(0)
            m.bess_q[t].fix(0)
            m.bess_soc[t].fix(0)
        return
    facets = facet_coefficients(x.case.transformer.polygon_facets)
    m.pcs_mva = pyo.Constraint(
        m.K,
        m.T,
        rule=lambda m, k, t: (
            facets[k][0] * (m.bess_discharge[t] - m.bess_charge[t]) + facets[k][1] * m.bess_q[t]
            <= facets[k][2] * b.pcs_mva
        ),
    )
    m.soc_dynamics = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.bess_soc[t]
            == (m.soc_initial if t == 0 else m.bess_soc[t - 1])
            + b.charge_efficiency * m.bess_charge[t] * dt
            - m.bess_discharge[t] * dt / b.discharge_efficiency
        ),
    )
    top = bess_model.soc_max_mwh(b)
    m.soc_floor = pyo.Constraint(
        m.T, rule=lambda m, t: m.bess_soc[t] + _soft(m, "soc_floor", t) >= m.soc_floor_param[t]
    )
    m.soc_ceiling = pyo.Constraint(
        m.T, rule=lambda m, t: m.bess_soc[t] - _soft(m, "soc_ceiling", t) <= top
    )
    last = x.n_steps - 1
    m.soc_terminal = pyo.Constraint(
        expr=m.bess_soc[last] + _soft(m, "soc_terminal", last) >= m.soc_final_min
    )


def _add_gen(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Identical gas units: counts committed/started/stopped, output, Q and MVA.

    Clustered formulation (``m.gen_per_unit`` false): groups at step t — ``new`` units produce
    for the first time (started ``delay`` steps ago), ``stopping`` units produced at t−1 and are
    off at t, ``continuing`` = producing − new produced at both — keep their own ramp limits
    (Morales-España-style tight clustered UC; for one transition exactly the sum of per-unit
    polytopes). It is exact when no ramp row can bind (ramp per step ≥ unit MW); otherwise
    units at different levels could lend ramp room across steps, so the per-unit formulation
    (``_add_gen_units``) carries one set of variables per unit and the counts are their sums.
    """
    g = x.case.gas_gen
    step = x.case.horizon.timestep_minutes
    n_units = g.units if g.unit_mw > 0 else 0
    m.gen_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.gen_q = pyo.Var(m.T, within=pyo.Reals)
    m.gen_committed = pyo.Var(m.T, within=pyo.NonNegativeIntegers, bounds=(0, n_units))
    m.gen_starts = pyo.Var(m.T, within=pyo.NonNegativeIntegers, bounds=(0, n_units))
    m.gen_stops = pyo.Var(m.T, within=pyo.NonNegativeReals, bounds=(0, n_units))
    delay = gas_gen.start_delay_steps(g, step)
    m.gen_delay_steps = delay

    def starts_at(m, tau):
        """Starts at step tau (negative: before the window, from ``gen_prior_starts``)."""
        if tau >= 0:
            return m.gen_starts[tau]
        return m.gen_prior_starts[-tau] if -tau <= delay else 0

    def recent_starts(m, t):
        return sum(starts_at(m, tau) for tau in range(t - delay + 1, t + 1))

    def committed_at(m, t):
        return m.gen_initial_committed if t < 0 else m.gen_committed[t]

    m.gen_producing = pyo.Expression(
        m.T, rule=lambda m, t: m.gen_committed[t] - recent_starts(m, t)
    )
    #: producing units at the step before the window (committed minus those still in delay)
    m.gen_producing_before = pyo.Expression(expr=m.gen_initial_committed - recent_starts(m, -1))
    m.gen_new_producing = pyo.Expression(
        m.T, rule=lambda m, t: starts_at(m, t - delay) if delay > 0 else m.gen_starts[t]
    )
    m.gen_commitment = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.gen_committed[t] == committed_at(m, t - 1) + m.gen_starts[t] - m.gen_stops[t]
        ),
    )
    if m.gen_per_unit:
        _add_gen_units(m, x, delay)
    else:
        if delay > 0:
            m.gen_start_delay = pyo.Constraint(m.T, rule=lambda m, t: m.gen_producing[t] >= 0)
        _add_gen_cluster_ramps(m, x)
    k_gen = gas_gen.reactive_ratio(g.min_power_factor)
    m.gen_reactive_upper = pyo.Constraint(m.T, rule=lambda m, t: m.gen_q[t] <= k_gen * m.gen_mw[t])
    m.gen_reactive_lower = pyo.Constraint(m.T, rule=lambda m, t: -m.gen_q[t] <= k_gen * m.gen_mw[t])
    facets = facet_coefficients(x.case.transformer.polygon_facets)
    s_unit = gas_gen.unit_mva(g)
    m.gen_mva = pyo.Constraint(
        m.K,
        m.T,
        rule=lambda m, k, t: (
            facets[k][0] * m.gen_mw[t] + facets[k][1] * m.gen_q[t]
            <= facets[k][2] * s_unit * m.gen_producing[t]
        ),
    )
    m.gen_pmin_mw = gas_gen.min_output_mw(g)


def _ramp_limits(x: DispatchInputs) -> tuple[float, float, float, float]:
    """(min MW, unit MW, ramp per step MW, start-up/shut-down capability MW) of one unit."""
    g = x.case.gas_gen
    step = x.case.horizon.timestep_minutes
    return (
        gas_gen.min_output_mw(g),
        g.unit_mw,
        gas_gen.ramp_per_step_mw(g, step),
        gas_gen.startup_shutdown_ramp_mw(g, step),
    )


def _relief(m: pyo.ConcreteModel, t: int):
    return m.gen_first_ramp_relief_mw if t == 0 else 0.0


def _add_gen_cluster_ramps(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Ramp, start-up and shut-down rows of the clustered units, by group (see ``_add_gen``)."""
    pmin, pmax, ramp, su = _ramp_limits(x)

    def producing_prev(m, t):
        return m.gen_producing_before if t == 0 else m.gen_producing[t - 1]

    def continuing(m, t):
        return m.gen_producing[t] - m.gen_new_producing[t]

    def prev_gen(m, t):
        return m.gen_initial_mw if t == 0 else m.gen_mw[t - 1]

    m.gen_stop_producing = pyo.Constraint(
        m.T, rule=lambda m, t: m.gen_stops[t] <= producing_prev(m, t)
    )
    m.gen_startup_capacity = pyo.Constraint(
        m.T,
        rule=lambda m, t: m.gen_mw[t] <= pmax * continuing(m, t) + su * m.gen_new_producing[t],
    )
    m.gen_shutdown_capacity = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            prev_gen(m, t)
            <= pmax * (producing_prev(m, t) - m.gen_stops[t]) + su * m.gen_stops[t] + _relief(m, t)
        ),
    )
    m.gen_ramp_up = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.gen_mw[t] - prev_gen(m, t) - _soft(m, "gen_ramp_up", t)
            <= ramp * continuing(m, t)
            + su * m.gen_new_producing[t]
            - pmin * m.gen_stops[t]
            + _relief(m, t)
        ),
    )
    m.gen_ramp_down = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            prev_gen(m, t) - m.gen_mw[t] - _soft(m, "gen_ramp_down", t)
            <= ramp * continuing(m, t)
            + su * m.gen_stops[t]
            - pmin * m.gen_new_producing[t]
            + _relief(m, t)
        ),
    )


def _add_gen_units(m: pyo.ConcreteModel, x: DispatchInputs, delay: int) -> None:
    """One set of variables per unit; the fleet's counts and output are their sums.

    Per unit i: on/start binaries, stop, output. A started unit produces nothing for ``delay``
    steps; a producing unit stays within [min MW, unit MW]; its first producing step reaches at
    most the start-up capability, its last at most the shut-down capability; a running unit
    moves by at most the ramp per step; it stops only from producing. Same family names as
    the clustered rows, indexed (unit, step).
    """
    pmin, pmax, ramp, su = _ramp_limits(x)
    m.unit_on = pyo.Var(m.U, m.T, within=pyo.Binary)
    m.unit_start = pyo.Var(m.U, m.T, within=pyo.Binary)
    m.unit_stop = pyo.Var(m.U, m.T, bounds=(0, 1))
    m.unit_mw = pyo.Var(m.U, m.T, within=pyo.NonNegativeReals)

    def start_at(m, i, tau):
        if tau >= 0:
            return m.unit_start[i, tau]
        return m.unit_prior_starts[i, -tau] if -tau <= delay else 0

    def producing(m, i, t):
        on = m.unit_initial_on[i] if t < 0 else m.unit_on[i, t]
        return on - sum(start_at(m, i, tau) for tau in range(t - delay + 1, t + 1))

    def first(m, i, t):
        return start_at(m, i, t - delay)

    def prev_mw(m, i, t):
        return m.unit_initial_mw[i] if t == 0 else m.unit_mw[i, t - 1]

    def on_prev(m, i, t):
        return m.unit_initial_on[i] if t == 0 else m.unit_on[i, t - 1]

    m.gen_unit_sums = pyo.ConstraintList()
    for t in m.T:
        m.gen_unit_sums.add(m.gen_committed[t] == sum(m.unit_on[i, t] for i in m.U))
        m.gen_unit_sums.add(m.gen_starts[t] == sum(m.unit_start[i, t] for i in m.U))
        m.gen_unit_sums.add(m.gen_mw[t] == sum(m.unit_mw[i, t] for i in m.U))
    UT = (m.U, m.T)
    m.gen_unit_commitment = pyo.Constraint(
        *UT,
        rule=lambda m, i, t: (
            m.unit_on[i, t] - on_prev(m, i, t) == m.unit_start[i, t] - m.unit_stop[i, t]
        ),
    )
    if delay > 0:
        m.gen_start_delay = pyo.Constraint(*UT, rule=lambda m, i, t: producing(m, i, t) >= 0)
    m.gen_stop_producing = pyo.Constraint(
        *UT, rule=lambda m, i, t: m.unit_stop[i, t] <= producing(m, i, t - 1)
    )
    m.gen_unit_min_output = pyo.Constraint(
        *UT, rule=lambda m, i, t: m.unit_mw[i, t] >= pmin * producing(m, i, t)
    )
    m.gen_startup_capacity = pyo.Constraint(
        *UT,
        rule=lambda m, i, t: (
            m.unit_mw[i, t] <= pmax * (producing(m, i, t) - first(m, i, t)) + su * first(m, i, t)
        ),
    )
    m.gen_shutdown_capacity = pyo.Constraint(
        *UT,
        rule=lambda m, i, t: (
            prev_mw(m, i, t)
            <= pmax * (producing(m, i, t - 1) - m.unit_stop[i, t])
            + su * m.unit_stop[i, t]
            + _relief(m, t)
        ),
    )
    m.gen_ramp_up = pyo.Constraint(
        *UT,
        rule=lambda m, i, t: (
            m.unit_mw[i, t] - prev_mw(m, i, t)
            <= ramp * (producing(m, i, t) - first(m, i, t)) + su * first(m, i, t) + _relief(m, t)
        ),
    )
    m.gen_ramp_down = pyo.Constraint(
        *UT,
        rule=lambda m, i, t: (
            prev_mw(m, i, t) - m.unit_mw[i, t]
            <= ramp * (producing(m, i, t) - first(m, i, t)) + su * m.unit_stop[i, t] + _relief(m, t)
        ),
    )
    m.unit_producing = pyo.Expression(*UT, rule=lambda m, i, t: producing(m, i, t))


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
    g, b, poi = x.case.gas_gen, x.case.bess, x.case.poi
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
            m.gen_mw[t] - gen_dn(t) + _soft(m, "gen_min_output", t) >= pmin * m.gen_producing[t]
        ),
    )
    has_bess = b.power_mw > 0 and b.energy_mwh > 0
    bess_pairs = [pr for pr in m.RESERVE_PAIRS if pr[1] == "bess"]
    if has_bess and bess_pairs:
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
                soc_at(m, t, e) - m.soc_floor_param[t] + _soft(m, "reserve_energy_up", t)
                >= backing("up", t) / b.discharge_efficiency
            ),
        )
        m.reserve_energy_down = pyo.Constraint(
            m.T,
            m.STEP_END,
            rule=lambda m, t, e: top - soc_at(m, t, e) >= backing("down", t) * b.charge_efficiency,
        )
    if len(m.RESERVE_PAIRS):
        up_all = [pr for pr in m.RESERVE_PAIRS if x.reserve_products[pr[0]].direction == "up"]
        dn_all = [pr for pr in m.RESERVE_PAIRS if x.reserve_products[pr[0]].direction == "down"]
        if up_all:
            m.poi_reserve_up = pyo.Constraint(
                m.T,
                rule=lambda m, t: (
                    m.grid_export[t]
                    - m.grid_import[t]
                    + sum(m.reserve[p, res, t] for p, res in up_all)
                    <= poi.export_limit_mw
                ),
            )
        if dn_all:
            m.poi_reserve_down = pyo.Constraint(
                m.T,
                rule=lambda m, t: (
                    m.grid_import[t]
                    - m.grid_export[t]
                    + sum(m.reserve[p, res, t] for p, res in dn_all)
                    <= poi.import_limit_mw
                ),
            )
    if x.case.reliability.n_plus_1:
        bess_power = b.power_mw if has_bess else 0.0
        m.n_plus_1 = pyo.Constraint(
            m.T,
            rule=lambda m, t: (
                pmax * (m.gen_producing[t] - 1) + bess_power - bess_up(t) + _soft(m, "n_plus_1", t)
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


def _add_balances(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    k_load = gas_gen.reactive_ratio(x.case.load.power_factor)
    m.power_balance = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.grid_import[t]
            - m.grid_export[t]
            + m.gen_mw[t]
            + m.bess_discharge[t]
            - m.bess_charge[t]
            == m.served[t]
        ),
    )
    m.reactive_balance = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.poi_q[t]
            + m.gen_q[t]
            + m.bess_q[t]
            + _soft(m, "reactive_balance", t, "pos")
            - _soft(m, "reactive_balance", t, "neg")
            == k_load * m.served[t]
        ),
    )


def objective_terms_by_step(m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
    """Net-value components per step in $, signed (revenues positive, costs negative).

    The one statement of the objective's coefficients: the objective is their sum, and a
    rolling window's kept steps are valued by summing them over those steps.
    """
    dt = x.dt_h
    price = m.price
    adder = x.case.market.export_price_adder_usd_per_mwh
    g, b, rel, load = x.case.gas_gen, x.case.bess, x.case.reliability, x.case.load
    T = list(m.T)
    terms: dict[str, list] = {
        "energy_export_revenue_usd": [(price[t] + adder) * m.grid_export[t] * dt for t in T],
        "energy_import_cost_usd": [-price[t] * m.grid_import[t] * dt for t in T],
    }
    for p in x.reserve_products:
        pairs = [pr for pr in m.RESERVE_PAIRS if pr[0] == p]
        terms[f"reserve_{p.lower()}_revenue_usd"] = [
            sum(m.reserve_price[p, t] * m.reserve[p, res, t] * dt for _, res in pairs) for t in T
        ]
    terms["gen_fuel_cost_usd"] = [-g.fuel_cost_usd_per_mwh * m.gen_mw[t] * dt for t in T]
    terms["gen_start_cost_usd"] = [-g.start_cost_usd * m.gen_starts[t] for t in T]
    terms["bess_degradation_cost_usd"] = [
        -b.degradation_cost_usd_per_mwh * (m.bess_charge[t] + m.bess_discharge[t]) * dt for t in T
    ]
    terms["unserved_critical_cost_usd"] = [
        -rel.voll_critical_usd_per_mwh * m.unserved_critical[t] * dt for t in T
    ]
    terms["unserved_noncritical_cost_usd"] = [
        -rel.voll_noncritical_usd_per_mwh * m.unserved_other[t] * dt for t in T
    ]
    terms["flexible_curtailment_cost_usd"] = [
        -load.flexible_curtailment_usd_per_mwh * m.unserved_flexible[t] * dt for t in T
    ]
    if hasattr(m, "poi_q_excess"):
        cost = x.case.poi.excess_reactive_cost_usd_per_mvarh
        terms["poi_excess_reactive_cost_usd"] = [-cost * m.poi_q_excess[t] * dt for t in T]
    return terms


def objective_terms(m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, pyo.Expression]:
    """Net-value components in $ over the model's horizon, signed (revenues positive)."""
    return {name: sum(parts) for name, parts in objective_terms_by_step(m, x).items()}


def kept_value_usd(m: pyo.ConcreteModel, x: DispatchInputs, keep: int) -> float:
    """Net value in $ of the solved model's first ``keep`` steps (a rolling window's kept part),
    from the objective's own per-step terms at the current solution."""
    return float(
        sum(
            pyo.value(parts[t])
            for parts in objective_terms_by_step(m, x).values()
            for t in range(keep)
        )
    )


def _add_objective(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    terms = objective_terms(m, x)
    m.objective_terms = terms
    total = sum(terms.values())
    if m.free_start:
        last = x.n_steps - 1
        total = total + sum(
            m.link_price_end[k] * link_state_at(m, k, last)
            - m.link_price_start[k] * link_state_start(m, k)
            for k in m.LINKS
        )
    if m.elastic:
        total = total - ELASTIC_PENALTY_USD * sum(m.slack[k] for k in m.slack)
    m.net_value = pyo.Objective(expr=total, sense=pyo.maximize)
