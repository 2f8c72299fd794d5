"""Altair charts and their data, built from a results dict or a sweep's tables (no Streamlit).

Time axes show the site's local wall-clock time: timestamps are converted to the case's zone,
made naive and drawn on a UTC scale, so the browser's own time zone never shifts them. Every
time-series chart zooms and pans on x (drag / wheel) and shows all its values at the hovered
step. Sign convention of MW stacks: sources positive, sinks negative.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from dcpower import columns
from dcpower.plots import metric_label, scenario_label
from dcpower.results import records_to_frame

TIME = "time"
TIME_LABEL = "time (local)"
WIDTH = "container"
HEIGHT = 400  # total px (title, axes and legend included): the plot itself ≈ 280

#: dispatch stack: (column, label, sign, colour); sources up, sinks down
STACK = [
    ("grid_import_mw", "Grid import", 1, "#4c78a8"),
    ("gen_mw", "Gas generation", 1, "#f58518"),
    ("bess_discharge_mw", "BESS discharge", 1, "#54a24b"),
    ("bess_charge_mw", "BESS charge", -1, "#9ecf8f"),
    ("grid_export_mw", "Grid export", -1, "#72b7b2"),
]
LINES = [("Load", "#7f7f7f"), ("Load served", "#1b1b1b"), ("Unserved load", "#e45756")]
PRICE = ("Energy price", "#b279a2")
LOADING = [
    ("poi_loading_pct", "POI (MW limit)", "#4c78a8"),
    ("transformer_loading_pct", "Transformer (MVA)", "#f58518"),
    ("pcs_loading_pct", "PCS (MVA)", "#54a24b"),
    ("gen_loading_pct", "Gas units (MVA)", "#b279a2"),
]
KIND_COLOURS = {"revenue": "#54a24b", "cost": "#e45756", "net": "#4c78a8"}


# --------------------------------------------------------------------------- time helpers


def local_frame(df: pd.DataFrame, tz: str) -> pd.DataFrame:
    """``df`` (UTC DatetimeIndex) with ``time`` = naive local time and a text label."""
    idx = df.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise ValueError("expected a DatetimeIndex of UTC interval starts")
    local = (idx if idx.tz is not None else idx.tz_localize("UTC")).tz_convert(tz)
    out = df.reset_index(drop=True)
    out.insert(0, TIME_LABEL, local.strftime("%Y-%m-%d %H:%M %Z"))
    out.insert(0, TIME, local.tz_localize(None))
    return out


def _x(tz: str, title: bool = True) -> alt.X:
    return alt.X(
        f"{TIME}:T",
        title=f"local time ({tz})" if title else None,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%b %d %H:%M", labelAngle=0, labelOverlap=True),
    )


def _zoom() -> alt.Parameter:
    return alt.selection_interval(bind="scales", encodings=["x"])


def _hover_layers(wide: pd.DataFrame, fields: list[tuple[str, str]], tz: str) -> list[alt.Chart]:
    """Invisible nearest-step points + a rule that shows every value of the hovered step."""
    hover = alt.selection_point(
        fields=[TIME], nearest=True, on="pointerover", empty=False, clear="pointerout"
    )
    base = alt.Chart(wide).encode(x=_x(tz))
    tooltip = [alt.Tooltip(f"{TIME_LABEL}:N", title="time")] + [
        alt.Tooltip(f"{col}:Q", title=title, format=",.2f") for col, title in fields
    ]
    points = base.mark_point(opacity=0, size=1).add_params(hover)
    rule = base.mark_rule(color="#555").encode(
        opacity=alt.condition(hover, alt.value(0.6), alt.value(0.0)), tooltip=tooltip
    )
    return [points, rule]


def _colour_scale(pairs: list[tuple[str, str]]) -> alt.Scale:
    return alt.Scale(domain=[p[0] for p in pairs], range=[p[1] for p in pairs])


def dispatch_frame(results: dict[str, Any]) -> pd.DataFrame:
    """``results['dispatch']`` as a DataFrame with a UTC DatetimeIndex."""
    return records_to_frame(results["dispatch"])


def electrical_frame(results: dict[str, Any]) -> pd.DataFrame:
    """``results['electrical']`` as a DataFrame with a UTC DatetimeIndex."""
    return records_to_frame(results["electrical"])


def timezone_of(results: dict[str, Any]) -> str:
    """The case's IANA zone (``UTC`` when the results do not say)."""
    return (results.get("case") or {}).get("horizon", {}).get("timezone") or "UTC"


# --------------------------------------------------------------------------- dispatch stack


