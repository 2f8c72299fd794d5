"""Marginal value of each asset's size, from the duals of the fixed-integer LP.

After a window's MILP is solved (and everything kept is extracted), every integer column is
fixed at its rounded value and the window is re-solved as an LP (one extra LP per window). The
objective's sensitivity to a size s is, by the envelope theorem, Σ_rows dual_r × ∂g_r/∂s with
g_r = (active row bound − row body) at the LP solution. ∂g_r/∂s is found without hand-written
coefficients: the same window is built for the case with s + δ, every row with a non-zero dual
is evaluated at the same variable values in both models (rows matched by component name and
index), and the difference is divided by δ. Rows are linear in the sizes except min() caps,
where the small one-sided δ gives the right-hand derivative. Rolling windows: only rows of the
window's kept steps count (a row's step is the latest step of its variables), summed over
windows; monolithic: every row.

Most rows do not hold the size at all, and their difference is exactly 0. ``ProbeRows`` finds
the others without a list of families: a base row and its probe row are compared once as
expression trees (same node types, same variables and mutable parameters by name and index,
same numbers); a row whose trees differ holds a number derived from the size (it is evaluated
in every window), a row whose trees are the same differs in a window only where one of its
parameters has another value in the probe's window data (size-derived data such as the SOC
floor). Only those rows are evaluated, with the probe row's variables at the base values: the
sum is the same, bit for bit, as evaluating every row. A row that cannot be mapped (missing in
the probe, or a probe variable without a base variable) sends its window back to evaluating
every row of a full copy (``MarginalValues.fallbacks`` counts them).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.common.numeric_types import native_numeric_types
from pyomo.core.expr.visitor import identify_mutable_parameters, identify_variables
from pyomo.repn.linear import LinearRepnVisitor

from dcpower.case import Case
from dcpower.columns import MARGINAL_VALUE_UNITS
from dcpower.optimization import dispatch_milp, lp_matrix
from dcpower.optimization.inputs import DispatchInputs
from dcpower.resources import bess as bess_model

_WHAT = {
    "transformer": "+1 MVA of transformer.rating_mva",
    "bess_energy": "+1 MWh of bess.energy_mwh (initial, floor and final SOC scale)",
    "bess_power": "+1 MW of bess.power_mw",
    "poi_import": "+1 MW of poi.import_limit_mw",
    "gas": "+1 MW of fleet capacity: each unit's gas_gen.unit_mw + 1/units",
}
#: asset → (unit of +1, what +1 means)
ASSETS: dict[str, tuple[str, str]] = {
    asset: (unit, _WHAT[asset]) for asset, unit in MARGINAL_VALUE_UNITS.items()
}
#: size step of the probe model, in the asset's unit (rows are linear in the sizes)
PROBE_DELTA = 1e-3
DUAL_TOL = 1e-9
METHOD = "fixed_integer_lp_duals"


def installed(case: Case, asset: str) -> bool:
    """The asset is on site (a marginal value of a size that is 0 is not reported)."""
    if asset.startswith("bess"):
        return case.bess.installed
    if asset == "gas":
        return case.gas_gen.installed
    return True


def probe_case(case: Case, asset: str, delta: float) -> Case:
    """``case`` with the asset's size raised by ``delta`` (its unit); no validation."""

    def section(name: str, **update) -> Case:
        return case.model_copy(update={name: getattr(case, name).model_copy(update=update)})

    if asset == "transformer":
        return section("transformer", rating_mva=case.transformer.rating_mva + delta)
    if asset == "bess_energy":
        return section("bess", energy_mwh=case.bess.energy_mwh + delta)
    if asset == "bess_power":
        b = case.bess
        power = b.power_mw + delta
        return section("bess", power_mw=power, pcs_mva=max(b.pcs_mva, power))
    if asset == "poi_import":
        return section("poi", import_limit_mw=case.poi.import_limit_mw + delta)
    if asset == "gas":
        g = case.gas_gen
        return section("gas_gen", unit_mw=g.unit_mw + delta / g.units)
    raise KeyError(asset)


