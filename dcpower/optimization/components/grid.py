"""The point of interconnection: import/export caps, one direction per step, PF of the exchange
(an excess beyond it priced or forbidden), energy revenue and cost."""

from __future__ import annotations

import pyomo.environ as pyo

from dcpower import columns
from dcpower.optimization.components.base import (
    MUTABLE,
    Component,
    DeploymentPoint,
    Family,
    mode_domain,
    set_indexed,
    soft,
)
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import gas_gen


class Grid(Component):
    """Sign conventions: P at the POI is import − export (MW, positive into the site)."""

    name = "grid"
    families = {
        "poi_import_cap": Family("import ≤ POI import limit · importing (MW)"),
        "poi_export_cap": Family("export ≤ POI export limit · (1 − importing) (MW)"),
        "poi_reserve_up": Family(
            "export − import + Σ up-awards of the site ≤ export limit: the POI after deploying "
            "every up-award together (MW)"
        ),
        "poi_reserve_down": Family(
            "import − export + Σ down-awards of the site ≤ import limit: the POI after deploying "
            "every down-award together (MW)"
        ),
        "poi_pf_upper": Family(
            "Q at POI ≤ tan(acos PF_min)·|P| + priced excess (MVAr)", elastic=True, reactive=True
        ),
        "poi_pf_lower": Family(
            "−Q at POI ≤ tan(acos PF_min)·|P| + priced excess (MVAr)", elastic=True, reactive=True
        ),
    }
    terms = columns.term_kinds("energy_export_revenue_usd", "energy_import_cost_usd")

    def term_kinds(self, x: DispatchInputs) -> dict:
        kinds = dict(self.terms)
        if x.case.poi.power_factor_rule == "penalty":
            kinds.update(columns.term_kinds("poi_excess_reactive_cost_usd"))
        return kinds

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        m.price = pyo.Param(m.T, **MUTABLE)  # $/MWh

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        set_indexed(m.price, x.price_usd_per_mwh)

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        poi = x.case.poi
        k_poi = gas_gen.reactive_ratio(poi.min_power_factor)
        m.grid_import = pyo.Var(m.T, within=pyo.NonNegativeReals)
        m.grid_export = pyo.Var(m.T, within=pyo.NonNegativeReals)
        m.poi_q = pyo.Var(m.T, within=pyo.Reals)
        # One direction per step: keeps |P| = import + export exact for the PF rows and stops
        # import/export circulation (free money when the export adder is ≥ 0).
        m.grid_importing = pyo.Var(m.T, within=lambda m, t: mode_domain(x, t))
        m.poi_import_cap = pyo.Constraint(
            m.T, rule=lambda m, t: m.grid_import[t] <= poi.import_limit_mw * m.grid_importing[t]
        )
        m.poi_export_cap = pyo.Constraint(
            m.T,
            rule=lambda m, t: m.grid_export[t] <= poi.export_limit_mw * (1 - m.grid_importing[t]),
        )
        if poi.power_factor_rule == "penalty":
            m.poi_q_excess = pyo.Var(m.T, within=pyo.NonNegativeReals)  # MVAr beyond the PF

        def excess(m, t):
            return m.poi_q_excess[t] if hasattr(m, "poi_q_excess") else 0.0

        m.poi_pf_upper = pyo.Constraint(
            m.T,
            rule=lambda m, t: (
                m.poi_q[t] - excess(m, t) - soft(m, "poi_pf_upper", t)
                <= k_poi * (m.grid_import[t] + m.grid_export[t])
            ),
        )
        m.poi_pf_lower = pyo.Constraint(
            m.T,
            rule=lambda m, t: (
                -m.poi_q[t] - excess(m, t) - soft(m, "poi_pf_lower", t)
                <= k_poi * (m.grid_import[t] + m.grid_export[t])
            ),
        )

    def power_injection(self, m: pyo.ConcreteModel, t: int):
        return m.grid_import[t] - m.grid_export[t]

    def deployment_points(self, m: pyo.ConcreteModel, x: DispatchInputs, site_shift):
        """The POI's MW limits at the deployed points (the dispatched ones: ``poi_*_cap``)."""
        poi = x.case.poi
        return [
            DeploymentPoint(
                name="poi",
                p=lambda t: m.grid_import[t] - m.grid_export[t],
                q=None,
                up_sign=-1,
                shift=site_shift,
                rows=((1.0, 0.0, poi.import_limit_mw), (-1.0, 0.0, poi.export_limit_mw)),
                rating=lambda t: 1.0,
                family=None,
                deployed={"up": "poi_reserve_up", "down": "poi_reserve_down"},
            )
        ]

    def reactive_injection(self, m: pyo.ConcreteModel, t: int):
        return m.poi_q[t]

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        dt = x.dt_h
        adder = x.case.market.export_price_adder_usd_per_mwh
        T = list(m.T)
        terms = {
            "energy_export_revenue_usd": [(m.price[t] + adder) * m.grid_export[t] * dt for t in T],
            "energy_import_cost_usd": [-m.price[t] * m.grid_import[t] * dt for t in T],
        }
        if hasattr(m, "poi_q_excess"):
            cost = x.case.poi.excess_reactive_cost_usd_per_mvarh
            terms["poi_excess_reactive_cost_usd"] = [-cost * m.poi_q_excess[t] * dt for t in T]
        return terms
