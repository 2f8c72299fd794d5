"""Operations without hindsight: the forecast policy, its information set and its settlement."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import small_site, solve_dict, write_tidy_prices
from tests_paths import ROOT

from dcpower import forecast as fc
from dcpower import foresight
from dcpower.case import FORECAST_SOURCES, CaseError, case_from_dict, load_case
from dcpower.iso.base import MarketData
from dcpower.optimization import operations
from dcpower.runner import _market_and_inputs, load_price_history, run_case

TZ = "America/Chicago"
CASES = ROOT / "config" / "cases"

# ---------------------------------------------------------------- baselines by hand


def _history(days: int, start: str = "2023-07-01") -> pd.Series:
    """Hourly prices: day d (0-based), hour h → 100·d + h."""
    idx = pd.date_range(pd.Timestamp(start, tz=TZ), periods=24 * days, freq="h").tz_convert("UTC")
    local = idx.tz_convert(TZ)
    day = (local.normalize() - local.normalize()[0]).days
    return pd.Series(100.0 * np.asarray(day) + local.hour, index=idx)


def test_sources_are_the_case_schema_list():
    assert fc.SOURCES == FORECAST_SOURCES


def test_same_hour_median_and_seasonal_naive_by_hand():
    """10 days of 100·d + h; decision for day 10 (2023-07-11) at 10:00 on day 9: days 0..9 are
    published (day 9 at 13:30 on day 8), day 10 is not. Same-hour median of days 3..9 at hour
    h = 100·6 + h; seasonal naive for day 10 (a Tuesday) = day 3 (the Tuesday before) = 300 + h,
    and for day 11 = day 4 = 400 + h."""
    s = _history(12)
    pub = fc.published_utc(s.index, TZ, realtime=False)
    h = fc.PriceHistory.build(s, pub, TZ)
    decision = fc.decision_time_utc(pd.Timestamp("2023-07-11").date(), "10:00", TZ)
    assert decision == pd.Timestamp("2023-07-10T15:00Z")
    targets = s.index[24 * 10 : 24 * 12]  # days 10 and 11
    hours = np.tile(np.arange(24), 2)
    median = fc.baseline_forecast("same_hour_median_7d", h, decision, targets)
    np.testing.assert_allclose(median, 600.0 + hours)
    naive = fc.baseline_forecast("seasonal_naive_7d", h, decision, targets)
    np.testing.assert_allclose(naive, np.r_[300.0 + np.arange(24), 400.0 + np.arange(24)])
    # deciding at 14:00 instead: day 10 was published at 13:30 → days 4..10 → 700 + h
    late = fc.decision_time_utc(pd.Timestamp("2023-07-11").date(), "14:00", TZ)
    np.testing.assert_allclose(
        fc.baseline_forecast("same_hour_median_7d", h, late, targets), 700.0 + hours
    )


def test_realtime_prices_are_known_at_the_end_of_their_interval():
    """rtm: at 10:00 on day 9 the hours 0..8 of day 9 are known (hour 9 ends at 10:00, not
    before it), so the median at hours < 9 is over days 3..9 (600 + h), at hours ≥ 9 over
    days 2..8 (500 + h)."""
    s = _history(12)
    h = fc.PriceHistory.build(s, fc.published_utc(s.index, TZ, realtime=True), TZ)
    decision = fc.decision_time_utc(pd.Timestamp("2023-07-11").date(), "10:00", TZ)
    got = fc.baseline_forecast("same_hour_median_7d", h, decision, s.index[24 * 10 : 24 * 11])
    want = np.where(np.arange(24) < 9, 600.0, 500.0) + np.arange(24)
    np.testing.assert_allclose(got, want)


def test_a_forecast_without_history_names_the_fix():
    s = _history(3)
    h = fc.PriceHistory.build(s, fc.published_utc(s.index, TZ, realtime=False), TZ)
    decision = fc.decision_time_utc(pd.Timestamp("2023-07-01").date(), "10:00", TZ)
    with pytest.raises(fc.ForecastError, match="horizon.start"):
        fc.baseline_forecast("same_hour_median_7d", h, decision, s.index[:24])


def test_error_stats_by_hand():
    stats = fc.error_stats(np.array([10.0, 20.0, 30.0]), np.array([12.0, 20.0, 25.0]))
    assert stats == {"mae": pytest.approx(7 / 3), "bias": pytest.approx(1.0), "steps": 3}


# ---------------------------------------------------------------- case section


def _site(tmp_path, prices, start="2023-06-26", horizon=("2023-07-10", "2023-07-13"), **ops):
    pf = write_tidy_prices(tmp_path / "p.csv", f"{start} 00:00", prices)
    case = small_site(
        pf,
        *horizon,
        bess={
            "power_mw": 10,
            "energy_mwh": 40,
            "charge_efficiency": 0.9,
            "discharge_efficiency": 0.9,
            "soc_min_fraction": 0.0,
            "soc_initial_fraction": 0.0,
            "pcs_mva": 10,
            "degradation_cost_usd_per_mwh": 0.0,
        },
    )
    case["operations"] = ops
    return case


def test_operations_section_is_validated(tmp_path):
    base = _site(tmp_path, [1.0] * 24)
    for ops, field in [
        ({"policy": "hindsight"}, "policy"),
        ({"forecast": "persistence"}, "forecast"),
        ({"decision_time_local": "25:00"}, "decision_time_local"),
        ({"decision_time_local": 10}, "decision_time_local"),
        ({"forecast": "file"}, "forecast_file"),
        ({"forecast_file": "f.csv"}, "forecast_file"),
    ]:
        with pytest.raises(CaseError, match=field):
            case_from_dict({**base, "operations": ops})
    case = case_from_dict({**base, "operations": {}})
    assert case.operations.policy == "perfect_foresight"
    assert case.operations.decision_time_local == "10:00"
    assert case.operations.forecast == "same_hour_median_7d"


# ---------------------------------------------------------------- a known forecast error


def test_a_known_forecast_error_costs_a_known_amount(tmp_path):
    """14 days of history and day 1 at 20 $/MWh (hours 0–11) then 100 (12–23); day 2 flipped
    (100 then 20); day 3 as day 1. 10 MW / 40 MWh, 90 % each way, empty at start and end.

    A cycle at the pattern: 40/0.9 = 44.44 MWh bought at 20, 36 MWh sold at 100: +2711.11 $.
    Clairvoyant: cycle on day 1, charge on day 2's cheap afternoon, sell on day 3's afternoon:
    2 × 2711.11 = 5422.22 $. Forecast (same-hour median of the 7 published days): every
    forecast is the pattern (day 2's flip is one of 7 days at day 3's decision), so day 2
    charges 44.44 MWh at an actual 100 and sells 36 MWh at 20: −3724.44 $; days 1 and 3 earn
    2711.11 each: 1697.78 $ realised, a foresight premium of 3724.44 $."""
    pattern = [20.0] * 12 + [100.0] * 12
    flipped = [100.0] * 12 + [20.0] * 12
    prices = pattern * 15 + flipped + pattern
    clairvoyant = solve_dict(_site(tmp_path, prices))
    assert clairvoyant["economics"]["net_value_usd"] == pytest.approx(5422.222, abs=0.01)
    assert clairvoyant["foresight"]["label"] == "upper bound"
    res = solve_dict(_site(tmp_path, prices, policy="forecast"))
    assert res["economics"]["net_value_usd"] == pytest.approx(1697.778, abs=0.01)
    assert res["verification"]["violations"] == []
    f = res["foresight"]
    assert f["policy"] == "forecast" and f["decisions"] == 3
    assert f["decision_times_utc"] == [
        "2023-07-09T15:00Z",
        "2023-07-10T15:00Z",
        "2023-07-11T15:00Z",
    ]
    assert f["realised_net_value_usd"] == pytest.approx(1697.778, abs=0.01)
    assert f["planned_net_value_usd"] == pytest.approx(3 * 2711.111, abs=0.01)
    # forecast errors: day 2 misses by 80 at every hour (+80 then −80); days 1, 3 exact
    energy = f["forecast_errors"]["energy"]["2023"]
    assert energy["steps"] == 72
    assert energy["mae"] == pytest.approx(80 * 24 / 72)
    assert energy["bias"] == pytest.approx(0.0, abs=1e-9)
    d = pd.DataFrame(res["dispatch"])
    day2 = d.iloc[24:48]
    assert day2["bess_charge_mw"].iloc[:12].sum() == pytest.approx(40 / 0.9, abs=1e-4)
    assert day2["bess_discharge_mw"].iloc[12:].sum() == pytest.approx(36.0, abs=1e-4)


def test_history_must_reach_back(tmp_path):
    """Up to 14 days before the horizon are read; from a file starting 2 days before, those 2;
    from one starting on the horizon's first day, none: an error naming the fix."""
    prices = [20.0] * 24 * 5  # from 2023-07-08: 2 days before the horizon, not 14
    case = case_from_dict(_site(tmp_path, prices, start="2023-07-08", policy="forecast"))
    history = load_price_history(case)
    assert history.energy_price_usd_per_mwh.index[0] == pd.Timestamp("2023-07-08T05:00Z")
    case = case_from_dict(_site(tmp_path, prices, start="2023-07-10", policy="forecast"))
    with pytest.raises(fc.ForecastError, match="at least the day before"):
        load_price_history(case)


