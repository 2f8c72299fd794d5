"""Case & run page: choose a case file, edit its key parameters, validate, run the MILP.

Session state: ``case_base`` (raw JSON of the loaded file) and ``case_loaded_path``; one
widget per :data:`dcpower.ui.state.FIELDS` entry (``field:<path>``); ``results`` (the last
good results, kept on screen when a later run fails) and ``run_error``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from dcpower.case import CaseError
from dcpower.ui import panels, state

KEEP = "session"
LAYOUT = [
    ("horizon", ["horizon.start", "horizon.end", "horizon.timestep_minutes"]),
    ("bess", ["bess.power_mw", "bess.energy_mwh", "bess.pcs_mva"]),
    ("gas_gen", ["gas_gen.units", "gas_gen.unit_mw"]),
    ("poi", ["poi.import_limit_mw", "poi.export_limit_mw"]),
    ("transformer", ["transformer.rating_mva"]),
    ("reliability", ["reliability.voll_critical_usd_per_mwh"]),
    ("solver", ["solver.mip_rel_gap", "solver.time_limit_s"]),
]
ROWS = [["horizon"], ["bess", "gas_gen"], ["poi", "transformer", "reliability"], ["solver"]]


def _load(path: str) -> None:
    """Read ``path`` into the form; on failure keep the previous case and remember the error."""
    ss = st.session_state
    try:
        data = state.read_case_file(path)
    except CaseError as exc:
        ss["case_load_error"] = "\n".join(f"{p}: {m}" for p, m in exc.problems)
        ss["case_load_error_path"] = path
        return
    if path != ss.get("case_loaded_path"):
        ss["run_error"] = None  # it was about the previous case; its last good result stays
        ss["run_problems"] = None
    ss["case_base"] = data
    ss["case_loaded_path"] = path
    ss["case_load_error"] = None
    for spec in state.FIELDS:
        ss[spec.key] = state.to_widget(spec, state.get_path(data, spec.path))


UPLOAD_PREFIX = "upload: "


def _load_upload() -> None:
    """An uploaded case file replaces the form (same strict JSON checks as a path)."""
    ss = st.session_state
    upload = ss.get("case_upload")
    if upload is None:
        return
    raw = upload.getvalue()
    label = f"{UPLOAD_PREFIX}{upload.name}"
    try:
        data = state.parse_case_bytes(raw, label)
    except CaseError as exc:
        ss["case_load_error"] = "\n".join(f"{p}: {m}" for p, m in exc.problems)
        ss["case_load_error_path"] = ss.get("case_path")
        return
    ss["run_error"] = None
    ss["run_problems"] = None
    ss["case_base"] = data
    ss["case_loaded_path"] = label
    ss["case_path_at_upload"] = str(ss.get("case_path", "")).strip()
    ss["case_load_error"] = None
    for spec in state.FIELDS:
        ss[spec.key] = state.to_widget(spec, state.get_path(data, spec.path))


def _base_dir(loaded: str) -> Path:
    """Relative data paths of an uploaded case resolve against the project's config/cases."""
    if loaded.startswith(UPLOAD_PREFIX):
        return state.project_root() / "config" / "cases"
    return Path(loaded).parent


def _pick() -> None:
    st.session_state["case_path"] = st.session_state["case_pick"]


def _widget(spec: state.FieldSpec) -> Any:
    kw: dict[str, Any] = {"key": spec.key, "help": spec.help, "persist_state": KEEP}
    if spec.kind == "date":
        return st.date_input(
            spec.label, min_value=date(2000, 1, 1), max_value=date(2100, 12, 31), **kw
        )
    if spec.kind == "choice":
        options = state.choice_options(spec, st.session_state.get(spec.key))
        return st.selectbox(spec.label, options=options, **kw)
    if spec.kind == "int":
        return st.number_input(spec.label, step=int(spec.step or 1), format="%d", **kw)
    return st.number_input(spec.label, step=spec.step, format=spec.fmt or "%.2f", **kw)


def _section(section: str, paths: list[str], problems: state.Problems) -> None:
    st.markdown(f"**{state.SECTIONS[section]}**")
    cols = st.columns(len(paths))
    for col, path in zip(cols, paths, strict=True):
        with col:
            _widget(state.FIELDS_BY_PATH[path])
            for msg in problems.by_field.get(path, []):
                st.error(msg, icon="⚠️")
    for msg in problems.by_section.get(section, []):
        st.error(msg, icon="⚠️")


