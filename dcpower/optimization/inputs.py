"""Numeric inputs of the dispatch model, derived from a case, its market data and load."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcpower.case import Case
from dcpower.iso.base import MarketData, ReserveProduct
from dcpower.resources import bess as bess_model
from dcpower.resources.load import LoadSegments


@dataclass(frozen=True)
class DispatchInputs:
    """Everything the MILP reads, on one UTC time index.

    ``price_usd_per_mwh``: energy price per step, $/MWh; ``reserve_price_usd_per_mw_h``: product →
    capacity price per step, $/MW per hour; ``soc_floor_mwh``: SOC floor per step, MWh.
    """

    case: Case
    timestamps: pd.DatetimeIndex
    price_usd_per_mwh: np.ndarray
    reserve_price_usd_per_mw_h: dict[str, np.ndarray]
    reserve_products: dict[str, ReserveProduct]
    load: LoadSegments
    soc_floor_mwh: np.ndarray

    @property
    def n_steps(self) -> int:
        """Number of timesteps."""
        return len(self.timestamps)

    @property
    def dt_h(self) -> float:
        """Timestep length, hours."""
        return self.case.horizon.timestep_minutes / 60.0

    def eligible_pairs(self) -> list[tuple[str, str]]:
        """(product, resource) pairs that may carry reserves on this site."""
        present = {
            "gen": self.case.gas_gen.units > 0 and self.case.gas_gen.unit_mw > 0,
            "bess": self.case.bess.power_mw > 0 and self.case.bess.energy_mwh > 0,
        }
        return [
            (name, res)
            for name, prod in self.reserve_products.items()
            for res in prod.eligible_resources
            if present.get(res, False)
        ]


def build_inputs(case: Case, market: MarketData, load: LoadSegments) -> DispatchInputs:
    """Assemble model inputs; arrays share the market's UTC index."""
    index = market.energy_price_usd_per_mwh.index
    floor = bess_model.soc_floor_mwh(
        case.bess, load.critical_mw, case.reliability.ride_through_minutes
    )
    if case.bess.energy_mwh == 0:
        floor = np.zeros(len(index))
    return DispatchInputs(
        case=case,
        timestamps=index,
        price_usd_per_mwh=market.energy_price_usd_per_mwh.to_numpy(float),
        reserve_price_usd_per_mw_h={
            p: market.reserve_price_usd_per_mw_h[p].to_numpy(float) for p in market.reserve_products
        },
        reserve_products=dict(market.reserve_products),
        load=load,
        soc_floor_mwh=floor,
    )
