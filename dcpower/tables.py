"""One reader for every tabular input (prices, reserves, load, CP intervals, events, site data,
study tables) and the column parsers they share.

Rules, the same everywhere: the file is a regular file (:mod:`dcpower.filecheck`); its format
comes from its content and name, case-insensitively (``.parquet``/``.pq``, gzip by its magic
bytes, else CSV); CSV is UTF-8 (a BOM is allowed); a truncated or corrupt gzip, a file that is
not UTF-8, an empty file or an unparseable CSV is refused; times carry a UTC offset or ``Z``
(a naive time is never guessed to be local or UTC); numbers are finite and within the field's
bounds; integers are integers; a model step is covered entirely by the samples of its file or
refused. Every problem is raised as the caller's :class:`~dcpower.errors.InputError` subclass
naming the field, the file, the column and the lines (header = line 1) — never a cell's text.
"""

from __future__ import annotations

import gzip
import io
import re
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from dcpower.errors import InputError
from dcpower.filecheck import check_input_file

__all__ = [
    "TableError",
    "line_list",
    "parse_ints",
    "parse_numbers",
    "parse_times",
    "read_table",
    "read_table_buffer",
    "require_columns",
    "to_step_means",
]


class TableError(InputError):
    """A tabular input cannot be used; the message names the file, column, lines and the fix."""


_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_SUFFIXES = (".parquet", ".pq")
#: what a broken compressed stream raises inside pandas
_STREAM_ERRORS = (EOFError, zlib.error, UnicodeDecodeError)


def line_list(lines: Sequence[int] | np.ndarray, limit: int = 5) -> str:
    """``"3, 7, 9 (+2 more)"``: at most ``limit`` line numbers."""
    seq = [int(x) for x in list(lines)]
    shown = ", ".join(str(x) for x in seq[:limit])
    return shown + (f" (+{len(seq) - limit} more)" if len(seq) > limit else "")


def _mask_lines(mask: np.ndarray) -> str:
    return line_list(np.flatnonzero(mask) + 2)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def read_table(
    path: str | Path | None, field: str, error: type[InputError] = TableError
) -> pd.DataFrame:
    """A CSV (optionally gzip) or Parquet file as a DataFrame with stripped column names.

    CSV columns are text (the parsers below type them); Parquet keeps its types. ``field`` is
    the case field or option named in messages, e.g. ``load.profile_file``.
    """
    p = check_input_file(path, field, error)
    where = f"{field}: {p}"
    if p.name.lower().endswith(_PARQUET_SUFFIXES):
        try:
            df = pd.read_parquet(p)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
            raise error(
                f"{where}: cannot read as Parquet ({type(exc).__name__}); fix: give a valid "
                "Parquet file, or a CSV"
            ) from None
    else:
        try:
            gz = _is_gzip(p)
        except OSError as exc:
            raise error(f"{where}: cannot read the file ({exc.strerror})") from None
        df = _read_csv(p, where, "gzip" if gz else None, error)
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_table_buffer(
    buffer: IO[Any], source: str, error: type[InputError] = TableError
) -> pd.DataFrame:
    """A CSV given as an open binary or text stream (an upload), by the same rules."""
    df = _read_csv(buffer, source, "infer", error)
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _raw_bytes(src: Path | IO[Any], where: str, gz: bool, error: type[InputError]) -> bytes:
    """The file's bytes, decompressed; a NUL byte is refused (pandas would cut the cell at it,
    silently turning ``10`` into ``1``)."""
    try:
        if isinstance(src, Path):
            data = src.read_bytes()
        else:
            raw = src.read()
            data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        if gz or data[:2] == _GZIP_MAGIC:
            data = gzip.decompress(data)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise error(
            f"{where}: the compressed file is truncated or corrupt; fix: download or write it again"
        ) from None
    except OSError as exc:
        raise error(
            f"{where}: cannot read the file ({exc.strerror or type(exc).__name__})"
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise error(
            f"{where}: a NUL byte on line {line} (binary data, or UTF-16 text); fix: save the "
            "file as UTF-8 CSV"
        )
    return data


def _read_csv(
    src: Path | IO[Any], where: str, compression: str | None, error: type[InputError]
) -> pd.DataFrame:
    data = _raw_bytes(src, where, compression == "gzip", error)
    try:
        with warnings.catch_warnings():
            # a line with more fields than the header: an error, never a shifted index column
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.BytesIO(data),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                index_col=False,
                encoding="utf-8-sig",
            )
    except pd.errors.ParserWarning:
        raise error(
            f"{where}: cannot parse as CSV: a line has more fields than the header; fix: give "
            "the same number of fields on every line"
        ) from None
    except UnicodeDecodeError:
        raise error(f"{where}: not UTF-8 text; fix: save the file as UTF-8 CSV") from None
    except (EOFError, zlib.error, io.UnsupportedOperation):
        raise error(
            f"{where}: the compressed file is truncated or corrupt; fix: download or write it again"
        ) from None
    except pd.errors.EmptyDataError:
        raise error(f"{where}: the file is empty; fix: give a CSV with a header line") from None
    except pd.errors.ParserError as exc:
        detail = re.search(r"line \d+", str(exc))
        at = f" at {detail.group(0)}" if detail else ""
        raise error(
            f"{where}: cannot parse as CSV{at}; fix: give one header line and the same number "
            "of fields on every line"
        ) from None
    except OSError as exc:  # BadGzipFile, an unreadable file
        if "gzip" in str(exc).lower() or "compressed" in str(exc).lower():
            raise error(
                f"{where}: the compressed file is truncated or corrupt; fix: download or write "
                "it again"
            ) from None
        raise error(
            f"{where}: cannot read the file ({exc.strerror or type(exc).__name__})"
        ) from None
    except ValueError as exc:
        raise error(f"{where}: cannot read as CSV ({type(exc).__name__})") from None


