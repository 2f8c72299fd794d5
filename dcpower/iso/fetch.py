"""Former location of ERCOT's annual-report fetcher, now :mod:`dcpower.iso.ercot.fetch`.

Kept so existing imports (``from dcpower.iso.fetch import ensure_year``) keep working.
"""

from dcpower.iso.ercot.fetch import (
    DEFAULT_SOURCE,
    MIS_DOWNLOAD_URL,
    REPORTS,
    FetchSource,
    ensure_year,
    fetch_prices_for_study,
)

__all__ = [
    "DEFAULT_SOURCE",
    "MIS_DOWNLOAD_URL",
    "REPORTS",
    "FetchSource",
    "ensure_year",
    "fetch_prices_for_study",
]
