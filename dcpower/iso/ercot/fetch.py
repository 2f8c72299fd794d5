"""Opt-in online fetcher of ERCOT's public annual DAM price reports for years that are not shipped.

What is fetched
---------------
* **NP4-180-ER** "Historical DAM Load Zone and Hub Prices" (MIS report type 13060), one zip per
  year, ``DAMLZHBSPP_<year>.zip``: hourly DAM settlement point prices of the hubs and load zones.
* **NP4-181-ER** "Historical DAM Clearing Prices for Capacity" (MIS report type 13091), one zip
  per year, ``DAMASMCPC_<year>.zip``: hourly DAM ancillary-service MCPCs.

Each zip is stored once under ``<data_dir>/downloads/`` with a sidecar ``<zip name>.sha256``
(``sha256sum`` format, checksum of the bytes as downloaded), parsed with the adapter's own native
parsers (:func:`~dcpower.iso.ercot.parsers.parse_dam_spp_native`,
:func:`~dcpower.iso.ercot.parsers.parse_as_mcpc_native`, so DST handling is identical) and
written as tidy files named like the shipped ones (``dam_spp_hourly_<year>.csv.gz``,
``as_mcpc_hourly_<year>.csv.gz``, columns as in ``resources_data/ercot/README.md``), which
:class:`~dcpower.iso.ercot.ErcotAdapter` then finds in ``data_dir``. Nothing is downloaded unless
the caller passes ``allow_download=True`` (config key ``market.allow_download: true``).

Where ERCOT publishes them (and what could not be verified)
-----------------------------------------------------------
ERCOT publishes these annual reports as zips on its Market Information System (MIS). The MIS has
no per-year URL: each posted file has a document id, found in the report type's JSON document
list (``https://www.ercot.com/misapp/servlets/IceDocListJsonWS?reportTypeId=<id>``, answer
``{"ListDocsByRptTypeRes": {"DocumentList": [{"Document": {"DocID", "FriendlyName",
"ConstructedName", "PublishDate", ...}}]}}``) and downloaded from
``https://www.ercot.com/misdownload/servlets/mirDownload?doclookupId=<DocID>`` (the MIS
report-type document list + ``doclookupId`` download API, called "getReportTypeDocs/doclookupId"
in this project's notes; that exact name was not found in the sources checked).
:data:`DEFAULT_SOURCE` therefore uses *document-list
templates*: a URL whose fragment is ``#doc=<NAME>`` is read as such a list, the document whose
``FriendlyName`` is ``<NAME>`` or whose ``ConstructedName`` contains ``<NAME>.zip`` is chosen (the
newest ``PublishDate`` if ERCOT lists several copies) and fetched from
:attr:`FetchSource.mis_download_url`. A URL without that fragment is downloaded directly (a mirror,
or a test server).

These endpoints and report type ids (13060, 13091) are the ones used by public code that
downloads the same reports (e.g. the ``gridstatus`` library selects the 13060 document whose
``ConstructedName`` contains ``<year>.zip``; other projects select ``FriendlyName ==
"DAMASMCPC_<year>"`` in 13091) and match the ``rpt.00013060...`` / ``rpt.00013091...`` names of
the files the shipped data came from. They could **not** be checked against ERCOT's live site
when this module was written (no network access). ERCOT's newer Public API
(``api.ercot.com``) needs a registered subscription key and token and is not used here. If ERCOT
changes the MIS, configure the URLs yourself with a :class:`FetchSource` (e.g. direct URLs of
the zips on a mirror).

The NP4-180-ER zip holds an Excel workbook (one sheet per month), not a CSV. Reading it needs the
optional package ``openpyxl``; without it only CSV members are supported and the error says so.
The NP4-181-ER zip holds a CSV.

Caching and refresh
-------------------
A tidy file ``dam_spp_hourly_<year>.csv.gz`` / ``as_mcpc_hourly_<year>.csv.gz`` already in
``data_dir`` (shipped or written earlier) is used as is, without any network access; so is a set
of other tidy files that together cover the local calendar year. If the tidy file is missing but
the zip is cached, the zip's checksum is verified and the tidy file rebuilt from it, again without
network. ERCOT re-posts the current year's report as the year goes on: delete the year's tidy
file, zip and ``.sha256`` to refresh it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import numpy as np
import pandas as pd

from dcpower.filecheck import check_cache_target
from dcpower.iso.base import MarketDataError
from dcpower.iso.cache import file_year as _file_year
from dcpower.iso.ercot.parsers import (
    AS_SERVICES,
    ERCOT_TZ,
    parse_as_mcpc_native,
    parse_dam_spp_native,
)
from dcpower.iso.ercot.shipped import _load_shipped, _shipped_files
from dcpower.iso.timegrid import merge_ranges as _merge_ranges
from dcpower.iso.timegrid import ranges_text as _ranges_text

__all__ = [
    "DEFAULT_SOURCE",
    "MIS_DOWNLOAD_URL",
    "REPORTS",
    "FetchSource",
    "ensure_year",
    "fetch_prices_for_study",
]

#: ERCOT MIS download endpoint for one posted document (``{doc_id}`` = the list's ``DocID``).
MIS_DOWNLOAD_URL = "https://www.ercot.com/misdownload/servlets/mirDownload?doclookupId={doc_id}"
_MIS_LIST_URL = "https://www.ercot.com/misapp/servlets/IceDocListJsonWS?reportTypeId={rtid}"
_USER_AGENT = "Mozilla/5.0 (compatible; dcpower ERCOT annual-report fetcher)"
_DOWNLOADS = "downloads"


@dataclass(frozen=True)
class FetchSource:
    """Where the annual reports are downloaded from.

    ``dam_spp_url`` / ``as_mcpc_url`` are URL templates with ``{year}``. A template whose fragment
    is ``#doc=<NAME>`` (``<NAME>`` may contain ``{year}``) is an ERCOT MIS document list: the
    document named ``<NAME>`` is looked up there and fetched from ``mis_download_url`` (a template
    with ``{doc_id}``). Any other URL is downloaded as it is and must answer with the zip.
    """

    dam_spp_url: str  # e.g. ERCOT MIS annual "DAMLZHBSPP_{year}.zip" (NP4-180-ER)
    as_mcpc_url: str  # e.g. ERCOT MIS annual "DAMASMCPC_{year}.zip" (NP4-181-ER)
    mis_download_url: str = MIS_DOWNLOAD_URL


#: ERCOT's public MIS: document lists of report types 13060 (NP4-180-ER) and 13091 (NP4-181-ER),
#: files fetched by ``doclookupId``. Not verified live (see the module docstring); override with a
#: :class:`FetchSource` if ERCOT moves these services.
DEFAULT_SOURCE = FetchSource(
    dam_spp_url=_MIS_LIST_URL.format(rtid=13060) + "#doc=DAMLZHBSPP_{year}",
    as_mcpc_url=_MIS_LIST_URL.format(rtid=13091) + "#doc=DAMASMCPC_{year}",
)


@dataclass(frozen=True)
class _Report:
    key: str  # "dam_spp" / "as_mcpc"
    label: str
    product: str  # ERCOT EMIL id
    stem: str  # annual file name stem, e.g. DAMLZHBSPP
    kind: str  # adapter file kind ("dam" / "as")
    url_field: str
    tidy_prefix: str
    parser: Callable[[Any], pd.DataFrame]

    def tidy_name(self, year: int) -> str:
        return f"{self.tidy_prefix}{year}.csv.gz"

    def zip_name(self, year: int) -> str:
        return f"{self.stem}_{year}.zip"


#: The annual reports :func:`ensure_year` can fetch, by key.
REPORTS: dict[str, _Report] = {
    "dam_spp": _Report(
        "dam_spp",
        "DAM settlement point prices",
        "NP4-180-ER",
        "DAMLZHBSPP",
        "dam",
        "dam_spp_url",
        "dam_spp_hourly_",
        parse_dam_spp_native,
    ),
    "as_mcpc": _Report(
        "as_mcpc",
        "DAM ancillary-service clearing prices (MCPC)",
        "NP4-181-ER",
        "DAMASMCPC",
        "as",
        "as_mcpc_url",
        "as_mcpc_hourly_",
        parse_as_mcpc_native,
    ),
}

_DAM_COLUMNS = [
    "interval_start_utc",
    "interval_end_utc",
    "interval_start_local",
    "delivery_date",
    "hour_ending",
    "repeated_hour_flag",
    "settlement_point",
    "settlement_point_type",
    "price_usd_per_mwh",
]
_AS_COLUMNS = [*_DAM_COLUMNS[:6], "service", "mcpc_usd_per_mw"]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def ensure_year(
    year: int,
    settlement_point: str,
    data_dir: Path,
    *,
    allow_download: bool,
    source: FetchSource = DEFAULT_SOURCE,
    timeout_s: float = 60,
    reports: Sequence[str] = ("dam_spp", "as_mcpc"),
) -> list[Path]:
    """Make sure tidy files for ``year`` exist in ``data_dir``; return their paths.

    For each report in ``reports`` (``"dam_spp"``: NP4-180-ER DAM prices, which must include
    ``settlement_point``; ``"as_mcpc"``: NP4-181-ER AS clearing prices):

    * if ``<data_dir>/dam_spp_hourly_<year>.csv.gz`` (``as_mcpc_hourly_<year>.csv.gz``) exists, or
      other shipped/cached tidy files cover the local calendar year (for the point), they are
      returned without network access;
    * else, if the zip is cached in ``<data_dir>/downloads/``, its stored SHA-256 is verified
      (a mismatch raises, telling the user to delete the file) and the tidy file rebuilt from it;
    * else, if ``allow_download`` is false, :class:`MarketDataError` names the year, what is
      shipped and the config key ``market.allow_download: true``;
    * else the annual zip is downloaded from ``source`` (``timeout_s`` per request), stored with a
      ``.sha256`` sidecar, parsed with the adapter's native parsers and written as a tidy file
      (temp file + ``os.replace``).

    Network errors raise :class:`MarketDataError` naming the URL and the HTTP status/reason; so
    does a report whose data lie outside ``year`` or that lacks ``settlement_point``.
    """
    y = _check_year(year)
    point = str(settlement_point).strip().upper()
    if not point:
        raise MarketDataError("market.settlement_point: empty settlement point.")
    d = Path(data_dir)
    paths: list[Path] = []
    for rep in _check_reports(reports):
        for p in _ensure_report(rep, y, point, d, allow_download, source, timeout_s):
            if p not in paths:
                paths.append(p)
    return paths


def fetch_prices_for_study(
    years: Iterable[int],
    settlement_point: str,
    data_dir: Path,
    allow_download: bool,
    source: FetchSource = DEFAULT_SOURCE,
    *,
    timeout_s: float = 60,
    reports: Sequence[str] = ("dam_spp", "as_mcpc"),
) -> dict[int, list[Path]]:
    """Call :func:`ensure_year` for each of ``years`` (sorted, once each); ``{year: paths}``."""
    return {
        y: ensure_year(
            y,
            settlement_point,
            data_dir,
            allow_download=allow_download,
            source=source,
            timeout_s=timeout_s,
            reports=reports,
        )
        for y in sorted({_check_year(y) for y in years})
    }


# --------------------------------------------------------------------------------------------
# One report, one year
# --------------------------------------------------------------------------------------------


def _check_year(year: Any) -> int:
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or not 2000 <= year <= 2100:
        raise MarketDataError(f"price year: {year!r} is not a calendar year (e.g. 2021).")
    return int(year)


def _check_reports(reports: Sequence[str]) -> list[_Report]:
    if isinstance(reports, str):
        reports = (reports,)
    unknown = [r for r in reports if r not in REPORTS]
    if unknown or not reports:
        raise MarketDataError(
            f"reports: {list(reports)!r} must be a non-empty subset of {sorted(REPORTS)}."
        )
    return [REPORTS[r] for r in dict.fromkeys(reports)]


def _year_window(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[local 1 Jan 00:00, local 1 Jan of the next year) in UTC (ERCOT operating days)."""
    a = pd.Timestamp(f"{year}-01-01", tz=ERCOT_TZ).tz_convert("UTC")
    b = pd.Timestamp(f"{year + 1}-01-01", tz=ERCOT_TZ).tz_convert("UTC")
    return a, b


