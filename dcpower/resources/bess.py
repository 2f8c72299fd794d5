"""Battery derived quantities: SOC bounds, ride-through energy, per-step efficiencies."""

from __future__ import annotations

import numpy as np

from dcpower.case import Bess


def ride_through_energy_mwh(
    critical_mw: np.ndarray, ride_through_minutes: float, discharge_efficiency: float
) -> np.ndarray:
    """Stored energy needed to carry the critical load alone for the ride-through, MWh.

    critical MW × ride-through h / η_discharge (the battery loses energy delivering it).
    """
    return np.asarray(critical_mw, float) * (ride_through_minutes / 60.0) / discharge_efficiency


def soc_floor_mwh(bess: Bess, critical_mw: np.ndarray, ride_through_minutes: float) -> np.ndarray:
    """SOC floor per step, MWh = physical minimum + market SOC reserve + ride-through energy."""
    return (
        bess.soc_min_fraction * bess.energy_mwh
        + bess.market_soc_reserve_mwh
        + ride_through_energy_mwh(critical_mw, ride_through_minutes, bess.discharge_efficiency)
    )


def soc_max_mwh(bess: Bess) -> float:
    """Physical SOC ceiling, MWh."""
    return bess.soc_max_fraction * bess.energy_mwh


def soc_initial_mwh(bess: Bess) -> float:
    """SOC at the start of the horizon, MWh."""
    return bess.soc_initial_fraction * bess.energy_mwh


def soc_final_min_mwh(bess: Bess) -> float:
    """Minimum SOC at the end of the horizon, MWh (default: the initial SOC)."""
    frac = bess.soc_final_min_fraction
    return (bess.soc_initial_fraction if frac is None else frac) * bess.energy_mwh


def check_soc_window(bess: Bess, floor_mwh: np.ndarray) -> list[str]:
    """Problems that make the SOC window empty, each naming the fields to change."""
    problems = []
    if bess.energy_mwh == 0:
        return problems
    top = soc_max_mwh(bess)
    if floor_mwh.max() > top + 1e-9:
        problems.append(
            f"SOC floor {floor_mwh.max():.2f} MWh (soc_min + bess.market_soc_reserve_mwh + "
            f"critical ride-through) exceeds the SOC ceiling {top:.2f} MWh; fix: raise "
            "bess.energy_mwh or lower market_soc_reserve_mwh / reliability.ride_through_minutes"
        )
    if soc_initial_mwh(bess) < floor_mwh[0] - 1e-9:
        problems.append(
            f"bess.soc_initial_fraction gives {soc_initial_mwh(bess):.2f} MWh, below the SOC "
            f"floor {floor_mwh[0]:.2f} MWh at the first step; fix: raise soc_initial_fraction"
        )
    return problems
