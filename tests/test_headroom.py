"""Interconnection headroom study: the poi_import_mw dimension, its per-scenario figures and the
headroom plot. A tiny version of the shipped study (config/config_headroom.yaml on three real
August 2024 days, no gas, three limits) runs end to end; every figure is checked against values
computed here from the dispatch tables alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_workflow, run_snakemake

from dcpower import columns, headroom, sweep
from dcpower.case import load_case
from dcpower.invariants import check_invariants
from dcpower.plots import plot_headroom
from dcpower.runner import run_case
from dcpower.study import StudyConfigError, load_study_config

LIMITS = [120, 102, 90]
SHARE = columns.unserved_share_column("total")
SEGMENTS = {"flexible": "flexible_curtailed_mw", "noncritical": "noncritical_unserved_mw"}
SEGMENTS["critical"] = "critical_unserved_mw"


def _headroom_config(**market) -> dict:
    cfg = yaml.safe_load((ROOT / "config/config_headroom.yaml").read_text())
    cfg["study"]["name"] = "test_headroom"
    cfg["grid"].update(gen_units=[0], poi_import_mw=LIMITS)
    cfg["market"].update({"start": "2024-08-18", "end": "2024-08-21", **market})
    cfg["solve"].update(method="monolithic")
    return cfg


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("wf_headroom"))
    (work / "config/test/headroom.yaml").write_text(yaml.safe_dump(_headroom_config()))
    proc = run_snakemake(work, "--cores", "2", "--configfile", "config/test/headroom.yaml")
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = work / "results" / "test_headroom"
    report = run_snakemake(
        work, "--configfile", "config/test/headroom.yaml", "--report", str(out / "report.html")
    )
    assert report.returncode == 0, report.stderr[-4000:]
    summary = pd.read_parquet(out / "summary.parquet").set_index(headroom.DIM)
    dispatch = {
        limit: pd.read_parquet(out / "scenarios" / name / "dispatch.parquet")
        for limit, name in summary["scenario"].items()
    }
    return out, summary, dispatch


def test_net_import_never_exceeds_the_scenario_limit(study):
    _, summary, dispatch = study
    assert sorted(summary.index) == sorted(LIMITS)
    assert (summary["solver_status"] == "optimal").all()
    assert (summary["invariant_violations"] == 0).all()
    for limit, d in dispatch.items():
        net = d["grid_import_mw"] - d["grid_export_mw"]
        assert (net <= limit + 1e-6).all(), limit
        assert summary.loc[limit, "max_net_import_mw"] == pytest.approx(net.max())
        # the limit below the site's peak is the one the dispatch runs into
        if limit < d["load_mw"].max():
            assert net.max() == pytest.approx(limit, abs=1e-6)


def test_curtailed_energy_rises_as_the_limit_falls(study):
    _, _, dispatch = study
    curtailed = [float(dispatch[lim]["load_unserved_mw"].sum()) for lim in sorted(LIMITS)[::-1]]
    assert all(b > a + 1.0 for a, b in zip(curtailed, curtailed[1:], strict=False)), curtailed


def test_summary_figures_equal_the_dispatch_tables(study):
    _, summary, dispatch = study
    for limit, d in dispatch.items():
        row = summary.loc[limit]
        scale = row["annualisation_factor"]
        load = d["load_mw"].sum()  # MWh: hourly steps
        unserved = d["load_unserved_mw"]
        assert row[SHARE] == pytest.approx(100 * unserved.sum() / load, rel=1e-9)
        for segment, col in SEGMENTS.items():
            assert row[columns.unserved_share_column(segment)] == pytest.approx(
                100 * d[col].sum() / load, rel=1e-9, abs=1e-12
            )
            assert row[columns.unserved_energy_column(segment)] == pytest.approx(
                d[col].sum() * scale, rel=1e-9, abs=1e-9
            )
        assert row["curtailed_hours"] == pytest.approx((unserved > 1e-6).sum() * scale)
        assert row["gen_pct_of_load"] == pytest.approx(100 * d["gen_mw"].sum() / load)
        assert row["site_peak_load_mw"] == pytest.approx(d["load_mw"].max())
        assert row["poi_import_pct_of_peak"] == pytest.approx(100 * limit / d["load_mw"].max())
        assert row["poi_import_limit_mw"] == limit
    cost = summary["annual_total_cost_usd"]
    assert np.allclose(summary["cost_vs_highest_limit_usd"], cost - cost.loc[max(LIMITS)])
    # a tighter limit costs more: curtailment is priced in the net value
    assert (summary.loc[[102, 90], "cost_vs_highest_limit_usd"] > 0).all()


def test_plot_levels_and_report(study):
    out, summary, dispatch = study
    png, svg = out / "plots/headroom.png", out / "plots/headroom.svg"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert 'id="headroom_0"' in svg.read_text()
    # the limit at each Duke level, interpolated here from the dispatch tables
    peak = max(d["load_mw"].max() for d in dispatch.values())
    pts = sorted(
        (100 * d["load_unserved_mw"].sum() / d["load_mw"].sum(), 100 * lim / peak)
        for lim, d in dispatch.items()
    )
    x, y = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    levels = pd.read_csv(out / "headroom_levels.csv")
    assert list(levels["curtailment_pct"]) == [0.25, 0.5, 1.0]
    for _, r in levels.iterrows():
        level = r["curtailment_pct"]
        expected = np.interp(level, x, y) if x[0] <= level <= x[-1] else np.nan
        assert r["limit_pct_of_peak"] == pytest.approx(expected, nan_ok=True)
    assert "headroom.png" in (out / "report.html").read_text(errors="replace")


def test_default_study_has_no_headroom_dimension(tmp_path):
    cfg = load_study_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()))
    assert cfg.grid.poi_import_mw is None
    assert sweep.grid_dims(cfg.market, cfg.grid.optional_dims()) == list(sweep.GRID_DIMS)
    first = sweep.scenario_grid(cfg).iloc[0].to_dict()
    assert sweep.scenario_name(first, sweep.grid_dims(cfg.market, first)).count("/") == 2
    proc = run_snakemake(copy_workflow(tmp_path), "-n")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "plot_headroom" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "limits, says",
    [
        ([100, 100], "distinct"),
        ([0, 100], "> 0"),
        ([20_000], "<= 10000"),
        (["lots"], "number"),
        ([], "at least 1"),
    ],
)
def test_invalid_limits_name_the_key(limits, says):
    cfg = _headroom_config()
    cfg["grid"]["poi_import_mw"] = limits
    with pytest.raises(StudyConfigError) as err:
        load_study_config(cfg)
    text = str(err.value)
    assert "grid.poi_import_mw" in text and says in text, text


def test_scenario_limit_is_the_one_solved_and_checked():
    cfg = load_study_config(_headroom_config(start="2024-08-20", end="2024-08-21"))
    base = load_case(ROOT / cfg.study.base_case)
    sizes = {"bess_mwh": 200, "gen_units": 0, "transformer_mva": 160, headroom.DIM: 95}
    case = sweep.scenario_case(base, sizes, cfg.scenario_settings())
    assert case.poi.import_limit_mw == 95 and base.poi.import_limit_mw == 120
    assert case.name.endswith("poi_import_mw~95")
    results = run_case(case)
    assert results["verification"]["violations"] == []
    # break the cap on purpose: the results-only check names it
    step = results["dispatch"][10]
    step["grid_import_mw"] = 95 + 1.0
    step["grid_export_mw"] = 0.0
    assert any("poi_import_cap" in v for v in check_invariants(results))


def _dispatch(load, unserved, gen, imp) -> pd.DataFrame:
    unserved = np.asarray(unserved, float)
    return pd.DataFrame(
        {
            "load_mw": load,
            "flexible_curtailed_mw": unserved,
            "noncritical_unserved_mw": 0.0,
            "critical_unserved_mw": 0.0,
            "gen_mw": gen,
            "grid_import_mw": imp,
            "grid_export_mw": 0.0,
        }
    )


def test_metrics_known_answer():
    # 4 half-hour steps of 100 MW (200 MWh), 10 MW curtailed in two steps (10 MWh = 5 %)
    d = _dispatch([100.0] * 4, [10, 0, 10, 0], [0, 5, 0, 0], [80, 80, 80, 90])
    m = headroom.scenario_metrics(d, dt_h=0.5, scale=2.0, limit_mw=90.0)
    assert m[SHARE] == pytest.approx(5.0)
    assert m["unserved_total_mwh"] == pytest.approx(20.0)  # 10 MWh × scale 2
    assert m["curtailed_hours"] == pytest.approx(2.0)  # 2 steps × 0.5 h × 2
    assert m["gen_pct_of_load"] == pytest.approx(1.25)
    assert m["poi_import_pct_of_peak"] == pytest.approx(90.0)
    assert m["max_net_import_mw"] == 90.0


def test_limit_at_curtailment_and_relative_cost():
    dims = ["bess_mwh", "gen_units", "transformer_mva", headroom.DIM]
    rows = [
        {"bess_mwh": 1, "gen_units": g, "transformer_mva": 1, headroom.DIM: lim, "gen_mw": 20 * g,
         "poi_import_pct_of_peak": lim, SHARE: c, "annual_total_cost_usd": 100 + k,
         "site_peak_load_mw": 100.0, "curtailed_hours": c * 10, "gen_pct_of_load": 0.0}
        for g, k in ((0, 0), (2, 50))
        for lim, c in ((100, 0.1), (90, 0.3), (80, 2.0))
    ]  # fmt: skip
    summary = headroom.add_relative_cost(pd.DataFrame(rows), dims)
    assert list(summary["cost_vs_highest_limit_usd"]) == [0.0] * 6  # equal cost per asset set
    pts = headroom.curve(summary, dims)[(1, 0, 1)]
    assert headroom.limit_at_curtailment(pts, 0.25) == pytest.approx(92.5)
    assert headroom.limit_at_curtailment(pts, 1.0) == pytest.approx(90 - 10 * 0.7 / 1.7)
    assert np.isnan(headroom.limit_at_curtailment(pts, 0.05))  # below the highest limit's
    fig = plot_headroom(summary, dims)
    line = next(ln for ln in fig.axes[0].lines if ln.get_gid() == "headroom_0")
    assert list(line.get_xdata()) == [0.1, 0.3, 2.0]
    assert list(line.get_ydata()) == [100, 90, 80]
