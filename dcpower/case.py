"""The case schema: one source of truth for a dispatch case, units in every field name.

A case describes one data-center site over one horizon. ``Case.model_json_schema()`` is what
``dcpower schema`` prints; :func:`load_case` turns a JSON file into a validated :class:`Case` or
raises :class:`CaseError` listing every problem with its JSON path and the fix.

Every input is checked the same way wherever it comes from (``dcpower validate``/``run``, CLI
overrides, the UI, the workflow): strict types (no bool or string where a number is expected),
finite numbers only (``NaN``/``Infinity`` are rejected), an explicit minimum and maximum on every
MW, MWh, MVA, $, minute and count field (the bound is named in the message), duplicate JSON keys
and non-UTF-8 files rejected.
"""

from __future__ import annotations

import json
import math
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from dcpower.errors import InputError
from dcpower.events import NONE, resolve, shipped_names
from dcpower.filecheck import check_input_file
from dcpower.iso import available_adapters
from dcpower.iso.base import ReserveProduct

TIMESTEPS_MINUTES = (5, 15, 30, 60)
#: BESS wear per MWh of charge + discharge, $/MWh: cell replacement ≈ 120 $/kWh (BloombergNEF's
#: 2024 battery price survey: pack average 115 $/kWh, stationary storage ≈ 125 $/kWh) spread
#: over ≈ 6,000 equivalent full cycles to 80 % capacity (LFP stationary cells' datasheet
#: figure), each cycle 2 MWh of throughput per MWh: 120,000 $/MWh / 12,000 MWh = 10 $/MWh.
DEFAULT_DEGRADATION_USD_PER_MWH = 10.0
#: synchronous generator nameplate PF (NEMA MG 1 / IEEE C50.13 rate at 0.8 lagging).
DEFAULT_GEN_RATED_PF = 0.8
#: cost of reactive power at the POI beyond the PF limit, $/MVArh: an assumption of this
#: project (no tariff figure); utilities bill poor PF in many ways — set your own.
DEFAULT_EXCESS_REACTIVE_USD_PER_MVARH = 10.0
# AC screening (dcpower.topology.ac_network) defaults: typical values, assumptions to replace with
# the utility's short-circuit data and the transformer's test report (README, "AC screening").
#: three-phase short-circuit power at the POI, MVA: a moderate 138 kV bus (≈ 10.5 kA; 138 kV
#: fault currents are typically 10–40 kA); SCR ≈ 17 for a 150 MW site (below 3 is weak).
DEFAULT_POI_SHORT_CIRCUIT_MVA = 2_500.0
#: X/R of the grid's Thevenin impedance: typical of 69–345 kV buses (about 5–20 in practice).
DEFAULT_POI_X_OVER_R = 10.0
#: transformer short-circuit impedance, % on its own rating: IEC 60076-5 Table 1's recognised
#: minimum for 63–100 MVA two-winding transformers.
DEFAULT_TRANSFORMER_IMPEDANCE_PCT = 12.5
#: transformer X/R: the middle of the typical range of ~100 MVA power transformers (≈ 30–50,
#: the IEEE C37.010 application guide's curve of X/R against rating).
DEFAULT_TRANSFORMER_X_OVER_R = 40.0
#: steady-state voltage band at the POI and the site bus, pu: the normal-condition band of US
#: transmission planning criteria (0.95–1.05 pu; an assumption: use the utility's requirement).
DEFAULT_VOLTAGE_BAND_PU = (0.95, 1.05)

# Upper bounds of the inputs, realistic for one data-center site; pydantic names the bound in
# its message ("Input should be less than or equal to 10000").
MAX_MW = 10_000.0  # load, BESS power, unit size, POI limits, ramp (MW/min)
MAX_MVA = 20_000.0  # PCS and transformer ratings
MAX_SHORT_CIRCUIT_MVA = 200_000.0  # grid strength at the POI
MAX_MWH = 200_000.0  # BESS energy and reserved energy
MAX_USD_PER_MWH = 100_000.0  # fuel, curtailment, degradation; |export price adder| ≤ 10 000
MAX_ADDER_USD_PER_MWH = 10_000.0
MAX_VOLL_USD_PER_MWH = 1_000_000.0
MAX_START_COST_USD = 10_000_000.0
MAX_UNITS = 1_000
MAX_MINUTES = 1_440.0  # start delay, ride-through: one day
MAX_RESERVE_DURATION_H = 24.0
MAX_FILL_STEPS = 10_000
MAX_TIME_LIMIT_S = 7 * 86_400.0
MAX_THREADS = 256
MAX_WINDOW_DAYS = 366
MAX_HORIZON_DAYS = 3_660  # ten years
MIN_DATE, MAX_DATE = date(2000, 1, 1), date(2100, 12, 31)
MAX_CASE_FILE_BYTES = 5_000_000


class _Strict(BaseModel):
    # strict: no bool→number, no "100"→100; allow_inf_nan=False: NaN/Infinity are errors.
    # Dates and paths are parsed from strings per field (``_LaxStr``), nothing else is coerced.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _date_text(v: Any) -> Any:
    """Dates come as ISO strings (JSON) or date objects; a number is not a date."""
    if isinstance(v, date) or (isinstance(v, str) and len(v) <= 32):
        return v
    raise ValueError("must be a date string YYYY-MM-DD")


def _path_text(v: Any) -> Any:
    if isinstance(v, str | Path) and "\x00" in str(v):
        raise ValueError("a file path cannot contain a NUL byte; fix: check the path")
    if v is None or isinstance(v, Path) or (isinstance(v, str) and 0 < len(v) <= 4096):
        return v
    raise ValueError("must be a file path (a non-empty string)")


