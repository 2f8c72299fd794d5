"""Case in, results out: load case → ISO adapter → model → HiGHS → explained results.

``run_case`` returns a JSON-serialisable dict (see :mod:`dcpower.results`). Also runnable as
``python -m dcpower.runner CASE --out RESULTS.json``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dcpower import foresight
from dcpower.case import Case, CaseError, with_solver_overrides
from dcpower.errors import InfeasibleError, NoSolutionError
from dcpower.forecast import HISTORY_DAYS, ForecastError, ForecastFile
from dcpower.gc_pacing import fewer_collections
from dcpower.iso.base import (
    MarketData,
    MarketDataError,
    MarketRequest,
    apply_catalogue_overrides,
    get_adapter,
)
from dcpower.optimization import bounds, dispatch_milp, explain, operations, strategies
from dcpower.optimization.inputs import DispatchInputs, LoadReserveError, build_inputs
from dcpower.optimization.solve import solve_model
from dcpower.reliability import outage_section
from dcpower.resources import bess as bess_model
from dcpower.resources import gas_gen
from dcpower.resources.load import LoadProfileError, build_load_segments
from dcpower.results import assemble_results
from dcpower.tariff import build_schedule
from dcpower.topology import ac_screening

logger = logging.getLogger(__name__)


class InfeasibleCaseError(InfeasibleError):
    """The case has no feasible dispatch; the message names the conflicting families and steps."""

    def __init__(self, message: str, violations: dict[str, list[tuple[int, float]]]):
        super().__init__(message)
        self.violations = violations


class SolverFailedError(NoSolutionError):
    """HiGHS returned no usable solution (time limit without incumbent, or an error)."""


def horizon_utc(case: Case) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of the horizon as UTC timestamps (local midnights in the case's zone)."""
    tz = ZoneInfo(case.horizon.timezone)
    start = datetime.combine(case.horizon.start, dtime(0), tzinfo=tz)
    end = datetime.combine(case.horizon.end, dtime(0), tzinfo=tz)
    return pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")


def _apply_overrides(case: Case, market: MarketData) -> MarketData:
    overrides = {
        name: ov.model_dump(exclude_none=True)
        for name, ov in case.market.reserve_catalogue_overrides.items()
    }
    market.reserve_products = apply_catalogue_overrides(market.reserve_products, overrides)
    return market


def market_request(case: Case, data_dir: Path | None = None) -> MarketRequest:
    """What the case asks of its market adapter (horizon in UTC, products, files)."""
    start, end = horizon_utc(case)
    return MarketRequest(
        settlement_point=case.market.settlement_point,
        energy_market=case.market.energy_market,
        start_utc=start,
        end_utc=end,
        timestep_minutes=case.horizon.timestep_minutes,
        reserve_products=tuple(case.market.reserve_products),
        fill_policy=case.market.fill_policy,
        max_fill_steps=case.market.max_fill_steps,
        price_file=case.market.price_file,
        reserve_price_file=case.market.reserve_price_file,
        data_dir=data_dir,
        reserve_catalogue=case.market.case_reserve_catalogue(),
    )


def load_market(case: Case, data_dir: Path | None = None) -> MarketData:
    """Energy and reserve prices for the case horizon at its timestep."""
    adapter = get_adapter(case.market.iso)
    return _apply_overrides(case, adapter.load_market_data(market_request(case, data_dir)))


def load_price_history(case: Case, data_dir: Path | None = None) -> MarketData | None:
    """Prices of the local days before the horizon, which the forecast baselines read: the
    ``HISTORY_DAYS`` before it, or when the market data start later the longest span of whole
    days they give (at least one; the baselines then use the days published so far). None:
    the case does not forecast from history. Raises ForecastError naming the fix when not
    even the day before the horizon is there."""
    ops = case.operations
    if ops.policy != "forecast" or ops.forecast == "file":
        return None
    request = market_request(case, data_dir)
    tz = ZoneInfo(case.horizon.timezone)
    adapter = get_adapter(case.market.iso)
    error = None
    for days in range(HISTORY_DAYS, 0, -1):
        first = datetime.combine(case.horizon.start - timedelta(days=days), dtime(0), tzinfo=tz)
        asked = replace(
            request, start_utc=pd.Timestamp(first).tz_convert("UTC"), end_utc=request.start_utc
        )
        try:
            return _apply_overrides(case, adapter.load_market_data(asked))
        except MarketDataError as exc:
            error = error or str(exc).rstrip(".")
    raise ForecastError(
        f"operations.forecast {ops.forecast!r} reads up to {HISTORY_DAYS} days of prices before "
        f"horizon.start ({foresight.history_start(case)} to {case.horizon.start}), at least the "
        f"day before it, which the market data do not give: {error}. Fix: a price file (or "
        "shipped year) that starts earlier, a later horizon.start, or operations.forecast 'file'"
    )


