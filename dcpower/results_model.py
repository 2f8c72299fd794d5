"""The results contract: pydantic models of the document ``dcpower run --out`` writes.

``Results`` validates a results dict (as :func:`dcpower.runner.run_case` returns it) or a results
JSON file (:func:`dcpower.results.load_results`). The dispatch and electrical tables stay lists
of JSON records; their columns are checked against the column registry
(:mod:`dcpower.columns`): a column the registry does not know is an error that names it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dcpower import columns
from dcpower.case import Case

#: version of the results document; bump when a section gains, loses or renames a field
RESULTS_SCHEMA_VERSION = 3

UtcText = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$"),
]


class _Section(BaseModel):
    # allow_inf_nan=False: the writer turns NaN/inf into null, so a NaN here is a bug
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SolverStatus(StrEnum):
    """Outcome of the solve (the values of ``dcpower.optimization.solve.SolveStatus``)."""

    OPTIMAL = "optimal"
    ABOVE_REQUESTED_GAP = "feasible_above_requested_gap"
    TIME_LIMIT_FEASIBLE = "time_limit_feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
    ERROR = "error"


class HorizonInfo(_Section):
    """The solved horizon: [start_utc, end_utc) in steps of ``timestep_minutes``."""

    start_utc: UtcText
    end_utc: UtcText
    timestep_minutes: int = Field(gt=0)
    n_steps: int = Field(ge=0)


class ReserveProductInfo(_Section):
    """One reserve product as the model used it (ISO catalogue after the case's overrides)."""

    direction: Literal["up", "down"]
    duration_h: float = Field(
        ge=0, description="hours storage backs with energy and a load resource stays curtailed"
    )
    eligible_resources: list[Literal["gen", "bess", "load"]]
    source: str = Field(description="protocol section / NPRR of duration and eligibility")
    deployment_minutes: float = Field(ge=0, description="deployment to full delivery, min")
    offline_gen_eligible: bool
    deployment_source: str
    load_source: str = Field("", description="rule under which a load resource may carry it")


class ProvenanceFile(BaseModel):
    """A market data file read: its role, path and SHA-256."""

    model_config = ConfigDict(extra="allow", frozen=True)

    role: str
    path: str
    sha256: str


class Provenance(BaseModel):
    """Where the prices came from (ISO adapter's record; adapters may add fields)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    iso: str | None = None
    settlement_point: str | None = None
    energy_market: str | None = None
    start_utc: str | None = None
    end_utc: str | None = None
    timestep_minutes: int | None = None
    source_interval_minutes: dict[str, int | None] | None = None
    reserve_products: list[str] | None = None
    files: list[ProvenanceFile] = Field(default_factory=list)
    fill_policy: str | None = None
    max_fill_steps: int | None = None
    filled_intervals: list[dict[str, Any]] = Field(default_factory=list)


class MarketInfo(_Section):
    """Market the case was solved against: reserve catalogue and data provenance."""

    iso: str
    settlement_point: str
    energy_market: Literal["dam", "rtm"]
    reserve_products: dict[str, ReserveProductInfo]
    provenance: Provenance


class SolverInfo(_Section):
    """Solver outcome; times in s, objective and bounds in $ (maximised net value)."""

    status: SolverStatus
    termination: str
    objective: float | None
    best_bound: float | None
    mip_gap: float | None
    build_seconds: float
    solve_seconds: float
    n_rows: int
    n_columns: int
    n_integer: int
    method: str = Field(
        description="monolithic_milp, lp_relaxation, rolling_horizon or rolling_horizon_lp"
    )
    solver: str
    mip_rel_gap_requested: float
    time_limit_s: float
    threads: int
    lp_bound: float | None = None
    lp_seconds: float | None = None
    lp_solve_seconds: float | None = None
    handoff_seconds: float = 0.0
    proven_bound: float | None = None
    proven_bound_method: str | None = None
    proven_bound_seconds: float | None = None
    relaxed_integrality: bool
    windows: int = Field(ge=1)
    max_window_gap: float | None
    windows_time_limited: int = Field(ge=0)
    window_gap_usd: float | None
    windows_above_gap: int = Field(ge=0)
    time_limit_reached: bool
    wall_seconds: float
    warning: str | None = None
    gap_to_lp_bound: float | None = None
    proven_gap: float | None = None


UsdStack = dict[Annotated[str, StringConstraints(pattern=r"_usd$")], float]


class EnergyTotals(_Section):
    """Energy over the horizon, MWh."""

    load_mwh: float
    load_served_mwh: float
    load_unserved_mwh: float
    critical_unserved_mwh: float
    grid_import_mwh: float
    grid_export_mwh: float
    gen_mwh: float
    bess_charge_mwh: float
    bess_discharge_mwh: float


class PerMwh(_Section):
    """$/MWh figures; null where the denominator is zero."""

    net_cost_usd_per_mwh_served: float | None
    avg_import_price_usd_per_mwh: float | None
    avg_export_price_usd_per_mwh: float | None
    avg_gen_cost_usd_per_mwh: float | None
    avg_energy_price_usd_per_mwh: float | None


class Economics(_Section):
    """Revenue and cost stacks ($) that add up to the net value; reserve revenue keys are
    ``reserve_<product>_revenue_usd`` of the market's products. The net value equals the
    solver's objective except by the terms settled after the solve
    (``settled_after_solve_usd``): net_value_usd = objective_usd − Σ of those costs."""

    revenues_usd: UsdStack
    costs_usd: UsdStack
    total_revenue_usd: float
    total_cost_usd: float
    net_value_usd: float
    objective_usd: float | None
    settled_after_solve_usd: UsdStack = Field(
        default_factory=dict,
        description="cost lines (also in costs_usd, positive $) settled from the dispatch after "
        "the solve and not in the solver's objective: transmission_cp_charge_usd when a 4CP "
        "tariff's response is 'alert' or 'none' (tariff.charge_in_objective false), "
        "realtime_deviation_cost_usd when operations.settlement is 'two_settlement'; empty "
        "when net_value_usd = objective_usd",
    )
    energy_mwh: EnergyTotals
    usd_per_mwh: PerMwh


class BindingTolerance(_Section):
    abs: float
    rel: float
    rule: str


class BindingRow(_Section):
    timestamp: UtcText
    step: int = Field(ge=0)
    families: list[str]


class Explainability(_Section):
    """Binding constraint families per step, counts per family and a plain summary."""

    tolerance: BindingTolerance
    binding_constraints: list[BindingRow]
    binding_timesteps_per_family: dict[str, int]
    families: dict[str, str] = Field(description="family → what it means")
    summary: list[str]


class AcScreeningInfo(_Section):
    """AC power-flow screening of the dispatch (``dcpower.topology.ac_screening``)."""

    method: str
    voltage_band_pu: list[float] = Field(min_length=2, max_length=2)
    steps_screened: int = Field(ge=0, description="steps with AC columns (near a limit or extreme)")
    steps_near_limit: int = Field(ge=0, description="steps an MVA, PF or Q row brings within 10 %")
    steps_extreme: int = Field(ge=0, description="steps of the extremes (import, export, |Q|, ...)")
    points_solved: int = Field(ge=0, description="AC power flows solved (dispatched + deployed)")
    points_without_solution: int = Field(ge=0, description="points beyond voltage collapse")
    steps_outside_band: int = Field(ge=0)
    steps_transformer_over_rating: int = Field(
        ge=0, description="steps whose AC transformer current exceeds its rating (0.1 % margin)"
    )
    min_voltage_pu: float | None
    max_voltage_pu: float | None
    max_transformer_ac_loading_pct: float | None
    runpp_cross_check_abs_diff_pu: float | None = Field(
        description="|batch solve − pandapower runpp| of the voltages at the worst point, pu"
    )
    wall_seconds: float = Field(ge=0)


class ModelInfo(_Section):
    """Derived model quantities a reader needs (start delay in steps, polygon facets)."""

    gen_start_delay_steps: int = Field(ge=0)
    transformer_polygon_facets: int = Field(ge=3)


class TariffInfo(_Section):
    """Transmission coincident-peak charge (README "Transmission charges (4CP)"): the rule, the
    rate and why, each CP interval with the site's withdrawal and charge, and for the alert
    policy its alert hours per month, the intervals it covered and what responding took."""

    rule: dict[str, Any]
    response: Literal["none", "perfect_foresight", "alert"]
    charge_in_objective: bool = Field(
        description="false: the model did not see the intervals; the charge was settled after "
        "the solve and net_value_usd = objective_usd − transmission_cp_charge_usd"
    )
    charge_usd: float = Field(description="recomputed from the dispatch at the CP intervals, $")
    rate: dict[str, Any]
    notes: list[str]
    intervals: list[dict[str, Any]]
    alert: dict[str, Any] | None


class EventCurtailed(_Section):
    """Energy not served during an event, per load segment, MWh."""

    flexible: float = Field(ge=0)
    noncritical: float = Field(ge=0)
    critical: float = Field(ge=0)


class EventInfo(_Section):
    """One grid emergency event (``dcpower.events``): its window and cap, what the site did in
    its steps (a step partly inside counts), and the operating cost of those steps ($,
    recomputed from the dispatch). The event's full cost is net value without the event − net
    value with it (the workflow's ``events`` dimension: cost vs the ``none`` scenario)."""

    name: str
    source: str
    window: str = Field(description="eea3_load_shed, eea (catalogue) or user")
    start_utc: UtcText
    end_utc: UtcText
    cap_mw: float = Field(ge=0, description="cap on import − export in the event, MW")
    steps: int = Field(ge=0)
    max_net_withdrawal_mw: float | None = Field(description="largest import − export, MW")
    curtailed_mwh: EventCurtailed
    critical_shed: bool
    self_supply_mwh: dict[str, float] = Field(description="energy in the event's steps, MWh")
    operating_cost_usd: dict[str, float] = Field(
        description="fuel (with starts), flexible_curtailment, voll, energy_net (import cost − "
        "export revenue) and net_value_in_window of the event's steps, $"
    )
    fuel_supply: str | None = Field(None, description="the gas units' fuel: gas_gen.fuel_supply")
    pipeline_gas_fraction: float | None = Field(
        None, ge=0, le=1, description="share of pipeline gas delivered in the event, -"
    )
    pipeline_gas_source: str | None = None
    gas_available_mw_min: float | None = Field(
        None, description="least gas output the units' fuel allowed in the event's steps, MW"
    )


class Sb6Test(_Section):
    """Backup capacity against 50 % of the load at every step."""

    backup_mw: float = Field(ge=0)
    passes: bool
    hours_short: float = Field(ge=0)
    worst_shortfall_mw: float = Field(ge=0)
    first_short_utc: UtcText | None


class Sb6Screen(_Section):
    """Texas SB 6 screen: on-site backup generation able to serve ≥ 50 % of on-site demand,
    for loads at or above 75 MW (gas only is the test; gas + BESS is information)."""

    threshold_mw: float
    peak_load_mw: float
    applies: bool
    required_share: float
    gas_only: Sb6Test
    gas_plus_bess_info: Sb6Test
    rule: str
    source: str


class Verification(_Section):
    """Independent invariant checks of the document; empty when every invariant holds."""

    violations: list[str]


class Outputs(_Section):
    """Parquet tables written with the JSON (name → SHA-256)."""

    parquet_dir: str
    parquet_tables: dict[str, Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]]


Record = dict[str, Any]


def _check_records(records: list[Record], table: columns.Table) -> list[Record]:
    """Same columns in every record, each known to the registry; numbers or null, and an
    ISO 8601 UTC ``timestamp``."""
    if not records:
        return records
    names = list(records[0])
    columns.check_columns(names, table)
    keys = set(names)
    for i, row in enumerate(records):
        if not isinstance(row, dict):
            raise ValueError(f"{table.value}[{i}] is not an object")
        if row.keys() != keys:
            extra = sorted(set(row) - keys)
            missing = sorted(keys - set(row))
            columns.check_columns(extra, table)
            raise ValueError(
                f"{table.value}[{i}] has other columns than the first record "
                f"(extra {extra}, missing {missing})"
            )
    for name in names:
        if name == columns.TIMESTAMP:
            for i, row in enumerate(records):
                ts = row[name]
                try:
                    if not isinstance(ts, str) or not ts.endswith("Z"):
                        raise ValueError
                    datetime.fromisoformat(ts)
                except ValueError:
                    raise ValueError(
                        f"{table.value}[{i}].timestamp {ts!r} is not ISO 8601 UTC"
                    ) from None
            continue
        for i, row in enumerate(records):
            v = row[name]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise ValueError(f"{table.value}[{i}].{name} = {v!r} is not a number or null")
    return records


def _table(table: columns.Table) -> Any:
    """A list of records whose JSON Schema lists the registry's columns with units."""
    return Annotated[
        list[Record],
        WithJsonSchema({"type": "array", "items": columns.table_json_schema(table)}),
    ]


DispatchRecords = _table(columns.Table.DISPATCH)
ElectricalRecords = _table(columns.Table.ELECTRICAL)


class MarginalValue(_Section):
    """$/yr value of +1 unit of one asset's size (``dcpower.optimization.marginal``)."""

    value_usd_per_yr_per_unit: float | None = Field(
        description="$/yr per unit; null when the asset is not installed or a window LP failed"
    )
    unit: Literal["MVA", "MW", "MWh"]
    method: str
    note: str


Probability = Annotated[float, Field(ge=0, le=1)]
ByDuration = dict[str, float]


class OutageStarts(_Section):
    """Per outage start (one per dispatch step): survival and expected unserved MWh by
    duration (keys: hours as text)."""

    start_utc: list[UtcText]
    survival_prob: dict[str, list[Probability]]
    expected_unserved_critical_mwh: dict[str, list[float]]


class OutageInfo(_Section):
    """Outage survival from every step (``dcpower.reliability``; REopt's failure modes)."""

    assumptions: str
    durations_h: list[float]
    survival_prob_by_duration_h: dict[str, Probability] = Field(
        description="duration (h, as text) → survival probability averaged over outage starts"
    )
    survival_min_by_duration_h: dict[str, Probability]
    survival_percentiles_by_duration_h: dict[str, dict[str, Probability]] = Field(
        description="percentile (%) → duration → survival probability over starts"
    )
    expected_unserved_critical_mwh_by_duration_h: ByDuration = Field(
        description="mean over starts of the expected unserved critical MWh per outage"
    )
    expected_outage_cost_usd_by_duration_h: ByDuration = Field(
        description="expected unserved critical MWh × critical VoLL, $ per outage"
    )
    limited_by_by_duration_h: dict[str, str] = Field(
        description="why survival is below 1, in words (empty when every start survives)"
    )
    by_start: OutageStarts


class ForecastErrorStats(_Section):
    """Errors of the forecasts the committed days were decided on (forecast − actual)."""

    mae: float = Field(description="mean absolute error, $/MWh (energy) or $/MW per hour (AS)")
    bias: float = Field(description="mean of forecast − actual, same unit")
    steps: int = Field(description="forecast steps (unpublished at their decision time)")


class Redispatch(_Section):
    """A re-dispatch of a committed day when a grid event's notice came."""

    notice_utc: UtcText
    from_utc: UtcText = Field(description="first step re-dispatched (the steps before held)")


class Foresight(_Section):
    """The dispatch policy: clairvoyant (an upper bound) or causal (``operations``)."""

    policy: Literal["perfect_foresight", "forecast"]
    label: str = Field(description="'upper bound' (perfect_foresight) or 'realisable (causal)'")
    note: str | None = None
    decision_time_local: str | None = Field(None, description="local HH:MM the day before")
    decisions: int | None = Field(None, description="operating days committed")
    first_decision_utc: UtcText | None = None
    last_decision_utc: UtcText | None = None
    decision_times_utc: list[UtcText] | None = None
    forecast_source: str | None = None
    forecast_file: str | None = None
    information_set: str | None = None
    settlement: Literal["day_ahead", "two_settlement"] | None = Field(
        None, description="operations.settlement"
    )
    forecast_errors: dict[str, dict[str, ForecastErrorStats]] | None = Field(
        None, description="product (energy or AS) → local year → errors"
    )
    redispatches: list[Redispatch] | None = Field(
        None, description="re-dispatches at grid events' notice times"
    )
    planned_net_value_usd: float | None = Field(
        None,
        description="the committed schedule's value at the prices its day-ahead decisions saw "
        "(CP charges unknown: 0), $",
    )
    realised_net_value_usd: float | None = Field(
        None, description="the committed days' value at the actual prices, $ (= economics)"
    )


class Results(_Section):
    """The results document of one solved case."""

    schema_version: Literal[RESULTS_SCHEMA_VERSION] = Field(
        description="results document version; a reader refuses other versions"
    )
    dcpower_version: str
    case: Case = Field(description="the validated case, echoed")
    horizon: HorizonInfo
    market: MarketInfo
    solver: SolverInfo
    dispatch: DispatchRecords = Field(
        description="one record per step: MW, MWh, units, $/MWh (see dcpower.columns)"
    )
    electrical: ElectricalRecords = Field(
        description="one record per step: P, Q, S, loading % per element, PF at the POI"
    )
    economics: Economics
    explainability: Explainability
    ac_screening: AcScreeningInfo | None = Field(
        None, description="AC power-flow screening (voltages, AC loading, losses)"
    )
    model: ModelInfo
    verification: Verification
    warnings: list[str]
    tariff: TariffInfo | None = Field(
        None, description="transmission CP charge; present when the case has a tariff section"
    )
    marginal_values: dict[str, MarginalValue] | None = Field(
        None,
        description="per asset (transformer, bess_energy, bess_power, poi_import, gas): $/yr of "
        "+1 unit of its size from the fixed-integer LP duals; present when asked for",
    )
    events: list[EventInfo] | None = Field(
        None, description="grid emergency events; present when the case has events"
    )
    sb6: Sb6Screen | None = Field(None, description="Texas SB 6 backup-generation screen")
    outage: OutageInfo | None = Field(
        None, description="outage survival from every step (REopt's failure modes)"
    )
    foresight: Foresight | None = Field(
        None, description="dispatch policy (operations.policy) and, when causal, its forecasts"
    )
    outputs: Outputs | None = None

    @field_validator("dispatch")
    @classmethod
    def _dispatch_columns(cls, v: list[Record]) -> list[Record]:
        return _check_records(v, columns.Table.DISPATCH)

    @field_validator("electrical")
    @classmethod
    def _electrical_columns(cls, v: list[Record]) -> list[Record]:
        return _check_records(v, columns.Table.ELECTRICAL)

    @model_validator(mode="after")
    def _consistent(self) -> Results:
        n = self.horizon.n_steps
        for name in ("dispatch", "electrical"):
            rows = getattr(self, name)
            if len(rows) != n:
                raise ValueError(f"{name} has {len(rows)} records, horizon.n_steps is {n}")
        known = {p.lower() for p in self.market.reserve_products}
        first = self.dispatch[0] if self.dispatch else {}
        per_product = (
            columns.reserve_award_columns(first)
            + columns.offline_award_columns(first)
            + columns.reserve_price_columns(first)
            + columns.reserve_revenue_keys(self.economics.revenues_usd)
            + columns.load_reserve_revenue_keys(self.economics.revenues_usd)
        )
        stray = [c.column for c in per_product if c.product.lower() not in known]
        if stray:
            raise ValueError(
                f"columns of products not in market.reserve_products: {', '.join(stray)}"
            )
        return self


def results_json_schema() -> dict[str, Any]:
    """JSON Schema of the results document (what ``dcpower schema results`` prints)."""
    return Results.model_json_schema()
