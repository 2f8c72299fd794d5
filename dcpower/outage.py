"""Outage survival (REopt style): islanded operation from every timestep of a solved dispatch.

For each outage start ``t`` the site is islanded with the battery at its SOC at the start of
``t``. Each of the N gas units independently fails to start with probability p; for every number
of units that start, k = 0..N, the outage is simulated deterministically (vectorised over starts
and k) and the outcomes are weighted by the binomial pmf. The critical load continues from the
start index and wraps around the end of the profile (cyclic year).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dcpower import columns

#: deficit tolerance, MW.
TOLERANCE_MW = 1e-9


@dataclass(frozen=True)
class OutageSite:
    """Islanded-operation parameters of a site.

    Attributes
    ----------
    bess_power_mw : float
        PCS charge/discharge limit, MW.
    bess_energy_mwh : float
        Nameplate energy, MWh.
    bess_soc_min_mwh : float
        Physical SOC floor the battery may not go below, MWh.
    bess_soc_max_mwh : float
        Physical SOC ceiling, MWh.
    charge_efficiency : float
        One-way charge efficiency (stored = charge MW · h · η_ch), -.
    discharge_efficiency : float
        One-way discharge efficiency (drawn = discharge MW · h / η_dis), -.
    gen_units : int
        Number of gas units.
    unit_mw : float
        Capacity per unit, MW.
    start_delay_minutes : float
        Time from outage start until started units produce, min.
    failure_to_start_probability : float
        Independent per-unit probability of failing to start, -.
    """

    bess_power_mw: float
    bess_energy_mwh: float
    bess_soc_min_mwh: float
    bess_soc_max_mwh: float
    charge_efficiency: float
    discharge_efficiency: float
    gen_units: int
    unit_mw: float
    start_delay_minutes: float
    failure_to_start_probability: float


def _steps(hours: float, dt_h: float) -> int:
    """Whole timesteps covering ``hours`` (rounded up, robust to float noise)."""
    return max(0, math.ceil(hours / dt_h - 1e-9))


def units_started_pmf(units: int, failure_probability: float) -> np.ndarray:
    """Binomial pmf of the number of units that start, k = 0..N (length N + 1), -."""
    q = 1.0 - failure_probability
    return np.array(
        [math.comb(units, k) * q**k * failure_probability ** (units - k) for k in range(units + 1)]
    )


def survival_by_start(
    soc_at_start_mwh: np.ndarray,
    critical_mw: np.ndarray,
    site: OutageSite,
    durations_h: Sequence[float],
    timestep_minutes: int,
) -> np.ndarray:
    """Probability of serving the critical load through outages by start step and duration.

    Parameters
    ----------
    soc_at_start_mwh : np.ndarray
        Battery SOC at the start of each step, MWh, shape (n,).
    critical_mw : np.ndarray
        Critical load per step, MW, shape (n,); read cyclically during an outage.
    site : OutageSite
        Battery and gas-unit parameters.
    durations_h : Sequence[float]
        Outage durations, h; rounded up to whole steps.
    timestep_minutes : int
        Step length, min.

    Returns
    -------
    np.ndarray
        Shape (n, len(durations_h)): probability (0..1) that the outage starting at the beginning
        of each step is ridden through fully for each duration.
    """
    soc0 = np.asarray(soc_at_start_mwh, dtype=float)
    load = np.asarray(critical_mw, dtype=float)
    if soc0.ndim != 1 or soc0.shape != load.shape:
        raise ValueError(
            f"soc_at_start_mwh {soc0.shape} and critical_mw {load.shape} must be equal 1-D shapes"
        )
    if timestep_minutes <= 0:
        raise ValueError(f"timestep_minutes must be positive, got {timestep_minutes}")
    if any(d < 0 for d in durations_h):
        raise ValueError(f"durations_h must be non-negative, got {list(durations_h)}")
    if not 0.0 <= site.failure_to_start_probability <= 1.0:
        raise ValueError("failure_to_start_probability must be within [0, 1]")
    if site.charge_efficiency <= 0 or site.discharge_efficiency <= 0:
        raise ValueError("charge and discharge efficiencies must be positive")

    n = load.size
    dt = timestep_minutes / 60.0
    steps = [_steps(float(d), dt) for d in durations_h]
    out = np.ones((n, len(steps)))
    if n == 0 or not steps or max(steps) == 0:
        return out

    pmf = units_started_pmf(site.gen_units, site.failure_to_start_probability)
    gen_cap = (np.arange(site.gen_units + 1) * site.unit_mw)[:, None]  # (K, 1), MW
    delay = _steps(site.start_delay_minutes / 60.0, dt)
    eta_c, eta_d = site.charge_efficiency, site.discharge_efficiency
    p_max, lo, hi = site.bess_power_mw, site.bess_soc_min_mwh, site.bess_soc_max_mwh

    soc = np.broadcast_to(soc0, (pmf.size, n)).copy()  # (K, starts), MWh
    alive = np.ones_like(soc, dtype=bool)
    starts = np.arange(n)
    prob_after = np.empty((max(steps) + 1, n))  # survival probability after s steps
    prob_after[0] = 1.0
    for s in range(max(steps)):
        demand = load[(starts + s) % n]  # (starts,)
        gen = gen_cap if s >= delay else np.zeros_like(gen_cap)
        deficit = np.maximum(demand - gen, 0.0)  # (K, starts), MW
        surplus = np.maximum(gen - demand, 0.0)
        can_discharge = np.clip((soc - lo) * eta_d / dt, 0.0, p_max)
        alive &= deficit <= can_discharge + TOLERANCE_MW
        can_charge = np.clip((hi - soc) / (eta_c * dt), 0.0, p_max)
        soc += np.minimum(surplus, can_charge) * dt * eta_c - deficit * dt / eta_d
        prob_after[s + 1] = pmf @ alive
        if not alive.any():
            prob_after[s + 2 :] = 0.0
            break
    return prob_after[steps].T.copy()


def survival_summary(probabilities: np.ndarray, durations_h: Sequence[float]) -> dict[str, float]:
    """Mean and worst survival probability over outage starts, per duration.

    Parameters
    ----------
    probabilities : np.ndarray
        Shape (n_starts, n_durations), as returned by :func:`survival_by_start`, -.
    durations_h : Sequence[float]
        Outage durations, h (names use ``:g``: 4 → ``4h``, 0.5 → ``0.5h``).

    Returns
    -------
    dict[str, float]
        ``survival_prob_<d>h`` (mean over starts) for every duration, then ``survival_min_<d>h``
        (minimum over starts); NaN when there are no starts.
    """
    probs = np.asarray(probabilities, dtype=float)
    if probs.ndim != 2 or probs.shape[1] != len(durations_h):
        raise ValueError(
            f"probabilities {probs.shape} must be (n_starts, {len(durations_h)} durations)"
        )
    empty = probs.shape[0] == 0
    mean = np.full(probs.shape[1], np.nan) if empty else probs.mean(axis=0)
    low = np.full(probs.shape[1], np.nan) if empty else probs.min(axis=0)
    out = {columns.survival_column(d): float(v) for d, v in zip(durations_h, mean, strict=True)}
    out.update(
        {columns.survival_column(d, "min"): float(v) for d, v in zip(durations_h, low, strict=True)}
    )
    return out
