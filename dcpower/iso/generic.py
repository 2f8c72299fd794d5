"""Generic adapter (``market.iso: "generic"``): any market's prices from tidy files.

Energy prices: ``market.price_file``, a tidy CSV (optionally gzip) or Parquet file with

* ``interval_start_utc``: interval start as ISO-8601 with ``Z`` or a UTC offset (naive local
  times are rejected: they are ambiguous at a DST change);
* ``price_usd_per_mwh``: energy price, $/MWh (blank = missing, handled by the fill policy);
* ``settlement_point`` (optional): the node/zone of each row; without it every row belongs to
  ``market.settlement_point``;
* ``interval_end_utc`` (optional): sets the interval length, else it is the most common spacing.

Reserve prices: ``market.reserve_price_file``, tidy long with ``interval_start_utc``, ``product``
and ``price_usd_per_mw_h`` (capacity price for one MW held for one hour). Products (direction,
hours of storage backing, deployment time, eligible resources, the rule they follow) come from
the case's ``market.reserve_catalogue``: the adapter has no built-in catalogue and no shipped data.

Prices are put on the model grid and gaps filled or reported by the shared code in
:mod:`dcpower.iso.timegrid`; files are parsed once per process (:mod:`dcpower.iso.cache`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from dcpower.filecheck import check_input_file
from dcpower.iso.base import MarketData, MarketDataError, MarketRequest, ReserveProduct
from dcpower.iso.cache import TidyTable, load_tidy, sha256_file
from dcpower.iso.tidy import safe_names
from dcpower.iso.timegrid import (
    INDEX_NAME,
    SeriesSpec,
    fill_and_check,
    fmt_utc,
    ranges_text,
    to_model_grid,
    validate_request,
)

__all__ = ["ENERGY_COLUMNS", "RESERVE_COLUMNS", "GenericAdapter"]

#: Columns of the tidy energy price file (``settlement_point`` optional).
ENERGY_COLUMNS = ("interval_start_utc", "price_usd_per_mwh", "settlement_point")
#: Columns of the tidy reserve price file.
RESERVE_COLUMNS = ("interval_start_utc", "product", "price_usd_per_mw_h")

_ENERGY_LAYOUT = (
    "generic energy price (tidy CSV/Parquet with columns interval_start_utc, "
    "price_usd_per_mwh and optionally settlement_point)"
)
_RESERVE_LAYOUT = (
    "generic reserve price (tidy CSV/Parquet with columns interval_start_utc, product, "
    "price_usd_per_mw_h)"
)


def _named(field: str, read: Callable[[], TidyTable]) -> TidyTable:
    """``read()``, with the case field named in any error it raises."""
    try:
        return read()
    except MarketDataError as exc:
        if str(exc).startswith(field):
            raise
        raise MarketDataError(f"{field}: {exc}") from None


class GenericAdapter:
    """Any market from tidy files; the reserve catalogue comes from the case."""

    name = "generic"

    def settlement_points(self, data_dir: Path | None = None) -> list[str]:
        """None shipped: the points are those of the case's own price file."""
        return []

    def reserve_catalogue(self) -> dict[str, ReserveProduct]:
        """Empty: a generic case describes its products in ``market.reserve_catalogue``."""
        return {}

    def prepare(self, request: MarketRequest, *, allow_download: bool = False) -> list[Path]:
        """Offline: check that the case's files load and cover the request; return them."""
        data = self.load_market_data(request)
        return [Path(f["path"]) for f in data.provenance["files"]]

    def load_market_data(self, request: MarketRequest) -> MarketData:
        """Energy ($/MWh) and reserve ($/MW per hour) prices on the model's UTC grid."""
        start, end = validate_request(request)
        point = request.settlement_point.strip().upper()
        names = self._product_names(request)
        step = request.timestep_minutes
        pad = pd.Timedelta(minutes=step * (request.max_fill_steps + 1))
        wstart, wend = start - pad, end + pad
        filled: list[dict[str, Any]] = []
        files: list[dict[str, str]] = []

        path = self._file(request.price_file, "market.price_file", _ENERGY_LAYOUT)
        table = _named(
            "market.price_file",
            lambda: load_tidy(
                path,
                "settlement_point",
                "price_usd_per_mwh",
                what=_ENERGY_LAYOUT,
                careful=True,
                default_key=point,
            ),
        )
        if point not in table.coverage:
            raise MarketDataError(
                f"market.settlement_point: {point!r} has no rows in market.price_file {path} "
                f"(column settlement_point holds {safe_names(sorted(table.coverage))}). Fix "
                "market.settlement_point or the file's settlement_point column."
            )
        files.append({"role": "energy", "path": str(path), "sha256": sha256_file(path)})
        series = self._series(table, point, "market.price_file", start, end, wstart, wend)
        energy = fill_and_check(
            to_model_grid(series, table.interval_minutes, wstart, wend, step),
            start,
            end,
            request,
            SeriesSpec(f"energy price {point}", "energy", [path.name]),
            filled,
        )
        energy.name = "energy_price_usd_per_mwh"
        energy.index.name = INDEX_NAME

        reserve = pd.DataFrame(index=energy.index)
        reserve_minutes: int | None = None
        if names:
            rpath = self._file(
                request.reserve_price_file, "market.reserve_price_file", _RESERVE_LAYOUT
            )
            rtable = _named(
                "market.reserve_price_file",
                lambda: load_tidy(
                    rpath, "product", "price_usd_per_mw_h", what=_RESERVE_LAYOUT, careful=True
                ),
            )
            reserve_minutes = rtable.interval_minutes
            files.append({"role": "reserve", "path": str(rpath), "sha256": sha256_file(rpath)})
            cols = {}
            for name in names:
                if name not in rtable.coverage:
                    raise MarketDataError(
                        f"market.reserve_products: {name} has no rows in market.reserve_price_file "
                        f"{rpath} (column product holds {safe_names(sorted(rtable.coverage))}). "
                        "Add its prices, or remove it from market.reserve_products (reserve "
                        "prices are never assumed to be zero)."
                    )
                s = self._series(
                    rtable, name, "market.reserve_price_file", start, end, wstart, wend
                )
                cols[name] = fill_and_check(
                    to_model_grid(s, rtable.interval_minutes, wstart, wend, step),
                    start,
                    end,
                    request,
                    SeriesSpec(f"reserve price {name}", name, [rpath.name]),
                    filled,
                )
            reserve = pd.DataFrame(cols, index=energy.index)
        reserve.index.name = INDEX_NAME

        catalogue = dict(request.reserve_catalogue or {})
        provenance: dict[str, Any] = {
            "iso": self.name,
            "settlement_point": point,
            "energy_market": request.energy_market,
            "start_utc": fmt_utc(start),
            "end_utc": fmt_utc(end),
            "timestep_minutes": step,
            "source_interval_minutes": {
                "energy": table.interval_minutes,
                "reserve": reserve_minutes,
            },
            "reserve_products": names,
            "files": files,
            "fill_policy": request.fill_policy,
            "max_fill_steps": request.max_fill_steps,
            "filled_intervals": filled,
        }
        return MarketData(
            energy_price_usd_per_mwh=energy,
            reserve_price_usd_per_mw_h=reserve,
            reserve_products={n: catalogue[n] for n in names},
            provenance=provenance,
        )

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _product_names(request: MarketRequest) -> list[str]:
        catalogue = request.reserve_catalogue or {}
        names: list[str] = []
        for raw in request.reserve_products:
            name = str(raw).strip().upper()
            if name not in catalogue:
                raise MarketDataError(
                    f"market.reserve_products: {raw!r} is not in market.reserve_catalogue "
                    f"(products there: {sorted(catalogue)}). The generic adapter has no built-in "
                    "products: describe each one in market.reserve_catalogue (direction, "
                    "duration_h, deployment_minutes, offline_gen_eligible, eligible_resources, "
                    "source)."
                )
            if name not in names:
                names.append(name)
        return names

    @staticmethod
    def _file(path: Path | None, key: str, layout: str) -> Path:
        if path is None:
            raise MarketDataError(
                f"{key}: required with market.iso 'generic' (no shipped data); give a {layout} "
                "file (README: 'Bring your own market')."
            )
        return check_input_file(path, key, MarketDataError)

    @staticmethod
    def _series(
        table: TidyTable,
        key: str,
        field: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        wstart: pd.Timestamp,
        wend: pd.Timestamp,
    ) -> pd.Series:
        """The rows of ``key`` over the padded window, after the coverage/alignment checks."""
        first, last = table.coverage[key]
        if not (first <= start and end <= last):
            raise MarketDataError(
                f"{field} {table.path}: {key} prices (column interval_start_utc) cover "
                f"{ranges_text([(first, last)])}, not the requested horizon "
                f"[{fmt_utc(start)}, {fmt_utc(end)}). Choose a horizon inside the data or "
                "extend the file."
            )
        f = table.frame
        s = f.loc[(f["key"] == key) & (f.index >= wstart) & (f.index < wend), "value"]
        minutes = table.interval_minutes
        misaligned = s.index != s.index.floor(f"{minutes}min")
        if misaligned.any():
            raise MarketDataError(
                f"{field} {table.path}: column interval_start_utc must be aligned to the file's "
                f"{minutes}-min intervals (e.g. {fmt_utc(s.index[misaligned][0])} is not); fix the "
                "timestamps or add interval_end_utc."
            )
        return s
