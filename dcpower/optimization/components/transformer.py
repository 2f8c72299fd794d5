"""The main step-down transformer: the POI's (P, Q) inside its MVA polygon, as dispatched and
with every award of one direction deployed (the grid takes what the site's awards move)."""

from __future__ import annotations

import pyomo.environ as pyo

from dcpower.optimization.components.base import (
    Component,
    DeploymentPoint,
    Family,
    polygon_rows,
)
from dcpower.optimization.inputs import DispatchInputs

_FACING = "facets the deployment moves the POI towards"


class Transformer(Component):
    name = "transformer"
    families = {
        "transformer_mva": Family(
            "transformer (P, Q) inside the inscribed K-facet MVA polygon (facets no deployment "
            "moves the POI towards)",
            reactive=True,
        ),
        "transformer_deployed_up": Family(
            "transformer (import − export − Σ up-awards of the site, Q as dispatched) inside the "
            f"K-facet MVA polygon, {_FACING} (MVA)",
            reactive=True,
        ),
        "transformer_deployed_down": Family(
            "transformer (import − export + Σ down-awards of the site, Q as dispatched) inside "
            f"the K-facet MVA polygon, {_FACING} (MVA)",
            reactive=True,
        ),
    }

    def deployment_points(self, m: pyo.ConcreteModel, x: DispatchInputs, site_shift):
        xf = x.case.transformer
        return [
            DeploymentPoint(
                name="transformer",
                p=lambda t: m.grid_import[t] - m.grid_export[t],
                q=lambda t: m.poi_q[t],
                up_sign=-1,
                shift=site_shift,
                rows=polygon_rows(xf.polygon_facets, xf.rating_mva),
                rating=lambda t: 1.0,
                family="transformer_mva",
                deployed={"up": "transformer_deployed_up", "down": "transformer_deployed_down"},
            )
        ]
