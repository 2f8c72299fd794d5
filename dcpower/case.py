"""The case schema: one source of truth for a dispatch case, units in every field name.

A case describes one data-center site over one horizon. ``Case.model_json_schema()`` is what
``dcpower schema`` prints; :func:`load_case` turns a JSON file into a validated :class:`Case` or
raises :class:`CaseError` listing every problem with its JSON path and the fix.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Horizon(_Strict):
    """Days modelled: ``start`` (inclusive) to ``end`` (exclusive), local dates in ``timezone``."""

    start: date = Field(description="First local day modelled (inclusive), YYYY-MM-DD.")
    end: date = Field(description="Local day after the last modelled day (exclusive), YYYY-MM-DD.")
    timestep_minutes: int = Field(60, description="Model timestep in minutes: 5, 15, 30 or 60.")
    timezone: str = Field("America/Chicago", description="IANA zone of the local dates.")

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
        return self


class ReserveProductOverride(_Strict):
    """Per-case override of one catalogue entry; unset fields keep the ISO default."""

    direction: Literal["up", "down"] | None = None
    duration_h: float | None = Field(None, gt=0, description="Hours storage must sustain, h.")
    eligible_resources: list[Literal["gen", "bess"]] | None = None
    deployment_minutes: float | None = Field(
        None, gt=0, le=240, description="Time to deliver the full award after deployment, min."
    )
    offline_gen_eligible: bool | None = Field(
        None,
        description="Offline gas units that can start and ramp within the deployment "
        "time may carry the product (ERCOT: Non-Spin).",
    )


class Market(_Strict):
    """Where energy is bought/sold and which reserves are offered."""

    iso: str = Field("ercot", description="ISO adapter name (built-in: 'ercot').")
    settlement_point: str = Field(description="Settlement point, e.g. 'HB_NORTH'.")
    energy_market: Literal["dam", "rtm"] = Field("dam", description="Day-ahead or real-time.")
    reserve_products: list[str] = Field(
        description="Reserve products offered; [] means explicitly none (e.g. years without "
        "AS prices)."
    )
    export_price_adder_usd_per_mwh: float = Field(
        0.0, description="Added to the energy price for exports, $/MWh (negative = haircut)."
    )
    price_file: Path | None = Field(
        None, description="Energy price file (CSV/Parquet, tidy or ISO native); default shipped."
    )
    reserve_price_file: Path | None = Field(
        None, description="Reserve price file; default shipped."
    )
    fill_policy: Literal["error", "ffill", "interpolate"] = Field(
        "error", description="What to do with missing price intervals; default: error."
    )
    max_fill_steps: int = Field(4, ge=0, description="Longest gap a fill policy may fill, steps.")
    reserve_catalogue_overrides: dict[str, ReserveProductOverride] = Field(
        default_factory=dict, description="Per-product overrides of the ISO reserve catalogue."
    )

    @field_validator("reserve_products")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("reserve products must be listed once each")
        return v


class Load(_Strict):
    """Data-center load: a flat MW value or a profile file, split into priority segments.

    Segments: critical (``critical_fraction``, VoLL ``reliability.voll_critical_usd_per_mwh``),
    flexible (``flexible_fraction``, curtailable at ``flexible_curtailment_usd_per_mwh``), and the
    rest, non-critical firm load at ``reliability.voll_noncritical_usd_per_mwh``.
    """

    profile_mw: float | None = Field(None, ge=0, description="Flat load, MW.")
    profile_file: Path | None = Field(
        None, description="CSV/Parquet with a timestamp column and a MW column."
    )
    profile_column: str = Field("load_mw", description="Column of profile_file holding MW.")
    profile_timestamp_column: str = Field(
        "timestamp", description="Column of profile_file holding ISO 8601 times (with offset/UTC)."
    )
    critical_fraction: float = Field(ge=0, le=1, description="Share of load that is critical, -.")
    flexible_fraction: float = Field(0.0, ge=0, le=1, description="Curtailable share, -.")
    flexible_curtailment_usd_per_mwh: float = Field(
        500.0, ge=0, description="Cost of curtailing flexible load, $/MWh."
    )
    power_factor: float = Field(0.95, gt=0, le=1, description="Load power factor (lagging), -.")

    @model_validator(mode="after")
    def _source_and_split(self) -> Load:
        if (self.profile_mw is None) == (self.profile_file is None):
            raise ValueError("give exactly one of load.profile_mw or load.profile_file")
        if self.critical_fraction + self.flexible_fraction > 1 + 1e-12:
            raise ValueError("critical_fraction + flexible_fraction must not exceed 1")
        return self


class Bess(_Strict):
    """Battery: PCS power, energy, efficiencies and SOC limits."""

    power_mw: float = Field(ge=0, description="Charge/discharge power limit, MW.")
    energy_mwh: float = Field(ge=0, description="Usable nameplate energy, MWh.")
    charge_efficiency: float = Field(0.95, gt=0, le=1, description="One-way charge efficiency.")
    discharge_efficiency: float = Field(0.95, gt=0, le=1, description="One-way discharge eff.")
    soc_min_fraction: float = Field(0.0, ge=0, le=1, description="Physical SOC minimum, -.")
    soc_max_fraction: float = Field(1.0, ge=0, le=1, description="Physical SOC maximum, -.")
    soc_initial_fraction: float = Field(0.5, ge=0, le=1, description="SOC at horizon start, -.")
    soc_final_min_fraction: float | None = Field(
        None, ge=0, le=1, description="SOC at horizon end at least this; default = initial."
    )
    pcs_mva: float = Field(ge=0, description="Power-conversion-system apparent power rating, MVA.")
    market_soc_reserve_mwh: float = Field(
        0.0, ge=0, description="Energy held back from market use above the physical minimum, MWh."
    )
    degradation_cost_usd_per_mwh: float = Field(
        DEFAULT_DEGRADATION_USD_PER_MWH,
        ge=0,
        description="Wear cost per MWh of throughput (charge + discharge), $/MWh. Default 10: "
        "cell replacement ≈ 120 $/kWh over ≈ 6,000 full cycles (2 MWh of throughput per MWh "
        "of capacity and cycle) = 120,000 / 12,000; set your own from the cell warranty. "
        "0 makes cycling free.",
    )

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

    units: int = Field(ge=0, description="Installed units.")
    unit_mw: float = Field(ge=0, description="Rated output of one unit, MW.")
    min_stable_fraction: float = Field(0.4, ge=0, le=1, description="Min stable output, -.")
    start_delay_minutes: float = Field(
        10.0, ge=0, description="Time from start command to first output, minutes."
    )
    ramp_mw_per_min: float = Field(gt=0, description="Ramp rate of one unit, MW/min.")
    fuel_cost_usd_per_mwh: float = Field(ge=0, description="Fuel + variable O&M, $/MWh.")
    start_cost_usd: float = Field(0.0, ge=0, description="Cost of one start, $.")
    min_power_factor: float = Field(0.8, gt=0, le=1, description="Min PF at the terminals, -.")
    initial_units_online: int = Field(0, ge=0, description="Units producing at horizon start.")
    rated_power_factor: float = Field(
        DEFAULT_GEN_RATED_PF,
        gt=0,
        le=1,
        description="Nameplate PF of one unit: unit MVA = unit_mw / rated_power_factor, -. "
        "Default 0.8 (NEMA MG 1 / IEEE C50.13 synchronous generators).",
    )

    @model_validator(mode="after")
    def _initial(self) -> GasGen:
        if self.initial_units_online > self.units:
            raise ValueError("initial_units_online must not exceed units")
        return self


class Poi(_Strict):
    """Point of interconnection: MW caps and minimum power factor of the exchange."""

    import_limit_mw: float = Field(ge=0, description="Maximum import, MW.")
    export_limit_mw: float = Field(ge=0, description="Maximum export, MW.")
    min_power_factor: float = Field(0.95, gt=0, le=1, description="Min PF of the exchange, -.")
    power_factor_rule: Literal["penalty", "hard"] = Field(
        "penalty",
        description="'penalty': reactive power beyond the PF limit is allowed at "
        "excess_reactive_cost_usd_per_mvarh (as a utility bills it); 'hard': never.",
    )
    excess_reactive_cost_usd_per_mvarh: float = Field(
        DEFAULT_EXCESS_REACTIVE_USD_PER_MVARH,
        ge=0,
        description="Cost of MVArh at the POI beyond the PF limit, $/MVArh (default 10: an "
        "assumption, not a tariff figure; set your utility's).",
    )


class Transformer(_Strict):
    """Main step-down transformer between POI and the site bus."""

    rating_mva: float = Field(gt=0, description="Apparent power rating, MVA.")
    polygon_facets: int = Field(
        16, ge=4, le=128, description="Facets K of the inscribed polygon for MVA circles."
    )


class Reliability(_Strict):
    """Value of lost load, ride-through and N+1."""

    voll_critical_usd_per_mwh: float = Field(ge=0, description="VoLL of critical load, $/MWh.")
    voll_noncritical_usd_per_mwh: float = Field(
        2000.0, ge=0, description="VoLL of non-critical, non-flexible load, $/MWh."
    )
    ride_through_minutes: float = Field(
        0.0, ge=0, description="Minutes the BESS must carry critical load alone, minutes."
    )
    n_plus_1: bool = Field(True, description="Enforce islanded N+1 for the critical load.")


class Solver(_Strict):
    """HiGHS options."""

    mip_rel_gap: float = Field(1e-3, ge=0, le=1, description="Relative MIP gap, -.")
    time_limit_s: float = Field(300.0, gt=0, description="Wall-clock limit, s.")
    threads: int = Field(1, ge=1, description="HiGHS threads.")
    relax_integrality: bool = Field(False, description="Solve the LP relaxation instead.")
    method: Literal["auto", "monolithic", "rolling_horizon"] = Field(
        "auto",
        description="monolithic: one MILP; rolling_horizon: windows with look-ahead; auto: "
        "monolithic up to 14 days, rolling beyond.",
    )
    window_days: int = Field(7, ge=1, description="Rolling-horizon window kept per solve, days.")
    lookahead_days: int = Field(1, ge=0, description="Rolling-horizon look-ahead, days.")
    selective_binaries: bool = Field(
        True,
        description="Battery-mode and grid-direction binaries only at steps where a relaxed "
        "solution is simultaneous (same optimum, fewer binaries); false: binaries everywhere.",
    )


class Case(_Strict):
    """A complete dispatch case."""

    name: str = Field(min_length=1, description="Case name (used in outputs).")
    horizon: Horizon
    market: Market
    load: Load
    bess: Bess
    gas_gen: GasGen
    poi: Poi
    transformer: Transformer
    reliability: Reliability
    solver: Solver = Solver()

    @model_validator(mode="after")
    def _cross(self) -> Case:
        if self.reliability.ride_through_minutes > 0 and self.bess.energy_mwh == 0:
            raise ValueError(
                "reliability.ride_through_minutes > 0 needs a battery (bess.energy_mwh > 0); "
                "set ride_through_minutes to 0 for a site without storage"
            )
        return self


class CaseError(ValueError):
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
}


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(err["type"])
        if err["type"] not in _FIXES and "input" in err and not isinstance(err["input"], dict):
            msg += f" (got {err['input']!r})"
        out.append((path, f"{msg}; fix: {fix}" if fix else msg))
    return out


def case_from_dict(
    data: dict[str, Any], source: str = "<case>", base_dir: Path | None = None
) -> Case:
    """Validate a case dict; relative file paths resolve against ``base_dir``."""
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise CaseError(source, _problems(exc)) from None
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
    return case.model_copy(update={"market": market, "load": load})


def load_case(path: str | Path) -> Case:
    """Read and validate a case JSON file; raises CaseError naming every problem."""
    path = Path(path)
    if not path.is_file():
        raise CaseError(str(path), [("$", "file not found; fix: check the path")])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CaseError(
            str(path), [("$", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
        ) from None
    if not isinstance(data, dict):
        raise CaseError(str(path), [("$", "a case must be a JSON object")])
    return case_from_dict(data, source=str(path), base_dir=path.parent)


def case_json_schema() -> dict[str, Any]:
    """JSON Schema of a case (what `dcpower schema` prints)."""
    return Case.model_json_schema()
