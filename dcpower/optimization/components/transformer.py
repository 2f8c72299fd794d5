"""The main step-down transformer: the POI's (P, Q) inside its MVA polygon."""

from __future__ import annotations

import pyomo.environ as pyo

from dcpower.optimization.components.base import Component, Family
from dcpower.optimization.inputs import DispatchInputs
from dcpower.topology.polygon import facet_coefficients


class Transformer(Component):
    name = "transformer"
    families = {
        "transformer_mva": Family(
            "transformer (P, Q) inside the inscribed K-facet MVA polygon", reactive=True
        ),
    }

    def add(self, m: pyo.ConcreteModel, x: DispatchInputs) -> None:
        if m.reactive_pruned:  # cannot bind: ``pruning``
            return
        xf = x.case.transformer
        facets = facet_coefficients(xf.polygon_facets)
        m.transformer_mva = pyo.Constraint(
            m.K,
            m.T,
            rule=lambda m, k, t: (
                facets[k][0] * (m.grid_import[t] - m.grid_export[t]) + facets[k][1] * m.poi_q[t]
                <= facets[k][2] * xf.rating_mva
            ),
        )
