"""The sizing sweep on a live single-node SLURM (scripts/slurm_local.sh), via the workflow's
SLURM profile (snakemake-executor-plugin-slurm). Skips when SLURM cannot be brought up here (not
root, no apt-get, ...) or the plugin is not installed (pip install -e ".[cluster]")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, copy_workflow

pytestmark = pytest.mark.cluster

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SCRIPT = ROOT / "scripts" / "slurm_local.sh"
STUDY = "results/test_study"
SCENARIOS = {f"bess_mwh~{b}/gen_units~{g}/transformer_mva~160" for b in (200, 400) for g in (2, 4)}
SLURM_ARGS = [
    "--workflow-profile",
    "workflow/profiles/slurm",
    "--default-resources",
    "slurm_partition=debug",
    "--slurm-keep-successful-logs",  # the per-job SLURM logs show which scenarios each job ran
]


def _script(cmd: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), cmd], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def slurm():
    """A live SLURM: brought up by scripts/slurm_local.sh and down again after the session
    (left running if the script had already started it before the tests)."""
    pytest.importorskip(
        "snakemake_executor_plugin_slurm", reason='pip install -e ".[cluster]" for this test'
    )
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("local SLURM needs Linux and root (scripts/slurm_local.sh up)")
    already_up = _script("status", timeout=60).returncode == 0
    try:
        up = _script("up")
    except subprocess.TimeoutExpired as err:
        _script("down", timeout=120)
        pytest.fail(f"scripts/slurm_local.sh up timed out: {err.stderr}")
    if up.returncode != 0:  # root on Linux: the script must work here, so this is a failure
        if not already_up:
            _script("down", timeout=120)
        pytest.fail(f"scripts/slurm_local.sh up failed: {up.stderr[-2000:]}")
    yield
    if not already_up:
        down = _script("down", timeout=120)
        assert down.returncode == 0, down.stderr


def _cancel_jobs_of(work: Path) -> None:
    """scancel any job of ours still queued or running (e.g. after a timeout)."""
    out = subprocess.run(
        ["squeue", "-h", "-t", "PENDING,RUNNING", "-o", "%i|%Z"], capture_output=True, text=True
    ).stdout
    ids = [i for i, _, wd in (ln.partition("|") for ln in out.splitlines()) if wd == str(work)]
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True)


def _snakemake(work: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return _snakemake_parallel({work: args}, timeout)[work]


def _snakemake_parallel(
    runs: dict[Path, tuple[str, ...]], timeout: int = 300
) -> dict[Path, subprocess.CompletedProcess]:
    """Snakemake runs side by side (each in its own copy); SIGKILL and scancel on timeout."""
    procs = {
        work: subprocess.Popen(
            [*SNAKEMAKE, *args], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for work, args in runs.items()
    }
    done = {}
    try:
        deadline = time.monotonic() + timeout
        for work, proc in procs.items():
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            done[work] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        for work, proc in procs.items():
            if proc.poll() is None:
                proc.kill()  # Snakemake ignores SIGTERM while it waits for cluster jobs
                proc.communicate()
            _cancel_jobs_of(work)
    return done


def _slurm_jobs(work: Path, proc: subprocess.CompletedProcess) -> dict[str, dict]:
    """SLURM jobs of this Snakemake run: id -> state, CPUs, and the scenarios its log shows."""
    m = re.search(r"SLURM run ID: (\S+)", proc.stderr)
    assert m, "no SLURM run ID in the Snakemake output: " + proc.stderr[-2000:]
    run_id = m.group(1)
    out = subprocess.run(  # finished jobs stay listed for MinJobAge (600 s in slurm_local.sh)
        ["squeue", "-h", "--states=all", "--name", run_id, "-o", "%i|%T|%C"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs = {}
    for line in out.splitlines():
        jobid, state, cpus = line.split("|")
        logs = list((work / ".snakemake" / "slurm_logs").rglob(f"{jobid}.log"))
        assert len(logs) == 1, f"no SLURM log for job {jobid}"
        wildcards = re.findall(
            r"wildcards: bess_mwh=(\d+), gen_units=(\d+), transformer_mva=(\d+)",
            logs[0].read_text(),
        )
        jobs[jobid] = {
            "state": state,
            "cpus": int(cpus),
            "scenarios": {
                f"bess_mwh~{b}/gen_units~{g}/transformer_mva~{t}" for b, g, t in wildcards
            },
        }
    return jobs


@pytest.fixture(scope="module")
def local_summary(tmp_path_factory) -> pd.DataFrame:
    """The tiny study run locally with --cores 2: the reference for the SLURM runs."""
    work = copy_workflow(tmp_path_factory.mktemp("local"))
    proc = _snakemake(
        work, f"{STUDY}/summary.parquet", "--cores", "2", "--configfile", "config/test/config.yaml"
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return pd.read_parquet(work / STUDY / "summary.parquet")


def _assert_same_results(summary: pd.DataFrame, reference: pd.DataFrame) -> None:
    assert set(summary["scenario"]) == SCENARIOS == set(reference["scenario"])
    a = summary.set_index("scenario").sort_index()
    b = reference.set_index("scenario").sort_index()
    assert list(a["solver_status"]) == list(b["solver_status"])
    rel = (a["annual_total_cost_usd"] - b["annual_total_cost_usd"]).abs() / b[
        "annual_total_cost_usd"
    ].abs().clip(lower=1.0)
    assert (rel <= 1e-6).all(), rel


@pytest.fixture(scope="module")
def slurm_runs(slurm, tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """The tiny study through SLURM twice, side by side: one SLURM job per solve
    (--group-components solve=1), and the profile's grouping (solve=4, summary only)."""
    single = copy_workflow(tmp_path_factory.mktemp("slurm_single"))
    grouped = copy_workflow(tmp_path_factory.mktemp("slurm_grouped"))
    config = ("--configfile", "config/test/config.yaml")
    procs = _snakemake_parallel(
        {
            single: (*SLURM_ARGS, "--group-components", "solve=1", *config),
            grouped: (f"{STUDY}/summary.parquet", *SLURM_ARGS, *config),
        }
    )
    return {"single": (single, procs[single]), "grouped": (grouped, procs[grouped])}


