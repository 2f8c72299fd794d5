"""Sizing sweeps: grid expansion, scenario cases, annualised costs, summaries, aggregation.

A scenario is the study's base case with three sizes applied (BESS MWh, gas units, transformer
MVA), optionally a POI import limit (``grid.poi_import_mw``, the headroom study) and a market
year. Scenario names follow Snakemake's ``Paramspace`` layout
(``bess_mwh~400/gen_units~4/transformer_mva~150``) so adding a grid value adds only new folders.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import pandas as pd
import xarray as xr

from dcpower import columns, dimensions, economics, headroom, reliability, resolution
from dcpower.case import Case, CaseError, case_from_dict, load_case
from dcpower.errors import InfeasibleError, InputError, NoSolutionError
from dcpower.events import NONE as NONE_EVENT
from dcpower.iso.base import MarketDataError, get_adapter, prepare_market_data
from dcpower.outage import survival_summary
from dcpower.pareto import frontier_flags
from dcpower.resources.load import LoadProfileError, build_load_segments
from dcpower.results import records_to_frame, write_atomic_with
from dcpower.study import (
    DATA_ROOT,
    CostsConfig,
    MarketConfig,
    OutageConfig,
    ScenarioSettings,
    StudyConfig,
    StudyConfigError,
    load_study_config,
)
from dcpower.tariff import build_schedule

GRID_DIMS = dimensions.SIZE_DIMS
YEAR_DIM = "market_year"
#: the grid emergency event of a scenario (``none`` or a shipped event's name)
EVENT_DIM = "events"
#: the BESS duration as a dimension of its own (a search's ``search.bess_duration_h``)
DURATION_DIM = "bess_duration_h"
#: the dispatch policy of a scenario (``study.operations.policy``; case ``operations.policy``)
POLICY_DIM = columns.POLICY_DIM
#: dimensions a study adds only when its grid (or search) sets them (``grid.poi_import_mw``)
OPTIONAL_DIMS = (headroom.DIM, DURATION_DIM)
HOURS_PER_YEAR = 8760.0

#: summary columns and their units (xarray attributes, report tables).
UNITS = {
    **dimensions.UNITS,
    "bess_mw": "MW",
    "gen_mw": "MW",
    "annualised_capex_usd": "$/yr",
    "fixed_om_usd": "$/yr",
    "net_operating_value_usd": "$/yr",
    "annual_total_cost_usd": "$/yr",
    "unserved_critical_mwh": "MWh/yr",
    "solve_seconds": "s",
    "event_steps": "timesteps",
    "event_curtailed_mwh": "MWh",
    "event_critical_shed_mwh": "MWh",
    "event_window_net_value_usd": "$",
    "event_cost_usd": "$/yr",
    "sb6_hours_short": "h",
    "sb6_worst_shortfall_mw": "MW",
    "solver_gap": "-",
    "solver_gap_requested": "-",
    resolution.LOWER: "$/yr",
    "cost_unclosed_usd": "$/yr",
    "foresight_premium_pct": "%",
}
#: separator of a scenario's warnings in the summary's ``warnings`` column
WARNING_SEP = " | "


def grid_dims(market: MarketConfig, optional: Iterable[str] = ()) -> list[str]:
    """Sweep dimensions: the three sizes, the optional dimensions named in ``optional`` (a
    grid's :meth:`~dcpower.study.GridConfig.optional_dims` or a scenario's sizes: only those of
    ``OPTIONAL_DIMS`` and ``events`` count), plus market_year when several years are studied,
    plus events when the grid or the scenario has that dimension."""
    dims = list(GRID_DIMS) + [d for d in OPTIONAL_DIMS if d in optional]
    if len(market.years) > 1:
        dims.append(YEAR_DIM)
    if EVENT_DIM in optional:
        dims.append(EVENT_DIM)
    if POLICY_DIM in optional:
        dims.append(POLICY_DIM)
    return dimensions.ordered(dims)


def scenario_grid(study: StudyConfig) -> pd.DataFrame:
    """One row per scenario (Cartesian product of the grid lists), in grid order. A search
    study's sizes are chosen as it runs: its rows are the corners of the search bounds (what
    the pre-flight checks)."""
    grid = study.grid
    if study.search is not None:
        axes: list[list[Any]] = [sorted(set(b)) for b in study.search.bounds().values()]
    else:
        axes = [grid.bess_mwh, grid.gen_units, grid.transformer_mva]
        if grid.poi_import_mw is not None:
            axes.append(grid.poi_import_mw)
    dims = grid_dims(study.market, study.optional_dims())
    if YEAR_DIM in dims:
        axes.append(study.market.years)
    if EVENT_DIM in dims:
        axes.append(grid.events)
    if POLICY_DIM in dims:
        axes.append(study.operations.policy)
    return pd.DataFrame(list(itertools.product(*axes)), columns=dims)


def scenario_name(sizes: dict[str, Any], dims: list[str]) -> str:
    """Paramspace-style name, e.g. ``bess_mwh~400/gen_units~4/transformer_mva~150``."""
    return "/".join(f"{d}~{sizes[d]}" for d in dims)


def solve_priority(sizes: Mapping[str, Any]) -> float:
    """Scheduling hint for the workflow's scenario jobs (never part of a result): the jobs
    expected to take longest start first, so that a study's last jobs end together instead of
    one running alone on an otherwise idle machine (longest-processing-time-first).

    The proxy is the BESS's MWh per transformer MVA: a small transformer binds the battery's
    grid charging and export in more hours, and those windows need cuts and sub-MIP searches to
    close. On the 2024 default study (2 cores, two jobs at a time) the 400 MWh / 120 MVA
    scenarios took 28-35 s and the other six 19-22 s; started last, one of them ran alone for
    up to 26 s."""
    return float(sizes["bess_mwh"]) / max(float(sizes["transformer_mva"]), 1e-9)


def parse_scenario_name(name: str) -> dict[str, Any]:
    """Inverse of :func:`scenario_name` (numbers as numbers, other values as strings)."""
    out: dict[str, Any] = {}
    for part in name.split("/"):
        key, value = part.split("~", 1)
        try:
            num = float(value)
        except ValueError:
            out[key] = value
            continue
        out[key] = int(num) if num.is_integer() else num
    return out


def study_year(market: MarketConfig, sizes: dict[str, Any]) -> int:
    """The market year of a scenario."""
    return int(sizes.get(YEAR_DIM, market.years[0]))


def market_case(base: Case, market: MarketConfig, year: int, name: str | None = None) -> Case:
    """The base case on a study year's horizon and market (the sizes of the base case)."""
    return case_from_dict(_with_market(base.model_dump(mode="json"), market, year, name))


