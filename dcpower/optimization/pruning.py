"""Rows left out of the solve because they provably cannot change its optimum.

**The reactive rows.** Reactive power enters the dispatch model only through the variables
``poi_q``, ``bess_q``, ``gen_q`` (MVAr) and ``poi_q_excess`` (MVAr, a cost ≥ 0 per MVArh), and
these appear only in the reactive families (``transformer_mva``, ``pcs_mva``, ``gen_mva``,
``gen_reactive_upper/lower``, ``poi_pf_upper/lower``, every family with ``reactive=True``) and
in ``reactive_balance``. Dropping those rows leaves a relaxation (fewer rows, Q free and out of
the objective), so its optimum is ≥ the full model's. It is also ≤ when every active dispatch
the relaxation admits has a Q that satisfies the dropped rows at no cost: take

    poi_q = 0, gen_q = 0, poi_q_excess = 0, bess_q = tan(acos PF_load) · served load.

With facet k of a K-facet polygon ``a_k·P + b_k·Q ≤ c_k·S``, |a_k| ≤ c_k = cos(π/K):

- ``reactive_balance``: the load's Q is the PCS's Q by construction;
- ``poi_pf_*``: ±0 − 0 ≤ k_POI·(import + export), as import, export ≥ 0;
- ``transformer_mva`` at Q = 0: a_k·P ≤ c_k·|P| ≤ c_k·S when the POI's import and export
  limits are ≤ the transformer's MVA (|P| ≤ max of both);
- ``gen_reactive_*`` at Q = 0: 0 ≤ k_gen·gen_mw; ``gen_mva`` at Q = 0: a_k·gen_mw ≤
  c_k·unit MW·producing ≤ c_k·unit MVA·producing, as ``gen_max_output`` keeps gen_mw ≤ unit
  MW · producing units and a unit's MW ≤ its MVA (rated PF ≤ 1);
- ``pcs_mva``: the BESS's P lies in [−power, power] (charge and discharge caps) and the load's
  Q in [0, tan(acos PF_load) · peak load]; the polygon is convex, so it holds on that box when
  it holds at the box's four corners, which ``reactive_rows_redundant`` checks (with a margin).
- the deployed rows (``deployment``: ``*_deployed_up/down``, ``gen_unit_*``) at the same Q:
  the deployed P stays in the same ranges — the POI's within [−export, import] limit
  (``poi_reserve_up/down``, always built), the PCS's within [−power, power] (``bess_up/down_
  headroom``), the units' within [min MW, unit MW] × producing (``gen_max/min_output``) — so
  the same arguments hold; ``gen_unit_*`` at Q = 0: 0 ≤ intercept·n − fall·P, as the chord's
  room stays ≥ 0 on [min MW, unit MW].

So the optimum is unchanged, and the second stage (``reactive.dispatch_reactive``) still sets the
final Q from the active dispatch. The K-facet polygon rows (``transformer_mva``, ``pcs_mva``,
``gen_mva``: K rows per step each) are then not built at all; explainability checks their facets at
the final Q numerically (``polygon_binding``, the tolerance of ``explain``). The other reactive rows
(a few per step) are built and deactivated, so explainability checks them as rows. Elastic
(diagnosis) models keep every row. The proof covers the horizon's peak load
(``DispatchInputs.load_peak_mw``), so one model serves every rolling window of a case. Both tests
keep a margin of ``MARGIN_MVA``: the marginal values (``marginal``) differentiate the model by
building it again with a size raised by 1e-3, and that model must make the same decision.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

from dcpower.optimization import deployment
from dcpower.optimization.components.base import Family, has_bess
from dcpower.optimization.explain import BINDING_ABS_TOL, BINDING_REL_TOL
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import gas_gen
from dcpower.topology.polygon import facet_coefficients

#: how far inside its limit each test must hold, MW / MVA: more than the marginal-value probes'
#: size step (``marginal.PROBE_DELTA``, 1e-3), so a probed size keeps the pruning decision
MARGIN_MVA = 1e-2


def load_q_peak_mvar(x: DispatchInputs) -> float:
    """Largest reactive demand of the load over ``x``'s steps, MVAr (at full service)."""
    peak = float(max(x.load.total_mw)) if len(x.load.total_mw) else 0.0
    return gas_gen.reactive_ratio(x.case.load.power_factor) * max(peak, 0.0)


