"""`mockgc run` watches its children: a dead mock or worker stops the load, leaves a partial report, exits 2."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Long enough that loading a dead target to the end would blow the deadline below.
DURATION = 60


def start_run(out: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--out", str(out), "--profile", "fast"]
    command += ["--users", "10", "--duration", str(DURATION), "--think-time", "0.2", "--drain-timeout", "3", *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_load(run: subprocess.Popen[str], out: Path) -> list[psutil.Process]:
    stats = out / "locust_stats.csv"
    deadline = time.monotonic() + 60
    while not (stats.exists() and "OUTCOME" in stats.read_text()):
        assert time.monotonic() < deadline and run.poll() is None, "the load never started"
        time.sleep(0.2)
    return psutil.Process(run.pid).children(recursive=True)


def child_running(processes: list[psutil.Process], argument: str) -> psutil.Process:
    found = [p for p in processes if argument in p.cmdline()]
    assert len(found) == 1, [p.cmdline() for p in processes]
    return found[0]


def finish(run: subprocess.Popen[str], started: list[psutil.Process]) -> str:
    try:
        # Well under DURATION: the run must stop the load once its child is dead, not load to the end.
        output, _ = run.communicate(timeout=DURATION - 15)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(10)
    for process in started:
        assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE, process
    return output


def credentials(processes: list[psutil.Process]) -> set[str]:
    """The credentials the run handed its children (the mock's admin key and client secret, the load's)."""
    return {
        value
        for process in processes
        for name, value in process.environ().items()
        if name in ("MOCKGC_ADMIN_KEY", "MOCKGC_CLIENT_SECRET") and value
    }


def test_a_killed_mock_stops_the_run_with_a_partial_report_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "dead-mock"
    run = start_run(out, "--mitigation", "none", "--publish-at", "0.5")
    started = wait_for_load(run, out)
    mock = child_running(started, "serve")
    held = credentials(started)
    assert len(held) >= 3  # the mock's admin key and client secret, the load client's secret
    mock.send_signal(signal.SIGKILL)
    output = finish(run, started)
    assert run.returncode == 2, output
    assert "Traceback" not in output
    assert f"the mock (pid {mock.pid}) was killed by signal 9" in output
    result = json.loads((out / "result.json").read_text())
    assert result["partial"] is True and result["verdict"] == "unknown"
    stopped = result["stopped_by"]
    assert (stopped["process"], stopped["pid"], stopped["exit_code"]) == ("mock", mock.pid, -9)
    assert stopped["ground_truth"] is False and stopped["load_seconds"] < DURATION
    assert result["harness"]["problems"][0].startswith(f"the mock (pid {mock.pid}) was killed by signal 9 at ")
    assert result["sessions"]["total"] > 0  # what the load made before the death is kept
    assert "partial: the mock died" in (out / "report.html").read_text()
    # Issue 19/23: the dead mock's log tail carried its client secret and admin key into result.json,
    # and mock.log kept them. No file under --out holds a credential, nor does what the run printed.
    assert "[redacted]" in (out / "mock.log").read_text() or "(as given)" in (out / "mock.log").read_text()
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [secret for secret in held if secret.encode() in data], path
    assert not [secret for secret in held if secret in output]


def test_a_killed_worker_stops_the_run_and_the_mock_still_gives_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "dead-worker"
    run = start_run(out, "--mitigation", "async-worker", "--publish-at", "0.5")
    started = wait_for_load(run, out)
    worker = child_running(started, "worker")
    worker.send_signal(signal.SIGKILL)
    output = finish(run, started)
    assert run.returncode == 2, output
    assert f"the worker (pid {worker.pid}) was killed by signal 9" in output
    result = json.loads((out / "result.json").read_text())
    assert result["partial"] is True and result["verdict"] in ("holds", "fails")
    assert result["stopped_by"]["process"] == "worker" and result["stopped_by"]["ground_truth"] is True
    assert result["sessions"]["total"] > 0 and len(result["publish_operations"]) == 1


@pytest.mark.parametrize(
    ("strategy", "name", "what"),
    [
        # Asks the time forever: 10,000 effects in milliseconds, never a greenlet switch.
        ("tests.planted:Spinning", "planted-spinning", "more than 10000 effects in one flow"),
        # Loops without yielding at all: only the step watch's own thread sees it.
        ("tests.planted:BusyLoop", "planted-busy-loop", "one step ran past 1 s of wall-clock time"),
    ],
)
def test_a_live_runaway_is_named_with_its_session_and_the_run_stops_with_a_partial_report(
    tmp_path: Path, strategy: str, name: str, what: str
) -> None:
    """It ran 122 s and ended `Locust ran past its bound`, with no result, no report and no name."""
    spec = tmp_path / "spec.toml"
    spec.write_text(f'mitigation = "{strategy}"\nmax_step_seconds = "1s"\n')
    out = tmp_path / "runaway"
    began = time.monotonic()
    run = start_run(out, "--spec", str(spec), "--users", "3", "--publish-at", "30")
    output, _ = run.communicate(timeout=DURATION - 15)
    assert run.returncode == 2, output
    assert time.monotonic() - began < DURATION - 15  # seconds after the flow's bound, not the run's end
    assert f"runaway flow: {name}, session local.u" in output and what in output and "Traceback" not in output
    result = json.loads((out / "result.json").read_text())
    assert result["partial"] is True and result["harness"]["problems"][0].startswith(f"runaway flow: {name}, session ")
    assert (out / "report.html").exists()