class Horizon(_Strict):
    """Days modelled: ``start`` (inclusive) to ``end`` (exclusive), local dates in ``timezone``."""

    start: date = Field(
        strict=False,
        ge=MIN_DATE,
        le=MAX_DATE,
        description="First local day modelled (inclusive), YYYY-MM-DD.",
    )
    end: date = Field(
        strict=False,
        ge=MIN_DATE,
        le=MAX_DATE,
        description="Local day after the last modelled day (exclusive), YYYY-MM-DD.",
    )
    timestep_minutes: int = Field(60, description="Model timestep in minutes: 5, 15, 30 or 60.")
    timezone: str = Field(
        "America/Chicago", max_length=64, description="IANA zone of the local dates."
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_input(cls, v: Any) -> Any:
        return _date_text(v)

    @field_validator("timestep_minutes")
    @classmethod
    def _timestep(cls, v: int) -> int:
        if v not in TIMESTEPS_MINUTES:
            raise ValueError(f"must be one of {TIMESTEPS_MINUTES} minutes")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {v!r}; e.g. 'America/Chicago'") from exc
        return v

    @model_validator(mode="after")
    def _order(self) -> Horizon:
        if self.end <= self.start:
            raise ValueError("horizon.end must be after horizon.start (end is exclusive)")
        if (self.end - self.start).days > MAX_HORIZON_DAYS:
            raise ValueError(
                f"the horizon must be at most {MAX_HORIZON_DAYS} days; fix: shorten it"
            )
        tz = ZoneInfo(self.timezone)
        for label, day in (("start", self.start), ("end", self.end)):
            offset = datetime(day.year, day.month, day.day, tzinfo=tz).utcoffset()
            minutes = int(offset.total_seconds() // 60) if offset is not None else 0
            if minutes % self.timestep_minutes:
                raise ValueError(
                    f"horizon.timezone {self.timezone!r} is UTC{'-' if minutes < 0 else '+'}"
                    f"{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d} at the {label} ({day}), "
                    "not a whole number of "
                    f"{self.timestep_minutes}-min steps from UTC, so local midnight is not a "
                    "model step boundary; fix: choose horizon.timestep_minutes dividing the "
                    "offset (e.g. 15 or 30) or another horizon.timezone"
                )
        return self


class ReserveProductOverride(_Strict):
    """Per-case override of one catalogue entry; unset fields keep the ISO default."""

    direction: Literal["up", "down"] | None = None
    duration_h: float | None = Field(
        None, gt=0, le=MAX_RESERVE_DURATION_H, description="Hours storage must sustain, h."
    )
    eligible_resources: list[Literal["gen", "bess", "load"]] | None = None
    deployment_minutes: float | None = Field(
        None, gt=0, le=240, description="Time to deliver the full award after deployment, min."
    )
    offline_gen_eligible: bool | None = Field(
        None,
        description="Offline gas units that can start and ramp within the deployment "
        "time may carry the product (ERCOT: Non-Spin).",
    )


#: a product code in a case catalogue: upper case, as in the reserve price file's product column
PRODUCT_NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,31}$"
MAX_DEPLOYMENT_MINUTES = 240.0


class ReserveProductSpec(_Strict):
    """One reserve product of a market without a built-in catalogue (``market.iso: "generic"``)."""

    direction: Literal["up", "down"] = Field(
        description="'up' (more injection / less consumption) or 'down'."
    )
    duration_h: float = Field(
        ge=0,
        le=MAX_RESERVE_DURATION_H,
        description="Hours of full delivery the storage must back with energy, h.",
    )
    deployment_minutes: float = Field(
        gt=0,
        le=MAX_DEPLOYMENT_MINUTES,
        description="Time from deployment to full delivery, min; a gas unit's award is at most "
        "its ramp rate × this.",
    )
    offline_gen_eligible: bool = Field(
        False,
        description="Offline gas units that start and ramp within the deployment time may "
        "carry the product (like ERCOT Non-Spin).",
    )
    eligible_resources: list[Literal["gen", "bess", "load"]] = Field(
        min_length=1,
        max_length=3,
        description="Resources that may carry the product ('load': the flexible load segment "
        "as a Load Resource, up products only).",
    )
    source: str = Field(
        min_length=1,
        max_length=2_000,
        description="The market rule (tariff/protocol section) the numbers follow.",
    )
    deployment_source: str = Field(
        "", max_length=2_000, description="Rule the deployment time and offline rule follow."
    )
    load_source: str = Field(
        "", max_length=2_000, description="Rule under which a load resource may carry it."
    )

    @field_validator("eligible_resources")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("list each resource once")
        return v

    def to_product(self, name: str) -> Any:
        """The :class:`dcpower.iso.base.ReserveProduct` this entry describes."""

        return ReserveProduct(
            name,
            self.direction,
            self.duration_h,
            tuple(self.eligible_resources),
            self.source,
            deployment_minutes=self.deployment_minutes,
            offline_gen_eligible=self.offline_gen_eligible,
            deployment_source=self.deployment_source,
            load_source=self.load_source,
        )


def _iso_enum(schema: dict[str, Any]) -> None:
    """JSON Schema of ``market.iso``: the names in the adapter registry (plug-ins included)."""

    schema["enum"] = available_adapters()


class Market(_Strict):
    """Where energy is bought/sold and which reserves are offered."""

    iso: str = Field(
        "ercot",
        max_length=64,
        description="ISO adapter name (built-in: 'ercot', 'generic'; plug-ins register through "
        "the entry-point group 'dcpower.iso').",
        json_schema_extra=_iso_enum,
    )
    settlement_point: str = Field(
        min_length=1, max_length=64, description="Settlement point, e.g. 'HB_NORTH'."
    )
    energy_market: Literal["dam", "rtm"] = Field("dam", description="Day-ahead or real-time.")
    reserve_products: list[str] = Field(
        description="Reserve products offered; [] means explicitly none (e.g. years without "
        "AS prices)."
    )
    export_price_adder_usd_per_mwh: float = Field(
        0.0,
        ge=-MAX_ADDER_USD_PER_MWH,
        le=MAX_ADDER_USD_PER_MWH,
        description="Added to the energy price for exports, $/MWh (negative = haircut).",
    )
    price_file: Path | None = Field(
        None,
        strict=False,
        description="Energy price file (CSV/Parquet, tidy or ISO native); default shipped.",
    )
    reserve_price_file: Path | None = Field(
        None, strict=False, description="Reserve price file; default shipped."
    )
    fill_policy: Literal["error", "ffill", "interpolate"] = Field(
        "error", description="What to do with missing price intervals; default: error."
    )
    max_fill_steps: int = Field(
        4, ge=0, le=MAX_FILL_STEPS, description="Longest gap a fill policy may fill, steps."
    )
    reserve_catalogue_overrides: dict[str, ReserveProductOverride] = Field(
        default_factory=dict, description="Per-product overrides of the ISO reserve catalogue."
    )
    reserve_catalogue: dict[str, ReserveProductSpec] = Field(
        default_factory=dict,
        description="The market's reserve products, by product code (iso 'generic' only, which "
        "has no built-in catalogue): required for every product in reserve_products.",
    )

    @field_validator("iso")
    @classmethod
    def _registered(cls, v: str) -> str:
        names = available_adapters()
        if v.lower() not in names:
            raise ValueError(
                f"unknown ISO {v!r}; available adapters: {names} (plug-ins register through the "
                "entry-point group 'dcpower.iso')"
            )
        return v

    @field_validator("reserve_catalogue")
    @classmethod
    def _product_codes(cls, v: dict[str, ReserveProductSpec]) -> dict[str, ReserveProductSpec]:
        import re

        bad = [k for k in v if not re.fullmatch(PRODUCT_NAME_PATTERN, k)]
        if bad:
            raise ValueError(
                f"product codes must match {PRODUCT_NAME_PATTERN} (upper case, e.g. 'SPIN'); "
                f"{len(bad)} do not"
            )
        return v

    @model_validator(mode="after")
    def _catalogue_for_generic(self) -> Market:
        if self.iso.lower() != "generic":
            if self.reserve_catalogue:
                raise ValueError(
                    f"market.reserve_catalogue is only for iso 'generic'; {self.iso!r} has its own "
                    "catalogue: change its entries with market.reserve_catalogue_overrides"
                )
            return self
        if self.price_file is None:
            raise ValueError(
                "market.price_file is required with iso 'generic' (it ships no data): a tidy "
                "CSV/Parquet with interval_start_utc, price_usd_per_mwh[, settlement_point]"
            )
        if self.reserve_products and self.reserve_price_file is None:
            raise ValueError(
                "market.reserve_price_file is required with iso 'generic' when reserve_products "
                "is not empty: a tidy CSV/Parquet with interval_start_utc, product, "
                "price_usd_per_mw_h"
            )
        missing = [
            p for p in self.reserve_products if p.strip().upper() not in self.reserve_catalogue
        ]
        if missing:
            raise ValueError(
                f"market.reserve_catalogue has no entry for {missing}; with iso 'generic' every "
                "product in reserve_products needs one (direction, duration_h, "
                "deployment_minutes, offline_gen_eligible, eligible_resources, source)"
            )
        return self

    def case_reserve_catalogue(self) -> dict[str, Any] | None:
        """``reserve_catalogue`` as ReserveProducts for the adapter (None when empty)."""
        if not self.reserve_catalogue:
            return None
        return {name: spec.to_product(name) for name, spec in self.reserve_catalogue.items()}

    @field_validator("price_file", "reserve_price_file", mode="before")
    @classmethod
    def _path_input(cls, v: Any) -> Any:
        return _path_text(v)

    @field_validator("reserve_products")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("reserve products must be listed once each")
        return v


#: expected MWh deployed per MW-h of load reserve award: none by default (see LoadReserves)
DEFAULT_LOAD_DEPLOYMENT_FRACTION = 0.0


class LoadReserves(_Strict):
    """The flexible load segment offered as a reserve (Load Resource) into up products.

    Awards of each listed product are held out of the flexible MW consumed at the step and must
    be sustained, by staying curtailed, for the product's ``duration_h``. Expected deployment:
    ``expected_deployment_fraction`` × award MW × Δt MWh per step, priced at
    ``deployment_cost_usd_per_mwh`` and counted against the weekly limit.
    """

    products: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Products the flexible load offers: each must be in market.reserve_products "
        "and have 'load' among its catalogue eligible_resources (ERCOT: RRS, ECRS, NSPIN); "
        "up products only. [] = the load offers no reserves.",
    )
    weekly_curtailment_limit_mwh: float | None = Field(
        None,
        ge=0,
        le=MAX_MWH,
        description="Most flexible-load energy curtailed per calendar week (Monday 00:00 in "
        "horizon.timezone): planned curtailment + expected reserve deployment, MWh. Absent: no "
        "limit.",
    )
    deployment_cost_usd_per_mwh: float | None = Field(
        None,
        ge=0,
        le=MAX_USD_PER_MWH,
        description="Cost of each MWh of load curtailed by a reserve deployment (lost work net "
        "of energy not bought), $/MWh. Absent: load.flexible_curtailment_usd_per_mwh.",
    )
    expected_deployment_fraction: float = Field(
        DEFAULT_LOAD_DEPLOYMENT_FRACTION,
        ge=0,
        le=1,
        description="Expected MWh deployed per MW-h awarded, -. Default 0: ERCOT deploys "
        "ECRS/Non-Spin in scarcity and emergencies, a few hours a year, so the capacity payment "
        "dominates; set e.g. 0.01 to price and count 1 % of the award-hours as deployed.",
    )

    @field_validator("products")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        names = [p.strip().upper() for p in v]
        if len(set(names)) != len(names):
            raise ValueError("list each product once")
        return names


