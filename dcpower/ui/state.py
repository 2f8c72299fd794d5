"""UI logic without Streamlit: case fields and edits, validation, runs, downloads and sweeps.

Everything here is plain Python on dicts, DataFrames and paths so it can be unit-tested; the
pages keep only widget layout and ``st.session_state`` bookkeeping.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from dcpower import columns, data_root, dimensions
from dcpower.case import Case, CaseError, case_from_dict, input_files, parse_json_text
from dcpower.errors import DcpowerError, InputError
from dcpower.filecheck import check_input_file
from dcpower.iso.base import get_adapter
from dcpower.pareto import frontier_flags
from dcpower.results import (
    ResultsFileError,
    load_results,
    parse_results_text,
    write_json_atomic,
    write_parquet_tables,
)

logger = logging.getLogger(__name__)

#: environment variable naming the case file the Case page opens first
ENV_DEFAULT_CASE = "DCPOWER_UI_DEFAULT_CASE"
#: environment variable naming the folder searched for sweep studies (default ``results``)
ENV_RESULTS_DIR = "DCPOWER_UI_RESULTS_DIR"
#: environment variable listing the folders the UI may read (``os.pathsep``-separated);
#: default: the project's ``config/`` and ``results/`` (plus the two folders above when set)
ENV_ROOTS = "DCPOWER_UI_ROOTS"
DEFAULT_CASE = Path("config") / "cases" / "example_ercot.json"
#: the largest JSON file the UI reads (a case or a results file)
MAX_JSON_BYTES = 200_000_000


# --------------------------------------------------------------------------- paths


def project_root() -> Path:
    """The folder relative paths start from: the working directory when it holds
    ``config/cases`` (a checkout), else the checkout this package lives in."""
    cwd = Path.cwd()
    if (cwd / "config" / "cases").is_dir():
        return cwd
    return Path(__file__).resolve().parents[2]


def _display(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def default_case_path() -> str:
    """Case file to open first: ``$DCPOWER_UI_DEFAULT_CASE`` or the shipped example."""
    env = os.environ.get(ENV_DEFAULT_CASE, "").strip()
    if env:
        return env
    return _display(project_root() / DEFAULT_CASE)


def list_case_files(root: Path | None = None) -> list[str]:
    """``config/cases/*.json`` below ``root`` (default :func:`project_root`), sorted."""
    folder = (root or project_root()) / "config" / "cases"
    return [_display(p) for p in sorted(folder.glob("*.json"))]


def results_root() -> Path:
    """Folder searched for sweep studies: ``$DCPOWER_UI_RESULTS_DIR`` or ``results/``."""
    env = os.environ.get(ENV_RESULTS_DIR, "").strip()
    return Path(env) if env else project_root() / "results"


def allowed_roots() -> list[Path]:
    """Folders whose files the UI may open: ``$DCPOWER_UI_ROOTS``, else the project's
    ``config/`` and ``results/``, the results folder and the default case's folder as set by
    the operator (``dcpower ui --case``)."""
    env = os.environ.get(ENV_ROOTS, "").strip()
    if env:
        roots = [Path(p) for p in env.split(os.pathsep) if p.strip()]
    else:
        root = project_root()
        roots = [root / "config", root / "results", results_root()]
        case_env = os.environ.get(ENV_DEFAULT_CASE, "").strip()
        if case_env:
            roots.append(Path(case_env).parent)
    return [r.resolve() for r in roots]


def data_roots() -> list[Path]:
    """Folders a case opened in the UI may take price/load files from: the allowed roots and
    the shipped market data."""
    return [*allowed_roots(), data_root.SHIPPED_DATA_DIR]


class OutsideRootError(ValueError):
    """A path the UI was asked to open lies outside the folders it may read."""


def check_allowed(path: str | Path, roots: list[Path] | None = None) -> Path:
    """``path`` resolved (symlinks followed); OutsideRootError unless it lies in a root."""
    roots = allowed_roots() if roots is None else roots
    p = Path(str(path).strip()).expanduser()
    resolved = (project_root() / p if not p.is_absolute() else p).resolve()
    if any(resolved == r or r in resolved.parents for r in roots):
        return resolved
    shown = ", ".join(_display(r) for r in roots)
    raise OutsideRootError(
        f"{p}: outside the folders this UI may open ({shown}); fix: copy the file into one of "
        f"them, upload it, or start the UI with {ENV_ROOTS} set"
    )


# --------------------------------------------------------------------------- case fields

FieldKind = Literal["float", "int", "date", "choice"]

SECTIONS = {
    "horizon": "Horizon",
    "bess": "Battery (BESS)",
    "gas_gen": "Gas units",
    "poi": "Grid connection (POI)",
    "transformer": "Transformer",
    "reliability": "Reliability",
    "solver": "Solver",
}


@dataclass(frozen=True)
class FieldSpec:
    """One editable case field: dotted JSON path, label with unit, widget kind."""

    path: str
    label: str
    kind: FieldKind = "float"
    step: float | None = None
    fmt: str | None = None
    options: tuple[Any, ...] = ()
    help: str | None = None

    @property
    def section(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def json_path(self) -> str:
        return "$." + self.path

    @property
    def key(self) -> str:
        """Widget key in ``st.session_state``."""
        return "field:" + self.path


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("horizon.start", "Start (local date, inclusive)", "date"),
    FieldSpec("horizon.end", "End (local date, exclusive)", "date"),
    FieldSpec("horizon.timestep_minutes", "Timestep (min)", "choice", options=(5, 15, 30, 60)),
    FieldSpec("bess.power_mw", "BESS power (MW)", step=5.0),
    FieldSpec("bess.energy_mwh", "BESS energy (MWh)", step=10.0),
    FieldSpec("bess.pcs_mva", "PCS rating (MVA)", step=5.0, help="must be ≥ BESS power"),
    FieldSpec("gas_gen.units", "Gas units", "int", step=1),
    FieldSpec("gas_gen.unit_mw", "Unit size (MW)", step=1.0),
    FieldSpec("poi.import_limit_mw", "POI import limit (MW)", step=5.0),
    FieldSpec("poi.export_limit_mw", "POI export limit (MW)", step=5.0),
    FieldSpec("transformer.rating_mva", "Transformer rating (MVA)", step=5.0),
    FieldSpec("reliability.voll_critical_usd_per_mwh", "VoLL critical ($/MWh)", step=1000.0),
    FieldSpec("solver.mip_rel_gap", "MIP relative gap (-)", step=0.001, fmt="%g"),
    FieldSpec("solver.time_limit_s", "Time limit (s)", step=10.0),
)
FIELDS_BY_PATH = {f.path: f for f in FIELDS}


def get_path(data: dict[str, Any], dotted: str) -> Any:
    """Value at a dotted path of a nested dict, ``None`` when any level is missing."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted path (creating sections); ``value=None`` removes the key."""
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def to_widget(spec: FieldSpec, raw: Any) -> Any:
    """JSON value → widget value (``None`` when missing or not representable)."""
    if raw is None or isinstance(raw, bool):
        return None
    # the strict schema takes no "4" for 4 nor 4.0 for an integer: such a value is left out of
    # the form (the file's value is kept), so the form is validated exactly as the CLI reads it
    if spec.kind == "int" and not isinstance(raw, int):
        return None
    if spec.kind == "float" and not isinstance(raw, int | float):
        return None
    try:
        if spec.kind == "date":
            return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        if spec.kind == "int":
            return raw
        if spec.kind == "choice":
            return int(raw) if isinstance(raw, int | float) and float(raw) == int(raw) else raw
        return float(raw)
    except (TypeError, ValueError):
        return None


def to_json(spec: FieldSpec, value: Any) -> Any:
    """Widget value → JSON value of the case file."""
    if value is None:
        return None
    if spec.kind == "date":
        return value.isoformat()
    return value


def choice_options(spec: FieldSpec, current: Any) -> list[Any]:
    """Options of a choice field, plus the file's value when it is not one of them (so its
    validation error can be shown instead of silently replacing it)."""
    opts = list(spec.options)
    if current is not None and current not in opts:
        opts.append(current)
    return opts


def field_values(data: dict[str, Any]) -> dict[str, Any]:
    """Widget values of every field of a case dict."""
    return {f.path: to_widget(f, get_path(data, f.path)) for f in FIELDS}


def apply_edits(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with the edited field values; an empty field removes the key.

    A file value no widget can show (e.g. ``"start": "soon"``, ``"units": 2.5``) leaves its
    field empty; while it stays empty the file's value is kept, so validation reports it.
    """
    data = copy.deepcopy(base)
    for path, value in values.items():
        spec = FIELDS_BY_PATH[path]
        raw = get_path(base, path)
        if value is None and raw is not None and to_widget(spec, raw) is None:
            continue
        set_path(data, path, to_json(spec, value))
    return data


def read_case_file(path: str | Path) -> dict[str, Any]:
    """Raw JSON object of a case file; CaseError when missing, unreadable or not an object.

    Schema problems are not raised here: the form shows them next to their fields.
    """
    p = Path(str(path).strip())
    if not str(path).strip():
        raise CaseError("<empty path>", [("$", "no case file given; fix: enter a path")])
    try:
        resolved = check_allowed(p)
    except OutsideRootError as exc:
        raise CaseError(str(p), [("$", str(exc).removeprefix(f"{p}: "))]) from None
    if not resolved.is_file():
        raise CaseError(str(p), [("$", "file not found; fix: check the path")])
    try:
        raw = resolved.read_bytes()
    except OSError as exc:
        raise CaseError(str(p), [("$", f"cannot read the file ({exc.strerror})")]) from None
    return parse_case_bytes(raw, str(p))


def parse_case_bytes(raw: bytes, source: str) -> dict[str, Any]:
    """The JSON object of a case file's bytes (a path or an upload); CaseError otherwise.
    Strict JSON as for ``dcpower run``: UTF-8, no duplicate keys."""
    data = parse_json_text(raw, source)
    if not isinstance(data, dict):
        raise CaseError(source, [("$", "a case must be a JSON object")])
    return data


def validate(
    data: dict[str, Any], source: str, base_dir: Path | None
) -> tuple[Case | None, list[tuple[str, str]]]:
    """Validate a case dict with the case schema: (case, []) or (None, problems).

    Messages never echo the file's values. Data files (price, load) must lie in
    :func:`data_roots`: the UI reads nothing else.
    """
    try:
        case = case_from_dict(
            data, source=source, base_dir=base_dir or project_root(), echo_input=False
        )
    except CaseError as exc:
        return None, list(exc.problems)
    problems = []
    # every file field of the case (the schema's own list), checked after resolving links
    for field_name, value in input_files(case):
        try:
            check_allowed(value, data_roots())
        except OutsideRootError:
            problems.append(
                (
                    f"$.{field_name}",
                    "outside the folders this UI may read; fix: put the file under "
                    "config/, results/ or resources_data/",
                )
            )
    return (None, problems) if problems else (case, [])


@dataclass
class Problems:
    """Validation problems sorted to where the form shows them."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    by_section: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            sum(map(len, self.by_field.values()))
            + sum(map(len, self.by_section.values()))
            + len(self.other)
        )


def sort_problems(problems: list[tuple[str, str]]) -> Problems:
    """Map CaseError problems (json path, message) to a form field, its section, or neither.

    ``$.bess.energy_mwh`` goes under that field; ``$.bess`` (a cross-field check) or a
    non-editable ``$.bess.soc_min_fraction`` under the BESS section; the rest (e.g. ``$.load``)
    to the general list. Messages keep their JSON path.
    """
    out = Problems()
    for path, msg in problems:
        dotted = re.sub(r"\[\d+\]", "", path.removeprefix("$").lstrip("."))
        text = f"`{path}`: {msg}"
        if dotted in FIELDS_BY_PATH:
            out.by_field.setdefault(dotted, []).append(text)
        elif dotted.split(".", 1)[0] in SECTIONS:
            out.by_section.setdefault(dotted.split(".", 1)[0], []).append(text)
        else:
            out.other.append(text)
    return out


# --------------------------------------------------------------------------- runs


@dataclass
class RunOutcome:
    """Result of one Run MILP click: results on success, else a kind and a message."""

    results: dict[str, Any] | None = None
    error: str | None = None
    kind: Literal["ok", "input", "infeasible", "solver", "unexpected"] = "ok"
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.results is not None


ERROR_TITLES = {
    "bad_input": "Bad input",
    "infeasible": "Infeasible case",
    "no_solution": "Solver returned no solution",
    "interrupted": "Interrupted",
    "unexpected": "Unexpected error",
}


def run(case: Case, runner: Callable[..., dict[str, Any]] | None = None) -> RunOutcome:
    """Solve ``case`` with :func:`dcpower.runner.run_case` (or ``runner``); never raises: a
    documented failure keeps its kind (``dcpower.errors``), anything else is "unexpected"."""
    # the runner loads the model layer (Pyomo): imported on use, so the page opens without it
    from dcpower.runner import run_case

    solve = runner or run_case
    try:
        return RunOutcome(results=solve(case))
    except CaseError as exc:
        lines = [f"{p}: {m}" for p, m in exc.problems]
        return RunOutcome(error="\n".join(lines), kind=exc.kind, problems=list(exc.problems))
    except DcpowerError as exc:
        return RunOutcome(error=str(exc), kind=exc.kind)
    except Exception as exc:  # the page must survive anything; the log keeps the traceback
        logger.exception("run failed")
        return RunOutcome(
            error=f"{type(exc).__name__} (details in the server log): {str(exc)[:200]}",
            kind="unexpected",
        )


def _fmt_gap(gap: Any) -> str:
    return "n/a" if gap is None else f"{100 * float(gap):.3f} %"


def achieved_gap(solver: dict[str, Any]) -> float | None:
    """The relative gap a solve achieved: the MILP's, else the worst window's (rolling)."""
    gap = solver.get("mip_gap")
    return gap if gap is not None else solver.get("max_window_gap")


def compact_number(value: float | None, unit: str = "") -> str:
    """A number short enough for a metric tile, e.g. ``−8.73 M$``, ``512 k$``, ``1.23 GWh``:
    ``unit`` after a k, M, G or T prefix, three significant digits; "n/a" for None/NaN."""
    if value is None or not np.isfinite(float(value)):
        return "n/a"
    v = float(value)
    sign = "−" if v < 0 else ""
    a = abs(v)
    prefix = ""
    for factor, name in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if round(a, 2) >= factor * 0.9995:  # 999.6 k is shown as 1.00 M
            a, prefix = a / factor, name
            break
    digits = 0 if a >= 99.95 else 1 if a >= 9.995 else 2
    if not prefix and float(a).is_integer():
        digits = 0
    return f"{sign}{a:,.{digits}f} {prefix}{unit}".rstrip()


#: short words for the solver statuses of ``dcpower.optimization.solve.SolveStatus``
STATUS_WORDS = {
    "optimal": "optimal",
    "feasible_above_requested_gap": "above gap",
    "time_limit_feasible": "time limit",
}


@dataclass(frozen=True)
class Metric:
    """A headline tile: its label, a short value that fits, and the full value (on hover)."""

    label: str
    value: str
    full: str


def headline_metrics(results: dict[str, Any]) -> list[Metric]:
    """Headline tiles of a results dict: compact values, the full text for the tooltip."""
    s, econ = results["solver"], results["economics"]
    served = econ.get("energy_mwh", {}).get("load_served_mwh")
    status = str(s["status"])
    gap = achieved_gap(s)
    gap_label = "MIP gap" if s.get("mip_gap") is not None else "Worst window gap"
    requested = s.get("mip_rel_gap_requested")
    net = float(econ["net_value_usd"])
    return [
        Metric("Solver status", STATUS_WORDS.get(status, status), status),
        Metric("Net value", compact_number(net, "$"), f"{net:,.2f} $"),
        Metric(
            gap_label,
            _fmt_gap(gap),
            f"{_fmt_gap(gap)} achieved"
            + (f"; {_fmt_gap(requested)} requested" if requested is not None else ""),
        ),
        Metric(
            "Solve time",
            f"{s.get('solve_seconds', 0.0):.2f} s",
            f"{s.get('solve_seconds', 0.0):.3f} s",
        ),
        Metric(
            "Load served",
            "n/a" if served is None else compact_number(float(served) * 1e6, "Wh"),
            "n/a" if served is None else f"{served:,.3f} MWh",
        ),
    ]


def solver_line(results: dict[str, Any]) -> str:
    """One line: status, gap, solve and wall time, e.g. ``optimal · gap 0.022 % · …``."""
    s = results["solver"]
    return (
        f"{s['status']} · gap {_fmt_gap(achieved_gap(s))} · "
        f"build {s.get('build_seconds', 0.0):.2f} s · solve {s.get('solve_seconds', 0.0):.2f} s"
        f" · wall {s.get('wall_seconds', 0.0):.2f} s"
    )


def headline(results: dict[str, Any]) -> dict[str, str]:
    """Headline metrics (label → text) of a results dict."""
    s, econ = results["solver"], results["economics"]
    served = econ.get("energy_mwh", {}).get("load_served_mwh")
    return {
        "Solver status": str(s["status"]),
        "Net value": f"{econ['net_value_usd']:,.0f} $",
        "MIP gap": _fmt_gap(achieved_gap(s)),
        "Solve time": f"{s.get('solve_seconds', 0.0):.2f} s",
        "Load served": "n/a" if served is None else f"{served:,.0f} MWh",
    }


def results_json_bytes(results: dict[str, Any]) -> bytes:
    """The results document exactly as ``dcpower run --out`` writes it."""
    with tempfile.TemporaryDirectory(prefix="dcpower-ui-") as tmp:
        path = Path(tmp) / "results.json"
        write_json_atomic(results, path)
        return path.read_bytes()


def parquet_zip_bytes(results: dict[str, Any]) -> bytes:
    """Zip of dispatch/electrical/binding Parquet (``write_parquet_tables``)."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="dcpower-ui-") as tmp:
        paths = write_parquet_tables(results, tmp)
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for p in paths:
                zf.write(p, arcname=p.name)
    return buf.getvalue()


def load_results_file(path: str | Path) -> dict[str, Any]:
    """A results JSON written by ``dcpower run``, validated against the results contract
    (schema version first); ValueError with a clear message otherwise."""
    p = Path(str(path).strip())
    resolved = check_allowed(p)
    try:
        check_input_file(resolved, "results file")
    except InputError as exc:
        raise ValueError(str(exc).replace(": not found;", ": file not found;")) from None
    if resolved.stat().st_size > MAX_JSON_BYTES:
        raise ValueError(f"{p}: larger than {MAX_JSON_BYTES} bytes; not a results file")
    try:
        return load_results(resolved)
    except ResultsFileError as exc:
        raise ValueError(str(exc).replace(str(resolved), str(p), 1)) from None


def parse_results_upload(name: str, data: bytes) -> dict[str, Any]:
    """An uploaded results JSON, validated like :func:`load_results_file`."""
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"{name}: larger than {MAX_JSON_BYTES} bytes; not a results file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text; not a results file") from None
    return parse_results_text(text, name)


# --------------------------------------------------------------------------- sweeps


class SweepError(ValueError):
    """A sweep folder is missing or incomplete; the message says what to do."""


SIZE_COLUMNS = list(dimensions.NAMES)
TABLE_COLUMNS = [
    "scenario",
    *SIZE_COLUMNS,
    "annual_total_cost_usd",
    "annualised_capex_usd",
    "fixed_om_usd",
    "net_operating_value_usd",
    "unserved_critical_mwh",
    "pareto",
    "solver_status",
    "solver_gap",
    "wall_seconds",
]


def find_sweeps(root: Path | None = None, max_depth: int = 3) -> list[str]:
    """Folders up to ``max_depth`` below ``root`` that hold a ``summary.parquet``."""
    root = root or results_root()
    if not root.is_dir():
        return []
    found = []
    for depth in range(max_depth):
        pattern = "/".join(["*"] * (depth + 1)) + "/summary.parquet"
        found += [_display(p.parent) for p in root.glob(pattern) if "scenarios" not in p.parts]
    if (root / "summary.parquet").is_file():
        found.append(_display(root))
    return sorted(set(found))


def survival_metrics(summary: pd.DataFrame) -> list[str]:
    """``survival_prob_<d>h`` columns ordered by duration."""
    return columns.survival_columns(summary)


def default_metric(metrics: list[str]) -> str | None:
    """The workflow's default frontier metric when present, else the shortest outage."""
    if "survival_prob_8h" in metrics:
        return "survival_prob_8h"
    return metrics[0] if metrics else None


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """``summary.parquet`` of a study folder, checked for the columns the page needs."""
    text = str(folder).strip()
    if not text:
        raise SweepError("no sweep folder given; fix: pick a study folder or enter its path")
    try:
        p = check_allowed(text)
    except OutsideRootError as exc:
        raise SweepError(str(exc)) from None
    if not p.is_dir():
        raise SweepError(f"{text}: folder not found; fix: check the path (e.g. results/<study>)")
    summary_path = p / "summary.parquet"
    try:  # a link inside an allowed folder must not lead outside the roots
        check_allowed(summary_path)
    except OutsideRootError as exc:
        raise SweepError(str(exc)) from None
    if not summary_path.is_file():
        raise SweepError(
            f"{p}: no summary.parquet; fix: run the sweep (`snakemake …`) until its aggregate "
            "step has written results/<study>/summary.parquet, or pick another folder"
        )
    try:
        summary = pd.read_parquet(summary_path)
    except Exception as exc:
        raise SweepError(f"{summary_path}: unreadable Parquet ({exc})") from None
    missing = [c for c in ("scenario", "annual_total_cost_usd") if c not in summary.columns]
    if missing:
        raise SweepError(f"{summary_path}: missing column(s) {', '.join(missing)}")
    if not survival_metrics(summary):
        raise SweepError(f"{summary_path}: no survival_prob_<d>h column to plot against")
    if summary.empty:
        raise SweepError(f"{summary_path}: no scenarios")
    return summary


def sweep_reserve_products(folder: str | Path) -> dict[str, dict[str, Any]]:
    """Reserve products of a study (name → ``{"direction": "up" | "down"}``) from its ISO
    adapter's catalogue; the ISO is the one its retrieved prices name
    (``prices/prices_<year>.json``). Empty when unknown: the reserve chart then draws every
    award above zero and says so."""
    isos = set()
    for path in sorted((Path(folder) / "prices").glob("prices_*.json")):
        try:
            isos.add(json.loads(path.read_text(encoding="utf-8"))["provenance"]["iso"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if len(isos) != 1:
        return {}
    try:
        catalogue = get_adapter(isos.pop()).reserve_catalogue()
    except Exception:  # an ISO this installation does not know: directions unknown
        return {}
    return {name: {"direction": p.direction} for name, p in catalogue.items()}


def with_frontier(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Copy with ``frontier`` = Pareto-efficient for (annual total cost, ``metric``), flagged
    within each market year, event and policy as ``summary.parquet``'s ``pareto``."""
    out = summary.copy()
    out["frontier"] = frontier_flags(out, metric)
    return out


def scenario_table(
    summary: pd.DataFrame,
    sort_by: str,
    ascending: bool,
    all_columns: bool = False,
    metric: str | None = None,
) -> pd.DataFrame:
    """Scenarios sorted by ``sort_by``; the main columns unless ``all_columns``.

    Led by the size, then the cost with its interval (lower bound, ties) and ``metric`` (the
    chosen reliability metric) with why it is what it is; the scenario name comes last."""
    metrics = columns.survival_columns(summary, statistic=None)
    lead = [
        *SIZE_COLUMNS,
        "annual_total_cost_usd",
        "annual_total_cost_lower_bound_usd",
        *([metric] if metric else []),
        "tied_with",
        "reliability_limited_by",
        "frontier",
    ]
    if all_columns:
        wanted = [*lead, *summary.columns]
    else:
        head = 1 + len(SIZE_COLUMNS)  # scenario and the dimensions
        wanted = [*lead, *metrics, *TABLE_COLUMNS[head:], "scenario"]
    cols = [c for c in dict.fromkeys(wanted) if c in summary.columns and c != "scenario"]
    cols.append("scenario")
    return (
        summary[cols]
        .sort_values(sort_by, ascending=ascending, kind="stable", na_position="last")
        .reset_index(drop=True)
    )


def sortable_columns(summary: pd.DataFrame) -> list[str]:
    """Numeric and boolean columns (the metrics a table can be sorted by)."""
    return [
        c
        for c in summary.columns
        if pd.api.types.is_numeric_dtype(summary[c]) or pd.api.types.is_bool_dtype(summary[c])
    ]


def scenario_dispatch_path(folder: str | Path, scenario: str) -> Path:
    """``<folder>/scenarios/<scenario>/dispatch.parquet`` (no escaping the folder)."""
    base = (Path(folder) / "scenarios").resolve()
    path = (base / scenario / "dispatch.parquet").resolve()
    if base not in path.parents:
        raise SweepError(f"{scenario!r} is not a scenario path under {base}")
    return path


def load_scenario_dispatch(folder: str | Path, scenario: str) -> pd.DataFrame:
    """A scenario's dispatch table with a UTC DatetimeIndex."""
    path = scenario_dispatch_path(folder, scenario)
    try:
        check_allowed(path)
    except OutsideRootError as exc:
        raise SweepError(str(exc)) from None
    if not path.is_file():
        raise SweepError(
            f"{path}: no dispatch.parquet for scenario {scenario}; fix: re-run its "
            "solve_scenario job"
        )
    df = pd.read_parquet(path)
    if not isinstance(df.index, pd.DatetimeIndex):
        if "timestamp" not in df.columns:
            raise SweepError(f"{path}: no timestamp index or column")
        df = df.set_index(pd.DatetimeIndex(pd.to_datetime(df.pop("timestamp"), utc=True)))
    if df.index.tz is None:
        df.index = df.index.tz_localize("UTC")
    return df


#: horizons of at least this many days get a day-range slider instead of all steps at once
LONG_HORIZON_DAYS = 14


def time_window(index: pd.DatetimeIndex, max_days: int = 14) -> tuple[date, date]:
    """Default (first, last) day shown of a long dispatch: at most ``max_days`` days."""
    first, last = index.min().date(), index.max().date()
    if (last - first).days >= max_days:
        last = date.fromordinal(first.toordinal() + max_days - 1)
    return first, last
