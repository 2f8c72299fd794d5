"""Electrical topology: POI, transformer and PCS screening (MW, MVA, PF, Q) — plain numpy."""
