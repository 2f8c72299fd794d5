"""``python -m dcpower.runner CASE --out R.json``: the same as ``dcpower run``."""

from __future__ import annotations

import sys

from dcpower.cli import main

sys.exit(main(["run", *sys.argv[1:]]))
