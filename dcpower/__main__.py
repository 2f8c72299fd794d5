"""``python -m dcpower`` runs the CLI."""

import sys

from dcpower.cli import main

sys.exit(main())
