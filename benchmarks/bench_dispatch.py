"""Benchmark the dispatch solve against the LP relaxation of the same model (run by hand).

For each horizon (week, month, quarter, year) and timestep (60, 15 min) it solves the case
``--repeats`` times, each in a fresh child process (so peak RSS is the scenario job's), and the
whole-horizon LP relaxation as many times in other child processes, and prints one table of
medians: build s, hand-off s, solve s, build + hand-off share of the total, objective $, LP bound
$, gap to the LP bound, peak RSS MB, windows stopped by the time limit, the LP's total and
HiGHS-only times, and the MILP's total time as a ratio to each.

Cases (real shipped data, every constraint family on, N+1 on):
- 60 min: ERCOT DAM 2016 HB_HOUSTON with REGUP/REGDN/RRS/NSPIN (the sweep's base site);
- 15 min: ERCOT RTM 2024 HB_HUBAVG (no AS prices ship for 2024, so no reserves).

With ``--energy-lp``: instead, the 90-day energy-only LP (the 60-min site with no gas units
and no reserves: grid + battery, Jul–Sep 2016) in dcpower (build + hand-off + HiGHS, the LP
relaxation as ``solve_monolithic`` solves it) and the same LP in PyPSA (build + solve,
``pypsa_equivalent``; the optional ``bench`` extra), alternating child processes so that both
see the same machine load; the table gives medians and the ratio.

Usage: ``python benchmarks/bench_dispatch.py [--horizons week month] [--steps 60 15]
[--proven-bound] [--repeats 3] [--method auto|monolithic|rolling_horizon] [--time-limit 60]
[--mip-gap 0.005] [--energy-lp]``.
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


def bench_case(
    horizon: str, step: int, method: str, time_limit: float, mip_gap: float = 0.005
) -> dict:
    """The case dict of one benchmark point."""
    case = json.loads(BASE_CASE.read_text())
    start, end = HORIZONS[horizon][step]
    case["name"] = f"bench_{horizon}_{step}min"
    case["horizon"].update(start=start, end=end, timestep_minutes=step)
    case["reliability"]["n_plus_1"] = True
    case["solver"].update(method=method, time_limit_s=time_limit, mip_rel_gap=mip_gap)
    if step == 15:
        case["market"].update(
            settlement_point="HB_HUBAVG", energy_market="rtm", reserve_products=[]
        )
    return case


def energy_lp_case() -> dict:
    """The 90-day energy-only case: the 60-min site without gas units and reserves."""
    case = bench_case("quarter", 60, "monolithic", 600.0)
    case["name"] = "bench_energy_lp_90d"
    case["horizon"].update(start="2016-07-01", end="2016-09-29")
    case["reliability"]["n_plus_1"] = False
    case["market"]["reserve_products"] = []
    case["gas_gen"]["units"] = 0
    return case


def run_energy_lp(case_json: str) -> dict:
    """Child process: dcpower's LP relaxation of the energy-only case, whole horizon."""
    sys.path.insert(0, str(ROOT))
    from dcpower.case import case_from_dict
    from dcpower.optimization import strategies
    from dcpower.runner import prepare_inputs

    case = case_from_dict(json.loads(case_json))
    x = prepare_inputs(case)
    opts = {"mip_rel_gap": case.solver.mip_rel_gap, "time_limit_s": 600.0, "threads": 1}
    report = strategies.solve_monolithic(x, opts, relax=True).report
    return {
        "dcpower_build_s": report.build_seconds,
        "dcpower_handoff_s": report.handoff_seconds,
        "dcpower_solve_s": report.solve_seconds - report.handoff_seconds,
        "dcpower_s": report.build_seconds + report.solve_seconds,
        "dcpower_rows": report.n_rows,
        "dcpower_columns": report.n_columns,
        "dcpower_objective": report.objective,
    }


def run_pypsa(case_json: str) -> dict:
    """Child process: the same LP in PyPSA (``pypsa_equivalent``)."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from pypsa_equivalent import solve_pypsa

    from dcpower.case import case_from_dict
    from dcpower.runner import prepare_inputs

    return solve_pypsa(prepare_inputs(case_from_dict(json.loads(case_json))))


def energy_lp_table(repeats: int) -> None:
    """Print the dcpower vs PyPSA table of the energy-only LP (medians of ``repeats``)."""
    case = energy_lp_case()
    runs = []
    for _ in range(repeats):
        run = _child("--one-energy-lp", case) | _child("--one-pypsa", case)
        run["ratio"] = run["dcpower_s"] / run["pypsa_s"]
        run["objective_diff"] = run["dcpower_objective"] - run["pypsa_objective"]
        runs.append(run)
        print(json.dumps(run), file=sys.stderr)
    cols = list(runs[0])
    print("| " + " | ".join(cols) + " | runs |")
    print("|---" * (len(cols) + 1) + "|")
    med = {c: statistics.median(r[c] for r in runs) for c in cols}
    print("| " + " | ".join(_cell(med[c]) for c in cols) + f" | {len(runs)} |", flush=True)


def _cell(v: float) -> str:
    return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.4g}"


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(case_json: str) -> dict:
    """Child process: solve the case (the scenario job); print one JSON line."""
    sys.path.insert(0, str(ROOT))
    from dcpower.case import case_from_dict
    from dcpower.runner import run_case

    case = case_from_dict(json.loads(case_json))
    t0 = time.perf_counter()
    res = run_case(case)
    wall = time.perf_counter() - t0
    s = res["solver"]
    total = s["build_seconds"] + s["solve_seconds"]
    return {
        "build_s": s["build_seconds"],
        "handoff_s": s["handoff_seconds"],
        "solve_s": s["solve_seconds"] - s["handoff_seconds"],
        "milp_s": total,
        "build_share": (s["build_seconds"] + s["handoff_seconds"]) / total,
        "objective": res["economics"]["net_value_usd"],
        "peak_rss_mb": _peak_rss_mb(),
        "wall_s": wall,
        "method": s["method"],
        "windows": s["windows"],
        "time_limited": s.get("windows_time_limited", 0),
        "window_gap_usd": s.get("window_gap_usd"),
        "violations": len(res["verification"]["violations"]),
    }


def run_lp(case_json: str) -> dict:
    """Child process: the LP relaxation of the whole-horizon model; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    from dcpower.case import case_from_dict
    from dcpower.optimization.bounds import lp_relaxation_bound
    from dcpower.runner import prepare_inputs

    lp = lp_relaxation_bound(prepare_inputs(case_from_dict(json.loads(case_json))))
    return {
        "lp_bound": lp.objective,
        "lp_s": lp.total_seconds,
        "lp_solve_s": lp.solve_seconds,
        "lp_peak_rss_mb": _peak_rss_mb(),
    }