class Load(_Strict):
    """Data-center load: a flat MW value or a profile file, split into priority segments.

    Segments: critical (``critical_fraction``, VoLL ``reliability.voll_critical_usd_per_mwh``),
    flexible (``flexible_fraction``, curtailable at ``flexible_curtailment_usd_per_mwh``), and the
    rest, non-critical firm load at ``reliability.voll_noncritical_usd_per_mwh``.
    """

    profile_mw: float | None = Field(None, ge=0, le=MAX_MW, description="Flat load, MW.")
    profile_file: Path | None = Field(
        None, strict=False, description="CSV/Parquet with a timestamp column and a MW column."
    )
    profile_column: str = Field(
        "load_mw", max_length=200, description="Column of profile_file holding MW."
    )
    profile_timestamp_column: str = Field(
        "timestamp",
        max_length=200,
        description="Column of profile_file holding ISO 8601 times with a UTC offset or Z "
        "(times without an offset are rejected).",
    )
    critical_fraction: float = Field(ge=0, le=1, description="Share of load that is critical, -.")
    flexible_fraction: float = Field(0.0, ge=0, le=1, description="Curtailable share, -.")
    flexible_curtailment_usd_per_mwh: float = Field(
        500.0, ge=0, le=MAX_USD_PER_MWH, description="Cost of curtailing flexible load, $/MWh."
    )
    power_factor: float = Field(0.95, gt=0, le=1, description="Load power factor (lagging), -.")
    reserves: LoadReserves = Field(
        LoadReserves(),
        description="The flexible segment's reserve offer (Load Resource); default: none.",
    )

    @field_validator("profile_file", mode="before")
    @classmethod
    def _path_input(cls, v: Any) -> Any:
        return _path_text(v)

    @model_validator(mode="after")
    def _source_and_split(self) -> Load:
        if (self.profile_mw is None) == (self.profile_file is None):
            raise ValueError("give exactly one of load.profile_mw or load.profile_file")
        if self.critical_fraction + self.flexible_fraction > 1 + 1e-12:
            raise ValueError("critical_fraction + flexible_fraction must not exceed 1")
        if self.reserves.products and self.flexible_fraction == 0:
            raise ValueError(
                "load.reserves.products needs a flexible segment to curtail: set "
                "load.flexible_fraction > 0 or remove the products"
            )
        return self

    @property
    def deployment_cost_usd_per_mwh(self) -> float:
        """$/MWh of load curtailed by a reserve deployment (default: the curtailment cost)."""
        c = self.reserves.deployment_cost_usd_per_mwh
        return self.flexible_curtailment_usd_per_mwh if c is None else c


