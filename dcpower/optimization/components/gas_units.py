"""Identical gas units: commitment with a start delay, output limits, per-unit ramps (clustered
where exact, per unit where ramps can bind), Q and MVA, fuel and start costs. Hands units
committed, output, recent starts (and per-unit states) to the next window."""

from __future__ import annotations

import pyomo.environ as pyo

from dcpower import columns
from dcpower.optimization.components.base import (
    MUTABLE,
    Component,
    DeploymentPoint,
    Family,
    award_sum,
    polygon_rows,
    soft,
)
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import gas_gen
from dcpower.topology.deployment import unit_q_chord, unit_q_room_mvar

_PER_UNIT = "per-unit formulation: "


class GasUnits(Component):
    """Counts (committed, started, stopped), output and Q of the fleet; see ``_add_gen``."""

    name = "gas_units"
    families = {
        "gen_commitment": Family("committed[t] = committed[t−1] + starts − stops (units)"),
        "gen_start_delay": Family(
            "units started in the last ceil(delay/Δt) steps do not produce (units); reported "
            "binding at the steps where started units wait"
        ),
        "gen_stop_producing": Family("stops[t] ≤ producing[t−1]: only producing units stop"),
        "gen_startup_capacity": Family(
            "gen[t] ≤ unit MW·continuing + start-up ramp·new units: a unit's first producing "
            "step stays within its start-up capability (MW)"
        ),
        "gen_shutdown_capacity": Family(
            "gen[t−1] ≤ unit MW·continuing + shut-down ramp·stopping units: a unit's last "
            "producing step stays within its shut-down capability (MW)"
        ),
        "gen_ramp_up": Family(
            "gen[t] − gen[t−1] ≤ ramp·continuing + start-up ramp·new − min MW·stopping units "
            "(MW; per unit, no lending between groups)",
            elastic=True,
        ),
        "gen_ramp_down": Family(
            "gen[t−1] − gen[t] ≤ ramp·continuing + shut-down ramp·stopping − min MW·new units "
            "(MW; per unit, no lending between groups)",
            elastic=True,
        ),
        "gen_reactive_upper": Family("Q gen ≤ tan(acos PF_min)·P gen (MVAr)", reactive=True),
        "gen_reactive_lower": Family("−Q gen ≤ tan(acos PF_min)·P gen (MVAr)", reactive=True),
        "gen_mva": Family(
            "gas units (P, Q) inside the K-facet polygon of unit MVA × producing units (facets "
            "no deployment moves them towards)",
            reactive=True,
        ),
        "gen_deployed_up": Family(
            "producing units (output + online up-awards, Q as dispatched) inside the K-facet "
            "polygon of unit MVA × producing units, facets the up-deployment moves them towards "
            "(MVA; units started for offline awards carry theirs at Q 0 on their own rating)",
            reactive=True,
        ),
        "gen_deployed_down": Family(
            "producing units (output − down-awards, Q as dispatched) inside the K-facet polygon "
            "of unit MVA × producing units, facets the down-deployment moves them towards (MVA)",
            reactive=True,
        ),
        "gen_unit_mva": Family(
            "|Q gen| ≤ producing units × intercept − fall × gas output (MVAr; the chord under "
            "one unit's polygon Q room between min and rated MW): a Q split with every unit "
            "inside its own polygon exists however the output is split among them",
            reactive=True,
        ),
        "gen_unit_deployed_up": Family(
            "|Q gen| ≤ producing units × intercept − fall × (output + online up-awards) (MVAr; "
            "the chord of gen_unit_mva): every unit inside its own polygon with the up-awards "
            "deployed, however they are split",
            reactive=True,
        ),
        "gen_unit_commitment": Family(_PER_UNIT + "on[t] − on[t−1] = start − stop (per unit)"),
        "gen_unit_min_output": Family(_PER_UNIT + "a producing unit's output ≥ min stable MW (MW)"),
        "gen_unit_sums": Family(_PER_UNIT + "fleet committed, starts and output = sums over units"),
        "free_start_starts": Family(
            "bound blocks: recent starts ≤ units committed at the block start (units)"
        ),
        "free_start_output": Family(
            "bound blocks: output at the block start ≤ unit MW × units committed (MW)"
        ),
    }
    terms = columns.term_kinds("gen_fuel_cost_usd", "gen_start_cost_usd")

    def link_states(self, x: DispatchInputs) -> dict[str, str]:
        delay = gas_gen.start_delay_steps(x.case.gas_gen, x.case.horizon.timestep_minutes)
        states = {
            "committed": "units committed at the previous step (units)",
            "gen_mw": "gas output at the previous step (MW)",
        }
        for k in range(1, delay + 1):
            states[f"starts_{k}"] = f"units started {k} step(s) before (units)"
        return states

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        g = x.case.gas_gen
        #: MW added to the first step's ramp limits: the case's first step has no prior output
        #: (unit MW × units, never binding); 0 for later windows, whose prior output is known.
        m.gen_first_ramp_relief_mw = pyo.Param(**MUTABLE)
        delay = gas_gen.start_delay_steps(g, x.case.horizon.timestep_minutes)
        prior = pyo.RangeSet(1, max(delay, 1))
        if m.free_start:
            units = g.units if g.installed else 0
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
            return
        m.gen_initial_committed = pyo.Param(**MUTABLE)  # units
        m.gen_initial_mw = pyo.Param(**MUTABLE)  # MW
        #: starts k = 1…delay steps before the window's first step (may still be in their delay)
        m.gen_prior_starts = pyo.Param(prior, **MUTABLE)
        if m.gen_per_unit:
            m.U = pyo.RangeSet(0, g.units - 1)
            m.unit_initial_on = pyo.Param(m.U, **MUTABLE)
            m.unit_initial_mw = pyo.Param(m.U, **MUTABLE)
            m.unit_prior_starts = pyo.Param(m.U, prior, **MUTABLE)

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        g = x.case.gas_gen
        m.gen_first_ramp_relief_mw = float(g.units * g.unit_mw) if x.gen_initial_mw is None else 0.0
        if m.free_start:  # the start state is a variable; bounds.lagrangian_bound sets it
            return
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

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        _add_gen(m, x)

    def power_injection(self, m: pyo.ConcreteModel, t: int):
        return m.gen_mw[t]

    def reactive_injection(self, m: pyo.ConcreteModel, t: int):
        return m.gen_q[t]

    def deployment_shift(self, m: pyo.ConcreteModel, x: DispatchInputs, t: int, direction):
        """Every gas award, online and offline: units started for Non-Spin inject too."""
        return award_sum(m, x, "gen", direction, t)

    def deployment_points(self, m: pyo.ConcreteModel, x: DispatchInputs, site_shift):
        """The producing units' aggregate polygon, moved by their online awards."""
        g = x.case.gas_gen
        if not g.installed:
            return []
        s_unit = gas_gen.unit_mva(g)
        facets = x.case.transformer.polygon_facets
        points = [
            DeploymentPoint(
                name="gen",
                p=lambda t: m.gen_mw[t],
                q=lambda t: m.gen_q[t],
                up_sign=1,
                shift=lambda t, d: online_award_sum(m, x, d, t),
                rows=polygon_rows(x.case.transformer.polygon_facets, s_unit),
                rating=lambda t: m.gen_producing[t],
                family="gen_mva",
                deployed={"up": "gen_deployed_up", "down": "gen_deployed_down"},
            )
        ]
        if gen_unit_q_room_needed(x):
            intercept, fall = unit_q_chord(x.case, facets)
            points.append(
                DeploymentPoint(
                    name="gen_unit",
                    p=lambda t: m.gen_mw[t],
                    q=lambda t: m.gen_q[t],
                    up_sign=1,
                    shift=lambda t, d: online_award_sum(m, x, d, t),
                    rows=((fall, 1.0, intercept), (fall, -1.0, intercept)),
                    rating=lambda t: m.gen_producing[t],
                    family="gen_unit_mva",
                    deployed={"up": "gen_unit_deployed_up"},
                )
            )
        return points

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        g = x.case.gas_gen
        T = list(m.T)
        return {
            "gen_fuel_cost_usd": [-g.fuel_cost_usd_per_mwh * m.gen_mw[t] * x.dt_h for t in T],
            "gen_start_cost_usd": [-g.start_cost_usd * m.gen_starts[t] for t in T],
        }

    def link_state_start(self, m: pyo.ConcreteModel, name: str):
        if name.startswith("starts_"):
            return m.gen_prior_starts[starts_lag(name)]
        return {"committed": m.gen_initial_committed, "gen_mw": m.gen_initial_mw}[name]

    def link_state_at(self, m: pyo.ConcreteModel, name: str, t: int):
        if name.startswith("starts_"):
            return m.gen_starts[t - starts_lag(name) + 1]
        return {"committed": m.gen_committed, "gen_mw": m.gen_mw}[name][t]

    def handover(self, m: pyo.ConcreteModel, x: DispatchInputs, keep: int) -> dict:
        delay = m.gen_delay_steps
        starts = tuple(int(round(pyo.value(m.gen_starts[t]))) for t in range(keep))
        return {
            "gen_initial_committed": int(round(pyo.value(m.gen_committed[keep - 1]))),
            "gen_initial_mw": float(pyo.value(m.gen_mw[keep - 1])),
            "gen_prior_starts": (x.gen_prior_starts + starts)[-delay:] if delay else (),
            "gen_initial_units": units_end_state(m, keep - 1),
        }


