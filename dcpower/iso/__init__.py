"""Market (ISO) adapters: protocol, registry and the built-in ERCOT adapter."""

from dcpower.iso.base import (
    IsoAdapter,
    MarketData,
    MarketDataError,
    MarketRequest,
    ReserveProduct,
    available_adapters,
    get_adapter,
    register_adapter,
)
from dcpower.iso.ercot import ErcotAdapter

register_adapter("ercot", ErcotAdapter)

__all__ = [
    "ErcotAdapter",
    "IsoAdapter",
    "MarketData",
    "MarketDataError",
    "MarketRequest",
    "ReserveProduct",
    "available_adapters",
    "get_adapter",
    "register_adapter",
]