# ---------------------------------------------------------------- non-anticipativity


def _perturbed(market: MarketData, after_utc: pd.Timestamp, seed: int) -> MarketData:
    """Every price of steps at or after ``after_utc`` scaled by a random factor in [0, 3)."""
    rng = np.random.default_rng(seed)
    e = market.energy_price_usd_per_mwh.copy()
    late = e.index >= after_utc
    e[late] = e[late] * rng.uniform(0, 3, late.sum()) + rng.normal(0, 50, late.sum())
    r = market.reserve_price_usd_per_mw_h.copy()
    for p in r.columns:
        r.loc[late, p] = r.loc[late, p] * rng.uniform(0, 3, late.sum())
    return MarketData(
        energy_price_usd_per_mwh=e,
        reserve_price_usd_per_mw_h=r,
        reserve_products=market.reserve_products,
        provenance=market.provenance,
    )


def _committed(case, market, x, history):
    from dataclasses import replace

    x = replace(
        x,
        price_usd_per_mwh=market.energy_price_usd_per_mwh.to_numpy(float),
        reserve_price_usd_per_mw_h={
            p: market.reserve_price_usd_per_mw_h[p].to_numpy(float) for p in market.reserve_products
        },
    )
    fcr = foresight.Forecaster(x, market, history)
    opts = {"mip_rel_gap": case.solver.mip_rel_gap, "time_limit_s": 60, "threads": 1}
    days = foresight.operating_days(x)
    sol, _ = operations.solve_forecast_policy(x, opts, days, 1, fcr.priced, selective=True)
    decided = [c for c in sol.dispatch.columns if "price" not in c and "usd" not in c]
    return sol.dispatch[decided], days