def _run(case: Any, fingerprint: str) -> None:
    ss = st.session_state
    days = (case.horizon.end - case.horizon.start).days
    with st.status("Solving the MILP with HiGHS …", expanded=True) as status:
        st.write(
            f"{case.name}: {days} day(s) at {case.horizon.timestep_minutes} min — loading "
            "market data, building the model, solving …"
        )
        outcome = state.run(case)
        # store before any further st call: a rerun requested meanwhile must not lose it
        if outcome.ok:
            ss["results"] = outcome.results
            ss["results_origin"] = (
                f"{case.name} from {ss.get('case_loaded_path')} (run at {datetime.now():%H:%M:%S})"
            )
            ss["run_error"] = None
            ss["run_problems"] = None
        else:
            ss["run_error"] = (state.ERROR_TITLES[outcome.kind], outcome.error or "")
            ss["run_problems"] = (fingerprint, outcome.problems) if outcome.problems else None
        if outcome.ok:
            status.update(
                label=f"Solved: {state.solver_line(outcome.results)}",
                state="complete",
                expanded=False,
            )
        else:
            status.update(label=f"Run failed: {ss['run_error'][0]}", state="error")
    if not outcome.ok and outcome.problems:
        st.rerun()  # show the problems next to their fields


def main() -> None:
    ss = st.session_state
    st.title("Case & run")
    if "case_path" not in ss:
        ss["case_path"] = state.default_case_path()
    files = state.list_case_files()
    c1, c2, c3 = st.columns([2, 3, 1], vertical_alignment="bottom")
    c1.selectbox(
        "Shipped cases (config/cases)",
        options=files,
        index=None,
        placeholder="pick a case file …",
        key="case_pick",
        on_change=_pick,
    )
    c2.text_input("Case file", key="case_path", persist_state=KEEP)
    reload = c3.button("Reload", help="re-read the file, discarding edits")
    st.file_uploader(
        "… or upload a case JSON", type=["json"], key="case_upload", on_change=_load_upload
    )
    path = str(ss["case_path"]).strip()
    uploaded = str(ss.get("case_loaded_path", "")).startswith(UPLOAD_PREFIX)
    kept_upload = uploaded and path == ss.get("case_path_at_upload")
    if reload or (path != ss.get("case_loaded_path") and not kept_upload):
        _load(path)
    if ss.get("case_load_error") and ss.get("case_load_error_path") == path:
        panels.error_box("Cannot open the case", ss["case_load_error"])
    if "case_base" not in ss:
        st.info("Enter the path of a case JSON file to start.")
        return
    loaded = ss["case_loaded_path"]
    if loaded != path:
        st.caption(f"The form still shows the last case that opened: `{loaded}`.")

    # keep widget values across page switches
    for spec in state.FIELDS:
        if spec.key not in ss:
            ss[spec.key] = state.to_widget(spec, state.get_path(ss["case_base"], spec.path))
    values = {spec.path: ss.get(spec.key) for spec in state.FIELDS}
    edited = state.apply_edits(ss["case_base"], values)
    fingerprint = json.dumps(edited, sort_keys=True, default=str)
    case, problems = state.validate(edited, loaded, _base_dir(loaded))
    run_problems = ss.get("run_problems")
    if case is not None and run_problems and run_problems[0] == fingerprint:
        problems = list(run_problems[1])
    sorted_problems = state.sort_problems(problems)

    with st.container(border=True):
        # the name is shown once validated; before that only the file it came from
        st.markdown(f"#### {case.name if case is not None else Path(loaded).name}")
        for row in ROWS:
            cols = st.columns([len(dict(LAYOUT)[s]) for s in row])
            for col, section in zip(cols, row, strict=True):
                with col:
                    _section(section, dict(LAYOUT)[section], sorted_problems)
        for msg in sorted_problems.other:
            st.error(msg, icon="⚠️")
        with st.expander("All case fields (as validated)"):
            if case is not None:  # only what the schema accepted, never the raw file
                st.json(case.model_dump(mode="json"), expanded=False)
            else:
                st.caption("Shown once the case is valid.")

    if case is None:
        st.warning(
            f"{len(sorted_problems)} problem(s) in the case: fix them (shown under their "
            "fields) to run."
        )
    clicked = st.button(
        "Run MILP", type="primary", disabled=case is None, key="run_milp", icon=":material/bolt:"
    )
    if clicked and case is not None:
        _run(case, fingerprint)

    if ss.get("run_error"):
        title, message = ss["run_error"]
        panels.error_box(title, message)
    results = ss.get("results")
    if results is None:
        st.caption("No results yet: press **Run MILP**.")
        return
    st.divider()
    if ss.get("run_error"):
        st.info(f"Showing the last successful result: {ss.get('results_origin', '')}")
    st.subheader("Results")
    st.success(f"Last run: {ss.get('results_origin', '')}: {state.solver_line(results)}")
    panels.results_panel(results, key="case")


main()
