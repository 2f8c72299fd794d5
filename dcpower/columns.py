"""The one registry of result columns: name, unit, description and, for reserve columns, the
product and resource they belong to.

Extraction builds column names here (:func:`award_column`, :func:`price_column`, …); invariants,
charts, plots, economics and the Parquet writer read them back through the same functions
(:func:`reserve_award_columns`, :func:`award_columns`, :func:`column`, …). Parsing a column name
into (product, resource) happens only in this module.

Templated families (``<p>`` = product code in lower case, ``<r>`` = resource):

- ``reserve_<p>_<r>_mw``: award of product ``<p>`` carried by resource ``<r>``, MW;
- ``gen_offline_<p>_mw``: the part of a product's gas-unit award carried by offline units
  (e.g. ERCOT Non-Spin), MW;
- ``reserve_price_<p>_usd_per_mw_h``: capacity price of product ``<p>``, $ per MW per hour;
- ``reserve_<p>_revenue_usd``: revenue of product ``<p>`` carried by gas units and BESS
  (economics stack, sweep summary), $;
- ``load_reserve_<p>_revenue_usd``: revenue of product ``<p>`` carried by the flexible load
  (Load Resource), $.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

#: resources that may carry a reserve product
RESOURCES = ("gen", "bess", "load")
TIMESTAMP = "timestamp"


class Table(StrEnum):
    """Where a column lives: the results document's tables or its economics stacks."""

    DISPATCH = "dispatch"
    ELECTRICAL = "electrical"
    BINDING = "binding"
    ECONOMICS = "economics"


class Kind(StrEnum):
    """Fixed column or one of the per-product families."""

    FIXED = "fixed"
    RESERVE_AWARD = "reserve_award"
    OFFLINE_AWARD = "offline_award"
    RESERVE_PRICE = "reserve_price"
    RESERVE_REVENUE = "reserve_revenue"
    LOAD_RESERVE_REVENUE = "load_reserve_revenue"


@dataclass(frozen=True)
class Column:
    """One result column. ``product`` is the code as parsed (upper case) or as the catalogue
    spells it when one is given; ``resource`` is set for reserve awards."""

    name: str
    unit: str
    description: str
    table: Table
    kind: Kind = Kind.FIXED
    product: str | None = None
    resource: str | None = None


class ReserveColumn(NamedTuple):
    """A per-product column: (product, resource or None, column name)."""

    product: str
    resource: str | None
    column: str


class UnknownColumnError(ValueError):
    """Column names the registry does not know; the message names them."""

    def __init__(self, names: Iterable[str], table: Table | str | None = None):
        self.names = list(names)
        where = f" in {Table(table).value}" if table is not None else ""
        super().__init__(
            f"unknown result column(s){where}: {', '.join(self.names)}; every column must be "
            "declared in dcpower.columns (name, unit, description)"
        )


# --------------------------------------------------------------------------- fixed columns

_D, _E, _B = Table.DISPATCH, Table.ELECTRICAL, Table.BINDING