def run_bound(case_json: str) -> dict:
    """Child process: the Lagrangian proven bound (LP with boundary prices + integer blocks of
    ``PROVEN_BOUND_BLOCK_DAYS``), as ``run_case(proven_bound=True)`` computes it."""
    sys.path.insert(0, str(ROOT))
    from dcpower.case import case_from_dict
    from dcpower.optimization import bounds
    from dcpower.runner import PROVEN_BOUND_BLOCK_DAYS, prepare_inputs

    case = case_from_dict(json.loads(case_json))
    x = prepare_inputs(case)
    opts = {"mip_rel_gap": case.solver.mip_rel_gap, "time_limit_s": case.solver.time_limit_s}
    block_steps = PROVEN_BOUND_BLOCK_DAYS * 24 * 60 // case.horizon.timestep_minutes
    pb = bounds.lagrangian_bound(x, opts | {"threads": 1}, block_steps)
    return {
        "proven_bound": pb.objective,
        "bound_s": pb.seconds,
        "bound_blocks_time_limited": pb.blocks_time_limited,
        "bound_peak_rss_mb": _peak_rss_mb(),
    }


def _child(flag: str, case: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, flag, json.dumps(case)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--horizons", nargs="+", default=list(HORIZONS), choices=list(HORIZONS))
    p.add_argument("--steps", nargs="+", type=int, default=[60, 15], choices=[60, 15])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--method", default="auto", choices=["auto", "monolithic", "rolling_horizon"])
    p.add_argument("--time-limit", type=float, default=60.0, help="per solve (window), s")
    p.add_argument("--mip-gap", type=float, default=0.005, help="relative gap per solve (window)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--one-lp", help=argparse.SUPPRESS)
    p.add_argument("--one-bound", help=argparse.SUPPRESS)
    p.add_argument("--one-energy-lp", help=argparse.SUPPRESS)
    p.add_argument("--one-pypsa", help=argparse.SUPPRESS)
    p.add_argument(
        "--energy-lp",
        action="store_true",
        help="only the 90-day energy-only LP against PyPSA (needs the bench extra)",
    )
    p.add_argument(
        "--proven-bound",
        action="store_true",
        help="also the Lagrangian proven bound (columns proven_bound, proven_gap, lp_over_proven)",
    )
    args = p.parse_args(argv)
    children = {  # child-process flags → what the child runs on the case JSON
        "one": run_one,
        "one_lp": run_lp,
        "one_bound": run_bound,
        "one_energy_lp": run_energy_lp,
        "one_pypsa": run_pypsa,
    }
    for flag, run in children.items():
        if getattr(args, flag):
            print(json.dumps(run(getattr(args, flag))))
            return 0
    if args.energy_lp:
        energy_lp_table(args.repeats)
        return 0
    cols = [
        "build_s",
        "handoff_s",
        "solve_s",
        "build_share",
        "objective",
        "lp_bound",
        "gap_to_lp",
        "peak_rss_mb",
        "time_limited",
        "lp_s",
        "lp_solve_s",
        "ratio_to_lp",
        "ratio_to_lp_solve",
    ]
    if args.proven_bound:
        cols += ["proven_bound", "proven_gap", "lp_over_proven", "bound_s"]
    print("| horizon | step | method | " + " | ".join(cols) + " | runs |")
    print("|---" * (len(cols) + 4) + "|")
    for step in args.steps:
        for horizon in args.horizons:
            case = bench_case(horizon, step, args.method, args.time_limit, args.mip_gap)
            runs = []
            for _ in range(args.repeats):
                run = _child("--one", case) | _child("--one-lp", case)
                if args.proven_bound:
                    run |= _child("--one-bound", case)
                    pb = run["proven_bound"]
                    run["proven_gap"] = (pb - run["objective"]) / abs(run["objective"])
                    run["lp_over_proven"] = (run["lp_bound"] - pb) / abs(pb)
                if run["violations"]:
                    raise SystemExit(f"{horizon}/{step}: {run['violations']} invariant violations")
                run["gap_to_lp"] = (run["lp_bound"] - run["objective"]) / abs(run["objective"])
                run["ratio_to_lp"] = run["milp_s"] / run["lp_s"]
                run["ratio_to_lp_solve"] = run["milp_s"] / run["lp_solve_s"]
                runs.append(run)
                print(json.dumps({"horizon": horizon, "step": step} | run), file=sys.stderr)
            med = {c: statistics.median(r[c] for r in runs) for c in cols}
            cells = [_cell(med[c]) for c in cols]
            print(
                f"| {horizon} | {step} | {runs[0]['method']} | "
                + " | ".join(cells)
                + f" | {len(runs)} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
