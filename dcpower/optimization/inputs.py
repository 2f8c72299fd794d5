"""Numeric inputs of the dispatch model, derived from a case, its market data and load."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

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
    soc_initial_mwh: float
    soc_final_min_mwh: float | None
    gen_initial_committed: int
    gen_initial_mw: float | None
    gen_prior_starts: tuple[int, ...] = ()
    #: per-unit start state for the per-unit formulation, one (on 0/1, output MW, starts in
    #: the steps just before, oldest first) per unit; None = derived from the clustered state
    #: (``initial_units_online`` units on, output unknown, no recent starts).
    gen_initial_units: tuple[tuple[int, float, tuple[int, ...]], ...] | None = None
    #: steps whose battery-mode and grid-direction variables are binary; None = every step.
    #: Elsewhere they are relaxed to [0, 1] (the convex hull: charge + discharge ≤ power).
    binary_steps: frozenset[int] | None = None
    #: transmission CP charge per MW of net withdrawal at each step, $/MW (None: no tariff)
    cp_usd_per_mw: np.ndarray | None = None
    #: cap on net withdrawal at each step under the CP alert policy, MW (None: no alerts)
    alert_cap_mw: np.ndarray | None = None
    #: the full-horizon ``dcpower.tariff.TariffSchedule`` (intervals, rates, alerts), for results
    tariff: Any = None
    #: the whole horizon's peak load, MW (windows keep it): a model built for one window then
    #: serves every window (``pruning``); None: this input's own peak
    load_peak_mw: float | None = None

    @property
    def n_steps(self) -> int:
        """Number of timesteps."""
        return len(self.timestamps)

    @property
    def dt_h(self) -> float:
        """Timestep length, hours."""
        return self.case.horizon.timestep_minutes / 60.0

    def window(
        self,
        start: int,
        stop: int,
        *,
        soc_initial_mwh: float,
        gen_initial_committed: int,
        gen_initial_mw: float | None,
        gen_prior_starts: tuple[int, ...],
        last: bool,
        gen_initial_units: tuple[tuple[int, float, tuple[int, ...]], ...] | None = None,
    ) -> DispatchInputs:
        """Steps [start, stop) as a model of their own, starting from the given state.

        ``gen_prior_starts``: starts of the steps just before ``start`` (oldest first), which
        may still be within the start delay. Only the ``last`` window keeps the terminal SOC.
        """
        sl = slice(start, stop)
        load = LoadSegments(*(getattr(self.load, f)[sl] for f in LoadSegments.__dataclass_fields__))
        return replace(
            self,
            timestamps=self.timestamps[sl],
            price_usd_per_mwh=self.price_usd_per_mwh[sl],
            reserve_price_usd_per_mw_h={
                k: v[sl] for k, v in self.reserve_price_usd_per_mw_h.items()
            },
            load=load,
            soc_floor_mwh=self.soc_floor_mwh[sl],
            soc_initial_mwh=soc_initial_mwh,
            soc_final_min_mwh=self.soc_final_min_mwh if last else None,
            gen_initial_committed=gen_initial_committed,
            gen_initial_mw=gen_initial_mw,
            gen_prior_starts=gen_prior_starts,
            gen_initial_units=gen_initial_units,
            cp_usd_per_mw=None if self.cp_usd_per_mw is None else self.cp_usd_per_mw[sl],
            alert_cap_mw=None if self.alert_cap_mw is None else self.alert_cap_mw[sl],
        )

    def eligible_pairs(self) -> list[tuple[str, str]]:
        """(product, resource) pairs that may carry reserves on this site."""
        present = {
            "gen": self.case.gas_gen.installed,
            "bess": self.case.bess.installed,
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
        soc_initial_mwh=bess_model.soc_initial_mwh(case.bess),
        soc_final_min_mwh=bess_model.soc_final_min_mwh(case.bess),
        gen_initial_committed=case.gas_gen.initial_units_online,
        gen_initial_mw=None,
        load_peak_mw=float(np.max(load.total_mw)) if len(load.total_mw) else 0.0,
    )
