"""A third-party ISO added by a plug-in alone (tests/plugin_iso/toy_iso.py, entry-point group
``dcpower.iso``) runs a tiny Snakemake sweep: no dcpower file names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from conftest import ROOT, copy_workflow

PLUGIN_DIR = ROOT / "tests" / "plugin_iso"


def _install_entry_point(site: Path) -> None:
    """What `pip install` of the plug-in would leave: a dist-info naming the entry point."""
    info = site / "toy_iso_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-iso-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[dcpower.iso]\ntoyiso = toy_iso:ToyIsoAdapter\n")


def _write_market(data: Path) -> None:
    data.mkdir()
    start = pd.date_range("2030-06-30T00:00Z", "2030-07-04T00:00Z", freq="60min", inclusive="left")
    hour = start.hour.to_numpy()
    lmp = np.round(40 + 50 * np.exp(-(((hour - 18) / 3.0) ** 2)), 2)
    stamps = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame({"time_utc": stamps, "node": "TOY_HUB", "lmp": lmp}).to_csv(
        data / "toy_lmp.csv", sep=";", index=False
    )
    pd.DataFrame({"time_utc": stamps, "ffr": 12.0}).to_csv(
        data / "toy_ffr.csv", sep=";", index=False
    )


def test_plugin_iso_runs_a_tiny_sweep(tmp_path):
    (wf := tmp_path / "wf").mkdir()
    work = copy_workflow(wf)
    _install_entry_point(site := tmp_path / "site")
    _write_market(data := tmp_path / "toy_data")
    case = json.loads((ROOT / "config" / "cases" / "example_generic.json").read_text())
    case["market"] = {
        "iso": "toyiso",
        "settlement_point": "TOY_HUB",
        "reserve_products": ["FFR"],
        "price_file": str(data / "toy_lmp.csv"),
        "reserve_price_file": str(data / "toy_ffr.csv"),
    }
    case["horizon"]["timezone"] = "UTC"
    (work / "config" / "cases" / "toy_base.json").write_text(json.dumps(case))
    config = yaml.safe_load((ROOT / "config" / "test" / "config.yaml").read_text())
    config["study"].update(name="toy_study", base_case="config/cases/toy_base.json")
    config["grid"].update(bess_mwh=[100, 200], gen_units=[4], transformer_mva=[160])
    config["market"].update(
        iso="toyiso",
        settlement_point="TOY_HUB",
        years=[2030],
        start="07-01",
        end="07-02",
        reserve_products=["FFR"],
    )
    (work / "config" / "toy.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(PLUGIN_DIR)])}
    target = "results/toy_study/summary.parquet"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            target,
            "--cores",
            "2",
            "--configfile",
            "config/toy.yaml",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = pd.read_parquet(work / target)
    assert len(summary) == 2 and (summary["solver_status"] == "optimal").all()
    prices = json.loads((work / "results/toy_study/prices/prices_2030.json").read_text())
    assert prices["provenance"]["iso"] == "toyiso" and prices["reserve_products"] == ["FFR"]
    assert prices["n_steps"] == 24
