"""The sizing-study configuration (``config/config.yaml``) as pydantic models.

One contract for the workflow, like PyPSA-Eur's ``scripts/lib/validation/config/``: every key
with its type, bounds, default and description lives here; the Snakefile validates the config
through :func:`load_study_config` before the DAG is built, the JSON Schema in
``workflow/schemas/config.schema.yaml`` is generated from :class:`StudyConfig`
(``python -m dcpower.study``; a test keeps it in sync), and each rule receives only the
sections it uses (``StudyConfig.<section>.model_dump(mode="json")`` as params, validated back
into the section model by its script).

Cross-field checks are model validators: dates parse and ``start < end`` inside every market
year, ``reserve_products`` covers every year and names products of the ISO's catalogue, the
ISO has a registered adapter, the frontier metric names a configured outage duration. The
validation reads no file; the pre-flight (the base case, every grid scenario's case, each year's
market data and the base case's load over the window) is called explicitly by the workflow and
``validate`` (:func:`dcpower.sweep.load_checked_study`). Every problem is reported together,
each naming its key and what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dcpower import data_root
from dcpower.case import MAX_MW
from dcpower.columns import POLICY_DIM
from dcpower.events import NONE, shipped_names
from dcpower.iso.base import available_adapters, get_adapter

#: where a market's shipped data lives, below the workflow folder: ``resources_data/<iso>``.
DATA_ROOT = data_root.SHIPPED_DATA_DIR
SCHEMA_PATH = Path("workflow") / "schemas" / "config.schema.yaml"


class StudyConfigError(ValueError):
    """The study config cannot run; each problem names the key and what is allowed."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(
            f"config: the study cannot run ({len(self.problems)} problem(s)):\n  "
            + "\n  ".join(self.problems)
        )


