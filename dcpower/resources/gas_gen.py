"""Gas unit derived quantities: start delay in steps, per-step ramps, reactive capability."""

from __future__ import annotations

import math

import numpy as np

from dcpower.case import GasGen


def start_delay_steps(gen: GasGen, timestep_minutes: int) -> int:
    """Steps after a start before a unit produces: ceil(delay / Δt)."""
    return math.ceil(gen.start_delay_minutes / timestep_minutes - 1e-9)


def min_output_mw(gen: GasGen) -> float:
    """Minimum stable output of one producing unit, MW."""
    return gen.min_stable_fraction * gen.unit_mw


def ramp_per_step_mw(gen: GasGen, timestep_minutes: int) -> float:
    """Output change one producing unit can make within one step, MW (capped at unit_mw)."""
    return min(gen.ramp_mw_per_min * timestep_minutes, gen.unit_mw)


def startup_shutdown_ramp_mw(gen: GasGen, timestep_minutes: int) -> float:
    """Largest output of a unit in its first (or last) producing step, MW.

    A unit coming online must reach its minimum stable output, so this is never below it.
    """
    return max(min_output_mw(gen), ramp_per_step_mw(gen, timestep_minutes))


def reactive_ratio(min_power_factor: float) -> float:
    """|Q|/P allowed at a power factor limit: tan(acos(PF)), MVAr per MW."""
    return math.tan(math.acos(min_power_factor))


def n_plus_1_capacity_mw(
    gen: GasGen, units_producing: int | np.ndarray, bess_available_mw: float | np.ndarray
) -> float | np.ndarray:
    """Capacity left for the critical load after losing the largest unit, MW.

    unit_mw × (producing − 1) + BESS discharge headroom; conservative when none produce.
    """
    return gen.unit_mw * (units_producing - 1) + bess_available_mw


def unit_mva(gen: GasGen) -> float:
    """Apparent power rating of one unit, MVA = unit MW / rated PF."""
    return gen.unit_mw / gen.rated_power_factor


def online_reserve_capability_mw(gen: GasGen, deployment_minutes: float) -> float:
    """MW one producing unit can add (or shed) within the deployment time: ramp × minutes,
    capped at unit MW (its output range caps it further through the max/min output rows)."""
    return min(gen.unit_mw, gen.ramp_mw_per_min * deployment_minutes)


def offline_reserve_capability_mw(gen: GasGen, deployment_minutes: float) -> float:
    """MW one offline unit delivers within the deployment time: it starts (start delay), then
    ramps from 0 at its ramp rate; min(unit MW, ramp × (minutes − delay)), and 0 when that does
    not reach the minimum stable output (the unit could not hold it)."""
    ramp_minutes = deployment_minutes - gen.start_delay_minutes
    if ramp_minutes <= 0:
        return 0.0
    mw = min(gen.unit_mw, gen.ramp_mw_per_min * ramp_minutes)
    return mw if mw >= min_output_mw(gen) - 1e-9 and mw > 0 else 0.0
