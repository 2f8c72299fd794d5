"""dcpower UI entry point: ``python -m streamlit run dcpower/ui/app.py`` (or ``dcpower ui``).

Three pages: **Case & run** (edit, validate and solve a case, explore its results), **Results
file** (explore a results JSON written by ``dcpower run``) and **Sweep** (frontier, scenario
table and dispatch of a sizing study under ``results/<study>/``).
"""

import streamlit as st

st.set_page_config(page_title="dcpower", page_icon="⚡", layout="wide")

pages = [
    st.Page("views/case.py", title="Case & run", icon=":material/tune:", default=True),
    st.Page("views/results.py", title="Results file", icon=":material/description:"),
    st.Page("views/sweep.py", title="Sweep", icon=":material/scatter_plot:"),
]
st.navigation(pages).run()
