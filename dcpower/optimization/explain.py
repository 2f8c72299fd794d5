"""Explainability: which inequality constraints bind at each timestep, read from primal slacks.

A row ``lb ≤ body ≤ ub`` binds when its slack to a finite bound is within
``BINDING_ABS_TOL + BINDING_REL_TOL·max(1, |bound|)`` (MW, MWh, MVAr or units, as the row's).
Equality rows (balances, SOC dynamics, commitment bookkeeping) always hold with zero slack, so
they are not reported; neither are rows with a zero bound whose continuous variables are all
zero (an idle resource meets ``discharge ≤ power·mode`` with equality at 0 = 0, which explains
nothing). Rows with a non-zero bound, such as N+1, are reported even when flows are zero.

Two equivalent evaluations: ``binding_constraints`` evaluates Pyomo rows (any row, active or
not); ``binding_from_arrays`` applies the same test to every row of the arrays HiGHS holds
(``lp_matrix``) at the model's current variable values (body = A·x + the row's constant), in
numpy: the solver path uses it for the active rows and Pyomo only for rows left out of HiGHS.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

from dcpower.optimization import lp_matrix

BINDING_ABS_TOL = 1e-6
BINDING_REL_TOL = 1e-6
ELASTIC_REPORT_TOL = 1e-6


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


@dataclass(frozen=True)
class RowIndex:
    """What the binding report needs of each row and column of one compiled LP: the rows'
    family and step, which columns are mode variables. Structural (rows and columns only, not
    the matrix, which a coefficient update may re-lay): built once per compilation."""

    family: list[str]  # per row, the constraint family
    step: np.ndarray  # per row, its timestep (-1: none)
    mode_column: np.ndarray  # per column, a battery-mode / grid-direction variable


def row_index(m: pyo.ConcreteModel, lp) -> RowIndex:
    """``RowIndex`` of ``lp`` (an ``lp_matrix.LpArrays`` of ``m``)."""
    family, step = [], np.empty(len(lp.rows), dtype=np.int64)
    for i, con in enumerate(lp.rows):
        comp = con.parent_component()
        family.append(comp.local_name)
        t = _t_of(m, comp, con.index())
        step[i] = -1 if t is None else t
    return RowIndex(
        family=family,
        step=step,
        mode_column=np.array([_is_mode(v) for v in lp.columns], dtype=bool),
    )


def binding_from_arrays(lp, index: RowIndex, x: np.ndarray) -> dict[int, set[str]]:
    """``binding_constraints`` over every row of ``lp`` at column values ``x``: the same test,
    bounds and tolerances (Pyomo's bound = the array bound + the row's constant)."""
    n = len(lp.rows)
    entry_row = lp_matrix.entry_rows(lp)

    def per_row(weights: np.ndarray) -> np.ndarray:  # Σ over each row's entries
        return np.bincount(entry_row, weights=weights, minlength=n)

    constant = lp.row_constant
    body = per_row(lp.value * x[lp.index])
    body += constant
    upper, lower = lp.row_upper + constant, lp.row_lower + constant
    finite_up, finite_lo = np.isfinite(upper), np.isfinite(lower)
    inequality = ~(finite_up & finite_lo & (lp.row_upper == lp.row_lower))

    def hits(bound, finite):
        b = np.where(finite, bound, 0.0)
        tol = BINDING_ABS_TOL + BINDING_REL_TOL * np.maximum(1.0, np.abs(b))
        return inequality & finite & (np.abs(body - b) <= tol)

    at_upper = hits(upper, finite_up)
    at_lower = hits(lower, finite_lo) & ~at_upper  # the upper bound is tested first
    bound = np.where(at_upper, upper, lower)
    # idle rows (``_trivial``): zero bound and every continuous variable zero (every variable
    # when the row has none), mode variables not counted
    entry_col = lp.index
    counted = ~index.mode_column[entry_col]
    continuous = counted & ~lp.integer[entry_col]
    nonzero = np.abs(x[entry_col]) > BINDING_ABS_TOL
    moving = np.where(
        per_row(continuous) > 0, per_row(continuous & nonzero), per_row(counted & nonzero)
    )
    trivial = (np.abs(bound) <= BINDING_ABS_TOL) & (moving == 0)
    out: dict[int, set[str]] = defaultdict(set)
    for i in np.flatnonzero((at_upper | at_lower) & ~trivial & (index.step >= 0)):
        out[int(index.step[i])].add(index.family[i])
    return out


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

    ``candidates``: the rows to test; default every active row.
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
