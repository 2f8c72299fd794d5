"""The sizing-sweep workflow end to end on the tiny study (config/test), plus DAG checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
import yaml
from conftest import ROOT, copy_workflow

from dcpower import columns
from dcpower.pareto import pareto_mask

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def _snakemake(cwd: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """The tiny 2×2×1 study run with `snakemake --cores 2` in a temporary copy."""
    work = copy_workflow(tmp_path_factory.mktemp("wf"))
    proc = _snakemake(work, "--cores", "2", "--configfile", "config/test/config.yaml")
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = _snakemake(
        work,
        "--configfile",
        "config/test/config.yaml",
        "--report",
        "results/test_study/report.html",
    )
    assert report.returncode == 0, report.stderr[-4000:]
    return work, work / "results" / "test_study"


def test_summary_has_one_row_per_scenario(tiny_study):
    _, out = tiny_study
    summary = pd.read_parquet(out / "summary.parquet")
    assert len(summary) == 4
    assert set(summary["bess_mwh"]) == {200, 400} and set(summary["gen_units"]) == {2, 4}
    assert (summary["solver_status"] == "optimal").all()
    assert (summary["invariant_violations"] == 0).all()
    total = (
        summary["annualised_capex_usd"]
        + summary["fixed_om_usd"]
        - summary["net_operating_value_usd"]
    )
    assert (abs(total - summary["annual_total_cost_usd"]) < 1e-6).all()
    for d in (4, 8, 24):
        col = summary[f"survival_prob_{d}h"]
        assert ((col >= 0) & (col <= 1)).all()
    # longer outages are never easier to survive
    assert (summary["survival_prob_4h"] >= summary["survival_prob_24h"] - 1e-12).all()


def test_dataset_dims_and_units(tiny_study):
    _, out = tiny_study
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf")
    assert ds["annual_total_cost_usd"].dims == ("bess_mwh", "gen_units", "transformer_mva")
    assert list(ds["bess_mwh"].values) == [200, 400]
    assert list(ds["gen_units"].values) == [2, 4]
    assert list(ds["transformer_mva"].values) == [160]
    assert ds["annual_total_cost_usd"].attrs["units"] == "$/yr"
    assert ds["survival_prob_8h"].attrs["units"] == "probability"
    mv = "marginal_value_transformer_usd_per_yr_per_mva"
    assert ds[mv].attrs["units"] == "$/yr per MVA"
    assert ds["annualised_cost_bess_energy_usd_per_yr_per_mwh"].attrs["units"] == "$/yr per MWh"
    poi = ds["annualised_cost_poi_import_usd_per_yr_per_mw"]  # no capex priced: all NaN
    assert poi.attrs["units"] == "$/yr per MW" and bool(poi.isnull().all())


def test_marginal_value_columns(tiny_study):
    _, out = tiny_study
    s = pd.read_parquet(out / "summary.parquet")
    for asset, unit in columns.MARGINAL_VALUE_UNITS.items():
        value = s[columns.marginal_value_column(asset)]
        assert value.notna().all(), asset  # every scenario has BESS, gas, POI and transformer
        cost = s[columns.unit_cost_column(asset)]
        assert cost.dtype == float, asset
        assert cost.isna().all() if asset == "poi_import" else (cost > 0).all(), asset
        assert columns.marginal_value_column(asset).endswith(unit.lower())


def test_frontier_points_are_pareto_efficient(tiny_study):
    _, out = tiny_study
    s = pd.read_parquet(out / "summary.parquet")
    cost, rel = s["annual_total_cost_usd"].to_numpy(), s["survival_prob_8h"].to_numpy()
    assert (s["pareto"].to_numpy() == pareto_mask(cost, rel)).all()
    front = s[s["pareto"]]
    assert len(front) >= 1
    for _, p in front.iterrows():  # no scenario is cheaper and at least as reliable
        better = s[
            (s.annual_total_cost_usd < p.annual_total_cost_usd - 1e-9)
            & (s.survival_prob_8h >= p.survival_prob_8h)
        ]
        assert better.empty


def test_plots_report_and_scenario_files(tiny_study):
    _, out = tiny_study
    for name in ("frontier", "net_value_vs_bess", "cost_stack", "marginal_values"):
        assert (out / "plots" / f"{name}.png").stat().st_size > 1000
        assert "<svg" in (out / "plots" / f"{name}.svg").read_text()[:2000]
    assert (out / "report.html").stat().st_size > 10_000
    scen = out / "scenarios" / "bess_mwh~400" / "gen_units~4" / "transformer_mva~160"
    d = pd.read_parquet(scen / "dispatch.parquet")
    assert len(d) == 72 and str(d.index.tz) == "UTC"
    summary = json.loads((scen / "summary.json").read_text())
    assert summary["scenario"] == "bess_mwh~400/gen_units~4/transformer_mva~160"
    assert (out / "logs").is_dir() and list((out / "benchmarks").rglob("*.tsv"))
    logs = out / "logs" / "solve_scenario" / "bess_mwh~400" / "gen_units~4" / "transformer_mva~160"
    assert "HiGHS" in (logs / "solver.log").read_text()  # the solver's own output
    assert "solve scenario" in (logs / "python.log").read_text()
    assert "HiGHS" not in (logs / "python.log").read_text()
    assert "Cheapest scenario" in (out / "study_summary.md").read_text()
    # the report opens on the study summary (its landing text), figures inline
    page = (out / "study_summary.html").read_text()
    assert "Requested MIP gap" in page and page.count("data:image/png;base64,") == 4
    assert "Requested MIP gap" in (out / "report.html").read_text()


def test_every_cost_carries_its_interval(tiny_study):
    _, out = tiny_study
    summary = pd.read_parquet(out / "summary.parquet")
    lower, cost = summary["annual_total_cost_lower_bound_usd"], summary["annual_total_cost_usd"]
    assert lower.notna().all() and (lower <= cost + 1e-6).all()
    assert summary["tied_with"].map(type).eq(str).all()
    text = (out / "study_summary.md").read_text()
    assert "Requested MIP gap 0.5000%" in text and "worst achieved gap" in text


def test_adding_grid_value_reruns_only_new_scenarios(tiny_study):
    work, _ = tiny_study
    cfg = yaml.safe_load((work / "config/test/config.yaml").read_text())
    cfg["grid"]["bess_mwh"].append(300)
    (work / "config/test/bigger.yaml").write_text(yaml.safe_dump(cfg))
    proc = _snakemake(work, "-n", "--configfile", "config/test/bigger.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = _job_counts(proc.stdout + proc.stderr)
    assert jobs.get("solve_scenario") == 2  # 300 MWh × {2, 4} units × {160} MVA


def _resources_and_key_order(cfg: dict) -> None:
    """Other job resources; sections, and each section's keys, in reverse order."""
    cfg["resources"].update(solve_mem_mb=1234, solve_runtime_min=7)
    items = [(k, dict(reversed(v.items())) if isinstance(v, dict) else v) for k, v in cfg.items()]
    cfg.clear()
    cfg.update(reversed(items))