def test_prices_published_after_a_decision_do_not_change_it():
    """The example case (gas, BESS, five AS products, N+1) over 5 days: scaling every price of
    operating days ≥ k (published after the decision of day k at 10:00 on day k − 1) leaves
    the committed schedule of days < k and of day k itself bit-identical, for k = 1, 2, 3;
    the days after do change."""
    case = load_case(CASES / "example_ercot.json")
    h = case.horizon.model_copy(update={"end": pd.Timestamp("2023-07-15").date()})
    ops = case.operations.model_copy(update={"policy": "forecast"})
    case = case.model_copy(update={"horizon": h, "operations": ops})
    market, x = _market_and_inputs(case, None)
    history = load_price_history(case)
    base, days = _committed(case, market, x, history)
    for k, seed in [(1, 0), (2, 1), (3, 2)]:
        after = x.timestamps[days[k].start]
        assert days[k].decision_utc < after
        got, _ = _committed(case, _perturbed(market, after, seed), x, history)
        upto = days[k].stop
        pd.testing.assert_frame_equal(got.iloc[:upto], base.iloc[:upto], check_exact=True)
        assert not got.iloc[upto:].equals(base.iloc[upto:])  # the perturbation did matter


@pytest.mark.parametrize("name", ["example_ercot.json", "example_generic.json"])
def test_realised_value_is_at_most_the_clairvoyant_one(name):
    case = load_case(CASES / name)
    clair = run_case(case)
    ops = case.operations.model_copy(update={"policy": "forecast"})
    causal = run_case(case.model_copy(update={"operations": ops}))
    gap = case.solver.mip_rel_gap * abs(clair["economics"]["net_value_usd"])
    assert causal["economics"]["net_value_usd"] <= clair["economics"]["net_value_usd"] + gap
    assert causal["verification"]["violations"] == []
    # the stack adds up to the realised objective, from the actual prices
    e = causal["economics"]
    assert e["net_value_usd"] == pytest.approx(e["objective_usd"], abs=0.01)
    assert e["net_value_usd"] == pytest.approx(causal["foresight"]["realised_net_value_usd"])


