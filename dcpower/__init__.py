"""dcpower: planning and dispatch engine for data centers with grid, gas generation and BESS."""

__version__ = "0.1.0"