def _with_market(data: dict[str, Any], market: MarketConfig, year: int, name: str | None) -> dict:
    start, end = market.window(year)
    if name is not None:
        data["name"] = name
    data["horizon"]["start"] = start.isoformat()
    data["horizon"]["end"] = end.isoformat()
    data["market"].update(
        iso=market.iso,
        settlement_point=market.settlement_point,
        energy_market=market.energy_market,
        reserve_products=market.products_for(year),
    )
    return data


def scenario_case(base: Case, sizes: dict[str, Any], settings: ScenarioSettings) -> Case:
    """The base case with the scenario's sizes, market and solver settings applied."""
    energy = float(sizes["bess_mwh"])
    power = energy / float(sizes.get(DURATION_DIM, settings.grid.bess_duration_h))
    name = f"{settings.study_name}:{scenario_name(sizes, grid_dims(settings.market, sizes))}"
    data = _with_market(
        base.model_dump(mode="json"), settings.market, study_year(settings.market, sizes), name
    )
    data["bess"].update(
        energy_mwh=energy, power_mw=power, pcs_mva=power * float(settings.grid.pcs_mva_per_mw)
    )
    if energy == 0:
        data["reliability"]["ride_through_minutes"] = 0.0
    units = int(sizes["gen_units"])
    data["gas_gen"]["units"] = units
    data["gas_gen"]["initial_units_online"] = min(data["gas_gen"]["initial_units_online"], units)
    data["transformer"]["rating_mva"] = float(sizes["transformer_mva"])
    if headroom.DIM in sizes:  # the tariff's alert cap and reserves read the case's limit
        data["poi"]["import_limit_mw"] = float(sizes[headroom.DIM])
    data["solver"].update(settings.solve.case_overrides())
    for section, fields in settings.outage.case_overrides().items():
        data[section].update(fields)
    if EVENT_DIM in sizes:
        data["events"] = [] if sizes[EVENT_DIM] == NONE_EVENT else [sizes[EVENT_DIM]]
    if POLICY_DIM in sizes:
        data["operations"] = {**data.get("operations", {}), "policy": sizes[POLICY_DIM]}
    return case_from_dict(data, source=f"scenario {data['name']}")


def check_config(
    config: Mapping[str, Any] | StudyConfig, data_dir: Path | None = None
) -> list[str]:
    """Every problem that would stop the study, found before any job runs (empty: it can run).

    The model's checks (types, bounds, dates and windows in every market year, reserve
    products, ISO, frontier metric) and then :func:`preflight_problems`. Messages name the key.
    """
    try:
        load_checked_study(config, data_dir)
    except StudyConfigError as exc:
        return exc.problems
    return []


def load_checked_study(
    raw: Mapping[str, Any] | StudyConfig, data_dir: Path | None = None
) -> StudyConfig:
    """The validated study config after the pre-flight (what the workflow runs); raises
    :class:`~dcpower.study.StudyConfigError` with every problem (``data_dir``: the market's
    data, default ``resources_data/<iso>``)."""
    study = load_study_config(raw)
    problems = preflight_problems(study, Path(data_dir or DATA_ROOT / study.market.iso))
    if problems:
        raise StudyConfigError([f"config: {line}" for line in "\n".join(problems).split("\n")])
    return study


def _exists_or_unreadable(path: Path) -> bool:
    """False only when ``path`` is plainly missing (other problems are :func:`load_case`'s)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError):
        return True
    return True


def preflight_problems(study: StudyConfig, data_dir: Path | None) -> list[str]:
    """What the files say about a valid study config: the base case and every scenario case
    validate, and each year's market data (energy at the settlement point and the reserve
    products asked for) and the base case's load cover the window, unless
    ``market.allow_download`` may still fetch missing years. Messages name the key.
    """

    base_path = Path(study.study.base_case)
    if not _exists_or_unreadable(base_path):
        return [
            f"study.base_case {str(base_path)!r} does not exist; allowed: a path to a case JSON "
            "relative to the workflow folder"
        ]
    try:
        base = load_case(base_path)
    except CaseError as exc:  # one line per problem, each naming the key and the case's field
        return [f"study.base_case {str(base_path)!r}: {path}: {msg}" for path, msg in exc.problems]
    problems: list[str] = []
    seen: set[str] = set()
    settings = study.scenario_settings()
    dims = grid_dims(study.market, study.optional_dims())
    grid = scenario_grid(study)
    for sizes in grid.to_dict(orient="records"):
        try:
            scenario_case(base, sizes, settings)
        except CaseError as exc:
            for path, msg in exc.problems:
                key = f"{path}: {msg}"
                if key not in seen:
                    seen.add(key)
                    problems.append(f"grid scenario {scenario_name(sizes, dims)}: {key}")
    if problems:
        return problems
    # the runner loads the model layer (Pyomo): imported on use, so the workflow parses without it
    from dcpower.runner import load_market

    first = grid.iloc[0].to_dict()
    for year in study.market.years:
        probe = scenario_case(base, {**first, YEAR_DIM: year}, settings)
        try:
            prices = load_market(probe, data_dir)
        except MarketDataError as exc:
            if not study.market.allow_download:
                problems.append(
                    f"market.years {year}: {exc} (or set market.allow_download: true to fetch "
                    "the year)"
                )
            continue
        try:
            build_load_segments(probe.load, prices.energy_price_usd_per_mwh.index)
        except LoadProfileError as exc:
            problems.append(f"market.years {year}: base case load: {exc}")
        if probe.tariff is not None:  # CP intervals and rate exist for the year
            try:
                build_schedule(probe, prices.energy_price_usd_per_mwh.index, data_dir)
            except MarketDataError as exc:
                problems.append(f"market.years {year}: base case tariff: {exc}")
    return problems


def capital_recovery_factor(rate: float, years: float) -> float:
    """CRF = r(1+r)^n / ((1+r)^n − 1); 1/n when r = 0."""
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


def annualised_costs(sizes: dict[str, Any], case: Case, costs: CostsConfig) -> dict[str, float]:
    """Annualised capex and fixed O&M per component and in total, $/yr."""
    rate = float(costs.discount_rate)
    life = costs.lifetime_years
    bess_capex = (
        case.bess.energy_mwh * 1000 * costs.bess_capex_usd_per_kwh
        + case.bess.power_mw * 1000 * costs.bess_capex_usd_per_kw
    )
    gen_capex = case.gas_gen.units * case.gas_gen.unit_mw * 1000 * costs.gen_capex_usd_per_kw
    xf_capex = case.transformer.rating_mva * costs.transformer_capex_usd_per_mva
    capex = {"bess": bess_capex, "gen": gen_capex, "transformer": xf_capex}
    out: dict[str, float] = {}
    for comp, value in capex.items():
        years = getattr(life, comp)
        out[f"{comp}_capex_usd"] = value
        out[f"{comp}_annualised_capex_usd"] = value * capital_recovery_factor(rate, years)
    om = costs.fixed_om_fraction_of_capex_per_year
    out["fixed_om_usd"] = sum(value * float(getattr(om, comp)) for comp, value in capex.items())
    out["annualised_capex_usd"] = sum(out[f"{c}_annualised_capex_usd"] for c in capex)
    return out


def outage_case(case: Case, outage: OutageConfig) -> Case:
    """The case with the study's outage settings (failure modes, durations, start units)."""
    data = case.model_dump(mode="json")
    for section, fields in outage.case_overrides().items():
        data[section].update(fields)
    return case_from_dict(data, source=f"case {case.name} with the study's outage settings")


