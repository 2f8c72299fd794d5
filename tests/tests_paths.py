"""Paths shared by tests that do not use conftest fixtures."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "cases" / "example_ercot.json"
