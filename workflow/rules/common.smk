# Helpers only: scenario space, paths and cross-key checks.
import json
import sys

import pandas as pd
from snakemake.utils import Paramspace

sys.path.insert(0, workflow.basedir)  # import dcpower from this checkout even without install

from dcpower import sweep as _sweep

RESULTS = f"results/{config['study']['name']}"
PLOTS = ["frontier", "net_value_vs_bess", "cost_stack"]
SCENARIOS = Paramspace(_sweep.scenario_grid(config))  # bess_mwh~400/gen_units~4/…
RES = config.get("resources", {})
# What one scenario's solve depends on: everything but the grid lists, so that adding a grid
# value does not change existing scenarios' params (Snakemake reruns jobs whose params change).
SCENARIO_CONFIG = {k: v for k, v in config.items() if k not in ("grid", "resources")}
SCENARIO_CONFIG["grid"] = {
    k: v for k, v in config["grid"].items() if k not in ("bess_mwh", "gen_units", "transformer_mva")
}
# Key order canonical too: params are compared as text, so a re-saved YAML with the same
# content in another order must not look like a change.
SCENARIO_CONFIG = json.loads(json.dumps(SCENARIO_CONFIG, sort_keys=True))


# Pre-flight, before any job (dry runs too): dates, windows inside every market year, the base
# case and every scenario case, and each year's market data and load; all problems together.
_PROBLEMS = _sweep.check_config(config, Path(f"resources_data/{config['market']['iso'].lower()}"))
if _PROBLEMS:
    raise ValueError(
        f"config: the study cannot run ({len(_PROBLEMS)} problem(s)):\n  " + "\n  ".join(_PROBLEMS)
    )


def scenario_sizes(wildcards):
    """Sizes of the scenario named by the wildcards, as numbers."""
    dims = _sweep.grid_dims(config)
    return _sweep.parse_scenario_name(_sweep.scenario_name(dict(wildcards), dims))