class Bess(_Strict):
    """Battery: PCS power, energy, efficiencies and SOC limits."""

    power_mw: float = Field(ge=0, le=MAX_MW, description="Charge/discharge power limit, MW.")
    energy_mwh: float = Field(ge=0, le=MAX_MWH, description="Usable nameplate energy, MWh.")
    charge_efficiency: float = Field(0.95, gt=0, le=1, description="One-way charge efficiency.")
    discharge_efficiency: float = Field(0.95, gt=0, le=1, description="One-way discharge eff.")
    soc_min_fraction: float = Field(0.0, ge=0, le=1, description="Physical SOC minimum, -.")
    soc_max_fraction: float = Field(1.0, ge=0, le=1, description="Physical SOC maximum, -.")
    soc_initial_fraction: float = Field(0.5, ge=0, le=1, description="SOC at horizon start, -.")
    soc_final_min_fraction: float | None = Field(
        None, ge=0, le=1, description="SOC at horizon end at least this; default = initial."
    )
    pcs_mva: float = Field(
        ge=0, le=MAX_MVA, description="Power-conversion-system apparent power rating, MVA."
    )
    market_soc_reserve_mwh: float = Field(
        0.0,
        ge=0,
        le=MAX_MWH,
        description="Energy held back from market use above the physical minimum, MWh.",
    )
    degradation_cost_usd_per_mwh: float = Field(
        DEFAULT_DEGRADATION_USD_PER_MWH,
        ge=0,
        le=MAX_USD_PER_MWH,
        description="Wear cost per MWh of throughput (charge + discharge), $/MWh. Default 10: "
        "cell replacement ≈ 120 $/kWh over ≈ 6,000 full cycles (2 MWh of throughput per MWh "
        "of capacity and cycle) = 120,000 / 12,000; set your own from the cell warranty. "
        "0 makes cycling free.",
    )

    @property
    def installed(self) -> bool:
        """A battery is on site: power and energy both positive."""
        return self.power_mw > 0 and self.energy_mwh > 0

    @model_validator(mode="after")
    def _soc_order(self) -> Bess:
        if self.soc_min_fraction > self.soc_max_fraction:
            raise ValueError("soc_min_fraction must not exceed soc_max_fraction")
        if not self.soc_min_fraction <= self.soc_initial_fraction <= self.soc_max_fraction:
            raise ValueError("soc_initial_fraction must lie within [soc_min, soc_max]")
        if self.power_mw > 0 and self.pcs_mva < self.power_mw:
            raise ValueError("pcs_mva must be at least power_mw (the PCS must pass rated MW)")
        return self


class GasGen(_Strict):
    """Identical reciprocating/turbine gas units, committed as an integer count."""

    units: int = Field(ge=0, le=MAX_UNITS, description="Installed units.")
    unit_mw: float = Field(ge=0, le=MAX_MW, description="Rated output of one unit, MW.")
    min_stable_fraction: float = Field(0.4, ge=0, le=1, description="Min stable output, -.")
    start_delay_minutes: float = Field(
        10.0, ge=0, le=MAX_MINUTES, description="Time from start command to first output, minutes."
    )
    ramp_mw_per_min: float = Field(gt=0, le=MAX_MW, description="Ramp rate of one unit, MW/min.")
    fuel_cost_usd_per_mwh: float = Field(
        ge=0, le=MAX_USD_PER_MWH, description="Fuel + variable O&M, $/MWh."
    )
    start_cost_usd: float = Field(
        0.0, ge=0, le=MAX_START_COST_USD, description="Cost of one start, $."
    )
    min_power_factor: float = Field(0.8, gt=0, le=1, description="Min PF at the terminals, -.")
    initial_units_online: int = Field(
        0, ge=0, le=MAX_UNITS, description="Units producing at horizon start."
    )
    rated_power_factor: float = Field(
        DEFAULT_GEN_RATED_PF,
        gt=0,
        le=1,
        description="Nameplate PF of one unit: unit MVA = unit_mw / rated_power_factor, -. "
        "Default 0.8 (NEMA MG 1 / IEEE C50.13 synchronous generators).",
    )
    # Outage reliability (dcpower.outage; defaults: REopt.jl's backup-reliability defaults).
    operational_availability: float = Field(
        0.995,
        ge=0,
        le=1,
        description="Probability a unit is not down for maintenance when an outage starts, -.",
    )
    failure_to_start_probability: float = Field(
        0.0094, ge=0, le=1, description="Probability a unit fails to start in an outage, -."
    )
    mean_time_to_failure_h: float | None = Field(
        1100.0,
        gt=0,
        le=1e9,
        description="Mean running hours between failures in an outage, h (per-step failure "
        "probability step h / MTTF); null: never fails while running.",
    )
    fuel_limit_mwh: float | None = Field(
        None,
        ge=0,
        le=1e9,
        description="Output MWh the units can produce in one outage (on-site fuel), MWh; "
        "null: unlimited.",
    )
    fuel_supply: Literal["pipeline", "dual_fuel", "on_site"] = Field(
        "pipeline",
        description="'pipeline': gas that a grid event's pipeline_gas_fraction curtails; "
        "'dual_fuel': pipeline gas plus backup_fuel_hours of on-site fuel at full output; "
        "'on_site': stored fuel (fuel_limit_mwh), unaffected by pipeline curtailment.",
    )
    backup_fuel_hours: float = Field(
        0.0,
        ge=0,
        le=8760,
        description="dual_fuel: hours of full fleet output on the on-site backup fuel from an "
        "event's start, after which the pipeline fraction applies, h.",
    )

    @property
    def installed(self) -> bool:
        """Gas units are on site: count and unit size both positive."""
        return self.units > 0 and self.unit_mw > 0

    @model_validator(mode="after")
    def _initial(self) -> GasGen:
        if self.initial_units_online > self.units:
            raise ValueError("initial_units_online must not exceed units")
        return self


class Poi(_Strict):
    """Point of interconnection: MW caps and minimum power factor of the exchange."""

    import_limit_mw: float = Field(ge=0, le=MAX_MW, description="Maximum import, MW.")
    export_limit_mw: float = Field(ge=0, le=MAX_MW, description="Maximum export, MW.")
    min_power_factor: float = Field(0.95, gt=0, le=1, description="Min PF of the exchange, -.")
    power_factor_rule: Literal["penalty", "hard"] = Field(
        "penalty",
        description="'penalty': reactive power beyond the PF limit is allowed at "
        "excess_reactive_cost_usd_per_mvarh (as a utility bills it); 'hard': never.",
    )
    excess_reactive_cost_usd_per_mvarh: float = Field(
        DEFAULT_EXCESS_REACTIVE_USD_PER_MVARH,
        ge=0,
        le=MAX_USD_PER_MWH,
        description="Cost of MVArh at the POI beyond the PF limit, $/MVArh (default 10: an "
        "assumption, not a tariff figure; set your utility's).",
    )
    short_circuit_mva: float = Field(
        DEFAULT_POI_SHORT_CIRCUIT_MVA,
        ge=10,
        le=MAX_SHORT_CIRCUIT_MVA,
        description="Three-phase short-circuit power of the grid at the POI, MVA (AC screening "
        "only). Default 2500: a moderate 138 kV bus (≈ 10.5 kA); use the utility's figure.",
    )
    x_over_r: float = Field(
        DEFAULT_POI_X_OVER_R,
        ge=0.1,
        le=100,
        description="X/R of the grid's Thevenin impedance at the POI, - (AC screening only). "
        "Default 10: typical of transmission buses (5–20).",
    )
    voltage_band_pu: list[Annotated[float, Field(ge=0.5, le=1.5)]] = Field(
        list(DEFAULT_VOLTAGE_BAND_PU),
        min_length=2,
        max_length=2,
        description="[min, max] steady-state voltage at the POI and the site bus, pu (AC "
        "screening). Default [0.95, 1.05]: the normal-condition band of US transmission "
        "planning criteria.",
    )

    @field_validator("voltage_band_pu")
    @classmethod
    def _band(cls, v: list[float]) -> list[float]:
        lo, hi = v
        if not 0.5 <= lo < 1.0 < hi <= 1.5:
            raise ValueError(
                f"voltage_band_pu must be [min, max] with 0.5 ≤ min < 1 < max ≤ 1.5 pu; got {v}"
            )
        return v


