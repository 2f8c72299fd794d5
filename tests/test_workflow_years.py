"""Multi-year sizing study: market_year as a dimension, per-year Pareto flags, each size across
years (worst/mean/best) in the study summary and plot. A tiny study (2 sizes x 2 years, two real
July days of 2023 and 2024) runs end to end; the numbers are checked against values computed
here from summary.parquet."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from conftest import ROOT, copy_workflow, run_snakemake

from dcpower.pareto import pareto_mask
from dcpower.plots import plot_frontier_years
from dcpower.sweep import across_years, aggregate, study_summary_markdown

METRIC = "survival_prob_8h"
COST = "annual_total_cost_usd"
SIZES = ["bess_mwh", "gen_units", "transformer_mva"]


@pytest.fixture(scope="module")
def years_study(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("wf_years"))
    cfg = yaml.safe_load((work / "config/test/config.yaml").read_text())
    cfg["study"] = {"name": "test_years", "base_case": "config/cases/sweep_base_ercot_2024.json"}
    cfg["grid"].update(bess_mwh=[100, 400], gen_units=[4], transformer_mva=[160])
    cfg["market"].update(
        years=[2023, 2024],
        start="07-10",
        end="07-12",
        reserve_products={2023: ["REGUP", "REGDN", "RRS", "ECRS", "NSPIN"], 2024: ["REGUP"]},
    )
    (work / "config/test/years.yaml").write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(work, "--cores", "2", "--configfile", "config/test/years.yaml")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work / "results" / "test_years"


def test_market_year_is_a_dimension(years_study):
    summary = pd.read_parquet(years_study / "summary.parquet")
    assert len(summary) == 4
    assert sorted(summary["market_year"].unique()) == [2023, 2024]
    assert (summary["solver_status"] == "optimal").all()
    ds = xr.open_dataset(years_study / "sweep.nc", engine="h5netcdf")
    assert ds[COST].dims == ("bess_mwh", "gen_units", "transformer_mva", "market_year")
    assert list(ds["market_year"].values) == [2023, 2024]
    for _, r in summary.iterrows():
        at = ds[COST].sel(
            bess_mwh=r.bess_mwh,
            gen_units=r.gen_units,
            transformer_mva=r.transformer_mva,
            market_year=r.market_year,
        )
        assert float(at) == pytest.approx(r[COST], rel=1e-12)
    # the two years differ (different prices), so the across-years range is not empty
    by_year = summary.groupby("market_year")[COST].sum()
    assert by_year[2023] != by_year[2024]


def test_pareto_flag_is_per_year(years_study):
    summary = pd.read_parquet(years_study / "summary.parquet")
    for _, part in summary.groupby("market_year"):
        want = pareto_mask(part[COST].to_numpy(float), part[METRIC].to_numpy(float))
        assert (part["pareto"].to_numpy() == want).all()


def _independent(summary: pd.DataFrame) -> pd.DataFrame:
    """worst/mean/best per size computed from summary.parquet with a plain loop."""
    rows = []
    years = sorted(summary["market_year"].unique())
    for sizes in sorted({tuple(r) for r in summary[SIZES].itertuples(index=False)}):
        g = summary[(summary[SIZES] == pd.Series(sizes, index=SIZES)).all(axis=1)]
        costs = [float(g.loc[g.market_year == y, COST].iloc[0]) for y in years]
        metric = [float(g.loc[g.market_year == y, METRIC].iloc[0]) for y in years]
        flags = [bool(g.loc[g.market_year == y, "pareto"].iloc[0]) for y in years]
        rows.append(
            {
                "size": "/".join(f"{d}~{v:g}" for d, v in zip(SIZES, sizes, strict=True)),
                "cost": (max(costs), sum(costs) / len(costs), min(costs)),
                "metric": (min(metric), sum(metric) / len(metric), max(metric)),
                "pareto_years": sum(flags),
                "every": all(flags),
            }
        )
    return pd.DataFrame(rows)


def test_study_summary_across_years_numbers(years_study):
    summary = pd.read_parquet(years_study / "summary.parquet")
    text = (years_study / "study_summary.md").read_text()
    assert "## Each size across market years (2023, 2024)" in text
    want = _independent(summary)
    for _, w in want.iterrows():
        line = next(ln for ln in text.splitlines() if ln.startswith(f"| {w['size']} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == "2"
        got_cost = [float(c) for c in cells[2:5]]
        got_metric = [float(c) for c in cells[5:8]]
        np.testing.assert_allclose(got_cost, np.array(w["cost"]) / 1e6, atol=0.0005)
        np.testing.assert_allclose(got_metric, w["metric"], atol=0.00005)
        assert cells[8] == f"{w['pareto_years']}/2"
    every = text.split("### Pareto-efficient in every market year", 1)[1].split("\n## ")[0]
    listed = set(re.findall(r"^- (bess_mwh~\S+):", every, flags=re.M))
    assert listed == set(want.loc[want["every"], "size"])
    # the function behind the table, at full precision
    table = across_years(summary, METRIC)
    for (_, w), (_, t) in zip(want.iterrows(), table.iterrows(), strict=True):
        assert (t[f"{COST}_worst"], t[f"{COST}_mean"], t[f"{COST}_best"]) == pytest.approx(
            w["cost"], rel=1e-12
        )
        assert (t[f"{METRIC}_worst"], t[f"{METRIC}_mean"], t[f"{METRIC}_best"]) == pytest.approx(
            w["metric"], rel=1e-12
        )
        assert t["pareto_every_year"] == w["every"]


def test_years_plot_marks_sizes_on_every_frontier(years_study):
    summary = pd.read_parquet(years_study / "summary.parquet")
    png, svg = years_study / "plots/frontier_years.png", years_study / "plots/frontier_years.svg"
    assert png.stat().st_size > 1000
    text = svg.read_text()
    assert "<svg" in text[:2000] and 'id="pareto_every_year' in text
    n_every = int(across_years(summary, METRIC)["pareto_every_year"].sum())
    fig = plot_frontier_years(across_years(summary, METRIC), METRIC, [2023, 2024])
    star = next(c for c in fig.axes[0].collections if c.get_gid() == "pareto_every_year")
    assert len(star.get_offsets()) == n_every


def _row(bess, year, cost, metric, status="optimal"):
    return {
        "scenario": f"bess_mwh~{bess}/gen_units~4/transformer_mva~160/market_year~{year}",
        "bess_mwh": bess,
        "gen_units": 4,
        "transformer_mva": 160,
        "market_year": year,
        COST: cost,
        METRIC: metric,
        "solver_status": status,
        "solver_gap": 0.0,
        "solve_seconds": 1.0,
    }


def test_across_years_hand_numbers():
    dims = [*SIZES, "market_year"]
    rows = [
        _row(100, 2022, 10e6, 0.90),
        _row(100, 2023, 14e6, 0.80),
        _row(100, 2024, 9e6, 0.95),
        _row(200, 2022, 12e6, 0.99),
        _row(200, 2023, 13e6, 0.99),
        _row(200, 2024, 11e6, 0.99),
        _row(300, 2022, 13e6, 0.98),  # dominated by 200 in 2022
        _row(300, 2023, 14.5e6, 0.995),
        _row(300, 2024, float("nan"), float("nan"), status="infeasible"),
    ]
    summary = aggregate(rows, dims, METRIC)
    flags = {(r.bess_mwh, r.market_year): r.pareto for r in summary.itertuples()}
    assert flags == {
        (100, 2022): True, (100, 2023): False, (100, 2024): True,
        (200, 2022): True, (200, 2023): True, (200, 2024): True,
        (300, 2022): False, (300, 2023): True, (300, 2024): False,
    }  # fmt: skip
    t = across_years(summary, METRIC).set_index("bess_mwh")
    assert t.loc[100, [f"{COST}_worst", f"{COST}_mean", f"{COST}_best"]].tolist() == [
        14e6,
        11e6,
        9e6,
    ]
    assert t.loc[100, [f"{METRIC}_worst", f"{METRIC}_best"]].tolist() == [0.80, 0.95]
    assert t.loc[100, f"{METRIC}_mean"] == pytest.approx((0.90 + 0.80 + 0.95) / 3)
    assert t.loc[300, "n_years"] == 2 and t.loc[300, f"{COST}_mean"] == 13.75e6
    assert t["pareto_years"].tolist() == [2, 3, 1]
    assert t["pareto_every_year"].tolist() == [False, True, False]
    md = study_summary_markdown(
        summary, "s", "ERCOT HB_HOUSTON 2022, 2023, 2024", METRIC, [0.99, 0.999]
    )
    assert md.count("| 0.999 | none reaches it in ") == 3 and "nan" not in md
    every = md.split("### Pareto-efficient in every market year", 1)[1].split("\n## ")[0]
    assert re.findall(r"^- (\S+):", every, flags=re.M) == [
        "bess_mwh~200/gen_units~4/transformer_mva~160"
    ]
    assert "| bess_mwh~100/gen_units~4/transformer_mva~160 | 3 | 14.000 | 11.000 | 9.000 |" in md
    # cheapest per level, per year: 0.99 is first reached by 200 in every year
    level = md.split("## Cheapest scenario per reliability level (per market year)", 1)[1]
    for year, cost in ((2022, "12.000"), (2023, "13.000"), (2024, "11.000")):
        name = f"bess_mwh~200/gen_units~4/transformer_mva~160/market_year~{year}"
        assert f"| 0.99 | {name} | {cost} [no bound] |" in level  # hand rows carry no bound


def test_shipped_multi_year_config_dry_run(tmp_path):
    work = copy_workflow(tmp_path)
    proc = run_snakemake(work, "-n", "--configfile", "config/config_2022_2024.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    cfg = yaml.safe_load((work / "config/config_2022_2024.yaml").read_text())
    grid, years = cfg["grid"], cfg["market"]["years"]
    assert years == [2022, 2023, 2024]
    n = len(grid["bess_mwh"]) * len(grid["gen_units"]) * len(grid["transformer_mva"])
    assert re.search(rf"^solve_scenario\s+{n * len(years)}$", out, flags=re.M)
    assert re.search(r"^plot_years\s+1$", out, flags=re.M)
    assert "ECRS" not in cfg["market"]["reserve_products"][2022]


def test_ecrs_before_its_launch_fails_the_preflight(monkeypatch):
    from dcpower.study import StudyConfigError
    from dcpower.sweep import load_checked_study

    monkeypatch.chdir(ROOT)  # the config's paths are relative to the workflow folder
    cfg = yaml.safe_load((ROOT / "config/config_2022_2024.yaml").read_text())
    cfg["market"]["reserve_products"][2022] = ["REGUP", "ECRS"]
    with pytest.raises(StudyConfigError) as exc:
        load_checked_study(cfg)
    text = str(exc.value)
    assert "market.years 2022" in text and "ECRS" in text and "2023-06-10" in text
    cfg["market"]["years"] = [2021]
    cfg["market"]["reserve_products"] = ["REGUP"]
    problems = str(pytest.raises(StudyConfigError, load_checked_study, cfg).value)
    assert "market.years 2021" in problems and "REGUP" in problems


def test_a_year_without_a_4cp_rate_fails_the_preflight(monkeypatch):
    """The 2022 CPs set the 2023 charges, whose rate is not shipped: the study must stop before
    any job (naming the year, the tariff and the fix), not record every 2022 scenario as bad."""
    from dcpower.study import StudyConfigError
    from dcpower.sweep import load_checked_study

    monkeypatch.chdir(ROOT)
    cfg = yaml.safe_load((ROOT / "config/config_2022_2024.yaml").read_text())
    load_checked_study(cfg)  # the shipped config states its rate: it runs
    cfg["study"]["base_case"] = "config/cases/sweep_base_ercot_2024.json"  # rate from the file
    text = str(pytest.raises(StudyConfigError, load_checked_study, cfg).value)
    assert "market.years 2022" in text and "tariff" in text and "rate_usd_per_kw_yr" in text


def test_every_cost_of_every_year_has_its_interval_and_ties_stay_within_a_year(years_study):
    summary = pd.read_parquet(years_study / "summary.parquet")
    lower = summary["annual_total_cost_lower_bound_usd"]
    assert lower.notna().all() and (lower <= summary[COST] + 1e-6).all()
    year_of = dict(zip(summary["scenario"], summary["market_year"], strict=True))
    for _, r in summary.iterrows():
        for other in filter(None, r["tied_with"].split(", ")):
            assert year_of[other] == r["market_year"]  # costs of different years never compared
    text = (years_study / "study_summary.md").read_text()
    assert "Requested MIP gap 0.5000%; worst achieved gap" in text
    resolution = text.split("## Cost resolution", 1)[1].split("\n## ")[0]
    assert all(s in resolution for s in summary["scenario"])  # each scenario-year's interval
