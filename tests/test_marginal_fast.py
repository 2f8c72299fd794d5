"""The marginal values' fast path (only the rows that can differ between base and probe are
evaluated) against evaluating every row with a non-zero dual, and its detection of rows that
hold a size."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from conftest import marginal_case

from dcpower.optimization import dispatch_milp, marginal
from dcpower.optimization.strategies import WindowSolver, solve_rolling
from dcpower.runner import prepare_inputs

OPTS = {"mip_rel_gap": 1e-6, "time_limit_s": 60, "threads": 1}
DAYS = 3


def _case(tmp_path):
    """Three days; two slow-ramping gas units (per-unit commitment)."""
    return marginal_case(tmp_path, days=DAYS, ramp_mw_per_min=0.05, start_delay_minutes=60)


def _rolling(monkeypatch, x, fast: bool) -> marginal.MarginalValues:
    """Rolling windows of one day (+ 12 h look-ahead) with the marginal values; the
    ``MarginalValues`` they were summed in."""
    made = []

    class Recorded(marginal.MarginalValues):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    Recorded.fast = fast
    with monkeypatch.context() as patch:
        patch.setattr(marginal, "MarginalValues", Recorded)
        solve_rolling(x, OPTS, 24, 12, selective=True, marginal_values=True)
    return made[0]


def test_fast_path_equals_every_row(tmp_path, monkeypatch):
    x = prepare_inputs(_case(tmp_path))
    fast = _rolling(monkeypatch, x, fast=True)
    full = _rolling(monkeypatch, x, fast=False)
    assert fast.windows == full.windows == DAYS
    assert fast.fallbacks == 0 and fast.failed == 0
    assert set(fast.usd) == set(marginal.ASSETS)  # battery and gas units installed
    assert set(fast.probes) == set(full.probes)
    assert all(m.gen_per_unit for m in fast.probes.values())
    for asset in marginal.ASSETS:
        assert fast.usd[asset] == pytest.approx(full.usd[asset], rel=1e-9, abs=1e-9), asset
    # the check is not 0 == 0: several sizes bind on this case
    assert sum(abs(v) > 1.0 for v in full.usd.values()) >= 3
    # and the fast path evaluated a fraction of the rows with a non-zero dual
    assert 0 < fast.rows_evaluated < fast.rows_seen / 5


def _models(tmp_path, asset: str, extra=None):
    """(base, probe) models of the case's first day for ``asset``, each given ``extra`` rows."""
    full = prepare_inputs(_case(tmp_path))
    state = {
        "soc_initial_mwh": full.soc_initial_mwh,
        "gen_initial_committed": full.gen_initial_committed,
        "gen_initial_mw": full.gen_initial_mw,
        "gen_prior_starts": full.gen_prior_starts,
        "gen_initial_units": full.gen_initial_units,
    }
    mv = marginal.MarginalValues(full)
    models = []
    for xi in (
        full.window(0, 24, last=False, **state),
        mv.window_inputs(asset, 0, 24, False, state),
    ):
        m = dispatch_milp.build_dispatch_model(xi, per_unit=True)
        if extra is not None:
            extra(m, xi)
        models.append(m)
    return models


def test_rows_holding_a_size_are_found(tmp_path):
    # the POI import limit is a number in ``poi_import_cap`` (limit × importing)
    base, probe = _models(tmp_path, "poi_import")
    rows = marginal.ProbeRows(base, probe)
    assert all(rows.differs(c) for c in base.poi_import_cap.values())
    assert all(rows.row(c).baked for c in base.poi_import_cap.values())
    for family in ("power_balance", "poi_export_cap", "soc_floor", "soc_dynamics"):
        assert not any(rows.differs(c) for c in getattr(base, family).values()), family
    # raised energy: the SOC floor rows are the same trees, but the initial SOC parameter of
    # the first step's SOC dynamics has another value in the probe's window
    base, probe = _models(tmp_path, "bess_energy")
    rows = marginal.ProbeRows(base, probe)
    assert not rows.row(base.soc_dynamics[0]).baked
    assert rows.differs(base.soc_dynamics[0])
    assert not rows.differs(base.soc_dynamics[1])
    assert pyo.value(base.soc_initial) != pyo.value(probe.soc_initial)


