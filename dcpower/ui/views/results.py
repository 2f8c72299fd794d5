"""Results file page: explore a results JSON written by ``dcpower run --out`` (or the last run).

A file that cannot be read shows an error and the last good file stays on screen.
"""

from __future__ import annotations

import streamlit as st

from dcpower.ui import panels, state

LAST_RUN = "Last run (Case & run page)"
FILE = "Results JSON file"


def _latest(which: str) -> None:
    st.session_state["results_input"] = which


def _from_file() -> None:
    ss = st.session_state
    c1, c2 = st.columns(2)
    path = c1.text_input(
        "Results JSON path",
        key="results_file_path",
        persist_state="session",
        on_change=_latest,
        args=("path",),
    ).strip()
    upload = c2.file_uploader(
        "… or upload one",
        type=["json"],
        key="results_upload",
        on_change=_latest,
        args=("upload",),
    )
    source, data, error = None, None, None
    # the input used last decides: a path typed after an upload is read (its error shown), not
    # hidden behind the upload's old result or error
    if upload is not None and ss.get("results_input", "upload") == "upload":
        source = upload.name
        try:
            data = state.parse_results_upload(upload.name, upload.getvalue())
        except ValueError as exc:
            data, error = None, str(exc)
    elif path:
        source = path
        try:
            data = state.load_results_file(path)
        except ValueError as exc:
            error = str(exc)
    if error:
        panels.error_box("Cannot open the results", error)
    if data is not None:
        ss["file_results"] = (source, data)
    if "file_results" not in ss:
        st.info("Enter the path of a results JSON (e.g. results/example_ercot/results.json).")
        return
    shown, results = ss["file_results"]
    if shown != source:
        st.caption(f"Showing the last file that opened: `{shown}`.")
    panels.results_panel(results, key="file")


def main() -> None:
    st.title("Results file")
    choice = st.radio(
        "Source", [LAST_RUN, FILE], horizontal=True, key="results_source", persist_state="session"
    )
    if choice == FILE:
        _from_file()
        return
    results = st.session_state.get("results")
    if results is None:
        st.info("No run yet in this session: solve a case on the **Case & run** page.")
        return
    st.caption(st.session_state.get("results_origin", ""))
    panels.results_panel(results, key="last")


main()