def _ensure_report(
    rep: _Report,
    year: int,
    point: str,
    data_dir: Path,
    allow_download: bool,
    source: FetchSource,
    timeout_s: float,
) -> list[Path]:
    target = data_dir / rep.tidy_name(year)
    if target.is_file():
        _check_content(rep, target, point, year)
        return [target]
    covering = _covering_files(rep, year, point, data_dir) if data_dir.is_dir() else []
    if covering:
        return covering
    zip_path = data_dir / _DOWNLOADS / rep.zip_name(year)
    if zip_path.is_file():
        data = _read_verified(zip_path)
        try:
            tidy = _validated_tidy(rep, data, year, zip_path)
        except MarketDataError as exc:
            raise MarketDataError(f"{exc} {_remove_hint(zip_path)}") from None
    elif not allow_download:
        raise MarketDataError(_offline_message(rep, year, point, data_dir))
    else:
        # validate the download before anything is cached: a wrong or broken file is never
        # stored under the year's name (it would fail every later run, offline too)
        data, url = _download(rep, year, source, timeout_s)
        try:
            tidy = _validated_tidy(rep, data, year, url)
        except MarketDataError as exc:
            raise MarketDataError(
                f"{exc} Nothing was cached; check the download URL (FetchSource)."
            ) from None
        _atomic_write(zip_path, data)
        _atomic_write(_sidecar(zip_path), f"{_sha256_hex(data)}  {zip_path.name}\n".encode())
    csv_bytes = tidy.to_csv(index=False, lineterminator="\n").encode("utf-8")
    _atomic_write(target, gzip.compress(csv_bytes, mtime=0))
    _check_content(rep, target, point, year)
    return [target]


