"""Transmission coincident-peak (CP) charge and the CP alert policy (``case.tariff``).

``perfect_foresight``: the official CP intervals are known; the charge is linear per interval,
``Σ_t cp_usd_per_mw[t] · import[t]`` (``cp_usd_per_mw`` = rate × 1000 × the step's share of
the year's CP intervals, see :mod:`dcpower.tariff`), so no state couples windows: each interval
is priced in the window that keeps it. Import stands for the net withdrawal max(0, import −
export) because the POI never imports and exports in the same step (``grid_importing``).

``alert``: during the alert hours of the causal policy the net withdrawal is capped
(``cp_alert_cap``); the model does not see the official intervals, and the charge is settled
after the solve from the dispatch (``dcpower.results``). ``none``: settled after the solve.
"""

from __future__ import annotations

import pyomo.environ as pyo

from dcpower import columns
from dcpower.optimization.components.base import MUTABLE, Component, Family, set_indexed, soft
from dcpower.optimization.inputs import DispatchInputs

TERM = "transmission_cp_charge_usd"


def _mode(x: DispatchInputs) -> str | None:
    return None if x.case.tariff is None else x.case.tariff.response


class CoincidentPeakTariff(Component):
    name = "tariff"
    families = {
        "cp_alert_cap": Family("import − export ≤ cap during a CP alert hour (MW)", elastic=True),
    }
    terms = columns.term_kinds(TERM)

    def term_kinds(self, x: DispatchInputs) -> dict:
        return dict(self.terms) if _mode(x) == "perfect_foresight" else {}

    def add_params(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        if _mode(x) == "perfect_foresight":
            m.cp_usd_per_mw = pyo.Param(m.T, **MUTABLE)  # $ per MW of withdrawal in the step
        if _mode(x) == "alert":
            m.alert_cap_mw = pyo.Param(m.T, **MUTABLE)  # MW

    def load_window(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        if hasattr(m, "cp_usd_per_mw"):
            set_indexed(m.cp_usd_per_mw, x.cp_usd_per_mw)
        if hasattr(m, "alert_cap_mw"):
            set_indexed(m.alert_cap_mw, x.alert_cap_mw)

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        if _mode(x) == "alert":
            m.cp_alert_cap = pyo.Constraint(
                m.T,
                rule=lambda m, t: (
                    m.grid_import[t] - m.grid_export[t]
                    <= m.alert_cap_mw[t] + soft(m, "cp_alert_cap", t)
                ),
            )

    def objective_terms(self, m: pyo.ConcreteModel, x: DispatchInputs) -> dict[str, list]:
        if not hasattr(m, "cp_usd_per_mw"):
            return {}
        return {TERM: [-m.cp_usd_per_mw[t] * m.grid_import[t] for t in m.T]}