def outage_survival(results: dict[str, Any], outage: OutageConfig) -> pd.DataFrame:
    """Survival probability per outage start (rows: UTC step) and duration (columns), with the
    study's outage settings applied to the results' case."""
    case = outage_case(Case.model_validate(results["case"]), outage)
    return reliability.survival_table(case, records_to_frame(results["dispatch"]))[0]


def unit_costs(costs: CostsConfig) -> dict[str, float]:
    """Annualised capex + fixed O&M of one unit of each asset's size, $/yr per unit (the
    break-even of its marginal value): $/MVA transformer, $/MWh and $/MW BESS, $/MW gas. The
    study prices no POI import capacity: NaN."""
    rate = float(costs.discount_rate)
    om = costs.fixed_om_fraction_of_capex_per_year
    life = costs.lifetime_years

    def per_year(capex: float, comp: str) -> float:
        crf = capital_recovery_factor(rate, getattr(life, comp))
        return capex * (crf + float(getattr(om, comp)))

    return {
        "transformer": per_year(costs.transformer_capex_usd_per_mva, "transformer"),
        "bess_energy": per_year(1000 * costs.bess_capex_usd_per_kwh, "bess"),
        "bess_power": per_year(1000 * costs.bess_capex_usd_per_kw, "bess"),
        "poi_import": float("nan"),
        "gas": per_year(1000 * costs.gen_capex_usd_per_kw, "gen"),
    }


def scenario_summary(
    results: dict[str, Any],
    sizes: dict[str, Any],
    settings: ScenarioSettings,
    survival: pd.DataFrame,
    dispatch: pd.DataFrame,
) -> dict[str, Any]:
    """One summary row: sizes, annualised costs, revenue/cost stacks, reliability, solver
    (``dispatch``: the results' dispatch table as a frame, for the headroom figures)."""
    case = Case.model_validate(results["case"])
    econ = results["economics"]
    hours = results["horizon"]["n_steps"] * results["horizon"]["timestep_minutes"] / 60.0
    scale = HOURS_PER_YEAR / hours  # operating figures per year
    dims = grid_dims(settings.market, sizes)
    row: dict[str, Any] = {"scenario": scenario_name(sizes, dims)}
    row.update({k: sizes[k] for k in dims})
    row["bess_mw"] = case.bess.power_mw
    row["gen_mw"] = case.gas_gen.units * case.gas_gen.unit_mw
    row["annualisation_factor"] = scale
    row.update(annualised_costs(sizes, case, settings.costs))
    for k, v in econ["revenues_usd"].items():
        row[k] = v * scale
    for k, v in econ["costs_usd"].items():
        row[k] = v * scale
    row["net_operating_value_usd"] = econ["net_value_usd"] * scale
    if POLICY_DIM in sizes:  # the groups the foresight premium is reported by, $/yr
        for group, usd in economics.net_by_group(econ).items():
            row[f"net_{group}_usd"] = usd * scale
    row["annual_total_cost_usd"] = (
        row["annualised_capex_usd"] + row["fixed_om_usd"] - row["net_operating_value_usd"]
    )
    row.update(resolution.cost_interval_columns(results, scale, row["annual_total_cost_usd"]))
    row["unserved_critical_mwh"] = econ["energy_mwh"]["critical_unserved_mwh"] * scale
    row.update(_event_and_sb6_columns(results))
    row.update(
        headroom.scenario_metrics(
            dispatch,
            results["horizon"]["timestep_minutes"] / 60.0,
            scale,
            case.poi.import_limit_mw,
        )
    )
    probs = survival.to_numpy()
    durations = [columns.survival_duration_h(c) for c in survival]
    row.update(survival_summary(probs, durations))
    reasons = results.get("outage", {}).get("limited_by_by_duration_h", {})
    row[OUTAGE_ASSUMPTIONS] = results.get("outage", {}).get("assumptions", "")
    for h in durations:
        row[limited_by_column(h)] = reasons.get(reliability.duration_key(h), "")
    s = results["solver"]
    row.update(
        solver_status=s["status"],
        solver_method=s["method"],
        solver_gap=s["max_window_gap"] if s.get("max_window_gap") is not None else s["mip_gap"],
        solve_seconds=s["solve_seconds"],
        build_seconds=s["build_seconds"],
        wall_seconds=s.get("wall_seconds"),
        invariant_violations=len(results["verification"]["violations"]),
        warnings=WARNING_SEP.join(results.get("warnings") or []),
    )
    for fam, n in results["explainability"]["binding_timesteps_per_family"].items():
        row[columns.binding_steps_column(fam)] = n
    ac = results.get("ac_screening") or {}
    for name, (_, _, key) in columns.AC_SUMMARY_COLUMNS.items():
        row[name] = float("nan") if ac.get(key) is None else ac[key]
    mv = results.get("marginal_values")
    if mv is not None:
        costs = unit_costs(settings.costs)
        for asset in columns.MARGINAL_VALUE_UNITS:
            value = mv[asset]["value_usd_per_yr_per_unit"]
            row[columns.marginal_value_column(asset)] = float("nan") if value is None else value
            row[columns.unit_cost_column(asset)] = costs[asset]
    return row


