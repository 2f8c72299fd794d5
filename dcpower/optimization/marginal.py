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
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

from dcpower.case import Case
from dcpower.columns import MARGINAL_VALUE_UNITS
from dcpower.optimization import dispatch_milp
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


class MarginalValues:
    """Accumulates Σ dual × ∂g/∂s over windows, per asset ($ over the horizon per unit)."""

    def __init__(self, x: DispatchInputs):
        self.x = x
        self.assets = [a for a in ASSETS if installed(x.case, a)]
        self.full = {a: probe_inputs(x, probe_case(x.case, a, PROBE_DELTA)) for a in self.assets}
        self.probes: dict[tuple[str, int], pyo.ConcreteModel] = {}
        self.usd: dict[str, float] = dict.fromkeys(self.assets, 0.0)
        self.windows = 0
        self.failed = 0

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
                t = row_step(con)
                if t is not None and t >= keep:
                    continue
            rows.append((con, dual, lower_active, slack(con, lower_active)))
        for asset in self.assets:
            xi = xi_of(asset)
            key = (asset, xi.n_steps)
            if key not in self.probes:
                self.probes[key] = dispatch_milp.build_dispatch_model(
                    replace(xi, binary_steps=None), per_unit=base.gen_per_unit
                )
            probe = self.probes[key]
            dispatch_milp.load_window_data(probe, xi)
            copy_values(base, probe)
            total = 0.0
            for con, dual, lower_active, g0 in rows:
                parent = probe.find_component(con.parent_component().local_name)
                other = parent[con.index()] if parent.is_indexed() else parent
                total += dual * (slack(other, lower_active) - g0)
            self.usd[asset] += total / PROBE_DELTA

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