def test_tiny_study_on_slurm_matches_local_run(slurm_runs, local_summary):
    work, proc = slurm_runs["single"]
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = work / STUDY
    assert (out / "study_summary.md").is_file() and (out / "plots" / "frontier.png").is_file()

    jobs = _slurm_jobs(work, proc)
    assert len(jobs) == 4  # one SLURM job per scenario solve (grouping switched off)
    assert all(j["state"] == "COMPLETED" for j in jobs.values()), jobs
    assert all(len(j["scenarios"]) == 1 for j in jobs.values()), jobs
    assert set().union(*(j["scenarios"] for j in jobs.values())) == SCENARIOS
    _assert_same_results(pd.read_parquet(out / "summary.parquet"), local_summary)


def test_profile_packs_four_solves_into_one_slurm_job(slurm_runs, local_summary):
    work, proc = slurm_runs["grouped"]  # the profile's group-components: solve=4
    assert proc.returncode == 0, proc.stderr[-4000:]

    jobs = _slurm_jobs(work, proc)
    assert len(jobs) == 1, jobs  # all 4 solves in ONE SLURM job
    (job,) = jobs.values()
    assert job["state"] == "COMPLETED" and job["scenarios"] == SCENARIOS
    assert job["cpus"] == 1  # the profile's `cores: 1`: the solves run one after the other
    _assert_same_results(pd.read_parquet(work / STUDY / "summary.parquet"), local_summary)


def test_search_runs_through_the_slurm_profile_as_it_runs_locally(slurm, tmp_path_factory):
    """Sizing by search (config/test/config_search.yaml) through the SLURM profile and locally,
    side by side: the same rounds, the same scenarios (each solved in a SLURM job), the same
    costs and the same chosen size per level."""
    config = ("--configfile", "config/test/config_search.yaml")
    on_slurm = copy_workflow(tmp_path_factory.mktemp("slurm_search"))
    local = copy_workflow(tmp_path_factory.mktemp("local_search"))
    procs = _snakemake_parallel(
        {on_slurm: (*SLURM_ARGS, *config), local: ("--cores", "1", *config)}, timeout=900
    )
    for work, proc in procs.items():
        assert proc.returncode == 0, (work, proc.stderr[-4000:])
    out, ref = on_slurm / "results" / "test_search", local / "results" / "test_search"
    rounds = sorted(p.name for p in (out / "search").glob("round_*.json"))
    assert len(rounds) >= 2 and rounds == sorted(p.name for p in (ref / "search").glob("*.json"))
    for name in rounds:
        assert (out / "search" / name).read_text() == (ref / "search" / name).read_text()

    summary = pd.read_parquet(out / "summary.parquet")
    jobs = _slurm_jobs(on_slurm, procs[on_slurm])
    assert jobs and all(j["state"] == "COMPLETED" for j in jobs.values()), jobs
    assert set().union(*(j["scenarios"] for j in jobs.values())) == set(summary["scenario"])
    assert (summary["search_round"] >= 0).all()
    reference = pd.read_parquet(ref / "summary.parquet")
    a = summary.set_index("scenario").sort_index()
    b = reference.set_index("scenario").sort_index()
    assert list(a.index) == list(b.index) and list(a["search_round"]) == list(b["search_round"])
    rel = (a["annual_total_cost_usd"] - b["annual_total_cost_usd"]).abs() / b[
        "annual_total_cost_usd"
    ].abs()
    assert (rel <= 1e-6).all(), rel
    chosen = [ln for ln in (out / "study_summary.md").read_text().splitlines() if "bess_mwh~" in ln]
    assert (
        chosen
        and chosen[:2]
        == [ln for ln in (ref / "study_summary.md").read_text().splitlines() if "bess_mwh~" in ln][
            :2
        ]
    )
