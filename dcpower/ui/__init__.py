"""Streamlit UI of dcpower: edit and solve a case, explore its results, browse sizing sweeps.

The UI never builds a model: it calls :func:`dcpower.runner.run_case` and reads the files the
sweep workflow writes. Start it with ``dcpower ui`` or
``python -m streamlit run dcpower/ui/app.py``. Logic lives in plain modules that import no
Streamlit (:mod:`dcpower.ui.state` for cases, runs, downloads and sweeps,
:mod:`dcpower.ui.charts` for the Altair charts); :mod:`dcpower.ui.panels` and ``views/`` only
lay out widgets.
"""

from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"