# ---------------------------------------------------------------- the study dimension


def test_study_sweeps_the_policy_and_reports_the_premium():
    """``operations.policy: [perfect_foresight, forecast]`` adds the dimension; the summary
    gives the forecast scenario's premium = the clairvoyant scenario's net value − its own (in
    total and per group, the groups adding up to the total) and the markdown both values."""
    import yaml

    from dcpower import sweep
    from dcpower.study import StudyConfigError, load_study_config

    raw = yaml.safe_load((ROOT / "config/test/config.yaml").read_text())
    raw["grid"].update(bess_mwh=[400], gen_units=[4])
    raw["operations"] = {"policy": ["perfect_foresight", "forecast"]}
    study = load_study_config(raw)
    grid = sweep.scenario_grid(study)
    assert list(grid[sweep.POLICY_DIM]) == ["perfect_foresight", "forecast"]
    dims = sweep.grid_dims(study.market, study.optional_dims())
    names = [sweep.scenario_name(r, dims) for r in grid.to_dict("records")]
    assert names[1].endswith("/operations_policy~forecast")
    rows = []
    for sizes in grid.to_dict("records"):
        row, _, _ = sweep.solve_scenario(
            ROOT / study.study.base_case, sizes, study.scenario_settings(), None
        )
        assert row["solver_status"] == "optimal", row.get("failure_reason")
        rows.append(row)
    summary = sweep.aggregate(rows, dims, study.reliability.frontier_metric)
    by = summary.set_index(sweep.POLICY_DIM)
    clair, causal = by.loc["perfect_foresight"], by.loc["forecast"]
    premium = clair["net_operating_value_usd"] - causal["net_operating_value_usd"]
    assert causal["foresight_premium_usd"] == pytest.approx(premium)
    assert np.isnan(clair["foresight_premium_usd"])
    groups = sum(
        causal[f"foresight_premium_{g}_usd"]
        for g in ("energy", "ancillary_services", "transmission_4cp", "other")
    )
    assert groups == pytest.approx(premium)
    gap = study.solve.mip_rel_gap * abs(clair["net_operating_value_usd"])
    assert premium >= -gap  # the forecast policy cannot beat hindsight
    text = sweep.study_summary_markdown(summary, "t", "ERCOT", "survival_prob_8h", [0.9])
    assert "Foresight premium" in text and f"{premium:,.0f}" in text
    # the Pareto flags are per policy: the clairvoyant rows do not hide the realisable ones
    assert summary["pareto"].all()
    with pytest.raises(StudyConfigError, match="policy"):
        load_study_config({**raw, "operations": {"policy": ["forecast", "forecast"]}})
    with pytest.raises(StudyConfigError, match="policy"):
        load_study_config({**raw, "operations": {"policy": ["hindsight"]}})


