"""What the AC screening adds to a full year's run (run by hand, never in CI).

Solves one case once (``dcpower.runner.run_case``; its time includes one screening;
pandapower is already imported), then, in the same process, repeats the screening on the solved
tables, and times ``import pandapower`` in fresh interpreters that first import what a run
imports (a run pays it once; nothing else of a run loads scipy or matplotlib, pandapower does).
Wall and CPU seconds (``time.process_time``: HiGHS runs in-process with one thread, so CPU is
the fair measure on a shared machine); medians of ``--repeats``. The share the screening adds
to the run without it:

    added = screening median + import median
    share = added / (run − screening inside the run)

    nice -n 5 python benchmarks/ac_screening_year.py \
        [--case config/cases/sweep_base_ercot_2024.json] [--repeats 5] [--run-repeats 3] \
        [--steps 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from dcpower import columns
from dcpower.case import case_from_dict
from dcpower.results import records_to_frame
from dcpower.runner import run_case
from dcpower.topology import ac_screening

ROOT = Path(__file__).resolve().parents[1]


IMPORT_CODE = """
import time
import dcpower.runner, dcpower.results, dcpower.economics, dcpower.invariants
import dcpower.optimization.strategies, dcpower.topology.deployment
t, c = time.perf_counter(), time.process_time()
import pandapower
print(time.perf_counter() - t, time.process_time() - c)
"""


def import_seconds(repeats: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of ``import pandapower`` in fresh interpreters, after a run's imports."""
    out = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_CODE], capture_output=True, text=True, check=True
        )
        wall, cpu = done.stdout.split()[-2:]
        out.append((float(wall), float(cpu)))
    return out


def _line(label: str, pairs: list[tuple[float, float]]) -> tuple[float, float]:
    wall = statistics.median(w for w, _ in pairs)
    cpu = statistics.median(c for _, c in pairs)
    every = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in pairs)
    print(f"{label:<52} {wall:8.2f} {cpu:8.2f}   (wall/CPU each: {every})")
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", type=Path, default=ROOT / "config/cases/sweep_base_ercot_2024.json")
    ap.add_argument("--repeats", type=int, default=5, help="screenings and imports timed")
    ap.add_argument("--run-repeats", type=int, default=3, help="year runs timed")
    ap.add_argument("--steps", type=int, default=None, help="timestep minutes (default: case)")
    args = ap.parse_args()
    data = json.loads(args.case.read_text())
    if args.steps:
        data["horizon"]["timestep_minutes"] = args.steps
    case_path = args.case.resolve()
    os.chdir(case_path.parent)  # relative data paths resolve against the case's folder
    case = case_from_dict(data)

    runs, in_runs = [], []
    for _ in range(args.run_repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_case(case)
        runs.append((time.perf_counter() - t0, time.process_time() - c0))
        in_runs.append(res["ac_screening"]["wall_seconds"])

    dispatch = records_to_frame(res["dispatch"])
    electrical = records_to_frame(res["electrical"]).drop(columns=[*columns.AC_COLUMNS])
    products = res["market"]["reserve_products"]
    stamps = pd.DatetimeIndex(dispatch.index)
    times = []
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        ac_screening.screen(case, dispatch, electrical, products, stamps)
        times.append((time.perf_counter() - t, time.process_time() - c))
    s = res["ac_screening"]
    in_run = statistics.median(in_runs)
    print(
        f"case {case.name}: {res['horizon']['n_steps']} steps of "
        f"{res['horizon']['timestep_minutes']} min; seconds            wall      CPU"
    )
    run = _line(f"run (screening included), median of {args.run_repeats}", runs)
    screen_med = _line(f"screening, median of {args.repeats}", times)
    import_med = _line(
        f"import pandapower after a run's imports, median of {args.repeats}",
        import_seconds(args.repeats),
    )
    print(f"screening inside the run, median: {in_run:.2f} s wall")
    print(
        f"steps screened {s['steps_screened']} (near a limit {s['steps_near_limit']}, "
        f"extremes {s['steps_extreme']}), AC points solved {s['points_solved']}, "
        f"outside band {s['steps_outside_band']}"
    )
    for k, label in ((0, "wall"), (1, "CPU")):
        added = screen_med[k] + import_med[k]
        base = run[k] - (in_run if k == 0 else screen_med[1])
        print(
            f"added ({label}) {added:.2f} s = {added / base:.1%} of the run without it "
            f"({base:.2f} s)"
        )


if __name__ == "__main__":
    main()