_FIXED: list[Column] = [
    Column(TIMESTAMP, "UTC", "interval start (ISO 8601 UTC text in JSON)", _D),
    Column("price_usd_per_mwh", "$/MWh", "energy price at the settlement point", _D),
    Column("load_mw", "MW", "site load (all segments)", _D),
    Column("load_critical_mw", "MW", "critical load segment", _D),
    Column("load_served_mw", "MW", "load served", _D),
    Column("load_unserved_mw", "MW", "load not served (all segments)", _D),
    Column("critical_unserved_mw", "MW", "critical load not served (priced at VoLL)", _D),
    Column("flexible_curtailed_mw", "MW", "flexible load curtailed", _D),
    Column("noncritical_unserved_mw", "MW", "other (non-critical) load not served", _D),
    Column("grid_import_mw", "MW", "import at the POI", _D),
    Column("grid_export_mw", "MW", "export at the POI", _D),
    Column("gen_mw", "MW", "gas generation, all units", _D),
    Column("gen_units_committed", "units", "gas units committed (starting or producing)", _D),
    Column("gen_units_producing", "units", "gas units producing (start delay elapsed)", _D),
    Column("gen_starts", "units", "gas unit starts in the step", _D),
    Column("bess_charge_mw", "MW", "BESS charge at the AC side", _D),
    Column("bess_discharge_mw", "MW", "BESS discharge at the AC side", _D),
    Column("bess_soc_mwh", "MWh", "BESS state of charge at the end of the step", _D),
    Column(
        "bess_soc_floor_mwh",
        "MWh",
        "SOC floor: market SOC reserve + critical-load ride-through energy",
        _D,
    ),
    Column("poi_q_excess_mvar", "MVAr", "POI reactive power beyond the power-factor rule", _D),
    Column(
        "cp_charge_usd_per_mw",
        "$/MW",
        "transmission CP charge per MW of net withdrawal in the step: Σ over the CP intervals "
        "inside the horizon of rate ($/kW-yr) × 1000 × the step's share of the interval / "
        "intervals per year (0 outside CP intervals)",
        _D,
    ),
    Column("cp_alert", "1", "1 when the step lies in an hour of the causal CP alert policy", _D),
    Column(
        "event_cap_mw",
        "MW",
        "cap on net withdrawal (import − export) from a grid emergency event overlapping the "
        "step (lowest cap if several); null outside events",
        _D,
    ),
    Column(
        "da_position_mw",
        "MW",
        "two-settlement: net withdrawal (import − export) of the step's day-ahead decision, "
        "settled at the DAM price",
        _D,
    ),
    Column(
        "rt_price_usd_per_mwh",
        "$/MWh",
        "two-settlement: real-time price of the step (mean over its settlement intervals); "
        "the deviation from the day-ahead position settles at it",
        _D,
    ),
]

_ELEMENTS = {
    "transformer": ("transformer", "MVA rating"),
    "pcs": ("BESS PCS", "MVA rating"),
    "gen": ("gas units", "MVA of the producing units"),
    "poi": ("POI", "MW import/export limit"),
}
for _el, (_label, _rating) in _ELEMENTS.items():
    _FIXED += [
        Column(f"{_el}_p_mw", "MW", f"active power through the {_label}", _E),
        Column(f"{_el}_q_mvar", "MVAr", f"reactive power through the {_label}", _E),
        Column(f"{_el}_s_mva", "MVA", f"apparent power through the {_label}", _E),
        Column(f"{_el}_loading_pct", "%", f"{_label} loading, % of its {_rating}", _E),
    ]
_FIXED += [
    Column("gen_rating_mva", "MVA", "MVA rating of the producing gas units", _E),
    Column("poi_pf", "1", "power factor at the POI (|P| / S; 1 without flow)", _E),
    Column(
        "transformer_polygon_loading_pct",
        "%",
        "transformer loading on the model's inscribed MVA polygon, % of rating",
        _E,
    ),
    Column("pcs_polygon_loading_pct", "%", "PCS loading on the MVA polygon, % of rating", _E),
    Column("gen_polygon_loading_pct", "%", "gas-unit loading on the MVA polygon, % of rating", _E),
    Column("load_q_mvar", "MVAr", "reactive power drawn by the load", _E),
    # AC screening (dcpower.topology.ac_screening): null where a step was not screened
    Column(
        "ac_point",
        "1",
        "operating point the AC columns of the step describe (the one closest to or furthest "
        "outside the voltage band): 0 dispatched, 1 all up awards deployed, -1 all down awards "
        "deployed; null: step not screened",
        _E,
    ),
    Column("poi_voltage_pu", "pu", "POI voltage from the AC power flow at ac_point", _E),
    Column(
        "mv_bus_voltage_pu",
        "pu",
        "site (MV) bus voltage from the AC power flow at ac_point (null with a non-null "
        "ac_point: no AC solution, voltage collapse)",
        _E,
    ),
    Column(
        "transformer_ac_loading_pct",
        "%",
        "transformer loading from the AC power flow at ac_point (current at the actual voltage, "
        "losses included), % of rating",
        _E,
    ),
    Column("transformer_losses_mw", "MW", "transformer losses from the AC power flow", _E),
    Column(TIMESTAMP, "UTC", "interval start (ISO 8601 UTC text in JSON)", _E),
    Column(TIMESTAMP, "UTC", "interval start of the binding row", _B),
    Column("family", "", "constraint family binding in the step", _B),
]

