"""Write the synthetic tidy price files of resources_data/generic_example (deterministic).

Run from the repository root:
``.venv/bin/python resources_data/generic_example/make_example_data.py``.
The prices are made up (see README.md); they only demonstrate the generic adapter's file layout.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
START, END = "2030-03-25T00:00:00Z", "2030-04-05T00:00:00Z"  # UTC, end exclusive
NODE = "EXAMPLE_NODE"


def energy_prices() -> pd.DataFrame:
    """Hourly $/MWh: a daily shape (morning and evening peaks, midday solar dip) plus noise."""
    start = pd.date_range(START, END, freq="60min", inclusive="left")
    local_hour = start.tz_convert("Europe/Berlin").hour.to_numpy()
    rng = np.random.default_rng(2030)
    shape = (
        55.0
        + 35.0 * np.exp(-(((local_hour - 8) / 2.0) ** 2))
        + 60.0 * np.exp(-(((local_hour - 19) / 2.5) ** 2))
        - 30.0 * np.exp(-(((local_hour - 13) / 2.5) ** 2))
    )
    price = np.round(shape + rng.normal(0.0, 6.0, len(start)), 2)
    return pd.DataFrame(
        {
            "interval_start_utc": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "interval_end_utc": (start + pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "settlement_point": NODE,
            "price_usd_per_mwh": price,
        }
    )


def reserve_prices() -> pd.DataFrame:
    """Four-hour blocks, $/MW per hour: SPIN (up) and REGDOWN (down)."""
    start = pd.date_range(START, END, freq="240min", inclusive="left")
    rng = np.random.default_rng(2031)
    block = (start.hour.to_numpy() // 4).astype(float)
    rows = []
    for product, base, swing in (("SPIN", 6.0, 4.0), ("REGDOWN", 9.0, 3.0)):
        price = np.round(
            base + swing * np.sin(block / 6 * 2 * np.pi) + rng.gamma(2.0, 1.0, len(start)), 2
        )
        rows.append(
            pd.DataFrame(
                {
                    "interval_start_utc": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "interval_end_utc": (start + pd.Timedelta(hours=4)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "product": product,
                    "price_usd_per_mw_h": price,
                }
            )
        )
    out = pd.concat(rows).sort_values(["interval_start_utc", "product"], kind="stable")
    return out.reset_index(drop=True)


if __name__ == "__main__":
    energy_prices().to_csv(HERE / "energy_prices.csv", index=False, lineterminator="\n")
    reserve_prices().to_csv(HERE / "reserve_prices.csv", index=False, lineterminator="\n")
