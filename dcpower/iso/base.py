"""ISO adapter protocol, market data containers and the adapter registry.

An ISO adapter turns an ISO's published prices into a :class:`MarketData` on a tz-aware UTC
index at the model timestep. Adapters register by name; third-party packages add theirs through
the entry-point group ``dcpower.iso`` (the entry point names a class or zero-argument factory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import pandas as pd

ENTRY_POINT_GROUP = "dcpower.iso"

Direction = Literal["up", "down"]
Resource = Literal["gen", "bess", "load"]
FillPolicy = Literal["error", "ffill", "interpolate"]


class MarketDataError(ValueError):
    """Market data cannot be provided as asked; the message names the file/field and the fix."""


@dataclass(frozen=True)
class ReserveProduct:
    """One ancillary-service product the site may offer.

    Parameters
    ----------
    name : product code as the ISO publishes it (e.g. ``"REGUP"``).
    direction : ``"up"`` (more injection / less consumption) or ``"down"``.
    duration_h : hours of full delivery that storage must be able to sustain (energy backing).
    eligible_resources : resources that may carry the product (``"gen"``, ``"bess"``).
    source : protocol section / NPRR the duration and eligibility follow.
    """

    name: str
    direction: Direction
    duration_h: float
    eligible_resources: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class MarketRequest:
    """What the model needs from a market: one settlement point over ``[start_utc, end_utc)``.

    ``start_utc``/``end_utc`` are tz-aware UTC timestamps; ``timestep_minutes`` the model step.
    ``price_file``/``reserve_price_file`` override the shipped data with a user file.
    ``data_dir`` is where shipped data lives (``resources_data/<iso>``).
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
