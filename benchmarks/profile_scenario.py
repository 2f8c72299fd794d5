"""Where one sizing-study scenario job spends its wall time (run by hand, never in CI).

Runs one scenario of a study config exactly as the workflow's ``solve_scenario`` rule does
(``dcpower.sweep.solve_scenario``: dispatch, marginal values, invariants, survival, summary)
and times its phases by wrapping the functions that do them. Wall seconds, one process; the
phases nest (``window solves`` holds HiGHS and the parameter push), so they do not add up.

    python benchmarks/profile_scenario.py [--config config/config.yaml] \
        [--sizes bess_mwh=200,gen_units=4,transformer_mva=160]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import defaultdict
from pathlib import Path

import yaml

from dcpower import sweep
from dcpower.optimization import (
    dispatch_milp,
    explain,
    extract,
    marginal,
    pruning,
    reactive,
    strategies,
)
from dcpower.optimization import solve as solve_mod
from dcpower.study import load_study_config

SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def timed(owner, name: str, label: str) -> None:
    """Wrap ``owner.name`` so that its wall time adds to ``SECONDS[label]``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SECONDS[label] += time.perf_counter() - t0
            CALLS[label] += 1

    setattr(owner, name, wrapper)


PHASES = [
    (strategies.WindowSolver, "__init__", "window model build + first compile"),
    (strategies.WindowSolver, "solve", "window solves (all rounds)"),
    (solve_mod.HighsSession, "_run", "  HiGHS run"),
    (solve_mod.HighsSession, "_pass_model", "  whole-model hand-over"),
    (solve_mod.HighsSession, "push_parameters", "  parameter push"),
    (solve_mod.HighsSession, "_load_solution", "  solution into Pyomo"),
    (dispatch_milp, "load_window_data", "  window data into parameters"),
    (reactive, "dispatch_reactive", "  reactive second stage"),
    (strategies.WindowSolver, "binding", "binding rows"),
    (explain, "binding_from_arrays", "  rows HiGHS holds (arrays)"),
    (explain, "binding_constraints", "  rows left out (Pyomo)"),
    (pruning, "polygon_binding", "  polygon_binding"),
    (extract, "dispatch_frame", "dispatch frame"),
    (extract, "electrical_frame", "electrical frame"),
    (marginal.MarginalValues, "add", "marginal values"),
    (strategies.WindowSolver, "fixed_integer_duals", "  fixed-integer LP duals"),
]


def split_runs_by_kind() -> None:
    """Add each ``HighsSession.solve``'s seconds to an LP or a MIP line (integer columns)."""
    original = solve_mod.HighsSession.solve

    def wrapper(self, *args, **kwargs):
        report = original(self, *args, **kwargs)
        label = "  HiGHS solves with integers" if report.n_integer else "  HiGHS LP solves"
        SECONDS[label] += report.solve_seconds
        CALLS[label] += 1
        return report

    solve_mod.HighsSession.solve = wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--sizes", default="bess_mwh=200,gen_units=4,transformer_mva=160")
    args = parser.parse_args()
    study = load_study_config(yaml.safe_load(args.config.read_text()))
    sizes: dict = {}
    for pair in args.sizes.split(","):
        key, value = pair.split("=")
        sizes[key] = float(value) if "." in value else int(value)
    for owner, name, label in PHASES:
        timed(owner, name, label)
    split_runs_by_kind()
    started = time.perf_counter()
    row, _, _ = sweep.solve_scenario(
        Path(study.study.base_case), sizes, study.scenario_settings(), data_dir=None
    )
    total = time.perf_counter() - started
    print(f"scenario {sizes}: {row['solver_status']}, net value {row.get('net_value_usd')}")
    print(f"{'phase':40s} {'wall s':>8s} {'share':>6s} {'calls':>6s}")
    for label in [label for _, _, label in PHASES] + sorted(
        k for k in SECONDS if k.startswith("  HiGHS solves") or k == "  HiGHS LP solves"
    ):
        print(f"{label:40s} {SECONDS[label]:8.2f} {SECONDS[label] / total:6.1%} {CALLS[label]:6d}")
    print(f"{'total (solve_scenario)':40s} {total:8.2f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
