"""A Pyomo model as the arrays HiGHS takes in one ``passModel`` call, and their updates.

Pyomo stays the modelling layer: every row is the model's own constraint, compiled by Pyomo's
linear-expression walker (``pyomo.repn.linear.LinearRepnVisitor``, the walker of its LP and
standard-form writers). What is skipped is the persistent interface's bookkeeping per row and
per coefficient, which cost 4–8× HiGHS's own LP time on a 90-day model.

Layout: one HiGHS row per active constraint in ``component_data_objects`` order (ranged rows
stay one row with two bounds), one column per unfixed variable in order of first appearance
in those rows, then in the objective; fixed variables enter as constants. Row-wise matrix
(``starts``, ``index``, ``value``).

Rolling windows re-use one model whose mutable parameters change: ``LpCompiler.changes``
recompiles only the rows whose expression holds a mutable parameter whose value changed since
they were compiled (rows and their parameters found once, on the first update; a flat site
load or SOC floor leaves most rows as they were), every column bound (bounds may be
parameters) and the objective, and returns what differs from what HiGHS holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_mutable_parameters
from pyomo.repn.linear import LinearRepnVisitor

INF = float("inf")


class NewColumnError(RuntimeError):
    """The model no longer matches the arrays HiGHS holds: a recompiled row or objective holds
    a variable that is not a column, or the set of active rows changed (rebuild)."""


@dataclass
class LpArrays:
    """One LP/MIP as arrays; ``rows[i]`` / ``columns[j]`` are the Pyomo objects of row i /
    column j. Maximisation when ``maximize``; ``offset`` is the objective's constant."""

    columns: list
    rows: list
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    row_lower: np.ndarray
    row_upper: np.ndarray
    starts: np.ndarray  # row-wise: row i's entries are [starts[i], starts[i + 1])
    index: np.ndarray
    value: np.ndarray
    offset: float
    maximize: bool
    col_of: dict[int, int] = field(default_factory=dict)  # id(variable) → column
    #: per row, the constant the walker moved from the body into the bounds: the Pyomo row's
    #: body = A·x + row_constant and its bounds = row_lower/row_upper + row_constant
    row_constant: np.ndarray | None = None


@dataclass
class LpChanges:
    """What differs between two compilations of one model (same rows and columns)."""

    cost: tuple[np.ndarray, np.ndarray]  # (columns, new costs)
    col_bounds: tuple[np.ndarray, np.ndarray, np.ndarray]  # (columns, lower, upper)
    row_bounds: tuple[np.ndarray, np.ndarray, np.ndarray]  # (rows, lower, upper)
    coefficients: list[tuple[int, int, float]]  # (row, column, value); 0 removes an entry
    offset: float | None  # new objective constant, when it changed


def _mutable_values(m: pyo.ConcreteModel) -> dict[int, float]:
    """id(parameter) → value of every mutable parameter of ``m``."""
    return {
        id(p): p.value
        for param in m.component_objects(pyo.Param, active=True)
        if param.mutable
        for p in param.values()
    }


@dataclass
class _ParamRows:
    """The rows that hold a mutable parameter, the parameters they hold (each once) and their
    values when those rows were last compiled: ``rows[k]`` holds
    ``params[index[starts[k]:starts[k + 1]]]``."""

    rows: np.ndarray
    params: list
    starts: np.ndarray
    index: np.ndarray
    values: np.ndarray

    def stale(self) -> np.ndarray:
        """Rows holding a parameter whose value changed since (then recompiled by the caller:
        the values are taken as compiled). A row whose parameters all kept their values
        compiles to the same arrays, so it is skipped."""
        now = np.array([p.value for p in self.params], dtype=float)
        changed = ~((now == self.values) | (np.isnan(now) & np.isnan(self.values)))
        self.values = now
        if not len(self.rows):
            return self.rows
        hits = np.add.reduceat(changed[self.index].astype(np.int64), self.starts[:-1])
        return self.rows[hits > 0]


def to_highs(lp: LpArrays) -> highspy.HighsLp:
    """The arrays as the ``HighsLp`` that ``Highs.passModel`` takes."""
    h = highspy.HighsLp()
    h.num_col_, h.num_row_ = len(lp.columns), len(lp.rows)
    h.col_cost_, h.col_lower_, h.col_upper_ = lp.col_cost, lp.col_lower, lp.col_upper
    h.row_lower_, h.row_upper_ = lp.row_lower, lp.row_upper
    h.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    h.a_matrix_.start_, h.a_matrix_.index_, h.a_matrix_.value_ = lp.starts, lp.index, lp.value
    h.offset_ = lp.offset
    h.sense_ = highspy.ObjSense.kMaximize if lp.maximize else highspy.ObjSense.kMinimize
    if lp.integer.any():
        h.integrality_ = np.where(
            lp.integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        ).tolist()
    return h