def probe_inputs(x: DispatchInputs, case: Case) -> DispatchInputs:
    """``x`` (full horizon) for the probe ``case``: the case-derived SOC arrays recomputed
    as ``inputs.build_inputs`` does."""
    floor = bess_model.soc_floor_mwh(
        case.bess, x.load.critical_mw, case.reliability.ride_through_minutes
    )
    if case.bess.energy_mwh == 0:
        floor = np.zeros(x.n_steps)
    return replace(
        x,
        case=case,
        soc_floor_mwh=floor,
        soc_initial_mwh=bess_model.soc_initial_mwh(case.bess),
        soc_final_min_mwh=bess_model.soc_final_min_mwh(case.bess),
    )


def row_step(con) -> int | None:
    """The latest step of a row's variables (None: no step-indexed variable)."""
    steps = []
    for v in identify_variables(con.body, include_fixed=True):
        idx = v.index()
        if idx is None:
            continue
        t = idx[-1] if isinstance(idx, tuple) else idx
        if isinstance(t, int):
            steps.append(t)
    return max(steps) if steps else None


def slack(con, lower_active: bool) -> float:
    """(active bound − body) of a row at the model's current variable values."""
    body = pyo.value(con.body)
    bound = pyo.value(con.lower) if lower_active else pyo.value(con.upper)
    return float(bound - body)


def copy_values(src: pyo.ConcreteModel, dst: pyo.ConcreteModel) -> None:
    """Variable values of ``src`` into the same-named variables of ``dst``."""
    for var in src.component_objects(pyo.Var, active=True):
        target = dst.find_component(var.local_name)
        if target is None:
            continue
        for idx, v in var.items():
            if idx in target:
                target[idx].set_value(v.value, skip_validation=True)


def pyomo_total(base: pyo.ConcreteModel, probe: pyo.ConcreteModel, rows: list[tuple]) -> float:
    """Σ dual × (probe slack − base slack) over ``rows`` (row, dual, lower active), every row
    evaluated in both models with all of the base's variable values copied into the probe."""
    copy_values(base, probe)
    total = 0.0
    for con, dual, lower_active in rows:
        total += dual * (slack(probe_row(probe, con), lower_active) - slack(con, lower_active))
    return total


def probe_row(probe: pyo.ConcreteModel, con):
    """The row of ``probe`` with the name and index of ``con`` (None: no such row)."""
    parent = probe.find_component(con.parent_component().local_name)
    if parent is None:
        return None
    if not parent.is_indexed():
        return parent
    idx = con.index()
    if idx not in parent:  # (Pyomo components have no ``get``)
        return None
    return parent[idx]


class UnmappedRowError(LookupError):
    """A base row has no probe row, or a probe row holds a variable the base does not have."""


_UNSET = object()


def _name(data) -> tuple:
    return data.parent_component().local_name, data.index()


def same_structure(a, b, params: list) -> bool:
    """``a`` and ``b`` (expressions of two models) are the same tree: node types and arity,
    variables and parameters by component name and index, numbers by value. The pairs of
    matching parameters are appended to ``params`` (their values are not compared: they may
    change from window to window)."""
    stack = [(a, b)]
    while stack:
        a, b = stack.pop()
        a_num, b_num = type(a) in native_numeric_types, type(b) in native_numeric_types
        if a_num or b_num:
            if not (a_num and b_num and a == b):
                return False
        elif type(a) is not type(b):
            return False
        elif a.is_expression_type():  # operators and named expressions
            if a.nargs() != b.nargs():
                return False
            stack.extend(zip(a.args, b.args, strict=True))
        elif a.is_variable_type():
            if _name(a) != _name(b):
                return False
        elif a.is_parameter_type():
            if _name(a) != _name(b):
                return False
            params.append((a, b))
        elif pyo.value(a) != pyo.value(b):  # any other constant
            return False
    return True


class _Row:
    """One base row matched to its probe row."""

    __slots__ = ("base", "probe", "baked", "params", "variables", "linear")

    def __init__(self, base, probe, baked: bool, params: list):
        self.base = base  # (held: the map is keyed by its id)
        self.probe = probe
        self.baked = baked  # the trees differ: a number derived from the size is in the row
        self.params = params  # (base, probe) mutable parameters of a same-tree row
        self.variables: list | None = None  # (base, probe) variables, when first evaluated
        #: (Δ lower, Δ upper, [(base variable, Δ coefficient)]) of probe − base as compiled
        #: rows, when neither holds a parameter or a fixed variable (False: evaluate in Pyomo)
        self.linear: tuple | bool | None = None


