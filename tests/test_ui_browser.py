"""End to end in a real browser: the Streamlit app in a subprocess, driven by headless Chromium.

Chromium is driven over its own DevTools protocol (CDP) with the ``websockets`` client that
Streamlit already depends on, so no browser-automation package is needed. Skipped when Debian's
``/usr/bin/chromium`` is missing (``bash scripts/install_chromium.sh`` installs it).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = (1400, 2200)

ws_sync = pytest.importorskip("websockets.sync.client", reason="needs websockets (streamlit dep)")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="/usr/bin/chromium not installed; run `bash scripts/install_chromium.sh`",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(check, timeout_s: float, what: str, interval_s: float = 0.2):
    """Poll ``check()`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(interval_s)


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read()
    except OSError:
        return None


def _stop(proc: subprocess.Popen) -> None:
    """End a process group this test started (by its id), politely first."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Cdp:
    """Minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws_url: str):
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(ws_sync.connect(ws_url, max_size=None, open_timeout=10))
        self.ids = itertools.count(1)

    def call(self, method: str, timeout_s: float = 30, **params):
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def short_case(tmp_path) -> Path:
    """The example case cut to two days (a short solve)."""
    data = json.loads((ROOT / "config" / "cases" / "example_ercot.json").read_text())
    data["horizon"]["end"] = "2023-07-12"
    path = tmp_path / "example_2d.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def sweep_study(tmp_path) -> Path:
    """results/<study>/ with long numbers (cost, interval, ties) and one scenario's dispatch
    (two days of the example case's solved dispatch, with REGDN awards)."""
    from dcpower.case import load_case
    from dcpower.results import records_to_frame
    from dcpower.runner import run_case

    data = json.loads((ROOT / "config" / "cases" / "example_ercot.json").read_text())
    data["horizon"]["end"] = "2023-07-12"
    case = tmp_path / "sweep_case.json"
    case.write_text(json.dumps(data))
    dispatch = records_to_frame(run_case(load_case(case))["dispatch"])
    study = tmp_path / "results" / "wide_study"
    names = [
        f"bess_mwh~{b}/gen_units~{u}/transformer_mva~{t}"
        for b, u, t in [(200, 4, 120), (400, 4, 120), (400, 4, 160)]
    ]
    study.mkdir(parents=True)
    pd.DataFrame(
        {
            "scenario": names,
            "bess_mwh": [200, 400, 400],
            "gen_units": [4, 4, 4],
            "transformer_mva": [120, 120, 160],
            "annual_total_cost_usd": [31_234_567.89, 35_740_123.45, 35_736_987.65],
            "annual_total_cost_lower_bound_usd": [31_200_000.0, 35_660_000.0, 35_700_000.0],
            "tied_with": ["", names[2], names[1]],
            "net_operating_value_usd": [-8_732_745.12, -7_100_000.0, -7_050_000.0],
            "survival_prob_4h": [0.0, 0.97, 0.97],
            "survival_prob_8h": [0.0, 0.9512, 0.9512],
            "pareto": [True, False, True],
            "solver_status": ["feasible_above_requested_gap", "optimal", "optimal"],
            "solver_gap": [0.0096, 0.004, 0.003],
            "solver_gap_requested": [0.005] * 3,
            "warnings": ["5 of 53 windows stopped above the requested gap", "", ""],
        }
    ).to_parquet(study / "summary.parquet")
    for name in names:
        (study / "scenarios" / name).mkdir(parents=True)
        dispatch.to_parquet(study / "scenarios" / name / "dispatch.parquet")
    (study / "prices").mkdir()
    (study / "prices" / "prices_2023.json").write_text(json.dumps({"provenance": {"iso": "ercot"}}))
    return study


@pytest.fixture
def app_url(short_case, sweep_study, tmp_path):
    """`dcpower ui --headless` (the app's own Streamlit settings) on a free port."""
    port = _free_port()
    env = {
        **os.environ,
        "DCPOWER_UI_DEFAULT_CASE": str(short_case),
        "DCPOWER_UI_RESULTS_DIR": str(sweep_study.parent),
        "DCPOWER_UI_ROOTS": os.pathsep.join([str(ROOT / "config"), str(tmp_path)]),
        "HOME": str(tmp_path),  # no ~/.streamlit: nothing may prompt
    }
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcpower", "ui", "--headless", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(
            lambda: proc.poll() is not None or _get(f"{url}/_stcore/health") == b"ok",
            60,
            "streamlit to answer",
        )
        assert proc.poll() is None, (tmp_path / "streamlit.log").read_text()
        yield url
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    w, h = VIEWPORT
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            f"--window-size={w},{h}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    cdp = None
    try:
        active = profile / "DevToolsActivePort"
        _wait_for(lambda: active.is_file() and active.read_text().strip(), 30, "Chromium")
        port = active.read_text().split()[0]

        def page_ws():
            raw = _get(f"http://127.0.0.1:{port}/json/list")
            pages = [t for t in json.loads(raw or b"[]") if t.get("type") == "page"]
            return pages[0]["webSocketDebuggerUrl"] if pages else None

        cdp = Cdp(_wait_for(page_ws, 30, "a Chromium page target"))
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            width=w,
            height=h,
            deviceScaleFactor=1,
            mobile=False,
        )
        yield cdp
    finally:
        if cdp is not None:
            cdp.close()
        _stop(proc)


BODY = "document.body ? document.body.innerText : ''"
RUN_BUTTON_RECT = """(() => {
  const b = [...document.querySelectorAll('button')].find(
      e => e.innerText.includes('Run MILP') && !e.disabled);
  if (!b) return null;
  b.scrollIntoView({block: 'center'});
  const r = b.getBoundingClientRect();
  return {x: r.x + r.width / 2, y: r.y + r.height / 2};
})()"""
CHARTS_DRAWN = """document.querySelectorAll(
  '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks').length"""


def test_run_example_in_chromium(browser, app_url, short_case, tmp_path):
    cdp = browser
    cdp.call("Page.enable")
    cdp.call("Page.navigate", url=app_url)
    # the script renders top to bottom: wait for the whole form, not just the button
    _wait_for(lambda: "BESS energy (MWh)" in cdp.js(BODY), 60, "the case form")
    rect = _wait_for(lambda: cdp.js(RUN_BUTTON_RECT), 60, "the Run MILP button")
    body = cdp.js(BODY)
    assert "Case & run" in body and "BESS energy (MWh)" in body
    assert cdp.js(CHARTS_DRAWN) == 0  # no results before the run

    clicked = time.perf_counter()
    cdp.click(rect["x"], rect["y"])
    _wait_for(
        lambda: cdp.js(CHARTS_DRAWN) and "Last run:" in cdp.js(BODY),
        120,
        "the result charts",
    )
    click_to_charts = time.perf_counter() - clicked
    print(f"\nclick → charts drawn: {click_to_charts:.2f} s")
    # the script run ends with the download buttons; wait for them before the screenshot
    _wait_for(lambda: "Download Parquet tables" in cdp.js(BODY), 60, "the end of the run")

    body = cdp.js(BODY)
    assert "Solver status" in body and "optimal" in body
    assert re.search(r"Net value\n+[−-]?[\d.,]+ [kMGT]?\$", body), body[:2000]  # compact
    assert cdp.js(CUT_METRICS) == [], cdp.js(METRIC_TEXT)  # every headline number whole
    assert not cdp.js(DEPLOY)
    assert "Run failed" not in body and "Traceback" not in body
    assert str(short_case) in body  # the env var chose the 2-day case
    cdp.js(
        "window.scrollTo(0, 0); document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)"
    )
    shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    path = tmp_path / "ui_after_run.png"
    path.write_bytes(shot)
    print(f"screenshot: {path}")
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000


#: metric tiles whose text does not fit (cut off or ellipsised), as "label: value"
CUT_METRICS = """[...document.querySelectorAll('[data-testid="stMetric"]')].filter(m => {
  const v = m.querySelector('[data-testid="stMetricValue"]');
  const cut = e => e.scrollWidth > e.clientWidth + 1;
  return v && (cut(v) || [...v.querySelectorAll('*')].some(cut));
}).map(m => m.innerText.replace(/\\n+/g, ': '))"""
METRIC_TEXT = """[...document.querySelectorAll('[data-testid="stMetric"]')].map(
  m => m.innerText.replace(/\\n+/g, ': '))"""
DEPLOY = "[...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Deploy')"


def test_sweep_page_shows_every_number_whole_at_1400_px(browser, app_url, tmp_path):
    """The sweep page at a 1400-px window: every headline number whole (compact units), the
    table led by the size and the cost with its interval, the worst gap, no Deploy button."""
    cdp = browser
    cdp.call("Page.enable")
    cdp.call("Page.navigate", url=f"{app_url}/sweep")
    _wait_for(lambda: "Scenario dispatch" in cdp.js(BODY), 90, "the sweep page")
    _wait_for(lambda: cdp.js(CHARTS_DRAWN) >= 2, 60, "the frontier and dispatch charts")
    body = cdp.js(BODY)
    assert "Traceback" not in body and "Could not draw" not in body
    tiles = cdp.js(METRIC_TEXT)
    assert "Cheapest: 31.2 M$/yr" in tiles and "Worst gap: 0.96%" in tiles, tiles
    assert cdp.js(CUT_METRICS) == []
    assert "tied in cost" in body  # the ties are stated
    # the scenario opened first is the cheapest: its solve's warning is shown with it
    assert "5 of 53 windows stopped above the requested gap" in body
    assert not cdp.js(DEPLOY)
    shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "ui_sweep.png").write_bytes(shot)
    print(f"screenshot: {tmp_path / 'ui_sweep.png'}")
    _an_old_error_does_not_hide_a_new_one(cdp, app_url, tmp_path)


def _an_old_error_does_not_hide_a_new_one(cdp, app_url, tmp_path):
    """Results page: a bad upload's error, then a path typed after it gets its own error."""
    (tmp_path / "first.json").write_text("{not json")
    (tmp_path / "second.json").write_text("[]")
    cdp.call("Page.navigate", url=f"{app_url}/results")
    radio = (
        "[...document.querySelectorAll('[data-testid=\"stRadio\"] label')]"
        ".find(l => l.innerText.includes('Results JSON file'))"
    )
    _wait_for(lambda: cdp.js(f"!!{radio}"), 60, "the results page's source choice")
    cdp.js(f"{radio}.click()")
    _wait_for(lambda: cdp.js("document.querySelector('input[type=file]') !== null"), 30, "upload")
    doc = cdp.call("DOM.getDocument")
    node = cdp.call("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector="input[type=file]")
    cdp.call("DOM.setFileInputFiles", nodeId=node["nodeId"], files=[str(tmp_path / "first.json")])
    _wait_for(lambda: "first.json" in cdp.js(BODY) and "Cannot open" in cdp.js(BODY), 30, "A")
    box = cdp.js(
        "(() => { const i = [...document.querySelectorAll('input')].find(e => e.getAttribute("
        "'aria-label') === 'Results JSON path'); const r = i.getBoundingClientRect(); "
        "return {x: r.x + 5, y: r.y + r.height / 2}; })()"
    )
    cdp.click(box["x"], box["y"])
    cdp.call("Input.insertText", text=str(tmp_path / "second.json"))
    cdp.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
             windowsVirtualKeyCode=13)  # fmt: skip
    _wait_for(lambda: "second.json" in cdp.js(BODY), 30, "the error of the path typed last")
    body = cdp.js(BODY)
    assert "Cannot open the results" in body and "second.json" in body
