# Sizing by search (dcpower.search): each round is a checkpoint whose output lists the round's
# sizes; its input is every scenario of the earlier rounds, solved by the ordinary solve rule.
# A round that lists no sizes ends the search. Rounds and scenarios are files: a rerun solves
# nothing new, and a killed search resumes where it stopped.
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