def column_entries(lp: LpArrays) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """A look-up of (rows, coefficients) per column, rows in ascending order: the matrix's
    entries are sorted by column once, so many columns cost one sort, not a scan each."""
    order = np.argsort(lp.index, kind="stable")  # stable: each column's rows stay ascending
    cols, rows, values = lp.index[order], entry_rows(lp)[order], lp.value[order]

    def entries(j: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(cols, j, side="left"), np.searchsorted(cols, j, side="right")
        return rows[lo:hi], values[lo:hi]

    return entries


def linear_row(visitor: LinearRepnVisitor, con) -> tuple[float, float, float, dict]:
    """(lower, upper, body constant, {id(variable): coefficient}) of a linear constraint, the
    body's constant moved into the bounds; ``visitor.var_map`` maps the ids to variables."""
    lb, body, ub = con.to_bounded_expression(evaluate_bounds=True)
    repn = visitor.walk_expression(body)
    if repn.nonlinear is not None:
        raise ValueError(f"constraint {con.name} is not linear")
    constant = float(repn.constant)
    lo = -INF if lb is None else float(lb) - constant
    hi = INF if ub is None else float(ub) - constant
    return lo, hi, constant, repn.linear


def entry_rows(lp: LpArrays) -> np.ndarray:
    """The row of each matrix entry (row-wise layout)."""
    return np.repeat(np.arange(len(lp.rows)), np.diff(lp.starts))


def column_bounds(v) -> tuple[float, float]:
    """(lower, upper) of a variable as HiGHS takes them (±inf when unbounded)."""
    lo, hi = v.lb, v.ub
    return (-INF if lo is None else float(lo)), (INF if hi is None else float(hi))


class LpCompiler:
    """Compile a model once (``compile``), then its parameter-driven changes (``changes``)."""

    def __init__(self, m: pyo.ConcreteModel):
        self.model = m
        self._visitor = LinearRepnVisitor({})
        self._param_rows: _ParamRows | None = None  # rows holding a mutable parameter
        self._compiled_values: dict[int, float] = {}  # id(parameter) → value when compiled
        self.lp: LpArrays | None = None
        self._structure = None  # the model's ``lp_structure`` when compiled

    def _row(self, con, col_of: dict[int, int] | None, columns: list | None):
        """(lower, upper, column indices, values, body constant) of one constraint; new
        variables are added to ``col_of``/``columns`` (None: a new variable raises
        ``NewColumnError``)."""
        lo, hi, constant, linear = linear_row(self._visitor, con)
        idx, val = [], []
        var_map = self._visitor.var_map
        for vid, coef in linear.items():
            j = self._column(vid, var_map, col_of, columns)
            if coef:  # a zero coefficient (a parameter at 0) is no entry
                idx.append(j)
                val.append(float(coef))
        return lo, hi, idx, val, constant

    def _column(self, vid: int, var_map: dict, col_of: dict, columns: list | None) -> int:
        j = col_of.get(vid)
        if j is None:
            if columns is None:
                raise NewColumnError(var_map[vid].name)
            j = col_of[vid] = len(columns)
            columns.append(var_map[vid])
        return j

    def _objective(self, col_of: dict[int, int], columns: list | None):
        obj = next(self.model.component_data_objects(pyo.Objective, active=True))
        repn = self._visitor.walk_expression(obj.expr)
        if repn.nonlinear is not None:
            raise ValueError("the objective is not linear")
        var_map = self._visitor.var_map
        terms = [
            (self._column(vid, var_map, col_of, columns), float(c))
            for vid, c in repn.linear.items()
        ]
        return obj.sense == pyo.maximize, float(repn.constant), terms

    def compile(self) -> LpArrays:
        """The whole model as arrays (and remembered as what HiGHS holds)."""
        self._structure = getattr(self.model, "lp_structure", 0)
        self._param_rows = None
        self._compiled_values = _mutable_values(self.model)
        self._visitor = LinearRepnVisitor({})  # its cache holds named expressions' values
        rows = list(self.model.component_data_objects(pyo.Constraint, active=True))
        col_of: dict[int, int] = {}
        columns: list = []
        lower = np.empty(len(rows))
        upper = np.empty(len(rows))
        constant = np.empty(len(rows))
        starts = np.zeros(len(rows) + 1, dtype=np.int32)
        index: list[int] = []
        value: list[float] = []
        for i, con in enumerate(rows):
            lower[i], upper[i], idx, val, constant[i] = self._row(con, col_of, columns)
            index += idx
            value += val
            starts[i + 1] = len(index)
        maximize, offset, terms = self._objective(col_of, columns)
        cost = np.zeros(len(columns))
        for j, c in terms:
            cost[j] += c
        bounds = np.array([column_bounds(v) for v in columns]).reshape(-1, 2)
        self.lp = LpArrays(
            columns=columns,
            rows=rows,
            col_cost=cost,
            col_lower=bounds[:, 0].copy(),
            col_upper=bounds[:, 1].copy(),
            integer=np.array([v.is_integer() for v in columns], dtype=bool),
            row_lower=lower,
            row_upper=upper,
            starts=starts,
            index=np.asarray(index, dtype=np.int32),
            value=np.asarray(value, dtype=float),
            offset=offset,
            maximize=maximize,
            col_of=col_of,
            row_constant=constant,
        )
        return self.lp

    def _find_param_rows(self) -> _ParamRows:
        rows, held, index, starts = [], {}, [], [0]
        for i, con in enumerate(self.lp.rows):
            params = list(identify_mutable_parameters(con.expr))
            if not params:
                continue
            rows.append(i)
            for p in params:
                index.append(held.setdefault(id(p), (len(held), p))[0])
            starts.append(len(index))
        params = [p for _, p in sorted(held.values(), key=lambda kp: kp[0])]
        compiled = self._compiled_values
        return _ParamRows(
            rows=np.asarray(rows, dtype=np.int64),
            params=params,
            starts=np.asarray(starts, dtype=np.int64),
            index=np.asarray(index, dtype=np.int64),
            values=np.array([compiled.get(id(p), np.nan) for p in params], dtype=float),
        )

    def changes(self) -> LpChanges:
        """What the current parameter values change against the arrays HiGHS holds (which are
        updated to them). Raises ``NewColumnError`` when a variable that is not a column
        appears (the caller rebuilds)."""
        lp = self.lp
        if getattr(self.model, "lp_structure", 0) != self._structure:
            raise NewColumnError("the set of active rows changed")
        if self._param_rows is None:
            self._param_rows = self._find_param_rows()
        # a fresh walker: the cache of named expressions (``Expression``) holds old parameter
        # values, and a cached sub-expression would keep them
        self._visitor = LinearRepnVisitor({})
        _, offset, terms = self._objective(lp.col_of, None)
        cost = np.zeros(len(lp.columns))
        for j, c in terms:
            cost[j] += c
        cost_cols = np.flatnonzero(cost != lp.col_cost)
        lp.col_cost[cost_cols] = cost[cost_cols]
        bounds = np.array([column_bounds(v) for v in lp.columns]).reshape(-1, 2)
        bound_cols = np.flatnonzero((bounds[:, 0] != lp.col_lower) | (bounds[:, 1] != lp.col_upper))
        lp.col_lower[bound_cols] = bounds[bound_cols, 0]
        lp.col_upper[bound_cols] = bounds[bound_cols, 1]
        changed_rows, coefficients = [], []
        for i in self._param_rows.stale():
            lo, hi, idx, val, lp.row_constant[i] = self._row(lp.rows[i], lp.col_of, None)
            if lo != lp.row_lower[i] or hi != lp.row_upper[i]:
                lp.row_lower[i], lp.row_upper[i] = lo, hi
                changed_rows.append(i)
            a, b = lp.starts[i], lp.starts[i + 1]
            held = dict(zip(lp.index[a:b].tolist(), lp.value[a:b].tolist(), strict=True))
            new = dict(zip(idx, val, strict=True))
            for j in held.keys() | new.keys():
                if held.get(j, 0.0) != new.get(j, 0.0):
                    coefficients.append((int(i), j, new.get(j, 0.0)))
        if coefficients:  # keep the held matrix true (rare: a parameter multiplies a column)
            self._apply_coefficients(coefficients)
        rows = np.asarray(changed_rows, dtype=np.int32)
        new_offset = None if offset == lp.offset else offset
        lp.offset = offset
        return LpChanges(
            cost=(cost_cols.astype(np.int32), cost[cost_cols]),
            col_bounds=(
                bound_cols.astype(np.int32),
                bounds[bound_cols, 0],
                bounds[bound_cols, 1],
            ),
            row_bounds=(rows, lp.row_lower[rows], lp.row_upper[rows]),
            coefficients=coefficients,
            offset=new_offset,
        )

    def _apply_coefficients(self, coefficients: list[tuple[int, int, float]]) -> None:
        lp = self.lp
        entries = {
            (i, int(j)): v
            for i in range(len(lp.rows))
            for j, v in zip(
                lp.index[lp.starts[i] : lp.starts[i + 1]],
                lp.value[lp.starts[i] : lp.starts[i + 1]],
                strict=True,
            )
        }
        for i, j, v in coefficients:
            if v == 0.0:
                entries.pop((i, j), None)
            else:
                entries[(i, j)] = v
        keys = sorted(entries)
        rows = np.array([k[0] for k in keys], dtype=np.int64)
        lp.index = np.array([k[1] for k in keys], dtype=np.int32)
        lp.value = np.array([entries[k] for k in keys], dtype=float)
        lp.starts = np.searchsorted(rows, np.arange(len(lp.rows) + 1)).astype(np.int32)