class Transformer(_Strict):
    """Main step-down transformer between POI and the site bus."""

    rating_mva: float = Field(gt=0, le=MAX_MVA, description="Apparent power rating, MVA.")
    polygon_facets: int = Field(
        16, ge=4, le=128, description="Facets K of the inscribed polygon for MVA circles."
    )
    impedance_pct: float = Field(
        DEFAULT_TRANSFORMER_IMPEDANCE_PCT,
        ge=1,
        le=40,
        description="Short-circuit impedance on the transformer's own rating, % (AC screening "
        "only). Default 12.5: IEC 60076-5 Table 1's minimum for 63–100 MVA units.",
    )
    x_over_r: float = Field(
        DEFAULT_TRANSFORMER_X_OVER_R,
        ge=1,
        le=200,
        description="X/R of the transformer's impedance, - (AC screening only). Default 40: "
        "typical of ~100 MVA power transformers (30–50).",
    )


#: the outage simulation's default durations, h (REopt reports up to its maximum duration)
DEFAULT_OUTAGE_DURATIONS_H = (0, 1, 2, 4, 8, 12, 24, 48, 72)


class Reliability(_Strict):
    """Value of lost load, ride-through and N+1."""

    voll_critical_usd_per_mwh: float = Field(
        ge=0, le=MAX_VOLL_USD_PER_MWH, description="VoLL of critical load, $/MWh."
    )
    voll_noncritical_usd_per_mwh: float = Field(
        2000.0,
        ge=0,
        le=MAX_VOLL_USD_PER_MWH,
        description="VoLL of non-critical, non-flexible load, $/MWh.",
    )
    ride_through_minutes: float = Field(
        0.0,
        ge=0,
        le=MAX_MINUTES,
        description="Minutes the BESS must carry critical load alone, minutes.",
    )
    n_plus_1: bool = Field(True, description="Enforce islanded N+1 for the critical load.")
    outage_durations_h: list[Annotated[float, Field(ge=0, le=8760)]] = Field(
        default_factory=lambda: list(DEFAULT_OUTAGE_DURATIONS_H),
        min_length=1,
        max_length=50,
        description="Outage durations the outage simulation reports, h (rounded up to steps).",
    )
    outage_start_units: Literal["dispatched", "cold"] = Field(
        "dispatched",
        description="Units at an outage start: 'dispatched' (units the dispatch has running "
        "need no start and produce through the start delay) or 'cold' (every unit starts).",
    )


class Solver(_Strict):
    """HiGHS options."""

    mip_rel_gap: float = Field(1e-3, ge=0, le=1, description="Relative MIP gap, -.")
    time_limit_s: float = Field(
        300.0, gt=0, le=MAX_TIME_LIMIT_S, description="Wall-clock limit, s."
    )
    threads: int = Field(1, ge=1, le=MAX_THREADS, description="HiGHS threads.")
    relax_integrality: bool = Field(False, description="Solve the LP relaxation instead.")
    method: Literal["auto", "monolithic", "rolling_horizon"] = Field(
        "auto",
        description="monolithic: one MILP; rolling_horizon: windows with look-ahead; auto: "
        "monolithic up to 14 days, rolling beyond.",
    )
    window_days: int = Field(
        7, ge=1, le=MAX_WINDOW_DAYS, description="Rolling-horizon window kept per solve, days."
    )
    lookahead_days: int = Field(
        1, ge=0, le=MAX_WINDOW_DAYS, description="Rolling-horizon look-ahead, days."
    )
    selective_binaries: bool = Field(
        True,
        description="Battery-mode and grid-direction binaries only at steps where a relaxed "
        "solution is simultaneous (same optimum, fewer binaries); false: binaries everywhere.",
    )


#: forecast sources of ``operations.forecast``: the shipped baselines (``dcpower.forecast``)
#: and a user file
FORECAST_SOURCES = ("same_hour_median_7d", "seasonal_naive_7d", "file")
_CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Operations(_Strict):
    """How the dispatch is decided: with every price of the window known (the clairvoyant
    upper bound) or by a causal operator who commits each operating day at a decision time the
    day before from forecasts of every price not yet published, settled at the actual prices."""

    policy: Literal["perfect_foresight", "forecast"] = Field(
        "perfect_foresight",
        description="perfect_foresight: every price of each window known (an upper bound); "
        "forecast: each operating day committed at decision_time_local the day before from "
        "forecasts of the prices not yet published, settled at the actual prices.",
    )
    forecast: Literal[FORECAST_SOURCES] = Field(  # type: ignore[valid-type]
        "same_hour_median_7d",
        description="Forecast of each unpublished price: same_hour_median_7d (median of the "
        "same local time of day over the last 7 published days), seasonal_naive_7d (the same "
        "local time on the last published day of the same weekday), or file (forecast_file).",
    )
    forecast_file: Path | None = Field(
        None,
        strict=False,
        description="Tidy CSV of forecasts (forecast: file): columns decision_time, timestamp "
        "(ISO 8601 with a UTC offset), product (energy or a reserve product), value ($/MWh or "
        "$/MW per hour); one vintage per decision time.",
    )
    decision_time_local: str = Field(
        "10:00",
        pattern=_CLOCK_PATTERN,
        description="Local clock time (HH:MM) the day before each operating day at which its "
        "schedule is committed (ERCOT's day-ahead market closes at 10:00).",
    )

    alert_notice: Literal["day_ahead", "hour_start"] = Field(
        "day_ahead",
        description="When the forecast policy learns of a CP alert hour (tariff.response "
        "alert): day_ahead — at the decision of its day (an exact day-ahead alert forecast, "
        "the alert policy's own assumption); hour_start — at the start of the hour (the lagged "
        "system load it reads is published then), re-dispatching from there: the cap then "
        "comes without notice and may shed load.",
    )
    settlement: Literal["day_ahead", "two_settlement"] = Field(
        "day_ahead",
        description="day_ahead: the schedule settles at the market's prices; two_settlement "
        "(policy forecast, energy_market dam): each day-ahead decision's net withdrawal settles "
        "at DAM prices and the deviation of the dispatched one from it at real-time prices.",
    )
    realtime_price_file: Path | None = Field(
        None,
        strict=False,
        description="Real-time energy prices for two_settlement (the market's file layout); "
        "default: the shipped RTM prices of the settlement point (ERCOT HB_HUBAVG 2024-2025).",
    )

    @field_validator("forecast_file", "realtime_price_file", mode="before")
    @classmethod
    def _file_text(cls, v: Any) -> Any:
        return _path_text(v)

    @model_validator(mode="after")
    def _file_iff_source(self) -> Operations:
        if self.forecast == "file" and self.forecast_file is None:
            raise ValueError(
                "operations.forecast 'file' needs operations.forecast_file (a tidy CSV of "
                "forecast vintages); fix: give the file or choose a shipped baseline "
                f"{list(FORECAST_SOURCES[:-1])}"
            )
        if self.settlement == "two_settlement" and self.policy != "forecast":
            raise ValueError(
                "operations.settlement 'two_settlement' settles deviations from day-ahead "
                "decisions, which only policy 'forecast' makes; fix: set operations.policy "
                "'forecast' or settlement 'day_ahead'"
            )
        if self.realtime_price_file is not None and self.settlement != "two_settlement":
            raise ValueError(
                "operations.realtime_price_file is only read with settlement 'two_settlement'; "
                "fix: set settlement 'two_settlement' or drop realtime_price_file"
            )
        if self.forecast != "file" and self.forecast_file is not None:
            raise ValueError(
                f"operations.forecast_file is only read with forecast 'file' (got forecast "
                f"{self.forecast!r}); fix: set forecast to 'file' or drop forecast_file"
            )
        return self