def load_realtime_prices(case: Case, data_dir: Path | None = None) -> pd.Series | None:
    """Real-time energy prices on the case's steps for two-settlement ($/MWh; None when the
    case settles day-ahead only): ``operations.realtime_price_file`` or the market's shipped
    RTM data of the settlement point, through the case's market adapter."""
    ops = case.operations
    if ops.settlement != "two_settlement":
        return None
    request = replace(
        market_request(case, data_dir),
        energy_market="rtm",
        reserve_products=(),
        price_file=ops.realtime_price_file,
        reserve_price_file=None,
    )
    try:
        return get_adapter(case.market.iso).load_market_data(request).energy_price_usd_per_mwh
    except MarketDataError as exc:
        raise ForecastError(
            f"operations.settlement 'two_settlement' needs real-time prices of "
            f"{case.market.settlement_point} over the horizon: {str(exc).rstrip('.')}. Fix: "
            "give operations.realtime_price_file, or a settlement point and years with shipped "
            "RTM prices (ERCOT HB_HUBAVG 2024-2025)"
        ) from None


def precheck(x: DispatchInputs) -> list[tuple[str, str]]:
    """Problems that make a case infeasible by construction, as (json path, message + fix)."""
    case = x.case
    problems = [("$.bess", msg) for msg in bess_model.check_soc_window(case.bess, x.soc_floor_mwh)]
    if case.reliability.n_plus_1:
        g, b = case.gas_gen, case.bess
        bess_mw = b.power_mw if b.installed else 0.0
        capacity = gas_gen.n_plus_1_capacity_mw(g, g.units, bess_mw)
        crit = float(np.max(x.load.critical_mw)) if x.n_steps else 0.0
        if capacity < crit - 1e-9:
            problems.append(
                (
                    "$.reliability.n_plus_1",
                    f"N+1 needs unit_mw×(units−1) + bess.power_mw ≥ critical load: "
                    f"{g.unit_mw:g}×({g.units}−1) + {bess_mw:g} = {capacity:g} MW < {crit:g} MW; "
                    "fix: add gas units or BESS power, or set reliability.n_plus_1 false",
                )
            )
    return problems


def _explain_infeasible(x: DispatchInputs, opts: dict[str, Any]) -> InfeasibleCaseError:
    """Re-solve with elastic slacks and name the families and timesteps that conflict."""
    m = dispatch_milp.build_dispatch_model(x, elastic=True)
    report = solve_model(m, build_seconds=0.0, method="elastic_diagnosis", **opts)
    violations = explain.elastic_violations(m) if report.has_solution else {}
    if not violations:
        return InfeasibleCaseError(
            "the case is infeasible and the elastic re-solve could not localise it "
            f"(status {report.status.value}); check {', '.join(_suspects(x))}",
            {},
        )
    binding = explain.binding_constraints(m)
    lines = ["the case is infeasible; relaxing these constraint families makes it feasible:"]
    for family, hits in violations.items():
        stamps = ", ".join(
            f"{x.timestamps[t].strftime('%Y-%m-%dT%H:%MZ')} (by {v:.3g})" for t, v in hits[:5]
        )
        more = f" and {len(hits) - 5} more" if len(hits) > 5 else ""
        lines.append(
            f"  {family}: {dispatch_milp.CONSTRAINT_FAMILIES[family]} — violated at {stamps}{more}"
        )
        # what it conflicts with: the other families binding at those steps
        others = sorted(
            {f for t, _ in hits for f in binding.get(t, ()) if f not in violations}
            & set(dispatch_milp.CONSTRAINT_FAMILIES)
        )
        if others:
            lines.append(f"    in conflict with (binding at those steps): {', '.join(others)}")
    return InfeasibleCaseError("\n".join(lines), violations)


