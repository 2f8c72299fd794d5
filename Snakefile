# dcpower sizing sweep: config grid -> per-scenario dispatch MILP -> summary, xarray, frontier, report.
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

# The default study, unless the command line gives --configfile (then only that file counts,
# so a key missing there is reported instead of silently taken from the default study).
if not config:

    configfile: "config/config.yaml"


# YAML reads an unquoted 2016-07-10 as a date: treat it as the text it was written as
for _key in ("start", "end"):
    if hasattr(config.get("market", {}).get(_key), "isoformat"):
        config["market"][_key] = config["market"][_key].isoformat()

validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/retrieve.smk"
include: "workflow/rules/solve.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        f"{RESULTS}/summary.parquet",
        f"{RESULTS}/sweep.nc",
        expand(f"{RESULTS}/plots/{{plot}}.{{ext}}", plot=PLOTS, ext=["png", "svg"]),
        f"{RESULTS}/study_summary.md",