def test_a_new_row_holding_a_size_is_found(tmp_path):
    """A row that no component has today, with the transformer rating baked in as a number
    (the detection knows no families)."""

    def extra(m, xi):
        rating = xi.case.transformer.rating_mva
        m.made_up_cap = pyo.Constraint(m.T, rule=lambda m, t: m.grid_import[t] <= 0.9 * rating)
        m.made_up_same = pyo.Constraint(m.T, rule=lambda m, t: m.grid_import[t] <= 0.9 * 53.0)

    base, probe = _models(tmp_path, "transformer", extra)
    rows = marginal.ProbeRows(base, probe)
    for t in base.T:
        assert rows.differs(base.made_up_cap[t])
        assert not rows.differs(base.made_up_same[t])
        base.grid_import[t].set_value(40.0)
        # the difference is the size's δ × 0.9 (slack = bound − body)
        assert rows.difference(base.made_up_cap[t], False) == pytest.approx(
            0.9 * marginal.PROBE_DELTA, rel=1e-6
        )


def test_unmapped_row_falls_back_to_every_row(tmp_path, monkeypatch):
    """A probe row holding a variable the base model does not have: its window is evaluated
    on every row (counted), and the values are those of evaluating every row."""
    original = dispatch_milp.build_dispatch_model

    def with_cap(xi, **kwargs):
        m = original(xi, **kwargs)
        if xi.binary_steps is None:  # a probe (the selective window models have a set)
            m.probe_only = pyo.Var(initialize=0.0)
            m.probe_only.fix()
            extra = m.probe_only
        else:
            extra = 0.0
        m.import_cap_49 = pyo.Constraint(m.T, rule=lambda m, t: m.grid_import[t] + extra <= 49.0)
        return m

    monkeypatch.setattr(dispatch_milp, "build_dispatch_model", with_cap)
    x = prepare_inputs(_case(tmp_path))
    fast = _rolling(monkeypatch, x, fast=True)
    full = _rolling(monkeypatch, x, fast=False)
    assert fast.fallbacks > 0
    for asset in marginal.ASSETS:
        assert fast.usd[asset] == pytest.approx(full.usd[asset], rel=1e-9, abs=1e-9), asset


def test_fixed_integer_lp_leaves_the_milp_as_it_was(tmp_path):
    """The integer columns are fixed in HiGHS only for the LP: afterwards HiGHS and the held
    arrays have the MILP's bounds and integrality again, and the MILP re-solves to its optimum."""
    x = prepare_inputs(_case(tmp_path))
    solver = WindowSolver(x, OPTS, relax=False, selective=False)
    milp = solver.solve(x, "monolithic_milp")
    lp = solver.session.lp

    def held():
        h = solver.session.highs.getLp()
        kinds = np.array([int(k) for k in h.integrality_]) if len(h.integrality_) else None
        return (
            lp.col_lower.copy(),
            lp.col_upper.copy(),
            lp.integer.copy(),
            np.asarray(h.col_lower_),
            np.asarray(h.col_upper_),
            kinds,
        )

    before = held()
    assert before[2].sum() > 0
    domains = [(v.domain, v.lb, v.ub) for v in solver.integer_vars]
    duals = solver.fixed_integer_duals()
    assert duals  # an optimal LP with binding rows
    after = held()
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert [(v.domain, v.lb, v.ub) for v in solver.integer_vars] == domains
    # the LP's values are loaded: every integer column sits at an integer
    assert all(abs(v.value - round(v.value)) < 1e-9 for v in solver.integer_vars)
    again = solver.session.solve(method="monolithic_milp")
    assert again.n_integer == milp.n_integer
    assert again.objective == pytest.approx(milp.objective, rel=1e-6)