class ProbeRows:
    """The rows of a base model matched to a probe model (the same window length built for a
    size + δ), compared once per row as expression trees (``same_structure``)."""

    def __init__(self, base: pyo.ConcreteModel, probe: pyo.ConcreteModel):
        self.base = base
        self.probe = probe
        self._rows: dict[int, _Row] = {}  # id(base row) → its match
        #: id of every base row compared so far whose probe row is the same tree without
        #: parameters: the two never differ (``_fast_total`` skips them before ``differs``)
        self.never_differ: set[int] = set()
        self._visitor = LinearRepnVisitor({})  # only for rows without parameters

    def row(self, con) -> _Row:
        """The match of base row ``con`` (compared on first use)."""
        found = self._rows.get(id(con))
        if found is None:
            other = probe_row(self.probe, con)
            if other is None:
                raise UnmappedRowError(con.name)
            params: list = []
            same = same_structure(con.expr, other.expr, params)
            found = self._rows[id(con)] = _Row(con, other, not same, params if same else [])
            if same and not params:
                self.never_differ.add(id(con))
        return found

    def differs(self, con) -> bool:
        """The row's slack may differ between base and probe at the current parameter values
        (False: both rows are the same function of the same variables)."""
        row = self.row(con)
        return row.baked or any(b.value != p.value for b, p in row.params)

    def difference(self, con, lower_active: bool) -> float:
        """(probe slack − base slack) of a row at the base's variable values.

        A row pair without parameters and fixed variables is compiled once into the difference
        of its bounds and coefficients (a linear function of the base's values); any other is
        evaluated in Pyomo with the probe row's variables set to the base's values."""
        row = self.row(con)
        if row.variables is None:
            row.variables = self._variables(row.probe)
        if row.linear is None:
            row.linear = self._linear_difference(con, row)
        if row.linear:
            lower, upper, terms = row.linear
            return (lower if lower_active else upper) - sum(c * v.value for v, c in terms)
        for b, p in row.variables:
            p.set_value(b.value, skip_validation=True)
        return slack(row.probe, lower_active) - slack(con, lower_active)

    def _linear_difference(self, con, row: _Row) -> tuple | bool:
        """``_Row.linear`` of a base row and its match."""
        for c in (con, row.probe):
            if next(iter(identify_mutable_parameters(c.expr)), None) is not None:
                return False
            if any(v.fixed for v in identify_variables(c.expr, include_fixed=True)):
                return False
        lo_b, hi_b, coef_b = self._compiled(con)
        lo_p, hi_p, coef_p = self._compiled(row.probe)
        to_base = {id(p): b for b, p in row.variables}
        delta = ComponentMap((v, -c) for v, c in coef_b)
        for v, c in coef_p:
            base = to_base[id(v)]
            delta[base] = delta.get(base, 0.0) + c
        lower = 0.0 if lo_p == lo_b else lo_p - lo_b  # (both infinite: no difference)
        upper = 0.0 if hi_p == hi_b else hi_p - hi_b
        return lower, upper, [(v, c) for v, c in delta.items() if c != 0.0]

    def _compiled(self, con) -> tuple[float, float, list]:
        """(lower, upper, [(variable, coefficient)]) of a row without parameters, its body's
        constant moved into the bounds (``lp_matrix``'s compilation)."""
        lo, hi, _, linear = lp_matrix.linear_row(self._visitor, con)
        var_map = self._visitor.var_map
        return lo, hi, [(var_map[vid], float(c)) for vid, c in linear.items()]

    def _variables(self, con) -> list[tuple]:
        out = []
        for v in identify_variables(con.expr, include_fixed=True):
            name, idx = _name(v)
            parent = self.base.find_component(name)
            if parent is None or not isinstance(parent, pyo.Var) or idx not in parent:
                raise UnmappedRowError(f"{con.name}: no base variable {v.name}")
            out.append((parent[idx], v))
        return out