def _suspects(x: DispatchInputs) -> list[str]:
    """The case settings that can cap or force the withdrawal, for an unlocalised conflict."""
    case = x.case
    out = ["POI limits (poi.import_limit_mw, poi.export_limit_mw)", "SOC limits (bess)"]
    if case.reliability.n_plus_1:
        out.append("reliability.n_plus_1")
    if case.events:
        out.append("event caps (events[].cap_mw)")
    if case.tariff is not None and case.tariff.response == "alert":
        out.append("CP alert caps (tariff.alert.max_withdrawal_mw)")
    if case.load.reserves.weekly_curtailment_limit_mwh is not None:
        out.append("the weekly curtailment limit (load.reserves.weekly_curtailment_limit_mwh)")
    return out


MONOLITHIC_MAX_DAYS = 14
#: block length of the Lagrangian proven bound: on the 2016 benchmark year (N+1, four AS
#: products) 2-day blocks gave a bound 1.55 % below the LP bound in 378 s (LP + blocks, median
#: of 3; benchmarks/README.md).
PROVEN_BOUND_BLOCK_DAYS = 2


def choose_method(case: Case) -> str:
    """The strategy a case asks for; ``auto`` = monolithic up to 14 days, rolling beyond."""
    if case.solver.method != "auto":
        return case.solver.method
    days = (case.horizon.end - case.horizon.start).days
    return "monolithic" if days <= MONOLITHIC_MAX_DAYS else "rolling_horizon"


def _market_and_inputs(case: Case, data_dir: Path | None) -> tuple[MarketData, DispatchInputs]:
    market = load_market(case, data_dir)
    load = build_load_segments(case.load, market.energy_price_usd_per_mwh.index)
    x = build_inputs(case, market, load)
    if case.tariff is not None:
        from dataclasses import replace

        sched = build_schedule(case, x.timestamps, data_dir)
        x = replace(
            x, cp_usd_per_mw=sched.usd_per_mw, alert_cap_mw=sched.alert_cap_mw, tariff=sched
        )
    problems = precheck(x)
    if problems:
        raise CaseError(case.name, problems)
    return market, x


def prepare_inputs(case: Case, data_dir: Path | None = None) -> DispatchInputs:
    """The model inputs of a case (market data, load segments, SOC floor), prechecked."""
    return _market_and_inputs(case, data_dir)[1]


def input_problems(case: Case, data_dir: Path | None = None) -> list[tuple[str, str]]:
    """Every problem of a valid case's data, without solving: market data coverage, the load
    profile and the by-construction checks of :func:`precheck`, as (where, message) pairs.

    ``dcpower validate`` reports these; ``dcpower run`` fails on the same ones (exit 2).
    """
    problems: list[tuple[str, str]] = []
    market = None
    try:
        market = load_market(case, data_dir)
    except MarketDataError as exc:
        problems.append(("$.market", str(exc)))
    start, end = horizon_utc(case)
    index = (
        market.energy_price_usd_per_mwh.index
        if market is not None
        else pd.date_range(start, end, freq=f"{case.horizon.timestep_minutes}min", inclusive="left")
    )
    load = None
    try:
        load = build_load_segments(case.load, index)
    except LoadProfileError as exc:
        problems.append(("$.load.profile_file", str(exc)))
    if market is not None and load is not None:
        try:
            problems += precheck(build_inputs(case, market, load))
        except LoadReserveError as exc:
            problems.append(("$.load.reserves.products", str(exc)))
    if case.operations.policy == "forecast":
        try:
            load_realtime_prices(case, data_dir)
            load_price_history(case, data_dir)
            if case.operations.forecast_file is not None:
                ForecastFile.read(case.operations.forecast_file)
        except ForecastError as exc:
            problems.append(("$.operations", str(exc)))
    if case.tariff is not None and market is not None:
        try:
            build_schedule(case, market.energy_price_usd_per_mwh.index, data_dir)
        except MarketDataError as exc:
            problems.append(("$.tariff", str(exc)))
    return problems