def _remove_hint(zip_path: Path) -> str:
    sidecar = _sidecar(zip_path)
    return (
        f"The cached file {zip_path} is not usable; remove it and its checksum to download the "
        f"report again: rm '{zip_path}' '{sidecar}'"
    )


def _validated_tidy(rep: _Report, data: bytes, year: int, src: Any) -> pd.DataFrame:
    """Parse a report zip and check that it is the year's report (raises MarketDataError)."""
    return _to_tidy(rep, _parse_zip(rep, data, src), year, src)


def _keys_for(rep: _Report, point: str) -> tuple[str, ...]:
    # AS prices are system-wide; an annual AS report always holds the legacy services all year.
    return (point,) if rep.kind == "dam" else AS_SERVICES


def _covering_files(rep: _Report, year: int, point: str, data_dir: Path) -> list[Path]:
    """Tidy files in ``data_dir`` that together cover the whole year for the point (or AS)."""
    window = _year_window(year)
    files = [p for p in _shipped_files(data_dir, rep.kind) if _file_year(p) in (year, None)]
    tables = [_load_shipped(p, rep.kind) for p in files]
    for key in _keys_for(rep, point):
        merged = _merge_ranges(t.coverage[key] for t in tables if key in t.coverage)
        if any(a <= window[0] and window[1] <= b for a, b in merged):
            return [
                t.path
                for t in tables
                if any(
                    k in t.coverage
                    and t.coverage[k][0] < window[1]
                    and window[0] < t.coverage[k][1]
                    for k in _keys_for(rep, point)
                )
            ]
    return []


