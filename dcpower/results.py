"""Typed results of one dispatch → a JSON-serialisable dict and Parquet tables.

Sections: ``case`` (validated input echoed), ``market`` (data provenance), ``solver``,
``dispatch`` and ``electrical`` (one record per timestep), ``economics`` (stacks that add up to
the objective), ``explainability`` (binding constraints per timestep and per family).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RESULTS_SCHEMA_VERSION = 1


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
    """DataFrame → list of JSON-ready dicts; a DatetimeIndex becomes ISO 8601 UTC ``timestamp``."""
    out = df.copy()
    if isinstance(out.index, pd.DatetimeIndex):
        out.insert(0, "timestamp", out.index.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _clean(out.reset_index(drop=True).to_dict(orient="records"))


def records_to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Inverse of :func:`frame_to_records`: a UTC DatetimeIndex from ``timestamp``."""
    df = pd.DataFrame.from_records(records)
    if "timestamp" in df.columns:
        df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("timestamp"), utc=True), name="timestamp")
    return df


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def write_parquet_tables(results: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write dispatch, electrical and binding-constraint tables of ``results`` as Parquet."""
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
    paths = []
    for name, df in (("dispatch", dispatch), ("electrical", electrical), ("binding", binding)):
        path = out_dir / f"{name}.parquet"
        write_parquet_atomic(df, path)
        paths.append(path)
    return paths