def require_columns(
    df: pd.DataFrame, columns: Sequence[str], where: str, error: type[InputError], fix: str
) -> None:
    """Raise naming the missing columns (and how many the file has, not their text)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise error(
            f"{where} lacks column(s) {missing} ({len(df.columns)} column(s) found); fix: {fix}"
        )


# --------------------------------------------------------------------------- times

#: the stamps this project writes (ISO 8601, whole seconds, UTC as ``Z``): the fast path
_Z_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: a date, a time of day and ``Z``/``UTC`` or a UTC offset: what makes a stamp unambiguous
_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)",
    re.IGNORECASE,
)


def _z_stamps(values: pd.Series) -> pd.DatetimeIndex | None:
    """``values`` when every one is text like 2024-01-01T06:00:00Z (each distinct text parsed
    once: tidy files repeat every stamp once per key), else None."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not len(uniques) or (codes < 0).any() or not all(isinstance(u, str) for u in uniques):
        return None
    parsed = pd.to_datetime(
        pd.Index(uniques).str.strip(), format=_Z_FORMAT, utc=True, errors="coerce"
    )
    if parsed.isna().any():
        return None
    return pd.DatetimeIndex(parsed[codes])


def parse_times(
    values: pd.Series, where: str, error: type[InputError] = TableError
) -> pd.DatetimeIndex:
    """UTC instants of a column of ISO 8601 times with ``Z`` or a UTC offset (or a tz-aware
    datetime column). A naive time is refused, never guessed; ``where`` names file and column.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dtype, "tz", None) is None:
            raise error(
                f"{where} holds times without a time zone (without a UTC offset); fix: store "
                "tz-aware (UTC) times, or ISO 8601 text ending in Z or an offset"
            )
        return pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    fast = _z_stamps(values)
    if fast is not None:
        return fast
    text = values.astype(str).str.strip()
    naive = ~text.str.fullmatch(_WITH_OFFSET)
    not_time = naive & ~text.str.match(r"\d{4}-\d{2}-\d{2}")
    if not_time.any():
        raise error(
            f"{where}: not an ISO 8601 time on line(s) {_mask_lines(not_time.to_numpy())}; "
            "fix: write e.g. 2023-07-10T19:00:00Z"
        )
    if naive.any():
        raise error(
            f"{where}: time(s) without a UTC offset on line(s) {_mask_lines(naive.to_numpy())}"
            "; times are never guessed to be local or UTC; fix: write ISO 8601 times with Z or "
            "their offset, e.g. 2023-07-10T14:00:00-05:00 or 2023-07-10T19:00:00Z"
        )
    parsed = pd.to_datetime(
        text.str.replace(r"\s*UTC$", "Z", regex=True, case=False),
        utc=True,
        format="ISO8601",
        errors="coerce",
    )
    if parsed.isna().any():
        raise error(
            f"{where}: not an ISO 8601 time on line(s) {_mask_lines(parsed.isna().to_numpy())}; "
            "fix: write e.g. 2023-07-10T19:00:00Z"
        )
    return pd.DatetimeIndex(parsed)


# --------------------------------------------------------------------------- numbers


def parse_numbers(
    values: pd.Series,
    where: str,
    error: type[InputError] = TableError,
    *,
    lo: float | None = None,
    hi: float | None = None,
    blank_is_missing: bool = False,
) -> np.ndarray:
    """Finite floats of a column within [lo, hi]; text, NaN, ±inf and out-of-range values are
    refused naming the lines. ``blank_is_missing``: a blank cell is NaN (a fill policy decides).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        raise error(f"{where} holds true/false, not numbers; fix: give numbers")
    if pd.api.types.is_numeric_dtype(values.dtype):
        out = values.to_numpy(dtype=float)
        blank = np.zeros(len(out), bool)
    else:
        text = values.astype(str).str.strip()
        blank = (text == "").to_numpy()
        out = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype=float)
    missing = np.isnan(out) & blank if blank_is_missing else np.zeros(len(out), bool)
    bad = ~np.isfinite(out) & ~missing
    if bad.any():
        raise error(
            f"{where} has a missing, non-numeric or non-finite (NaN/inf) value on line(s) "
            f"{_mask_lines(bad)}; fix: give a finite number on every line"
        )
    with np.errstate(invalid="ignore"):
        out_of_range = np.zeros(len(out), bool)
        if lo is not None:
            out_of_range |= out < lo
        if hi is not None:
            out_of_range |= out > hi
    if out_of_range.any():
        bounds = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
        raise error(
            f"{where} has values outside {bounds} on line(s) {_mask_lines(out_of_range)}; "
            "fix: correct these lines"
        )
    return out


