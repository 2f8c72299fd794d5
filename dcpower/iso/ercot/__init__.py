"""ERCOT: native report parsers (:mod:`.parsers`), the adapter and its reserve catalogue
(:mod:`.adapter`) and the opt-in annual-report fetcher (:mod:`.fetch`).

The shared time-grid code lives in :mod:`dcpower.iso.timegrid`, the tidy readers in
:mod:`dcpower.iso.tidy` and the tidy-file cache in :mod:`dcpower.iso.cache`. The names below are
the module's former public API (``from dcpower.iso.ercot import ...`` keeps working).
"""

from dcpower.iso.base import apply_catalogue_overrides
from dcpower.iso.ercot.adapter import (
    DEFAULT_DATA_DIR,
    ErcotAdapter,
    ercot_reserve_catalogue,
)
from dcpower.iso.ercot.parsers import (
    AS_SERVICES,
    ERCOT_TZ,
    parse_as_mcpc_native,
    parse_dam_spp_native,
    parse_gridstatus_csv,
    parse_rtm_spp_native,
    read_price_file,
    read_reserve_price_file,
    read_tidy_as_mcpc,
    read_tidy_spp,
)
from dcpower.iso.ercot.shipped import _load_shipped, _load_shipped_cached, _shipped_files
from dcpower.iso.timegrid import SUPPORTED_TIMESTEPS_MINUTES

__all__ = [
    "AS_SERVICES",
    "DEFAULT_DATA_DIR",
    "ERCOT_TZ",
    "SUPPORTED_TIMESTEPS_MINUTES",
    "ErcotAdapter",
    "_load_shipped",
    "_load_shipped_cached",
    "_shipped_files",
    "apply_catalogue_overrides",
    "ercot_reserve_catalogue",
    "parse_as_mcpc_native",
    "parse_dam_spp_native",
    "parse_gridstatus_csv",
    "parse_rtm_spp_native",
    "read_price_file",
    "read_reserve_price_file",
    "read_tidy_as_mcpc",
    "read_tidy_spp",
]