def _check_content(rep: _Report, path: Path, point: str, year: int) -> None:
    table = _load_shipped(path, rep.kind)
    if rep.kind == "dam" and point not in table.coverage:
        raise MarketDataError(
            f"market.settlement_point: {point!r} has no prices in {path} (ERCOT {rep.product} "
            f"for {year}); settlement points there: {sorted(table.coverage)}."
        )
    if not table.coverage:
        raise MarketDataError(f"{path}: holds no prices; delete it to fetch {year} again.")


def _offline_message(rep: _Report, year: int, point: str, data_dir: Path) -> str:
    what = point if rep.kind == "dam" else "any AS product"
    window = _year_window(year)
    if data_dir.is_dir():
        files = _shipped_files(data_dir, rep.kind)
        parts = []
        for p in files:
            cov = _load_shipped(p, rep.kind).coverage
            keys = [k for k in _keys_for(rep, point) if k in cov]
            ranges = _ranges_text(_merge_ranges(cov[k] for k in keys)) if keys else "none"
            parts.append(f"{p.name} ({what}: {ranges})")
        shipped = "; ".join(parts) or "none"
    else:
        shipped = f"none ({data_dir} does not exist)"
    return (
        f"market data for {year} is not shipped: no {rep.label} file in {data_dir} covers "
        f"{what} for the local calendar year {year} ({_ranges_text([window])} UTC). Shipped/"
        f"cached {rep.label} files: {shipped}. ERCOT publishes {year} as the public annual report "
        f"{rep.product} {rep.zip_name(year)}; to download it once into {data_dir / _DOWNLOADS} set "
        "market.allow_download: true in the config (needs network access to ERCOT), or give your "
        "own market.price_file / market.reserve_price_file."
    )


