"""Sweep page: a sizing study's frontier, its scenario table and one scenario's dispatch.

A study folder is ``results/<study>/`` with ``summary.parquet`` and
``scenarios/<scenario>/dispatch.parquet`` (see README, "Sizing sweeps"). A missing or
incomplete folder shows an error and the last good study stays on screen.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dcpower import resolution
from dcpower.columns import survival_duration_h
from dcpower.sweep import WARNING_SEP
from dcpower.ui import charts, panels, state

KEEP = "session"
TIMEZONES = ["America/Chicago", "UTC"]


@st.cache_data(show_spinner=False, max_entries=8)
def _summary(path: str, mtime: float) -> pd.DataFrame:
    return state.load_sweep(path)


@st.cache_data(show_spinner=False, max_entries=8)
def _dispatch(folder: str, scenario: str, mtime: float) -> pd.DataFrame:
    return state.load_scenario_dispatch(folder, scenario)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _pick_folder() -> None:
    st.session_state["sweep_path"] = st.session_state["sweep_pick"]


#: headers of the table's leading columns (others keep their column name)
HEADERS = {
    "bess_mwh": "BESS MWh",
    "gen_units": "gas units",
    "transformer_mva": "transformer MVA",
    "market_year": "year",
    "annual_total_cost_usd": "annual total cost $/yr",
    "annual_total_cost_lower_bound_usd": "cost lower bound $/yr",
    "tied_with": "tied in cost with",
    "reliability_limited_by": "reliability limited by",
}


def _column_config(columns: list[str]) -> dict[str, st.column_config.Column]:
    cfg: dict[str, st.column_config.Column] = {}
    for c in columns:
        if c in ("tied_with", "reliability_limited_by"):
            cfg[c] = st.column_config.TextColumn(HEADERS[c], width="large")
        elif c in HEADERS and not c.endswith("_usd"):
            cfg[c] = st.column_config.NumberColumn(HEADERS[c])
        elif c in HEADERS:
            cfg[c] = st.column_config.NumberColumn(HEADERS[c], format="dollar", width="medium")
        elif c.endswith("_usd"):
            cfg[c] = st.column_config.NumberColumn(c, format="dollar")
        elif survival_duration_h(c) is not None:
            cfg[c] = st.column_config.NumberColumn(c, format="percent")
        elif c == "frontier":
            cfg[c] = st.column_config.CheckboxColumn("Pareto (selected metric)")
        elif c == "pareto":
            cfg[c] = st.column_config.CheckboxColumn("Pareto (study metric)")
    return cfg


def _load_summary() -> tuple[str, pd.DataFrame] | None:
    ss = st.session_state
    root = state.results_root()
    found = state.find_sweeps(root)
    if "sweep_path" not in ss:
        ss["sweep_path"] = found[0] if found else ""
    c1, c2 = st.columns([2, 3])
    c1.selectbox(
        f"Studies found under {root}",
        options=found,
        index=None,
        placeholder="pick a study …" if found else "no summary.parquet found",
        key="sweep_pick",
        on_change=_pick_folder,
    )
    path = c2.text_input("Study folder", key="sweep_path", persist_state=KEEP).strip()
    try:
        summary = _summary(path, _mtime(Path(path) / "summary.parquet"))
    except state.SweepError as exc:
        panels.error_box("Cannot open the sweep", str(exc))
    else:
        ss["sweep_last"] = (path, summary)
        return path, summary
    if "sweep_last" in ss:
        last_path, last = ss["sweep_last"]
        st.info(f"Showing the last study that opened: `{last_path}`.")
        return last_path, last
    return None


def _scenario_from_selections(table: pd.DataFrame, table_event, chart_event) -> None:
    """A new row selection or frontier click sets the scenario selectbox (created later)."""
    ss = st.session_state
    picks = []
    rows = list(getattr(getattr(table_event, "selection", None), "rows", []) or [])
    if rows and rows[0] < len(table):
        picks.append(("table", str(table.iloc[rows[0]]["scenario"])))
    points = (getattr(chart_event, "selection", None) or {}).get("pick") or []
    if points and points[0].get("scenario"):
        picks.append(("chart", str(points[0]["scenario"])))
    for source, scenario in picks:
        if ss.get(f"sweep_last_{source}") != scenario:
            ss[f"sweep_last_{source}"] = scenario
            ss["sweep_scenario"] = scenario


def main() -> None:
    ss = st.session_state
    st.title("Sizing sweep")
    loaded = _load_summary()
    if loaded is None:
        st.info("Pick a study folder: `results/<study>/` written by the Snakemake workflow.")
        return
    folder, summary = loaded
    metrics = state.survival_metrics(summary)
    if ss.get("sweep_metric") not in metrics:
        ss["sweep_metric"] = state.default_metric(metrics)
    metric = st.selectbox(
        "Reliability metric (x axis)",
        metrics,
        key="sweep_metric",
        format_func=lambda m: f"{m} — {charts.metric_label(m)}",
    )
    view = state.with_frontier(summary, metric)
    eff = view[view["frontier"]]
    cheapest = float(view["annual_total_cost_usd"].min())
    c = st.columns(5)
    c[0].metric("Scenarios", len(view))
    c[1].metric("Pareto-efficient", len(eff))
    c[2].metric("Cheapest", state.compact_number(cheapest, "$/yr"), help=f"{cheapest:,.2f} $/yr")
    c[3].metric(f"Best {metric}", f"{view[metric].max():.1%}", help=f"{view[metric].max():.6f}")
    req = resolution.requested_gap(view)
    worst = resolution.worst_gap(view)
    c[4].metric(
        "Worst gap",
        "n/a" if pd.isna(worst) else f"{worst:.2%}",
        help=f"worst achieved {worst:.4%}; requested {req:.4%}"
        if pd.notna(req)
        else "the requested gap is not recorded in this summary",
    )
    ties = int((view.get("tied_with", pd.Series(dtype=str)).fillna("") != "").sum())
    if ties:
        st.caption(
            f"{ties} scenarios are tied in cost with another (their cost intervals overlap: "
            "indistinguishable at the requested gap); see the table's 'tied in cost with'."
        )
    chart_event = None
    with panels.guarded("the frontier"):
        chart_event = st.altair_chart(
            charts.frontier_chart(view, metric), on_select="rerun", key="frontier_chart"
        )
    st.caption("Click a point to open its dispatch below.")

    st.subheader("Scenarios")
    sortable = state.sortable_columns(view)
    default_sort = "annual_total_cost_usd" if "annual_total_cost_usd" in sortable else sortable[0]
    if ss.get("sweep_sort") not in sortable:
        ss["sweep_sort"] = default_sort
    s1, s2, s3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    sort_by = s1.selectbox("Sort by", sortable, key="sweep_sort")
    ascending = s2.toggle("Ascending", value=True, key="sweep_asc")
    all_columns = s3.toggle("All columns", value=False, key="sweep_all")
    table = state.scenario_table(view, sort_by, ascending, all_columns, metric=metric)
    table_event = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="sweep_table",
        column_config=_column_config(list(table.columns)),
    )
    st.caption("Select a row (left edge) to open its dispatch; click a header to re-sort.")

    _scenario_from_selections(table, table_event, chart_event)
    scenarios = list(table["scenario"])
    if ss.get("sweep_scenario") not in scenarios:
        ss["sweep_scenario"] = scenarios[0]
    st.subheader("Scenario dispatch")
    d1, d2 = st.columns([3, 1])
    scenario = d1.selectbox("Scenario", scenarios, key="sweep_scenario")
    tz = d2.selectbox("Time zone", TIMEZONES, key="sweep_tz", persist_state=KEEP)
    try:
        path = state.scenario_dispatch_path(folder, scenario)
        dispatch = _dispatch(folder, scenario, _mtime(path))
    except state.SweepError as exc:
        panels.error_box("Cannot open the scenario", str(exc))
        return
    row = view[view["scenario"] == scenario].iloc[0]
    st.caption(
        f"{charts.scenario_label(row)} · annual total cost "
        f"{row['annual_total_cost_usd']:,.0f} $/yr{_interval(row)} · {metric} "
        f"{row[metric]:.1%} · {len(dispatch)} steps"
    )
    why = row.get("reliability_limited_by")
    if isinstance(why, str) and why:
        st.caption(f"{metric} limited by: {why}")
    for w in filter(None, str(row.get("warnings") or "").split(WARNING_SEP)):
        st.warning(w)
    steps = panels.day_window(dispatch, tz, key=f"sweep:{folder}")
    if steps is not None:
        dispatch = dispatch.iloc[steps[0] : steps[1] + 1]
    panels.dispatch_panel(dispatch, tz, key="sweep", reserve_products=_products(folder))


@st.cache_data(show_spinner=False, max_entries=8)
def _products(folder: str) -> dict:
    return state.sweep_reserve_products(folder)


def _interval(row: pd.Series) -> str:
    lower = row.get("annual_total_cost_lower_bound_usd")
    if lower is None or pd.isna(lower):
        return ""
    return f" (proven ≥ {lower:,.0f})"


main()
