"""Command line: ``dcpower run|validate|schema``.

Exit codes: 0 success; 2 bad input (case, market data, load file) — nothing written;
3 infeasible case (message names the conflicting constraint families and timesteps);
4 solver returned no solution.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from dcpower.case import CaseError, case_json_schema, load_case
from dcpower.iso.base import MarketDataError
from dcpower.resources.load import LoadProfileError

EXIT_OK, EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER = 0, 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dcpower", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="solve one case and write its results JSON")
    run.add_argument("case", type=Path, help="case JSON file")
    run.add_argument("--out", type=Path, required=True, help="results JSON to write")
    run.add_argument("--parquet", type=Path, help="folder for dispatch/electrical/binding Parquet")
    run.add_argument(
        "--relax-integrality",
        action="store_true",
        help="solve the LP relaxation of the same model (bounds, measurement)",
    )
    run.add_argument(
        "--lp-bound",
        action="store_true",
        help="also solve the whole-horizon LP relaxation: lp_bound, gap_to_lp_bound",
    )
    run.add_argument(
        "--proven-bound",
        action="store_true",
        help="also prove a bound tighter than the LP (Lagrangian blocks priced by the LP's "
        "duals): lp_bound, proven_bound, proven_gap",
    )
    run.add_argument("--mip-gap", type=float, help="override solver.mip_rel_gap")
    run.add_argument("--time-limit", type=float, help="override solver.time_limit_s, s")
    run.add_argument("--threads", type=int, help="override solver.threads")
    run.add_argument("--data-dir", type=Path, help="ISO data folder (default: shipped data)")
    run.add_argument("-v", "--verbose", action="store_true")
    val = sub.add_parser("validate", help="check a case file and list every problem")
    val.add_argument("case", type=Path)
    sub.add_parser("schema", help="print the case JSON Schema")
    ui = sub.add_parser("ui", help="start the Streamlit UI (needs the 'ui' extra)")
    ui.add_argument("--port", type=int, default=8501, help="server port (default 8501)")
    ui.add_argument("--headless", action="store_true", help="do not open a browser (servers, CI)")
    ui.add_argument("--address", help="address to listen on (default: Streamlit's)")
    ui.add_argument("--case", type=Path, help="case file the Case page opens first")
    return p


def _ui(args: argparse.Namespace) -> int:
    """Run ``python -m streamlit run dcpower/ui/app.py`` with the chosen options."""
    import importlib.util
    import os
    import subprocess

    if importlib.util.find_spec("streamlit") is None:
        print("error: the UI needs Streamlit: pip install -e '.[ui]'", file=sys.stderr)
        return EXIT_BAD_INPUT
    from dcpower.ui import APP_PATH
    from dcpower.ui.state import ENV_DEFAULT_CASE

    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    cmd += ["--server.port", str(args.port)]
    cmd += ["--server.headless", "true" if args.headless else "false"]
    cmd += ["--browser.gatherUsageStats", "false"]
    if args.address:
        cmd += ["--server.address", args.address]
    env = dict(os.environ)
    if args.case is not None:
        env[ENV_DEFAULT_CASE] = str(args.case.resolve())
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Streamlit got the same Ctrl-C: let it shut down
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            return proc.wait()


def _run(args: argparse.Namespace) -> int:
    from dcpower.results import write_json_atomic, write_parquet_tables
    from dcpower.runner import InfeasibleCaseError, SolverFailedError, run_case

    try:
        case = load_case(args.case)
        results = run_case(
            case,
            relax=True if args.relax_integrality else None,
            mip_rel_gap=args.mip_gap,
            time_limit_s=args.time_limit,
            threads=args.threads,
            data_dir=args.data_dir,
            lp_bound=args.lp_bound,
            proven_bound=args.proven_bound,
        )
    except (CaseError, MarketDataError, LoadProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InfeasibleCaseError as exc:
        print(f"error: {args.case}: {exc}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except SolverFailedError as exc:
        print(f"error: {args.case}: {exc}", file=sys.stderr)
        return EXIT_SOLVER
    if args.parquet:
        write_parquet_tables(results, args.parquet)
    write_json_atomic(results, args.out)
    s, econ = results["solver"], results["economics"]
    print(
        f"{case.name}: {s['status']} net value {econ['net_value_usd']:,.2f} $ "
        f"({_gap_text(s)}; build {s['build_seconds']:.2f} s, "
        f"solve {s['solve_seconds']:.2f} s; {s['n_rows']} rows, {s['n_columns']} columns, "
        f"{s['n_integer']} integer) → {args.out}"
    )
    if s.get("warning"):
        print(f"warning: {s['warning']}", file=sys.stderr)
    for v in results["verification"]["violations"]:
        print(f"warning: invariant violated: {v}", file=sys.stderr)
    return EXIT_OK


def _gap_text(s: dict) -> str:
    """The gaps a solver section knows: the MIP's, else the largest window's; proven; to LP."""
    gap = s["mip_gap"] if s["mip_gap"] is not None else s.get("max_window_gap")
    parts = [f"{'gap' if s['mip_gap'] is not None else 'largest window gap'} {_pct(gap)}"]
    if s.get("proven_gap") is not None:
        parts.append(f"proven gap {_pct(s['proven_gap'])}")
    if s.get("gap_to_lp_bound") is not None:
        parts.append(f"to LP bound {_pct(s['gap_to_lp_bound'])}")
    return ", ".join(parts)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3%}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dcpower`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    if args.command == "schema":
        print(json.dumps(case_json_schema(), indent=2))
        return EXIT_OK
    if args.command == "ui":
        return _ui(args)
    if args.command == "validate":
        try:
            case = load_case(args.case)
        except CaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"{args.case}: valid case {case.name!r}")
        return EXIT_OK
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
