"""Grid emergency events (``case.events``): the site's net withdrawal is capped at every step
an event overlaps, ``import − export ≤ cap`` (MW; 0 = switch to backup). Gas, battery and load
curtailment meet it at their own costs; the load is shed in VoLL order (flexible, other,
critical). The cap is a mutable parameter per step (no event: the POI import limit, which
never binds), so a rolling window's look-ahead sees an event coming: perfect foresight of the
directive (``dcpower.events``). An event may also curtail pipeline gas: the units' output is
then at most the MW their fuel allows (``gas_fuel_cap``; ``dcpower.events.gas_available_fraction``).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from dcpower.optimization.components.base import MUTABLE, Component, Family, set_indexed, soft
from dcpower.optimization.inputs import DispatchInputs


class GridEvents(Component):
    name = "events"
    families = {
        "event_cap": Family(
            "import − export ≤ event cap during a grid emergency event (MW)", elastic=True
        ),
        "gas_fuel_cap": Family(
            "gas output ≤ what the units' fuel allows during an event (pipeline curtailment, MW)"
        ),
    }

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        if x.event_cap_mw is not None:
            m.event_cap_mw = pyo.Param(m.T, **MUTABLE)  # MW
        if x.gas_available_mw is not None and x.case.gas_gen.installed:
            m.gas_available_mw = pyo.Param(m.T, **MUTABLE)  # MW

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        if hasattr(m, "event_cap_mw"):
            off = x.case.poi.import_limit_mw  # import ≤ this always: the row cannot bind
            set_indexed(m.event_cap_mw, np.where(np.isnan(x.event_cap_mw), off, x.event_cap_mw))
        if hasattr(m, "gas_available_mw"):
            g = x.case.gas_gen
            full = g.units * g.unit_mw  # gen_mw ≤ this always: the row cannot bind
            avail = x.gas_available_mw
            set_indexed(m.gas_available_mw, np.where(np.isnan(avail), full, avail))

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        if hasattr(m, "event_cap_mw"):
            m.event_cap = pyo.Constraint(
                m.T,
                rule=lambda m, t: (
                    m.grid_import[t] - m.grid_export[t]
                    <= m.event_cap_mw[t] + soft(m, "event_cap", t)
                ),
            )
        if hasattr(m, "gas_available_mw"):
            m.gas_fuel_cap = pyo.Constraint(
                m.T, rule=lambda m, t: m.gen_mw[t] <= m.gas_available_mw[t]
            )
