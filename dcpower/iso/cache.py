"""Per-process cache of tidy market files and file discovery in a data folder.

A tidy file (long: ``interval_start_utc``, a key column such as ``settlement_point`` or
``product``, one value column) is parsed once per process and kept as a :class:`TidyTable`
(keyed on path + mtime + size, so an edited file is read again), with each key's coverage.
Adapters select their rows and put them on the model grid with :mod:`dcpower.iso.timegrid`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dcpower.filecheck import check_input_file
from dcpower.iso.base import MarketDataError
from dcpower.iso.tidy import (
    check_values,
    interval_minutes,
    line_list,
    numeric_column,
    parse_utc,
    read_table,
    require_columns,
)
from dcpower.iso.timegrid import INDEX_NAME, fmt_utc

__all__ = [
    "TidyTable",
    "candidate_files",
    "file_key",
    "file_year",
    "find_files",
    "load_tidy",
    "load_tidy_cached",
    "sha256_file",
]


@dataclass(frozen=True)
class TidyTable:
    """One file's data: long (``key`` column + ``value``) on a UTC index."""

    path: Path
    frame: pd.DataFrame  # index interval_start_utc, columns key (category), value (float)
    interval_minutes: int
    coverage: dict[str, tuple[pd.Timestamp, pd.Timestamp]]  # key -> [first start, last end)


def file_key(path: Path) -> tuple[str, int, int]:
    """(resolved path, mtime ns, size): a file's identity for the caches."""
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _keys(column: pd.Series, key_map: Callable[[str], str | None] | None) -> np.ndarray:
    """The key column stripped, upper-cased and mapped (``key_map``), as an object array.

    The text work is done once per distinct key (a file holds a few) and spread by code."""
    raw = column.astype("category")
    codes = raw.cat.codes.to_numpy()
    names = [str(c).strip().upper() for c in raw.cat.categories]
    if key_map is not None:
        names = [key_map(n) or n for n in names]
    names.append("NAN")  # code -1: a missing key, as ``astype(str)`` spells it
    return np.asarray(names, dtype=object)[codes]


@functools.lru_cache(maxsize=64)
def load_tidy_cached(
    path_str: str,
    mtime_ns: int,
    size: int,
    key_col: str,
    val_col: str,
    key_map: Callable[[str], str | None] | None = None,
    what: str = "tidy",
    careful: bool = False,
    default_key: str | None = None,
) -> TidyTable:
    """Parse one tidy file (see :func:`load_tidy`); cached on the file's identity."""
    path = Path(path_str)
    src = str(path)
    if careful:  # a user's file: every cell checked, errors name column and line only
        df = read_table(path)
        if key_col not in df.columns and default_key is not None:
            df[key_col] = default_key
        require_columns(df, [INDEX_NAME, key_col, val_col], src, what)
        values = numeric_column(df[val_col], src, val_col)
    else:  # shipped file written by this project: fast typed read
        check_input_file(path, f"{what} file", MarketDataError)
        try:
            if path.suffix.lower() == ".parquet":
                df = pd.read_parquet(path)
            else:
                df = pd.read_csv(
                    path,
                    usecols=[INDEX_NAME, "interval_end_utc", key_col, val_col],
                    dtype={key_col: "category", val_col: "float64"},
                )
        except (EOFError, zlib.error):
            raise MarketDataError(
                f"{what} file: {path}: the compressed file is truncated or corrupt; fix: restore "
                "it (shipped data: git checkout; fetched: delete it and fetch again)"
            ) from None
        except (OSError, ValueError) as exc:
            raise MarketDataError(
                f"{path}: {what} file cannot be read ({type(exc).__name__}); expected the tidy "
                "layout of its folder's README.md."
            ) from None
        require_columns(df, [INDEX_NAME, key_col, val_col], src, what)
        values = check_values(df[val_col].to_numpy(dtype=float), src, val_col)
    times = parse_utc(df[INDEX_NAME], src, INDEX_NAME)
    minutes = interval_minutes(df, times, src)
    key = _keys(df[key_col], key_map)
    frame = pd.DataFrame({"key": pd.Categorical(key), "value": values}, index=times)
    pairs = pd.MultiIndex.from_arrays([frame.index, frame["key"]])
    dup = pairs.duplicated(keep=False)
    if dup.any():
        first = pairs[dup][0]
        if careful:
            raise MarketDataError(
                f"{path}: duplicate interval {fmt_utc(first[0])} for {key_col} on line(s) "
                f"{line_list(np.flatnonzero(dup) + 2)}; give each interval once per {key_col}."
            )
        raise MarketDataError(
            f"{path}: duplicate interval {fmt_utc(first[0])} for {first[1]}; the file is corrupt."
        )
    frame = frame.sort_index(kind="stable")
    step = pd.Timedelta(minutes=minutes)
    grouped = pd.Series(frame.index, index=frame.index).groupby(
        frame["key"].to_numpy(), observed=True
    )
    first_t, last_t = grouped.min(), grouped.max()
    coverage = {str(k): (first_t[k], last_t[k] + step) for k in first_t.index}
    return TidyTable(path, frame, minutes, coverage)


def load_tidy(
    path: Path,
    key_col: str,
    val_col: str,
    *,
    key_map: Callable[[str], str | None] | None = None,
    what: str = "tidy",
    careful: bool = False,
    default_key: str | None = None,
) -> TidyTable:
    """A tidy file as a :class:`TidyTable`, parsed once per process while the file is unchanged.

    Keys are stripped and upper-cased (then mapped by ``key_map``, e.g. product aliases).
    ``careful=True`` reads every cell as text and checks it (user files: errors name the file,
    the column, the line and the fix, never the cell's text); otherwise a fast typed read for
    shipped files. ``default_key`` is the key of every row when ``key_col`` is absent.
    """
    return load_tidy_cached(
        *file_key(Path(path)), key_col, val_col, key_map, what, careful, default_key
    )


@functools.lru_cache(maxsize=256)
def _sha256_cached(path_str: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path_str, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file (cached per process on the file's identity)."""
    return _sha256_cached(*file_key(path))


def find_files(data_dir: Path, patterns: Iterable[str]) -> list[Path]:
    """Files in ``data_dir`` matching any of the glob ``patterns``, sorted."""
    files: set[Path] = set()
    for pattern in patterns:
        files.update(data_dir.glob(pattern))
    return sorted(files)


def file_year(path: Path) -> int | None:
    """The year in a file name such as ``dam_spp_hourly_2016.csv.gz`` (None without one)."""
    m = re.search(r"_((?:19|20)\d{2})(?=[_.])", path.name)
    return int(m.group(1)) if m else None


def candidate_files(files: list[Path], start: pd.Timestamp, end: pd.Timestamp) -> list[Path]:
    """Files whose name year can overlap [start, end) (files without a year always qualify)."""
    years = set(range((start - pd.Timedelta(days=1)).year, (end + pd.Timedelta(days=1)).year + 1))
    return [p for p in files if (file_year(p) is None or file_year(p) in years)]
