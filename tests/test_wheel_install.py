"""A wheel built from the repository, installed into a fresh venv, finds its shipped data and
runs the example case from another working folder (no checkout on the path)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def test_wheel_runs_the_example_case_from_another_folder(tmp_path):
    # no checkout on the path: not through PYTHONPATH, not through a data root of its own
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DCPOWER_DATA_ROOT")}
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("dcpower-*.whl")
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    # the project's dependencies reused (no download): the test venv's site-packages on the
    # path after the wheel's; its .pth files (the editable install) are not processed
    (site / "reuse_project_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q"]
        + ["--no-index", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(ROOT / "config" / "cases" / "example_ercot.json", work / "case.json")
    run = subprocess.run(
        [str(py), "-m", "dcpower", "run", "case.json", "--out", "results.json"],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((work / "results.json").read_text())
    assert results["solver"]["status"] in ("optimal", "feasible")
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import dcpower, dcpower.data_root as d; print(dcpower.__file__);print(d.data_root())",
        ],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
    )
    assert where.returncode == 0, where.stderr[-2000:]
    module, data = where.stdout.split()
    assert Path(module).is_relative_to(site) and Path(data).is_relative_to(site)