def _number(
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> Any:
    """A finite JSON number (int or float, kept as given: 200 stays 200 in scenario names)."""
    bounds = {"exclusiveMinimum": gt, "minimum": ge, "exclusiveMaximum": lt, "maximum": le}
    text = ", ".join(
        f"{op} {v:g}" for op, v in ((">", gt), (">=", ge), ("<", lt), ("<=", le)) if v is not None
    )

    def check(value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        ok = (
            (gt is None or value > gt)
            and (ge is None or value >= ge)
            and (lt is None or value < lt)
            and (le is None or value <= le)
        )
        if not ok:
            raise ValueError(f"must be {text}, got {value!r}")
        return value

    schema = {"type": "number", **{k: v for k, v in bounds.items() if v is not None}}
    return Annotated[int | float, PlainValidator(check), WithJsonSchema(schema)]


def _distinct(values: list | None) -> list | None:
    if values is None:
        return None
    dupes = sorted({v for v in values if values.count(v) > 1}, key=str)
    if dupes:
        raise ValueError(f"values must be distinct, repeated: {dupes}")
    return values


Positive = _number(gt=0)
NonNegative = _number(ge=0)
Fraction = _number(ge=0, le=1)
AtLeastOne = _number(ge=1)
OutageHours = _number(gt=0, le=168)
PoiLimit = _number(gt=0, le=MAX_MW)  # MW: the case's bound on poi.import_limit_mw
# the pattern is in the schema only: MarketConfig.window's message says what is allowed
DateText = Annotated[
    str,
    Field(
        json_schema_extra={"pattern": r"^([0-9]{4}-)?[0-9]{2}-[0-9]{2}$"},
        examples=["07-10", "2016-07-10"],
    ),
]

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StudyInfo(_Section):
    """``study``: what the study is called and which case it starts from."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+$",
        max_length=100,
        description="Results folder: results/<name>/.",
    )
    base_case: str = Field(
        pattern=r"\.json$", description="Case JSON, relative to the workflow folder."
    )

    @field_validator("name")
    @classmethod
    def _inside_results(cls, v: str) -> str:
        # '.', '..' and hidden names would put (or hide) the outputs outside results/<name>/
        if v.startswith("."):
            raise ValueError(
                f"study.name {v!r} would place outputs outside results/ (or hide them); allowed: "
                "letters, digits, '_', '-' and '.' not at the start"
            )
        return v


class GridScaling(_Section):
    """How BESS power and PCS follow a scenario's BESS MWh (what its solve uses of ``grid``)."""

    bess_duration_h: Positive = Field(description="BESS MW = MWh / duration, h.")
    pcs_mva_per_mw: AtLeastOne = Field(1.1, description="PCS rating per MW of BESS power.")


class GridConfig(GridScaling):
    """``grid``: the sizes swept (Cartesian product) and how BESS power and PCS follow."""

    bess_mwh: list[Positive] | None = Field(
        None, min_length=1, description="BESS energy sizes, MWh (absent with a search: section)."
    )
    gen_units: list[Annotated[StrictInt, Field(ge=0)]] | None = Field(
        None, min_length=1, description="Gas unit counts (absent with a search: section)."
    )
    transformer_mva: list[Positive] | None = Field(
        None, min_length=1, description="Transformer ratings, MVA (absent with a search: section)."
    )
    poi_import_mw: list[PoiLimit] | None = Field(
        None,
        min_length=1,
        description="POI import limits, MW (case poi.import_limit_mw): adds the dimension "
        "poi_import_mw (interconnection headroom study); absent: the base case's limit and no "
        "dimension. The summary gives each limit as % of the site's peak load too.",
    )

    events: list[str] = Field(
        ["none"],
        min_length=1,
        description="Grid emergency events, one scenario dimension: 'none' and names of the "
        "shipped catalogue (resources_data/ercot/events/grid_emergencies.csv). With more than "
        "'none' the dimension 'events' is added (it must include 'none', the reference each "
        "event's cost is measured against) and every event must overlap every study year.",
    )

    _unique = field_validator(
        "bess_mwh", "gen_units", "transformer_mva", "poi_import_mw", "events"
    )(_distinct)

    @field_validator("events")
    @classmethod
    def _known_events(cls, v: list[str]) -> list[str]:
        allowed = [NONE, *shipped_names()]
        unknown = [e for e in v if e not in allowed]
        if unknown:
            raise ValueError(f"unknown event(s) {unknown}; allowed: {allowed}")
        if v != [NONE] and NONE not in v:
            raise ValueError(
                f"must include {NONE!r}: each event's cost is net value without it − with it"
            )
        return v

    def optional_dims(self) -> list[str]:
        """Grid keys set here that add a dimension of their own (``poi_import_mw``, and
        ``events`` when it holds more than ``none``)."""
        dims = ["poi_import_mw"] if self.poi_import_mw is not None else []
        return dims + (["events"] if self.events != ["none"] else [])

    def scaling(self) -> GridScaling:
        """The grid keys a scenario's case depends on besides its own sizes."""
        return GridScaling(bess_duration_h=self.bess_duration_h, pcs_mva_per_mw=self.pcs_mva_per_mw)


#: a size's [lowest, highest] value in ``search:`` (equal bounds fix it)
_SizeBound = Annotated[list[NonNegative], Field(min_length=2, max_length=2)]
_UnitBound = Annotated[list[Annotated[StrictInt, Field(ge=0)]], Field(min_length=2, max_length=2)]
_PoiBound = Annotated[list[PoiLimit], Field(min_length=2, max_length=2)]
_DurationBound = Annotated[list[Positive], Field(min_length=2, max_length=2)]


class SearchConfig(_Section):
    """``search``: sizing by search (dcpower.search) instead of a grid: bounds per size, a
    lattice step, a solve budget and a cost tolerance. Sizes for every level of
    ``reliability.report_levels`` on ``reliability.frontier_metric``."""

    #: search dimensions that are integers (a step of 1)
    INTEGER_DIMS: ClassVar[tuple[str, ...]] = ("gen_units",)
    #: lattice intervals of a continuous size without a step of its own
    DEFAULT_INTERVALS: ClassVar[int] = 16

    bess_mwh: _SizeBound = Field(description="BESS energy bounds [low, high], MWh.")
    gen_units: _UnitBound = Field(description="Gas unit count bounds [low, high].")
    transformer_mva: _SizeBound = Field(description="Transformer rating bounds [low, high], MVA.")
    poi_import_mw: _PoiBound | None = Field(
        None,
        description="POI import limit bounds [low, high], MW (adds the dimension poi_import_mw).",
    )
    bess_duration_h: _DurationBound | None = Field(
        None,
        description="BESS duration bounds [low, high], h (BESS MW = MWh / duration; adds the "
        "dimension bess_duration_h; absent: grid.bess_duration_h).",
    )
    steps: dict[str, Positive] = Field(
        default_factory=dict,
        description="Lattice step per continuous size (bess_mwh, transformer_mva, "
        "poi_import_mw, bess_duration_h) in its unit; default (high - low) / 16. Gas units "
        "step by 1.",
    )
    max_solves: Annotated[StrictInt, Field(ge=1)] = Field(
        description="Solve budget: scenarios solved over all rounds (sizes × market years)."
    )
    tolerance: Fraction = Field(
        0.005,
        description="Relative cost tolerance of the stop rule: a size is the cheapest for its "
        "level when no evaluated or predicted neighbour meets the level for more than this "
        "fraction less.",
    )
    years: Literal["worst", "mean"] = Field(
        "worst",
        description="Several market years: judge a size by its worst year (highest cost, lowest "
        "metric) or the mean over the years.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SearchConfig:
        problems = []
        for name, (lo, hi) in self.bounds().items():
            if lo > hi:
                problems.append(
                    f"search.{name}: bounds [{lo}, {hi}] are reversed; allowed: [low, high] "
                    "with low <= high (equal bounds fix the size)"
                )
        if self.transformer_mva[0] <= 0:
            problems.append("search.transformer_mva: bounds must be > 0 MVA")
        allowed = [d for d in self.bounds() if d not in self.INTEGER_DIMS]
        for name in self.steps:
            if name not in allowed:
                problems.append(
                    f"search.steps.{name}: unknown size; allowed: {allowed} (gas units step by 1)"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Each search dimension's (low, high), in the sweep's dimension order."""
        out = {
            "bess_mwh": tuple(self.bess_mwh),
            "gen_units": tuple(self.gen_units),
            "transformer_mva": tuple(self.transformer_mva),
        }
        if self.poi_import_mw is not None:
            out["poi_import_mw"] = tuple(self.poi_import_mw)
        if self.bess_duration_h is not None:
            out["bess_duration_h"] = tuple(self.bess_duration_h)
        return out  # type: ignore[return-value]

    def step_of(self, name: str) -> float:
        """Lattice step of a dimension (1 for integers)."""
        if name in self.INTEGER_DIMS:
            return 1.0
        lo, hi = self.bounds()[name]
        return float(self.steps.get(name, (hi - lo) / self.DEFAULT_INTERVALS or 1.0))


class MarketConfig(_Section):
    """``market``: ISO, settlement point, study years and the horizon inside each year."""

    iso: str = Field(description="ISO adapter (dcpower.iso registry, e.g. ercot).")
    settlement_point: str = Field(min_length=1, description="Settlement point, e.g. HB_HOUSTON.")
    years: list[Annotated[StrictInt, Field(ge=2010, le=2100)]] = Field(
        min_length=1,
        description="Market years; several add the dimension market_year. Shipped ERCOT data: "
        "DAM 2016 and 2021-2024, AS 2016 and 2022-2024 (ECRS from 2023-06-10); other years "
        "need allow_download.",
    )
    start: DateText | None = Field(
        None,
        description="Horizon start: MM-DD in every market year, or YYYY-MM-DD inside the one "
        "market year (default 1 Jan).",
    )
    end: DateText | None = Field(
        None,
        description="Horizon end, exclusive: MM-DD (01-01 = the next 1 Jan) or YYYY-MM-DD "
        "(default 1 Jan of the next year).",
    )
    energy_market: Literal["dam", "rtm"] = Field(description="Day-ahead or real-time prices.")
    reserve_products: list[str] | dict[Annotated[int, Field(strict=False)], list[str]] = Field(
        description="Reserve products offered: a list, or a mapping year -> list."
    )
    allow_download: StrictBool = Field(
        False, description="Fetch the ISO's annual reports for a year not shipped (cached)."
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_as_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 2016-07-10 as a date: treat it as the text it was written as
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("iso")
    @classmethod
    def _registered(cls, value: str) -> str:
        names = available_adapters()
        if value.lower() not in names:
            raise ValueError(
                f"unknown ISO {value!r}; allowed: a registered adapter {names} (plugins register "
                "under the entry-point group 'dcpower.iso')"
            )
        return value.lower()

    _unique = field_validator("years")(_distinct)

    @model_validator(mode="after")
    def _products_and_windows(self) -> MarketConfig:
        problems = []
        products = self.reserve_products
        if isinstance(products, dict):
            missing = [y for y in self.years if y not in products]
            if missing:
                problems.append(
                    f"market.reserve_products has no entry for year(s) {missing}; allowed: a "
                    "list, or a mapping with one list per year in market.years"
                )
            lists = list(products.values())
        else:
            lists = [products]

        catalogue = sorted(get_adapter(self.iso).reserve_catalogue())
        for chosen in lists:
            # an adapter without a catalogue of its own (generic) takes the products from the
            # case's market.reserve_catalogue: the pre-flight checks them on the base case
            unknown = [p for p in chosen if catalogue and p not in catalogue]
            if unknown or len(set(chosen)) != len(chosen):
                problems.append(
                    f"market.reserve_products {chosen}: unknown or repeated product(s) "
                    f"{unknown or sorted({p for p in chosen if chosen.count(p) > 1})}; allowed: "
                    f"distinct products of the {self.iso.upper()} catalogue {catalogue}"
                )
        for year in self.years:
            try:
                self.window(year)
            except StudyConfigError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def products_for(self, year: int) -> list[str]:
        """Reserve products of a study year."""
        products = self.reserve_products
        return list(products.get(year, []) if isinstance(products, dict) else products)

    def window(self, year: int) -> tuple[date, date]:
        """[start, end) local dates of a market year's horizon; raises StudyConfigError.

        ``MM-DD`` applies the same window to every year (an ``end`` of ``01-01`` is the 1 January
        after the year); a full ``YYYY-MM-DD`` must lie in that year. Defaults: 1 January and
        the 1 January after.
        """
        start = self._parse(year, "start", date(year, 1, 1), False)
        end = self._parse(year, "end", date(year + 1, 1, 1), True)
        if end <= start:
            raise StudyConfigError(
                [
                    f"market.end ({end}) must be after market.start ({start}) in {year} (end is "
                    "exclusive)"
                ]
            )
        return start, end

    def _parse(self, year: int, key: str, default: date, is_end: bool) -> date:
        text = getattr(self, key)
        if text is None:
            return default
        m, full = _MONTH_DAY.match(text), _FULL_DATE.match(text)
        try:
            if m:
                month, day = int(m.group(1)), int(m.group(2))
                if is_end and (month, day) == (1, 1):
                    return date(year + 1, 1, 1)
                return date(year, month, day)
            if not full:
                raise StudyConfigError(
                    [
                        f"market.{key} {text!r} is not a date; allowed: MM-DD (the same window "
                        "in every market year) or YYYY-MM-DD (inside the one market year)"
                    ]
                )
            d = date(int(full.group(1)), int(full.group(2)), int(full.group(3)))
        except StudyConfigError:
            raise
        except ValueError as exc:
            raise StudyConfigError(
                [
                    f"market.{key} {text!r} is not a valid date in {year} ({exc}); allowed: an "
                    "existing date (MM-DD or YYYY-MM-DD)"
                ]
            ) from None
        first, after = date(year, 1, 1), date(year + 1, 1, 1)
        inside = first < d <= after if is_end else first <= d < after
        if not inside:
            raise StudyConfigError(
                [
                    f"market.{key} {text} lies outside market year {year} (market.years: "
                    f"{self.years}); allowed: a date in that year, or MM-DD to apply the same "
                    "window to every year"
                ]
            )
        return d

    def label(self) -> str:
        """E.g. ``ERCOT HB_HOUSTON 2016`` (study summary)."""
        return f"{self.iso.upper()} {self.settlement_point} {', '.join(map(str, self.years))}"


class OmFractions(_Section):
    """Fixed O&M per year, fraction of capex, per component."""

    bess: Fraction
    gen: Fraction
    transformer: Fraction


class Lifetimes(_Section):
    """Economic lifetime per component, years."""

    bess: Positive
    gen: Positive
    transformer: Positive


class CostsConfig(_Section):
    """``costs``: capex, fixed O&M and the capital recovery inputs."""

    bess_capex_usd_per_kwh: NonNegative = Field(description="BESS energy capex, $/kWh.")
    bess_capex_usd_per_kw: NonNegative = Field(description="BESS power capex, $/kW.")
    gen_capex_usd_per_kw: NonNegative = Field(description="Gas unit capex, $/kW.")
    transformer_capex_usd_per_mva: NonNegative = Field(description="Transformer capex, $/MVA.")
    fixed_om_fraction_of_capex_per_year: OmFractions = Field(
        description="Fixed O&M per year as a fraction of capex, per component."
    )
    discount_rate: Fraction = Field(description="Discount rate for the capital recovery factor.")
    lifetime_years: Lifetimes = Field(description="Economic lifetime per component, years.")


class OutageConfig(_Section):
    """The outage simulation's inputs (what a scenario's solve needs from ``reliability``)."""

    outage_durations_h: list[OutageHours] = Field(
        min_length=1, description="Outage durations simulated, h."
    )
    failure_to_start_probability: Fraction = Field(description="Per-unit failure to start.")
    operational_availability: Fraction = Field(
        1.0, description="Per-unit probability of not being down for maintenance at an outage."
    )
    mean_time_to_failure_h: Positive | None = Field(
        None, description="Mean running hours between unit failures, h; null: never fails."
    )
    fuel_limit_mwh: NonNegative | None = Field(
        None, description="Output MWh the units can produce in one outage; null: unlimited."
    )
    outage_start_units: Literal["dispatched", "cold"] = Field(
        "cold",
        description="'dispatched': units the dispatch has running need no start; 'cold': every "
        "unit starts.",
    )

    _unique = field_validator("outage_durations_h")(_distinct)

    def case_overrides(self) -> dict[str, dict[str, Any]]:
        """The case fields this sets in every scenario (``gas_gen`` and ``reliability``)."""
        return {
            "gas_gen": {
                "failure_to_start_probability": self.failure_to_start_probability,
                "operational_availability": self.operational_availability,
                "mean_time_to_failure_h": self.mean_time_to_failure_h,
                "fuel_limit_mwh": self.fuel_limit_mwh,
            },
            "reliability": {
                "outage_durations_h": [float(h) for h in self.outage_durations_h],
                "outage_start_units": self.outage_start_units,
            },
        }

    def metrics(self) -> list[str]:
        """Survival columns the outage simulation writes, e.g. ``survival_prob_8h``."""
        return [
            f"survival_{kind}_{float(h):g}h"
            for kind in ("prob", "min")
            for h in self.outage_durations_h
        ]


class ReliabilityConfig(OutageConfig):
    """``reliability``: outage simulation and the frontier/report settings."""

    frontier_metric: str = Field(
        pattern=r"^survival_(prob|min)_[0-9.]+h$",
        description="Survival column the frontier plots, e.g. survival_prob_8h.",
    )
    report_levels: list[Fraction] = Field(
        default_factory=lambda: [0.9, 0.99],
        description="Reliability levels in the study summary.",
    )

    @model_validator(mode="after")
    def _metric_is_simulated(self) -> ReliabilityConfig:
        if self.frontier_metric not in self.metrics():
            raise ValueError(
                f"reliability.frontier_metric {self.frontier_metric!r} matches no outage "
                f"duration in reliability.outage_durations_h {self.outage_durations_h}; "
                f"allowed: {self.metrics()}"
            )
        return self

    def outage(self) -> OutageConfig:
        """The part a scenario's solve uses (frontier and report settings excluded)."""
        return OutageConfig(
            **{name: getattr(self, name) for name in OutageConfig.model_fields},
        )


class SolveConfig(_Section):
    """``solve``: solver options applied to every scenario's case (unset: the base case's)."""

    mip_rel_gap: Fraction | None = None
    time_limit_s: Positive | None = None
    threads: Annotated[StrictInt, Field(ge=1)] | None = None
    method: Literal["auto", "monolithic", "rolling_horizon"] | None = None
    window_days: Annotated[StrictInt, Field(ge=1)] | None = None
    lookahead_days: Annotated[StrictInt, Field(ge=0)] | None = None

    def case_overrides(self) -> dict[str, Any]:
        """The options set here, as ``case.solver`` fields."""
        return self.model_dump(exclude_none=True)


class RefineConfig(_Section):
    """``refine``: re-solve the scenarios whose cost ties decide the frontier or a per-level
    choice at each tighter gap in turn, until they separate; ties left after the last gap are
    declared equivalent. Empty (the default): the ties are reported, nothing is re-solved."""

    mip_rel_gaps: list[Fraction] = Field(
        default_factory=list,
        description="Relative MIP gaps of the refinement rounds, each below the one before.",
    )

    @model_validator(mode="after")
    def _decreasing(self) -> RefineConfig:
        gaps = self.mip_rel_gaps
        if any(b >= a for a, b in zip(gaps, gaps[1:], strict=False)):
            raise ValueError(f"refine.mip_rel_gaps {gaps}: each gap must be below the one before")
        return self


class OperationsConfig(_Section):
    """``operations``: the dispatch policies swept (the case's ``operations.policy``); every
    other operations setting (forecast, decision time) is the base case's."""

    policy: list[Literal["perfect_foresight", "forecast"]] = Field(
        ["perfect_foresight"],
        min_length=1,
        description="Dispatch policies, one scenario dimension: perfect_foresight (every price "
        "of each window known: the upper bound) and/or forecast (each day committed the day "
        "before from forecasts, settled at actual prices). Anything but [perfect_foresight] adds "
        "the dimension operations_policy; with both, the summary gives each size's "
        "foresight_premium_usd = clairvoyant − realised net operating value.",
    )

    _unique = field_validator("policy")(_distinct)

    def optional_dims(self) -> list[str]:
        """``operations_policy`` when the policies are not just ``perfect_foresight``."""
        return [] if self.policy == ["perfect_foresight"] else [POLICY_DIM]


class ResourcesConfig(_Section):
    """``resources``: what one scenario job asks the scheduler for (doubled on the retry)."""

    solve_mem_mb: Annotated[StrictInt, Field(ge=100)] = Field(1500, description="Memory, MB.")
    solve_runtime_min: Annotated[StrictInt, Field(ge=1)] = Field(30, description="Runtime, min.")


class ScenarioSettings(_Section):
    """Everything one scenario's solve uses besides its sizes: no grid lists, no resources,
    no frontier/report settings, so editing those reruns no solve."""

    study_name: str
    grid: GridScaling
    market: MarketConfig
    solve: SolveConfig
    costs: CostsConfig
    outage: OutageConfig


class StudyConfig(_Section):
    """A sizing study: ``config/config.yaml``."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="dcpower sizing-study configuration (config/config.yaml)",
    )

    study: StudyInfo
    grid: GridConfig
    market: MarketConfig
    costs: CostsConfig
    reliability: ReliabilityConfig
    solve: SolveConfig
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    refine: RefineConfig = Field(default_factory=RefineConfig)
    operations: OperationsConfig = Field(default_factory=OperationsConfig)
    search: SearchConfig | None = Field(
        None,
        description="Sizing by search instead of the grid's sizes: grid then holds only "
        "bess_duration_h and pcs_mva_per_mw.",
    )

    @model_validator(mode="after")
    def _grid_or_search(self) -> StudyConfig:
        sizes = ("bess_mwh", "gen_units", "transformer_mva")
        if self.search is None:
            missing = [k for k in sizes if getattr(self.grid, k) is None]
            if missing:
                raise ValueError(
                    "\n".join(f"grid.{k}: is required (or give a search: section)" for k in missing)
                )
            return self
        given = [k for k in (*sizes, "poi_import_mw") if getattr(self.grid, k) is not None]
        problems = [
            f"grid.{k}: not allowed with a search: section (its bounds go in search.{k}); "
            "allowed in grid: bess_duration_h, pcs_mva_per_mw"
            for k in given
        ]
        if self.grid.events != ["none"]:
            problems.append("grid.events: not allowed with a search: section; allowed: ['none']")
        if self.operations.optional_dims():
            problems.append(
                "operations.policy: a search sizes for one dispatch policy; allowed with a "
                "search: section: ['perfect_foresight'] (the default)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def optional_dims(self) -> list[str]:
        """Sections' keys that add a dimension of their own: the grid's, or the search's
        (``poi_import_mw``, ``bess_duration_h`` when bounded), and the operations'."""
        if self.search is None:
            own = self.grid.optional_dims()
        else:
            own = [d for d in ("poi_import_mw", "bess_duration_h") if d in self.search.bounds()]
        return [*own, *self.operations.optional_dims()]

    def scenario_settings(self) -> ScenarioSettings:
        """What a scenario's solve uses of the study (see :class:`ScenarioSettings`)."""
        return ScenarioSettings(
            study_name=self.study.name,
            grid=self.grid.scaling(),
            market=self.market,
            solve=self.solve,
            costs=self.costs,
            outage=self.reliability.outage(),
        )


_TYPE_TAGS = {"int", "float", "str", "bool", "list", "dict"}


def _duplicate_keys(node: yaml.Node | None, path: str, source: str) -> list[str]:
    """``config: <key path>: duplicate key …`` for every key given twice in one mapping."""
    out: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            full = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if key in seen:
                out.append(
                    f"config: {full}: duplicate key on line {line} (first on line {seen[key]}) "
                    f"in {source}; the last one would silently win; fix: keep one"
                )
            seen.setdefault(key, line)
            out += _duplicate_keys(value_node, full, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out += _duplicate_keys(item, f"{path}[{i}]", source)
    return out


def read_study_yaml(path: str | Path) -> Any:
    """A study config file parsed strictly: UTF-8, no duplicate keys. Raises StudyConfigError
    naming the file (and the key and lines)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise StudyConfigError([f"config: {p}: not UTF-8 text; fix: save it as UTF-8"]) from None
    except OSError as exc:
        raise StudyConfigError([f"config: {p}: cannot read the file ({exc.strerror})"]) from None
    try:
        dups = _duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader), "", str(p))
        if dups:
            raise StudyConfigError(dups)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise StudyConfigError([f"config: {p}: not valid YAML{where}"]) from None


def config_file_problems(paths: Iterable[str | Path]) -> list[str]:
    """Problems of the config files themselves (duplicate keys, encoding, YAML syntax)."""
    problems: list[str] = []
    for path in paths:
        try:
            read_study_yaml(path)
        except StudyConfigError as exc:
            problems += exc.problems
    return problems


def _problem(error: Mapping[str, Any]) -> list[str]:
    """Plain messages of one pydantic error, each naming its key (``market.start``)."""
    # union members and validator functions appear in ``loc`` as tags: not keys
    loc = [
        str(p) for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p in _TYPE_TAGS))
    ]
    key = ".".join(loc)
    kind = error["type"]
    if kind == "value_error":
        lines = str(error["ctx"]["error"]).split("\n")
    elif kind == "missing":
        lines = ["is required"]
    elif kind == "extra_forbidden":
        parent = _section_model(loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        lines = [f"unknown key; allowed keys: {allowed}"]
    else:
        shown = error.get("input")
        lines = [error["msg"] if isinstance(shown, dict) else f"{error['msg']} (got {shown!r})"]
    section = loc[0] + "." if loc else ""
    return [
        f"config: {line}" if not key or line.startswith(section) else f"config: {key}: {line}"
        for line in lines
    ]


def _section_model(loc: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] = StudyConfig
    for part in loc:
        ann = getattr(model.model_fields.get(part), "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def load_study_config(raw: Mapping[str, Any] | StudyConfig) -> StudyConfig:
    """Validate a study config (the YAML's dict); raises StudyConfigError with every problem.

    Reads no file: the pre-flight is :func:`dcpower.sweep.load_checked_study`.
    """
    if isinstance(raw, StudyConfig):
        raw = raw.model_dump(mode="json")
    if not isinstance(raw, Mapping):
        raise StudyConfigError(
            [f"config: expected a mapping of sections, got {type(raw).__name__}"]
        )
    try:
        return StudyConfig.model_validate(dict(raw))
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors(include_url=False):
            for line in _problem(error):
                if line not in problems:
                    problems.append(line)
        raise StudyConfigError(problems) from None


def study_config_problems(raw: Mapping[str, Any] | StudyConfig) -> list[str]:
    """Every problem the model finds in a study config (no file read; empty: it validates)."""
    try:
        load_study_config(raw)
    except StudyConfigError as exc:
        return exc.problems
    return []


def json_schema() -> dict[str, Any]:
    """JSON Schema of the study config (draft 2020-12), generated from :class:`StudyConfig`."""
    schema = StudyConfig.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_yaml() -> str:
    """The schema as the YAML written to ``workflow/schemas/config.schema.yaml``."""
    header = (
        "# Generated from dcpower.study.StudyConfig by `python -m dcpower.study`; do not edit.\n"
        "# The Snakefile validates through the model itself (dcpower.study.load_study_config),\n"
        "# which also runs the cross-field checks this schema cannot express.\n"
    )
    return header + yaml.safe_dump(json_schema(), sort_keys=False, width=100, allow_unicode=True)


if __name__ == "__main__":
    import sys

    sys.stdout.write(schema_yaml())
