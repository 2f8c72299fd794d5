# dcpower sizing sweep: config grid -> per-scenario dispatch MILP -> summary, xarray, frontier, report.
from snakemake.utils import min_version

min_version("9.27")  # the pinned release; solve.smk's priority function needs a recent 9.x


# The default study, unless the command line gives --configfile (then only that file counts,
# so a key missing there is reported instead of silently taken from the default study).
if not config:

    configfile: "config/config.yaml"


# The config is validated by the dcpower.study.StudyConfig model in common.smk, before the DAG
# is built: types, bounds and cross-field checks, then the pre-flight on the shipped data.
include: "workflow/rules/common.smk"


# The report opens on the study summary (rendered HTML, figures inline).
report: "workflow/report/workflow.rst"

include: "workflow/rules/retrieve.smk"
include: "workflow/rules/solve.smk"


if SEARCH:

    include: "workflow/rules/search.smk"


include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        f"{RESULTS}/summary.parquet",
        f"{RESULTS}/sweep.nc",
        expand(f"{RESULTS}/plots/{{plot}}.{{ext}}", plot=PLOTS, ext=["png", "svg"]),
        f"{RESULTS}/study_summary.md",
        f"{RESULTS}/study_summary.html",
        [f"{RESULTS}/headroom_levels.csv"] if HEADROOM else [],