# ---------------------------------------------------------------- events with notice


def _example_days(days: int, **update):
    case = load_case(CASES / "example_ercot.json")
    end = case.horizon.start + timedelta(days=days)
    h = case.horizon.model_copy(update={"end": end})
    ops = case.operations.model_copy(update={"policy": "forecast"})
    return case.model_copy(update={"horizon": h, "operations": ops, **update})


def test_an_event_is_learnt_at_its_notice_and_met_from_then():
    """A 0 MW cap on 2023-07-11 18:00–20:00 CDT with 60 min notice: the forecast policy's
    schedule up to 17:00 CDT is bit-identical to the run without the event (it cannot know),
    the re-dispatch from 17:00 keeps the net withdrawal ≤ 0 in the event hours, and the
    clairvoyant run (which prepares) is worth at least as much."""
    from dcpower.case import GridEvent

    event = GridEvent(
        name="test_cap",
        start="2023-07-11T18:00-05:00",
        end="2023-07-11T20:00-05:00",
        cap_mw=0.0,
        source="test",
        notice_minutes=60.0,
    )
    plain = run_case(_example_days(3))
    capped = run_case(_example_days(3, events=[event]))
    f = capped["foresight"]
    # day 2 from the notice on; day 3 (committed at 10:00 on day 2, before the notice) whole
    assert f["redispatches"] == [
        {"notice_utc": "2023-07-11T22:00Z", "from_utc": "2023-07-11T22:00Z"},
        {"notice_utc": "2023-07-11T22:00Z", "from_utc": "2023-07-12T05:00Z"},
    ]
    a, b = pd.DataFrame(plain["dispatch"]), pd.DataFrame(capped["dispatch"])
    before = 24 + 17  # steps before 17:00 CDT on day 2
    decided = [c for c in a.columns if "price" not in c and "usd" not in c and "event" not in c]
    pd.testing.assert_frame_equal(b[decided].iloc[:before], a[decided].iloc[:before])
    net = b["grid_import_mw"] - b["grid_export_mw"]
    assert (net.iloc[24 + 18 : 24 + 20] <= 1e-6).all()
    assert not (a["grid_import_mw"] - a["grid_export_mw"]).iloc[24 + 18 : 24 + 20].le(1e-6).all()
    assert capped["verification"]["violations"] == []
    clair_case = _example_days(3, events=[event])
    clair_case = clair_case.model_copy(
        update={
            "operations": clair_case.operations.model_copy(update={"policy": "perfect_foresight"})
        }
    )
    clair = run_case(clair_case)
    gap = clair_case.solver.mip_rel_gap * abs(clair["economics"]["net_value_usd"])
    assert capped["economics"]["net_value_usd"] <= clair["economics"]["net_value_usd"] + gap


