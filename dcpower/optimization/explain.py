"""Explainability: which inequality constraints bind at each timestep, read from primal slacks.

A row ``lb ≤ body ≤ ub`` binds when its slack to a finite bound is within
``BINDING_ABS_TOL + BINDING_REL_TOL·max(1, |bound|)`` (MW, MWh, MVAr or units, as the row's).
Equality rows (balances, SOC dynamics, commitment bookkeeping) always hold with zero slack, so
they are not reported; neither are rows whose every variable is zero (an idle resource meets
``discharge ≤ power·mode`` with equality at 0 = 0, which explains nothing).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

BINDING_ABS_TOL = 1e-6
BINDING_REL_TOL = 1e-6
ELASTIC_REPORT_TOL = 1e-6


def _timestep_of(index) -> int | None:
    """The timestep of a constraint index: the int itself or the int element of a tuple."""
    if isinstance(index, int):
        return index
    if isinstance(index, tuple):
        ints = [i for i in index if isinstance(i, int)]
        return ints[-1] if ints else None
    return None


def _t_of(m: pyo.ConcreteModel, comp, index) -> int | None:
    if index is None:  # scalar constraint such as soc_terminal: it sits on the last step
        return len(m.T) - 1
    if comp.dim() == 2 and list(comp.index_set().subsets())[0] is m.K:  # (facet, t)
        return index[1]
    if comp.dim() == 2:  # (t, start|end)
        return index[0]
    return _timestep_of(index)


def _all_zero(con) -> bool:
    return all(
        abs(v.value or 0.0) <= BINDING_ABS_TOL
        for v in identify_variables(con.body, include_fixed=False)
    )


def binding_constraints(m: pyo.ConcreteModel) -> dict[int, list[str]]:
    """Timestep → sorted names of constraint families binding there."""
    out: dict[int, set[str]] = defaultdict(set)
    for comp in m.component_objects(pyo.Constraint, active=True):
        for index, con in comp.items():
            if con.equality:
                continue
            body = pyo.value(con.body, exception=False)
            if body is None:
                continue
            for bound in (con.upper, con.lower):
                if bound is None:
                    continue
                b = pyo.value(bound)
                if abs(body - b) <= BINDING_ABS_TOL + BINDING_REL_TOL * max(1.0, abs(b)):
                    if _all_zero(con):
                        break
                    t = _t_of(m, comp, index)
                    if t is not None:
                        out[t].add(comp.local_name)
                    break
    return {t: sorted(names) for t, names in sorted(out.items())}


def binding_counts(binding: dict[int, list[str]]) -> dict[str, int]:
    """Family → number of timesteps at which it binds."""
    counts: dict[str, int] = defaultdict(int)
    for names in binding.values():
        for name in names:
            counts[name] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def elastic_violations(m: pyo.ConcreteModel) -> dict[str, list[tuple[int, float]]]:
    """Family → [(timestep, violation)] where an elastic slack is non-zero (elastic models)."""
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    if not getattr(m, "elastic", False):
        return {}
    for (family, t, _sign), var in m.slack.items():
        v = var.value or 0.0
        if v > ELASTIC_REPORT_TOL:
            out[family].append((t, v))
    return {k: sorted(v) for k, v in out.items()}
