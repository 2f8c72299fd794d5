"""Second stage of a solve: fix the active dispatch and set Q as ``topology.reactive`` decides.

The MILP needs Q for its MVA and PF rows, but it leaves Q free within them; this stage replaces
the solver's arbitrary split by the determinate, non-circulating one and writes it back into the
model (so explainability and extraction read the final Q).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from dcpower.optimization.components.base import has_bess
from dcpower.optimization.deployment import deployment_points, q_range_at_deployment
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import gas_gen
from dcpower.topology.polygon import q_range_mvar
from dcpower.topology.reactive import ReactiveDispatch, allocate_reactive

RESIDUAL_TOL_MVAR = 1e-5


def step_values(component, T) -> np.ndarray:
    """Values of a step-indexed variable or expression at the steps ``T``."""
    return np.array([pyo.value(component[t]) for t in T], dtype=float)


def _within(
    rng: tuple[np.ndarray, np.ndarray], limit: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """``rng`` narrowed to ``limit`` (None: unchanged); an edge within rounding of 0 snaps to 0
    (a deployed point exactly on a vertex of the P axis)."""
    if limit is None:
        return rng
    lo, hi = np.maximum(rng[0], limit[0]), np.minimum(rng[1], limit[1])
    lo = np.where((lo > 0) & (lo <= 1e-7), 0.0, lo)
    hi = np.where((hi < 0) & (hi >= -1e-7), 0.0, hi)
    return lo, hi


def dispatch_reactive(m: pyo.ConcreteModel, x: DispatchInputs) -> ReactiveDispatch:
    """Set ``poi_q``, ``gen_q``, ``bess_q`` (and ``poi_q_excess``) of the solved model ``m`` to
    the determinate reactive dispatch at its active dispatch; returns that dispatch."""
    case = x.case
    T = list(m.T)
    facets = case.transformer.polygon_facets
    p_poi = step_values(m.grid_import, T) - step_values(m.grid_export, T)
    p_gen = np.maximum(step_values(m.gen_mw, T), 0.0)
    p_pcs = step_values(m.bess_discharge, T) - step_values(m.bess_charge, T)
    producing = np.maximum(np.rint(step_values(m.gen_producing, T)), 0.0)
    served = (
        x.load.total_mw
        - (step_values(m.unserved_critical, T) + step_values(m.unserved_flexible, T))
        - step_values(m.unserved_other, T)
    )
    q_load = gas_gen.reactive_ratio(case.load.power_factor) * served
    k_gen = gas_gen.reactive_ratio(case.gas_gen.min_power_factor)
    g_lo, g_hi = q_range_mvar(p_gen, gas_gen.unit_mva(case.gas_gen) * producing, facets)
    gen_range = (np.maximum(g_lo, -k_gen * p_gen), np.minimum(g_hi, k_gen * p_gen))
    has_pcs = has_bess(x)
    pcs_range = (
        q_range_mvar(p_pcs, case.bess.pcs_mva, facets)
        if has_pcs
        else (np.zeros(len(T)), np.zeros(len(T)))
    )
    k_poi = gas_gen.reactive_ratio(case.poi.min_power_factor)
    poi_pf = (-k_poi * np.abs(p_poi), k_poi * np.abs(p_poi))
    poi_mva = q_range_mvar(p_poi, case.transformer.rating_mva, facets)
    # Q must also keep every element within its limits with the awards deployed (P ± awards)
    deployed = {pt.name: q_range_at_deployment(m, pt, T) for pt in deployment_points(m, x)}
    gen_range = _within(_within(gen_range, deployed.get("gen")), deployed.get("gen_unit"))
    pcs_range = _within(pcs_range, deployed.get("pcs"))
    poi_mva = _within(poi_mva, deployed.get("transformer"))
    result = allocate_reactive(
        q_load, gen_range, pcs_range, poi_pf, poi_mva, case.poi.power_factor_rule == "penalty"
    )
    worst = float(np.max(np.abs(result.residual_mvar))) if len(T) else 0.0
    if worst > RESIDUAL_TOL_MVAR:
        raise RuntimeError(
            f"reactive second stage: {worst:.3g} MVAr of load Q has no source at a dispatch the "
            "MILP found feasible (a model inconsistency; please report it)"
        )
    for t in T:
        m.poi_q[t].set_value(float(result.poi_q_mvar[t]))
        m.gen_q[t].set_value(float(result.gen_q_mvar[t]))
        if not m.bess_q[t].fixed:
            m.bess_q[t].set_value(float(result.pcs_q_mvar[t]))
        if hasattr(m, "poi_q_excess"):
            m.poi_q_excess[t].set_value(float(result.poi_q_excess_mvar[t]))
    return result
