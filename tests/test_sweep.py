"""Sweep library: grid, scenario cases, annualised costs, outage survival wiring."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from dcpower import sweep
from dcpower.case import load_case
from dcpower.study import OutageConfig, StudyConfig, load_study_config


@pytest.fixture(scope="module")
def config() -> StudyConfig:
    return load_study_config(yaml.safe_load((ROOT / "config/test/config.yaml").read_text()))


def test_grid_and_names(config):
    grid = sweep.scenario_grid(config)
    assert list(grid.columns) == ["bess_mwh", "gen_units", "transformer_mva"]
    assert len(grid) == 4
    sizes = grid.iloc[3].to_dict()
    name = sweep.scenario_name(sizes, sweep.grid_dims(config.market))
    assert name == "bess_mwh~400/gen_units~4/transformer_mva~160"
    assert sweep.parse_scenario_name(name) == {
        "bess_mwh": 400,
        "gen_units": 4,
        "transformer_mva": 160,
    }


def test_scenario_case_applies_sizes(config):
    base = load_case(ROOT / config.study.base_case)
    case = sweep.scenario_case(
        base, {"bess_mwh": 400, "gen_units": 2, "transformer_mva": 120}, config.scenario_settings()
    )
    assert case.bess.energy_mwh == 400 and case.bess.power_mw == 100  # 4 h duration
    assert case.bess.pcs_mva == pytest.approx(110)
    assert case.gas_gen.units == 2 and case.transformer.rating_mva == 120
    assert str(case.horizon.start) == "2016-07-10" and str(case.horizon.end) == "2016-07-13"
    assert case.market.settlement_point == "HB_HOUSTON"
    assert case.market.reserve_products == ["REGUP", "REGDN", "RRS", "NSPIN"]


def test_capital_recovery_and_annualised_costs(config):
    # CRF(8 %, 15 y) = 0.08·1.08^15 / (1.08^15 − 1) = 0.1168295 (annuity tables)
    assert sweep.capital_recovery_factor(0.08, 15) == pytest.approx(0.1168295, rel=1e-6)
    assert sweep.capital_recovery_factor(0.0, 20) == pytest.approx(0.05)
    base = load_case(ROOT / config.study.base_case)
    case = sweep.scenario_case(
        base, {"bess_mwh": 400, "gen_units": 2, "transformer_mva": 120}, config.scenario_settings()
    )
    costs = sweep.annualised_costs({}, case, config.costs)
    bess = 400_000 * 250 + 100_000 * 150  # $/kWh × kWh + $/kW × kW
    assert costs["bess_capex_usd"] == pytest.approx(bess)
    assert costs["bess_annualised_capex_usd"] == pytest.approx(bess * 0.1168295, rel=1e-6)
    gen = 2 * 20_000 * 1100
    xf = 120 * 25_000
    assert costs["fixed_om_usd"] == pytest.approx(0.025 * bess + 0.02 * gen + 0.01 * xf)


def test_frontier_limited_by_follows_the_metric():
    summary = pd.DataFrame(
        {
            "survival_prob_8h": [1.0, 0.97, 0.5],
            "reliability_limited_by_8h": ["", "unit count: ...", "battery MW during the delay"],
        }
    )
    reason = sweep.frontier_limited_by(summary, "survival_prob_8h")
    assert reason.tolist() == ["", "unit count: ...", "battery MW during the delay"]
    summary.loc[1, "survival_prob_8h"] = 1.0  # metric at 1: no reason, whatever the column says
    assert sweep.frontier_limited_by(summary, "survival_prob_8h").tolist()[1] == ""


def test_study_outage_settings_reach_the_survival(example_results):
    base = dict(outage_durations_h=[4, 24], failure_to_start_probability=0.05)
    plain = sweep.outage_survival(example_results, OutageConfig(**base))
    running = sweep.outage_survival(
        example_results, OutageConfig(**base, mean_time_to_failure_h=50.0)
    )
    dispatched = sweep.outage_survival(
        example_results,
        OutageConfig(**base, mean_time_to_failure_h=50.0, outage_start_units="dispatched"),
    )
    # failures while running can only lower survival; running units needing no start only raise
    # it (to the binned chain's accuracy: SOC bins and pruning move a start by < 1e-4 here)
    assert (running.to_numpy() <= plain.to_numpy() + 1e-4).all()
    assert running["survival_prob_24h"].mean() < plain["survival_prob_24h"].mean() - 1e-3
    assert (dispatched.to_numpy() >= running.to_numpy() - 1e-4).all()
    assert dispatched["survival_prob_24h"].mean() > running["survival_prob_24h"].mean() + 1e-3


def test_outage_survival_on_solved_week(example_results):
    outage = OutageConfig(outage_durations_h=[4, 8, 24], failure_to_start_probability=0.05)
    surv = sweep.outage_survival(example_results, outage)
    assert surv.shape == (168, 3)
    assert ((surv >= 0) & (surv <= 1)).all().all()
    assert (surv["survival_prob_4h"] >= surv["survival_prob_24h"] - 1e-12).all()
    # 6 × 20 MW units for 80 MW critical: at least 4 of 6 must start; the battery (≥ 41 MWh
    # above its floor's physical part) bridges the 10-minute delay at every start
    p4 = sum(math.comb(6, k) * 0.95**k * 0.05 ** (6 - k) for k in range(4, 7))
    assert surv["survival_prob_24h"].min() >= p4 - 1e-9


def test_infeasible_scenario_is_recorded_not_raised(config, tmp_path):
    import json

    base = json.loads((ROOT / config.study.base_case).read_text())
    base["reliability"]["n_plus_1"] = True
    path = tmp_path / "base.json"
    path.write_text(json.dumps(base))
    row, dispatch, survival = sweep.solve_scenario(
        path,
        {"bess_mwh": 200, "gen_units": 1, "transformer_mva": 160},
        config.scenario_settings(),
        None,
    )
    # one unit cannot carry N+1: the precheck names the field (the CLI's exit 2), recorded
    assert row["solver_status"] == "bad_input" and "n_plus_1" in row["failure_reason"]
    assert dispatch is None and survival is None


def test_bad_scenario_case_is_recorded_as_bad_input_not_infeasible(config, tmp_path):
    """One error taxonomy: a scenario whose case is invalid is 'bad_input', with the field."""
    import json

    base = json.loads((ROOT / config.study.base_case).read_text())
    base["load"].pop("profile_mw")
    base["load"]["profile_file"] = "missing_load.csv"  # the scenario's load cannot be read
    path = tmp_path / "base.json"
    path.write_text(json.dumps(base))
    row, dispatch, _ = sweep.solve_scenario(
        path,
        {"bess_mwh": 200, "gen_units": 4, "transformer_mva": 160},
        config.scenario_settings(),
        None,
    )
    assert row["solver_status"] == "bad_input" and "missing_load.csv" in row["failure_reason"]
    assert dispatch is None and sweep.solved(__import__("pandas").DataFrame([row])).empty


def test_solve_priority_starts_large_batteries_behind_small_transformers_first(config):
    """The workflow's scheduling hint (longest expected job first): more BESS MWh per
    transformer MVA ranks higher; every scenario of a grid gets a finite number."""
    grid = sweep.scenario_grid(config)
    ranks = {
        (r.bess_mwh, r.transformer_mva): sweep.solve_priority(r._asdict())
        for r in grid.itertuples(index=False)
    }
    assert all(math.isfinite(v) for v in ranks.values())
    assert sweep.solve_priority({"bess_mwh": 400, "transformer_mva": 120}) > sweep.solve_priority(
        {"bess_mwh": 400, "transformer_mva": 160}
    )
    assert sweep.solve_priority({"bess_mwh": 400, "transformer_mva": 160}) > sweep.solve_priority(
        {"bess_mwh": 200, "transformer_mva": 160}
    )
    assert sweep.solve_priority({"bess_mwh": 0, "transformer_mva": 0}) == 0.0
