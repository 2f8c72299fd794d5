"""The one place shipped data is found: ``resources_data/`` (prices, loads, events, tariffs,
sites), for an editable and a non-editable install alike.

The package carries the data as ``dcpower/resources_data`` (in a checkout a link to the
top-level ``resources_data/``, in a wheel a copy), so the folder sits next to the code however it
was installed. ``DCPOWER_DATA_ROOT`` points elsewhere (a site's own data tree).
"""

from __future__ import annotations

import os
from pathlib import Path

#: environment variable naming another data root (same layout as ``resources_data/``)
ENV_VAR = "DCPOWER_DATA_ROOT"
_PACKAGED = Path(__file__).resolve().parent / "resources_data"
_CHECKOUT = Path(__file__).resolve().parents[1] / "resources_data"


def data_root() -> Path:
    """The shipped data folder (absolute, links resolved): ``$DCPOWER_DATA_ROOT``, else the
    package's ``resources_data`` (wheel or checkout), else the checkout's top-level folder."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    if _PACKAGED.is_dir():
        return _PACKAGED.resolve()
    return _CHECKOUT


#: the shipped data folder at import time (what the modules' defaults are built from)
SHIPPED_DATA_DIR = data_root()


def shipped(*parts: str) -> Path:
    """A path below the shipped data folder, e.g. ``shipped("ercot", "tariffs")``."""
    return SHIPPED_DATA_DIR.joinpath(*parts)
