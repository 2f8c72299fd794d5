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
        "ancillary-service awards are limited here by the resources' headroom, ramp or start "
        "capability within the products' deployment times"
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
#: readings of single families that say more than their component's (keys must be families)
FAMILY_READINGS: dict[str, str] = {
    "gen_max_output": (
        "the gas units run or offer reserves up to their rating: more units (or MW per unit) "
        "would sell more energy or reserves - see the gas marginal value"
    ),
    "poi_reserve_up": (
        "up-reserve awards are capped by the export limit if all were deployed at once: "
        "the interconnection, not the assets, limits reserve sales"
    ),
    "poi_reserve_down": (
        "down-reserve awards are capped by the import limit if all were deployed at once: "
        "the interconnection, not the assets, limits reserve sales"
    ),
    "bess_up_headroom": (
        "the battery's MW is fully used by dispatch plus up-reserves: more BESS MW would sell "
        "more reserves - see the BESS power marginal value"
    ),
    "bess_down_headroom": (
        "the battery's MW is fully used by charging plus down-reserves: more BESS MW would "
        "sell more Reg-Down"
    ),
    "reserve_energy_up": (
        "the battery's stored energy above the floor is what limits its up-reserves: more MWh "
        "(or a lower ride-through floor) would sell more - see the BESS energy marginal value"
    ),
    "reserve_energy_down": (
        "the battery's room below its ceiling limits its down-reserves: more MWh would sell "
        "more Reg-Down"
    ),
    "soc_floor": (
        "the ride-through energy held for the critical load binds: reliability costs market "
        "revenue here; more MWh relaxes it"
    ),
    "n_plus_1": (
        "the N+1 rule, not price, sets how the site runs: more units or battery MW buy back "
        "market revenue"
    ),
    "n_plus_1_units": (
        "the N+1 rule keeps units committed that price alone would not: more units or "
        "battery MW buy back market revenue"
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
    if family in FAMILY_READINGS:
        return FAMILY_READINGS[family]
    comp = family_component(family)
    return BALANCE_READING if comp is None else COMPONENT_READINGS[comp]