FIXED: dict[Table, dict[str, Column]] = {}
for _c in _FIXED:
    FIXED.setdefault(_c.table, {})[_c.name] = _c

#: electrical columns of the AC screening (null where a step was not screened)
AC_COLUMNS = (
    "ac_point",
    "poi_voltage_pu",
    "mv_bus_voltage_pu",
    "transformer_ac_loading_pct",
    "transformer_losses_mw",
)
assert all(c in FIXED[_E] for c in AC_COLUMNS)

#: loading columns held to 100 % (MVA or MW limits) and their polygon (model) counterparts
LOADING_COLUMNS = tuple(f"{el}_loading_pct" for el in _ELEMENTS)
POLYGON_LOADING_COLUMNS = tuple(f"{el}_polygon_loading_pct" for el in ("transformer", "pcs", "gen"))

# --------------------------------------------------------------------------- families

_TOKEN = r"[a-z0-9]+(?:_[a-z0-9]+)*"
_RES = "|".join(RESOURCES)
#: (kind, table, regex, unit, description template); matched in this order
_FAMILIES: list[tuple[Kind, Table, re.Pattern[str], str, str]] = [
    (
        Kind.RESERVE_PRICE,
        _D,
        re.compile(rf"^reserve_price_(?P<product>{_TOKEN})_usd_per_mw_h$"),
        "$/MW/h",
        "capacity price of {product}, $ per MW held per hour",
    ),
    (
        Kind.RESERVE_REVENUE,
        Table.ECONOMICS,
        re.compile(rf"^reserve_(?P<product>{_TOKEN})_revenue_usd$"),
        "$",
        "revenue of {product} over the horizon",
    ),
    (
        Kind.LOAD_RESERVE_REVENUE,
        Table.ECONOMICS,
        re.compile(rf"^load_reserve_(?P<product>{_TOKEN})_revenue_usd$"),
        "$",
        "revenue of {product} carried by the flexible load over the horizon",
    ),
    (
        Kind.OFFLINE_AWARD,
        _D,
        re.compile(rf"^gen_offline_(?P<product>{_TOKEN})_mw$"),
        "MW",
        "part of the gas-unit {product} award carried by offline units",
    ),
    (
        Kind.RESERVE_AWARD,
        _D,
        re.compile(rf"^reserve_(?P<product>{_TOKEN})_(?P<resource>{_RES})_mw$"),
        "MW",
        "{product} award carried by {resource}",
    ),
]


def _canonical(token: str, products: Iterable[str] | None) -> str:
    """Catalogue spelling of a lower-case product token (upper case when not in ``products``)."""
    for p in products or ():
        if p.lower() == token:
            return p
    return token.upper()


def lookup(name: str, products: Iterable[str] | None = None) -> Column | None:
    """The registry entry of ``name`` (fixed or per-product), or None when unknown.

    ``products``: catalogue names, so the parsed product is spelled as the catalogue spells it.
    """
    for table in (_D, _E, _B):
        col = FIXED[table].get(name)
        if col is not None:
            return col
    for kind, table, pattern, unit, text in _FAMILIES:
        m = pattern.match(name)
        if m is None:
            continue
        groups = m.groupdict()
        product = _canonical(groups["product"], products)
        resource = groups.get("resource")
        if kind is Kind.OFFLINE_AWARD:
            resource = "gen"
        elif kind is Kind.LOAD_RESERVE_REVENUE:
            resource = "load"
        return Column(
            name,
            unit,
            text.format(product=product, resource=resource),
            table,
            kind,
            product,
            resource,
        )
    return None