def test_cp_alerts_are_learnt_at_the_start_of_their_hour():
    """The 2024 base site (causal 4CP alert policy) on 18–19 Aug 2024: alerts from 15:00 CDT
    on the 18th. Under the forecast policy with alert_notice hour_start the schedule before the
    first alert hour is
    bit-identical to the run without a response (tariff.response none: no alert caps), and
    the withdrawal in every alert hour is within the policy's cap."""
    base = load_case(CASES / "sweep_base_ercot_2024.json")
    h = base.horizon.model_copy(
        update={
            "start": pd.Timestamp("2024-08-18").date(),
            "end": pd.Timestamp("2024-08-20").date(),
        }
    )
    ops = base.operations.model_copy(update={"policy": "forecast", "alert_notice": "hour_start"})
    solver = base.solver.model_copy(update={"method": "auto"})
    case = base.model_copy(update={"horizon": h, "operations": ops, "solver": solver})
    none = case.model_copy(update={"tariff": case.tariff.model_copy(update={"response": "none"})})
    with_alerts, without = run_case(case), run_case(none)
    a, b = pd.DataFrame(with_alerts["dispatch"]), pd.DataFrame(without["dispatch"])
    decided = [c for c in a.columns if "price" not in c and "usd" not in c and "alert" not in c]
    first_alert = 15  # 2024-08-18 15:00 CDT = 20:00Z, step 15 from 00:00 CDT
    pd.testing.assert_frame_equal(a[decided].iloc[:first_alert], b[decided].iloc[:first_alert])
    on = pd.DataFrame(with_alerts["dispatch"])["cp_alert"] > 0
    assert on.iloc[first_alert] and not on.iloc[:first_alert].any()
    net = a["grid_import_mw"] - a["grid_export_mw"]
    cap = case.tariff.alert.max_withdrawal_mw
    assert (net[on] <= cap + 1e-6).all()
    redispatches = with_alerts["foresight"]["redispatches"]
    assert redispatches[0] == {"notice_utc": "2024-08-18T20:00Z", "from_utc": "2024-08-18T20:00Z"}
    assert with_alerts["verification"]["violations"] == []
    # alert_notice day_ahead (default): the decisions see the day's alerts, no re-dispatch
    ahead = case.model_copy(
        update={"operations": ops.model_copy(update={"alert_notice": "day_ahead"})}
    )
    assert run_case(ahead)["foresight"]["redispatches"] == []


def test_a_forecast_file_is_read_by_vintage(tmp_path):
    """The 3-day case with a user file whose vintages are the actual prices: the forecast
    policy then earns the clairvoyant 5,422.22 $ (one day of look-ahead sees the flip); a
    vintage that stops short names itself and the first missing step."""
    pattern = [20.0] * 12 + [100.0] * 12
    flipped = [100.0] * 12 + [20.0] * 12
    actual = pattern + flipped + pattern + pattern  # 2023-07-10 .. 07-13 (look-ahead day)
    prices = pattern * 14 + actual[:72]
    steps = pd.date_range(pd.Timestamp("2023-07-10", tz=TZ), periods=96, freq="h")
    rows = []
    for k in range(3):
        decision = pd.Timestamp(f"2023-07-{9 + k}T10:00", tz=TZ)
        for i in range(24 * k, min(24 * k + 48, 72)):
            rows.append((decision.isoformat(), steps[i].isoformat(), "energy", actual[i]))
    path = tmp_path / "forecast.csv"
    pd.DataFrame(rows, columns=list(fc.FILE_COLUMNS)).to_csv(path, index=False)
    case = _site(tmp_path, prices, policy="forecast", forecast="file", forecast_file=str(path))
    res = solve_dict(case)
    assert res["economics"]["net_value_usd"] == pytest.approx(5422.222, abs=0.01)
    assert res["foresight"]["forecast_errors"]["energy"]["2023"]["mae"] == 0.0
    pd.DataFrame(rows[:-12], columns=list(fc.FILE_COLUMNS)).to_csv(path, index=False)
    with pytest.raises(
        fc.ForecastError, match="of 2023-07-11T15:00Z.*lacks 'energy' at 2023-07-12T17"
    ):
        solve_dict(case)


# ---------------------------------------------------------------- two-settlement


