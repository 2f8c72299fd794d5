"""Numeric inputs of the dispatch model, derived from a case, its market data and load."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from dcpower import events as grid_events
from dcpower.case import Case
from dcpower.errors import InputError
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
    #: cap on net withdrawal at each step from grid emergency events, MW (NaN: no event;
    #: None: the case has no events)
    event_cap_mw: np.ndarray | None = None
    #: gas output the units' fuel allows at each step under grid events, MW (NaN: no limit;
    #: None: the case has no events)
    gas_available_mw: np.ndarray | None = None
    #: the full-horizon ``dcpower.tariff.TariffSchedule`` (intervals, rates, alerts), for results
    tariff: Any = None
    #: flexible-load energy curtailed in the calendar week of the first step before it, MWh
    #: (planned + expected reserve deployment; the weekly limit's state)
    load_week_energy_mwh: float = 0.0
    #: flexible MW that must stay consumed at the first steps so that load reserve awards of
    #: the steps before can be sustained for their duration (MW per step, from step 0)
    load_sustain_floor_mw: tuple[float, ...] = ()
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
        load_week_energy_mwh: float | None = None,
        load_sustain_floor_mw: tuple[float, ...] | None = None,
    ) -> DispatchInputs:
        """Steps [start, stop) as a model of their own, starting from the given state.

        ``gen_prior_starts``: starts of the steps just before ``start`` (oldest first), which
        may still be within the start delay. Only the ``last`` window keeps the terminal SOC.
        ``load_week_energy_mwh`` / ``load_sustain_floor_mw``: the load-reserve state handed over
        (None: the case's own start state, for a window that starts the horizon).
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
            load_week_energy_mwh=(
                self.load_week_energy_mwh if load_week_energy_mwh is None else load_week_energy_mwh
            ),
            load_sustain_floor_mw=(
                self.load_sustain_floor_mw
                if load_sustain_floor_mw is None
                else tuple(load_sustain_floor_mw)
            ),
            event_cap_mw=None if self.event_cap_mw is None else self.event_cap_mw[sl],
            gas_available_mw=None if self.gas_available_mw is None else self.gas_available_mw[sl],
        )

    def eligible_pairs(self) -> list[tuple[str, str]]:
        """(product, resource) pairs that may carry reserves on this site."""
        present = {
            "gen": self.case.gas_gen.installed,
            "bess": self.case.bess.installed,
        }
        load_offers = set(self.case.load.reserves.products)
        return [
            (name, res)
            for name, prod in self.reserve_products.items()
            for res in prod.eligible_resources
            if (name in load_offers if res == "load" else present.get(res, False))
        ]

    def load_reserve_products(self) -> list[str]:
        """Products the flexible load carries here (catalogue order)."""
        return [p for p, res in self.eligible_pairs() if res == "load"]

    def week_starts(self) -> np.ndarray:
        """1.0 where a step starts a new calendar week (Monday 00:00 in the case's time zone)
        after the step before, else 0.0; step 0 compares with the step before the window."""
        step = pd.Timedelta(minutes=self.case.horizon.timestep_minutes)
        local = self.timestamps.tz_convert(self.case.horizon.timezone)

        def week(ts: pd.DatetimeIndex) -> np.ndarray:
            return np.asarray(ts.tz_localize(None).to_period("W-SUN").asi8)  # Mon–Sun weeks

        return (week(local) != week(local - step)).astype(float)


class LoadReserveError(InputError):
    """``load.reserves.products`` names a product the load may not carry."""


def check_load_products(case: Case, products: dict[str, ReserveProduct]) -> None:
    """Every product of ``load.reserves.products`` is requested, open to load in the catalogue
    and an up product; raises LoadReserveError naming the field and the fix."""
    for p in case.load.reserves.products:
        spec = products.get(p)
        where = f"load.reserves.products: {p}"
        if spec is None:
            raise LoadReserveError(
                f"{where} is not among the market's reserve products {sorted(products)}; add it "
                "to market.reserve_products or remove it here."
            )
        if spec.direction != "up":
            raise LoadReserveError(
                f"{where} is a down product: the flexible load is a Load Resource that curtails "
                "(less consumption = up); a down award would need it to consume more than its "
                "profile. Remove it from load.reserves.products."
            )
        if "load" not in spec.eligible_resources:
            rule = f" ({spec.load_source})" if spec.load_source else ""
            raise LoadReserveError(
                f"{where} is not open to load resources in the catalogue{rule}; remove it from "
                "load.reserves.products, or, if the site qualifies (e.g. a Controllable Load "
                f"Resource for Regulation), add 'load' to market.reserve_catalogue_overrides."
                f"{p}.eligible_resources."
            )


def build_inputs(case: Case, market: MarketData, load: LoadSegments) -> DispatchInputs:
    """Assemble model inputs; arrays share the market's UTC index."""
    check_load_products(case, dict(market.reserve_products))
    index = market.energy_price_usd_per_mwh.index
    floor = bess_model.soc_floor_mwh(
        case.bess, load.critical_mw, case.reliability.ride_through_minutes
    )
    if case.bess.energy_mwh == 0:
        floor = np.zeros(len(index))
    events = gas_mw = None
    if case.events:
        windows = grid_events.resolve(case.events)
        events = grid_events.cap_per_step(windows, index, case.horizon.timestep_minutes)
        g = case.gas_gen
        frac = grid_events.gas_available_fraction(
            windows, index, case.horizon.timestep_minutes, g.fuel_supply, g.backup_fuel_hours
        )
        gas_mw = np.where(frac < 1.0, frac * g.units * g.unit_mw, np.nan)
    return DispatchInputs(
        event_cap_mw=events,
        gas_available_mw=gas_mw,
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