def _event_and_sb6_columns(results: dict[str, Any]) -> dict[str, float]:
    """Summary columns of the scenario's grid events (summed over its events; not annualised)
    and of the SB 6 screen (gas only; 1 = yes)."""
    out: dict[str, float] = {}
    events = results.get("events")
    if events is not None:
        out["event_steps"] = float(sum(e["steps"] for e in events))
        out["event_curtailed_mwh"] = float(sum(sum(e["curtailed_mwh"].values()) for e in events))
        out["event_critical_shed_mwh"] = float(sum(e["curtailed_mwh"]["critical"] for e in events))
        out["event_window_net_value_usd"] = float(
            sum(e["operating_cost_usd"]["net_value_in_window"] for e in events)
        )
    sb6 = results.get("sb6")
    if sb6 is not None:
        out["sb6_applies"] = float(sb6["applies"])
        out["sb6_passes"] = float(sb6["gas_only"]["passes"])
        out["sb6_hours_short"] = sb6["gas_only"]["hours_short"]
        out["sb6_worst_shortfall_mw"] = sb6["gas_only"]["worst_shortfall_mw"]
    return out


def event_costs(summary: pd.DataFrame) -> pd.Series:
    """Each scenario's event cost, $/yr: net operating value of the ``none`` scenario of the
    same sizes (and year) − its own (NaN for ``none`` rows and where either has no dispatch)."""
    keys = [d for d in (*GRID_DIMS, *OPTIONAL_DIMS, YEAR_DIM) if d in summary.columns]
    ref = summary[summary[EVENT_DIM] == NONE_EVENT].set_index(keys)["net_operating_value_usd"]
    base = summary.set_index(keys).index.map(ref.to_dict())
    cost = pd.Series(base, index=summary.index, dtype=float) - summary["net_operating_value_usd"]
    return cost.where(summary[EVENT_DIM] != NONE_EVENT)


def foresight_premiums(summary: pd.DataFrame) -> dict[str, pd.Series]:
    """Each forecast scenario's foresight premium, $/yr: the ``perfect_foresight`` scenario of
    the same sizes (year, event) − its own net operating value, in total
    (``foresight_premium_usd``), as % of the clairvoyant value's magnitude
    (``foresight_premium_pct``) and per group (``foresight_premium_<group>_usd``: energy =
    BESS arbitrage and gas dispatch, ancillary services, 4CP, other). NaN for clairvoyant
    rows and where either has no dispatch."""
    keys = [d for d in (*GRID_DIMS, *OPTIONAL_DIMS, YEAR_DIM, EVENT_DIM) if d in summary.columns]
    clair = summary[summary[POLICY_DIM] == "perfect_foresight"].set_index(keys)
    index = summary.set_index(keys).index
    causal = summary[POLICY_DIM] != "perfect_foresight"
    out: dict[str, pd.Series] = {}
    value_columns = {"foresight_premium_usd": "net_operating_value_usd"}
    value_columns.update(
        {f"foresight_premium_{g}_usd": f"net_{g}_usd" for g in economics.PREMIUM_GROUPS}
    )
    for name, col in value_columns.items():
        if col not in summary.columns:
            continue
        ref = pd.Series(index.map(clair[col].to_dict()), index=summary.index, dtype=float)
        out[name] = (ref - summary[col]).where(causal)
        if name == "foresight_premium_usd":
            out["foresight_premium_pct"] = (100 * out[name] / ref.abs()).where(causal)
    return out


#: summary column: the outage model's assumptions in words (failure modes, start units)
OUTAGE_ASSUMPTIONS = "outage_assumptions"
#: summary column: why the frontier metric is below 1, in words (``""`` where it is 1)
LIMITED_BY = "reliability_limited_by"


def limited_by_column(duration_h: float) -> str:
    """Summary column of the reason for ``duration_h`` outages (``reliability_limited_by_8h``)."""
    return f"{LIMITED_BY}_{float(duration_h):g}h"


def frontier_limited_by(summary: pd.DataFrame, metric: str) -> pd.Series:
    """``reliability_limited_by``: the reason for the frontier metric's duration where the metric
    is below 1 (the first failing outage start and what ran short), else ``""``."""
    hours = columns.survival_duration_h(metric)
    source = limited_by_column(hours) if hours is not None else ""
    if source not in summary.columns or metric not in summary.columns:
        return pd.Series("", index=summary.index, dtype=object)
    below = summary[metric].to_numpy(dtype=float) < 1.0
    text = summary[source].fillna("").astype(str)
    return text.where(below, "").astype(object)


