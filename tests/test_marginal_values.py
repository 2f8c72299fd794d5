"""Marginal values of asset sizes from fixed-integer LP duals, checked by finite differences."""

from __future__ import annotations

import math

import pyomo.environ as pyo
import pytest
from conftest import marginal_case as _case
from conftest import small_site, write_tidy_prices

from dcpower.case import case_from_dict
from dcpower.optimization import dispatch_milp, marginal
from dcpower.optimization.solve import HighsSession, SolveStatus
from dcpower.optimization.strategies import WindowSolver, solve_monolithic, solve_rolling
from dcpower.runner import prepare_inputs

OPTS = {"mip_rel_gap": 1e-6, "time_limit_s": 60, "threads": 1}
#: size step of the central differences, in the asset's unit: small enough that V stays on one
#: linear piece (at 0.05 the transformer and POI steps cross a kink of this LP)
FD_STEP = 1e-3


def _fixed_integer_lp(x, ints: dict[str, float], per_unit: bool) -> float:
    """Optimum of the model of ``x`` with its integer columns fixed at ``ints`` (by name)."""
    m = dispatch_milp.build_dispatch_model(x, per_unit=per_unit)
    for v in m.component_data_objects(pyo.Var):
        if v.name in ints:
            v.domain = pyo.Reals
            v.fix(ints[v.name])
    report = HighsSession(m, **OPTS).solve(method="fd")
    assert report.status == SolveStatus.OPTIMAL
    return report.objective


@pytest.mark.parametrize(
    ("gas", "selective"),
    [
        ({}, False),
        # slow ramps: per-unit commitment (binary unit_on/unit_start), selective mode binaries
        ({"ramp_mw_per_min": 0.05, "start_delay_minutes": 60}, True),
    ],
)
def test_duals_match_central_differences(tmp_path, gas, selective):
    case = _case(tmp_path, **gas)
    x = prepare_inputs(case)
    solver = WindowSolver(x, OPTS, relax=False, selective=selective)
    solver.solve(x, "monolithic_milp")
    ints = {v.name: round(pyo.value(v)) for v in solver.integer_vars}
    mv = marginal.MarginalValues(x)
    mv.add(solver, lambda asset: mv.full[asset], None)
    assert set(mv.usd) == set(marginal.ASSETS)
    per_unit = solver.model.gen_per_unit
    assert per_unit == bool(gas)
    checked = 0
    for asset in marginal.ASSETS:
        up = marginal.probe_inputs(x, marginal.probe_case(case, asset, FD_STEP))
        dn = marginal.probe_inputs(x, marginal.probe_case(case, asset, -FD_STEP))
        fd = (_fixed_integer_lp(up, ints, per_unit) - _fixed_integer_lp(dn, ints, per_unit)) / (
            2 * FD_STEP
        )
        assert mv.usd[asset] == pytest.approx(fd, rel=1e-6, abs=1e-6), asset
        checked += abs(fd) > 1.0
    assert checked == 5  # most sizes bind on this case: the check is not 0 == 0


def test_results_section_and_yearly_scaling(tmp_path):
    case = _case(tmp_path)
    x = prepare_inputs(case)
    sol = solve_monolithic(x, OPTS, marginal_values=True)
    section = sol.marginal_values
    assert set(section) == set(marginal.ASSETS)
    assert section["transformer"]["unit"] == "MVA"
    assert section["bess_energy"]["unit"] == "MWh"
    for row in section.values():
        assert row["method"] == marginal.METHOD
        assert math.isfinite(row["value_usd_per_yr_per_unit"])
    # without the option nothing changes and no section is made
    plain = solve_monolithic(x, OPTS)
    assert plain.marginal_values is None
    assert plain.report.objective == pytest.approx(sol.report.objective, rel=1e-9)