#: coincident-peak rule presets: months, intervals per month, interval length (minutes)
CP_PRESETS: dict[str, dict[str, Any]] = {
    # ERCOT 4CP (16 TAC §25.192): one 15-min system peak in each of June–September
    "4cp": {"months": [6, 7, 8, 9], "intervals_per_month": 1, "interval_minutes": 15},
    # 12CP with 30-min intervals, as the PUCT is weighing (SB 6 rulemaking): one per month
    "12cp": {"months": list(range(1, 13)), "intervals_per_month": 1, "interval_minutes": 30},
}
MAX_RATE_USD_PER_KW_YR = 1_000.0


class CoincidentPeakAlert(_Strict):
    """Causal alert policy: an hour is an alert when, in a CP month and inside the local
    afternoon window, ERCOT system load known ``known_lag_hours`` earlier is at least
    ``threshold_fraction`` × the month-to-date peak known then."""

    window_start_hour: int = Field(
        14, ge=0, le=23, description="First local clock hour (hour start) of the alert window."
    )
    window_end_hour: int = Field(
        19, ge=1, le=24, description="Local clock hour the alert window ends (exclusive)."
    )
    threshold_fraction: float = Field(
        0.97,
        gt=0,
        le=1.5,
        description="Alert when the system load ≥ this × the month-to-date peak known then, -.",
    )
    known_lag_hours: int = Field(
        1,
        ge=0,
        le=24,
        description="The decision for hour h uses the system load of hour h − lag (and the "
        "month's peak up to it): 1 = the last completed hour (strictly causal); 0 = the hour's "
        "own load, as a perfect short-term forecast.",
    )
    min_system_load_mw: float = Field(
        0.0,
        ge=0,
        le=1_000_000.0,
        description="No alert while the known system load is below this, MW (0: no floor).",
    )
    max_withdrawal_mw: float = Field(
        0.0,
        ge=0,
        le=MAX_MW,
        description="Cap on the site's net grid withdrawal (import − export) during an alert, "
        "MW; 0 = off the grid. Met with gas, battery and curtailment at their costs.",
    )

    @model_validator(mode="after")
    def _window(self) -> CoincidentPeakAlert:
        if self.window_end_hour <= self.window_start_hour:
            raise ValueError("alert.window_end_hour must be after window_start_hour")
        return self


