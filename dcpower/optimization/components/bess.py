"""The battery: SOC dynamics with efficiencies, one mode per step, PCS MVA, SOC floor/ceiling,
terminal SOC and wear cost. Hands its SOC to the next window."""

from __future__ import annotations

import pyomo.environ as pyo

from dcpower import columns
from dcpower.optimization.components.base import (
    MUTABLE,
    Component,
    DeploymentPoint,
    Family,
    award_sum,
    has_bess,
    mode_domain,
    polygon_rows,
    set_indexed,
    soft,
)
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import bess as bess_model


class Bess(Component):
    """BESS P = discharge − charge (MW, positive into the site bus)."""

    name = "bess"
    families = {
        "bess_charge_cap": Family("charge ≤ power·(1 − discharge mode) (MW)"),
        "bess_discharge_cap": Family("discharge ≤ power·discharge mode (MW)"),
        "pcs_mva": Family(
            "PCS (P, Q) inside the inscribed K-facet MVA polygon (facets no deployment moves "
            "the PCS towards)",
            reactive=True,
        ),
        "pcs_deployed_up": Family(
            "PCS (discharge − charge + its up-awards, Q as dispatched) inside the K-facet MVA "
            "polygon, facets the up-deployment moves it towards (MVA)",
            reactive=True,
        ),
        "pcs_deployed_down": Family(
            "PCS (discharge − charge − its down-awards, Q as dispatched) inside the K-facet MVA "
            "polygon, facets the down-deployment moves it towards (MVA)",
            reactive=True,
        ),
        "soc_dynamics": Family("SOC[t] = SOC[t−1] + η_ch·charge·Δt − discharge·Δt/η_dis (MWh)"),
        "soc_floor": Family(
            "SOC ≥ physical min + market SOC reserve + ride-through energy (MWh)", elastic=True
        ),
        "soc_ceiling": Family("SOC ≤ physical max (MWh)", elastic=True),
        "soc_terminal": Family("SOC at the end ≥ required final SOC (MWh)", elastic=True),
    }
    terms = columns.term_kinds("bess_degradation_cost_usd")

    def link_states(self, x: DispatchInputs) -> dict[str, str]:
        return {"soc": "SOC at the end of the previous step (MWh)"}

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        m.soc_floor_param = pyo.Param(m.T, **MUTABLE)  # MWh
        m.soc_final_min = pyo.Param(**MUTABLE)  # MWh (0 when the window has no terminal SOC)
        if m.free_start:
            top = bess_model.soc_max_mwh(x.case.bess) if has_bess(x) else 0.0
            m.soc_initial = pyo.Var(bounds=(0, top))
        else:
            m.soc_initial = pyo.Param(**MUTABLE)  # MWh

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        set_indexed(m.soc_floor_param, x.soc_floor_mwh)
        m.soc_final_min = float(x.soc_final_min_mwh or 0.0)
        if not m.free_start:
            m.soc_initial = float(x.soc_initial_mwh)

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        b = x.case.bess
        dt = x.dt_h
        m.bess_charge = pyo.Var(m.T, within=pyo.NonNegativeReals)
        m.bess_discharge = pyo.Var(m.T, within=pyo.NonNegativeReals)
        m.bess_q = pyo.Var(m.T, within=pyo.Reals)
        m.bess_soc = pyo.Var(m.T, within=pyo.NonNegativeReals)
        if not has_bess(x):
            for t in m.T:
                m.bess_charge[t].fix(0)
                m.bess_discharge[t].fix(0)
                m.bess_q[t].fix(0)
                m.bess_soc[t].fix(0)
            return
        power = b.power_mw
        m.bess_discharging = pyo.Var(m.T, within=lambda m, t: mode_domain(x, t))
        m.bess_charge_cap = pyo.Constraint(
            m.T, rule=lambda m, t: m.bess_charge[t] <= power * (1 - m.bess_discharging[t])
        )
        m.bess_discharge_cap = pyo.Constraint(
            m.T, rule=lambda m, t: m.bess_discharge[t] <= power * m.bess_discharging[t]
        )
        m.soc_dynamics = pyo.Constraint(
            m.T,
            rule=lambda m, t: (
                m.bess_soc[t]
                == (m.soc_initial if t == 0 else m.bess_soc[t - 1])
                + b.charge_efficiency * m.bess_charge[t] * dt
                - m.bess_discharge[t] * dt / b.discharge_efficiency
            ),
        )
        top = bess_model.soc_max_mwh(b)
        m.soc_floor = pyo.Constraint(
            m.T,
            rule=lambda m, t: m.bess_soc[t] + soft(m, "soc_floor", t) >= m.soc_floor_param[t],
        )
        m.soc_ceiling = pyo.Constraint(
            m.T, rule=lambda m, t: m.bess_soc[t] - soft(m, "soc_ceiling", t) <= top
        )
        last = x.n_steps - 1
        m.soc_terminal = pyo.Constraint(
            expr=m.bess_soc[last] + soft(m, "soc_terminal", last) >= m.soc_final_min
        )

    def power_injection(self, m: pyo.ConcreteModel, t: int):
        return m.bess_discharge[t] - m.bess_charge[t]

    def reactive_injection(self, m: pyo.ConcreteModel, t: int):
        return m.bess_q[t]

    def deployment_shift(self, m: pyo.ConcreteModel, x: DispatchInputs, t: int, direction):
        return award_sum(m, x, "bess", direction, t)

    def deployment_points(self, m: pyo.ConcreteModel, x: DispatchInputs, site_shift):
        """The PCS polygon (built by ``optimization.deployment``; the MVA rows of a pruned
        model are not built: ``pruning``)."""
        if not has_bess(x):
            return []
        b = x.case.bess
        return [
            DeploymentPoint(
                name="pcs",
                p=lambda t: m.bess_discharge[t] - m.bess_charge[t],
                q=lambda t: m.bess_q[t],
                up_sign=1,
                shift=lambda t, d: award_sum(m, x, "bess", d, t),
                rows=polygon_rows(x.case.transformer.polygon_facets, b.pcs_mva),
                rating=lambda t: 1.0,
                family="pcs_mva",
                deployed={"up": "pcs_deployed_up", "down": "pcs_deployed_down"},
            )
        ]

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        cost = x.case.bess.degradation_cost_usd_per_mwh
        return {
            "bess_degradation_cost_usd": [
                -cost * (m.bess_charge[t] + m.bess_discharge[t]) * x.dt_h for t in m.T
            ]
        }

    def link_state_start(self, m: pyo.ConcreteModel, name: str):
        if name != "soc":
            raise KeyError(name)
        return m.soc_initial

    def link_state_at(self, m: pyo.ConcreteModel, name: str, t: int):
        if name != "soc":
            raise KeyError(name)
        return m.bess_soc[t]

    def handover(self, m: pyo.ConcreteModel, x: DispatchInputs, keep: int) -> dict:
        return {"soc_initial_mwh": float(pyo.value(m.bess_soc[keep - 1]))}
