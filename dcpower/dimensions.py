"""The one registry of study dimensions: name, unit, label, the case field a value edits and
whether the Pareto frontier is drawn within each value (a grouping dimension) or across them.

The sweep's grid order, ``sweep.nc``'s dimension units, scenario labels, the UI's size columns and
the Pareto grouping of ``summary.parquet`` and of the UI are all read from :data:`DIMENSIONS`.
Adding a dimension: one entry here, its grid list in ``study.GridConfig`` and its edit in
``sweep.scenario_case``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dcpower import columns


class Dimension(NamedTuple):
    """One study dimension (a ``summary.parquet`` column and a ``sweep.nc`` dimension)."""

    name: str
    unit: str  # sweep.nc ``units`` attribute
    label: str  # scenario-label format of one value, ``{}`` = the value
    edits: str  # the case field a value sets (in words, for docs and errors)
    groups_frontier: bool  # True: Pareto sets are flagged within each value
    numeric: bool  # label values with ``:g`` formatting


#: every study dimension, in grid (and scenario-name) order
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "bess_mwh", "MWh", "{} MWh", "bess.energy_mwh (power at the study's C-rate)", False, True
    ),
    Dimension("gen_units", "units", "{} units", "gas_gen.units", False, True),
    Dimension("transformer_mva", "MVA", "{} MVA", "poi.transformer_mva", False, True),
    Dimension("poi_import_mw", "MW", "POI {} MW", "poi.import_limit_mw", False, True),
    Dimension("bess_duration_h", "h", "{} h", "bess.power_mw = energy / duration", False, True),
    Dimension("market_year", "year", "{}", "market.year and its price/load files", True, False),
    Dimension("events", "event", "event {}", "events (the shipped event applied)", True, False),
    Dimension(columns.POLICY_DIM, "policy", "{}", "operations.policy", True, False),
)
BY_NAME = {d.name: d for d in DIMENSIONS}
#: the always-present sizes (every study sweeps them)
SIZE_DIMS = ("bess_mwh", "gen_units", "transformer_mva")
#: every dimension name (the UI's size columns)
NAMES = tuple(d.name for d in DIMENSIONS)
#: dimensions the Pareto set is flagged within (one frontier per value combination)
FRONTIER_GROUPS = tuple(d.name for d in DIMENSIONS if d.groups_frontier)
#: sweep.nc units of each dimension
UNITS = {d.name: d.unit for d in DIMENSIONS}


def ordered(names: Any) -> list[str]:
    """The registered dimensions among ``names``, in registry order."""
    present = set(names)
    return [n for n in NAMES if n in present]


def value_label(name: str, value: Any) -> str:
    """A dimension value as the scenario label shows it (``400 MWh``, ``POI 80 MW``)."""
    dim = BY_NAME[name]
    text = f"{float(value):g}" if dim.numeric else f"{value}"
    return dim.label.format(text)


def frontier_groups(present: Any) -> list[str]:
    """The grouping dimensions among ``present`` (column names), in registry order."""
    present = set(present)
    return [n for n in FRONTIER_GROUPS if n in present]
