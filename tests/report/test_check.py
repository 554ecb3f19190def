"""`mockgc check`: any run's output judged offline, by-hand Locust runs (headless and web UI) included."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from mockgc.report.evidence import SavedEvidence, next_test_dir, per_test_dirs, read_evidence, write_evidence

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY, CLIENT_ID, CLIENT_SECRET = "check-admin", "check-client", "check-secret"
BY_HAND = [
    "--mitigation",
    "none",
    "--fault-profile",
    "fast",
    "--publish-at",
    "0.2",
    "--think-time",
    "0.1",
    "--admin-key",
    ADMIN_KEY,
    "--client-id",
    CLIENT_ID,
    "--client-secret",
    CLIENT_SECRET,
]


@pytest.fixture
def mock() -> Iterator[ServerThread]:
    settings = Settings(
        seed=5,
        agents=10,
        profile="fast",
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        rate_limit_per_minute=0,
    )
    with ServerThread(create_app(settings)) as server:
        yield server


def mockgc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockgc.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"), *args]


def check(*args: str) -> subprocess.CompletedProcess[str]:
    """`mockgc check` in this process (it imports no Locust): the same exit code and output, without a start-up."""
    from click.testing import CliRunner

    from mockgc.cli import main

    done = CliRunner().invoke(main, ["check", *args])
    return subprocess.CompletedProcess(["mockgc", "check", *args], done.exit_code, done.output, "")


def result_of(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "result.json").read_text())


def test_next_test_dir_never_takes_a_directory_twice(tmp_path: Path) -> None:
    first, second = next_test_dir(tmp_path), next_test_dir(tmp_path)
    assert (first.name, second.name) == ("test-001", "test-002")
    (tmp_path / "test-007").mkdir()
    assert next_test_dir(tmp_path).name == "test-008"
    assert [d.name for d in per_test_dirs(tmp_path)] == ["test-001", "test-002", "test-007", "test-008"]


def test_evidence_round_trips_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    saved = SavedEvidence(
        spec={"mitigation": "none"}, operations=[], truth={"s": {"variables": {}}}, repairs={"s": 1.5}
    )
    write_evidence(tmp_path, saved)
    assert read_evidence(tmp_path) == saved
    (tmp_path / "evidence.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a mockgc-evidence/1 document"):
        read_evidence(tmp_path)


def test_check_without_evidence_says_why_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "history.jsonl").write_text("")
    done = check(str(tmp_path))
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "no evidence.json" in lines[0] and "--admin-key" in lines[0]


@pytest.mark.live
def test_a_headless_by_hand_run_gets_its_own_directory_and_verdict(tmp_path: Path, mock: ServerThread) -> None:
    runs = tmp_path / "runs"
    args = ("--host", mock.url, "--headless", "-u", "4", "-r", "4", "-t", "4s", "--history-dir", str(runs), *BY_HAND)
    subprocess.run(locust(*args), capture_output=True, text=True, timeout=90, cwd=ROOT)
    (test,) = per_test_dirs(runs)
    assert test.name == "test-001"
    done = check(str(runs))
    assert done.returncode == 1, done.stdout + done.stderr  # `none` under a publish loses data
    quiet = check("-q", str(runs))
    assert (quiet.returncode, quiet.stdout) == (1, "fails\n")  # -q: only the verdict
    result = result_of(test)
    evidence = json.loads((test / "evidence.json").read_text())
    assert evidence["written_by"] == "locust master" and evidence["truth"]
    assert result["sessions"]["total"] > 0 and result["harness"]["errors"] == 0
    assert len(result["publish_operations"]) == 1 and (test / "report.html").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


@pytest.mark.live
def test_each_test_of_one_web_ui_session_writes_its_own_directory(tmp_path: Path, mock: ServerThread) -> None:
    runs, port = tmp_path / "runs", _free_port()
    ui = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        locust(
            "--host", mock.url, "--web-host", "127.0.0.1", "--web-port", str(port), "--history-dir", str(runs), *BY_HAND
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:

        def up() -> bool:
            try:
                return requests.get(f"{ui}/stats/requests", timeout=2).ok
            except requests.RequestException:
                return False

        _wait(up)
        for number in (1, 2):
            assert requests.post(f"{ui}/swarm", data={"user_count": 4, "spawn_rate": 4}, timeout=10).ok
            # Let it make interactions and its publish at 0.3 s, then stop the test from the UI.
            _wait(lambda: requests.get(f"{ui}/stats/requests", timeout=5).json()["total_rps"] > 0)
            time.sleep(1.0)  # a load long enough to hold several interactions; the verdict does not depend on it
            assert requests.post(f"{ui}/stop", timeout=10).ok
            evidence = runs / f"test-{number:03d}" / "evidence.json"
            _wait(evidence.exists)
    finally:
        process.terminate()
        process.wait(timeout=30)
    first = (runs / "test-001" / "history.jsonl").read_text()
    assert first and (runs / "test-002" / "history.jsonl").read_text()
    done = check(str(runs))
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert (runs / "test-001" / "history.jsonl").read_text() == first  # the second test left the first alone
    assert (
        result_of(runs / "test-001")["sessions"]["total"] > 0 and result_of(runs / "test-002")["sessions"]["total"] > 0
    )


@pytest.mark.live
def test_a_distributed_by_hand_run_is_judged_over_every_worker(tmp_path: Path, mock: ServerThread) -> None:
    runs, port = tmp_path / "runs", _free_port()
    master = subprocess.Popen(
        locust("--host", mock.url, "--headless", "-u", "4", "-r", "4", "-t", "4s", "--master",
               "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port), "--expect-workers", "2",
               "--history-dir", str(runs), *BY_HAND,
               # Later than BY_HAND's 0.2 s: the workers' users must be logged in and loading when the window opens.
               "--publish-at", "1.5"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    workers = [
        subprocess.Popen(
            locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    try:
        master.wait(timeout=90)
    finally:
        for process in (master, *workers):
            process.terminate()
            process.wait(timeout=30)
    (test,) = per_test_dirs(runs)
    done = check(str(runs))
    assert done.returncode == 1, done.stdout + done.stderr
    result = result_of(test)
    # Both workers' sessions in one verdict, and the check knows two workers had to send their history.
    sessions = json.loads((test / "sessions.json").read_text())
    assert {session["key"].split(".")[0] for session in sessions} == {"w0", "w1"}
    assert result["run"]["remote_workers"] == 2 and result["harness"]["errors"] == 0
