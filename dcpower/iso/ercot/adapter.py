"""ERCOT adapter: DAM/RTM settlement point prices and DAM ancillary-service clearing prices.

Data sources
------------
Shipped data lives in ``resources_data/ercot`` (tidy, gzip CSV; see the README there):

* ``dam_spp_hourly_*.csv.gz``  - Day-Ahead Market settlement point prices, hourly, $/MWh.
* ``rtm_spp_15min_*.csv.gz``   - Real-Time Market settlement point prices, 15-min, $/MWh.
* ``as_mcpc_hourly_*.csv.gz``  - DAM ancillary-service market clearing prices for capacity
  (MCPC), hourly, $/MW per hour.

Shipped years: DAM 2016, 2021-2024 (all hubs and load zones), AS 2016 and 2022-2024 (ECRS from
operating day 2023-06-10, when ERCOT launched it; asking for ECRS earlier is a MarketDataError
naming that day). An ERCOT annual report file (``dam_spp_hourly_2024.csv.gz``) takes precedence
over other shipped files for the points and intervals it covers: it carries ERCOT's price
corrections (January 2024), which the older gridstatus.io HB_HUBAVG 2024 extract lacks.

A case may instead supply its own file (``price_file`` / ``reserve_price_file``) in the tidy layout
or in one of ERCOT's native layouts (NP4-180-ER / NP4-190-CD DAM SPP, NP6-785-ER / NP6-905-CD RTM
SPP, NP4-181-ER / NP4-188-CD AS MCPC) or the gridstatus library's layout; the layout is detected
from the header.

Time convention
---------------
ERCOT labels intervals by operating day and *hour ending* (1-24) in local prevailing time
(America/Chicago). The interval start is ``delivery_date + (hour_ending - 1) h`` (+ ``(interval - 1)
* 15 min`` for RTM). On the fall-back day the wall-clock hour 01:00-02:00 occurs twice: the row with
``Repeated Hour Flag`` (``DSTFlag``) ``N`` is the first pass (CDT, UTC-5), ``Y`` the second (CST,
UTC-6). On the spring-forward day ERCOT omits hour ending 03:00. Every parser returns data indexed
by the tz-aware UTC interval start (``interval_start_utc``); a local time that does not exist raises
:class:`MarketDataError` naming the line.

Reserve catalogue (energy-storage duration requirements)
--------------------------------------------------------
``duration_h`` is the number of hours an Energy Storage Resource must be able to sustain its
ancillary-service award. The defaults follow the ERCOT Nodal Protocols as in force with Real-Time
Co-optimization plus Batteries (RTC+B, go-live 5 Dec 2025):

* Reg-Up, Reg-Down, RRS: 0.5 h - NPRR1282 "Ancillary Service Duration under Real-Time
  Co-Optimization" (revises Protocols 8.1.1.2.1.x / 8.1.1.3.x).
* ECRS: 1 h - NPRR1282; NPRR1339 (posted May 2026, pending) corrects leftover two-hour references
  to the as-built one-hour duration. ECRS launched on 10 Jun 2023 (NPRR863) with 2 h (NPRR1096).
* Non-Spin: 4 h - NPRR1096 "Require Sustained Two-Hour Capability for ECRS and Four-Hour
  Capability for Non-Spin" (Non-Spin part implemented in ERCOT release R6, Dec 2022); NPRR1282
  did not change it.

Uncertainty: confirmed from ERCOT's NPRR1282 and NPRR1339 issue pages (TAC recommended NPRR1282 on
28 May 2025; NPRR1339 calls the one-hour ECRS duration "as-built"); the final Board/PUCT approval
record of NPRR1282 was not seen. The pre-RTC+B (NPRR1186-era) values - ECRS 2 h (NPRR1096) and,
as far as we know (unverified), Reg/RRS 1 h - are *not* the defaults. The same (current)
durations are applied to historical price years; use :func:`apply_catalogue_overrides` to model
another protocol revision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dcpower import data_root
from dcpower.iso.base import (
    MarketData,
    MarketDataError,
    MarketRequest,
    ReserveProduct,
    apply_catalogue_overrides,
)
from dcpower.iso.cache import TidyTable as _Table
from dcpower.iso.cache import candidate_files as _candidate_files
from dcpower.iso.cache import sha256_file as _sha256
from dcpower.iso.ercot.fetch import ensure_year
from dcpower.iso.ercot.parsers import (
    ERCOT_TZ,
    canonical_service,
    read_price_file,
    read_reserve_price_file,
)
from dcpower.iso.ercot.shipped import (
    _load_shipped,
    _shipped_files,
)
from dcpower.iso.tidy import safe_names as _safe_names
from dcpower.iso.timegrid import INDEX_NAME as _INDEX_NAME
from dcpower.iso.timegrid import SeriesSpec as _SeriesSpec
from dcpower.iso.timegrid import fill_and_check as _fill_and_check
from dcpower.iso.timegrid import fmt_utc as _fmt
from dcpower.iso.timegrid import merge_ranges as _merge_ranges
from dcpower.iso.timegrid import overlaps as _overlaps
from dcpower.iso.timegrid import ranges_text as _ranges_text
from dcpower.iso.timegrid import to_model_grid as _to_model_grid
from dcpower.iso.timegrid import validate_request

__all__ = [
    "DEFAULT_DATA_DIR",
    "ErcotAdapter",
    "ercot_reserve_catalogue",
]

DEFAULT_DATA_DIR = data_root.shipped("ercot")

#: an ERCOT annual report's tidy file (NP4-180-ER / NP6-785-ER / NP4-181-ER), e.g.
#: ``dam_spp_hourly_2024.csv.gz``: it carries ERCOT's price corrections, so it takes precedence
#: over other shipped files (e.g. a gridstatus.io extract) for the keys and intervals it covers.
_ANNUAL_REPORT = re.compile(
    r"^(dam_spp_hourly|rtm_spp_15min|as_mcpc_hourly)_\d{4}\.(csv\.gz|csv|parquet)$"
)

#: first operating day with ECRS prices (ERCOT launched ECRS on 10 Jun 2023, NPRR863)
ECRS_FIRST_DAY = pd.Timestamp("2023-06-10", tz=ERCOT_TZ)


def _preferred(tables: list[_Table], key: str) -> list[_Table]:
    """The tables to read ``key`` from: a table whose data for ``key`` lie inside an annual
    report's coverage is left out (the annual report carries ERCOT's price corrections, e.g. the
    January 2024 DAM correction that the gridstatus.io HB_HUBAVG 2024 extract lacks)."""
    annual = [
        t.coverage[key]
        for t in tables
        if key in t.coverage and _ANNUAL_REPORT.match(t.path.name) is not None
    ]
    out = []
    for t in tables:
        if key not in t.coverage:
            continue
        a, b = t.coverage[key]
        inside = any(a0 <= a and b <= b0 for a0, b0 in annual)
        if _ANNUAL_REPORT.match(t.path.name) is None and inside:
            continue
        out.append(t)
    return out


# --------------------------------------------------------------------------------------------
# Reserve catalogue
# --------------------------------------------------------------------------------------------

_NPRR1282 = (
    "NPRR1282 (Ancillary Service Duration under Real-Time Co-Optimization; revises Nodal "
    "Protocols 2.2, 5.5.2, 8.1.1.2.1.x, 8.1.1.3.x; in force with RTC+B, 5 Dec 2025)"
)
_SRC_REG = (
    f"{_NPRR1282}: Energy Storage Resources must sustain Regulation for 30 min. Pre-RTC+B "
    "requirements were longer (believed 1 h; not verified)."
)
_SRC_RRS = (
    f"{_NPRR1282}: Energy Storage Resources must sustain RRS for 30 min. Pre-RTC+B requirements "
    "were longer (believed 1 h; not verified)."
)
_SRC_ECRS = (
    f"{_NPRR1282}: ECRS duration 1 h; NPRR1339 (posted May 2026, pending) corrects leftover "
    "two-hour references to the as-built 1 h. At ECRS launch (10 Jun 2023, NPRR863) NPRR1096 "
    "required 2 h."
)
_SRC_NSPIN = (
    "NPRR1096 (Require Sustained Two-Hour Capability for ECRS and Four-Hour Capability for "
    "Non-Spin; approved 2022, Non-Spin part implemented in ERCOT release R6, Dec 2022; Nodal "
    "Protocols 2.1, 3.17.3): Non-Spin limited to capacity sustainable for 4 consecutive hours; "
    "not changed by NPRR1282."
)


_DEPLOY = (
    "Nodal Protocols 3.18 (Resource Limits in Providing Ancillary Service): a Generation "
    "Resource's award is limited to what its ramp rate delivers in the product's deployment "
    "time — Regulation 5 min, RRS 10 min, ECRS 10 min, Non-Spin 30 min (as this project reads "
    "3.18; verify against the current text)."
)
_DEPLOY_NSPIN = (
    f"{_DEPLOY} Nodal Protocols 2.1 (definition of Non-Spinning Reserve Service): Off-Line "
    "Generation Resources that can be synchronised and ramped to their award within 30 min may "
    "carry Non-Spin; here an offline unit counts min(unit MW, ramp × (30 min − start delay)) "
    "when that reaches its minimum stable output, else nothing."
)


_LR = (
    "ERCOT, Load Resource Participation in the ERCOT Markets (Nodal Protocols 2.1 definitions): "
    "a qualified Load Resource may provide ECRS, Non-Spin, Reg-Up, Reg-Down and RRS; a "
    "Controllable Load Resource (CLR) is one that reduces or increases consumption under ERCOT "
    "Dispatch control. The model's flexible segment is a Load Resource that is not a CLR: it "
    "curtails on instruction and is never asked to consume more."
)
_LOAD_REG = (
    f"{_LR} Regulation follows the 4-second LFC signal both ways, so it needs a CLR: not "
    "eligible for the flexible segment by default (a site whose flexible load is a CLR may add "
    "'load' to REGUP's eligible_resources; down products stay closed to load, see README)."
)
_LOAD_RRS = (
    f"{_LR} RRS from a non-CLR Load Resource is deployed by its under-frequency relay "
    "(Nodal Protocols 3.18 and 6.5.7.6.2.2, as this project reads them; verify the relay "
    "setting and the Load Resource share cap in the current text)."
)
_LOAD_ECRS = (
    f"{_LR} NPRR1148 (ECRS system gaps; Nodal Protocols 6.5.7.3.1(2)(e), 6.5.7.6.2.4): ECRS "
    "from Load Resources that are not CLRs is deployed by instruction and counted as a ten-minute "
    "linear ramp; NPRR1148 also clarifies that such a Load Resource may be awarded RRS, ECRS and "
    "Non-Spin at the same time."
)
_LOAD_NSPIN = (
    f"{_LR} NPRR1148: a non-CLR Load Resource may carry Non-Spin; NPRR1096: a Resource limits "
    "its Non-Spin to what it sustains for 4 consecutive hours (here: the flexible load stays "
    "curtailed by the award for duration_h). ERCOT's resource parameters for non-CLR Load "
    "Resources include a maximum weekly energy (MWh) and maximum weekly deployments (ERCOT EWS "
    "Resource Parameter Messages, Non-Controllable Load Resource) — the case's "
    "load.reserves.weekly_curtailment_limit_mwh."
)


def ercot_reserve_catalogue() -> dict[str, ReserveProduct]:
    """Default ERCOT reserve products (durations per current protocols; see module docstring).

    Load eligibility: RRS, ECRS and Non-Spin may be carried by the flexible load as a
    (non-controllable) Load Resource; Regulation needs a Controllable Load Resource and is not
    open to load by default (``load_source`` of each product states the rule)."""
    both, with_load = ("gen", "bess"), ("gen", "bess", "load")

    def product(name, direction, duration_h, source, minutes, load_source, offline=False):
        return ReserveProduct(
            name,
            direction,
            duration_h,
            both if load_source == _LOAD_REG else with_load,
            source,
            deployment_minutes=minutes,
            offline_gen_eligible=offline,
            deployment_source=_DEPLOY_NSPIN if offline else _DEPLOY,
            load_source=load_source,
        )

    return {
        "REGUP": product("REGUP", "up", 0.5, _SRC_REG, 5.0, _LOAD_REG),
        "REGDN": product("REGDN", "down", 0.5, _SRC_REG, 5.0, _LOAD_REG),
        "RRS": product("RRS", "up", 0.5, _SRC_RRS, 10.0, _LOAD_RRS),
        "ECRS": product("ECRS", "up", 1.0, _SRC_ECRS, 10.0, _LOAD_ECRS),
        "NSPIN": product("NSPIN", "up", 4.0, _SRC_NSPIN, 30.0, _LOAD_NSPIN, offline=True),
    }


# --------------------------------------------------------------------------------------------
# Adapter
# --------------------------------------------------------------------------------------------


def _validate_request(request: MarketRequest) -> tuple[pd.Timestamp, pd.Timestamp]:
    if request.energy_market not in ("dam", "rtm"):
        raise MarketDataError(
            f"market.energy_market: {request.energy_market!r} is not supported by ERCOT; use "
            "'dam' (hourly Day-Ahead SPP) or 'rtm' (15-min Real-Time SPP)."
        )
    return validate_request(request)


def _product_names(requested: Sequence[str], catalogue: Mapping[str, ReserveProduct]) -> list[str]:
    names: list[str] = []
    for raw in requested:
        name = canonical_service(str(raw))
        if name is None or name not in catalogue:
            raise MarketDataError(
                f"market.reserve_products: unknown product {raw!r}; ERCOT catalogue products: "
                f"{sorted(catalogue)}."
            )
        if name not in names:
            names.append(name)
    return names


class ErcotAdapter:
    """ERCOT market adapter (energy $/MWh, reserves $/MW per hour, UTC index).

    Shipped data: ``resources_data/ercot`` (or ``MarketRequest.data_dir``).
    """

    name = "ercot"

    def __init__(self, catalogue_overrides: Mapping[str, Mapping[str, Any]] | None = None):
        self._catalogue = apply_catalogue_overrides(ercot_reserve_catalogue(), catalogue_overrides)

    # -- protocol ---------------------------------------------------------------------------

    def settlement_points(self, data_dir: Path | None = None) -> list[str]:
        """Settlement points with shipped DAM or RTM prices."""
        d = self._data_dir(data_dir)
        points: set[str] = set()
        for kind in ("dam", "rtm"):
            for p in _shipped_files(d, kind):
                points.update(_load_shipped(p, kind).coverage)
        return sorted(points)

    def reserve_catalogue(self) -> dict[str, ReserveProduct]:
        """Default ERCOT reserve products (REGUP, REGDN, RRS, ECRS, NSPIN), each citing a source."""
        return dict(self._catalogue)

    def prepare(self, request: MarketRequest, *, allow_download: bool = False) -> list[Path]:
        """Tidy files for the request's local calendar years: shipped, cached, or (when
        ``allow_download``) ERCOT's annual DAM SPP / AS MCPC reports fetched once and cached
        (:func:`dcpower.iso.ercot.fetch.ensure_year`). Files the case supplies itself and RTM
        prices are not fetched. Raises MarketDataError naming the year and the fix."""
        start, end = _validate_request(request)
        reports = []
        if request.price_file is None and request.energy_market == "dam":
            reports.append("dam_spp")
        if request.reserve_products and request.reserve_price_file is None:
            reports.append("as_mcpc")
        files = [p for p in (request.price_file, request.reserve_price_file) if p is not None]
        if not reports:
            return [Path(p) for p in files]
        data_dir = Path(request.data_dir) if request.data_dir is not None else DEFAULT_DATA_DIR
        last = end - pd.Timedelta(seconds=1)
        for year in sorted({start.tz_convert(ERCOT_TZ).year, last.tz_convert(ERCOT_TZ).year}):
            files += ensure_year(
                year,
                request.settlement_point,
                data_dir,
                allow_download=allow_download,
                reports=tuple(reports),
            )
        return [Path(p) for p in files]

    def load_market_data(self, request: MarketRequest) -> MarketData:
        """Energy ($/MWh) and reserve ($/MW per hour) prices on the model's UTC grid."""
        start, end = _validate_request(request)
        point = request.settlement_point.strip().upper()
        names = _product_names(request.reserve_products, self._catalogue)
        step = request.timestep_minutes
        pad = pd.Timedelta(minutes=step * (request.max_fill_steps + 1))
        wstart, wend = start - pad, end + pad
        files_used: list[dict[str, str]] = []
        filled: list[dict[str, Any]] = []

        energy_src, energy_minutes, energy_files = self._energy_source(
            request, point, start, end, wstart, wend
        )
        for f in energy_files:
            files_used.append({"role": "energy", "path": str(f), "sha256": _sha256(f)})
        label = f"energy price {point} ({request.energy_market.upper()})"
        window = _to_model_grid(energy_src, energy_minutes, wstart, wend, step)
        energy = _fill_and_check(
            window,
            start,
            end,
            request,
            _SeriesSpec(label, "energy", [f.name for f in energy_files]),
            filled,
        )
        energy.name = "energy_price_usd_per_mwh"
        energy.index.name = _INDEX_NAME

        reserve = pd.DataFrame(index=energy.index)
        reserve_minutes: int | None = None
        if names:
            as_wide, reserve_minutes, as_files = self._reserve_source(
                request, names, start, end, wstart, wend
            )
            for f in as_files:
                files_used.append({"role": "reserve", "path": str(f), "sha256": _sha256(f)})
            cols = {}
            for name in names:
                w = _to_model_grid(as_wide[name], reserve_minutes, wstart, wend, step)
                cols[name] = _fill_and_check(
                    w,
                    start,
                    end,
                    request,
                    _SeriesSpec(f"reserve price {name}", name, [f.name for f in as_files]),
                    filled,
                )
            reserve = pd.DataFrame(cols, index=energy.index)
        reserve.index.name = _INDEX_NAME

        provenance: dict[str, Any] = {
            "iso": self.name,
            "settlement_point": point,
            "energy_market": request.energy_market,
            "start_utc": _fmt(start),
            "end_utc": _fmt(end),
            "timestep_minutes": step,
            "source_interval_minutes": {"energy": energy_minutes, "reserve": reserve_minutes},
            "reserve_products": names,
            "files": files_used,
            "fill_policy": request.fill_policy,
            "max_fill_steps": request.max_fill_steps,
            "filled_intervals": filled,
        }
        return MarketData(
            energy_price_usd_per_mwh=energy,
            reserve_price_usd_per_mw_h=reserve,
            reserve_products={n: self._catalogue[n] for n in names},
            provenance=provenance,
        )

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _data_dir(data_dir: Path | None) -> Path:
        d = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
        if not d.is_dir():
            raise MarketDataError(
                f"market.data_dir: {d} does not exist; point it at resources_data/ercot."
            )
        return d

    def _energy_source(
        self,
        request: MarketRequest,
        point: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        wstart: pd.Timestamp,
        wend: pd.Timestamp,
    ) -> tuple[pd.Series, int, list[Path]]:
        """Native-resolution price series for ``point`` over the padded window, and its files."""
        market = request.energy_market
        horizon = f"[{_fmt(start)}, {_fmt(end)})"
        if request.price_file is not None:
            path = Path(request.price_file)
            long = read_price_file(path, default_settlement_point=point)
            minutes = int(long.attrs["interval_minutes"])
            available = sorted(long["settlement_point"].unique())
            if point not in available:
                raise MarketDataError(
                    f"market.settlement_point: {point!r} not in market.price_file {path}; points "
                    f"in that file: {_safe_names(available)}."
                )
            s = long.loc[long["settlement_point"] == point, "price_usd_per_mwh"]
            step = pd.Timedelta(minutes=minutes)
            cover = [(s.index.min(), s.index.max() + step)]
            if not (cover[0][0] <= start and end <= cover[0][1]):
                raise MarketDataError(
                    f"market.price_file {path}: requested horizon {horizon} for {point} is outside "
                    f"the file's data {_ranges_text(cover)}. Choose a covered horizon."
                )
            return self._window(s, wstart, wend, minutes, str(path)), minutes, [path]

        data_dir = self._data_dir(request.data_dir)
        files = _shipped_files(data_dir, market)
        if not files:
            raise MarketDataError(
                f"market.energy_market: no shipped ERCOT {market.upper()} files in {data_dir}."
            )
        tables = [_load_shipped(p, market) for p in _candidate_files(files, start, end)]
        ranges = [t.coverage[point] for t in tables if point in t.coverage]
        merged = _merge_ranges(ranges)
        if not any(a <= start and end <= b for a, b in merged):
            all_tables = [_load_shipped(p, market) for p in files]
            known = sorted({k for t in all_tables for k in t.coverage})
            if point not in known:
                others = sorted(set(self.settlement_points(data_dir)) - set(known))
                hint = (
                    f" ({point} has shipped data only for the other energy market)"
                    if point in others
                    else ""
                )
                raise MarketDataError(
                    f"market.settlement_point: unknown ERCOT settlement point {point!r} for "
                    f"{market.upper()}{hint}; shipped {market.upper()} points: {known}."
                )
            cover = _merge_ranges(t.coverage[point] for t in all_tables if point in t.coverage)
            raise MarketDataError(
                f"market horizon: requested {horizon} for {point} ({market.upper()}) is outside "
                f"the shipped ERCOT data; {point} is covered for {_ranges_text(cover)} (UTC). "
                "Choose a horizon inside one of these ranges or give market.price_file."
            )
        used = [t for t in _preferred(tables, point) if _overlaps(t.coverage[point], wstart, wend)]
        minutes_set = {t.interval_minutes for t in used}
        if len(minutes_set) != 1:
            raise MarketDataError(
                f"{[t.path.name for t in used]}: mixed interval lengths {sorted(minutes_set)} min."
            )
        minutes = minutes_set.pop()
        parts = []
        for t in used:
            f = t.frame
            sel = f[(f["key"] == point) & (f.index >= wstart) & (f.index < wend)]["value"]
            parts.append(sel)
        s = self._combine(parts, [t.path.name for t in used])
        return self._window(s, wstart, wend, minutes, ""), minutes, [t.path for t in used]

    def _reserve_source(
        self,
        request: MarketRequest,
        names: list[str],
        start: pd.Timestamp,
        end: pd.Timestamp,
        wstart: pd.Timestamp,
        wend: pd.Timestamp,
    ) -> tuple[pd.DataFrame, int, list[Path]]:
        """Wide native-resolution AS prices for ``names`` over the padded window, and files."""
        horizon = f"[{_fmt(start)}, {_fmt(end)})"
        years = sorted(
            {
                start.tz_convert(ERCOT_TZ).year,
                (end - pd.Timedelta(seconds=1)).tz_convert(ERCOT_TZ).year,
            }
        )
        year_txt = "/".join(str(y) for y in years)
        fix = (
            "List only products with prices for the horizon in market.reserve_products, set "
            "market.reserve_products to [] explicitly to offer no reserves, or give "
            "market.reserve_price_file. Reserve prices are never assumed to be zero."
        )
        if request.reserve_price_file is not None:
            path = Path(request.reserve_price_file)
            wide = read_reserve_price_file(path)
            minutes = int(wide.attrs["interval_minutes"])
            step = pd.Timedelta(minutes=minutes)
            for name in names:
                col = wide[name].dropna() if name in wide.columns else pd.Series(dtype=float)
                if col.empty:
                    raise MarketDataError(
                        f"market.reserve_products: {name} has no prices in "
                        f"market.reserve_price_file {path} (services there: "
                        f"{_safe_names(wide.columns)}). {fix}"
                    )
                cover = (col.index.min(), col.index.max() + step)
                if not (cover[0] <= start and end <= cover[1]):
                    raise MarketDataError(
                        f"market.reserve_price_file {path}: {name} prices cover "
                        f"{_ranges_text([cover])}, not the requested horizon {horizon}. {fix}"
                    )
            win = wide[(wide.index >= wstart) & (wide.index < wend)]
            return win.reindex(columns=names), minutes, [path]

        data_dir = self._data_dir(request.data_dir)
        files = _shipped_files(data_dir, "as")
        all_tables = [_load_shipped(p, "as") for p in files]
        used: dict[Path, _Table] = {}
        per_name: dict[str, list[_Table]] = {}
        for name in names:
            ranges = [t.coverage[name] for t in all_tables if name in t.coverage]
            merged = _merge_ranges(ranges)
            if name == "ECRS" and start < ECRS_FIRST_DAY.tz_convert("UTC"):
                raise MarketDataError(
                    f"market.reserve_products: ECRS has no AS prices before operating day "
                    f"{ECRS_FIRST_DAY.date()} (ERCOT launched ECRS that day, NPRR863); the "
                    f"requested horizon {horizon} ({year_txt}) starts before it. Drop ECRS for "
                    "that year (in a study: market.reserve_products as a mapping year -> list, "
                    "e.g. 2022: [REGUP, REGDN, RRS, NSPIN]) or start the horizon on or after "
                    f"{ECRS_FIRST_DAY.date()}. {fix}"
                )
            if not any(a <= start and end <= b for a, b in merged):
                overlap = any(_overlaps(r, start, end) for r in merged)
                what = (
                    "prices only for part of the horizon"
                    if overlap
                    else f"no AS prices for {year_txt}"
                )
                summary = (
                    "; ".join(f"{t.path.name}: {sorted(t.coverage)}" for t in all_tables) or "none"
                )
                raise MarketDataError(
                    f"market.reserve_products: {name} has {what} (requested {horizon}); shipped "
                    f"ERCOT AS prices cover {name} for {_ranges_text(merged)} (UTC). Shipped AS "
                    f"files: {summary}. {fix}"
                )
            per_name[name] = [
                t for t in _preferred(all_tables, name) if _overlaps(t.coverage[name], wstart, wend)
            ]
            used.update((t.path, t) for t in per_name[name])
        tables = list(used.values())
        minutes_set = {t.interval_minutes for t in tables}
        if len(minutes_set) != 1:
            raise MarketDataError(
                f"{[t.path.name for t in tables]}: mixed interval lengths {sorted(minutes_set)}."
            )
        minutes = minutes_set.pop()
        cols = {}
        for name in names:
            parts = []
            for t in per_name[name]:
                f = t.frame
                sel = f[(f["key"] == name) & (f.index >= wstart) & (f.index < wend)]["value"]
                parts.append(sel)
            cols[name] = self._combine(parts, [t.path.name for t in per_name[name]])
        wide = pd.DataFrame(cols)
        return wide, minutes, [t.path for t in tables]

    @staticmethod
    def _combine(parts: list[pd.Series], names: list[str]) -> pd.Series:
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.Series(dtype=float)
        s = pd.concat(parts) if len(parts) > 1 else parts[0]
        if s.index.has_duplicates:
            dup = s[s.index.duplicated(keep=False)]
            conflict = dup.groupby(level=0).nunique() > 1
            if conflict.any():
                t = conflict[conflict].index[0]
                raise MarketDataError(
                    f"files {names} give different prices for the same interval {_fmt(t)}; "
                    "remove the overlapping file."
                )
            s = s[~s.index.duplicated(keep="first")]
        return s.sort_index()

    @staticmethod
    def _window(
        s: pd.Series, wstart: pd.Timestamp, wend: pd.Timestamp, minutes: int, src: str
    ) -> pd.Series:
        s = s[(s.index >= wstart) & (s.index < wend)]
        misaligned = s.index != s.index.floor(f"{minutes}min")
        if misaligned.any():
            raise MarketDataError(
                f"{src}: interval starts must be aligned to {minutes} min (e.g. "
                f"{_fmt(s.index[misaligned][0])} is not)."
            )
        return s
