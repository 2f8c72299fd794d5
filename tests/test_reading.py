"""Binding constraints in words: every family has a statement and a reading from the registry."""

from __future__ import annotations

from dcpower import reading
from dcpower.optimization.components import REGISTRY
from dcpower.optimization.dispatch_milp import CONSTRAINT_FAMILIES


def test_every_family_has_a_statement_and_a_reading():
    for family, statement in CONSTRAINT_FAMILIES.items():
        assert reading.family_statement(family) == statement and statement
        assert reading.family_reading(family), family
    # every component that owns families has its own reading (a new one cannot be half-known)
    assert {c.name for c in REGISTRY if c.families} <= set(reading.COMPONENT_READINGS)


def test_readings_point_at_the_owning_asset():
    assert reading.family_component("transformer_mva") == "transformer"
    assert "transformer" in reading.family_reading("transformer_mva")
    assert "N+1" in reading.family_reading("n_plus_1")
    assert reading.family_reading("power_balance") == reading.BALANCE_READING
    assert reading.family_reading("no_such_family") == ""


def test_family_readings_name_existing_families():
    assert set(reading.FAMILY_READINGS) <= set(CONSTRAINT_FAMILIES)
    assert "BESS energy" in reading.family_reading("reserve_energy_up")