# --------------------------------------------------------------------------------------------
# Network, cache and parsing
# --------------------------------------------------------------------------------------------


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and ``os.replace`` (the
    target checked first: :func:`dcpower.filecheck.check_cache_target`)."""
    check_cache_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _sidecar(zip_path: Path) -> Path:
    return zip_path.with_name(zip_path.name + ".sha256")


def _read_verified(zip_path: Path) -> bytes:
    sidecar = _sidecar(zip_path)
    fix = f"Delete {zip_path} and {sidecar.name} to download the report again."
    if not sidecar.is_file():
        raise MarketDataError(f"{zip_path}: cached download has no checksum file {sidecar}. {fix}")
    expected = sidecar.read_text(encoding="utf-8").split()[:1]
    data = zip_path.read_bytes()
    actual = _sha256_hex(data)
    if not expected or expected[0].lower() != actual:
        recorded = expected[0] if expected else "<empty>"
        raise MarketDataError(
            f"{zip_path}: cached download is corrupt or was changed: SHA-256 {actual}, but "
            f"{sidecar.name} records {recorded}. {fix}"
        )
    return data


def _format_template(template: str, year: int, rep: _Report) -> str:
    if "{year}" not in template:
        raise MarketDataError(f"FetchSource.{rep.url_field}: {template!r} must contain '{{year}}'.")
    try:
        url = template.format(year=year)
    except (KeyError, IndexError, ValueError) as exc:
        raise MarketDataError(
            f"FetchSource.{rep.url_field}: {template!r} is not a valid template with only "
            f"'{{year}}' ({exc})."
        ) from exc
    if urlsplit(url).scheme not in ("http", "https"):
        raise MarketDataError(f"FetchSource.{rep.url_field}: {url!r} is not an http(s) URL.")
    return url


def _http_get(url: str, timeout_s: float) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise MarketDataError(
            f"download failed: {url} answered HTTP {exc.code} {exc.reason}. If ERCOT moved the "
            "report, configure the URL (FetchSource) or supply the prices as a file."
        ) from exc
    except urllib.error.URLError as exc:
        raise MarketDataError(
            f"download failed: {url} could not be reached ({exc.reason}). Check the network, or "
            "set market.allow_download: false and supply the prices as a file."
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise MarketDataError(
            f"download failed: {url} ({type(exc).__name__}: {exc}; timeout {timeout_s} s)."
        ) from exc


def _pick_document(docs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    want = name.upper()
    hits = []
    for order, entry in enumerate(docs):
        doc = entry.get("Document", entry) if isinstance(entry, dict) else {}
        friendly = str(doc.get("FriendlyName", "")).upper()
        constructed = str(doc.get("ConstructedName", "")).upper()
        if doc.get("DocID") and (friendly == want or f"{want}.ZIP" in constructed):
            published = pd.to_datetime(str(doc.get("PublishDate", "")), errors="coerce", utc=True)
            hits.append((published, -order, doc))
    if not hits:
        return None
    dated = [h for h in hits if not pd.isna(h[0])]
    # newest publication first; ERCOT lists newest first, so keep list order otherwise
    return max(dated, key=lambda h: (h[0], h[1]))[2] if dated else hits[0][2]


def _resolve(url: str, rep: _Report, year: int, source: FetchSource, timeout_s: float) -> str:
    """Direct download URL: ``url`` itself, or the MIS document named in its ``#doc=`` fragment."""
    base, fragment = urldefrag(url)
    if not fragment.startswith("doc="):
        return url
    name = fragment[len("doc=") :]
    raw = _http_get(base, timeout_s)
    try:
        docs = json.loads(raw.decode("utf-8"))["ListDocsByRptTypeRes"]["DocumentList"]
        if isinstance(docs, dict):  # a single document may come unwrapped
            docs = [docs]
        docs = list(docs)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise MarketDataError(
            f"{base}: not an ERCOT MIS document list (expected JSON ListDocsByRptTypeRes."
            f"DocumentList; {type(exc).__name__}: {exc}). ERCOT may have changed its public-report "
            f"service; configure FetchSource.{rep.url_field} with a direct URL of "
            f"{rep.zip_name(year)}."
        ) from exc
    doc = _pick_document(docs, name)
    if doc is None:
        raise MarketDataError(
            f"{base}: ERCOT lists no document {name!r} ({rep.product} for {year}; "
            f"{len(docs)} documents listed). The year may not be published yet."
        )
    return source.mis_download_url.format(doc_id=doc["DocID"])


