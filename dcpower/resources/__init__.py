"""Resource models (load, BESS, gas units): parameters and derived quantities, no Pyomo."""
