# Helpers only: the validated study config, the scenario space, paths and params helpers.
import json as _json
import sys
from pathlib import Path

from snakemake.utils import Paramspace

sys.path.insert(0, workflow.basedir)  # import dcpower from this checkout even without install

from dcpower import sweep as _sweep
from dcpower.study import DATA_ROOT, StudyConfigError, config_file_problems
from dcpower.sweep import load_checked_study

# Validation and pre-flight, before any job (dry runs too): types and bounds, dates and windows
# in every market year, reserve products, ISO adapter, frontier metric, the base case and every
# scenario case, and each year's market data and load; all problems together, each naming its
# key and what is allowed.
# The config files themselves first: a key given twice would silently keep the last value.
_FILE_PROBLEMS = config_file_problems(workflow.configfiles)
if _FILE_PROBLEMS:
    raise WorkflowError(str(StudyConfigError(_FILE_PROBLEMS)))
try:
    STUDY = load_checked_study(config)
except StudyConfigError as _exc:
    raise WorkflowError(str(_exc)) from None

RESULTS = f"results/{STUDY.study.name}"
PLOTS = ["frontier", "net_value_vs_bess", "cost_stack", "marginal_values"]
DATA_DIR = str(DATA_ROOT / STUDY.market.iso)
# the market's shipped data folder and files (prices, events, tariffs) as rule inputs, so editing
# one reruns the rules that read it (READMEs left out); none for a market without shipped data
SHIPPED_INPUTS = (
    {
        "data_dir": DATA_DIR,
        "shipped": sorted(
            str(p) for p in Path(DATA_DIR).rglob("*") if p.is_file() and p.suffix != ".md"
        ),
    }
    if Path(DATA_DIR).is_dir()
    else {}
)


def shipped_inputs(wildcards):
    """Named inputs: the market's shipped data folder and files (see SHIPPED_INPUTS)."""
    return SHIPPED_INPUTS


DIMS = _sweep.grid_dims(STUDY.market, STUDY.optional_dims())
# several market years: each size across years (worst/mean/best) in a plot of its own
MULTI_YEAR = _sweep.YEAR_DIM in DIMS
if MULTI_YEAR:
    PLOTS.append("frontier_years")
# a POI import limit dimension: the interconnection headroom curve in a plot of its own
HEADROOM = _sweep.headroom.DIM in DIMS
if HEADROOM:
    PLOTS.append("headroom")
SCENARIOS = Paramspace(_sweep.scenario_grid(STUDY))  # bess_mwh~400/gen_units~4/…
# sizing by search (workflow/rules/search.smk): the scenarios come from the search's rounds
SEARCH = STUDY.search is not None


def section(model):
    """A config section as params of a rule (plain values in the model's key order, so a re-saved
    YAML with the same content in another order is no change: params compare as text)."""
    return model.model_dump(mode="json")


# What one scenario's solve depends on besides its sizes (no grid lists, no resources, no
# frontier/report settings): adding a grid value or editing those reruns no existing scenario.
SCENARIO = STUDY.scenario_settings()
# refine the ties that decide the frontier or a per-level choice (refine.mip_rel_gaps)
REFINE = bool(STUDY.refine.mip_rel_gaps)


def scenario_sizes(wildcards):
    """Sizes of the scenario named by the wildcards (numbers; the event as its name)."""
    return _sweep.parse_scenario_name(_sweep.scenario_name(dict(wildcards), DIMS))


def scenario_priority(wildcards):
    """Scenario jobs expected to take longest run first (``dcpower.sweep.solve_priority``)."""
    return _sweep.solve_priority(scenario_sizes(wildcards))


def scenario_prices(wildcards):
    """The retrieved prices of the scenario's market year."""
    year = _sweep.study_year(STUDY.market, scenario_sizes(wildcards))
    return f"{RESULTS}/prices/prices_{year}.json"


# ------------------------------------------------------------------------------------------
# Sizing by search (workflow/rules/search.smk): each round is a checkpoint whose output lists
# the round's sizes; its input is every scenario of the earlier rounds. A round that lists no
# sizes ends the search.
# ------------------------------------------------------------------------------------------
SEARCH_DIR = f"{RESULTS}/search"
SEARCH_YEARS = STUDY.market.years if _sweep.YEAR_DIM in DIMS else [None]


def _round_sizes(round_no):
    """The sizes a finished round lists (Snakemake waits for the checkpoint)."""
    path = checkpoints.search_round.get(round=str(round_no)).output.round
    with open(path, encoding="utf-8") as fh:
        return _json.load(fh)["sizes"]


def _summaries_of(sizes_list):
    """summary.json of every scenario of the sizes (one per market year)."""
    out = []
    for sizes in sizes_list:
        for year in SEARCH_YEARS:
            full = dict(sizes) if year is None else {**sizes, _sweep.YEAR_DIM: year}
            out.append(f"{RESULTS}/scenarios/{_sweep.scenario_name(full, DIMS)}/summary.json")
    return out


def search_inputs_before(wildcards):
    """Round files and scenario summaries of every round before this one."""
    rounds, summaries = [], []
    for r in range(int(wildcards.round)):
        rounds.append(f"{SEARCH_DIR}/round_{r}.json")
        summaries += _summaries_of(_round_sizes(r))
    return {"rounds": rounds, "summaries": summaries}


def search_all(wildcards):
    """Every round up to the first that lists no sizes, and all their scenario summaries."""
    rounds, summaries, r = [], [], 0
    while True:
        sizes = _round_sizes(r)
        rounds.append(f"{SEARCH_DIR}/round_{r}.json")
        if not sizes:
            return {"rounds": rounds, "summaries": summaries}
        summaries += _summaries_of(sizes)
        r += 1


def aggregate_inputs(wildcards):
    """The grid's scenario summaries, or the search's (with its round files)."""
    if SEARCH:
        return search_all(wildcards)
    return {
        "summaries": expand(
            f"{RESULTS}/scenarios/{{params}}/summary.json", params=SCENARIOS.instance_patterns
        )
    }


def search_params():
    """What the summary and frontier rules use of a search (None for a grid study)."""
    if not SEARCH:
        return None
    return {"search": section(STUDY.search), "duration_h": STUDY.grid.bess_duration_h}


def report_inputs(wildcards):
    """summary.parquet, and a search's round files."""
    out = {"summary": f"{RESULTS}/summary.parquet"}
    if SEARCH:
        out["rounds"] = search_all(wildcards)["rounds"]
    return out