def aggregate(rows: list[dict[str, Any]], dims: list[str], metric: str) -> pd.DataFrame:
    """Summary table (one row per scenario, grid order) with the Pareto flag on ``metric``.

    With several market years the flag is per year: a scenario is Pareto-efficient among the
    scenarios of its own market year (costs of different years are not compared)."""
    summary = pd.DataFrame(rows)
    summary = summary.sort_values(dims).reset_index(drop=True)
    binding = [c for _, c in columns.binding_steps_columns(summary)]
    summary[binding] = summary[binding].fillna(0).astype(int)
    # $/yr per unit columns: float even when all null (POI import cost; JSON null → None)
    per_unit = [c for c in summary.columns if columns.marginal_value_unit(c) is not None]
    summary[per_unit] = summary[per_unit].astype(float)
    if EVENT_DIM in dims and "net_operating_value_usd" in summary.columns:
        summary["event_cost_usd"] = event_costs(summary)
    if POLICY_DIM in dims and "net_operating_value_usd" in summary.columns:
        summary = summary.assign(**foresight_premiums(summary))
    summary = headroom.add_relative_cost(summary, dims)
    summary[LIMITED_BY] = frontier_limited_by(summary, metric)
    summary["pareto"] = frontier_flags(summary, metric, dims)
    summary[resolution.TIED] = resolution.tied_with(summary, dimensions.frontier_groups(dims))
    text = ["warnings", "cost_bound_method"]  # absent from summaries of older solves
    for c in text:
        summary[c] = summary[c].fillna("").astype(str) if c in summary else ""
    if resolution.LOWER not in summary:
        summary[resolution.LOWER] = float("nan")
    return summary


def market_years(summary: pd.DataFrame) -> list[int]:
    """The market years of a summary (empty for a one-year study without the dimension)."""
    if YEAR_DIM not in summary.columns:
        return []
    return sorted(int(y) for y in summary[YEAR_DIM].dropna().unique())