def _edited(work: Path, name: str, edit) -> str:
    """A copy of the tiny study's config with ``edit`` applied; returns its --configfile."""
    cfg = yaml.safe_load((work / "config/test/config.yaml").read_text())
    edit(cfg)
    (work / "config/test" / name).write_text(yaml.safe_dump(cfg, sort_keys=False))
    return f"config/test/{name}"


@pytest.mark.parametrize(
    "edit, reruns",
    [
        # resources size the jobs only, and a re-saved config with its keys in another order
        # is the same config: nothing reruns
        (_resources_and_key_order, {}),
        # market: retrieval reruns (and, through its output, everything after it)
        (lambda c: c["market"].update(allow_download=True), {"retrieve_prices": 1}),
        # costs: the solves (their summary rows carry the costs), not the retrieval
        (
            lambda c: c["costs"].update(discount_rate=0.07),
            {"retrieve_prices": 0, "solve_scenario": 4},
        ),
        # frontier/report settings: aggregate and report rules only, no solve
        (
            lambda c: c["reliability"].update(frontier_metric="survival_prob_4h"),
            {"retrieve_prices": 0, "solve_scenario": 0, "aggregate": 1, "study_summary": 1},
        ),
    ],
    ids=["resources and key order", "market", "costs", "frontier metric"],
)
def test_rules_rerun_only_for_the_sections_they_use(tiny_study, edit, reruns):
    work, _ = tiny_study
    configfile = _edited(work, "edited.yaml", edit)
    proc = _snakemake(work, "-n", "--configfile", configfile)
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    jobs = _job_counts(output)
    if not reruns:
        assert "Nothing to be done" in output, output[-3000:]
    for rule, n in reruns.items():
        assert jobs.get(rule, 0) == n, (rule, jobs)
    if reruns.get("retrieve_prices") or reruns.get("solve_scenario"):
        assert "Params have changed" in output or "params" in output.lower()


def _job_counts(text: str) -> dict[str, int]:
    counts = {}
    table = text[text.find("Job stats:") :]
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)\s*$", line.strip())
        if not m:
            if counts:
                break
            continue
        counts[m.group(1)] = int(m.group(2))
    return counts


def test_default_study_dry_run_job_count(tmp_path):
    work = copy_workflow(tmp_path)
    proc = _snakemake(work, "-n")
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    grid = cfg["grid"]
    expected = len(grid["bess_mwh"]) * len(grid["gen_units"]) * len(grid["transformer_mva"])
    assert _job_counts(proc.stdout + proc.stderr)["solve_scenario"] == expected


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c["grid"].__setitem__("bess_mwh", ["lots"]), "bess_mwh"),
        (lambda c: c["market"].__setitem__("energy_market", "spot"), "energy_market"),
        (lambda c: c["costs"].pop("discount_rate"), "discount_rate"),
        (
            lambda c: c["reliability"].__setitem__("frontier_metric", "survival_prob_6h"),
            "survival_prob_8h",  # the message lists the metrics that exist
        ),
    ],
)
def test_invalid_config_fails_before_any_job(tmp_path, mutate, key):
    work = copy_workflow(tmp_path)
    cfg = yaml.safe_load((work / "config/test/config.yaml").read_text())
    mutate(cfg)
    (work / "config/test/bad.yaml").write_text(yaml.safe_dump(cfg))
    proc = _snakemake(work, "--cores", "1", "--configfile", "config/test/bad.yaml")
    assert proc.returncode != 0
    assert key in proc.stderr
    assert not (work / "results").exists()
