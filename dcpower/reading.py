"""Binding constraints in words: each constraint family's statement and what an investor should
read into its binding often.

Statements come from the model's registry (``CONSTRAINT_FAMILIES``); the reading is per owning
component (``REGISTRY``), so a new family inherits its component's reading and a new component
without one fails the tests.
"""

from __future__ import annotations

from dcpower.optimization.components import REGISTRY
from dcpower.optimization.dispatch_milp import CONSTRAINT_FAMILIES

#: what binding often means for sizing, per component (the owner of the family)
COMPONENT_READINGS: dict[str, str] = {
    "grid": (
        "the interconnection (POI MW limit or power factor) caps imports or exports in these "
        "hours; only a larger interconnection agreement relaxes it, not an asset on site"
    ),
    "transformer": (
        "the transformer's MVA caps grid trade; a larger transformer earns its marginal value "
        "(see the marginal-value figure) - worth it only above its annualised cost"
    ),
    "bess": (
        "the battery's energy or power is the limit in these hours; more MWh/MW would earn "
        "the BESS marginal values - compare them with the annualised cost per MWh/MW"
    ),
    "gas_units": (
        "the gas fleet's commitment rules (start delay, ramps, minimum output, MVA) shape "
        "these hours; more or faster units relax them"
    ),
    "reserves": (
        "ancillary-service awards are limited by headroom, energy backing or the N+1 rule; "
        "N+1 binding means reliability, not price, sets how the site runs: adding units or "
        "battery power buys back market revenue"
    ),
    "load_reserves": (
        "the flexible load's curtailment budget limits the reserves it can offer; a larger "
        "budget (a contract question, not an asset) would earn more"
    ),
    "tariff": (
        "the site holds its grid withdrawal down in coincident-peak alert hours; the "
        "transmission charge, not the energy price, sets those hours"
    ),
    "events": (
        "a grid emergency directive caps withdrawal; on-site gas and battery carry the load"
    ),
}
#: the model's balances (rows of dispatch_milp itself, no component)
BALANCE_READING = "a balance (an equality): it holds at every step and says nothing about sizing"


def family_component(family: str) -> str | None:
    """The component that owns ``family`` (None: a balance of the model itself)."""
    for comp in REGISTRY:
        if family in comp.families:
            return comp.name
    return None


def family_statement(family: str) -> str:
    """What the family states, with units ("" for an unknown family)."""
    return CONSTRAINT_FAMILIES.get(family, "")


def family_reading(family: str) -> str:
    """What an investor should read into the family binding often ("" for an unknown one)."""
    if family not in CONSTRAINT_FAMILIES:
        return ""
    comp = family_component(family)
    return BALANCE_READING if comp is None else COMPONENT_READINGS[comp]
