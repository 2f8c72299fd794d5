"""Logging set-up for workflow scripts and the CLI: INFO to a log file and stderr."""

from __future__ import annotations

import logging
from pathlib import Path


def configure_logging(log_path: str | None = None) -> logging.Logger:
    """Log INFO and above to ``log_path`` (if given) and stderr; returns the workflow logger."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path))
    logging.basicConfig(
        level=logging.INFO,
        handlers=handlers,
        force=True,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    return logging.getLogger("dcpower.workflow")
