"""The only package that imports Pyomo: model building, HiGHS solve, explainability."""
