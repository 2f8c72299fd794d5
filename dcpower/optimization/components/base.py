"""What a model component declares: its constraint families, the state it hands to the next
window, its terms in the active and reactive balances and its named $ terms.

``dispatch_milp`` assembles a model from ``components.REGISTRY``; every list that used to be
kept by hand (constraint families, elastic and reactive families, linking states, economics
lines) is derived from these declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyomo.environ as pyo

from dcpower.optimization.inputs import DispatchInputs
from dcpower.topology.polygon import facet_coefficients


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
#: a reserve direction: ``up`` raises the site's net injection (sources inject more, the load
#: consumes less), ``down`` lowers it
Direction = Literal["up", "down"]
DIRECTIONS: tuple[Direction, ...] = ("up", "down")


@dataclass(frozen=True)
class DeploymentPoint:
    """An element that reserve deployment moves, and the limit rows it owes at every step.

    The element's operating point is (P, Q); deploying every award of one direction together
    moves P by ``up_sign`` × shift (up) or −``up_sign`` × shift (down) and keeps Q as dispatched.
    Each limit row a_P·P + a_Q·Q ≤ scale·rating is then owed at the dispatched point and at both
    deployed points; as the shift is ≥ 0, only one of the three can bind for each row: the
    deployed point of the direction that moves a_P·P up (a_P·up_sign > 0: up, < 0: down), or
    the dispatched point where a_P = 0 or that direction has no award. ``deployment`` builds
    exactly that one row per limit, step and element.

    name : element (``transformer``, ``pcs``, ``gen``, ``poi``).
    p, q : P (MW) and Q (MVAr; None for an MW-only limit) at step t, as dispatched.
    up_sign : +1 when up-deployment raises P (a source), −1 when it lowers it (the POI's import).
    shift : (t, direction) → MW the element moves by (≥ 0), or None where it carries no award of
        that direction (structurally, for every step).
    rows : (a_P, a_Q, scale) per limit row: a_P·P + a_Q·Q ≤ scale·rating(t).
    rating : t → the rating the rows scale (MVA, units producing, or 1 for MW limits).
    family : family of the rows kept at the dispatched point (None: build none, another family
        states them).
    deployed : direction → family of the rows at that direction's deployed point.
    """

    name: str
    p: Callable[[int], Any]
    q: Callable[[int], Any] | None
    up_sign: int
    shift: Callable[[int, Direction], Any]
    rows: tuple[tuple[float, float, float], ...]
    rating: Callable[[int], Any]
    family: str | None
    deployed: dict[str, str]

    def facing(self, a_p: float) -> Direction | None:
        """The direction whose deployment moves a_P·P up (None: neither, a_P = 0)."""
        if a_p * self.up_sign > 0:
            return "up"
        if a_p * self.up_sign < 0:
            return "down"
        return None

    def p_at(self, t: int, state: str) -> Any:
        """P at step t, ``state`` ``dispatched``, ``up`` or ``down`` (MW)."""
        if state == "dispatched":
            return self.p(t)
        shift = self.shift(t, state)
        if shift is None:
            return self.p(t)
        sign = self.up_sign if state == "up" else -self.up_sign
        return self.p(t) + sign * shift


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

    def deployment_shift(
        self, m: pyo.ConcreteModel, x: DispatchInputs, t: int, direction: Direction
    ) -> Any:
        """MW (≥ 0) by which deploying every award of ``direction`` this component carries moves
        its net injection into the site bus at step t (up raises it, down lowers it); None when
        it carries no award of that direction. Called after every component's ``add``."""
        return None

    def deployment_points(
        self,
        m: pyo.ConcreteModel,
        x: DispatchInputs,
        site_shift: Callable[[int, Direction], Any],
    ) -> list[DeploymentPoint]:
        """The elements this component rates, with their limit rows (``DeploymentPoint``).
        ``site_shift(t, direction)``: Σ of every component's ``deployment_shift`` (None when no
        component carries an award of that direction), what the grid takes when deployed."""
        return []

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


def award_sum(
    m: pyo.ConcreteModel, x: DispatchInputs, resource: str, direction: str, t: int
) -> Any:
    """Σ of ``resource``'s awards of ``direction`` at step t (MW), None when it carries none
    (needs ``m.reserve``, built by ``reserves``)."""
    terms = [
        m.reserve[p, r, t]
        for p, r in m.RESERVE_PAIRS
        if r == resource and x.reserve_products[p].direction == direction
    ]
    return sum(terms) if terms else None


def polygon_rows(facets: int, s_mva: float = 1.0) -> tuple[tuple[float, float, float], ...]:
    """``DeploymentPoint.rows`` of the inscribed K-facet polygon of ``s_mva`` × the point's
    ``rating(t)`` (MVA)."""
    return tuple((a_p, a_q, c * s_mva) for a_p, a_q, c in facet_coefficients(facets))


def has_bess(x: DispatchInputs) -> bool:
    """The site has a battery (power and energy both positive)."""
    return x.case.bess.installed


def has_gen(x: DispatchInputs) -> bool:
    """The site has gas units (count and size both positive)."""
    return x.case.gas_gen.installed
