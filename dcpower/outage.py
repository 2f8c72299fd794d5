"""Outage survival with REopt's failure modes, from every timestep of a solved dispatch.

The model follows NREL REopt.jl's backup-reliability tool (``src/outagesim/backup_reliability.jl``)
and its conventions:

* **Operational availability** ``a`` and **failure to start** ``f``: a unit the dispatch does not
  have running when the outage starts works with probability ``a · (1 − f)``; a unit already
  running needs no start (``outage_start_units = "dispatched"``; ``"cold"`` starts every unit).
* **Failure while running**: every working unit fails with probability ``p = Δt / MTTF`` at the
  start of every step (REopt applies its Markov matrix before the step's check); failed units stay
  failed. The number of working units is a Markov chain with binomial transitions.
* **Fuel limit**: the units share ``fuel_limit_mwh`` of output MWh for the outage.
* **Battery**: from its dispatched SOC at the outage start, within its floor/ceiling, PCS power
  and one-way efficiencies; it covers the units' deficit and charges from their surplus.
* **Start delay**: started units produce only after ``start_delay_minutes`` (simulated to the
  minute inside the step); running units and the battery ride through the delay.

* **Mixed fleets** (``OutageSite.types``): several unit types, each with its own size, start delay,
  availability, failure to start and MTTF; units fail independently, so the state is the joint
  count of working units per type and a step's transition the product of the types' binomials.

The state is the joint distribution of (working units, battery SOC bin) per outage start, as in
REopt, except that each bin also carries the mass-weighted mean SOC and mean fuel used (first
moments), so a path that no failure splits keeps its exact SOC (no rounding to bin centres); paths
that merge into one bin share their mean. Critical load continues from the start index and wraps
around the end of the profile (cyclic year).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dcpower import columns

#: deficit tolerance, MW.
TOLERANCE_MW = 1e-9
#: SOC bins where paths split by failures while running merge (REopt: 20 per hour of duration).
DEFAULT_SOC_BINS = 100
#: entries less likely than this merge in bins COARSE_FACTOR times wider (their total probability
#: bounds the error this adds).
COARSE_BELOW = 1e-4
COARSE_FACTOR = 10
#: entries less likely than this are dropped (counted as not surviving: conservative, by at most
#: this times the number of entries, far below any reported digit).
PRUNE_PROBABILITY = 1e-12
#: state entries per chunk of outage starts (bounds memory).
_CHUNK_ELEMENTS = 200_000
#: start selection: outage-start unit state.
START_MODES = ("dispatched", "cold")


@dataclass(frozen=True)
class OutageSite:
    """Islanded-operation parameters of a site.

    Attributes
    ----------
    bess_power_mw : float
        PCS charge/discharge limit, MW.
    bess_energy_mwh : float
        Nameplate energy, MWh.
    bess_soc_min_mwh, bess_soc_max_mwh : float
        Physical SOC floor and ceiling, MWh.
    charge_efficiency, discharge_efficiency : float
        One-way efficiencies (stored = charge MWh · η_ch; drawn = discharge MWh / η_dis), -.
    gen_units : int
        Number of gas units.
    unit_mw : float
        Capacity per unit, MW.
    start_delay_minutes : float
        Time from outage start until started units produce, min.
    failure_to_start_probability : float
        Independent per-unit probability of failing to start, -.
    operational_availability : float
        Probability a unit is not down for maintenance when the outage starts, -.
    mean_time_to_failure_h : float | None
        Mean running hours between failures, h (None: never fails while running).
    fuel_limit_mwh : float | None
        Output MWh the units can produce in one outage, MWh (None: unlimited).
    soc_bins : int
        SOC bins when units can fail while running, -.
    types : tuple[UnitType, ...] | None
        A mixed fleet, one entry per unit type (None: the identical units above). With types,
        the gen_units … mean_time_to_failure_h fields above are ignored; the battery, the
        fleet's shared ``fuel_limit_mwh`` and ``soc_bins`` apply.
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
    operational_availability: float = 1.0
    mean_time_to_failure_h: float | None = None
    fuel_limit_mwh: float | None = None
    soc_bins: int = DEFAULT_SOC_BINS
    types: tuple[UnitType, ...] | None = None