def column(name: str, products: Iterable[str] | None = None) -> Column:
    """The registry entry of ``name``; UnknownColumnError when the registry does not know it."""
    col = lookup(name, products)
    if col is None:
        raise UnknownColumnError([name])
    return col


def unit(name: str) -> str:
    """Unit of a known column (UnknownColumnError otherwise)."""
    return column(name).unit


def unknown_columns(names: Iterable[str], table: Table | str) -> list[str]:
    """Names that are not columns of ``table`` (fixed there or of a family that lives there)."""
    table = Table(table)
    out = []
    for name in names:
        col = FIXED.get(table, {}).get(name) or lookup(name)
        if col is None or col.table is not table:
            out.append(name)
    return out


def check_columns(names: Iterable[str], table: Table | str) -> None:
    """Raise UnknownColumnError naming every column of ``names`` unknown to ``table``."""
    bad = unknown_columns(names, table)
    if bad:
        raise UnknownColumnError(bad, table)


# --------------------------------------------------------------------------- name builders


def award_column(product: str, resource: str) -> str:
    """``reserve_<product>_<resource>_mw``."""
    if resource not in RESOURCES:
        raise ValueError(f"resource {resource!r} is not one of {', '.join(RESOURCES)}")
    return f"reserve_{product.lower()}_{resource}_mw"


def offline_column(product: str) -> str:
    """``gen_offline_<product>_mw``."""
    return f"gen_offline_{product.lower()}_mw"


def price_column(product: str) -> str:
    """``reserve_price_<product>_usd_per_mw_h``."""
    return f"reserve_price_{product.lower()}_usd_per_mw_h"


def revenue_key(product: str) -> str:
    """``reserve_<product>_revenue_usd`` (economics revenue stack, sweep summary)."""
    return f"reserve_{product.lower()}_revenue_usd"


def load_revenue_key(product: str) -> str:
    """``load_reserve_<product>_revenue_usd``: the flexible load's revenue of a product."""
    return f"load_reserve_{product.lower()}_revenue_usd"


#: summary column (study dimension) of a scenario's dispatch policy (``operations.policy``)
POLICY_DIM = "operations_policy"
#: dispatch columns of a two-settlement case (``operations.settlement``), in order
TWO_SETTLEMENT_COLUMNS = ("da_position_mw", "rt_price_usd_per_mwh")


def dispatch_columns(
    products: Iterable[str],
    resources: Mapping[str, Iterable[str]] | Iterable[str] = ("gen", "bess"),
    *,
    offline_products: Iterable[str] = (),
    poi_q_excess: bool = False,
    cp_charge: bool = False,
    cp_alert: bool = False,
    event_cap: bool = False,
    two_settlement: bool = False,
) -> list[str]:
    """Dispatch columns (without ``timestamp``) of a dispatch offering ``products``, in the
    order extraction writes them.

    ``resources``: the resources carrying every product, or product → resources (the eligible
    pairs present on the site). ``offline_products``: products offline gas units carry.
    ``cp_charge`` / ``cp_alert``: the case has a CP tariff / the CP alert policy.
    ``event_cap``: the case has grid emergency events. ``two_settlement``: the case settles
    in two (``operations.settlement``).
    """
    products = list(products)
    per = (
        {p: list(resources.get(p, ())) for p in products}
        if isinstance(resources, Mapping)
        else dict.fromkeys(products, list(resources))
    )
    optional = (
        TIMESTAMP,
        "poi_q_excess_mvar",
        "cp_charge_usd_per_mw",
        "cp_alert",
        "event_cap_mw",
        *TWO_SETTLEMENT_COLUMNS,
    )
    fixed = [c for c in FIXED[_D] if c not in optional]
    out = fixed + [award_column(p, r) for p in products for r in per[p]]
    out += [offline_column(p) for p in offline_products]
    if poi_q_excess:
        out.append("poi_q_excess_mvar")
    out += [price_column(p) for p in products]
    out += ["cp_charge_usd_per_mw"] if cp_charge else []
    out += ["cp_alert"] if cp_alert else []
    out += ["event_cap_mw"] if event_cap else []
    return out + (list(TWO_SETTLEMENT_COLUMNS) if two_settlement else [])


