"""What a model component declares: its constraint families, the state it hands to the next
window, its terms in the active and reactive balances and its named $ terms.

``dispatch_milp`` assembles a model from ``components.REGISTRY``; every list that used to be
kept by hand (constraint families, elastic and reactive families, linking states, economics
lines) is derived from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyomo.environ as pyo

from dcpower.optimization.inputs import DispatchInputs


@dataclass(frozen=True)
class Family:
    """A named, time-indexed constraint family.

    statement : what it states, with units (shown in results and error messages).
    elastic : gets penalised slacks when an infeasible case is re-solved to explain itself.
    reactive : involves reactive power (re-checked for binding after the reactive stage).
    """

    statement: str
    elastic: bool = False
    reactive: bool = False


#: how a $ term enters the economics stack: revenues are positive, costs negative.
TermKind = Literal["revenue", "cost"]


class Component:
    """Base of a model component; every hook is optional.

    Hooks are called in registry order: ``add_params`` (mutable parameters; ``free_start``
    models add their start-state variables here), ``add`` (variables and constraints), and
    per window ``load_window`` (writes a window's data into the parameters). The balances sum
    ``power_injection`` / ``reactive_injection`` of the sources against ``power_demand`` /
    ``reactive_demand`` of the consumers (MW / MVAr at the site bus); the objective
    sums ``objective_terms`` ($ per step, signed).
    """

    name: str = ""
    families: dict[str, Family] = {}
    #: $ terms: name → revenue or cost (per-product names are added by ``term_kinds``)
    terms: dict[str, TermKind] = {}

    def term_kinds(self, x: DispatchInputs) -> dict[str, TermKind]:
        """The component's $ terms for ``x`` (name → revenue/cost), in stack order."""
        return dict(self.terms)

    def link_states(self, x: DispatchInputs) -> dict[str, str]:
        """States this component hands from one window (or bound block) to the next."""
        return {}

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        """Mutable parameters (and, for free-start models, start-state variables)."""

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        """Variables and constraints."""

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        """Write one window's data into the component's mutable parameters."""

    def power_injection(self, m: pyo.ConcreteModel, t: int) -> Any:
        """Active power this source delivers to the site bus at step t, MW (None: none)."""
        return None

    def reactive_injection(self, m: pyo.ConcreteModel, t: int) -> Any:
        """Reactive power this source delivers to the site bus at step t, MVAr (None: none)."""
        return None

    def power_demand(self, m: pyo.ConcreteModel, t: int) -> Any:
        """Active power this consumer takes from the site bus at step t, MW (None: none)."""
        return None

    def reactive_demand(self, m: pyo.ConcreteModel, t: int) -> Any:
        """Reactive power this consumer takes from the site bus at step t, MVAr (None: none)."""
        return None

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        """Named $ terms per step, signed (revenues positive, costs negative)."""
        return {}

    def link_state_start(self, m: pyo.ConcreteModel, name: str) -> Any:
        """The start-state parameter (or free-start variable) of one of ``link_states``."""
        raise KeyError(name)

    def link_state_at(self, m: pyo.ConcreteModel, name: str, t: int) -> Any:
        """The variable that one of ``link_states`` is at the end of step t."""
        raise KeyError(name)

    def handover(self, m: pyo.ConcreteModel, x: DispatchInputs, keep: int) -> dict[str, Any]:
        """The next window's start state (``DispatchInputs.window`` keywords) after the first
        ``keep`` steps of the solved window ``x``."""
        return {}


def mode_domain(x: DispatchInputs, t: int):
    """Binary where ``x.binary_steps`` asks for it (default everywhere), else [0, 1]."""
    return pyo.Binary if x.binary_steps is None or t in x.binary_steps else pyo.UnitInterval


def soft(m: pyo.ConcreteModel, family: str, t: int, sign: str = "pos"):
    """Elastic slack of a family at t, or 0 when the model is not elastic."""
    return m.slack[family, t, sign] if m.elastic else 0.0


MUTABLE = {"mutable": True, "initialize": 0.0, "within": pyo.Reals}


def set_indexed(param, values) -> None:
    """Write one value per step into a step-indexed mutable parameter (floats, every step:
    stored in one call without Pyomo's per-item checks, 8× faster than item assignment)."""
    param.store_values(dict(enumerate(np.asarray(values, dtype=float).tolist())), check=False)


def has_bess(x: DispatchInputs) -> bool:
    """The site has a battery (power and energy both positive)."""
    return x.case.bess.installed


def has_gen(x: DispatchInputs) -> bool:
    """The site has gas units (count and size both positive)."""
    return x.case.gas_gen.installed