def test_two_settlement_by_hand(tmp_path):
    """A 10 MW load and nothing else, one day; DAM 30 $/MWh, real time 50 $/MWh at every
    hour. A 0 MW cap 18:00–19:00 CDT, announced 30 min before (after the day-ahead decision):
    the day-ahead position buys 10 MWh in that hour at 30 $ = 300 $; the load is shed there
    (VoLL 1,000 $/MWh: 10,000 $), so the deviation −10 MWh is sold back at 50 $: −500 $. The
    deviation term is (R − D)(P_RT − P_DA) = −10 × 20 = −200 $ on top of R × P_DA (0 there);
    the day's energy bill is 23 h × 300 $ + 300 − 500 = 6,700 $."""
    dam = [30.0] * 24 * 15
    rt = write_tidy_prices(tmp_path / "rt.csv", "2023-07-10 00:00", [50.0] * 24)
    case = _site(tmp_path, dam, horizon=("2023-07-10", "2023-07-11"))
    case["load"] = {"profile_mw": 10.0, "critical_fraction": 1.0, "power_factor": 1.0}
    case["reliability"]["voll_critical_usd_per_mwh"] = 1000.0
    case["bess"] = {"power_mw": 0, "energy_mwh": 0, "pcs_mva": 0}
    case["events"] = [
        {
            "name": "cap",
            "start": "2023-07-10T18:00-05:00",
            "end": "2023-07-10T19:00-05:00",
            "cap_mw": 0.0,
            "source": "test",
        }
    ]
    case["operations"] = {
        "policy": "forecast",
        "settlement": "two_settlement",
        "realtime_price_file": str(rt),
    }
    res = solve_dict(case)
    e = res["economics"]
    assert e["costs_usd"]["realtime_deviation_cost_usd"] == pytest.approx(-200.0)
    assert e["costs_usd"]["energy_import_cost_usd"] == pytest.approx(23 * 300.0)
    assert e["costs_usd"]["unserved_critical_cost_usd"] == pytest.approx(10_000.0)
    assert e["net_value_usd"] == pytest.approx(-(6_700.0 + 10_000.0))
    # settled after the solve: the solver's objective is the stack without it
    assert e["settled_after_solve_usd"] == {"realtime_deviation_cost_usd": pytest.approx(-200.0)}
    assert e["objective_usd"] - (-200.0) == pytest.approx(e["net_value_usd"])
    assert res["foresight"]["realised_net_value_usd"] == pytest.approx(e["net_value_usd"])
    assert res["verification"]["violations"] == []
    d = pd.DataFrame(res["dispatch"])
    assert d["da_position_mw"].iloc[18] == pytest.approx(10.0)
    assert d["grid_import_mw"].iloc[18] == pytest.approx(0.0)
    assert res["foresight"]["settlement"] == "two_settlement"
    case["operations"] = {"settlement": "two_settlement"}
    with pytest.raises(CaseError, match="policy 'forecast'"):
        case_from_dict(case)


def test_premium_groups_by_hand():
    from dcpower.economics import foresight_premium

    def stack(export, regup, load_regup, imp, cp, voll):
        rev = {
            "energy_export_revenue_usd": export,
            "reserve_regup_revenue_usd": regup,
            "load_reserve_regup_revenue_usd": load_regup,
        }
        costs = {
            "energy_import_cost_usd": imp,
            "transmission_cp_charge_usd": cp,
            "unserved_critical_cost_usd": voll,
        }
        net = sum(rev.values()) - sum(costs.values())
        return {"revenues_usd": rev, "costs_usd": costs, "net_value_usd": net}

    p = foresight_premium(stack(100, 50, 5, 40, 30, 0), stack(70, 20, 5, 60, 45, 10))
    assert p["foresight_premium_usd"] == pytest.approx(85 - (-20))
    assert p["foresight_premium_energy_usd"] == pytest.approx(60 - 10)
    assert p["foresight_premium_ancillary_services_usd"] == pytest.approx(55 - 25)
    assert p["foresight_premium_transmission_4cp_usd"] == pytest.approx(-30 + 45)
    assert p["foresight_premium_other_usd"] == pytest.approx(0 + 10)