class Tariff(_Strict):
    """Transmission coincident-peak (CP) charge: rate × the site's mean net withdrawal over the
    CP intervals, annualised (README "Transmission charges (4CP)")."""

    rule: Literal["4cp", "12cp"] = Field(
        "4cp",
        description="Preset of the CP rule: '4cp' (Jun–Sep, one 15-min interval a "
        "month) or '12cp' (every month, one 30-min interval).",
    )
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        None, min_length=1, max_length=12, description="CP months (1–12); default: the preset's."
    )
    intervals_per_month: int | None = Field(
        None, ge=1, le=10, description="CP intervals per month; default: the preset's."
    )
    interval_minutes: int | None = Field(
        None, ge=5, le=60, description="Length of a CP interval, minutes; default: the preset's."
    )
    intervals_source: Literal["official", "system_load_peaks"] | None = Field(
        None,
        description="'official': the intervals of intervals_file (default: the shipped ERCOT "
        "4CP intervals); 'system_load_peaks': the hours of the highest ERCOT hourly system "
        "load in each CP month (an hourly approximation). Default: official for 4cp, "
        "system_load_peaks for 12cp (no official 12CP intervals exist).",
    )
    intervals_file: Path | None = Field(
        None,
        strict=False,
        description="CSV of CP intervals (interval_start_utc, interval_end_utc[, year, month]); "
        "default: resources_data/ercot/tariffs/four_cp_intervals.csv.",
    )
    rate_usd_per_kw_yr: float | None = Field(
        None,
        ge=0,
        le=MAX_RATE_USD_PER_KW_YR,
        description="Transmission rate, $/kW-yr (e.g. your TDSP's); default: the ERCOT "
        "postage-stamp rate of the charges the modelled year's CPs set (year + 1).",
    )
    response: Literal["none", "perfect_foresight", "alert"] = Field(
        "perfect_foresight",
        description="'perfect_foresight': the model knows the official intervals and prices "
        "them (an upper bound on avoidance); 'alert': the causal alert policy caps the "
        "withdrawal, the charge is settled after the solve; 'none': no response, the charge "
        "is settled after the solve.",
    )
    alert: CoincidentPeakAlert = CoincidentPeakAlert()

    @field_validator("intervals_file", mode="before")
    @classmethod
    def _path_input(cls, v: Any) -> Any:
        return _path_text(v)

    @field_validator("months")
    @classmethod
    def _unique_months(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("list each month once")
        return sorted(v) if v is not None else v

    def resolved(self) -> dict[str, Any]:
        """The rule with the preset's defaults filled in: months, intervals_per_month,
        interval_minutes, intervals_source."""
        preset = CP_PRESETS[self.rule]
        return {
            "months": list(self.months if self.months is not None else preset["months"]),
            "intervals_per_month": self.intervals_per_month or preset["intervals_per_month"],
            "interval_minutes": self.interval_minutes or preset["interval_minutes"],
            "intervals_source": self.intervals_source
            or ("official" if self.rule == "4cp" else "system_load_peaks"),
        }


#: a grid event's name: lower case, digits and underscores (it becomes part of scenario names)
EVENT_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MAX_EVENTS = 50
MAX_NOTICE_MINUTES = 7 * 24 * 60.0  # a week


class GridEvent(_Strict):
    """A user-defined grid emergency: the site's net withdrawal (import − export) is at most
    ``cap_mw`` during ``[start, end)``; met with gas, battery and curtailment at their costs."""

    name: str = Field(pattern=EVENT_NAME_PATTERN, description="Event name (a-z, 0-9, _).")
    start: datetime = Field(
        strict=False, description="Start, ISO 8601 with a UTC offset, e.g. 2021-02-15T01:25-06:00."
    )
    end: datetime = Field(strict=False, description="End (exclusive), ISO 8601 with a UTC offset.")
    cap_mw: float = Field(
        0.0,
        ge=0,
        le=MAX_MW,
        description="Cap on net withdrawal (import − export) during the event, MW; 0 = switch "
        "to backup (the site may still export).",
    )
    source: str = Field(
        min_length=1, max_length=2_000, description="Where the event comes from (a citation)."
    )
    pipeline_gas_fraction: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Fraction of pipeline gas delivered during the event (gas units on "
        "gas_gen.fuel_supply 'pipeline' produce at most this share of their MW), -.",
    )
    pipeline_gas_source: str | None = Field(
        None, max_length=2_000, description="Where the pipeline gas fraction comes from."
    )
    notice_minutes: float | None = Field(
        None,
        ge=0,
        le=MAX_NOTICE_MINUTES,
        description="Minutes before start at which the site learns of the event (operations."
        "policy 'forecast' re-dispatches from then); absent: 30 (dcpower.events."
        "DEFAULT_NOTICE_MINUTES, an EEA directive's assumed notice).",
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, datetime) or (isinstance(v, str) and len(v) <= 40):
            return v
        raise ValueError("must be an ISO 8601 date-time string with a UTC offset")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError(
                "needs a UTC offset (e.g. 2021-02-15T01:25-06:00 or ...Z); local times without "
                "one are ambiguous at DST changes"
            )
        return v

    @model_validator(mode="after")
    def _order(self) -> GridEvent:
        if self.end <= self.start:
            raise ValueError("end must be after start (end is exclusive)")
        if self.pipeline_gas_fraction < 1 and not self.pipeline_gas_source:
            raise ValueError(
                "pipeline_gas_fraction < 1 needs pipeline_gas_source (where the figure comes from)"
            )
        return self


def _event_kind(v: Any) -> str:
    return "event" if isinstance(v, dict | GridEvent) else "name"


#: one entry of ``events``: a shipped event's name or a user-defined event (an object)
EventEntry = Annotated[
    Annotated[str, Tag("name")] | Annotated[GridEvent, Tag("event")],
    Discriminator(_event_kind),
]
#: union tags that pydantic puts in error paths; left out of the JSON paths shown
_UNION_TAGS = {"name", "event"}


def _event_names(v: list[Any]) -> list[Any]:
    shipped = shipped_names()
    names = []
    for i, e in enumerate(v):
        name = e if isinstance(e, str) else e.name
        if isinstance(e, str) and e not in shipped:
            raise ValueError(
                f"events[{i}]: unknown event {e!r}; shipped events: {shipped} (or give an object "
                "{name, start, end, cap_mw, source})"
            )
        if name == NONE:
            raise ValueError(f"events[{i}]: {NONE!r} means no event; fix: leave events empty")
        names.append(name)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"events list {dup} more than once; fix: keep one of each")
    return v


class Case(_Strict):
    """A complete dispatch case."""

    name: str = Field(min_length=1, max_length=200, description="Case name (used in outputs).")
    horizon: Horizon
    market: Market
    load: Load
    bess: Bess
    gas_gen: GasGen
    poi: Poi
    transformer: Transformer
    reliability: Reliability
    solver: Solver = Solver()
    tariff: Tariff | None = Field(
        None, description="Transmission coincident-peak charge; absent: not priced."
    )
    operations: Operations = Field(
        Operations(),
        description="Dispatch policy: clairvoyant (perfect_foresight, the default) or causal "
        "(forecast).",
    )
    events: list[EventEntry] = Field(
        default_factory=list,
        max_length=MAX_EVENTS,
        description="Grid emergency events: names from the shipped ERCOT catalogue "
        "(resources_data/ercot/events/grid_emergencies.csv) and/or user-defined events; during "
        "each the net withdrawal is capped (a step partly inside counts as inside).",
    )

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[Any]) -> list[Any]:
        return _event_names(v)

    @field_validator("name")
    @classmethod
    def _printable_name(cls, v: str) -> str:
        # control, format (e.g. bidi overrides) and line-separator characters would reach
        # the terminal and file names raw
        if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for c in v):
            raise ValueError(
                "the name holds control or invisible characters; fix: use printable text"
            )
        return v

    @model_validator(mode="after")
    def _cross(self) -> Case:
        offered = {p.strip().upper() for p in self.market.reserve_products}
        missing = [p for p in self.load.reserves.products if p not in offered]
        if missing:
            raise ValueError(
                f"load.reserves.products {missing} are not in market.reserve_products "
                f"{sorted(offered)}: add them to market.reserve_products or remove them from "
                "load.reserves.products"
            )
        if self.reliability.ride_through_minutes > 0 and not self.bess.installed:
            raise ValueError(
                "reliability.ride_through_minutes > 0 needs a battery (bess.energy_mwh > 0 and "
                "bess.power_mw > 0: the stored energy must be dischargeable); set "
                "ride_through_minutes to 0 for a site without storage"
            )
        if self.events:
            _events_in_horizon(self)
        if self.operations.settlement == "two_settlement" and self.market.energy_market != "dam":
            raise ValueError(
                "operations.settlement 'two_settlement' settles the day-ahead position at DAM "
                "prices: it needs market.energy_market 'dam'; fix: set it or use settlement "
                "'day_ahead'"
            )
        return self


def _events_in_horizon(case: Case) -> None:
    from datetime import time as dtime

    tz = ZoneInfo(case.horizon.timezone)
    start = datetime.combine(case.horizon.start, dtime(0), tzinfo=tz)
    end = datetime.combine(case.horizon.end, dtime(0), tzinfo=tz)
    for i, ev in enumerate(resolve(case.events)):
        if not (ev.start_utc < end and ev.end_utc > start):
            raise ValueError(
                f"events[{i}] ({ev.name}, {ev.start_utc:%Y-%m-%d %H:%M}Z to "
                f"{ev.end_utc:%Y-%m-%d %H:%M}Z) lies outside the horizon {case.horizon.start} to "
                f"{case.horizon.end}; fix: move the horizon over it or drop the event"
            )


class CaseError(InputError):
    """A case file is unreadable or invalid; ``problems`` lists (json_path, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s)"]
        lines += [f"  {path}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines))


_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove it or check its spelling (see `dcpower schema`)",
    "finite_number": "give a finite number (NaN and Infinity are not allowed)",
    "float_type": "give a JSON number (not a string, not true/false)",
    "int_type": "give a whole JSON number (not a string, not true/false, not 2.0)",
    "bool_type": "give true or false",
    "string_type": "give a JSON string",
}


def _echo(value: Any) -> str | None:
    """A short, safe rendering of a rejected value (numbers, booleans, short strings only)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, str) and len(value) <= 40 and value.isprintable():
        return repr(value)
    return None