def dispatch_stack_data(dispatch: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Long table (time, series, mw, order) of the signed dispatch stack."""
    wide = local_frame(dispatch, tz)
    parts = []
    for order, (col, label, sign, _) in enumerate(STACK):
        values = wide.get(col, 0.0)
        parts.append(
            pd.DataFrame(
                {
                    TIME: wide[TIME],
                    TIME_LABEL: wide[TIME_LABEL],
                    "series": label,
                    "mw": sign * np.asarray(values, dtype=float) + 0.0,
                    "order": order,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def dispatch_chart(dispatch: pd.DataFrame, tz: str) -> alt.LayerChart:
    """Dispatch stack (sources up, sinks down) with load, load served and unserved load, and
    the energy price on a second axis."""
    stack = dispatch_stack_data(dispatch, tz)
    wide = local_frame(dispatch, tz)
    colours = _colour_scale([(s[1], s[3]) for s in STACK] + LINES + [PRICE])
    legend = alt.Legend(orient="bottom", title=None, columns=5)
    color = alt.Color("series:N", scale=colours, legend=legend)
    areas = (
        alt.Chart(stack)
        .mark_area(interpolate="step-after", opacity=0.85)
        .encode(
            x=_x(tz),
            y=alt.Y("mw:Q", stack="zero", title="MW (sources + / sinks −)"),
            color=color,
            order=alt.Order("order:Q"),
        )
        .add_params(_zoom())
    )
    lines_df = pd.concat(
        [
            pd.DataFrame({TIME: wide[TIME], "series": "Load", "mw": wide["load_mw"]}),
            pd.DataFrame({TIME: wide[TIME], "series": "Load served", "mw": wide["load_served_mw"]}),
        ],
        ignore_index=True,
    )
    lines = (
        alt.Chart(lines_df)
        .mark_line(interpolate="step-after", strokeWidth=1.5)
        .encode(
            x=_x(tz),
            y=alt.Y("mw:Q"),
            color=color,
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=["Load", "Load served"], range=[[5, 3], [1, 0]]),
                legend=None,
            ),
        )
    )
    unserved = (
        alt.Chart(wide.assign(series="Unserved load"))
        .mark_area(interpolate="step-after", opacity=0.6)
        .encode(x=_x(tz), y="load_served_mw:Q", y2="load_mw:Q", color=color)
    )
    price = (
        alt.Chart(wide.assign(series=PRICE[0]))
        .mark_line(interpolate="step-after", strokeWidth=1.2)
        .encode(
            x=_x(tz),
            y=alt.Y(
                "price_usd_per_mwh:Q",
                title="energy price ($/MWh)",
                axis=alt.Axis(orient="right", titleColor=PRICE[1]),
            ),
            color=color,
        )
    )
    fields = [(c, lbl) for c, lbl, _, _ in STACK] + [
        ("load_mw", "Load"),
        ("load_served_mw", "Load served"),
        ("load_unserved_mw", "Unserved load"),
        ("price_usd_per_mwh", "Price $/MWh"),
    ]
    hover = _hover_layers(wide, [f for f in fields if f[0] in wide], tz)
    mw_layers = alt.layer(areas, unserved, lines)
    spans = event_spans(dispatch, tz)
    if len(spans):
        shade = (
            alt.Chart(spans)
            .mark_rect(opacity=0.15, color="#d62728")
            .encode(x=alt.X("start:T"), x2="end:T", tooltip=["label:N"])
        )
        mw_layers = alt.layer(shade, areas, unserved, lines)
    # the hover layers must sit in the outer layer: a selection inside a nested layer makes
    # Vega fail with "Duplicate signal name"
    return (
        alt.layer(mw_layers, price, *hover)
        .resolve_scale(y="independent")
        .properties(width=WIDTH, height=HEIGHT + 60, title="Dispatch")
    )


# --------------------------------------------------------------------------- SOC


def soc_data(
    dispatch: pd.DataFrame,
    tz: str,
    reserve_products: dict[str, dict[str, Any]] | None = None,
    bess: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """SOC with its floor, the SOC ceiling and the reserve energy backing (MWh).

    ``up_top`` = floor + Σ up-reserve (BESS) × duration: the SOC must stay above it;
    ``down_bottom`` = SOC max − Σ down-reserve (BESS) × duration × η_ch: the SOC must stay
    below it (constraints ``reserve_energy_up`` / ``reserve_energy_down``).
    """
    wide = local_frame(dispatch, tz)
    up = np.zeros(len(wide))
    down = np.zeros(len(wide))
    eta = float((bess or {}).get("charge_efficiency") or 1.0)
    specs = reserve_products or {}
    for award in columns.reserve_award_columns(wide, specs, resource="bess"):
        spec = specs.get(award.product)
        if spec is None:
            continue
        energy = wide[award.column].to_numpy(float) * float(spec.get("duration_h") or 0.0)
        if spec.get("direction") == "down":
            down += energy * eta
        else:
            up += energy
    out = wide[[TIME, TIME_LABEL, "bess_soc_mwh", "bess_soc_floor_mwh"]].copy()
    out["up_backing_mwh"] = up
    out["up_top_mwh"] = out["bess_soc_floor_mwh"] + up
    if bess is not None and bess.get("energy_mwh") is not None:
        soc_max = float(bess["energy_mwh"]) * float(bess.get("soc_max_fraction", 1.0))
        out["soc_max_mwh"] = soc_max
        out["down_backing_mwh"] = down
        out["down_bottom_mwh"] = soc_max - down
    return out


def soc_chart(
    dispatch: pd.DataFrame,
    tz: str,
    reserve_products: dict[str, dict[str, Any]] | None = None,
    bess: dict[str, Any] | None = None,
) -> alt.LayerChart:
    """SOC (end of step) with its floor, the up-reserve energy backing above the floor and,
    when the BESS size is known, the SOC max with the down-reserve backing below it."""
    df = soc_data(dispatch, tz, reserve_products, bess)
    has_max = "soc_max_mwh" in df
    pairs = [
        ("SOC", "#54a24b"),
        ("SOC floor", "#b22222"),
        ("Up-reserve energy backing", "#f2b447"),
    ]
    if has_max:
        pairs += [("SOC max", "#7f7f7f"), ("Down-reserve headroom backing", "#9ecae9")]
    color = alt.Color(
        "series:N", scale=_colour_scale(pairs), legend=alt.Legend(orient="bottom", title=None)
    )
    base = alt.Chart(df)
    layers = [
        base.transform_calculate(series="'Up-reserve energy backing'")
        .mark_area(interpolate="step-after", opacity=0.45)
        .encode(x=_x(tz), y=alt.Y("bess_soc_floor_mwh:Q"), y2="up_top_mwh:Q", color=color)
        .add_params(_zoom())
    ]
    if has_max:
        layers += [
            base.transform_calculate(series="'Down-reserve headroom backing'")
            .mark_area(interpolate="step-after", opacity=0.45)
            .encode(x=_x(tz), y="down_bottom_mwh:Q", y2="soc_max_mwh:Q", color=color),
            base.transform_calculate(series="'SOC max'")
            .mark_line(strokeDash=[2, 2])
            .encode(x=_x(tz), y="soc_max_mwh:Q", color=color),
        ]
    layers += [
        base.transform_calculate(series="'SOC floor'")
        .mark_line(interpolate="step-after", strokeDash=[6, 3])
        .encode(x=_x(tz), y="bess_soc_floor_mwh:Q", color=color),
        base.transform_calculate(series="'SOC'")
        .mark_line(strokeWidth=2)
        .encode(x=_x(tz), y=alt.Y("bess_soc_mwh:Q", title="MWh"), color=color),
    ]
    fields = [
        ("bess_soc_mwh", "SOC MWh"),
        ("bess_soc_floor_mwh", "floor MWh"),
        ("up_backing_mwh", "up backing MWh"),
    ]
    if has_max:
        fields += [("soc_max_mwh", "SOC max MWh"), ("down_backing_mwh", "down backing MWh")]
    return alt.layer(*layers, *_hover_layers(df, fields, tz)).properties(
        width=WIDTH, height=HEIGHT, title="Battery state of charge"
    )


# --------------------------------------------------------------------------- gas units


def gen_units_chart(dispatch: pd.DataFrame, tz: str) -> alt.LayerChart:
    """Gas units committed and producing (steps) and starts (bars), gen MW on a second axis."""
    wide = local_frame(dispatch, tz)
    series = [
        ("gen_units_committed", "Committed"),
        ("gen_units_producing", "Producing"),
        ("gen_starts", "Starts"),
    ]
    long = pd.concat(
        [
            pd.DataFrame({TIME: wide[TIME], "series": label, "units": wide[col] + 0.0})
            for col, label in series
        ],
        ignore_index=True,
    )
    pairs = [("Committed", "#4c78a8"), ("Producing", "#f58518"), ("Starts", "#e45756")]
    pairs.append(("Gas MW", "#bab0ac"))
    color = alt.Color(
        "series:N", scale=_colour_scale(pairs), legend=alt.Legend(orient="bottom", title=None)
    )
    steps = (
        alt.Chart(long[long["series"] != "Starts"])
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(
            x=_x(tz),
            y=alt.Y("units:Q", title="units", axis=alt.Axis(tickMinStep=1)),
            color=color,
        )
        .add_params(_zoom())
    )
    starts = (
        alt.Chart(long[(long["series"] == "Starts") & (long["units"] > 0.5)])
        .mark_bar(width=4)
        .encode(x=_x(tz), y="units:Q", color=color)
    )
    mw = (
        alt.Chart(wide.assign(series="Gas MW"))
        .mark_area(interpolate="step-after", opacity=0.35)
        .encode(
            x=_x(tz),
            y=alt.Y("gen_mw:Q", title="gas MW", axis=alt.Axis(orient="right")),
            color=color,
        )
    )
    fields = [(c, lbl) for c, lbl in series] + [("gen_mw", "Gas MW")]
    units = alt.layer(steps, starts)
    return (
        alt.layer(mw, units, *_hover_layers(wide, fields, tz))  # hover outside nested layers
        .resolve_scale(y="independent")
        .properties(width=WIDTH, height=HEIGHT, title="Gas units")
    )


# --------------------------------------------------------------------------- loading


def loading_data(electrical: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Long table (time, equipment, pct) of POI, transformer, PCS and gas unit loading."""
    wide = local_frame(electrical, tz)
    parts = [
        pd.DataFrame({TIME: wide[TIME], "equipment": label, "pct": wide[col]})
        for col, label, _ in LOADING
        if col in wide
    ]
    return pd.concat(parts, ignore_index=True)


def loading_chart(electrical: pd.DataFrame, tz: str) -> alt.LayerChart:
    """Loading % of the POI, transformer, PCS and gas units with the 100 % rule."""
    long = loading_data(electrical, tz)
    wide = local_frame(electrical, tz)
    lines = (
        alt.Chart(long)
        .mark_line(interpolate="step-after")
        .encode(
            x=_x(tz),
            y=alt.Y("pct:Q", title="loading (% of rating)"),
            color=alt.Color(
                "equipment:N",
                scale=_colour_scale([(label, colour) for _, label, colour in LOADING]),
                legend=alt.Legend(orient="bottom", title=None),
            ),
        )
        .add_params(_zoom())
    )
    rule = (
        alt.Chart(pd.DataFrame({"pct": [100.0]}))
        .mark_rule(color="#b22222", strokeDash=[6, 3], strokeWidth=1.5)
        .encode(y="pct:Q")
    )
    fields = [(c, lbl) for c, lbl, _ in LOADING if c in wide]
    return alt.layer(lines, rule, *_hover_layers(wide, fields, tz)).properties(
        width=WIDTH, height=HEIGHT, title="Equipment loading"
    )


# --------------------------------------------------------------------------- reserves


def reserves_data(
    dispatch: pd.DataFrame, tz: str, reserve_products: dict[str, dict[str, Any]] | None = None
) -> pd.DataFrame:
    """Long table (time, series, mw) of reserves by product and resource; down-reserves are
    negative when the product directions are known. A series never awarded (all zero) is left
    out, so the legend lists only what is drawn."""
    wide = local_frame(dispatch, tz)
    directions = {k.lower(): v.get("direction") for k, v in (reserve_products or {}).items()}
    parts = []
    for award in columns.reserve_award_columns(wide):
        product, resource = award.product, award.resource or ""
        if not np.any(np.abs(np.nan_to_num(wide[award.column].to_numpy(float))) > 1e-9):
            continue
        sign = -1.0 if directions.get(product.lower()) == "down" else 1.0
        parts.append(
            pd.DataFrame(
                {
                    TIME: wide[TIME],
                    "series": f"{product} · {resource.upper()}",
                    "product": product,
                    "mw": sign * wide[award.column].to_numpy(float) + 0.0,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=[TIME, "series", "product", "mw"])
    return pd.concat(parts, ignore_index=True)


def reserves_chart(
    dispatch: pd.DataFrame, tz: str, reserve_products: dict[str, dict[str, Any]] | None = None
) -> alt.LayerChart:
    """Reserves offered by product and resource (up above zero, down below)."""
    long = reserves_data(dispatch, tz, reserve_products)
    wide = local_frame(dispatch, tz)
    title = "MW (up + / down −)" if reserve_products else "MW (directions unknown: all +)"
    area = (
        alt.Chart(long)
        .mark_area(interpolate="step-after", opacity=0.85)
        .encode(
            x=_x(tz),
            y=alt.Y("mw:Q", stack="zero", title=title),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None, columns=6)),
        )
        .add_params(_zoom())
    )
    fields = [
        (a.column, f"{a.product.lower()}_{a.resource}_mw")
        for a in columns.reserve_award_columns(wide)
    ]
    return alt.layer(area, *_hover_layers(wide, fields, tz)).properties(
        width=WIDTH, height=HEIGHT, title="Reserves by product"
    )


# --------------------------------------------------------------------------- economics


def _item_label(key: str) -> str:
    entry = columns.term(key)
    if entry is not None:
        return entry.label
    return key.removesuffix("_usd").replace("_", " ").capitalize()


def waterfall_frame(economics: dict[str, Any], tol_usd: float = 0.01) -> pd.DataFrame:
    """Revenue (+) and cost (−) steps from 0 to the net value, then the net-value bar.

    Columns: ``label``, ``kind`` (revenue / cost / net), ``amount_usd``, ``start_usd``,
    ``end_usd``, ``order``. Zero items are left out. Raises AssertionError when the steps do
    not add up to ``economics['net_value_usd']`` within ``tol_usd``.
    """
    rows = []
    level = 0.0
    items = [(k, float(v), "revenue") for k, v in economics["revenues_usd"].items()] + [
        (k, -float(v), "cost") for k, v in economics["costs_usd"].items()
    ]
    for key, amount, kind in items:
        if abs(amount) < 0.005:
            continue
        rows.append(
            {
                "label": _item_label(key),
                "kind": kind,
                "amount_usd": amount,
                "start_usd": level,
                "end_usd": level + amount,
            }
        )
        level += amount
    net = float(economics["net_value_usd"])
    total = sum(r["amount_usd"] for r in rows)
    if abs(total - net) > tol_usd:  # explicit check (kept under python -O)
        raise AssertionError(
            f"waterfall bars sum to {total:,.4f} $ but economics.net_value_usd is {net:,.4f} $"
        )
    rows.append(
        {"label": "Net value", "kind": "net", "amount_usd": net, "start_usd": 0.0, "end_usd": net}
    )
    df = pd.DataFrame(rows)
    df["order"] = range(len(df))
    return df


def waterfall_chart(economics: dict[str, Any]) -> alt.LayerChart:
    """Revenue/cost waterfall ending in the net-value bar (the objective)."""
    df = waterfall_frame(economics)
    df["amount_k"] = df["amount_usd"] / 1e3
    df["top_usd"] = df[["start_usd", "end_usd"]].max(axis=1)
    x = alt.X(
        "label:N",
        sort=list(df["label"]),
        title=None,
        axis=alt.Axis(labelAngle=-30, labelOverlap=False, labelLimit=200),
    )
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("start_usd:Q", title="$"),
            y2="end_usd:Q",
            color=alt.Color(
                "kind:N",
                scale=_colour_scale(list(KIND_COLOURS.items())),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="item"),
                alt.Tooltip("amount_usd:Q", title="$", format=",.2f"),
                alt.Tooltip("end_usd:Q", title="running total $", format=",.2f"),
            ],
        )
    )
    text = (
        alt.Chart(df)
        .mark_text(dy=-6, fontSize=11)
        .encode(x=x, y="top_usd:Q", text=alt.Text("amount_k:Q", format=",.1f"))
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#555").encode(y="y:Q")
    return alt.layer(bars, text, zero).properties(
        width=WIDTH, height=HEIGHT + 60, title="Revenues and costs → net value (labels in k$)"
    )


# --------------------------------------------------------------------------- explainability


def binding_frame(results: dict[str, Any]) -> pd.DataFrame:
    """Long table (step, time, time label, family, description) of binding families."""
    ex = results["explainability"]
    tz = timezone_of(results)
    minutes = int(results.get("horizon", {}).get("timestep_minutes") or 60)
    rows = [
        {"step": int(r["step"]), "timestamp": r["timestamp"], "family": fam}
        for r in ex["binding_constraints"]
        for fam in r["families"]
    ]
    cols = [TIME, TIME_LABEL, "end", "step", "family", "description"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    utc = pd.DatetimeIndex(pd.to_datetime(df.pop("timestamp"), utc=True))
    local = utc.tz_convert(tz)
    df[TIME] = local.tz_localize(None)
    df[TIME_LABEL] = local.strftime("%Y-%m-%d %H:%M %Z")
    df["end"] = df[TIME] + pd.Timedelta(minutes=minutes)
    df["description"] = df["family"].map(ex.get("families", {})).fillna("")
    return df[cols]


def family_order(results: dict[str, Any]) -> list[str]:
    """Families that bind at least once, most often first."""
    counts = results["explainability"].get("binding_timesteps_per_family", {})
    return [f for f, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if _ > 0]


def binding_heatmap(
    results: dict[str, Any],
    selected_step: int | None = None,
    steps: tuple[int, int] | None = None,
) -> alt.LayerChart:
    """Heat map: binding constraint families (rows, most frequent on top) × time; the
    selected step is marked with a vertical rule; ``steps`` = (first, last) limits the time."""
    df = binding_frame(results)
    if steps is not None:
        df = df[(df["step"] >= steps[0]) & (df["step"] <= steps[1])]
    tz = timezone_of(results)
    order = family_order(results) or sorted(df["family"].unique())
    rects = (
        alt.Chart(df)
        .mark_rect(color="#4c78a8")
        .encode(
            x=_x(tz),
            x2="end:T",
            y=alt.Y("family:N", sort=order, title=None),
            tooltip=[
                alt.Tooltip(f"{TIME_LABEL}:N", title="time"),
                alt.Tooltip("step:Q"),
                alt.Tooltip("family:N"),
                alt.Tooltip("description:N"),
            ],
        )
        .add_params(_zoom())
    )
    layers = [rects]
    if selected_step is not None:
        sel = df[df["step"] == selected_step].head(1)
        if sel.empty:
            sel = _step_time(results, selected_step)
        if not sel.empty:
            layers.append(
                alt.Chart(sel[[TIME]])
                .mark_rule(color="#e45756", strokeWidth=2)
                .encode(x=alt.X(f"{TIME}:T", scale=alt.Scale(type="utc")))
            )
    return alt.layer(*layers).properties(
        width=WIDTH,
        height=max(120, 18 * len(order)),
        title="Binding constraint families × time",
    )


def _step_time(results: dict[str, Any], step: int) -> pd.DataFrame:
    records = results.get("dispatch") or []
    if not 0 <= step < len(records):
        return pd.DataFrame(columns=[TIME])
    ts = pd.Timestamp(records[step]["timestamp"]).tz_convert(timezone_of(results))
    return pd.DataFrame({TIME: [ts.tz_localize(None)]})


def step_labels(results: dict[str, Any]) -> list[str]:
    """One label per timestep, e.g. ``2023-07-10 00:00 CDT``."""
    idx = pd.DatetimeIndex(pd.to_datetime([r["timestamp"] for r in results["dispatch"]], utc=True))
    return list(idx.tz_convert(timezone_of(results)).strftime("%Y-%m-%d %H:%M %Z"))


def binding_at_step(results: dict[str, Any], step: int) -> list[tuple[str, str]]:
    """(family, description) of the families binding at ``step``."""
    ex = results["explainability"]
    for row in ex["binding_constraints"]:
        if int(row["step"]) == step:
            return [(f, ex.get("families", {}).get(f, "")) for f in row["families"]]
    return []


# --------------------------------------------------------------------------- sweep frontier


def frontier_data(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Scenario points: cost in $M/yr, ``metric``, label, efficiency flag (``frontier``)."""
    df = summary.copy()
    df["cost_musd"] = df["annual_total_cost_usd"].astype(float) / 1e6
    df["label"] = [scenario_label(row) for _, row in df.iterrows()]
    if "frontier" not in df:
        df["frontier"] = df.get("pareto", False)
    df["frontier"] = df["frontier"].astype(bool)
    df["kind"] = np.where(df["frontier"], "Pareto-efficient", "other scenarios")
    return df


def frontier_chart(summary: pd.DataFrame, metric: str) -> alt.LayerChart:
    """Annual total cost vs a survival probability; Pareto points highlighted and joined by a
    step line; clicking a point selects its scenario (selection parameter ``pick``)."""
    df = frontier_data(summary, metric)
    cols = ["scenario", "label", "cost_musd", metric, "frontier", "kind"]
    lower = "annual_total_cost_lower_bound_usd"
    df["cost_lower_musd"] = df[lower].astype(float) / 1e6 if lower in df else np.nan
    df["tied_with"] = df["tied_with"].fillna("") if "tied_with" in df else ""
    # a search study: each size numbered by the round that evaluated it (search path)
    searched = "search_round" in df.columns and bool((df["search_round"] >= 0).any())
    df = df[[*cols, "cost_lower_musd", "tied_with", *(["search_round"] if searched else [])]]
    x = alt.X(f"{metric}:Q", title=metric_label(metric), axis=alt.Axis(format=".0%"))
    y = alt.Y("cost_musd:Q", title="annual total cost ($M/yr)", scale=alt.Scale(zero=False))
    pick = alt.selection_point(name="pick", fields=["scenario"], on="click")
    points = (
        alt.Chart(df)
        .mark_point(filled=True, size=90, stroke="black")
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "kind:N",
                scale=_colour_scale(
                    [("Pareto-efficient", "#1f77b4"), ("other scenarios", "#b3b3b3")]
                ),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            strokeWidth=alt.condition(pick, alt.value(2.5), alt.value(0.5)),
            tooltip=[
                alt.Tooltip("scenario:N"),
                alt.Tooltip("cost_musd:Q", title="$M/yr", format=",.3f"),
                alt.Tooltip("cost_lower_musd:Q", title="proven ≥ $M/yr", format=",.3f"),
                alt.Tooltip("tied_with:N", title="tied in cost with"),
                alt.Tooltip(f"{metric}:Q", title=metric, format=".3f"),
                alt.Tooltip("frontier:N", title="Pareto"),
                *([alt.Tooltip("search_round:Q", title="search round")] if searched else []),
            ],
        )
        .add_params(pick)
    )
    intervals = (  # each cost's interval: from the proven lower bound up to the cost
        alt.Chart(df[df["cost_lower_musd"].notna()])
        .mark_rule(color="#7f7f7f", strokeWidth=2)
        .encode(x=x, y=alt.Y("cost_lower_musd:Q"), y2=alt.Y2("cost_musd:Q"))
    )
    eff = df[df["frontier"]].sort_values(metric)
    line = (
        alt.Chart(eff)
        .mark_line(interpolate="step-before", color="#1f77b4")
        .encode(x=x, y=y, order=alt.Order(f"{metric}:Q"))
    )
    text = frontier_labels(eff, metric)
    lo, hi = (float(df[metric].min()), float(df[metric].max())) if len(df) else (0.0, 1.0)
    right = text[metric] > (lo + hi) / 2 if len(text) else pd.Series(dtype=bool)
    labels = [
        alt.Chart(part)
        .mark_text(align=align, baseline="middle", dx=dx, fontSize=10, lineBreak="\n")
        .encode(x=x, y=y, text="label:N")
        for part, align, dx in ((text[~right], "left", 10), (text[right], "right", -10))
    ]  # labels towards the inside of the plot, never over its edge
    layers = [intervals, line, points, *labels]
    if searched:
        layers.append(
            alt.Chart(df)
            .mark_text(align="right", dx=-7, dy=8, fontSize=9, color="#555555")
            .encode(x=x, y=y, text="search_round:Q")
        )
    return alt.layer(*layers).properties(width=WIDTH, height=480, title="Cost–reliability frontier")


#: Pareto points closer than this share of the axis ranges share one (multi-line) label
LABEL_CLUSTER_SHARE = 0.04


def frontier_labels(eff: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One label per cluster of nearby Pareto points (their labels on separate lines), so
    labels never overlap for points that (nearly) coincide, e.g. sizes tied in cost."""
    if eff.empty:
        return pd.DataFrame(columns=["label", "cost_musd", metric])
    xs, ys = eff[metric].to_numpy(float), eff["cost_musd"].to_numpy(float)
    span_x = max(float(np.nanmax(xs) - np.nanmin(xs)), 1e-9)
    span_y = max(float(np.nanmax(ys) - np.nanmin(ys)), 1e-9)
    clusters: list[list[int]] = []
    for i in np.argsort(ys, kind="stable"):
        for group in clusters:
            j = group[0]
            if (
                abs(xs[i] - xs[j]) <= LABEL_CLUSTER_SHARE * span_x
                and abs(ys[i] - ys[j]) <= 2 * LABEL_CLUSTER_SHARE * span_y
            ):
                group.append(int(i))
                break
        else:
            clusters.append([int(i)])
    rows = []
    for group in clusters:
        part = eff.iloc[group]
        rows.append(
            {
                "label": "\n".join(part["label"]),
                "cost_musd": float(part["cost_musd"].mean()),
                metric: float(part[metric].mean()),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- grid events


def event_spans(dispatch: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Contiguous runs of event steps (``event_cap_mw`` set) as local ``start``/``end`` times
    with a label (the cap), for shading the dispatch chart; empty without events."""
    if "event_cap_mw" not in dispatch.columns or dispatch.empty:
        return pd.DataFrame(columns=["start", "end", "label"])
    cap = dispatch["event_cap_mw"].to_numpy(float)
    on = ~np.isnan(cap)
    step = dispatch.index[1] - dispatch.index[0] if len(dispatch) > 1 else pd.Timedelta(hours=1)
    local = dispatch.index.tz_convert(tz).tz_localize(None)
    rows, i = [], 0
    while i < len(on):
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(on) and on[j + 1] and cap[j + 1] == cap[i]:
            j += 1
        rows.append(
            {
                "start": local[i],
                "end": local[j] + step,
                "label": f"grid event: net withdrawal ≤ {cap[i]:g} MW",
            }
        )
        i = j + 1
    return pd.DataFrame(rows, columns=["start", "end", "label"])


def events_table(results: dict[str, Any]) -> pd.DataFrame:
    """One row per grid emergency event of the results: window, cap, what the site did and the
    operating cost of the event's steps."""
    rows = []
    for ev in results.get("events") or []:
        cost = ev["operating_cost_usd"]
        rows.append(
            {
                "event": ev["name"],
                "window": ev["window"],
                "start (UTC)": ev["start_utc"],
                "end (UTC)": ev["end_utc"],
                "steps": ev["steps"],
                "cap MW": ev["cap_mw"],
                "max net withdrawal MW": ev["max_net_withdrawal_mw"],
                "flexible curtailed MWh": ev["curtailed_mwh"]["flexible"],
                "other shed MWh": ev["curtailed_mwh"]["noncritical"],
                "critical shed MWh": ev["curtailed_mwh"]["critical"],
                "critical shed": "yes" if ev["critical_shed"] else "no",
                "gas MWh": ev["self_supply_mwh"]["gen"],
                "BESS discharge MWh": ev["self_supply_mwh"]["bess_discharge"],
                "fuel $": cost["fuel"],
                "curtailment + VoLL $": cost["flexible_curtailment"] + cost["voll"],
                "energy net $": cost["energy_net"],
                "net value in window $": cost["net_value_in_window"],
            }
        )
    return pd.DataFrame(rows)


def sb6_lines(results: dict[str, Any]) -> list[str]:
    """The SB 6 screen as plain lines (empty when the results have none)."""
    s = results.get("sb6")
    if not s:
        return []
    gas, info = s["gas_only"], s["gas_plus_bess_info"]
    applies = "applies" if s["applies"] else "does not apply"
    verdict = "PASS" if gas["passes"] else "FAIL"
    lines = [
        f"Peak load {s['peak_load_mw']:,.1f} MW: the screen {applies} (threshold "
        f"{s['threshold_mw']:g} MW).",
        f"Gas units {gas['backup_mw']:,.1f} MW vs 50 % of load at every step: **{verdict}** — "
        f"{gas['hours_short']:,.1f} h short, worst shortfall {gas['worst_shortfall_mw']:,.1f} MW.",
        f"For information, gas + BESS at its power ({info['backup_mw']:,.1f} MW): "
        f"{'pass' if info['passes'] else 'fail'}, {info['hours_short']:,.1f} h short.",
    ]
    return lines


# --------------------------------------------------------------------------- foresight

FORESIGHT_SERIES = (
    ("bess_soc_mwh", "SOC MWh"),
    ("net_withdrawal_mw", "net withdrawal MW (import − export)"),
)


def foresight_data(committed: pd.DataFrame, hindsight: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Long table of the committed (forecast policy) and hindsight (perfect foresight)
    schedules of the same case: time, policy, quantity, value (``FORESIGHT_SERIES``)."""
    parts = []
    for label, d in (("committed (forecast)", committed), ("hindsight (upper bound)", hindsight)):
        wide = local_frame(d, tz)
        wide["net_withdrawal_mw"] = wide["grid_import_mw"] - wide["grid_export_mw"]
        for col, name in FORESIGHT_SERIES:
            part = wide[[TIME, TIME_LABEL]].copy()
            part["policy"], part["quantity"], part["value"] = label, name, wide[col]
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def foresight_chart(committed: pd.DataFrame, hindsight: pd.DataFrame, tz: str) -> alt.FacetChart:
    """SOC and net withdrawal of the committed schedule against hindsight's, one row each."""
    df = foresight_data(committed, hindsight, tz)
    colour = alt.Color(
        "policy:N",
        scale=alt.Scale(range=["#e45756", "#4c78a8"]),
        legend=alt.Legend(orient="bottom", title=None),
    )
    return (
        alt.Chart(df)
        .mark_line(interpolate="step-after")
        .encode(
            x=_x(tz),
            y=alt.Y("value:Q", title=None),
            color=colour,
            tooltip=[TIME_LABEL, "policy", "quantity", alt.Tooltip("value:Q", format=",.1f")],
        )
        .properties(width=WIDTH, height=HEIGHT // 2)
        .facet(row=alt.Row("quantity:N", title=None))
        .resolve_scale(y="independent")
    )


def forecast_error_table(results: dict[str, Any]) -> pd.DataFrame:
    """The ``foresight`` section's forecast errors: product, year, MAE, bias, steps."""
    errors = (results.get("foresight") or {}).get("forecast_errors") or {}
    rows = [
        {"product": p, "year": y, "MAE": e["mae"], "bias": e["bias"], "steps": e["steps"]}
        for p, by_year in errors.items()
        for y, e in by_year.items()
    ]
    return pd.DataFrame(rows, columns=["product", "year", "MAE", "bias", "steps"])