# --------------------------------------------------------------------------- readers


def _names(columns_or_frame: Any) -> list[str]:
    cols = getattr(columns_or_frame, "columns", columns_or_frame)
    if isinstance(cols, Mapping):
        cols = cols.keys()
    return [str(c) for c in cols]


def _family(
    columns_or_frame: Any,
    kind: Kind,
    products: Iterable[str] | None,
    product: str | None,
    resource: str | None,
) -> list[ReserveColumn]:
    products = list(products) if products is not None else None
    out = []
    for name in _names(columns_or_frame):
        col = lookup(name, products)
        if col is None or col.kind is not kind or col.product is None:
            continue
        if product is not None and col.product.lower() != product.lower():
            continue
        if resource is not None and col.resource != resource:
            continue
        out.append(ReserveColumn(col.product, col.resource, name))
    return out


def reserve_award_columns(
    columns_or_frame: Any,
    products: Iterable[str] | None = None,
    *,
    product: str | None = None,
    resource: str | None = None,
) -> list[ReserveColumn]:
    """(product, resource, column) of every reserve award column, in column order.

    ``products``: catalogue names (the product is spelled as there; a column of a product not
    in the catalogue keeps its upper-case code). ``product`` / ``resource``: only those.
    """
    return _family(columns_or_frame, Kind.RESERVE_AWARD, products, product, resource)


def award_columns(columns_or_frame: Any, product: str, resource: str | None = None) -> list[str]:
    """Award columns of one product (every resource, or only ``resource``)."""
    return [
        c.column for c in _family(columns_or_frame, Kind.RESERVE_AWARD, None, product, resource)
    ]


def offline_award_columns(
    columns_or_frame: Any, products: Iterable[str] | None = None, *, product: str | None = None
) -> list[ReserveColumn]:
    """(product, "gen", column) of every offline-unit award column."""
    return _family(columns_or_frame, Kind.OFFLINE_AWARD, products, product, None)


def reserve_price_columns(
    columns_or_frame: Any, products: Iterable[str] | None = None, *, product: str | None = None
) -> list[ReserveColumn]:
    """(product, None, column) of every reserve price column."""
    return _family(columns_or_frame, Kind.RESERVE_PRICE, products, product, None)


def reserve_revenue_keys(
    keys_or_frame: Any, products: Iterable[str] | None = None, *, product: str | None = None
) -> list[ReserveColumn]:
    """(product, None, key) of every reserve revenue key (economics stack or summary column)."""
    return _family(keys_or_frame, Kind.RESERVE_REVENUE, products, product, None)


def load_reserve_revenue_keys(
    keys_or_frame: Any, products: Iterable[str] | None = None, *, product: str | None = None
) -> list[ReserveColumn]:
    """(product, "load", key) of every load reserve revenue key (economics stack, summary)."""
    return _family(keys_or_frame, Kind.LOAD_RESERVE_REVENUE, products, product, None)


def loading_columns(columns_or_frame: Any, *, polygon: bool = False) -> list[str]:
    """Loading columns present: those held to 100 % of a rating, or the polygon ones."""
    present = set(_names(columns_or_frame))
    names = POLYGON_LOADING_COLUMNS if polygon else LOADING_COLUMNS
    return [c for c in names if c in present]


# --------------------------------------------------------------------------- descriptions


