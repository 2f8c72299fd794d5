"""The dispatch MILP, assembled from its components (``components.REGISTRY``).

Each component (load, grid/POI, transformer, BESS, gas units, reserves) declares its constraint
families, its mutable parameters, the state it hands to the next window, its terms in the active
and reactive balances and its named $ terms; this module builds the balances and the objective
from them and derives every list the rest of the package reads (``CONSTRAINT_FAMILIES``,
``ELASTIC_FAMILIES``, ``REACTIVE_FAMILIES``, linking states, the economics stack).

Everything that changes from one rolling window to the next (prices, load, SOC floor, the state
handed over at the window start, the terminal SOC) is a mutable ``Param``: a model built once
for a window length is re-used for every window of that length, and HiGHS receives only the
changed costs and bounds (``load_window_data``).

Sign conventions: P at the POI is import − export (MW, positive into the site); Q is positive
when delivered to the site bus (MVAr). BESS P is discharge − charge. Prices are $/MWh, reserve
prices $/MW per hour, Δt in hours. The objective maximises the site's net value in $.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from dcpower.optimization import pruning
from dcpower.optimization.components import REGISTRY, Component, Family
from dcpower.optimization.components.base import soft
from dcpower.optimization.components.gas_units import (  # noqa: F401  (re-exported API)
    gen_needs_per_unit,
    prior_starts,
    starts_lag,
)
from dcpower.optimization.components.reserves import n_plus_1_min_units  # noqa: F401
from dcpower.optimization.deployment import add_deployment_rows
from dcpower.optimization.inputs import DispatchInputs

#: families of the balances themselves (this module's rows)
BALANCE_FAMILIES: dict[str, Family] = {
    "power_balance": Family("import − export + gen + discharge − charge = served load (MW)"),
    "reactive_balance": Family(
        "Q from POI + gen + PCS = Q of served load at its PF (MVAr)", elastic=True
    ),
}


def _families() -> dict[str, Family]:
    out = dict(BALANCE_FAMILIES)
    for component in REGISTRY:
        out.update(component.families)
    return out


FAMILIES: dict[str, Family] = _families()
#: family name → what it states (units), for docs, explainability and diagnoses.
CONSTRAINT_FAMILIES: dict[str, str] = {name: f.statement for name, f in FAMILIES.items()}
#: families that get elastic slacks when an infeasible case is re-solved to explain itself.
ELASTIC_FAMILIES: tuple[str, ...] = tuple(name for name, f in FAMILIES.items() if f.elastic)
#: families that involve reactive power: the second stage (``reactive.dispatch_reactive``)
#: re-sets Q after the solve, so their rows are re-checked for binding at the final Q.
REACTIVE_FAMILIES: tuple[str, ...] = tuple(name for name, f in FAMILIES.items() if f.reactive)

ELASTIC_PENALTY_USD = 1e7


def build_dispatch_model(
    inputs: DispatchInputs,
    elastic: bool = False,
    free_start: bool = False,
    per_unit: bool | None = None,
    prune: bool = True,
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
    m.link_names = link_state_names(inputs)
    if elastic:
        m.ELASTIC = pyo.Set(initialize=ELASTIC_FAMILIES)
        m.slack = pyo.Var(m.ELASTIC, m.T, ["pos", "neg"], within=pyo.NonNegativeReals)
    for component in REGISTRY:
        component.add_params(m, inputs)
    if free_start:
        m.LINKS = pyo.Set(initialize=m.link_names, ordered=True)
        m.link_price_start = pyo.Param(m.LINKS, mutable=True, initialize=0.0, within=pyo.Reals)
        m.link_price_end = pyo.Param(m.LINKS, mutable=True, initialize=0.0, within=pyo.Reals)
    pruning.decide(m, inputs, prune)
    for component in REGISTRY:
        component.add(m, inputs)
    add_deployment_rows(m, inputs)
    _add_balances(m)
    _add_objective(m, inputs)
    pruning.deactivate_reactive_rows(m, FAMILIES)
    load_window_data(m, inputs)
    return m


def load_window_data(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Write the inputs of one window into the model's mutable parameters.

    ``x`` must have the model's length, reserve products and case; only data changes.
    """
    if x.n_steps != len(m.T):
        raise ValueError(f"window of {x.n_steps} steps given to a {len(m.T)}-step model")
    for component in REGISTRY:
        component.load_window(m, x)
    pruning.check_window(m, x)


