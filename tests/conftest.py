"""Shared fixtures: the example case solved once per test session, and case builders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dcpower.case import Case, case_from_dict, load_case
from dcpower.runner import run_case

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CASE = ROOT / "config" / "cases" / "example_ercot.json"


@pytest.fixture(scope="session")
def example_case_dict() -> dict:
    return json.loads(EXAMPLE_CASE.read_text())


@pytest.fixture(scope="session")
def example_results() -> dict:
    """The example ERCOT week (July 2023, HB_NORTH DAM + five AS products), solved once."""
    return run_case(load_case(EXAMPLE_CASE))


def write_tidy_prices(
    path: Path, start_local: str, prices: list[float], minutes: int = 60, point: str = "HB_NORTH"
) -> Path:
    """A tidy ERCOT-layout energy price file (the shipped layout) for hand-made price shapes."""
    start = pd.Timestamp(start_local, tz="America/Chicago")
    starts = pd.date_range(start, periods=len(prices), freq=f"{minutes}min").tz_convert("UTC")
    local = starts.tz_convert("America/Chicago")
    df = pd.DataFrame(
        {
            "interval_start_utc": starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "interval_end_utc": (starts + pd.Timedelta(minutes=minutes)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "interval_start_local": [t.isoformat() for t in local],
            "delivery_date": local.strftime("%Y-%m-%d"),
            "hour_ending": local.hour + 1,
            "repeated_hour_flag": "N",
            "settlement_point": point,
            "settlement_point_type": "hub",
            "price_usd_per_mwh": prices,
        }
    )
    df.to_csv(path, index=False)
    return path


def small_site(price_file: Path, start: str, end: str, **overrides) -> dict:
    """A minimal site with no load, no BESS, no gas units and no reserves; override sections."""
    case = {
        "name": "known_answer",
        "horizon": {
            "start": start,
            "end": end,
            "timestep_minutes": 60,
            "timezone": "America/Chicago",
        },
        "market": {
            "iso": "ercot",
            "settlement_point": "HB_NORTH",
            "energy_market": "dam",
            "reserve_products": [],
            "price_file": str(price_file),
        },
        "load": {"profile_mw": 0.0, "critical_fraction": 0.0, "power_factor": 1.0},
        "bess": {"power_mw": 0, "energy_mwh": 0, "pcs_mva": 0},
        "gas_gen": {"units": 0, "unit_mw": 0, "ramp_mw_per_min": 1.0, "fuel_cost_usd_per_mwh": 0},
        "poi": {"import_limit_mw": 1000, "export_limit_mw": 1000, "min_power_factor": 0.5},
        "transformer": {"rating_mva": 2000, "polygon_facets": 16},
        "reliability": {
            "voll_critical_usd_per_mwh": 10000,
            "ride_through_minutes": 0,
            "n_plus_1": False,
        },
        "solver": {"mip_rel_gap": 1e-6, "time_limit_s": 60, "threads": 1},
    }
    for key, value in overrides.items():
        case[key] = {**case[key], **value} if isinstance(value, dict) else value
    return case


def infeasible_terminal_soc_case(price_file: Path) -> dict:
    """A day on which the battery must end full but can never charge (no import, no units)."""
    return small_site(
        price_file,
        "2023-07-10",
        "2023-07-11",
        bess={
            "power_mw": 10,
            "energy_mwh": 40,
            "soc_initial_fraction": 0.5,
            "soc_final_min_fraction": 1.0,
            "pcs_mva": 10,
        },
        poi={"import_limit_mw": 0, "export_limit_mw": 10, "min_power_factor": 0.9},
    )


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (Snakefile, workflow/, config/, scripts/) to ``dest``; link the data."""
    import shutil

    for name in ("Snakefile", "workflow", "config", "scripts"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy(src, dest / name)
    (dest / "resources_data").symlink_to(ROOT / "resources_data")
    return dest


def run_snakemake(cwd: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``snakemake <args>`` in ``cwd`` with this interpreter (output captured as text)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def solve_dict(case: dict) -> dict:
    return run_case(case_from_dict(case))


def marginal_case(tmp_path: Path, days: int = 2, **gas) -> Case:
    """The marginal-value case: ``days`` days, hourly (prices 10 % higher each day), a 60 MW
    load behind a 50 MW POI import and a 53 MVA transformer (each binds at some hours), a
    battery whose energy and power both bind, and two gas units that run at the evening peak
    (``gas``: overrides of the gas section)."""
    day = [25, 22, 20, 20, 22, 30, 45, 60, 55, 50, 48, 50, 60, 80, 120, 200, 260, 180, 120, 90]
    day += [70, 55, 40, 30]
    prices = [float(p) * (1 + 0.1 * d) for d in range(days) for p in day]
    pf = write_tidy_prices(tmp_path / "p.csv", "2023-07-10 00:00", prices)
    return case_from_dict(
        small_site(
            pf,
            "2023-07-10",
            f"2023-07-{10 + days}",
            load={
                "profile_mw": 60.0,
                "critical_fraction": 0.5,
                "flexible_fraction": 0.2,
                "flexible_curtailment_usd_per_mwh": 150,
                "power_factor": 0.95,
            },
            bess={"power_mw": 10, "energy_mwh": 30, "pcs_mva": 11},
            gas_gen={
                "units": 2,
                "unit_mw": 12,
                "ramp_mw_per_min": 1.0,
                "fuel_cost_usd_per_mwh": 90,
                "start_cost_usd": 500,
                "min_stable_fraction": 0.4,
                **gas,
            },
            poi={"import_limit_mw": 50, "export_limit_mw": 30, "min_power_factor": 0.9},
            transformer={"rating_mva": 53, "polygon_facets": 16},
        ),
        "marginal",
    )