def _download(rep: _Report, year: int, source: FetchSource, timeout_s: float) -> tuple[bytes, str]:
    """The report's bytes and the URL they came from (nothing is written here)."""
    url = _format_template(getattr(source, rep.url_field), year, rep)
    direct = _resolve(url, rep, year, source, timeout_s)
    data = _http_get(direct, timeout_s)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise MarketDataError(
            f"download failed: {direct} did not answer with a zip archive ({len(data)} bytes); "
            f"expected ERCOT {rep.product} {rep.zip_name(year)}. Nothing was cached."
        )
    return data, direct


def _pick_member(zf: zipfile.ZipFile, rep: _Report, zip_path: Path) -> zipfile.ZipInfo:
    members = [m for m in zf.infolist() if not m.is_dir()]
    for suffix in (".csv", ".xlsx"):
        found = [m for m in members if m.filename.lower().endswith(suffix)]
        if len(found) > 1:
            found = [m for m in found if rep.stem in m.filename.upper()]
        if len(found) == 1:
            return found[0]
        if found:
            raise MarketDataError(
                f"{zip_path}: several {suffix} members {[m.filename for m in found]}; expected "
                f"one {rep.stem} report."
            )
    raise MarketDataError(
        f"{zip_path}: no CSV or xlsx member (members: {[m.filename for m in members]}); expected "
        f"ERCOT {rep.product} {rep.stem}."
    )


