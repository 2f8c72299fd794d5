"""ERCOT's shipped and cached tidy files: which files hold a report kind and their parsed
tables (read by the adapter and by the annual-report fetcher)."""

from __future__ import annotations

from pathlib import Path

from dcpower.iso.cache import TidyTable as _Table
from dcpower.iso.cache import find_files, load_tidy, load_tidy_cached
from dcpower.iso.ercot.parsers import canonical_service

_FILE_PATTERNS: dict[str, tuple[str, ...]] = {
    "dam": ("dam_spp_hourly_*.csv.gz", "dam_spp_hourly_*.csv", "dam_spp_hourly_*.parquet"),
    "rtm": ("rtm_spp_15min_*.csv.gz", "rtm_spp_15min_*.csv", "rtm_spp_15min_*.parquet"),
    "as": ("as_mcpc_hourly_*.csv.gz", "as_mcpc_hourly_*.csv", "as_mcpc_hourly_*.parquet"),
}

#: the per-process cache of parsed tidy files (shared with the other adapters)
_load_shipped_cached = load_tidy_cached


def _load_shipped(path: Path, kind: str) -> _Table:
    """A shipped/cached tidy ERCOT file (``kind``: "dam", "rtm" or "as"), parsed once."""
    if kind == "as":
        return load_tidy(
            path, "service", "mcpc_usd_per_mw", key_map=canonical_service, what="shipped ERCOT"
        )
    return load_tidy(path, "settlement_point", "price_usd_per_mwh", what="shipped ERCOT")


def _shipped_files(data_dir: Path, kind: str) -> list[Path]:
    return find_files(data_dir, _FILE_PATTERNS[kind])
