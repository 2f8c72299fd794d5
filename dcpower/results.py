"""Typed results of one dispatch → a JSON-serialisable dict and Parquet tables.

Sections: ``case`` (validated input echoed), ``market`` (data provenance), ``solver``,
``dispatch`` and ``electrical`` (one record per timestep), ``economics`` (stacks that add up to
the objective), ``explainability`` (binding constraints per timestep and per family). The
contract is :class:`dcpower.results_model.Results`; column units and descriptions come from
:mod:`dcpower.columns`. Read results files with :func:`load_results`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from dcpower import __version__, columns
from dcpower.case import Case
from dcpower.economics import (
    DEVIATION_TERM,
    economics_from_terms,
    per_mwh_figures,
    realtime_deviation_cost_usd,
    settled_charge_usd,
)
from dcpower.errors import InputError
from dcpower.event_sections import SHED_TOLERANCE_MWH, events_section, sb6_section
from dcpower.events import voll_order_problem
from dcpower.filecheck import check_output_name, check_output_target
from dcpower.invariants import check_invariants
from dcpower.records import records_to_frame
from dcpower.resources import gas_gen
from dcpower.results_model import RESULTS_SCHEMA_VERSION, Results
from dcpower.tariff import TERM, tariff_section

if TYPE_CHECKING:  # the assembly's inputs; imported lazily so that reading results needs no solver
    from dcpower.case import Case
    from dcpower.iso.base import MarketData
    from dcpower.optimization.inputs import DispatchInputs
    from dcpower.optimization.strategies import DispatchSolution

__all__ = ["RESULTS_SCHEMA_VERSION", "Results", "ResultsFileError", "load_results"]


def _clean(x: Any) -> Any:
    """Numpy scalars → Python, NaN/inf → None, recursively (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def frame_to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame → list of JSON-ready dicts; a DatetimeIndex becomes ISO 8601 UTC ``timestamp``.

    Column by column: numpy float, integer and bool columns become Python values in one call
    (NaN/inf → None); any other column goes through ``_clean`` value by value. The same
    records as ``_clean(df.to_dict(orient="records"))``, several times faster on a year."""
    out = df.copy()
    if isinstance(out.index, pd.DatetimeIndex):
        out.insert(0, "timestamp", out.index.strftime("%Y-%m-%dT%H:%M:%SZ"))
    out = out.reset_index(drop=True)
    if len(out.columns) == 0:
        return [{} for _ in range(len(out))]
    columns = {str(name): _column_values(out.iloc[:, i]) for i, name in enumerate(out.columns)}
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _column_values(column: pd.Series) -> list[Any]:
    """One column as JSON-ready Python values (``_clean``'s rules)."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = column.to_numpy()
        py = values.tolist()
        if dtype.kind == "f" and not np.isfinite(values).all():
            py = [v if math.isfinite(v) else None for v in py]
        return py
    return [_clean(v) for v in column.tolist()]


class ResultsFileError(InputError):
    """A results document is unreadable, of another schema version or breaks the contract;
    the message names the file and says what to do."""


def _validation_lines(exc: ValidationError, limit: int = 10) -> list[str]:
    lines = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "$"
        lines.append(f"  {where}: {err['msg']}")
    if exc.error_count() > limit:
        lines.append(f"  ... and {exc.error_count() - limit} more")
    return lines


def validate_results(doc: Any, source: str = "results") -> Results:
    """``doc`` (a results dict) through the contract; ResultsFileError says what is wrong.

    The schema version is checked first: a document of another version is refused with the
    version it has, the one this dcpower reads, and the fix (re-run ``dcpower run``).
    """
    if not isinstance(doc, dict):
        raise ResultsFileError(
            f"{source}: not a dcpower results document (a JSON object is expected); fix: pick "
            "the JSON written by `dcpower run --out`"
        )
    version = doc.get("schema_version")
    if version != RESULTS_SCHEMA_VERSION:
        has = "no schema_version" if version is None else f"schema_version {version!r}"
        raise ResultsFileError(
            f"{source}: results document has {has}; this dcpower ({__version__}) reads "
            f"schema_version {RESULTS_SCHEMA_VERSION}; fix: re-run `dcpower run CASE --out "
            "RESULTS.json` on the case with this dcpower (the case is echoed in the document's "
            "`case` section)"
        )
    try:
        return Results.model_validate(doc)
    except (ValidationError, columns.UnknownColumnError) as exc:
        lines = _validation_lines(exc) if isinstance(exc, ValidationError) else [f"  {exc}"]
        raise ResultsFileError(
            "\n".join(
                [
                    f"{source}: not a valid results document (schema_version "
                    f"{RESULTS_SCHEMA_VERSION}):",
                    *lines,
                ]
            )
        ) from None


def parse_results_text(text: str, source: str = "results") -> dict[str, Any]:
    """A results document from JSON text, validated (:func:`validate_results`)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{source}: not a JSON file (line {exc.lineno} column {exc.colno})"
        ) from None
    validate_results(doc, source)
    return doc


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results JSON written by ``dcpower run --out`` and validate it against the
    contract (schema version first). Returns the document as a dict (JSON types).

    Raises ResultsFileError naming the file and what to do.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ResultsFileError(f"{p}: not UTF-8 text; not a results file") from None
    except OSError as exc:
        raise ResultsFileError(f"{p}: cannot read the file ({exc.strerror})") from None
    return parse_results_text(text, str(p))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then rename over ``path``: the one
    writer of every output (the target is checked by
    :func:`dcpower.filecheck.check_output_target` first: a regular file, not shipped data)."""
    check_output_target(path, "output")
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name lets a later run remove it if this process dies before the rename
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; results are ordinary files
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(obj: dict[str, Any], path: str | Path) -> None:
    """Write ``obj`` as strict JSON, atomically."""
    text = json.dumps(_clean(obj), indent=1, allow_nan=False)
    _atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_text_atomic(text: str, path: str | Path) -> None:
    """Write UTF-8 text atomically."""
    _atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_atomic_with(path: str | Path, write: Callable[[Path], None]) -> None:
    """Atomic write through any writer that takes a path (e.g. xarray's ``to_netcdf``)."""
    _atomic_write(Path(path), write)


def write_parquet_atomic(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` to Parquet atomically."""
    _atomic_write(Path(path), lambda p: df.to_parquet(p))


def _described_table(df: pd.DataFrame, products: Iterable[str]) -> pa.Table:
    """``df`` as an Arrow table whose fields carry the registry's ``unit`` and ``description``
    (and ``product`` / ``resource`` of reserve columns) as field metadata."""
    table = pa.Table.from_pandas(df)
    fields = []
    for f in table.schema:
        col = columns.lookup(f.name, products)
        if col is None:
            fields.append(f)
            continue
        meta = {"unit": col.unit, "description": col.description}
        meta.update({k: v for k, v in (("product", col.product), ("resource", col.resource)) if v})
        fields.append(f.with_metadata({k.encode(): v.encode() for k, v in meta.items()}))
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def write_parquet_tables(results: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write dispatch, electrical and binding-constraint tables of ``results`` as Parquet.

    Every column's unit and description (registry :mod:`dcpower.columns`) are written as
    Arrow field metadata, so the tables explain themselves.
    """
    out_dir = Path(out_dir)
    dispatch = records_to_frame(results["dispatch"])
    electrical = records_to_frame(results["electrical"])
    binding = pd.DataFrame(
        [
            {"timestamp": row["timestamp"], "family": fam}
            for row in results["explainability"]["binding_constraints"]
            for fam in row["families"]
        ],
        columns=["timestamp", "family"],
    )
    binding["timestamp"] = pd.to_datetime(binding["timestamp"], utc=True)
    products = list((results.get("market") or {}).get("reserve_products") or {})
    paths = []
    for name, df in (("dispatch", dispatch), ("electrical", electrical), ("binding", binding)):
        path = out_dir / f"{name}.parquet"
        table = _described_table(df, products)
        _atomic_write(path, lambda p, table=table: pq.write_table(table, p))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- output sets

PARQUET_TABLES = ("dispatch.parquet", "electrical.parquet", "binding.parquet")
_STAGING_PREFIX = ".dcpower-staging-"
_STAGING_RE = re.compile(r"^\.dcpower-staging-(\d+)-")
_TMP_RE = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp$")
_LEGACY_TMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
_LEGACY_TMP_AGE_S = 86_400.0


class OutputError(InputError):
    """An output cannot be written where asked; the message names the path and the fix."""


@dataclass
class OutputPlan:
    """Where one run writes: the results JSON and, optionally, a folder of Parquet tables."""

    json_path: Path
    parquet_dir: Path | None = None
    removed_orphans: list[Path] = field(default_factory=list)

    def targets(self) -> list[Path]:
        tables = [self.parquet_dir / t for t in PARQUET_TABLES] if self.parquet_dir else []
        return [*tables, self.json_path]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_orphans(folder: Path) -> list[Path]:
    """Remove temporary files and staging folders that a killed run left in ``folder``.

    Only entries whose writer process no longer exists (the pid in their name), or legacy
    temporary files older than a day, are removed; a concurrent run's files are left alone.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for entry in folder.iterdir():
        name = entry.name
        orphan = False
        m = _STAGING_RE.match(name) if entry.is_dir() else _TMP_RE.match(name)
        if m is not None:
            orphan = not _pid_alive(int(m.group(1)))
        elif entry.is_file() and _LEGACY_TMP_RE.match(name):
            with contextlib.suppress(OSError):
                orphan = now - entry.stat().st_mtime > _LEGACY_TMP_AGE_S
        else:
            continue
        if not orphan:
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _check_writable_folder(folder: Path, label: str) -> None:
    """``folder`` exists and takes new files, or can be created (an existing ancestor does)."""
    base = _nearest_existing(folder)
    if not base.is_dir():
        raise OutputError(
            f"{label}: {base} is a file, so the folder {folder} cannot be created; fix: choose "
            "another output path"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=f".dcpower-probe.{os.getpid()}.", dir=base)
    except OSError as exc:
        raise OutputError(
            f"{label}: cannot write in {base} ({exc.strerror}); fix: choose a writable folder "
            "or fix its permissions"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _check_name_lengths(path: Path, label: str) -> None:
    base = _nearest_existing(path.parent)
    try:
        name_max = os.pathconf(base, "PC_NAME_MAX")
        path_max = os.pathconf(base, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    # the longest name written is the temporary file's: "." + name + ".<pid>.<8 chars>.tmp"
    base_parts = len(base.parts)
    new_parts = path.parts[base_parts:] if path.parts[:base_parts] == base.parts else path.parts
    longest = max((len(os.fsencode(part)) for part in new_parts), default=0)
    if longest + 32 > name_max or len(os.fsencode(str(path.resolve()))) + 32 > path_max:
        raise OutputError(
            f"{label}: {path} is too long for the file system (names up to {name_max - 32} "
            f"bytes, paths up to {path_max - 32}); fix: choose a shorter path"
        )


def plan_outputs(
    json_path: str | Path,
    parquet_dir: str | Path | None,
    inputs: Iterable[Path],
    protected_dirs: Iterable[Path] = (),
) -> OutputPlan:
    """Check, before any solve, that the outputs can be written and overwrite no input.

    ``inputs`` are files the run reads (paths, or (field, path) pairs such as
    :func:`dcpower.case.input_files` gives): no output may be one of them. No output enters
    the shipped data (all of ``resources_data/``) or ``protected_dirs`` (e.g. ``--data-dir``),
    and an existing target must be a regular file (``filecheck.check_output_target``).
    Orphaned temporary files of earlier, killed runs are removed from the output folders.
    Raises OutputError.
    """
    check_output_name(json_path, "--out")
    if parquet_dir is not None:
        check_output_name(parquet_dir, "--parquet")
    plan = OutputPlan(Path(json_path), Path(parquet_dir) if parquet_dir is not None else None)
    named = [
        (str(p[0]), Path(p[1])) if isinstance(p, tuple) else ("input", Path(p))
        for p in inputs
        if p is not None
    ]
    _check_name_lengths(plan.json_path, "--out")
    if plan.parquet_dir is not None:
        _check_name_lengths(plan.parquet_dir / PARQUET_TABLES[1], "--parquet")
    if plan.json_path.is_dir() or str(json_path).endswith(os.sep):
        raise OutputError(
            f"--out: {plan.json_path} is a folder; fix: give the results file, e.g. "
            f"{plan.json_path / 'results.json'}"
        )
    if plan.parquet_dir is not None and plan.parquet_dir.exists() and not plan.parquet_dir.is_dir():
        raise OutputError(
            f"--parquet: {plan.parquet_dir} is a file; fix: give a folder for the Parquet tables"
        )
    labels = {plan.json_path: "--out"}
    if plan.parquet_dir is not None:
        labels.update({plan.parquet_dir / t: "--parquet" for t in PARQUET_TABLES})
        if any(_same_file(plan.json_path, t) for t in plan.targets()[:-1]):
            raise OutputError(
                f"--out: {plan.json_path} is also one of the Parquet tables; fix: choose another "
                "results file name"
            )
    for target, label in labels.items():
        check_output_target(target, label, named, protected_dirs)
        if target.is_dir():
            raise OutputError(f"{label}: {target} is a folder; fix: remove it or choose another")
    _check_writable_folder(plan.json_path.parent, "--out")
    if plan.parquet_dir is not None:
        _check_writable_folder(plan.parquet_dir, "--parquet")
    for folder in {t.parent for t in plan.targets()}:
        plan.removed_orphans += cleanup_orphans(folder)
    return plan


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _backup(final: Path, stage: Path) -> Path | None:
    """Keep the previous version of ``final`` (hard link, else copy) for a rollback."""
    if not final.exists():
        return None
    backup = stage / f"previous-{final.name}"
    try:
        os.link(final, backup)
    except OSError:
        shutil.copy2(final, backup)
    return backup


def write_output_set(results: dict[str, Any], plan: OutputPlan) -> list[Path]:
    """Write the results JSON (and Parquet tables) as one consistent set.

    Every file is first written into a staging folder beside its destination; only when all
    are written are they renamed into place, Parquet first and the JSON last. The JSON carries
    ``outputs.parquet_tables`` (name → SHA-256), so it names the exact tables it belongs to. If
    anything fails (or Ctrl-C) before the last rename, the files already renamed are rolled back
    to their previous versions and the staging folders removed: the old set stays, whole.
    Raises OSError (the caller names the path).
    """
    # the contract, checked on what the JSON will hold, before any file is touched
    validate_results(_clean(results), "results to write")
    token = f"{_STAGING_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    stages: dict[Path, Path] = {}

    def stage_for(final: Path) -> Path:
        folder = final.parent
        if folder not in stages:
            folder.mkdir(parents=True, exist_ok=True)
            stages[folder] = folder / token
            stages[folder].mkdir()
        return stages[folder]

    moves: list[tuple[Path, Path]] = []  # (staged, final), in commit order
    committed: list[tuple[Path, Path | None]] = []  # (final, backup)
    try:
        doc = dict(results)
        if plan.parquet_dir is not None:
            stage = stage_for(plan.parquet_dir / PARQUET_TABLES[0])
            staged = write_parquet_tables(results, stage)
            moves += [(p, plan.parquet_dir / p.name) for p in staged]
            doc["outputs"] = {
                "parquet_dir": str(plan.parquet_dir),
                "parquet_tables": {p.name: _sha256_file(p) for p in staged},
            }
        staged_json = stage_for(plan.json_path) / plan.json_path.name
        write_json_atomic(doc, staged_json)
        moves.append((staged_json, plan.json_path))
        for staged, final in moves:
            backup = _backup(final, stages[final.parent])
            os.replace(staged, final)
            committed.append((final, backup))
    except BaseException:
        for final, backup in reversed(committed):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, final)
                else:
                    final.unlink()
        raise
    finally:
        for stage in stages.values():
            shutil.rmtree(stage, ignore_errors=True)
    return [final for _, final in moves]


def describe_os_error(exc: OSError) -> str:
    """``path: reason`` of an OSError (the path it concerns when known)."""
    path = exc.filename if exc.filename is not None else "?"
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)
    return f"{path}: {reason}"


# --------------------------------------------------------------------------------------------
# Assembly: a solved dispatch → the results document
# --------------------------------------------------------------------------------------------


def explainability_section(
    binding: dict[int, list[str]],
    x: DispatchInputs,
    extra_families: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Binding families per timestep, counts per family and a plain-language summary.
    ``extra_families``: families found after the solve (AC screening), name → meaning."""
    # the model layer loads Pyomo: imported on use, so reading results needs no solver
    from dcpower.optimization import dispatch_milp, explain

    families = {**dispatch_milp.CONSTRAINT_FAMILIES, **(extra_families or {})}
    counts = explain.binding_counts(binding)
    n = x.n_steps
    summary = [
        f"{fam} binds in {k} of {n} steps: {families.get(fam, '')}" for fam, k in counts.items()
    ]
    return {
        "tolerance": {
            "abs": explain.BINDING_ABS_TOL,
            "rel": explain.BINDING_REL_TOL,
            "rule": "inequality row binds when |slack| ≤ abs + rel·max(1, |bound|)",
        },
        "binding_constraints": [
            {
                "timestamp": x.timestamps[t].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "step": t,
                "families": names,
            }
            for t, names in binding.items()
        ],
        "binding_timesteps_per_family": counts,
        "families": families,
        "summary": summary,
    }


def _solver_section(solution: DispatchSolution) -> dict[str, Any]:
    # the model layer loads Pyomo: imported on use, so reading results needs no solver
    from dcpower.optimization.solve import SolveStatus

    report = solution.report
    d = report.to_dict()
    relaxed = report.method in ("lp_relaxation", "rolling_horizon_lp")
    d["relaxed_integrality"] = relaxed
    d["windows"] = solution.windows
    d["max_window_gap"] = solution.max_window_gap
    d["windows_time_limited"] = solution.windows_time_limited
    d["window_gap_usd"] = solution.window_gap_usd
    d["windows_above_gap"] = solution.windows_above_gap
    d["time_limit_reached"] = report.status == SolveStatus.TIME_LIMIT_FEASIBLE
    gap = solution.max_window_gap
    gap_text = f"{gap:.4%}" if gap is not None else "unknown"
    if report.status == SolveStatus.TIME_LIMIT_FEASIBLE:
        limited = (
            f" in {solution.windows_time_limited} of {solution.windows} windows"
            if solution.windows > 1
            else ""
        )
        d["warning"] = (
            f"time limit of {report.time_limit_s:g} s reached{limited}: best solution found, "
            f"worst gap {gap_text} to the bound (requested {report.mip_rel_gap_requested:.4%})"
        )
    elif report.status == SolveStatus.ABOVE_REQUESTED_GAP:
        d["warning"] = (
            f"{solution.windows_above_gap} of {solution.windows} windows stopped above the "
            f"requested gap {report.mip_rel_gap_requested:.4%} (worst {gap_text}) by the "
            "absolute-gap rule (mip_rel_gap × the mean |value| per step of earlier windows); "
            "lower solver.mip_rel_gap for a tighter dispatch"
        )
    if report.method == "lp_relaxation":
        d["lp_bound"] = report.objective
        d["gap_to_lp_bound"] = 0.0
    return d


def _gap_to_lp_bound(results: dict[str, Any]) -> None:
    """(bound − net value) / |net value| for the LP and the proven bound, once the net value
    is known."""
    s = results["solver"]
    econ = results["economics"]
    # the solver's objective (a CP charge settled after the solve is not in the bounds)
    value = (
        econ["objective_usd"] if econ.get("objective_usd") is not None else econ["net_value_usd"]
    )
    if s.get("lp_bound") is not None and s.get("gap_to_lp_bound") is None:
        s["gap_to_lp_bound"] = (s["lp_bound"] - value) / max(abs(value), 1e-9)
    if s.get("proven_bound") is not None:
        s["proven_gap"] = (s["proven_bound"] - value) / max(abs(value), 1e-9)


def assemble_results(
    case: Case,
    x: DispatchInputs,
    market: MarketData,
    solution: DispatchSolution,
    wall_s: float,
    ac: Any = None,
    foresight: dict[str, Any] | None = None,
    outage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the results dict from a solved dispatch: every section, the economics stack from
    the objective's own terms, warnings and the independent invariant checks.

    ``ac``: the AC screening of the dispatch (``dcpower.topology.ac_screening.AcScreening``,
    which the runner computes): its columns join the electrical table, its steps outside the
    voltage band the binding report, its summary the ``ac_screening`` section. ``outage``: the
    ``outage`` section (``dcpower.reliability.outage_section``, which the runner computes)."""
    # the model layer loads Pyomo: imported on use, so reading results needs no solver
    from dcpower.optimization import dispatch_milp

    dispatch, electrical = solution.dispatch, solution.electrical
    binding = {t: list(names) for t, names in solution.binding.items()}
    extra_families: dict[str, str] = {}
    if ac is not None:
        electrical = electrical.assign(**ac.columns)
        extra_families[ac.family] = ac.family_text
        for t in ac.outside_band:
            binding[t] = sorted({*binding.get(t, []), ac.family})
        binding = dict(sorted(binding.items()))
    terms, kinds = dict(solution.terms_usd), dispatch_milp.term_kinds(x)
    if case.tariff is not None and case.tariff.response != "perfect_foresight":
        terms[TERM], kinds[TERM] = settled_charge_usd(dispatch), "cost"
    if "da_position_mw" in dispatch.columns:  # two-settlement (dcpower.foresight)
        terms[DEVIATION_TERM] = -realtime_deviation_cost_usd(dispatch, x.dt_h)
        kinds[DEVIATION_TERM] = "cost"
    econ = economics_from_terms(terms, kinds)
    econ["objective_usd"] = solution.report.objective
    # the stack's lines that are not in the solver's objective (net = objective − their sum)
    settled = [name for name in terms if name not in solution.terms_usd]
    econ["settled_after_solve_usd"] = {name: econ["costs_usd"][name] for name in settled}
    econ.update(per_mwh_figures(dispatch, econ, x.dt_h))
    results: dict[str, Any] = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "dcpower_version": __version__,
        "case": case.model_dump(mode="json"),
        "horizon": {
            "start_utc": x.timestamps[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_utc": (
                x.timestamps[-1] + pd.Timedelta(minutes=case.horizon.timestep_minutes)
            ).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timestep_minutes": case.horizon.timestep_minutes,
            "n_steps": x.n_steps,
        },
        "market": {
            "iso": case.market.iso,
            "settlement_point": case.market.settlement_point,
            "energy_market": case.market.energy_market,
            "reserve_products": {
                name: {
                    "direction": p.direction,
                    "duration_h": p.duration_h,
                    "eligible_resources": list(p.eligible_resources),
                    "source": p.source,
                    "deployment_minutes": p.deployment_minutes,
                    "offline_gen_eligible": p.offline_gen_eligible,
                    "deployment_source": p.deployment_source,
                    "load_source": p.load_source,
                }
                for name, p in x.reserve_products.items()
            },
            "provenance": market.provenance,
        },
        "solver": _solver_section(solution),
        "dispatch": frame_to_records(dispatch),
        "electrical": frame_to_records(electrical),
        "economics": econ,
        "explainability": explainability_section(binding, x, extra_families),
        "model": {
            "gen_start_delay_steps": gas_gen.start_delay_steps(
                case.gas_gen, case.horizon.timestep_minutes
            ),
            "transformer_polygon_facets": case.transformer.polygon_facets,
        },
    }
    if ac is not None:
        results["ac_screening"] = ac.summary
    if solution.marginal_values is not None:
        results["marginal_values"] = solution.marginal_values
    if case.tariff is not None and x.tariff is not None:
        results["tariff"] = tariff_section(case, x.tariff, dispatch)
    if case.events:
        results["events"] = events_section(case, dispatch)
    results["sb6"] = sb6_section(case, dispatch)
    if outage is not None:  # the runner computes it (dcpower.reliability.outage_section)
        results["outage"] = outage
    if foresight is not None:
        if "realised_net_value_usd" in foresight:  # the stack's, settled terms included
            foresight = {**foresight, "realised_net_value_usd": econ["net_value_usd"]}
        results["foresight"] = foresight
    results["solver"]["wall_seconds"] = wall_s
    _gap_to_lp_bound(results)
    results["verification"] = {"violations": check_invariants(results)}
    results["warnings"] = result_warnings(results, dispatch) + (ac.warnings if ac else [])
    return results


def _binding_at(results: dict[str, Any], steps: pd.DatetimeIndex, limit: int = 6) -> str:
    """The constraint families binding at ``steps`` (most frequent first, with their step
    counts and statements): what caps the supply where load is shed."""
    # the model layer loads Pyomo: imported on use, so reading results needs no solver
    from dcpower.optimization.dispatch_milp import CONSTRAINT_FAMILIES

    rows = (results.get("explainability") or {}).get("binding_constraints") or []
    wanted = {t.strftime("%Y-%m-%dT%H:%M") for t in steps}
    counts: dict[str, int] = {}
    for row in rows:
        if str(row.get("timestamp", ""))[:16] in wanted:
            for fam in row.get("families", []):
                counts[fam] = counts.get(fam, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{fam} ({CONSTRAINT_FAMILIES.get(fam, fam)}; {n} step(s))" for fam, n in top)


def result_warnings(results: dict[str, Any], dispatch: pd.DataFrame) -> list[str]:
    """What a user must not miss in a solved case: critical load shed, a gap above the one
    asked for, a time limit that stopped a solve (the status alone may read "optimal")."""
    out: list[str] = []
    s = results["solver"]
    shed = results["economics"]["energy_mwh"]["critical_unserved_mwh"]
    if shed > SHED_TOLERANCE_MWH:
        steps = dispatch.index[dispatch["critical_unserved_mw"].to_numpy() > 1e-6]
        first = steps[0].strftime("%Y-%m-%dT%H:%MZ") if len(steps) else "?"
        causes = _binding_at(results, steps)
        why = (
            f"; binding at those steps: {causes}"
            if causes
            else "; check the POI import limit, gas units, BESS and reliability settings"
        )
        out.append(
            f"critical load shed: {shed:,.3f} MWh unserved in {len(steps)} step(s), first at "
            f"{first}; the dispatch pays VoLL for it{why}"
        )
    case = results.get("case") or {}
    if case.get("events"):
        problem = voll_order_problem(Case.model_validate(case))
        if problem:
            out.append(problem)
        for ev in results.get("events", []):
            if ev["critical_shed"]:
                mwh = ev["curtailed_mwh"]["critical"]
                out.append(
                    f"event {ev['name']}: critical load shed ({mwh:,.3f} MWh) to keep the net "
                    "withdrawal under the cap; more gas or BESS would avoid it"
                )
    requested = s.get("mip_rel_gap_requested")
    gap = s.get("mip_gap")
    if (
        not s.get("relaxed_integrality")
        and gap is not None
        and requested is not None
        and gap > requested * 1.01 + 1e-9  # 1 %: HiGHS's own gap rounding
    ):
        out.append(
            f"final MIP gap {gap:.4%} exceeds the requested {requested:.4%}; the dispatch may "
            "be this far from the optimum; fix: raise solver.time_limit_s"
        )
    if s.get("status") == "feasible_above_requested_gap" and s.get("warning"):
        out.append(s["warning"])
    if s.get("time_limit_reached") or s.get("windows_time_limited"):
        windows = s.get("windows_time_limited") or 0
        where = f" in {windows} window(s)" if windows else ""
        out.append(
            f"the time limit of {s.get('time_limit_s', 0):g} s stopped the solve{where} before "
            "the requested gap was proven; fix: raise solver.time_limit_s"
        )
    return out
