"""The data-center load: critical, flexible and other firm segments, each sheddable at a price."""

from __future__ import annotations

import pyomo.environ as pyo

from dcpower import columns
from dcpower.optimization.components.base import MUTABLE, Component, award_sum, set_indexed
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import gas_gen


class Load(Component):
    """Served = load − unserved (critical, flexible, other); Q at the load's power factor."""

    name = "load"
    terms = columns.term_kinds(
        "unserved_critical_cost_usd",
        "unserved_noncritical_cost_usd",
        "flexible_curtailment_cost_usd",
    )

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        m.load_total = pyo.Param(m.T, **MUTABLE)  # MW
        m.load_critical = pyo.Param(m.T, **MUTABLE)
        m.load_flexible = pyo.Param(m.T, **MUTABLE)
        m.load_other = pyo.Param(m.T, **MUTABLE)

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        set_indexed(m.load_total, x.load.total_mw)
        set_indexed(m.load_critical, x.load.critical_mw)
        set_indexed(m.load_flexible, x.load.flexible_mw)
        set_indexed(m.load_other, x.load.other_mw)

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        m.unserved_critical = pyo.Var(m.T, bounds=lambda m, t: (0, m.load_critical[t]))
        m.unserved_flexible = pyo.Var(m.T, bounds=lambda m, t: (0, m.load_flexible[t]))
        m.unserved_other = pyo.Var(m.T, bounds=lambda m, t: (0, m.load_other[t]))
        m.served = pyo.Expression(
            m.T,
            rule=lambda m, t: (
                m.load_total[t]
                - m.unserved_critical[t]
                - m.unserved_flexible[t]
                - m.unserved_other[t]
            ),
        )
        m.load_q_per_mw = gas_gen.reactive_ratio(x.case.load.power_factor)  # MVAr per MW

    def power_demand(self, m: pyo.ConcreteModel, t: int):
        return m.served[t]

    def reactive_demand(self, m: pyo.ConcreteModel, t: int):
        return m.load_q_per_mw * m.served[t]

    def deployment_shift(self, m: pyo.ConcreteModel, x: DispatchInputs, t: int, direction):
        """The flexible load curtails by its (up) awards: the site's net injection rises."""
        return award_sum(m, x, "load", direction, t)

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        dt, rel, load = x.dt_h, x.case.reliability, x.case.load
        T = list(m.T)
        return {
            "unserved_critical_cost_usd": [
                -rel.voll_critical_usd_per_mwh * m.unserved_critical[t] * dt for t in T
            ],
            "unserved_noncritical_cost_usd": [
                -rel.voll_noncritical_usd_per_mwh * m.unserved_other[t] * dt for t in T
            ],
            "flexible_curtailment_cost_usd": [
                -load.flexible_curtailment_usd_per_mwh * m.unserved_flexible[t] * dt for t in T
            ],
        }