@dataclass(frozen=True)
class UnitType:
    """One type of a mixed fleet: identical units that fail independently of every other unit.

    Attributes
    ----------
    units : int
        Units of this type, -.
    unit_mw : float
        Capacity per unit, MW.
    start_delay_minutes : float
        Time from outage start until started units of this type produce, min.
    failure_to_start_probability, operational_availability : float
        As in :class:`OutageSite`, per unit of this type, -.
    mean_time_to_failure_h : float | None
        Mean running hours between failures, h (None: never fails while running).
    """

    units: int
    unit_mw: float
    start_delay_minutes: float = 0.0
    failure_to_start_probability: float = 0.0
    operational_availability: float = 1.0
    mean_time_to_failure_h: float | None = None


@dataclass(frozen=True)
class OutageResult:
    """Survival and expected unserved energy by outage start and duration.

    Attributes
    ----------
    survival : np.ndarray
        Shape (n_starts, n_durations): probability the whole outage is ridden through, -.
    unserved_mwh : np.ndarray
        Shape (n_starts, n_durations): expected unserved critical energy, MWh, counting the
        critical load as lost from the step the site first fails to the end of the outage.
    """

    survival: np.ndarray
    unserved_mwh: np.ndarray


def _steps(hours: float, dt_h: float) -> int:
    """Whole timesteps covering ``hours`` (rounded up, robust to float noise)."""
    return max(0, math.ceil(hours / dt_h - 1e-9))


def units_started_pmf(units: int, failure_probability: float) -> np.ndarray:
    """Binomial pmf of the number of units that start, k = 0..N (length N + 1), -."""
    return _binom_pmf(units, 1.0 - failure_probability)


def _binom_pmf(n: int, q: float) -> np.ndarray:
    """P(k of n succeed), k = 0..n, success probability q."""
    return np.array([math.comb(n, k) * q**k * (1.0 - q) ** (n - k) for k in range(n + 1)])


def failure_transition(units: int, step_failure_probability: float) -> np.ndarray:
    """Markov matrix over working units, rows from k, columns to k' ≤ k (binomial survivals)."""
    t = np.zeros((units + 1, units + 1))
    for k in range(units + 1):
        t[k, : k + 1] = _binom_pmf(k, 1.0 - step_failure_probability)
    return t


def _check(site: OutageSite, soc0: np.ndarray, load: np.ndarray, durations_h, minutes) -> None:
    if soc0.ndim != 1 or soc0.shape != load.shape:
        raise ValueError(
            f"soc_at_start_mwh {soc0.shape} and critical_mw {load.shape} must be equal 1-D shapes"
        )
    if minutes <= 0:
        raise ValueError(f"timestep_minutes must be positive, got {minutes}")
    if any(d < 0 for d in durations_h):
        raise ValueError(f"durations_h must be non-negative, got {list(durations_h)}")
    for name in ("failure_to_start_probability", "operational_availability"):
        if not 0.0 <= getattr(site, name) <= 1.0:
            raise ValueError(f"{name} must be within [0, 1]")
    if site.charge_efficiency <= 0 or site.discharge_efficiency <= 0:
        raise ValueError("charge and discharge efficiencies must be positive")
    if site.mean_time_to_failure_h is not None and site.mean_time_to_failure_h <= 0:
        raise ValueError("mean_time_to_failure_h must be positive (or None: never fails)")
    if site.fuel_limit_mwh is not None and site.fuel_limit_mwh < 0:
        raise ValueError("fuel_limit_mwh must be non-negative (or None: unlimited)")
    if site.soc_bins < 1:
        raise ValueError("soc_bins must be at least 1")


