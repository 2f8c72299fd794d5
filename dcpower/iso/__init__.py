"""Market (ISO) adapters: protocol, registry, the built-in ERCOT and generic adapters.

Layout: :mod:`.base` (protocol, data containers, registry), :mod:`.timegrid` (resampling, fills,
coverage), :mod:`.tidy` (tidy-file readers), :mod:`.cache` (per-process tidy-file cache),
:mod:`.ercot` (ERCOT's parsers, adapter and fetcher), :mod:`.generic` (any market from tidy
files). Other ISOs register through the entry-point group ``dcpower.iso``.
"""

from dcpower.iso.base import (
    IsoAdapter,
    MarketData,
    MarketDataError,
    MarketRequest,
    ReserveProduct,
    available_adapters,
    get_adapter,
    prepare_market_data,
    register_adapter,
)
from dcpower.iso.ercot import ErcotAdapter
from dcpower.iso.generic import GenericAdapter

register_adapter("ercot", ErcotAdapter)
register_adapter("generic", GenericAdapter)

__all__ = [
    "ErcotAdapter",
    "GenericAdapter",
    "IsoAdapter",
    "MarketData",
    "MarketDataError",
    "MarketRequest",
    "ReserveProduct",
    "available_adapters",
    "get_adapter",
    "prepare_market_data",
    "register_adapter",
]
