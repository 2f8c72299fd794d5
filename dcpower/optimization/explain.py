"""Explainability: which inequality constraints bind at each timestep, read from primal slacks.

A row ``lb ≤ body ≤ ub`` binds when its slack to a finite bound is within
``BINDING_ABS_TOL + BINDING_REL_TOL·max(1, |bound|)`` (MW, MWh, MVAr or units, as the row's).
Equality rows (balances, SOC dynamics, commitment bookkeeping) always hold with zero slack, so
they are not reported; neither are rows with a zero bound whose continuous variables are all
zero (an idle resource meets ``discharge ≤ power·mode`` with equality at 0 = 0, which explains
nothing). Rows with a non-zero bound, such as N+1, are reported even when flows are zero.

For speed, the solver's row activities pick the candidate rows (``near_bound_rows``, numpy over
all rows); only those are checked against the Pyomo rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

BINDING_ABS_TOL = 1e-6
BINDING_REL_TOL = 1e-6
ELASTIC_REPORT_TOL = 1e-6
#: candidate filter: looser than the binding test, so it never drops a binding row (HiGHS moves
#: constants into the row bounds, which changes |bound| in the relative tolerance).
CANDIDATE_ABS_TOL = 1e-4
CANDIDATE_REL_TOL = 1e-4


def near_bound_rows(activity: np.ndarray, lower: np.ndarray, upper: np.ndarray, rows: list) -> list:
    """Inequality rows whose activity is within the candidate tolerance of a finite bound."""
    finite_lo, finite_up = np.isfinite(lower), np.isfinite(upper)
    inequality = ~(finite_lo & finite_up & (lower == upper))

    def near(bound, finite):
        b = np.where(finite, bound, 0.0)
        tol = CANDIDATE_ABS_TOL + CANDIDATE_REL_TOL * np.maximum(1.0, np.abs(b))
        return finite & (np.abs(activity - b) <= tol)

    pick = inequality & (near(lower, finite_lo) | near(upper, finite_up))
    return [rows[i] for i in np.flatnonzero(pick)]


def _t_of(m: pyo.ConcreteModel, comp, index) -> int | None:
    """The timestep of a row: the position of ``m.T`` in its component's index."""
    if index is None:  # scalar constraint such as soc_terminal: it sits on the last step
        return len(m.T) - 1
    if not isinstance(index, tuple):
        return int(index) if comp.index_set() is m.T else None
    for position, subset in enumerate(comp.index_set().subsets()):
        if subset is m.T:
            return int(index[position])
    return None


def _trivial(con, bound: float) -> bool:
    """A row that binds only because its resource is idle: the bound is zero and every variable
    is zero — continuous ones, and integer ones too when the row has no continuous variable
    (e.g. export ≤ limit·(1 − importing) while importing; units started ≤ committed with none)."""
    if abs(bound) > BINDING_ABS_TOL:
        return False
    variables = [v for v in identify_variables(con.body, include_fixed=False) if not _is_mode(v)]
    continuous = [v for v in variables if not (v.is_integer() or v.is_binary())]
    return all(abs(v.value or 0.0) <= BINDING_ABS_TOL for v in (continuous or variables))


def _is_mode(v) -> bool:
    """Battery-mode / grid-direction variables, binary or relaxed to [0, 1]."""
    return v.parent_component().local_name in ("bess_discharging", "grid_importing")


def _all_rows(m: pyo.ConcreteModel):
    for comp in m.component_objects(pyo.Constraint, active=True):
        yield from comp.values()


def start_delay_waits(m: pyo.ConcreteModel) -> list[int]:
    """Steps at which started units wait out their start delay (committed, not yet producing):
    the start delay binds there, whatever the slack of its integer row."""
    if not hasattr(m, "gen_start_delay"):
        return []
    return [t for t in m.T if pyo.value(m.gen_committed[t]) - pyo.value(m.gen_producing[t]) > 0.5]


def rows_of(m: pyo.ConcreteModel, families: Iterable[str]):
    """Every row of the named constraint families present in ``m``."""
    for name in families:
        comp = getattr(m, name, None)
        if comp is not None:
            yield from comp.values()


def binding_constraints(
    m: pyo.ConcreteModel, candidates: Iterable | None = None
) -> dict[int, list[str]]:
    """Timestep → sorted names of constraint families binding there.

    ``candidates``: the rows to test (from ``near_bound_rows``); default every active row.
    The start delay, an integer-only family, binds where started units wait
    (``start_delay_waits``).
    """
    out: dict[int, set[str]] = defaultdict(set)
    for t in start_delay_waits(m):
        out[t].add("gen_start_delay")
    for con in _all_rows(m) if candidates is None else candidates:
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
                if _trivial(con, b):
                    break
                comp = con.parent_component()
                t = _t_of(m, comp, con.index())
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
