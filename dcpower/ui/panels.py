"""Streamlit panels shared by the pages: a results dict, a dispatch table, error boxes.

Each chart is drawn inside :func:`guarded`, so a chart that cannot be built shows an error box
and the rest of the page still renders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dcpower.case import Case
from dcpower.ui import charts, state

logger = logging.getLogger(__name__)


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Show an error box instead of a traceback when ``what`` fails."""
    try:
        yield
    except Exception as exc:
        logger.exception("UI: %s failed", what)
        st.error(f"Could not draw {what}: {type(exc).__name__}: {exc}", icon="⚠️")


def chart(build: Callable[[], Any], what: str, key: str | None = None) -> None:
    with guarded(what):
        st.altair_chart(build(), key=key)


def error_box(title: str, message: str) -> None:
    """A clear error: a title and the message as given (multi-line kept), no traceback."""
    body = message.strip()
    if "\n" in body:
        st.error(f"**{title}**\n\n```\n{body}\n```", icon="🚫")
    else:
        st.error(f"**{title}**: {body}", icon="🚫")


def headline(results: dict[str, Any]) -> None:
    """Solver status, net value, gap, solve time and load served as metrics."""
    items = state.headline_metrics(results)
    for col, m in zip(st.columns(len(items)), items, strict=True):
        col.metric(m.label, m.value, help=m.full)  # compact value; the full one on hover
    s = results["solver"]
    warnings = list(results.get("warnings") or [])
    if not warnings and s.get("warning"):  # results written before the warnings list
        warnings = [s["warning"]]
    for w in warnings:
        st.warning(w)
    for v in (results.get("verification") or {}).get("violations", []):
        st.warning(f"invariant violated: {v}")


def results_panel(results: dict[str, Any], key: str) -> None:
    """Everything about one solved case: headline, charts in tabs, explainability, downloads."""
    headline(results)
    st.caption(f"Solver: {state.solver_line(results)}")
    tz = charts.timezone_of(results)
    products = (results.get("market") or {}).get("reserve_products") or {}
    bess = (results.get("case") or {}).get("bess")
    with guarded("the results tables"):
        dispatch = charts.dispatch_frame(results)
        electrical = charts.electrical_frame(results)
        steps = day_window(dispatch, tz, key)
        if steps is not None:
            dispatch = dispatch.iloc[steps[0] : steps[1] + 1]
            electrical = electrical.iloc[steps[0] : steps[1] + 1]
        tabs = st.tabs(
            [
                "Dispatch",
                "Battery",
                "Gas units",
                "Loading",
                "Reserves",
                "Economics",
                "Explain",
                "Events & SB 6",
                "Foresight",
            ]
        )
        with tabs[0]:
            chart(lambda: charts.dispatch_chart(dispatch, tz), "the dispatch chart")
        with tabs[1]:
            chart(lambda: charts.soc_chart(dispatch, tz, products, bess), "the SOC chart")
        with tabs[2]:
            chart(lambda: charts.gen_units_chart(dispatch, tz), "the gas unit chart")
        with tabs[3]:
            chart(lambda: charts.loading_chart(electrical, tz), "the loading chart")
        with tabs[4]:
            if products:
                chart(lambda: charts.reserves_chart(dispatch, tz, products), "the reserves chart")
            else:
                st.info("No reserve products in this case (market.reserve_products is []).")
        with tabs[5]:
            economics_panel(results)
        with tabs[6]:
            explain_panel(results, key, steps)
        with tabs[7]:
            events_panel(results)
        with tabs[8]:
            foresight_panel(results, key, steps)
    downloads(results, key)