def online_award_sum(m: pyo.ConcreteModel, x: DispatchInputs, direction: str, t: int):
    """Σ of the gas units' awards of ``direction`` the producing units carry at step t (MW; the
    offline parts of Non-Spin come from units not committed), None without gas awards."""
    total = award_sum(m, x, "gen", direction, t)
    if total is None or direction != "up" or not hasattr(m, "OFFLINE_PRODUCTS"):
        return total
    return total - sum(m.reserve_offline[p, t] for p in m.OFFLINE_PRODUCTS)


def gen_unit_q_room_needed(x: DispatchInputs) -> bool:
    """Whether ``gen_unit_mva`` can bind: the chord of ``unit_q_chord`` falls below the PF
    limit k·P somewhere in [min MW, rated MW] (both linear: at either end); otherwise the PF
    rows imply it."""
    g = x.case.gas_gen
    if not g.installed:
        return False
    k = gas_gen.reactive_ratio(g.min_power_factor)
    facets = x.case.transformer.polygon_facets
    return any(
        unit_q_room_mvar(x.case, p, facets) < k * p - 1e-9
        for p in (gas_gen.min_output_mw(g), g.unit_mw)
    )


def gen_needs_per_unit(x: DispatchInputs) -> bool:
    """Whether the gas units need the per-unit formulation: their ramp per step is below unit
    MW, so start-up, shut-down and ramp limits can bind and clustered counts could lend ramp
    room between units across steps. Otherwise every ramp row is slack and the clustered
    model is exact."""
    g = x.case.gas_gen
    if not g.installed:
        return False
    return gas_gen.ramp_per_step_mw(g, x.case.horizon.timestep_minutes) < g.unit_mw - 1e-9


