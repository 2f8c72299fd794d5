"""Benchmark the dispatch solve against the LP relaxation of the same model (run by hand).

For each horizon (week, month, quarter, year) and timestep (60, 15 min) it solves the case
``--repeats`` times, each in a fresh child process (so peak RSS is per run), and prints one table
of medians: build s, hand-off s, solve s, objective $, LP bound $, gap to the LP bound, peak RSS
MB, LP time s and the ratio of the MILP's total time to the LP's.

Cases (real shipped data, every constraint family on, N+1 on):
- 60 min: ERCOT DAM 2016 HB_HOUSTON with REGUP/REGDN/RRS/NSPIN (the sweep's base site);
- 15 min: ERCOT RTM 2024 HB_HUBAVG (no AS prices ship for 2024, so no reserves).

Usage: ``python benchmarks/bench_dispatch.py [--horizons week month] [--steps 60 15]
[--repeats 3] [--method auto|monolithic|rolling_horizon] [--time-limit 60]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE_CASE = ROOT / "config" / "cases" / "sweep_base_ercot_2016.json"
HORIZONS = {  # name -> (start, end) per timestep
    "week": {60: ("2016-07-11", "2016-07-18"), 15: ("2024-07-08", "2024-07-15")},
    "month": {60: ("2016-07-01", "2016-08-01"), 15: ("2024-07-01", "2024-08-01")},
    "quarter": {60: ("2016-07-01", "2016-10-01"), 15: ("2024-07-01", "2024-10-01")},
    "year": {60: ("2016-01-01", "2017-01-01"), 15: ("2024-01-01", "2025-01-01")},
}


def bench_case(horizon: str, step: int, method: str, time_limit: float) -> dict:
    """The case dict of one benchmark point."""
    case = json.loads(BASE_CASE.read_text())
    start, end = HORIZONS[horizon][step]
    case["name"] = f"bench_{horizon}_{step}min"
    case["horizon"].update(start=start, end=end, timestep_minutes=step)
    case["reliability"]["n_plus_1"] = True
    case["solver"].update(method=method, time_limit_s=time_limit)
    if step == 15:
        case["market"].update(
            settlement_point="HB_HUBAVG", energy_market="rtm", reserve_products=[]
        )
    return case


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(case_json: str) -> dict:
    """Child process: solve the case and the LP relaxation; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    from dcpower.case import case_from_dict
    from dcpower.runner import run_case

    case = case_from_dict(json.loads(case_json))
    t0 = time.perf_counter()
    res = run_case(case, lp_bound=True)
    wall = time.perf_counter() - t0
    s = res["solver"]
    return {
        "build_s": s["build_seconds"],
        "handoff_s": s["handoff_seconds"],
        "solve_s": s["solve_seconds"] - s["handoff_seconds"],
        "milp_s": s["build_seconds"] + s["solve_seconds"],
        "lp_s": s["lp_seconds"],
        "objective": res["economics"]["net_value_usd"],
        "lp_bound": s["lp_bound"],
        "gap_to_lp": s["gap_to_lp_bound"],
        "peak_rss_mb": _peak_rss_mb(),
        "wall_s": wall,
        "method": s["method"],
        "windows": s["windows"],
        "violations": len(res["verification"]["violations"]),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--horizons", nargs="+", default=list(HORIZONS), choices=list(HORIZONS))
    p.add_argument("--steps", nargs="+", type=int, default=[60, 15], choices=[60, 15])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--method", default="auto", choices=["auto", "monolithic", "rolling_horizon"])
    p.add_argument("--time-limit", type=float, default=60.0, help="per solve (window), s")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0
    cols = [
        "build_s",
        "handoff_s",
        "solve_s",
        "objective",
        "lp_bound",
        "gap_to_lp",
        "peak_rss_mb",
        "lp_s",
        "ratio_to_lp",
    ]
    print("| horizon | step | method | " + " | ".join(cols) + " | runs |")
    print("|---" * (len(cols) + 4) + "|")
    for step in args.steps:
        for horizon in args.horizons:
            case = bench_case(horizon, step, args.method, args.time_limit)
            runs = []
            for _ in range(args.repeats):
                out = subprocess.run(
                    [sys.executable, __file__, "--one", json.dumps(case)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                run = json.loads(out.stdout.strip().splitlines()[-1])
                run["ratio_to_lp"] = run["milp_s"] / run["lp_s"]
                runs.append(run)
            med = {c: statistics.median(r[c] for r in runs) for c in cols}
            cells = [f"{med[c]:,.2f}" if abs(med[c]) >= 1 else f"{med[c]:.4g}" for c in cols]
            print(
                f"| {horizon} | {step} | {runs[0]['method']} | "
                + " | ".join(cells)
                + f" | {len(runs)} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