_EXCEL_FIXES = (
    (re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$"), r"\1"),  # date cell read as datetime
    (re.compile(r"^(\d{1,2}):00:00$"), r"\1:00"),  # "HH:00" read as a time of day
)


def _xlsx_to_csv(blob: bytes, src: str) -> str:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise MarketDataError(
            f"{src}: is an Excel workbook; reading it needs the optional package openpyxl, which "
            "is not installed (only CSV members are supported without it). Install openpyxl, or "
            "convert the workbook to CSV and give it as market.price_file."
        ) from exc
    try:
        sheets = pd.read_excel(io.BytesIO(blob), sheet_name=None, dtype=str, engine="openpyxl")
    except (OSError, ValueError, KeyError) as exc:
        raise MarketDataError(f"{src}: cannot read the workbook ({exc}).") from exc
    frames = [df for df in sheets.values() if len(df.columns)]
    if not frames:
        raise MarketDataError(f"{src}: the workbook has no data sheets.")
    raw = pd.concat(frames, ignore_index=True).fillna("")
    raw.columns = [str(c).strip() for c in raw.columns]
    for col in raw.columns:
        s = raw[col].astype(str).str.strip()
        for pattern, repl in _EXCEL_FIXES:
            s = s.str.replace(pattern, repl, regex=True)
        raw[col] = s
    return raw.to_csv(index=False)


def _parse_zip(rep: _Report, data: bytes, zip_path: Path) -> pd.DataFrame:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise MarketDataError(
            f"{zip_path}: not a valid zip ({exc}). Delete it and its .sha256 to download again."
        ) from exc
    with zf:
        member = _pick_member(zf, rep, zip_path)
        blob = zf.read(member)
    src = f"{zip_path}:{member.filename}"
    if member.filename.lower().endswith(".xlsx"):
        buf: io.IOBase = io.StringIO(_xlsx_to_csv(blob, src))
    else:
        buf = io.BytesIO(blob)
    buf.name = src  # type: ignore[attr-defined]  # parsers name the source in their errors
    return rep.parser(buf)


def _local_labels(start: pd.DatetimeIndex) -> dict[str, Any]:
    """ERCOT labels of UTC interval starts (the shipped files' rule, see the data README)."""
    local = start.tz_convert(ERCOT_TZ)
    wall = local.tz_localize(None)
    prev_wall = (start - pd.Timedelta(hours=1)).tz_convert(ERCOT_TZ).tz_localize(None)
    offset_min = ((wall - start.tz_localize(None)) // pd.Timedelta(minutes=1)).to_numpy()
    sign = np.where(offset_min < 0, "-", "+")
    hh = (np.abs(offset_min) // 60).astype(int)
    mm = (np.abs(offset_min) % 60).astype(int)
    offsets = [f"{s}{h:02d}:{m:02d}" for s, h, m in zip(sign, hh, mm, strict=True)]
    return {
        "interval_start_utc": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "interval_end_utc": (start + pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "interval_start_local": wall.strftime("%Y-%m-%dT%H:%M:%S") + pd.Index(offsets),
        "delivery_date": wall.strftime("%Y-%m-%d"),
        "hour_ending": wall.hour + 1,
        "repeated_hour_flag": np.where(wall == prev_wall, "Y", "N"),
    }


def _to_tidy(rep: _Report, frame: pd.DataFrame, year: int, zip_path: Path) -> pd.DataFrame:
    """Shipped tidy layout (long, sorted by time then key) from a native parser's frame."""
    if rep.kind == "dam":
        long = frame.dropna(subset=["price_usd_per_mwh"])
        keys, values = long["settlement_point"], long["price_usd_per_mwh"]
        key_col, value_col, columns = "settlement_point", "price_usd_per_mwh", _DAM_COLUMNS
    else:
        long = frame.rename_axis("interval_start_utc").reset_index()
        long = long.melt(id_vars="interval_start_utc", var_name="service", value_name="v")
        long = long.dropna(subset=["v"]).set_index("interval_start_utc")
        keys, values = long["service"], long["v"]
        key_col, value_col, columns = "service", "mcpc_usd_per_mw", _AS_COLUMNS
    start = pd.DatetimeIndex(long.index)
    if not len(start):
        raise MarketDataError(f"{zip_path}: the report holds no prices.")
    a, b = _year_window(year)
    outside = (start < a) | (start >= b)
    if outside.any():
        raise MarketDataError(
            f"{zip_path}: holds operating days outside {year} (e.g. {start[outside][0]} UTC); "
            f"it is not ERCOT's {year} {rep.product} report."
        )
    out = pd.DataFrame(_local_labels(start))
    out[key_col] = keys.to_numpy()
    if rep.kind == "dam":
        pts = out[key_col].astype(str)
        out["settlement_point_type"] = np.select(
            [pts.str.startswith("HB_"), pts.str.startswith("LZ_")], ["hub", "load_zone"], "other"
        )
    out[value_col] = values.to_numpy(dtype=float)
    out = out.sort_values(["interval_start_utc", key_col], kind="stable")
    return out[columns].reset_index(drop=True)