def describe(name: str) -> dict[str, str]:
    """Unit and description of a known column (for Parquet field metadata, tooltips)."""
    col = column(name)
    out = {"unit": col.unit, "description": col.description}
    if col.product is not None:
        out["product"] = col.product
    if col.resource is not None:
        out["resource"] = col.resource
    return out


def table_json_schema(table: Table | str) -> dict[str, Any]:
    """JSON Schema of one record of ``table``: its fixed columns (unit in the description)
    and the per-product families as ``patternProperties``; nothing else is allowed."""
    table = Table(table)
    props: dict[str, Any] = {}
    for name, col in FIXED[table].items():
        kind = "string" if name in (TIMESTAMP, "family") else "number"
        types = [kind] if kind == "string" else [kind, "null"]
        props[name] = {
            "type": types if len(types) > 1 else kind,
            "description": f"{col.description} [{col.unit}]" if col.unit else col.description,
        }
    patterns = {
        re.sub(r"\(\?P<\w+>", "(", p.pattern): {  # ECMA-262: no named groups
            "type": ["number", "null"],
            "description": text.format(product="<product>", resource="<resource>") + f" [{unit_}]",
        }
        for _, t, p, unit_, text in _FAMILIES
        if t is table
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
    if patterns:
        schema["patternProperties"] = patterns
    return schema


def all_fixed() -> list[Column]:
    """Every fixed column of every table, in registry order."""
    return list(_FIXED)


# ------------------------------------------------------------------------------------------
# Sweep summary families (summary.parquet / sweep.nc), named and parsed here too
# ------------------------------------------------------------------------------------------

_SURVIVAL = re.compile(r"^survival_(prob|min)_(\d+(?:\.\d+)?)h$")
_BINDING_STEPS = "binding_steps_"


def survival_column(duration_h: float, statistic: str = "prob") -> str:
    """``survival_prob_<d>h`` (mean survival probability over outage starts, -) or
    ``survival_min_<d>h`` (the worst start's, -) for an outage of ``duration_h`` hours."""
    if statistic not in ("prob", "min"):
        raise ValueError(f"survival statistic must be 'prob' or 'min', got {statistic!r}")
    return f"survival_{statistic}_{float(duration_h):g}h"


def survival_columns(columns_or_frame: Any, statistic: str | None = "prob") -> list[str]:
    """Survival columns present, ordered by outage duration (``statistic`` None: both)."""
    found = []
    for name in _names(columns_or_frame):
        m = _SURVIVAL.match(name)
        if m and (statistic is None or m.group(1) == statistic):
            found.append((float(m.group(2)), m.group(1), name))
    return [name for _, _, name in sorted(found)]


def survival_statistic(name: str) -> str | None:
    """``prob`` or ``min`` for a survival column, None for any other column."""
    m = _SURVIVAL.match(name)
    return m.group(1) if m else None


def survival_duration_h(name: str) -> float | None:
    """Outage duration (h) of a survival column, None for any other column."""
    m = _SURVIVAL.match(name)
    return float(m.group(2)) if m else None


def binding_steps_column(family: str) -> str:
    """``binding_steps_<family>``: timesteps at which a constraint family binds, count."""
    return f"{_BINDING_STEPS}{family}"


def binding_steps_columns(columns_or_frame: Any) -> list[tuple[str, str]]:
    """(family, column) of every ``binding_steps_<family>`` column present."""
    return [
        (name[len(_BINDING_STEPS) :], name)
        for name in _names(columns_or_frame)
        if name.startswith(_BINDING_STEPS)
    ]


#: assets with a marginal value (``dcpower.optimization.marginal``) → unit of one more of it
MARGINAL_VALUE_UNITS: dict[str, str] = {
    "transformer": "MVA",
    "bess_energy": "MWh",
    "bess_power": "MW",
    "poi_import": "MW",
    "gas": "MW",
}
_MARGINAL = re.compile(r"^(marginal_value|annualised_cost)_(\w+?)_usd_per_yr_per_(mva|mwh|mw)$")


def marginal_value_column(asset: str) -> str:
    """``marginal_value_<asset>_usd_per_yr_per_<unit>``: $/yr of +1 unit of the asset's size."""
    return f"marginal_value_{asset}_usd_per_yr_per_{MARGINAL_VALUE_UNITS[asset].lower()}"


def unit_cost_column(asset: str) -> str:
    """``annualised_cost_<asset>_usd_per_yr_per_<unit>``: annualised capex + fixed O&M of one
    unit of the asset's size, $/yr per unit (NaN where the study prices none: POI import)."""
    return f"annualised_cost_{asset}_usd_per_yr_per_{MARGINAL_VALUE_UNITS[asset].lower()}"


def marginal_value_unit(name: str) -> str | None:
    """``$/yr per MVA`` (MWh, MW) for a marginal value or unit cost column, None otherwise."""
    m = _MARGINAL.match(name)
    if not m or m.group(2) not in MARGINAL_VALUE_UNITS:
        return None
    return f"$/yr per {MARGINAL_VALUE_UNITS[m.group(2)]}"


# ------------------------------------------------------------------------------------------
# Interconnection headroom (dcpower.headroom): per-scenario curtailment, gas and cost figures
# ------------------------------------------------------------------------------------------

#: load segments as the dispatch table names their unserved MW, in priority order
UNSERVED_SEGMENTS: dict[str, str] = {
    "flexible": "flexible_curtailed_mw",
    "noncritical": "noncritical_unserved_mw",
    "critical": "critical_unserved_mw",
}


def unserved_energy_column(segment: str) -> str:
    """``unserved_<segment>_mwh``: energy of a load segment not served, MWh per year
    (``total`` for all segments)."""
    if segment not in (*UNSERVED_SEGMENTS, "total"):
        raise ValueError(f"unknown load segment {segment!r}; allowed: {[*UNSERVED_SEGMENTS]}")
    return f"unserved_{segment}_mwh"


def unserved_share_column(segment: str) -> str:
    """``unserved_<segment>_pct_of_load``: a segment's unserved energy, % of the annual load
    energy (``total``: every segment, the study's annual curtailment)."""
    return unserved_energy_column(segment).replace("_mwh", "_pct_of_load")


#: summary columns of the headroom figures: name -> (unit, description)
HEADROOM_COLUMNS: dict[str, tuple[str, str]] = {
    "poi_import_limit_mw": ("MW", "POI import limit of the scenario (case poi.import_limit_mw)"),
    "site_peak_load_mw": ("MW", "highest site load over the horizon"),
    "poi_import_pct_of_peak": ("%", "POI import limit, % of the site's peak load"),
    "max_net_import_mw": ("MW", "highest net import (import − export) over the horizon"),
    "load_mwh": ("MWh/yr", "site load energy (all segments)"),
    **{
        unserved_energy_column(s): ("MWh/yr", f"{s} load not served")
        for s in (*UNSERVED_SEGMENTS, "total")
    },
    **{
        unserved_share_column(s): ("%", f"{s} load not served, % of the load energy")
        for s in (*UNSERVED_SEGMENTS, "total")
    },
    "curtailed_hours": ("h/yr", "hours with any load not served (steps × step hours)"),
    "gen_mwh": ("MWh/yr", "energy from the gas units"),
    "gen_pct_of_load": ("%", "energy from the gas units, % of the load energy"),
    "cost_vs_highest_limit_usd": (
        "$/yr",
        "annual total cost minus that of the same assets and market year at the highest POI "
        "import limit of the study",
    ),
}


#: summary columns of the AC screening: name -> (unit, description, key of
#: ``results["ac_screening"]``)
AC_SUMMARY_COLUMNS: dict[str, tuple[str, str, str]] = {
    "ac_min_voltage_pu": (
        "pu",
        "lowest POI or site-bus voltage at the AC-screened points",
        "min_voltage_pu",
    ),
    "ac_max_voltage_pu": (
        "pu",
        "highest POI or site-bus voltage at the AC-screened points",
        "max_voltage_pu",
    ),
    "ac_steps_outside_band": (
        "timesteps",
        "screened steps outside poi.voltage_band_pu (or without an AC solution)",
        "steps_outside_band",
    ),
    "ac_max_transformer_loading_pct": (
        "%",
        "highest AC transformer loading (current at the actual voltage)",
        "max_transformer_ac_loading_pct",
    ),
}


# --------------------------------------------------------------------------- $ terms


class Term(NamedTuple):
    """One named $ term of the economics stack (summary column, $ or $/yr)."""

    column: str
    kind: str  # "cost" (adds to the annual total) or "revenue" (subtracts)
    label: str
    colour: str  # matplotlib/Vega colour of its cost-stack segment


#: every fixed $ term, in cost-stack order: the objective's named terms (components declare
#: their kinds from here) and the summary's annualised capital terms
TERMS: tuple[Term, ...] = (
    Term("annualised_capex_usd", "cost", "Annualised capex", "#1f77b4"),
    Term("fixed_om_usd", "cost", "Fixed O&M", "#ff7f0e"),
    Term("energy_import_cost_usd", "cost", "Energy import", "#d62728"),
    Term("gen_fuel_cost_usd", "cost", "Gas fuel", "#9467bd"),
    Term("gen_start_cost_usd", "cost", "Gas starts", "#8c564b"),
    Term("bess_degradation_cost_usd", "cost", "BESS degradation", "#e377c2"),
    Term("unserved_critical_cost_usd", "cost", "Unserved critical", "#7f7f7f"),
    Term("unserved_noncritical_cost_usd", "cost", "Unserved non-critical", "#bcbd22"),
    Term("flexible_curtailment_cost_usd", "cost", "Flexible curtailment", "#17becf"),
    Term("load_reserve_deployment_cost_usd", "cost", "Load reserve deployment", "#aec7e8"),
    Term("transmission_cp_charge_usd", "cost", "Transmission CP charge", "#ffbb78"),
    Term("poi_excess_reactive_cost_usd", "cost", "POI excess reactive", "#c5b0d5"),
    Term("realtime_deviation_cost_usd", "cost", "Real-time deviations", "#c49c94"),
    Term("energy_export_revenue_usd", "revenue", "Energy export revenue", "#2ca02c"),
)
_TERMS = {t.column: t for t in TERMS}
#: colour of the per-product reserve revenues (shades are picked per product in plots)
RESERVE_REVENUE_COLOUR = "#98df8a"


def term_kinds(*names: str) -> dict[str, str]:
    """``{name: kind}`` of registered fixed terms (what a component declares)."""
    return {n: _TERMS[n].kind for n in names}


def term(name: str) -> Term | None:
    """The registry entry of a $ term, fixed or per product (``reserve_<p>_revenue_usd``,
    ``load_reserve_<p>_revenue_usd``); None for a column that is no $ term."""
    if name in _TERMS:
        return _TERMS[name]
    reserve = reserve_revenue_keys([name])
    if reserve:
        label = f"Reserve {reserve[0].product}"
        return Term(name, "revenue", label, RESERVE_REVENUE_COLOUR)
    load = load_reserve_revenue_keys([name])
    if load:
        label = f"Load reserve {load[0].product}"
        return Term(name, "revenue", label, RESERVE_REVENUE_COLOUR)
    return None


def stack_terms(columns_or_frame: Any) -> list[Term]:
    """The $ terms present among ``columns_or_frame``: the fixed ones in registry order, then
    the per-product reserve revenues (gas/BESS, then the load's)."""
    names = _names(columns_or_frame)
    out = [t for t in TERMS if t.column in names]
    out += [term(r.column) for r in reserve_revenue_keys(names)]
    out += [term(r.column) for r in load_reserve_revenue_keys(names)]
    return out
