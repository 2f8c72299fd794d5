"""The forecast policy against the clairvoyant run of the same case (run by hand).

For each size of a study's grid (default: the default study's eight, full year 2024) it solves
the scenario's case with ``operations.policy`` ``perfect_foresight`` and then ``forecast``,
each in a fresh child process, and prints one row per size: the wall time of each and their
ratio (target: the forecast year ≤ 3× the clairvoyant one) and the same for the child's CPU
time (user + system: on a shared machine the fairer comparison), both net values, the foresight
premium ($ and % of the clairvoyant value's magnitude) in total and per group (energy =
BESS arbitrage + gas dispatch + imports, AS, 4CP).

Usage: ``python benchmarks/forecast_policy.py [--config config/config.yaml] [--days N]
[--sizes 400/6/160 ...] [--forecast same_hour_median_7d] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from datetime import timedelta
from dcpower.case import load_case
from dcpower.runner import run_case
from dcpower.study import load_study_config
from dcpower import sweep
cfg, sizes, policy, forecast, days = json.loads(sys.argv[1])
import yaml
study = load_study_config(yaml.safe_load(open(cfg)))
base = load_case(study.study.base_case)
case = sweep.scenario_case(base, sizes, study.scenario_settings())
if days:
    h = case.horizon.model_copy(update={"end": case.horizon.start + timedelta(days=days)})
    case = case.model_copy(update={"horizon": h})
ops = case.operations.model_copy(update={"policy": policy, "forecast": forecast})
case = case.model_copy(update={"operations": ops})
t = time.perf_counter()
r = run_case(case)
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
econ = {k: r["economics"][k] for k in ("revenues_usd", "costs_usd", "net_value_usd")}
seen = {k: v for k, v in r["foresight"].items() if k != "decision_times_utc"}
print(json.dumps({"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "economics": econ,
      "foresight": seen, "status": r["solver"]["status"],
      "violations": len(r["verification"]["violations"])}))
"""


def run(cfg: str, sizes: dict, policy: str, forecast: str, days: int) -> dict:
    arg = json.dumps([cfg, sizes, policy, forecast, days])
    out = subprocess.run(
        [sys.executable, "-c", CHILD, arg], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode:
        raise SystemExit(f"{sizes} {policy}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from dcpower.economics import PREMIUM_GROUPS, foresight_premium
    from dcpower.study import load_study_config
    from dcpower.sweep import scenario_grid

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--days", type=int, default=0, help="first N days only (0: the study's)")
    ap.add_argument("--sizes", nargs="*", help="bess_mwh/gen_units/transformer_mva")
    ap.add_argument("--forecast", default="same_hour_median_7d")
    ap.add_argument("--json", help="write the rows here too")
    a = ap.parse_args()
    import yaml

    grid = scenario_grid(load_study_config(yaml.safe_load((ROOT / a.config).read_text())))
    rows = []
    for sizes in grid.to_dict("records"):
        label = f"{sizes['bess_mwh']}/{sizes['gen_units']}/{sizes['transformer_mva']}"
        if a.sizes and label not in a.sizes:
            continue
        sizes = {k: (v.item() if hasattr(v, "item") else v) for k, v in sizes.items()}
        started = time.perf_counter()
        clair = run(a.config, sizes, "perfect_foresight", a.forecast, a.days)
        causal = run(a.config, sizes, "forecast", a.forecast, a.days)
        premium = foresight_premium(clair["economics"], causal["economics"])
        cv = clair["economics"]["net_value_usd"]
        row = {
            "size": label,
            "clairvoyant_wall_s": clair["wall_s"],
            "forecast_wall_s": causal["wall_s"],
            "wall_ratio": causal["wall_s"] / clair["wall_s"],
            "clairvoyant_cpu_s": clair["cpu_s"],
            "forecast_cpu_s": causal["cpu_s"],
            "cpu_ratio": causal["cpu_s"] / clair["cpu_s"],
            "clairvoyant_net_usd": cv,
            "realised_net_usd": causal["economics"]["net_value_usd"],
            **premium,
            "premium_pct_of_clairvoyant": 100 * premium["foresight_premium_usd"] / abs(cv),
            "violations": clair["violations"] + causal["violations"],
            "status": f"{clair['status']}/{causal['status']}",
            "forecast_errors": causal["foresight"].get("forecast_errors"),
            "total_s": time.perf_counter() - started,
        }
        rows.append(row)
        groups = " ".join(f"{g}={row[f'foresight_premium_{g}_usd']:,.0f}" for g in PREMIUM_GROUPS)
        print(
            f"{label:>12} clair {cv:>13,.0f} $ {row['clairvoyant_wall_s']:6.1f} s | forecast "
            f"{row['realised_net_usd']:>13,.0f} $ {row['forecast_wall_s']:6.1f} s "
            f"(x{row['wall_ratio']:.2f}; cpu {row['clairvoyant_cpu_s']:.0f}/"
            f"{row['forecast_cpu_s']:.0f} s x{row['cpu_ratio']:.2f}) | premium "
            f"{premium['foresight_premium_usd']:>11,.0f} $ "
            f"({row['premium_pct_of_clairvoyant']:.1f} %) {groups} | {row['status']} "
            f"viol {row['violations']}",
            flush=True,
        )
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