def simulate(
    soc_at_start_mwh: np.ndarray,
    critical_mw: np.ndarray,
    site: OutageSite,
    durations_h: Sequence[float],
    timestep_minutes: int,
    running_units: np.ndarray | None = None,
    gas_fraction: np.ndarray | None = None,
) -> OutageResult:
    """Survival probability and expected unserved energy by outage start step and duration.

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
    running_units : np.ndarray | None
        Units running at each outage start (need no start, produce through the delay), shape
        (n,), or (n, types) for a mixed fleet (``site.types``); None: every unit starts cold.
    gas_fraction : np.ndarray | None
        Share of each unit's MW its fuel allows at each step (pipeline curtailment in a grid
        event), shape (n,), or (n, types) for a mixed fleet whose types have different fuel
        supplies, read cyclically like the load; None: 1.
    """
    soc0 = np.asarray(soc_at_start_mwh, dtype=float)
    load = np.asarray(critical_mw, dtype=float)
    _check(site, soc0, load, durations_h, timestep_minutes)
    if site.types is not None:
        return _simulate_types(
            soc0, load, site, durations_h, timestep_minutes, running_units, gas_fraction
        )
    n, N = load.size, site.gen_units
    run = np.zeros(n, dtype=int) if running_units is None else np.asarray(running_units, int)
    if run.shape != load.shape or (run.size and (run.min() < 0 or run.max() > N)):
        raise ValueError(f"running_units must have shape {load.shape} with values in 0..{N}")
    frac = np.ones(n) if gas_fraction is None else np.asarray(gas_fraction, dtype=float)
    if frac.shape != load.shape or np.any((frac < 0) | (frac > 1)):
        raise ValueError(f"gas_fraction must have shape {load.shape} with values in [0, 1]")
    dt = timestep_minutes / 60.0
    steps = [_steps(float(d), dt) for d in durations_h]
    return _over_starts(
        lambda sl, starts, m: _survival_curve(soc0[sl], load, starts, run[sl], site, dt, m, frac),
        load,
        dt,
        steps,
        max(1, _CHUNK_ELEMENTS // (N + 1) ** 2),
    )


def _over_starts(curve, load: np.ndarray, dt: float, steps: list[int], chunk_rows: int):
    """Survival and expected lost critical MWh per start and duration (``OutageResult``).

    ``curve(slice, starts, m)`` gives, for the starts of one chunk, the survival after 0..m steps
    (shape (starts, m + 1)); starts are taken ``chunk_rows`` at a time to bound memory. Lost
    load: from the failing step on, the whole step's critical MWh."""
    n = load.size
    surv = np.ones((n, len(steps)))
    unserved = np.zeros((n, len(steps)))
    if n == 0 or not steps or max(steps) == 0:
        return OutageResult(surv, unserved)
    idx, m = np.asarray(steps), max(steps)
    for lo in range(0, n, chunk_rows):
        sl = slice(lo, min(n, lo + chunk_rows))
        starts = np.arange(sl.start, sl.stop)
        after = curve(sl, starts, m)
        surv[sl] = after[:, idx]
        step_load = load[(starts[:, None] + np.arange(m)[None, :]) % n] * dt
        lost = np.cumsum((1.0 - after[:, 1:]) * step_load, axis=1)
        lost = np.concatenate([np.zeros((lost.shape[0], 1)), lost], axis=1)
        unserved[sl] = lost[:, idx]
    return OutageResult(np.clip(surv, 0.0, 1.0), unserved)


def survival_by_start(
    soc_at_start_mwh: np.ndarray,
    critical_mw: np.ndarray,
    site: OutageSite,
    durations_h: Sequence[float],
    timestep_minutes: int,
    running_units: np.ndarray | None = None,
    gas_fraction: np.ndarray | None = None,
) -> np.ndarray:
    """Shape (n, len(durations_h)): probability (0..1) that the outage starting at the beginning
    of each step is ridden through fully for each duration (see :func:`simulate`)."""
    return simulate(
        soc_at_start_mwh,
        critical_mw,
        site,
        durations_h,
        timestep_minutes,
        running_units,
        gas_fraction,
    ).survival


def _expand(units: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every entry with ``units`` working → one entry per k' = 0..units: (entry index, k',
    transition probability)."""
    reps = units + 1
    idx = np.repeat(np.arange(units.size), reps)
    offsets = np.cumsum(reps) - reps
    kp = np.arange(idx.size) - np.repeat(offsets, reps)
    return idx, kp, trans[units[idx], kp]


def _survival_curve(
    soc0: np.ndarray,
    load: np.ndarray,
    starts: np.ndarray,
    run: np.ndarray,
    site: OutageSite,
    dt: float,
    n_steps: int,
    frac: np.ndarray,
) -> np.ndarray:
    """Survival after 0..n_steps steps for each start of a chunk, shape (S, n_steps + 1).

    Sparse state: one entry per (start, running units working, started units working, SOC bin)
    that carries probability, and mean SOC and fuel used among its paths."""
    N, U = site.gen_units, site.unit_mw
    S, n = starts.size, load.size
    delay_h = max(0.0, site.start_delay_minutes) / 60.0
    p_run = 0.0 if site.mean_time_to_failure_h is None else dt / site.mean_time_to_failure_h
    p_run = min(p_run, 1.0)
    lo_soc, hi_soc = site.bess_soc_min_mwh, site.bess_soc_max_mwh
    has_bess = site.bess_power_mw > 0 and hi_soc > lo_soc
    width = (hi_soc - lo_soc) / site.soc_bins if has_bess else 1.0
    fuel = math.inf if site.fuel_limit_mwh is None else site.fuel_limit_mwh
    q_start = site.operational_availability * (1.0 - site.failure_to_start_probability)
    eta_c, eta_d, p_max = site.charge_efficiency, site.discharge_efficiency, site.bess_power_mw
    battery = (has_bess, lo_soc, hi_soc, eta_c, eta_d, p_max)

    # Entries at the outage start: running units all work (no start), started units binomial.
    pmfs = [_binom_pmf(N - r, q_start) for r in range(N + 1)]
    reps = N - run + 1
    st = np.repeat(np.arange(S), reps)
    r = np.repeat(run, reps)
    j = np.arange(st.size) - np.repeat(np.cumsum(reps) - reps, reps)
    prob = np.array([pmfs[rr][jj] for rr, jj in zip(r, j, strict=True)])
    soc = soc0[st].astype(float)
    used = np.zeros(st.size)
    trans = failure_transition(N, p_run)
    after = np.ones((S, n_steps + 1))
    for i in range(n_steps):
        h_a = min(max(delay_h - i * dt, 0.0), dt)  # part of the step with running units only
        if h_a <= 1e-12 and r.any():
            j, r = j + r, np.zeros_like(r)  # delay over: only the total of working units matters
        if p_run > 0:
            idx, r_new, w = _expand(r, trans)
            st, j, soc, used, prob, r = st[idx], j[idx], soc[idx], used[idx], prob[idx] * w, r_new
            idx, j_new, w = _expand(j, trans)
            st, r, soc, used, prob, j = st[idx], r[idx], soc[idx], used[idx], prob[idx] * w, j_new
            st, r, j, soc, used, prob = _merge(st, r, j, soc, used, prob, N, lo_soc, width)
        demand = load[(starts[st] + i) % n]
        unit_mw = U * frac[(starts[st] + i) % n]  # MW per working unit its fuel allows
        alive = prob > 0
        for h, units in ((h_a, r), (dt - h_a, r + j)):
            if h <= 1e-12:
                continue
            ok, soc, used = _serve(units * unit_mw, demand, soc, used, h, fuel, battery)
            alive &= ok
        st, r, j, soc, used, prob = (
            st[alive],
            r[alive],
            j[alive],
            soc[alive],
            used[alive],
            prob[alive],
        )
        after[:, i + 1] = np.bincount(st, prob, S)
        if st.size == 0:
            after[:, i + 2 :] = 0.0
            break
    return after


def _serve(gas_mw, demand, soc, used, h, fuel, battery):
    """One constant-output part of a step, h hours long: the working units serve the critical
    load up to ``gas_mw`` and what the fuel left allows, the battery covers the deficit within
    its power and SOC floor (losses η_dis) and takes the surplus within its power and ceiling
    (η_ch). Returns (load met on every path, SOC MWh, fuel used MWh of output)."""
    has_bess, lo_soc, hi_soc, eta_c, eta_d, p_max = battery
    cap = np.minimum(gas_mw, np.maximum(fuel - used, 0.0) / h)
    served = np.minimum(cap, demand)
    deficit = demand - served
    if has_bess:
        can_dis = np.clip((soc - lo_soc) * eta_d / h, 0.0, p_max)
        charge = np.minimum(cap - served, np.clip((hi_soc - soc) / (eta_c * h), 0, p_max))
    else:
        can_dis = charge = np.zeros_like(soc)
    ok = deficit <= can_dis + TOLERANCE_MW
    soc = soc + charge * eta_c * h - np.minimum(deficit, can_dis) * h / eta_d
    return ok, soc, used + (served + charge) * h


def _merge(st, r, j, soc, used, prob, N, lo_soc, width):
    """Merge entries in the same (start, r, j, SOC bin): probabilities add, SOC and fuel used
    become probability-weighted means."""
    # Unlikely entries (tail paths with several failures) merge in bins COARSE_FACTOR wider.
    coarse = prob < COARSE_BELOW
    b = np.floor((soc - lo_soc) / np.where(coarse, width * COARSE_FACTOR, width) + 1e-9)
    b = 2 * b.astype(np.int64) + coarse
    key = ((st.astype(np.int64) * (N + 1) + r) * (N + 1) + j) * (b.max() + 1 - min(b.min(), 0))
    key += b - min(b.min(), 0)
    uniq, inv = np.unique(key, return_inverse=True)
    m = np.bincount(inv, prob, uniq.size)
    first = np.zeros(uniq.size, dtype=np.int64)
    first[inv[::-1]] = np.arange(inv.size)[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        s_mean = np.bincount(inv, prob * soc, uniq.size) / m
        u_mean = np.bincount(inv, prob * used, uniq.size) / m
    keep = m > PRUNE_PROBABILITY
    return (
        st[first][keep],
        r[first][keep],
        j[first][keep],
        s_mean[keep],
        u_mean[keep],
        m[keep],
    )


def _simulate_types(
    soc0: np.ndarray,
    load: np.ndarray,
    site: OutageSite,
    durations_h: Sequence[float],
    timestep_minutes: int,
    running_units: np.ndarray | None,
    gas_fraction: np.ndarray | None,
) -> OutageResult:
    """:func:`simulate` for a mixed fleet: the joint Markov chain over working units per type."""
    types = site.types or ()
    n, K = load.size, len(types)
    for k, u in enumerate(types):
        for name in ("failure_to_start_probability", "operational_availability"):
            if not 0.0 <= getattr(u, name) <= 1.0:
                raise ValueError(f"types[{k}].{name} must be within [0, 1]")
        if u.units < 0 or u.unit_mw < 0:
            raise ValueError(f"types[{k}]: units and unit_mw must be non-negative")
        if u.mean_time_to_failure_h is not None and u.mean_time_to_failure_h <= 0:
            raise ValueError(f"types[{k}].mean_time_to_failure_h must be positive (or None)")
    caps = np.array([u.units for u in types], dtype=int)
    run = np.zeros((n, K), dtype=int) if running_units is None else np.asarray(running_units, int)
    if run.shape != (n, K) or (run.size and (np.any(run < 0) or np.any(run > caps))):
        raise ValueError(
            f"running_units must have shape {(n, K)} with values in 0..units of each type"
        )
    frac = np.ones(n) if gas_fraction is None else np.asarray(gas_fraction, dtype=float)
    if frac.ndim == 1 and frac.shape == load.shape:
        frac = np.repeat(frac[:, None], K, axis=1)  # one share for every type
    if frac.shape != (n, K) or np.any((frac < 0) | (frac > 1)):
        raise ValueError(
            f"gas_fraction must have shape {load.shape} or {(n, K)} (per type, e.g. different "
            "fuel supplies) with values in [0, 1]"
        )
    dt = timestep_minutes / 60.0
    steps = [_steps(float(d), dt) for d in durations_h]
    return _over_starts(
        lambda sl, starts, m: _types_curve(soc0[sl], load, starts, run[sl], site, dt, m, frac),
        load,
        dt,
        steps,
        max(1, _CHUNK_ELEMENTS // int(np.prod((caps + 1) ** 2))),
    )


def _types_curve(
    soc0: np.ndarray,
    load: np.ndarray,
    starts: np.ndarray,
    run: np.ndarray,
    site: OutageSite,
    dt: float,
    n_steps: int,
    frac: np.ndarray,
) -> np.ndarray:
    """Survival after 0..n_steps steps for each start of a chunk, shape (S, n_steps + 1).

    Sparse joint state: one entry per (start, working running units of each type, working
    started units of each type, SOC bin), carrying probability and mean SOC and fuel used.
    Types fail independently, so a step's transition is the product of each type's binomial
    survivals; within a step, output is piecewise constant between the types' delay ends."""
    types = site.types or ()
    K, S, n = len(types), starts.size, load.size
    mw = np.array([u.unit_mw for u in types])
    delay_h = np.array([max(0.0, u.start_delay_minutes) / 60.0 for u in types])
    p_run = [
        0.0 if u.mean_time_to_failure_h is None else min(dt / u.mean_time_to_failure_h, 1.0)
        for u in types
    ]
    trans = [failure_transition(u.units, p) for u, p in zip(types, p_run, strict=True)]
    q_start = [u.operational_availability * (1.0 - u.failure_to_start_probability) for u in types]
    lo_soc, hi_soc = site.bess_soc_min_mwh, site.bess_soc_max_mwh
    has_bess = site.bess_power_mw > 0 and hi_soc > lo_soc
    width = (hi_soc - lo_soc) / site.soc_bins if has_bess else 1.0
    fuel = math.inf if site.fuel_limit_mwh is None else site.fuel_limit_mwh
    eta_c, eta_d, p_max = site.charge_efficiency, site.discharge_efficiency, site.bess_power_mw
    battery = (has_bess, lo_soc, hi_soc, eta_c, eta_d, p_max)
    caps = np.array([u.units for u in types], dtype=np.int64)

    # Outage start: running units all work; started units of each type binomial, independent.
    st = np.arange(S)
    R = run.astype(np.int64).copy()
    J = np.zeros((S, K), dtype=np.int64)
    prob = np.ones(S)
    for k, u in enumerate(types):
        idx, jk, w = _expand(u.units - R[:, k], failure_transition(u.units, 1.0 - q_start[k]))
        st, R, J, prob = st[idx], R[idx], J[idx], prob[idx] * w
        J[:, k] = jk
    soc = soc0[st].astype(float)
    used = np.zeros(st.size)
    after = np.ones((S, n_steps + 1))
    for i in range(n_steps):
        over = delay_h <= i * dt + 1e-12  # types whose started units now produce: fold J into R
        R, J = R + J * over, J * ~over
        for k in range(K):
            if p_run[k] <= 0:
                continue
            for running in (True, False):
                idx, new, w = _expand((R if running else J)[:, k], trans[k])
                st, R, J = st[idx], R[idx], J[idx]
                soc, used, prob = soc[idx], used[idx], prob[idx] * w
                (R if running else J)[:, k] = new
        if any(p > 0 for p in p_run):
            st, R, J, soc, used, prob = _merge_types(st, R, J, soc, used, prob, lo_soc, width, caps)
        t0 = i * dt
        cuts = sorted({0.0, dt, *(float(d - t0) for d in delay_h if 0.0 < d - t0 < dt)})
        demand = load[(starts[st] + i) % n]
        share = frac[(starts[st] + i) % n]
        alive = prob > 0
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            h = b - a
            if h <= 1e-12:
                continue
            ready = (delay_h <= t0 + a + 1e-12).astype(np.int64)  # started units producing
            units_mw = ((R + J * ready) * share) @ mw  # MW the working units' fuel allows
            ok, soc, used = _serve(units_mw, demand, soc, used, h, fuel, battery)
            alive &= ok
        st, R, J, soc, used, prob = (v[alive] for v in (st, R, J, soc, used, prob))
        after[:, i + 1] = np.bincount(st, prob, S)
        if st.size == 0:
            after[:, i + 2 :] = 0.0
            break
    return after


def _merge_types(st, R, J, soc, used, prob, lo_soc, width, caps):
    """:func:`_merge` over the joint per-type state: entries in the same (start, R, J, SOC bin)
    merge; probabilities add, SOC and fuel used become probability-weighted means."""
    coarse = prob < COARSE_BELOW
    b = np.floor((soc - lo_soc) / np.where(coarse, width * COARSE_FACTOR, width) + 1e-9)
    b = 2 * b.astype(np.int64) + coarse
    b -= min(b.min(), 0)
    key = st.astype(np.int64)
    for k, cap in enumerate(caps):  # mixed radix: units of each type range over 0..cap
        key = (key * (cap + 1) + R[:, k]) * (cap + 1) + J[:, k]
    key = key * (b.max() + 1) + b
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    m = np.bincount(inv, prob, first.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        s_mean = np.bincount(inv, prob * soc, first.size) / m
        u_mean = np.bincount(inv, prob * used, first.size) / m
    keep = m > PRUNE_PROBABILITY
    f = first[keep]
    return st[f], R[f], J[f], s_mean[keep], u_mean[keep], m[keep]


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