def test_rolling_sums_kept_windows(tmp_path):
    """One window over the whole horizon is the monolithic solve; two windows give finite
    values and the same dispatch as without the option."""
    x = prepare_inputs(_case(tmp_path))
    mono = solve_monolithic(x, OPTS, marginal_values=True).marginal_values
    one = solve_rolling(x, OPTS, 48, 0, marginal_values=True).marginal_values
    for asset in marginal.ASSETS:
        assert one[asset]["value_usd_per_yr_per_unit"] == pytest.approx(
            mono[asset]["value_usd_per_yr_per_unit"], rel=1e-6, abs=1e-6
        )
    two = solve_rolling(x, OPTS, 24, 12, marginal_values=True)
    plain = solve_rolling(x, OPTS, 24, 12)
    assert two.report.objective == pytest.approx(plain.report.objective, rel=1e-9)
    assert all(math.isfinite(r["value_usd_per_yr_per_unit"]) for r in two.marginal_values.values())


def test_run_case_section_validates(tmp_path):
    from dcpower.results_model import Results
    from dcpower.runner import run_case

    case = _case(tmp_path)
    res = run_case(case, marginal_values=True)
    doc = Results.model_validate(res)
    assert doc.marginal_values["poi_import"].unit == "MW"
    assert "marginal_values" not in run_case(case)


def test_unit_costs_and_plot(tmp_path):
    from types import SimpleNamespace

    import pandas as pd

    from dcpower import columns
    from dcpower.plots import plot_marginal_values
    from dcpower.sweep import capital_recovery_factor, unit_costs

    costs = SimpleNamespace(
        bess_capex_usd_per_kwh=300.0,
        bess_capex_usd_per_kw=200.0,
        gen_capex_usd_per_kw=1000.0,
        transformer_capex_usd_per_mva=20000.0,
        fixed_om_fraction_of_capex_per_year=SimpleNamespace(bess=0.02, gen=0.03, transformer=0.01),
        discount_rate=0.08,
        lifetime_years=SimpleNamespace(bess=15, gen=25, transformer=40),
    )
    u = unit_costs(costs)
    assert u["bess_energy"] == pytest.approx(300e3 * (capital_recovery_factor(0.08, 15) + 0.02))
    assert u["gas"] == pytest.approx(1e6 * (capital_recovery_factor(0.08, 25) + 0.03))
    assert u["transformer"] == pytest.approx(2e4 * (capital_recovery_factor(0.08, 40) + 0.01))
    assert math.isnan(u["poi_import"])
    rows = pd.DataFrame({"bess_mwh": [200, 400], "gen_units": [2, 4], "transformer_mva": [160] * 2})
    for asset in columns.MARGINAL_VALUE_UNITS:
        rows[columns.marginal_value_column(asset)] = [1e4, 3e4]
        rows[columns.unit_cost_column(asset)] = u[asset]
    plot_marginal_values(rows, [tmp_path / "mv.png"])
    assert (tmp_path / "mv.png").stat().st_size > 1000


def test_assets_not_installed_are_null(tmp_path):
    """No battery and no gas units: their values are null with a note; the transformer's is the
    shed load it would serve (100 MW at PF 0.95 through 90 MVA, non-critical VoLL 2000 $/MWh)."""
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", [50.0] * 24)
    case = small_site(
        pf,
        "2023-07-10",
        "2023-07-11",
        load={"profile_mw": 100.0, "critical_fraction": 0.5, "power_factor": 0.95},
        poi={"import_limit_mw": 150, "export_limit_mw": 50, "min_power_factor": 0.95},
        transformer={"rating_mva": 90, "polygon_facets": 16},
    )
    from dcpower.runner import run_case

    mv = run_case(case_from_dict(case, "x"), marginal_values=True)["marginal_values"]
    for asset in ("bess_energy", "bess_power", "gas"):
        assert mv[asset]["value_usd_per_yr_per_unit"] is None
        assert "not installed" in mv[asset]["note"]
    assert mv["poi_import"]["value_usd_per_yr_per_unit"] == pytest.approx(0.0, abs=1e-6)
    # +1 MVA serves dP/dS MW more at PF 0.95 on the binding facet (normal at 11.25°)
    phi = math.acos(0.95)
    dp_ds = 0.95 * math.cos(math.pi / 16) / math.cos(phi - math.radians(11.25))
    expected = (2000 - 50) * dp_ds * 8760
    assert mv["transformer"]["value_usd_per_yr_per_unit"] == pytest.approx(expected, rel=1e-6)
