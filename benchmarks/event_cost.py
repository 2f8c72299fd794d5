"""Measure each shipped grid event's cost for the default site (by hand, not a test).

cost = net value without the event − net value with it, full year, for variants of the site:
(a) as is, (b) grid + load only (no BESS, no gas), (c) no BESS, (d) no gas. Prints one JSON
line per run and a table at the end.

    nice -n 5 .venv/bin/python benchmarks/event_cost.py config/cases/ercot_2021_uri.json a b
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dcpower.case import load_case
from dcpower.runner import run_case

NO_BESS = {"power_mw": 0, "energy_mwh": 0, "pcs_mva": 0, "market_soc_reserve_mwh": 0}
NO_GAS = {"units": 0, "initial_units_online": 0}


def variant(case, name: str):
    update = {}
    if name in ("b", "c"):
        update["bess"] = case.bess.model_copy(update=NO_BESS)
        update["reliability"] = case.reliability.model_copy(update={"ride_through_minutes": 0.0})
    if name in ("b", "d"):
        update["gas_gen"] = case.gas_gen.model_copy(update=NO_GAS)
    return case.model_copy(update=update)


def main(path: str, names: list[str]) -> None:
    base = load_case(path)
    rows = []
    for name in names:
        site = variant(base, name)
        values = {}
        for label, events in (("event", list(base.events)), ("none", [])):
            case = site.model_copy(update={"events": events})
            t0 = time.perf_counter()
            r = run_case(case)
            row = {
                "case": Path(path).stem,
                "variant": name,
                "run": label,
                "net_value_usd": r["economics"]["net_value_usd"],
                "seconds": round(time.perf_counter() - t0, 1),
                "violations": r["verification"]["violations"],
                "status": r["solver"]["status"],
                "events": r.get("events"),
                "sb6": {k: r["sb6"][k] for k in ("applies", "gas_only", "gas_plus_bess_info")},
            }
            values[label] = row["net_value_usd"]
            print(json.dumps(row), flush=True)
        rows.append((name, values["none"] - values["event"]))
    for name, cost in rows:
        print(f"{Path(path).stem} variant {name}: event cost {cost:,.0f} $", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["a", "b"])
