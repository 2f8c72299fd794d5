"""A third-party ISO plug-in as a user would write it: registered through the entry-point group
``dcpower.iso`` (``toyiso = toy_iso:ToyIsoAdapter``), no change to dcpower itself.

"Toy ISO" publishes one semicolon-separated file per market: ``time_utc;node;lmp`` ($/MWh,
hourly) and ``time_utc;ffr`` (fast frequency response, $/MW per hour). Its only reserve product,
FFR, is this plug-in's own catalogue. The shared time-grid code does resampling and gap checks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dcpower.iso import MarketData, MarketDataError, MarketRequest, ReserveProduct
from dcpower.iso.tidy import numeric_column, parse_utc
from dcpower.iso.timegrid import (
    SeriesSpec,
    fill_and_check,
    fmt_utc,
    to_model_grid,
    validate_request,
)

FFR = ReserveProduct(
    "FFR", "up", 0.25, ("bess",), "Toy ISO market rules 4.2 (test plug-in)", deployment_minutes=1.0
)


def _read(path: Path | None, columns: list[str]) -> pd.DataFrame:
    if path is None or not Path(path).is_file():
        raise MarketDataError(f"toyiso: price file {path} missing; set market.price_file.")
    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MarketDataError(f"{path}: missing column(s) {missing}; Toy ISO layout expected.")
    df.index = parse_utc(df["time_utc"], str(path), "time_utc")
    return df


class ToyIsoAdapter:
    name = "toyiso"

    def settlement_points(self, data_dir: Path | None = None) -> list[str]:
        return ["TOY_HUB"]

    def reserve_catalogue(self) -> dict[str, ReserveProduct]:
        return {"FFR": FFR}

    def load_market_data(self, request: MarketRequest) -> MarketData:
        start, end = validate_request(request)
        step, filled = request.timestep_minutes, []

        def grid(series: pd.Series, key: str, path: Path) -> pd.Series:
            window = to_model_grid(series, 60, start, end, step)
            return fill_and_check(
                window, start, end, request, SeriesSpec(key, key, [path.name]), filled
            )

        energy_df = _read(request.price_file, ["time_utc", "node", "lmp"])
        energy_df = energy_df[energy_df["node"] == request.settlement_point]
        lmp = pd.Series(numeric_column(energy_df["lmp"], "lmp", "lmp"), index=energy_df.index)
        energy = grid(lmp, "energy", Path(request.price_file))
        reserve = pd.DataFrame(index=energy.index)
        products = [p.upper() for p in request.reserve_products]
        if any(p != "FFR" for p in products):
            raise MarketDataError(
                f"market.reserve_products: Toy ISO offers only FFR, not {products}."
            )
        if products:
            ffr_df = _read(request.reserve_price_file, ["time_utc", "ffr"])
            ffr = pd.Series(numeric_column(ffr_df["ffr"], "ffr", "ffr"), index=ffr_df.index)
            reserve["FFR"] = grid(ffr, "FFR", Path(request.reserve_price_file))
        files = [p for p in (request.price_file, request.reserve_price_file) if p is not None]
        return MarketData(
            energy_price_usd_per_mwh=energy.rename("energy_price_usd_per_mwh"),
            reserve_price_usd_per_mw_h=reserve,
            reserve_products={p: FFR for p in products},
            provenance={
                "iso": self.name,
                "start_utc": fmt_utc(start),
                "end_utc": fmt_utc(end),
                "files": [{"role": "prices", "path": str(p)} for p in files],
                "filled_intervals": filled,
            },
        )