@fewer_collections()
def run_case(
    case: Case,
    *,
    relax: bool | None = None,
    mip_rel_gap: float | None = None,
    time_limit_s: float | None = None,
    threads: int | None = None,
    method: str | None = None,
    data_dir: Path | None = None,
    lp_bound: bool = False,
    proven_bound: bool = False,
    solver_log: IO[str] | None = None,
    marginal_values: bool = False,
) -> dict[str, Any]:
    """Solve one case and return its results dict.

    ``solver_log``: a text stream that receives HiGHS's own output (default: none is shown).

    ``lp_bound``: also solve the LP relaxation of the whole-horizon model, whatever the method,
    and report ``lp_bound`` and ``gap_to_lp_bound`` (no feasible dispatch can beat the bound).
    ``proven_bound``: also the Lagrangian block bound (``bounds.lagrangian_bound``, blocks of
    ``PROVEN_BOUND_BLOCK_DAYS``), reported as ``proven_bound`` and ``proven_gap`` with the LP's.

    ``marginal_values``: also the $/yr value of +1 unit of each asset's size from the duals of
    the LP with the integers fixed at the MILP solution (one extra LP per window; not with
    ``relax``), reported as the ``marginal_values`` section.

    Raises CaseError / MarketDataError / LoadProfileError for bad input, InfeasibleCaseError
    when no dispatch satisfies every constraint, SolverFailedError when HiGHS finds none in time.
    """
    started = time.perf_counter()
    # overrides go through the case schema (CaseError names the field and the option)
    case = with_solver_overrides(
        case, case.name, mip_rel_gap=mip_rel_gap, time_limit_s=time_limit_s, threads=threads
    )
    market, x = _market_and_inputs(case, data_dir)
    relax = case.solver.relax_integrality if relax is None else relax
    opts = {
        "mip_rel_gap": case.solver.mip_rel_gap,
        "time_limit_s": case.solver.time_limit_s,
        "threads": case.solver.threads,
    }
    if solver_log is not None:
        opts["tee"] = solver_log
    method = method or choose_method(case)
    selective = case.solver.selective_binaries
    with_mv = marginal_values and not relax
    steps_per_day = 24 * 60 // case.horizon.timestep_minutes
    causal = case.operations.policy == "forecast"
    if causal and with_mv:
        raise CaseError(
            case.name,
            [
                (
                    "$.operations.policy",
                    "marginal values are read from one LP's duals, which the forecast policy "
                    "(many decisions at forecast prices) has not; fix: drop --marginal-values "
                    "or use policy 'perfect_foresight'",
                )
            ],
        )
    forecaster = (
        foresight.Forecaster(x, market, load_price_history(case, data_dir)) if causal else None
    )
    decisions = None
    realtime = load_realtime_prices(case, data_dir) if causal else None
    try:
        if forecaster is not None:
            solution, decisions = operations.solve_forecast_policy(
                x,
                opts,
                foresight.operating_days(x),
                case.solver.lookahead_days,
                forecaster.priced,
                relax,
                selective,
                forecaster.notice_times(),
            )
            if realtime is not None:
                foresight.settle_in_two(solution, decisions, realtime)
        elif method == "monolithic":
            solution = strategies.solve_monolithic(x, opts, relax, selective, with_mv)
        else:
            solution = strategies.solve_rolling(
                x,
                opts,
                case.solver.window_days * steps_per_day,
                case.solver.lookahead_days * steps_per_day,
                relax,
                selective,
                with_mv,
            )
    except strategies.WindowInfeasibleError as exc:
        raise _explain_infeasible(exc.inputs, opts) from None
    except strategies.NoSolutionError as exc:
        raise SolverFailedError(
            f"HiGHS returned no solution (status {exc.report.status.value}, termination "
            f"{exc.report.termination}); fix: raise solver.time_limit_s or relax "
            "solver.mip_rel_gap"
        ) from None
    logger.info("solve: %s objective=%s", solution.report.status.value, solution.report.objective)
    report = solution.report
    if method == "monolithic" and not causal and not relax and report.best_bound is not None:
        report.proven_bound, report.proven_bound_method = report.best_bound, "milp_dual_bound"
    if proven_bound and not relax:
        pb = bounds.lagrangian_bound(x, opts, PROVEN_BOUND_BLOCK_DAYS * steps_per_day)
        report.proven_bound_seconds = pb.seconds
        if report.proven_bound is None or pb.objective < report.proven_bound:
            report.proven_bound, report.proven_bound_method = pb.objective, pb.method
        lp = pb.lp
    elif lp_bound and not relax:
        lp = bounds.lp_relaxation_bound(x, opts["threads"])
    if (lp_bound or proven_bound) and not relax:
        report.lp_bound = lp.objective
        report.lp_seconds = lp.total_seconds
        report.lp_solve_seconds = lp.solve_seconds
    ac = ac_screening.screen(
        case, solution.dispatch, solution.electrical, x.reserve_products, x.timestamps
    )
    return assemble_results(
        case,
        x,
        market,
        solution,
        time.perf_counter() - started,
        ac,
        foresight=foresight.foresight_section(case, decisions, forecaster, solution.dispatch),
        outage=outage_section(case, solution.dispatch),
    )
