"""ISO adapter protocol, market data containers and the adapter registry.

An ISO adapter turns an ISO's published prices into a :class:`MarketData` on a tz-aware UTC
index at the model timestep. Adapters register by name; third-party packages add theirs through
the entry-point group ``dcpower.iso`` (the entry point names a class or zero-argument factory).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd

from dcpower.errors import InputError

ENTRY_POINT_GROUP = "dcpower.iso"

Direction = Literal["up", "down"]
Resource = Literal["gen", "bess", "load"]
FillPolicy = Literal["error", "ffill", "interpolate"]


class MarketDataError(InputError):
    """Market data cannot be provided as asked; the message names the file/field and the fix."""


@dataclass(frozen=True)
class ReserveProduct:
    """One ancillary-service product the site may offer.

    Parameters
    ----------
    name : product code as the ISO publishes it (e.g. ``"REGUP"``).
    direction : ``"up"`` (more injection / less consumption) or ``"down"``.
    duration_h : hours of full delivery that storage must back with energy and a load resource
        must sustain by staying curtailed.
    eligible_resources : resources that may carry the product (``"gen"``, ``"bess"``,
        ``"load"``: the flexible load segment as a Load Resource).
    source : protocol section / NPRR the duration and eligibility follow.
    deployment_minutes : time from deployment to full delivery, min; a gas unit's award is at
        most its ramp rate × this (per producing unit).
    offline_gen_eligible : offline gas units whose start delay and ramp deliver within
        ``deployment_minutes`` may carry it (ERCOT Non-Spin).
    deployment_source : protocol section the deployment time and offline rule follow.
    load_source : the rule under which a Load Resource may (or may not) carry the product
        (e.g. ERCOT: Regulation only from a Controllable Load Resource).
    """

    name: str
    direction: Direction
    duration_h: float
    eligible_resources: tuple[str, ...]
    source: str
    deployment_minutes: float = 10.0
    offline_gen_eligible: bool = False
    deployment_source: str = ""
    load_source: str = ""


@dataclass(frozen=True)
class MarketRequest:
    """What the model needs from a market: one settlement point over ``[start_utc, end_utc)``.

    ``start_utc``/``end_utc`` are tz-aware UTC timestamps; ``timestep_minutes`` the model step.
    ``price_file``/``reserve_price_file`` override the shipped data with a user file.
    ``data_dir`` is where shipped data lives (``resources_data/<iso>``).
    ``reserve_catalogue``: the case's own product catalogue (``market.reserve_catalogue``), for
    adapters whose market has no built-in one (the generic adapter); None otherwise.
    """

    settlement_point: str
    energy_market: Literal["dam", "rtm"]
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    timestep_minutes: int
    reserve_products: tuple[str, ...] = ()
    fill_policy: FillPolicy = "error"
    max_fill_steps: int = 4
    price_file: Path | None = None
    reserve_price_file: Path | None = None
    data_dir: Path | None = None
    reserve_catalogue: Mapping[str, ReserveProduct] | None = None


@dataclass
class MarketData:
    """Prices on the model's UTC index.

    ``energy_price_usd_per_mwh``: Series indexed by interval start (UTC), $/MWh.
    ``reserve_price_usd_per_mw_h``: DataFrame, one column per requested product, $/MW per hour
    (capacity price for one MW held for one hour); no columns when no reserves are offered.
    ``reserve_products``: catalogue entries of the requested products.
    ``provenance``: files read (path, sha256) and fills applied, for the results echo.
    """

    energy_price_usd_per_mwh: pd.Series
    reserve_price_usd_per_mw_h: pd.DataFrame
    reserve_products: dict[str, ReserveProduct]
    provenance: dict = field(default_factory=dict)


@runtime_checkable
class IsoAdapter(Protocol):
    """What every market adapter provides."""

    name: str

    def settlement_points(self, data_dir: Path | None = None) -> list[str]:
        """Settlement points for which shipped price data exists."""
        ...

    def reserve_catalogue(self) -> dict[str, ReserveProduct]:
        """Default reserve products of this ISO, each citing its source."""
        ...

    def load_market_data(self, request: MarketRequest) -> MarketData:
        """Energy and reserve prices for ``request`` at its timestep; raises MarketDataError."""
        ...


def prepare_market_data(
    adapter: IsoAdapter, request: MarketRequest, *, allow_download: bool = False
) -> list[Path]:
    """Make the data ``request`` needs available and return the files it rests on.

    An adapter may define ``prepare(request, allow_download=...) -> list[Path]`` (ERCOT fetches
    and caches missing years there when ``allow_download``); without it nothing is fetched and
    the request is simply loaded, so its data are checked. The sizing sweep's
    ``retrieve_prices`` rule goes through here for every ISO. Raises MarketDataError.
    """
    prepare = getattr(adapter, "prepare", None)
    if callable(prepare):
        return list(prepare(request, allow_download=allow_download))
    adapter.load_market_data(request)
    return [p for p in (request.price_file, request.reserve_price_file) if p is not None]


_OVERRIDABLE_FIELDS = (
    "direction",
    "duration_h",
    "eligible_resources",
    "deployment_minutes",
    "offline_gen_eligible",
)
_RESOURCES = ("gen", "bess", "load")


def apply_catalogue_overrides(
    catalogue: Mapping[str, ReserveProduct], overrides: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, ReserveProduct]:
    """Return a new catalogue with ``direction``, ``duration_h`` (h) or ``eligible_resources``
    replaced per product, e.g. ``{"ECRS": {"duration_h": 2.0}}``.

    The ``source`` of an overridden product records the override. Raises MarketDataError naming
    the product and field for unknown products/fields or invalid values.
    """
    result = dict(catalogue)
    for raw_name, fields in (overrides or {}).items():
        name = str(raw_name).strip().upper()
        if name not in result:
            raise MarketDataError(
                f"reserve catalogue override: unknown product {raw_name!r}; catalogue products: "
                f"{sorted(result)}. Fix the product name in the case's reserve overrides."
            )
        if not isinstance(fields, Mapping):
            raise MarketDataError(
                f"reserve catalogue override {name}: expected a mapping of fields, got "
                f"{type(fields).__name__}."
            )
        changes: dict[str, Any] = {}
        for field_name, value in fields.items():
            where = f"reserve catalogue override {name}.{field_name}"
            if field_name not in _OVERRIDABLE_FIELDS:
                raise MarketDataError(
                    f"{where}: unknown field; overridable fields: {list(_OVERRIDABLE_FIELDS)}."
                )
            if field_name == "direction":
                if value not in ("up", "down"):
                    raise MarketDataError(f"{where}: must be 'up' or 'down', got {value!r}.")
                changes["direction"] = value
            elif field_name == "duration_h":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise MarketDataError(f"{where}: must be a number of hours, got {value!r}.")
                if not math.isfinite(value) or not 0 <= value <= 24:
                    raise MarketDataError(f"{where}: must be within [0, 24] hours, got {value}.")
                changes["duration_h"] = float(value)
            elif field_name == "deployment_minutes":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise MarketDataError(f"{where}: must be a number of minutes, got {value!r}.")
                if not math.isfinite(value) or not 0 < value <= 240:
                    raise MarketDataError(f"{where}: must be within (0, 240] minutes, got {value}.")
                changes["deployment_minutes"] = float(value)
            elif field_name == "offline_gen_eligible":
                if not isinstance(value, bool):
                    raise MarketDataError(f"{where}: must be true or false, got {value!r}.")
                changes["offline_gen_eligible"] = value
            else:
                if isinstance(value, str) or not isinstance(value, Iterable):
                    raise MarketDataError(
                        f"{where}: must be a list drawn from {list(_RESOURCES)}, got {value!r}."
                    )
                res = tuple(value)
                bad = [r for r in res if r not in _RESOURCES]
                if bad or not res or len(set(res)) != len(res):
                    raise MarketDataError(
                        f"{where}: must be a non-empty list of distinct values from "
                        f"{list(_RESOURCES)}, got {list(res)}. To stop offering the product "
                        "remove it from market.reserve_products."
                    )
                changes["eligible_resources"] = res
        if changes:
            desc = ", ".join(f"{k}={v!r}" for k, v in changes.items())
            old = result[name]
            result[name] = replace(
                old, **changes, source=f"{old.source} Overridden by case: {desc}."
            )
    return result


_REGISTRY: dict[str, Callable[[], IsoAdapter]] = {}


def register_adapter(name: str, factory: Callable[[], IsoAdapter]) -> None:
    """Register an adapter factory under ``name`` (lower case)."""
    _REGISTRY[name.lower()] = factory


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name.lower() not in _REGISTRY:
            _REGISTRY[ep.name.lower()] = ep.load()


def available_adapters() -> list[str]:
    """Names of registered adapters, built-in and from entry points."""
    _load_entry_points()
    return sorted(_REGISTRY)


def get_adapter(name: str) -> IsoAdapter:
    """Instantiate the adapter registered as ``name``; the error lists the known names."""
    key = name.lower()
    if key not in _REGISTRY:
        _load_entry_points()
    if key not in _REGISTRY:
        raise MarketDataError(
            f"market.iso: unknown ISO {name!r}; available adapters: {available_adapters()}. "
            f"Install a plugin that registers it under the entry-point group {ENTRY_POINT_GROUP!r}."
        )
    return _REGISTRY[key]()