def link_state_names(x: DispatchInputs) -> list[str]:
    """Names of the states that link consecutive windows or bound blocks, in registry order
    (``soc``, ``committed``, ``gen_mw``, ``starts_k`` for k = 1…start-delay steps)."""
    return [name for component in REGISTRY for name in component.link_states(x)]


def _owner(m: pyo.ConcreteModel, name: str) -> Component:
    for component in REGISTRY:
        try:
            component.link_state_start(m, name)
        except KeyError:
            continue
        return component
    raise KeyError(f"no component hands over the state {name!r}")


def link_state_start(m: pyo.ConcreteModel, name: str):
    """The start-state variable (free_start model) or parameter of a linking state."""
    return _owner(m, name).link_state_start(m, name)


def link_state_at(m: pyo.ConcreteModel, name: str, t: int):
    """The variable that a linking state is at the end of step ``t`` (``starts_k``: the starts
    of step t − k + 1, which are k steps before step t + 1)."""
    return _owner(m, name).link_state_at(m, name, t)


def handover(m: pyo.ConcreteModel, x: DispatchInputs, keep: int) -> dict[str, Any]:
    """The next window's start state after the first ``keep`` steps of the solved window ``x``
    (keywords of ``DispatchInputs.window``), gathered from every component."""
    state: dict[str, Any] = {}
    for component in REGISTRY:
        state.update(component.handover(m, x, keep))
    return state


def _add_balances(m: pyo.ConcreteModel) -> None:
    def total(hook: str, t: int):
        """Σ over components of one balance hook at step t (components without it: None)."""
        terms = [getattr(c, hook)(m, t) for c in REGISTRY]
        return sum(term for term in terms if term is not None)

    m.power_balance = pyo.Constraint(
        m.T,
        rule=lambda m, t: total("power_injection", t) == total("power_demand", t),
    )
    m.reactive_balance = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            total("reactive_injection", t)
            + soft(m, "reactive_balance", t, "pos")
            - soft(m, "reactive_balance", t, "neg")
            == total("reactive_demand", t)
        ),
    )


def term_kinds(x: DispatchInputs) -> dict[str, str]:
    """Every $ term of the objective (name → ``revenue`` or ``cost``), in stack order."""
    out: dict[str, str] = {}
    for component in REGISTRY:
        out.update(component.term_kinds(x))
    return out


def objective_terms_by_step(m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
    """Net-value components per step in $, signed (revenues positive, costs negative).

    The one statement of the objective's coefficients: the objective is their sum, and the
    economics stack is their value (a rolling window's kept steps: summed over those steps).
    """
    terms: dict[str, list] = {}
    for component in REGISTRY:
        terms.update(component.objective_terms(m, x))
    return {name: terms[name] for name in term_kinds(x) if name in terms}


def kept_terms_usd(m: pyo.ConcreteModel, keep: int) -> dict[str, float]:
    """Each $ term's value over the solved model's first ``keep`` steps (a rolling window's
    kept part), signed, from the objective's own per-step terms built with the model."""
    return {
        name: float(sum(pyo.value(parts[t]) for t in range(keep)))
        for name, parts in m.terms_by_step.items()
    }


def _add_objective(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    #: the objective's per-step terms, kept so that every window is valued without rebuilding
    #: them (they read the mutable parameters, so they follow each window's data)
    m.terms_by_step = objective_terms_by_step(m, x)
    terms = {name: sum(parts) for name, parts in m.terms_by_step.items()}
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