def starts_lag(name: str) -> int:
    """k of a ``starts_k`` linking state; 1 for the others (the state just before)."""
    return int(name.split("_")[1]) if name.startswith("starts_") else 1


def prior_starts(x: DispatchInputs, k: int) -> float:
    """Units started k steps before ``x``'s first step (0 beyond what ``x`` records)."""
    prior = x.gen_prior_starts
    return float(prior[-k]) if k <= len(prior) else 0.0


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
    n_units = g.units if g.installed else 0
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
    m.gen_pmin_mw = gas_gen.min_output_mw(g)
    if not g.installed:  # no units: the bounds hold every count at 0, and with them gen_max_output
        for var in (m.gen_mw, m.gen_q, m.gen_committed, m.gen_starts, m.gen_stops):
            for v in var.values():  # output and Q (≤ k·output) at 0: the rows below are 0 ≤ 0
                v.fix(0)
        return
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
    # the polygon rows (dispatched and deployed, fleet and per unit): ``deployment_points``


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
            m.gen_mw[t] - prev_gen(m, t) - soft(m, "gen_ramp_up", t)
            <= ramp * continuing(m, t)
            + su * m.gen_new_producing[t]
            - pmin * m.gen_stops[t]
            + _relief(m, t)
        ),
    )
    m.gen_ramp_down = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            prev_gen(m, t) - m.gen_mw[t] - soft(m, "gen_ramp_down", t)
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
