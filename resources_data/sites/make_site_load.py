"""Write ``site_load_2024_houston_cooling.csv.gz``: a synthetic hourly data-center load for 2024
whose cooling follows the ERCOT Houston forecast zone's load (the headroom study's site).

Model: load(t) = PEAK_MW × (BASE_FRACTION + (1 − BASE_FRACTION) × s(t)), s(t) the Houston
zone load of ``resources_data/ercot/load_hourly_2024.csv.gz`` scaled to [0, 1] over the year
(min → 0, max → 1). The site draws BASE_FRACTION of its peak at all times (IT load and the
cooling it always needs) and the rest with the weather, for which the zone load (air
conditioning of a Houston-sized city) is the proxy: a stated assumption, not a metered
data-center profile. Peak = PEAK_MW exactly, at the zone's peak hour. Deterministic; run from
the repository root:
``.venv/bin/python resources_data/sites/make_site_load.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "ercot" / "load_hourly_2024.csv.gz"
TARGET = HERE / "site_load_2024_houston_cooling.csv.gz"
PEAK_MW = 120.0
BASE_FRACTION = 0.8


def site_load(zone: pd.DataFrame) -> pd.DataFrame:
    """``timestamp`` (UTC interval start, ISO 8601 with Z) and ``load_mw`` from the zone load."""
    h = zone["houston_mw"].astype(float)
    s = (h - h.min()) / (h.max() - h.min())
    mw = PEAK_MW * (BASE_FRACTION + (1.0 - BASE_FRACTION) * s)
    return pd.DataFrame({"timestamp": zone["interval_start_utc"], "load_mw": mw.round(4)})


def main() -> None:
    out = site_load(pd.read_csv(SOURCE))
    out.to_csv(TARGET, index=False, compression={"method": "gzip", "mtime": 0})


if __name__ == "__main__":
    main()