def foresight_panel(results: dict[str, Any], key: str, steps: tuple[int, int] | None) -> None:
    """The dispatch policy; for the forecast policy its forecast errors, and on request the
    same case under perfect foresight: what hindsight would have done, and the premium."""
    f = results.get("foresight") or {}
    if not f:
        st.info("These results have no foresight section (written before it existed).")
        return
    st.markdown(f"Policy **{f['policy']}** — {f['label']}.")
    if f["policy"] != "forecast":
        st.caption(f.get("note", ""))
        return
    st.caption(f.get("information_set", ""))
    st.dataframe(charts.forecast_error_table(results), hide_index=True)
    ss = st.session_state
    slot = f"hindsight_{key}"
    if st.button("Compare with hindsight (solve the case under perfect foresight)", key=slot):
        case = Case.model_validate(results["case"])
        ops = case.operations.model_copy(
            update={
                "policy": "perfect_foresight",
                "settlement": "day_ahead",
                "realtime_price_file": None,
            }
        )
        outcome = state.run(case.model_copy(update={"operations": ops}))
        ss[slot + "_results"] = outcome
    outcome = ss.get(slot + "_results")
    if outcome is None:
        return
    if not outcome.ok:
        error_box(ERROR_TITLE, outcome.error)
        return
    hindsight = outcome.results
    realised = results["economics"]["net_value_usd"]
    upper = hindsight["economics"]["net_value_usd"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Realised net value $", f"{realised:,.0f}")
    c2.metric("Hindsight net value $ (upper bound)", f"{upper:,.0f}")
    c3.metric("Foresight premium $", f"{upper - realised:,.0f}")
    tz = charts.timezone_of(results)
    committed, other = charts.dispatch_frame(results), charts.dispatch_frame(hindsight)
    if steps is not None:
        committed = committed.iloc[steps[0] : steps[1] + 1]
        other = other.iloc[steps[0] : steps[1] + 1]
    chart(lambda: charts.foresight_chart(committed, other, tz), "the foresight chart")


def events_panel(results: dict[str, Any]) -> None:
    """Grid emergency events (table; shaded on the dispatch chart) and the SB 6 screen."""
    st.subheader("Grid emergency events")
    table = charts.events_table(results)
    if table.empty:
        st.info("No grid emergency events in this case (case.events is empty).")
    else:
        st.caption(
            "Net withdrawal (import − export) ≤ cap at every step the event overlaps; the model "
            "knows the event in advance (perfect foresight of the directive). The event's full "
            "cost is net value without it − with it (the workflow's events dimension)."
        )
        st.dataframe(table, hide_index=True)
    st.subheader("SB 6 screen")
    lines = charts.sb6_lines(results)
    if not lines:
        st.info("These results have no SB 6 screen (written before it existed).")
    for line in lines:
        st.markdown(line)
    if lines:
        st.caption(results["sb6"]["source"])


def day_window(dispatch: pd.DataFrame, tz: str, key: str) -> tuple[int, int] | None:
    """For horizons over two weeks, a day-range slider (default: the first week); returns the
    (first, last) step shown, or None when everything is shown."""
    days = np.asarray(dispatch.index.tz_convert(tz).date)
    if len(days) == 0 or (days[-1] - days[0]).days < state.LONG_HORIZON_DAYS:
        return None
    default = state.time_window(dispatch.index.tz_convert(tz), 7)
    first, last = st.slider(
        "Days shown",
        min_value=days[0],
        max_value=days[-1],
        value=default,
        key=f"{key}:days",
        help="charts of a long horizon show a window of days; economics cover the horizon",
    )
    shown = np.flatnonzero((days >= first) & (days <= last))
    return (int(shown[0]), int(shown[-1])) if shown.size else None


def economics_panel(results: dict[str, Any]) -> None:
    econ = results["economics"]
    with guarded("the economics waterfall"):
        frame = charts.waterfall_frame(econ)  # raises when the bars do not add up
        c1, c2, c3 = st.columns(3)
        for col, label, key in (
            (c1, "Total revenue", "total_revenue_usd"),
            (c2, "Total cost", "total_cost_usd"),
            (c3, "Net value (objective)", "net_value_usd"),
        ):  # compact, the full value on hover
            col.metric(label, state.compact_number(econ[key], "$"), help=f"{econ[key]:,.2f} $")
        st.altair_chart(charts.waterfall_chart(econ))
        st.caption(
            f"The {len(frame) - 1} bars add up to the net value "
            f"{econ['net_value_usd']:,.2f} $ (checked to 0.01 $)."
        )
    per = econ.get("usd_per_mwh") or {}
    if per:
        st.dataframe(
            pd.DataFrame({"$/MWh": per}).T.rename(columns=lambda c: c.removesuffix("_usd_per_mwh")),
            hide_index=True,
        )


def explain_panel(results: dict[str, Any], key: str, steps: tuple[int, int] | None = None) -> None:
    ex = results["explainability"]
    labels = charts.step_labels(results)
    if not labels:
        st.info("No timesteps.")
        return
    lo, hi = steps or (0, len(labels) - 1)
    options = list(range(lo, hi + 1))
    if st.session_state.get(f"{key}:step") not in options:
        st.session_state[f"{key}:step"] = lo  # the day window moved past the chosen step
    step = st.select_slider(
        "Timestep",
        options=options,
        format_func=lambda i: labels[i],
        key=f"{key}:step",
    )
    with guarded("the binding-constraint heat map"):
        if ex["binding_constraints"]:
            st.altair_chart(charts.binding_heatmap(results, step, steps))
        else:
            st.info("No inequality constraint binds in any timestep.")
    hits = charts.binding_at_step(results, step)
    st.markdown(f"**Binding at {labels[step]} (step {step})**: {len(hits)} families")
    if hits:
        st.dataframe(
            pd.DataFrame(hits, columns=["family", "description"]),
            hide_index=True,
            key=f"{key}:binding_table",
        )
    else:
        st.caption("No binding inequality rows at this step.")
    with st.expander("Summary: binding timesteps per family"):
        for line in ex.get("summary", []):
            st.markdown(f"- {line}")


def downloads(results: dict[str, Any], key: str) -> None:
    """Results JSON and a zip of the Parquet tables (built only when clicked)."""
    name = (results.get("case") or {}).get("name") or "results"
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download results JSON",
        data=lambda: state.results_json_bytes(results),
        file_name=f"{name}_results.json",
        mime="application/json",
        on_click="ignore",
        key=f"{key}:dl_json",
    )
    c2.download_button(
        "Download Parquet tables (zip)",
        data=lambda: state.parquet_zip_bytes(results),
        file_name=f"{name}_parquet.zip",
        mime="application/zip",
        on_click="ignore",
        key=f"{key}:dl_zip",
    )


def dispatch_panel(
    dispatch: pd.DataFrame,
    tz: str,
    key: str,
    reserve_products: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Charts of a dispatch table alone (a sweep scenario): stack, SOC, gas units, reserves
    (``reserve_products``: name → direction, for the signs of the reserve chart)."""
    tabs = st.tabs(["Dispatch", "Battery", "Gas units", "Reserves"])
    with tabs[0]:
        chart(lambda: charts.dispatch_chart(dispatch, tz), "the dispatch chart")
    with tabs[1]:
        chart(lambda: charts.soc_chart(dispatch, tz), "the SOC chart")
    with tabs[2]:
        chart(lambda: charts.gen_units_chart(dispatch, tz), "the gas unit chart")
    with tabs[3]:
        chart(lambda: charts.reserves_chart(dispatch, tz, reserve_products), "the reserves chart")


ERROR_TITLE = "Hindsight run failed"