def _problems(exc: ValidationError, echo: bool = True) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) > 2 and loc[0] == "events" and loc[2] in _UNION_TAGS:
            loc = loc[:2] + loc[3:]
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(err["type"])
        shown = _echo(err.get("input")) if echo and err["type"] != "extra_forbidden" else None
        if shown is not None and err["type"] != "missing":
            msg += f" (got {shown})"
        out.append((path, f"{msg}; fix: {fix}" if fix else msg))
    return out


def case_from_dict(
    data: dict[str, Any],
    source: str = "<case>",
    base_dir: Path | None = None,
    *,
    echo_input: bool = True,
) -> Case:
    """Validate a case dict; relative file paths resolve against ``base_dir``.

    ``echo_input=False`` leaves rejected values out of the messages (the UI).
    """
    if not isinstance(data, dict):
        raise CaseError(source, [("$", "a case must be a JSON object")])
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise CaseError(source, _problems(exc, echo_input)) from None
    return resolve_paths(case, base_dir) if base_dir else case


def resolve_paths(case: Case, base_dir: Path) -> Case:
    """Return ``case`` with relative data-file paths made absolute against ``base_dir``."""

    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else (base_dir / p).resolve()

    market = case.market.model_copy(
        update={
            "price_file": fix(case.market.price_file),
            "reserve_price_file": fix(case.market.reserve_price_file),
        }
    )
    load = case.load.model_copy(update={"profile_file": fix(case.load.profile_file)})
    update: dict[str, Any] = {"market": market, "load": load}
    ops = case.operations
    if ops.forecast_file is not None or ops.realtime_price_file is not None:
        update["operations"] = ops.model_copy(
            update={
                "forecast_file": fix(ops.forecast_file),
                "realtime_price_file": fix(ops.realtime_price_file),
            }
        )
    if case.tariff is not None:
        update["tariff"] = case.tariff.model_copy(
            update={"intervals_file": fix(case.tariff.intervals_file)}
        )
    return case.model_copy(update=update)


def input_files(case: Case) -> list[tuple[str, Path]]:
    """(field, path) of every file the case names, found from the schema: each field typed
    ``Path`` in any section (so a new file field cannot be missed by output checks or roots)."""
    out: list[tuple[str, Path]] = []

    def walk(model: BaseModel, prefix: str) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, Path):
                out.append((f"{prefix}{name}", value))
            elif isinstance(value, BaseModel):
                walk(value, f"{prefix}{name}.")
            elif isinstance(value, list | tuple):
                for i, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        walk(item, f"{prefix}{name}[{i}].")
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, BaseModel):
                        walk(item, f"{prefix}{name}.{key}.")

    walk(case, "")
    return out


def _no_constant(name: str) -> float:
    # NaN / Infinity / -Infinity are not JSON; keep them as floats so the schema names the field
    return float(name.replace("Infinity", "inf"))


class _Pairs(dict):
    """A JSON object that remembers the keys it saw twice."""

    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = _Pairs()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj and key not in obj.duplicates:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _plain(node: Any, path: str, dups: list[tuple[str, str]]) -> Any:
    """Plain dicts/lists from the parsed tree; duplicate keys reported with their path."""
    if isinstance(node, dict):
        for key in getattr(node, "duplicates", []):
            dups.append(
                (
                    f"{path}.{key}",
                    "duplicate key: the object lists it more than once; fix: keep one",
                )
            )
        return {k: _plain(v, f"{path}.{k}", dups) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, f"{path}[{i}]", dups) for i, v in enumerate(node)]
    return node


def parse_json_text(raw: bytes, source: str) -> Any:
    """Strict JSON: UTF-8 (a BOM is allowed), no duplicate keys; raises CaseError.

    ``NaN``/``Infinity`` are parsed so that the schema can name the field they are in.
    """
    if len(raw) > MAX_CASE_FILE_BYTES:
        raise CaseError(
            source,
            [("$", f"file is larger than {MAX_CASE_FILE_BYTES} bytes; fix: give a case JSON")],
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseError(
            source,
            [
                (
                    "$",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    "fix: save the file as UTF-8",
                )
            ],
        ) from None
    try:
        data = json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise CaseError(
            source, [("$", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
        ) from None
    except RecursionError:
        raise CaseError(source, [("$", "JSON nested too deeply; fix: give a case JSON")]) from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise CaseError(
            source,
            [("$", f"a number cannot be read ({str(exc)[:80]}); fix: give numbers of normal size")],
        ) from None
    dups: list[tuple[str, str]] = []
    data = _plain(data, "$", dups)
    if dups:
        raise CaseError(source, dups)
    return data


def load_case(path: str | Path, *, echo_input: bool = True) -> Case:
    """Read and validate a case JSON file; raises CaseError naming every problem."""
    path = Path(path)
    try:
        check_input_file(path, "case")
    except InputError as exc:
        reason = str(exc).removeprefix("case: ").replace(": not found;", ": file not found;")
        raise CaseError(str(path), [("$", reason.replace("data file", "case JSON"))]) from None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaseError(
            str(path), [("$", f"cannot read the file ({exc.strerror}); fix: check permissions")]
        ) from None
    data = parse_json_text(raw, str(path))
    if not isinstance(data, dict):
        raise CaseError(str(path), [("$", "a case must be a JSON object")])
    return case_from_dict(data, source=str(path), base_dir=path.parent, echo_input=echo_input)


#: command-line option of each solver override (for messages)
SOLVER_OVERRIDE_OPTIONS = {
    "mip_rel_gap": "--mip-gap",
    "time_limit_s": "--time-limit",
    "threads": "--threads",
}


def with_solver_overrides(case: Case, source: str = "<overrides>", **overrides: Any) -> Case:
    """``case`` with solver options replaced, validated by the same schema as the case file.

    ``None`` values are ignored. Raises CaseError naming ``$.solver.<field>`` and the
    command-line option, e.g. ``$.solver.threads (--threads)``.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return case
    data = case.solver.model_dump()
    data.update(given)
    try:
        solver = Solver.model_validate(data)
    except ValidationError as exc:
        problems = []
        for path, msg in _problems(exc):
            field_name = path.removeprefix("$.").split(".")[0]
            option = SOLVER_OVERRIDE_OPTIONS.get(field_name)
            label = f"$.solver.{field_name}" + (f" ({option})" if option else "")
            problems.append((label, msg))
        raise CaseError(source, problems) from None
    return case.model_copy(update={"solver": solver})


def case_json_schema() -> dict[str, Any]:
    """JSON Schema of a case (what `dcpower schema` prints)."""
    return Case.model_json_schema()
