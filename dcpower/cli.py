"""Command line: ``dcpower run|validate|schema [case|results]``.

Exit codes: 0 success; 2 bad input (case, market data, load file, an output path that cannot
be written or would overwrite an input) — nothing written; 3 infeasible case (message names the
conflicting constraint families and timesteps); 4 solver returned no solution; 130 interrupted
(Ctrl-C) — nothing written.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import threading
import webbrowser
from pathlib import Path
from typing import IO, Any

from dcpower import data_root
from dcpower.case import (
    Case,
    CaseError,
    case_json_schema,
    input_files,
    load_case,
    with_solver_overrides,
)
from dcpower.errors import (
    DcpowerError,
    InfeasibleError,
    InputError,
    InterruptedRunError,
    NoSolutionError,
)
from dcpower.results import describe_os_error, plan_outputs, write_output_set
from dcpower.results_model import results_json_schema
from dcpower.runner import input_problems, run_case

EXIT_OK = 0
EXIT_BAD_INPUT = InputError.exit_code  # 2
EXIT_INFEASIBLE = InfeasibleError.exit_code  # 3
EXIT_SOLVER = NoSolutionError.exit_code  # 4
EXIT_INTERRUPTED = InterruptedRunError.exit_code  # 130 = 128 + SIGINT, as shells report Ctrl-C


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dcpower", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="solve one case and write its results JSON")
    run.add_argument("case", type=Path, help="case JSON file")
    run.add_argument("--out", required=True, help="results JSON to write")
    run.add_argument("--parquet", help="folder for dispatch/electrical/binding Parquet")
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
    run.add_argument(
        "--marginal-values",
        action="store_true",
        help="also the $/yr value of +1 MVA transformer, +1 MWh / +1 MW BESS, +1 MW POI import "
        "and +1 MW gas from the duals of the LP with the integers fixed (one extra LP per "
        "window): section marginal_values",
    )
    run.add_argument("--mip-gap", type=float, help="override solver.mip_rel_gap")
    run.add_argument("--time-limit", type=float, help="override solver.time_limit_s, s")
    run.add_argument("--threads", type=int, help="override solver.threads")
    run.add_argument("--data-dir", help="ISO data folder (default: shipped data)")
    run.add_argument("-v", "--verbose", action="store_true")
    val = sub.add_parser(
        "validate",
        help="check a case file and its data (market prices, load file) and list every problem",
    )
    val.add_argument("case", type=Path)
    val.add_argument("--data-dir", help="ISO data folder (default: shipped data)")
    schema = sub.add_parser(
        "schema", help="print the JSON Schema of a case (default) or of a results document"
    )
    schema.add_argument(
        "document",
        nargs="?",
        choices=("case", "results"),
        default="case",
        help="case (default) or results",
    )
    ui = sub.add_parser("ui", help="start the Streamlit UI (needs the 'ui' extra)")
    ui.add_argument("--port", type=int, default=8501, help="server port (default 8501)")
    ui.add_argument("--headless", action="store_true", help="do not open a browser (servers, CI)")
    ui.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 exposes the "
        "UI to the network)",
    )
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

    # the app's own settings, whatever ~/.streamlit says: always headless (Streamlit's
    # first-run e-mail prompt only comes without it; the browser is opened here instead), no
    # usage statistics, the chosen address, no Deploy button
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    cmd += ["--server.port", str(args.port)]
    cmd += ["--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false"]
    cmd += ["--server.address", args.address]
    cmd += ["--client.toolbarMode", "minimal"]
    env = dict(os.environ)
    if args.case is not None:
        env[ENV_DEFAULT_CASE] = str(args.case.resolve())
    proc = subprocess.Popen(cmd, env=env)
    if not args.headless:
        host = "localhost" if args.address in ("127.0.0.1", "0.0.0.0") else args.address
        timer = threading.Timer(3.0, webbrowser.open, [f"http://{host}:{args.port}"])
        timer.daemon = True
        timer.start()
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Streamlit got the same Ctrl-C: let it shut down
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            return proc.wait()


def _inputs_of(case: Case, case_path: Path) -> list[tuple[str, Path]]:
    """Files a run reads, as (field, path): the case and every file field of the case
    (:func:`dcpower.case.input_files`); outputs must never be one of them."""
    return [("case", case_path), *input_files(case)]


#: options that need the integer model: with --relax-integrality (or solver.relax_integrality)
#: they would be dropped, so they are refused instead
_NEEDS_INTEGERS = (
    ("proven_bound", "--proven-bound"),
    ("marginal_values", "--marginal-values"),
    ("lp_bound", "--lp-bound"),
    ("mip_gap", "--mip-gap"),
)


def _option_conflicts(args: argparse.Namespace, case: Case) -> None:
    """Refuse options that cannot combine (nothing is silently dropped)."""
    if not (args.relax_integrality or case.solver.relax_integrality):
        return
    given = [
        opt
        for attr, opt in _NEEDS_INTEGERS
        if getattr(args, attr) is not None and getattr(args, attr) is not False
    ]
    if given:
        why = (
            "--relax-integrality"
            if args.relax_integrality
            else "the case's solver.relax_integrality true"
        )
        raise InputError(
            f"{', '.join(given)} cannot be combined with {why}: they are computed from the "
            "integer model (the relaxation is already its own LP bound, has no MIP gap and no "
            f"integer solution to price); fix: drop {' / '.join(given)} or the relaxation"
        )


def _data_dir_arg(value: str | None) -> Path | None:
    """``--data-dir`` as a Path: not empty, an existing folder when given."""
    if value is None:
        return None
    if value.strip() == "":
        raise InputError("--data-dir: empty path; fix: give the ISO data folder or leave it out")
    p = Path(value)
    try:
        is_dir = p.is_dir()
        exists = is_dir or p.exists()
    except OSError:  # e.g. a name too long for the file system
        raise InputError(f"--data-dir: {p} cannot be used (name too long?)") from None
    if not exists:
        raise InputError(f"--data-dir: {p} not found; fix: give an existing data folder")
    if not is_dir:
        raise InputError(f"--data-dir: {p} is a file, not a folder; fix: give the data folder")
    return p


#: control characters (C0, DEL, C1) and invisible direction/width marks: escaped, never sent
#: raw to the terminal (a file name or message could otherwise move the cursor or recolour it)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _say(text: str, file: IO[str] | None = None) -> None:
    """``print`` with control characters shown as escapes (``\\x1b``)."""
    print(_UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text), file=file)


def _print_problems(source: str, problems: list[tuple[str, str]]) -> None:
    _say(f"error: {CaseError(source, problems)}", file=sys.stderr)


class _Interrupt:
    """SIGINT → KeyboardInterrupt, remembered: a solver that swallows the interrupt and returns
    "no solution" is still reported as interrupted (exit 130), not as a solver failure."""

    def __init__(self) -> None:
        self.seen = False
        self._old: Any = None

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _interrupted(what: str) -> int:
    _say(f"interrupted: {what}; no output was written", file=sys.stderr)
    return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:

    with _Interrupt() as interrupt:
        try:
            data_dir = _data_dir_arg(args.data_dir)
            case = load_case(args.case)
            _option_conflicts(args, case)
            case = with_solver_overrides(
                case,
                str(args.case),
                mip_rel_gap=args.mip_gap,
                time_limit_s=args.time_limit,
                threads=args.threads,
            )
            plan = plan_outputs(
                args.out,
                args.parquet,
                _inputs_of(case, args.case),
                protected_dirs=[_market_data_dir(data_dir, case.market.iso)],
            )
            results = run_case(
                case,
                relax=True if args.relax_integrality else None,
                data_dir=data_dir,
                lp_bound=args.lp_bound,
                proven_bound=args.proven_bound,
                marginal_values=args.marginal_values,
            )
            if interrupt.seen:
                return _interrupted(str(args.case))
            write_output_set(results, plan)
        except KeyboardInterrupt:
            return _interrupted(str(args.case))
        except DcpowerError as exc:
            if isinstance(exc, NoSolutionError) and interrupt.seen:
                return _interrupted(str(args.case))  # the solver swallowed the Ctrl-C
            where = "" if isinstance(exc, InputError) else f"{args.case}: "
            _say(f"error: {where}{exc}", file=sys.stderr)
            return exc.exit_code
        except OSError as exc:
            _say(
                f"error: cannot write {describe_os_error(exc)}; nothing was changed",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
    for path in plan.removed_orphans:
        _say(f"note: removed {path}, left by an earlier run that was killed", file=sys.stderr)
    s, econ = results["solver"], results["economics"]
    _say(
        f"{case.name}: {s['status']} net value {econ['net_value_usd']:,.2f} $ "
        f"({_gap_text(s)}; build {s['build_seconds']:.2f} s, "
        f"solve {s['solve_seconds']:.2f} s; {s['n_rows']} rows, {s['n_columns']} columns, "
        f"{s['n_integer']} integer) → {args.out}"
    )
    for w in results.get("warnings", []):
        _say(f"warning: {w}", file=sys.stderr)
    for v in results["verification"]["violations"]:
        _say(f"warning: invariant violated: {v}", file=sys.stderr)
    return EXIT_OK


def _market_data_dir(data_dir: Path | None, iso: str) -> Path:
    """The market data folder a run must not overwrite: ``--data-dir`` or the case's ISO's
    shipped folder (``resources_data/<iso>``)."""
    return data_dir if data_dir is not None else data_root.shipped(iso.lower())


def _validate(args: argparse.Namespace) -> int:
    """The checks of `run` without the solve: schema, overrides, market data, load, precheck."""
    with _Interrupt():
        try:
            data_dir = _data_dir_arg(args.data_dir)
            case = load_case(args.case)
            problems = input_problems(case, data_dir)
        except KeyboardInterrupt:
            return _interrupted(str(args.case))
        except DcpowerError as exc:
            _say(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
    if problems:
        _print_problems(str(args.case), problems)
        return EXIT_BAD_INPUT
    _say(f"{args.case}: valid case {case.name!r} (market data and load cover the horizon)")
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
        if args.document == "results":
            print(json.dumps(results_json_schema(), indent=2))
        else:
            print(json.dumps(case_json_schema(), indent=2))
        return EXIT_OK
    if args.command == "ui":
        return _ui(args)
    if args.command == "validate":
        return _validate(args)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
