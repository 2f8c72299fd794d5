"""What the AC screening adds to a full year's run (run by hand, never in CI).

Solves one case once (``dcpower.runner.run_case``: its wall time includes one screening;
pandapower is already imported), then, in the same process, repeats the screening on the solved
tables and times ``import pandapower`` in fresh interpreters (a run pays it once). Prints
medians (s) and the share the screening adds to the run without it:

    added = screening median + import median
    share = added / (run wall − screening inside the run)

    nice -n 5 python benchmarks/ac_screening_year.py \
        [--case config/cases/sweep_base_ercot_2024.json] [--repeats 5] [--steps 60]
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

from dcpower.case import case_from_dict
from dcpower.results import records_to_frame
from dcpower.runner import run_case
from dcpower.topology import ac_screening

ROOT = Path(__file__).resolve().parents[1]


def import_seconds(repeats: int) -> list[float]:
    """Wall seconds of ``import pandapower`` in fresh interpreters."""
    code = "import time; t = time.perf_counter(); import pandapower; print(time.perf_counter() - t)"
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout.split()[-1]
        )
        for _ in range(repeats)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", type=Path, default=ROOT / "config/cases/sweep_base_ercot_2024.json")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=None, help="timestep minutes (default: case)")
    args = ap.parse_args()
    data = json.loads(args.case.read_text())
    if args.steps:
        data["horizon"]["timestep_minutes"] = args.steps
    case_path = args.case.resolve()
    os.chdir(case_path.parent)  # relative data paths resolve against the case's folder
    case = case_from_dict(data)

    t0 = time.perf_counter()
    res = run_case(case)
    run_wall = time.perf_counter() - t0
    in_run = res["ac_screening"]["wall_seconds"]

    dispatch = records_to_frame(res["dispatch"])
    electrical = records_to_frame(res["electrical"]).drop(
        columns=[
            "ac_point",
            "poi_voltage_pu",
            "mv_bus_voltage_pu",
            "transformer_ac_loading_pct",
            "transformer_losses_mw",
        ]
    )
    products = res["market"]["reserve_products"]
    stamps = pd.DatetimeIndex(dispatch.index)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        ac_screening.screen(case, dispatch, electrical, products, stamps)
        times.append(time.perf_counter() - t)
    imports = import_seconds(args.repeats)
    screen_med, import_med = statistics.median(times), statistics.median(imports)
    base = run_wall - in_run
    s = res["ac_screening"]
    print(
        f"case {case.name}: {res['horizon']['n_steps']} steps of "
        f"{res['horizon']['timestep_minutes']} min"
    )
    print(f"run wall (one run, screening included)           {run_wall:9.2f} s")
    print(f"screening inside the run                          {in_run:9.2f} s")
    print(
        f"screening, median of {args.repeats}                           {screen_med:9.2f} s"
        f"  (all: {', '.join(f'{x:.2f}' for x in times)})"
    )
    print(
        f"import pandapower, median of {args.repeats} fresh processes     {import_med:9.2f} s"
        f"  (all: {', '.join(f'{x:.2f}' for x in imports)})"
    )
    print(
        f"steps screened {s['steps_screened']} (near a limit {s['steps_near_limit']}, "
        f"extremes {s['steps_extreme']}), AC points solved {s['points_solved']}, "
        f"outside band {s['steps_outside_band']}"
    )
    print(
        f"added {screen_med + import_med:.2f} s = {(screen_med + import_med) / base:.1%} "
        f"of the run without it ({base:.2f} s)"
    )


if __name__ == "__main__":
    main()
