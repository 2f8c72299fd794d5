rule plot_frontier:
    """Cost-vs-reliability frontier (with a search: its path round by round and the chosen size
    per level), net value vs BESS, the frontier's revenue/cost stack and its assets' marginal
    values."""
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        frontier_png=report(f"{RESULTS}/plots/frontier.png", caption="../report/frontier.rst",
                            category="Frontier"),
        frontier_svg=f"{RESULTS}/plots/frontier.svg",
        net_png=report(f"{RESULTS}/plots/net_value_vs_bess.png",
                       caption="../report/net_value_vs_bess.rst", category="Sizing"),
        net_svg=f"{RESULTS}/plots/net_value_vs_bess.svg",
        stack_png=report(f"{RESULTS}/plots/cost_stack.png", caption="../report/cost_stack.rst",
                         category="Frontier"),
        stack_svg=f"{RESULTS}/plots/cost_stack.svg",
        marginal_png=report(f"{RESULTS}/plots/marginal_values.png",
                            caption="../report/marginal_values.rst", category="Sizing"),
        marginal_svg=f"{RESULTS}/plots/marginal_values.svg",
    params:
        metric=STUDY.reliability.frontier_metric,
        levels=list(STUDY.reliability.report_levels),
        search=search_params(),
    log:
        f"{RESULTS}/logs/plot_frontier.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_frontier.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/plot_frontier.py"


rule study_summary:
    """Short study summary: best scenario per reliability level, binding-constraint statistics;
    a search's chosen size per level, solves and the same-resolution grid's."""
    input:
        unpack(report_inputs),
    output:
        report(f"{RESULTS}/study_summary.md", caption="../report/study_summary.rst",
               category="Summary"),
    params:
        study_name=STUDY.study.name,
        market_label=STUDY.market.label(),
        reliability=section(STUDY.reliability),
        search=search_params(),
    log:
        f"{RESULTS}/logs/study_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/study_summary.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    localrule: True
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/study_summary.py"


if MULTI_YEAR:

    rule plot_years:
        """Each size across market years: mean cost vs mean metric, worst-best whiskers."""
        input:
            summary=f"{RESULTS}/summary.parquet",
        output:
            png=report(f"{RESULTS}/plots/frontier_years.png",
                       caption="../report/frontier_years.rst", category="Frontier"),
            svg=f"{RESULTS}/plots/frontier_years.svg",
        params:
            metric=STUDY.reliability.frontier_metric,
        log:
            f"{RESULTS}/logs/plot_years.log",
        benchmark:
            f"{RESULTS}/benchmarks/plot_years.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        localrule: True
        conda:
            "../envs/dcpower.yaml"
        script:
            "../../scripts/plot_years.py"


if HEADROOM:

    rule plot_headroom:
        """Interconnection headroom: limit (% of peak) vs annual curtailment per asset set, cost
        and curtailed hours, gas and curtailed energy; the limit at 0.25/0.5/1 % curtailment."""
        input:
            summary=f"{RESULTS}/summary.parquet",
        output:
            png=report(f"{RESULTS}/plots/headroom.png", caption="../report/headroom.rst",
                       category="Headroom"),
            svg=f"{RESULTS}/plots/headroom.svg",
            table=report(f"{RESULTS}/headroom_levels.csv", caption="../report/headroom.rst",
                         category="Headroom"),
        params:
            dims=DIMS,
        log:
            f"{RESULTS}/logs/plot_headroom.log",
        benchmark:
            f"{RESULTS}/benchmarks/plot_headroom.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        localrule: True
        conda:
            "../envs/dcpower.yaml"
        script:
            "../../scripts/plot_headroom.py"


rule study_report:
    """The study summary as one HTML page with the figures inline: the report's landing page
    (workflow/report/workflow.rst includes it)."""
    input:
        summary=f"{RESULTS}/study_summary.md",
        figures=expand(f"{RESULTS}/plots/{{plot}}.png", plot=PLOTS),
    output:
        report(f"{RESULTS}/study_summary.html", caption="../report/study_summary.rst",
               category="Summary"),
    log:
        f"{RESULTS}/logs/study_report.log",
    benchmark:
        f"{RESULTS}/benchmarks/study_report.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    localrule: True
    conda:
        "../envs/dcpower.yaml"
    script:
        "../../scripts/study_report.py"
