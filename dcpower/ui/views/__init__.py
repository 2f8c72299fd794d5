"""Page scripts of the Streamlit app, run by ``st.navigation`` in ``dcpower/ui/app.py``.

Not named ``pages/``: Streamlit would also treat such a folder as a legacy multipage app and,
when a page URL is opened directly, run the page without the entry point.
"""