class MarginalValues:
    """Accumulates Σ dual × ∂g/∂s over windows, per asset ($ over the horizon per unit).

    ``fast``: evaluate only the rows that can differ between base and probe (``ProbeRows``);
    False evaluates every row with a non-zero dual on a full copy of the values (the reference).
    """

    fast: bool = True

    def __init__(self, x: DispatchInputs):
        self.x = x
        self.assets = [a for a in ASSETS if installed(x.case, a)]
        self.full = {a: probe_inputs(x, probe_case(x.case, a, PROBE_DELTA)) for a in self.assets}
        self.probes: dict[tuple[str, int], pyo.ConcreteModel] = {}
        self.usd: dict[str, float] = dict.fromkeys(self.assets, 0.0)
        self.windows = 0
        self.failed = 0
        self._steps = ComponentMap()  # base row → row_step (structural: once per row)
        self._maps: dict[tuple[str, int], ProbeRows] = {}
        #: windows × assets evaluated on every row (a row of the fast path was not mapped)
        self.fallbacks = 0
        #: rows (× assets) with a non-zero dual the fast path looked at, and those it evaluated
        #: (the others provably differ by 0)
        self.rows_seen = 0
        self.rows_evaluated = 0

    def window_inputs(self, asset: str, start: int, stop: int, last: bool, state: dict):
        """The probe case's window; the first window starts from the probe's own state."""
        xp = self.full[asset]
        if start == 0:
            state = {**state, "soc_initial_mwh": xp.soc_initial_mwh}
        return xp.window(start, stop, last=last, **state)

    def add(self, solver, xi_of, keep: int | None) -> None:
        """Add one solved window: ``xi_of(asset)`` gives the probe window's inputs, ``keep``
        its kept steps (None: every row, monolithic)."""
        duals = solver.fixed_integer_duals()
        self.windows += 1
        if duals is None:
            self.failed += 1
            return
        base = solver.model
        rows = []
        for con, dual, lower_active in duals:
            if keep is not None:
                t = self._steps.get(con, _UNSET)
                if t is _UNSET:
                    t = self._steps[con] = row_step(con)
                if t is not None and t >= keep:
                    continue
            rows.append((con, dual, lower_active))
        for asset in self.assets:
            xi = xi_of(asset)
            key = (asset, xi.n_steps)
            if key not in self.probes:
                self.probes[key] = dispatch_milp.build_dispatch_model(
                    replace(xi, binary_steps=None), per_unit=base.gen_per_unit
                )
            probe = self.probes[key]
            dispatch_milp.load_window_data(probe, xi)
            total = None
            if self.fast:
                maps = self._maps.get(key)
                if maps is None or maps.base is not base:
                    maps = self._maps[key] = ProbeRows(base, probe)
                total = self._fast_total(maps, rows)
            if total is None:
                total = pyomo_total(base, probe, rows)
            self.usd[asset] += total / PROBE_DELTA

    def _fast_total(self, maps: ProbeRows, rows: list[tuple]) -> float | None:
        """Σ dual × (probe slack − base slack) over the rows that can differ (None: a row
        could not be mapped; the window is evaluated as a whole, counted in ``fallbacks``)."""
        total = 0.0
        self.rows_seen += len(rows)
        never = maps.never_differ
        try:
            for con, dual, lower_active in rows:
                if id(con) not in never and maps.differs(con):
                    total += dual * maps.difference(con, lower_active)
                    self.rows_evaluated += 1
        except UnmappedRowError:
            self.fallbacks += 1
            return None
        return total

    def section(self) -> dict:
        """The ``marginal_values`` results section ($/yr per unit)."""
        hours = self.x.n_steps * self.x.dt_h
        per_year = 8760.0 / hours
        out = {}
        for asset, (unit, what) in ASSETS.items():
            note = (
                f"{what}; horizon value × 8760 h / {hours:g} h; "
                f"integers fixed at the MILP solution, one extra LP per window"
            )
            value = None
            if asset not in self.usd:
                note = f"not installed (size 0): no marginal value reported; {what}"
            elif self.failed:
                note = f"{self.failed} window LP(s) without optimal duals; {note}"
            else:
                value = self.usd[asset] * per_year
            b = self.x.case.bess
            if asset == "bess_power" and asset in self.usd:
                raised = b.pcs_mva < b.power_mw + PROBE_DELTA
                note += (
                    "; pcs_mva raised with power (it equals power_mw)"
                    if raised
                    else "; pcs_mva kept"
                )
            out[asset] = {
                "value_usd_per_yr_per_unit": value,
                "unit": unit,
                "method": METHOD,
                "note": note,
            }
        return out