def reactive_rows_redundant(x: DispatchInputs, q_peak_mvar: float | None = None) -> bool:
    """The reactive rows cannot change the optimum of ``x`` (the module's proof applies).

    ``q_peak_mvar``: the load's peak Q to prove it for (default: ``x``'s own).
    """
    case = x.case
    if not has_bess(x):
        return False
    poi, xf = case.poi, case.transformer
    if max(poi.import_limit_mw, poi.export_limit_mw) > xf.rating_mva - MARGIN_MVA:
        return False
    q = load_q_peak_mvar(x) if q_peak_mvar is None else q_peak_mvar
    p, s = case.bess.power_mw, case.bess.pcs_mva
    corners = [(sp * p, sq * q) for sp in (-1.0, 1.0) for sq in (0.0, 1.0)]
    return all(
        a * cp + b * cq <= c * s - MARGIN_MVA
        for a, b, c in facet_coefficients(xf.polygon_facets)
        for cp, cq in corners
    )


def decide(m: pyo.ConcreteModel, x: DispatchInputs, prune: bool) -> None:
    """Set ``m.reactive_pruned`` (before the components add their rows) and the peak load Q
    the proof covers, ``m.reactive_pruned_q_mvar`` (MVAr; None when not pruned)."""
    q = gas_gen.reactive_ratio(x.case.load.power_factor) * max(x.load_peak_mw or 0.0, 0.0)
    q = max(q, load_q_peak_mvar(x))
    m.reactive_pruned = bool(prune and not m.elastic and reactive_rows_redundant(x, q))
    m.reactive_pruned_q_mvar = q if m.reactive_pruned else None


def reactive_row_components(m: pyo.ConcreteModel, families: dict[str, Family]) -> list:
    """The model's reactive constraint components (``reactive=True`` families and the
    reactive balance) that were built."""
    names = [name for name, f in families.items() if f.reactive] + ["reactive_balance"]
    return [getattr(m, name) for name in names if hasattr(m, name)]


def deactivate_reactive_rows(m: pyo.ConcreteModel, families: dict[str, Family]) -> None:
    """Deactivate the built reactive rows of a pruned model (after the components added them)."""
    if m.reactive_pruned:
        for comp in reactive_row_components(m, families):
            comp.deactivate()


def check_window(m: pyo.ConcreteModel, x: DispatchInputs) -> None:
    """Raise when window ``x``'s load needs more Q than the pruning proof of ``m`` covered
    (``x`` lacks the horizon's peak load it was built with)."""
    covered = getattr(m, "reactive_pruned_q_mvar", None)
    if covered is not None and load_q_peak_mvar(x) > covered * (1 + 1e-12):
        raise ValueError(
            "window load above the peak the model's reactive pruning was proven for; build "
            "the model from inputs that carry the horizon's load_peak_mw"
        )


def polygon_binding(m: pyo.ConcreteModel, x: DispatchInputs) -> dict[int, list[str]]:
    """Step → reactive limit families (not built: pruned) with a row binding at the model's
    current P and Q, dispatched or deployed (``deployment``), with ``explain``'s tolerance and
    its rule for idle resources (a zero bound with every continuous variable of the row at zero
    explains nothing)."""
    if not getattr(m, "reactive_pruned", False):
        return {}
    T = list(m.T)
    out: dict[int, list[str]] = {}
    for point in deployment.deployment_points(m, x):
        if point.q is None:
            continue
        p, rating = deployment.point_values(point, T)
        q = deployment.values(point.q, T)
        families = {"dispatched": point.family, **point.deployed}
        states = deployment.row_states(point)
        near: dict[str, np.ndarray] = {}
        idle: dict[tuple[str, int], bool] = {}
        for (a_p, a_q, scale), state in zip(point.rows, states, strict=True):
            rhs = scale * rating
            lhs = a_p * p[state] + a_q * q
            tol = BINDING_ABS_TOL + BINDING_REL_TOL * np.maximum(1.0, np.abs(rhs))
            hit = np.abs(lhs - rhs) <= tol
            for t in np.flatnonzero(hit & (np.abs(rhs) <= BINDING_ABS_TOL)):
                key = (state, int(t))
                if key not in idle:  # the same for every row of the state at that step
                    idle[key] = _idle(point, state, int(t))
                hit[t] = not idle[key]
            family = families[state]
            near[family] = near.get(family, np.zeros(len(T), bool)) | hit
        for family, hit in near.items():
            for t in np.flatnonzero(hit):
                out.setdefault(int(t), []).append(family)
    return out


def _idle(point, state: str, t: int) -> bool:
    """``explain``'s rule for a zero bound: every continuous variable of the row is zero."""
    expr = point.p_at(t, state) + point.q(t) + point.rating(t)
    variables = [v for v in identify_variables(expr, include_fixed=False) if not v.is_integer()]
    return all(abs(v.value or 0.0) <= BINDING_ABS_TOL for v in variables)
