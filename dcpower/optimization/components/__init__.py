"""Model components, in the order they are built (the order fixes HiGHS's row and column
order, so results stay bit-identical for an unchanged model)."""

from dcpower.optimization.components.base import Component, Family
from dcpower.optimization.components.bess import Bess
from dcpower.optimization.components.events import GridEvents
from dcpower.optimization.components.gas_units import GasUnits
from dcpower.optimization.components.grid import Grid
from dcpower.optimization.components.load import Load
from dcpower.optimization.components.load_reserves import LoadReserves
from dcpower.optimization.components.reserves import Reserves
from dcpower.optimization.components.tariff import CoincidentPeakTariff
from dcpower.optimization.components.transformer import Transformer

REGISTRY: tuple[Component, ...] = (
    Load(),
    Grid(),
    Transformer(),
    Bess(),
    GasUnits(),
    Reserves(),
    LoadReserves(),
    CoincidentPeakTariff(),
    GridEvents(),
)

__all__ = ["REGISTRY", "Component", "Family"]
