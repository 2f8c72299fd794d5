# Sizing by search (dcpower.search): each round is a checkpoint whose output lists the round's
# sizes; its input is every scenario of the earlier rounds, solved by the ordinary solve rule.
# A round that lists no sizes ends the search. Rounds and scenarios are files: a rerun solves
# nothing new, and a killed search resumes where it stopped.
import json as _json

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


checkpoint search_round:
    """Round N of the search: its sizes from every scenario solved in rounds 0..N-1."""
    input:
        unpack(search_inputs_before),
    output:
        round=f"{SEARCH_DIR}/round_{{round}}.json",
    wildcard_constraints:
        round=r"\d+",
    params:
        search=section(STUDY.search),
        reliability=section(STUDY.reliability),
        duration_h=STUDY.grid.bess_duration_h,
        n_years=len(SEARCH_YEARS),
    log:
        f"{RESULTS}/logs/search_round_{{round}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/search_round.py"