def test_the_ui_draws_the_committed_schedule_against_hindsight(tmp_path):
    """The UI's foresight chart: both schedules' SOC and net withdrawal, the committed one
    from the forecast run and hindsight's from the clairvoyant run (day 2 of the 3-day case:
    the committed schedule buys in the morning at the actual 100 $, hindsight never does)."""
    from dcpower.ui import charts

    pattern = [20.0] * 12 + [100.0] * 12
    prices = pattern * 15 + [100.0] * 12 + [20.0] * 12 + pattern
    causal = solve_dict(_site(tmp_path, prices, policy="forecast"))
    clair = solve_dict(_site(tmp_path, prices))
    tz = charts.timezone_of(causal)
    committed, hindsight = charts.dispatch_frame(causal), charts.dispatch_frame(clair)
    df = charts.foresight_data(committed, hindsight, tz)
    net = df[df["quantity"].str.startswith("net")].pivot(
        index="time", columns="policy", values="value"
    )
    day2_morning = net.iloc[24:36]
    assert (day2_morning["committed (forecast)"] > 0).any()  # charging at the actual 100 $
    assert (day2_morning["hindsight (upper bound)"] <= 1e-6).all()  # never buys at 100 $
    spec = charts.foresight_chart(committed, hindsight, tz).to_dict()
    assert spec["facet"]["row"]["field"] == "quantity"
    errors = charts.forecast_error_table(causal)
    assert list(errors["product"]) == ["energy"] and errors["MAE"].iloc[0] > 0


def test_the_frontier_draws_one_line_per_policy():
    """With the policy dimension the frontier plot has one Pareto set per policy (each joined
    by its own step line), not one set mixing both."""
    from dcpower.plots import plot_frontier

    summary = pd.DataFrame(
        {
            "bess_mwh": [200, 400, 200, 400],
            "gen_units": [4, 4, 4, 4],
            "transformer_mva": [160] * 4,
            "operations_policy": ["perfect_foresight"] * 2 + ["forecast"] * 2,
            "survival_prob_8h": [0.9, 0.95, 0.9, 0.95],
            "annual_total_cost_usd": [10e6, 11e6, 12e6, 12.5e6],
            "pareto": [True, True, True, True],
        }
    )
    fig = plot_frontier(summary, "survival_prob_8h")
    ax = fig.axes[0]
    gids = {c.get_gid(): c.get_offsets() for c in ax.collections}
    np.testing.assert_allclose(gids["pareto_perfect_foresight"][:, 1], [10, 11])
    np.testing.assert_allclose(gids["pareto_forecast"][:, 1], [12, 12.5])
    assert len(ax.lines) == 2


def test_baselines_across_the_dst_changes():
    """Hourly prices = the local hour of day (0..23) over the November 2023 fall-back and the
    March 2024 spring-forward: the repeated 01:00 hour is averaged, the missing 02:00 hour
    skipped, so every forecast is still its local hour (both baselines)."""
    for start, days in (("2023-10-30", 14), ("2024-03-04", 14)):
        idx = pd.date_range(
            pd.Timestamp(start, tz=TZ),
            pd.Timestamp(start, tz=TZ) + pd.Timedelta(days=days),
            freq="h",
            inclusive="left",
        ).tz_convert("UTC")
        s = pd.Series(idx.tz_convert(TZ).hour.astype(float), index=idx)
        h = fc.PriceHistory.build(s, fc.published_utc(s.index, TZ, realtime=False), TZ)
        last = pd.Timestamp(start).date() + timedelta(days=days - 1)
        decision = fc.decision_time_utc(last, "10:00", TZ)
        targets = idx[idx.tz_convert(TZ).date == last]
        want = targets.tz_convert(TZ).hour.to_numpy(float)
        for method in fc.BASELINES:
            np.testing.assert_allclose(fc.baseline_forecast(method, h, decision, targets), want)