def across_years(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each size (bess_mwh, gen_units, transformer_mva) across the market years.

    One row per size, grid order: ``n_years`` with a dispatch, ``annual_total_cost_usd_worst``
    (highest), ``_mean`` and ``_best`` (lowest) in $/yr, ``<metric>_worst`` (lowest), ``_mean``
    and ``_best`` (highest), ``pareto_years`` (years in which the size is Pareto-efficient,
    per-year flag of :func:`aggregate`) and ``pareto_every_year`` (efficient in every market year
    of the study; a size without a dispatch in some year is not). A summary without the
    market_year dimension counts as one year.
    """
    years = market_years(summary) or [None]
    ok = solved(summary)
    ok = ok[ok["annual_total_cost_usd"].notna() & ok[metric].notna()]
    cost = "annual_total_cost_usd"
    out = []
    size_dims = [d for d in (*GRID_DIMS, *OPTIONAL_DIMS) if d in summary.columns]
    for sizes, g in summary.groupby(size_dims, sort=True):
        good = ok.loc[ok.index.intersection(g.index)]
        row: dict[str, Any] = dict(zip(size_dims, sizes, strict=True))
        row["n_years"] = len(good)
        row[f"{cost}_worst"] = good[cost].max()
        row[f"{cost}_mean"] = good[cost].mean()
        row[f"{cost}_best"] = good[cost].min()
        row[f"{metric}_worst"] = good[metric].min()
        row[f"{metric}_mean"] = good[metric].mean()
        row[f"{metric}_best"] = good[metric].max()
        row["pareto_years"] = int(good["pareto"].sum())
        row["pareto_every_year"] = bool(len(good) == len(years) and good["pareto"].all())
        out.append(row)
    return pd.DataFrame(out)


def to_dataset(summary: pd.DataFrame, dims: list[str], attrs: Mapping[str, str]) -> xr.Dataset:
    """xarray Dataset with dims bess_mwh × gen_units × transformer_mva (× market_year).

    ``attrs``: the study's labels (``study``, ``settlement_point``, ``frontier_metric``).
    """
    numeric = [
        c
        for c in summary.columns
        if c not in dims and pd.api.types.is_numeric_dtype(summary[c]) and c != "pareto"
    ]
    frame = summary.set_index(dims)
    ds = xr.Dataset.from_dataframe(frame[numeric + ["pareto"]])
    ds["pareto"] = ds["pareto"].fillna(False).astype(bool)
    ds["scenario"] = xr.DataArray.from_series(frame["scenario"].astype(object))
    ds["solver_status"] = xr.DataArray.from_series(frame["solver_status"].astype(object))
    for name in (resolution.TIED, "warnings"):  # text: "" where none
        if name in frame:
            ds[name] = xr.DataArray.from_series(frame[name].fillna("").astype(object))
    for name in ds.data_vars:
        ds[name].attrs["units"] = _unit_of(str(name))
    for d in dims:
        ds[d].attrs["units"] = dimensions.UNITS[d]
    ds.attrs.update(
        **attrs,
        note="operating figures are per year (horizon scaled by annualisation_factor)",
    )
    return ds


def _unit_of(name: str) -> str:
    if name in UNITS:
        return UNITS[name]
    if name in columns.HEADROOM_COLUMNS:
        return columns.HEADROOM_COLUMNS[name][0]
    if name in columns.AC_SUMMARY_COLUMNS:
        return columns.AC_SUMMARY_COLUMNS[name][0]
    if name.endswith("_usd"):
        return "$/yr"
    if columns.survival_duration_h(name) is not None:
        return "probability"
    if columns.binding_steps_columns([name]):
        return "timesteps"
    if columns.marginal_value_unit(name) is not None:
        return columns.marginal_value_unit(name)
    return "-"


def best_per_reliability(summary: pd.DataFrame, metric: str, levels: list[float]) -> pd.DataFrame:
    """Cheapest scenario reaching each reliability level of ``metric`` (NaN row if none)."""
    out = []
    for level in levels:
        ok = summary[summary[metric] >= level - 1e-12]
        if ok.empty:
            out.append({"level": level, "scenario": None})
            continue
        best = ok.loc[ok["annual_total_cost_usd"].idxmin()]
        out.append(
            {
                "level": level,
                "scenario": best["scenario"],
                "annual_total_cost_usd": best["annual_total_cost_usd"],
                metric: best[metric],
            }
        )
    return pd.DataFrame(out)


#: ``solver_status`` of scenarios without a dispatch: the kinds of ``dcpower.errors``
FAILED_STATUSES = ("bad_input", "infeasible", "no_solution")


def failed_summary(
    sizes: dict[str, Any], dims: list[str], kind: str, reason: str
) -> dict[str, Any]:
    """Summary row of a scenario without a dispatch (excluded from the frontier): its
    ``solver_status`` is the failure's kind (``bad_input``, ``infeasible``, ``no_solution``)."""
    row: dict[str, Any] = {"scenario": scenario_name(sizes, dims)}
    row.update({k: sizes[k] for k in dims})
    row.update(solver_status=kind, failure_reason=reason, annual_total_cost_usd=float("nan"))
    return row


def solved(summary: pd.DataFrame) -> pd.DataFrame:
    """The scenarios that have a dispatch (every status but the failure kinds)."""
    return summary[~summary["solver_status"].isin(FAILED_STATUSES)]


def solve_scenario(
    base_case_path: Path,
    sizes: dict[str, Any],
    settings: ScenarioSettings,
    data_dir: Path | None,
    solver_log: IO[str] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame | None, pd.DataFrame | None]:
    """One scenario: (summary row, dispatch, survival); the tables are None if infeasible.

    ``solver_log``: a text stream that receives HiGHS's own output (the rule's solver log).
    """
    # the runner loads the model layer (Pyomo): imported on use, so the workflow parses without it
    from dcpower.runner import run_case

    case = scenario_case(load_case(base_case_path), sizes, settings)
    try:
        results = run_case(
            case,
            data_dir=data_dir,
            solver_log=solver_log,
            # one LP's duals: the clairvoyant dispatch has them, the forecast policy not
            marginal_values=case.operations.policy == "perfect_foresight",
        )
    except (InputError, InfeasibleError, NoSolutionError) as exc:
        dims = grid_dims(settings.market, sizes)
        return failed_summary(sizes, dims, exc.kind, str(exc)), None, None
    dispatch = records_to_frame(results["dispatch"])
    # the scenario case carries the study's outage settings: its results' section is the study's
    survival = reliability.survival_from_section(results["outage"], dispatch.index)
    return scenario_summary(results, sizes, settings, survival, dispatch), dispatch, survival


def retrieve_prices(
    year: int, base_case_path: Path, market: MarketConfig, data_dir: Path | None
) -> dict[str, Any]:
    """Make sure prices for ``year`` exist (shipped, cached, or downloaded when allowed) and
    that they cover the study horizon; returns a provenance record (files and sha256).

    Goes through the market's adapter (:func:`dcpower.iso.prepare_market_data`): ERCOT fetches
    a missing year when ``market.allow_download``; the generic adapter checks the base case's
    tidy files offline."""
    # the runner loads the model layer (Pyomo): imported on use, so the workflow parses without it
    from dcpower.runner import load_market, market_request

    probe = market_case(load_case(base_case_path), market, year)
    prepare_market_data(
        get_adapter(probe.market.iso),
        market_request(probe, data_dir),
        allow_download=market.allow_download,
    )
    data = load_market(probe, data_dir)
    return {
        "year": year,
        "settlement_point": market.settlement_point,
        "n_steps": int(len(data.energy_price_usd_per_mwh)),
        "reserve_products": sorted(data.reserve_products),
        "provenance": data.provenance,
    }


def write_dataset_atomic(
    summary: pd.DataFrame, dims: list[str], attrs: Mapping[str, str], path: Path
) -> None:
    """Write the sweep Dataset as netCDF (h5netcdf engine), atomically."""

    ds = to_dataset(summary, dims, attrs)
    write_atomic_with(path, lambda p: ds.to_netcdf(p, engine="h5netcdf"))


def _size_text(row: Mapping[str, Any]) -> str:
    return "/".join(f"{d}~{row[d]:g}" for d in (*GRID_DIMS, *OPTIONAL_DIMS) if d in row)


def _across_years_markdown(summary: pd.DataFrame, metric: str, years: list[int]) -> list[str]:
    """The study summary's section on each size across the market years."""
    table = across_years(summary, metric)
    cost = "annual_total_cost_usd"
    lines = [
        f"## Each size across market years ({', '.join(map(str, years))})",
        "",
        "Worst, mean and best over the years with a dispatch: annual total cost (worst = highest) "
        f"and `{metric}` (worst = lowest). Pareto-efficient: within each year's scenarios.",
        "",
        "| size | years | cost worst $M/yr | cost mean | cost best | metric worst | metric mean "
        "| metric best | Pareto in years |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        if r["n_years"] == 0:
            lines.append(f"| {_size_text(r)} | 0 | | | | | | | 0 |")
            continue
        lines.append(
            f"| {_size_text(r)} | {r['n_years']} | {r[f'{cost}_worst'] / 1e6:.3f} | "
            f"{r[f'{cost}_mean'] / 1e6:.3f} | {r[f'{cost}_best'] / 1e6:.3f} | "
            f"{r[f'{metric}_worst']:.4f} | {r[f'{metric}_mean']:.4f} | "
            f"{r[f'{metric}_best']:.4f} | {r['pareto_years']}/{len(years)} |"
        )
    lines += ["", "### Pareto-efficient in every market year", ""]
    every = table[table["pareto_every_year"]]
    if every.empty:
        lines.append("- none: no size is on the frontier in every year")
    for _, r in every.iterrows():
        lines.append(
            f"- {_size_text(r)}: cost {r[f'{cost}_best'] / 1e6:.3f}–"
            f"{r[f'{cost}_worst'] / 1e6:.3f} $M/yr, {metric} {r[f'{metric}_worst']:.4f}–"
            f"{r[f'{metric}_best']:.4f}"
        )
    return lines + [""]


def _events_and_sb6_markdown(summary: pd.DataFrame) -> list[str]:
    """The study summary's grid-event table (per event and size) and SB 6 screen (per size)."""
    ok = solved(summary)
    lines: list[str] = []
    if EVENT_DIM in summary.columns and "event_cost_usd" in summary.columns:
        lines += [
            "",
            "## Grid emergency events",
            "",
            "Event cost = net operating value of the `none` scenario of the same size − with the "
            "event ($/yr, the event's year); curtailed and critical shed: MWh in the event's "
            "steps. The model knows the event in advance (perfect foresight of the directive).",
            "",
            "| event | size | event cost $ | curtailed MWh | critical shed MWh |",
            "|---|---|---|---|---|",
        ]
        for _, r in ok[ok[EVENT_DIM] != NONE_EVENT].iterrows():
            lines.append(
                f"| {r[EVENT_DIM]} | {_size_text(r)} | {r['event_cost_usd']:,.0f} | "
                f"{r['event_curtailed_mwh']:,.1f} | {r['event_critical_shed_mwh']:,.1f} |"
            )
    if "sb6_applies" in summary.columns:
        lines += [
            "",
            "## SB 6 screen (gas units ≥ 50 % of load at every step, loads ≥ 75 MW)",
            "",
            "| size | applies | passes | hours short | worst shortfall MW |",
            "|---|---|---|---|---|",
        ]
        seen = set()
        for _, r in ok.iterrows():
            if _size_text(r) in seen:
                continue
            seen.add(_size_text(r))
            lines.append(
                f"| {_size_text(r)} | {'yes' if r['sb6_applies'] else 'no'} | "
                f"{'yes' if r['sb6_passes'] else 'no'} | {r['sb6_hours_short']:,.0f} | "
                f"{r['sb6_worst_shortfall_mw']:,.1f} |"
            )
    return lines


def _money(usd: float) -> str:
    return f"{usd / 1e6:.3f}" if pd.notna(usd) else "n/a"


def _interval_text(r: Mapping[str, Any]) -> str:
    """``35.736 [35.650, 35.736]`` $M/yr: the cost and the interval the solver proved."""
    lower = r.get(resolution.LOWER, float("nan"))
    if pd.isna(lower):
        return f"{_money(r['annual_total_cost_usd'])} [no bound]"
    cost = _money(r["annual_total_cost_usd"])
    return f"{cost} [{_money(lower)}, {cost}]"


def _ties_among(r: Mapping[str, Any], candidates: Iterable[str]) -> str:
    names = set(candidates)
    ties = [n for n in resolution.tie_names(r.get(resolution.TIED, "")) if n in names]
    return ", ".join(ties) if ties else "-"


def _gap_lines(summary: pd.DataFrame) -> list[str]:
    """The requested and the worst achieved gap, and the scenarios above the request."""
    feasible = solved(summary)
    req = resolution.requested_gap(feasible)
    worst = resolution.worst_gap(feasible)
    req_text = f"{req:.4%}" if pd.notna(req) else "n/a"
    worst_text = f"{worst:.4%}" if pd.notna(worst) else "n/a"
    lines = [f"Requested MIP gap {req_text}; worst achieved gap {worst_text}."]
    if pd.notna(req) and "solver_gap" in feasible:
        above = feasible[feasible["solver_gap"] > req * 1.01 + 1e-12]
        if len(above):
            lines.append(
                f"{len(above)} of {len(feasible)} scenarios have windows above the requested gap: "
                + ", ".join(f"{r['scenario']} ({r['solver_gap']:.4%})" for _, r in above.iterrows())
                + "."
            )
    return lines


def _resolution_markdown(summary: pd.DataFrame) -> list[str]:
    """Every solved scenario's cost interval, achieved gap and ties, cheapest first."""
    feasible = solved(summary).sort_values("annual_total_cost_usd")
    lines = [
        "## Cost resolution",
        "",
        "Annual total cost with the interval the solver proved ($M/yr): the lower bound adds "
        "back the net operating value the MIP bounds say may still be missed. Scenarios whose "
        "intervals overlap are tied: indistinguishable at the requested gap; their order in "
        "any ranking is not a result.",
        "",
        "| scenario | annual total cost [lower, upper] $M/yr | unclosed $k/yr | gap | tied with |",
        "|---|---|---|---|---|",
    ]
    for _, r in feasible.iterrows():
        unclosed = r.get("cost_unclosed_usd", float("nan"))
        gap = r.get("solver_gap", float("nan"))
        lines.append(
            f"| {r['scenario']} | {_interval_text(r)} | "
            f"{unclosed / 1e3:,.0f} | {gap:.3%} | {r.get(resolution.TIED) or '-'} |"
            if pd.notna(unclosed) and pd.notna(gap)
            else f"| {r['scenario']} | {_interval_text(r)} | n/a | n/a | "
            f"{r.get(resolution.TIED) or '-'} |"
        )
    return lines + [""]


def _refine_markdown(summary: pd.DataFrame) -> list[str]:
    """Which scenarios were re-solved at a tighter gap, and whether their ties separated."""
    if resolution.TIE_OUTCOME not in summary:
        return []
    done = summary[summary[resolution.TIE_OUTCOME].fillna("") != ""]
    lines = ["## Refinement", ""]
    if done.empty:
        return lines + [
            "- no tie decided the frontier or a per-level choice: nothing re-solved",
            "",
        ]
    lines.append(
        "Re-solved at a tighter gap because their cost ties decided the frontier or a per-level "
        "choice; 'equivalent': still tied at the last gap (the sizes cost the same to the "
        "solver's resolution)."
    )
    lines.append("")
    for _, r in done.iterrows():
        lines.append(
            f"- {r['scenario']}: re-solved at {r[resolution.REFINED_GAP]:.4%}, "
            f"{r[resolution.TIE_OUTCOME]} ({_interval_text(r)} $M/yr)"
        )
    return lines + [""]


def _warnings_markdown(summary: pd.DataFrame) -> list[str]:
    """Every scenario's warnings, as the solve reported them."""
    if "warnings" not in summary:
        return []
    rows = [(r["scenario"], str(r["warnings"])) for _, r in summary.iterrows() if r["warnings"]]
    lines = ["", "## Warnings", ""]
    if not rows:
        return lines + ["- none"]
    for scenario, text in rows:
        lines += [f"- {scenario}: {w}" for w in text.split(WARNING_SEP)]
    return lines


def _binding_markdown(feasible: pd.DataFrame) -> list[str]:
    """The binding-constraint table with each family's statement and its reading."""
    from dcpower import reading

    lines = [
        "",
        "## Binding constraints (timesteps, mean over feasible scenarios)",
        "",
        "A family binds at a step when one of its rows has no slack left. What it states, and "
        "what an investor should read into it binding often:",
        "",
        "| family | mean binding steps | scenarios where it binds | states | read as |",
        "|---|---|---|---|---|",
    ]
    stats = sorted(
        (
            (feasible[c].mean(), (feasible[c] > 0).sum(), family)
            for family, c in columns.binding_steps_columns(feasible)
        ),
        reverse=True,
    )
    for mean, count, family in stats:
        lines.append(
            f"| {family} | {mean:.1f} | {count} | {reading.family_statement(family)} | "
            f"{reading.family_reading(family)} |"
        )
    return lines


def _reliability_markdown(feasible: pd.DataFrame, metric: str) -> list[str]:
    """The outage model's assumptions and, per size, why its frontier metric is below 1."""
    lines = ["", "## Reliability: the outage model and what limits each size", ""]
    if OUTAGE_ASSUMPTIONS in feasible:
        for text in sorted(set(feasible[OUTAGE_ASSUMPTIONS].dropna().astype(str)) - {""}):
            lines.append(f"Outage model: {text}.")
            lines.append("")
    if LIMITED_BY in feasible:
        for _, r in feasible.iterrows():
            if r[LIMITED_BY]:
                lines.append(f"- {r['scenario']} ({metric} = {r[metric]:.6g}): {r[LIMITED_BY]}")
    return lines


def _foresight_markdown(summary: pd.DataFrame) -> list[str]:
    """Per size: the clairvoyant value (the upper bound), the forecast policy's realised one
    (what to bank on) and the premium between them, in total and per group."""
    if "foresight_premium_usd" not in summary.columns:
        return []
    groups = [g for g in economics.PREMIUM_GROUPS if f"foresight_premium_{g}_usd" in summary]
    lines = [
        "",
        "## Foresight premium (clairvoyant − forecast-driven net operating value, $/yr)",
        "",
        "The perfect_foresight value is an upper bound (every price of each window known); the "
        "forecast policy's is what an operator deciding at the day-ahead close can bank on.",
        "",
        "| scenario | clairvoyant $/yr | realised $/yr | premium $/yr | premium % | "
        + " | ".join(groups)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(groups),
    ]
    ok = solved(summary)
    causal = ok[ok["foresight_premium_usd"].notna()]
    for _, r in causal.iterrows():
        clair = r["net_operating_value_usd"] + r["foresight_premium_usd"]
        per = " | ".join(f"{r[f'foresight_premium_{g}_usd']:,.0f}" for g in groups)
        lines.append(
            f"| {r['scenario']} | {clair:,.0f} | {r['net_operating_value_usd']:,.0f} | "
            f"{r['foresight_premium_usd']:,.0f} | {r['foresight_premium_pct']:.1f} | {per} |"
        )
    return lines


def study_summary_markdown(
    summary: pd.DataFrame, study_name: str, market_label: str, metric: str, levels: list[float]
) -> str:
    """Markdown study summary: the solver's resolution (requested and worst gap, cost
    intervals, ties), the cheapest scenario per reliability level, the Pareto set, warnings,
    and the binding constraints in words.

    ``market_label``: e.g. ``ERCOT HB_HOUSTON 2016`` (:meth:`MarketConfig.label`); ``metric``
    the frontier metric and ``levels`` the reliability levels reported.
    """
    feasible = solved(summary)
    years = market_years(summary)
    lines = [
        f"# Study {study_name}",
        "",
        f"{len(summary)} scenarios ({len(feasible)} feasible), market "
        f"{market_label}; frontier metric `{metric}`.",
        "",
        *_gap_lines(summary),
        "",
    ]
    if len(years) > 1 and metric in feasible:
        lines += _across_years_markdown(summary, metric, years)
    lines += [
        "## Cheapest scenario per reliability level" + (" (per market year)" if years else ""),
        "",
        "| level | scenario | annual total cost [interval] $M/yr | metric | tied with |",
        "|---|---|---|---|---|",
    ]
    if metric in feasible:
        parts = [feasible[feasible[YEAR_DIM] == y] for y in years] if years else [feasible]
        for part in parts:
            for _, r in best_per_reliability(part, metric, levels).iterrows():
                if pd.isna(r["scenario"]):
                    where = f" in {int(part[YEAR_DIM].iloc[0])}" if years and len(part) else ""
                    lines.append(f"| {r['level']:g} | none reaches it{where} | | | |")
                else:
                    best = part[part["scenario"] == r["scenario"]].iloc[0]
                    reach = part.loc[part[metric] >= r["level"] - 1e-12, "scenario"]
                    lines.append(
                        f"| {r['level']:g} | {r['scenario']} | {_interval_text(best)} | "
                        f"{r[metric]:.4f} | {_ties_among(best, reach)} |"
                    )
    lines += [
        "",
        "## Pareto-efficient scenarios" + (" (within their market year)" if years else ""),
        "",
    ]
    eff = feasible[feasible["pareto"]]
    for _, r in eff.sort_values(metric).iterrows():
        ties = _ties_among(r, feasible["scenario"])
        tie_text = "" if ties == "-" else f"; tied in cost with {ties}"
        lines.append(
            f"- {r['scenario']}: {_interval_text(r)} $M/yr, {metric} = {r[metric]:.4f}{tie_text}"
        )
    lines += _reliability_markdown(feasible, metric)
    lines += ["", *_resolution_markdown(summary), *_refine_markdown(summary)]
    lines += _events_and_sb6_markdown(summary)
    lines += _foresight_markdown(summary)
    lines += ["", "## Solver", ""]
    if len(feasible):
        lines.append(
            f"status counts: {feasible['solver_status'].value_counts().to_dict()}; "
            f"worst gap {feasible['solver_gap'].max():.4%}; solve seconds median "
            f"{feasible['solve_seconds'].median():.1f}, max "
            f"{feasible['solve_seconds'].max():.1f}"
        )
    lines += _warnings_markdown(summary)
    lines += _binding_markdown(feasible)
    failed = summary[summary["solver_status"].isin(FAILED_STATUSES)]
    if len(failed):
        lines += ["", "## Scenarios without a dispatch", ""]
        lines += [
            f"- {r['scenario']} ({r['solver_status']}): {str(r.get('failure_reason', ''))[:300]}"
            for _, r in failed.iterrows()
        ]
    return "\n".join(lines) + "\n"