def parse_ints(
    values: pd.Series, where: str, lo: int, hi: int, error: type[InputError] = TableError
) -> np.ndarray:
    """Whole numbers of a column within [lo, hi] (``2024`` or ``2024.0``, not ``2024.5``)."""
    x = parse_numbers(values, where, error, lo=lo, hi=hi)
    frac = x != np.round(x)
    if frac.any():
        raise error(f"{where} has non-integer values on line(s) {_mask_lines(frac)}")
    return x.astype(np.int64)


# --------------------------------------------------------------------------- step coverage


def to_step_means(
    series: pd.Series,
    index: pd.DatetimeIndex,
    step: pd.Timedelta,
    where: str,
    error: type[InputError] = TableError,
) -> np.ndarray:
    """Values of a sampled series (interval starts, UTC) on the model's steps ``index``.

    Samples shorter than the step are averaged over it and must cover it entirely (a step
    with only some of its samples is refused, never averaged over what is there); samples as
    long as the step or longer are held over it. Sample intervals must not straddle a step
    boundary. The sample length is the file's most common spacing; a shorter spacing is refused.
    """
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise error(f"{where} has duplicate times (first {dup.isoformat()}); fix: keep one")
    series = series.sort_index()
    if len(series) > 1:
        gaps = np.diff(series.index.asi8)
        src = pd.Timedelta(int(pd.Series(gaps).mode().iloc[0]), "ns")
        if (gaps < src.value).any() or (gaps % src.value != 0).any():
            raise error(
                f"{where}: irregular spacing (the file's interval is {src}, but some times are "
                "closer or off that grid); fix: give evenly spaced times"
            )
    else:
        src = step
    if len(index) == 0:
        return np.zeros(0)
    origin = index[0]
    if src < step:
        if step % src != pd.Timedelta(0) or (series.index[0] - origin) % src != pd.Timedelta(0):
            raise error(
                f"{where}: its {src} intervals do not divide the model's {step} steps evenly; "
                "fix: resample the file to a divisor of the step"
            )
        need = step // src
        bins = (series.index - origin) // step
        df = pd.DataFrame({"v": series.to_numpy(float), "b": bins})
        grouped = df.groupby("b")["v"].agg(["mean", "count"])
        pos = grouped.reindex(range(len(index)))
        partial = pos["count"].notna() & (pos["count"] < need)
        if partial.any():
            first = index[int(np.flatnonzero(partial.to_numpy())[0])]
            raise error(
                f"{where} covers only part of {int(partial.sum())} model step(s) (first "
                f"{first.isoformat()}: {int(pos['count'][partial].iloc[0])} of {need} samples); "
                "a partly covered step is not averaged over what is there; fix: complete the file"
            )
        values = pos["mean"].to_numpy(float)
    else:
        offsets = (series.index.asi8 - origin.value) % step.value
        if src % step != pd.Timedelta(0) or offsets.any():
            raise error(
                f"{where}: its {src} intervals do not align with the model's {step} steps; fix: "
                "give intervals that start on the model's steps"
            )
        values = series.reindex(index, method="ffill", tolerance=src - pd.Timedelta(1)).to_numpy(
            float
        )
    missing = np.isnan(values)
    if missing.any():
        gaps = index[missing]
        raise error(
            f"{where} does not cover {len(gaps)} model interval(s), first {gaps[0].isoformat()}; "
            "fix: extend the file or the horizon"
        )
    return values
