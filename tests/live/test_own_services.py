"""The user's own services under test: the examples in examples/ run as live processes through `mockgc run`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ADMIN_KEY, CLIENT_ID, CLIENT_SECRET = "own-admin", "own-client", "own-secret"
# Short and bounded: 10 desks, an interaction about every 0.2 s each, a 3 s load with two publishes.
SHORT = ["--users", "10", "--spawn-rate", "10", "--duration", "3", "--think-time", "0.2", "--drain-timeout", "5"]
SHORT += ["--reread-after", "0.5s"]  # the second read-back, soon: the services here keep or lose values at once

pytestmark = pytest.mark.live


@pytest.fixture
def mock() -> Iterator[ServerThread]:
    """The mock on an ephemeral loopback port, credentials known to the services; no rate limit on them."""
    # The org a run resets to (seed 1, 50 agents): a worker subscribed before the reset keeps its topics.
    settings = Settings(
        seed=1,
        agents=50,
        profile="fast",
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        rate_limit_per_minute=0,
    )
    with ServerThread(create_app(settings)) as server:
        yield server


@pytest.fixture
def started_pids() -> list[int]:
    return []


@pytest.fixture
def start_service(started_pids: list[int]) -> Iterator[Callable[..., str]]:
    """Start an example as a process; its base URL (the first line it prints). Every process is stopped."""
    started: list[subprocess.Popen[str]] = []

    def start(script: str, *args: str, env: dict[str, str] | None = None, port: bool = True) -> str:
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / script), *(["--port", "0"] if port else []), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ, **(env or {})),
        )
        started.append(process)
        started_pids.append(process.pid)
        assert process.stdout is not None
        line = process.stdout.readline()
        ready = "listening on http://127.0.0.1:" in line or "subscribed" in line
        assert ready, line + (process.stdout.read() if process.poll() is not None else "")
        return line.split()[-1]

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def mockgc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockgc.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def live_run(out: Path, server: ServerThread, *args: str) -> subprocess.CompletedProcess[str]:
    return mockgc(
        "run",
        "--quiet",
        "--out",
        str(out),
        *SHORT,
        "--target",
        server.url,
        "--admin-key",
        ADMIN_KEY,
        "--profile",
        "fast",
        "--publish-at",
        "0.2,0.8",
        *args,
    )


def check(*args: str) -> subprocess.CompletedProcess[str]:
    """`mockgc check` in this process (it imports no Locust): the same exit code and output, without a start-up."""
    from click.testing import CliRunner

    from mockgc.cli import main

    done = CliRunner().invoke(main, ["check", *args])
    return subprocess.CompletedProcess(["mockgc", "check", *args], done.exit_code, done.output, "")


def result_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "result.json").read_text())


def test_the_sqlite_data_action_service_holds(
    tmp_path: Path, mock: ServerThread, start_service: Callable[..., str]
) -> None:
    url = start_service("data_action_sqlite/service.py", "--db", str(tmp_path / "prefs.db"))
    done = live_run(
        tmp_path / "run", mock, "-m", "data-action", "--param", f"set_url={url}/set", "--param", f"get_url={url}/get"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = result_of(tmp_path / "run")
    assert result["verdict"] == "holds" and result["harness"]["errors"] == 0
    total = result["sessions"]["total"]
    # Every branch came from the service's answer, and every value was read back from it after the run.
    assert total > 0 and result["sessions"]["ok"] == total and result["durability"]["durable"] == total
    assert result["store"] == {"calls": 2 * total, "failures": 0}
    assert result["services"]["data_action"]["read_back"] == total
    # The service's URLs are left out of the page (plotly.js, inlined, names its own site: not a link of the report's).
    report = re.sub(r"<script>.*?</script>", "", (tmp_path / "run" / "report.html").read_text(), flags=re.S)
    assert "Your service" in report and "read back through get_url" in report and "http://" not in report
    assert "DATA_ACTION,set http://" in (tmp_path / "run" / "locust_stats.csv").read_text()  # the service's latency
    assert result["http"].get("400", 0) == 0  # the platform's locks never touched the value


def test_a_service_that_acknowledges_without_storing_is_caught(
    tmp_path: Path, mock: ServerThread, start_service: Callable[..., str]
) -> None:
    url = start_service("data_action_sqlite/service.py", "--db", str(tmp_path / "prefs.db"), "--broken")
    done = live_run(
        tmp_path / "run", mock, "-m", "data-action", "--param", f"set_url={url}/set", "--param", f"get_url={url}/get"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    result = result_of(tmp_path / "run")
    assert result["verdict"] == "fails" and result["sessions"]["ok"] == 0
    # Every write was acknowledged (a 2xx), none was kept: each session is an acknowledged write lost.
    assert result["sessions"]["ack_lost"] == result["sessions"]["total"] > 0
    # `mockgc check` judges the run again from its files alone (the read-back is in evidence.json), with the
    # gate options of run and simulate.
    (tmp_path / "run" / "result.json").unlink()
    checked = check("--quiet", str(tmp_path / "run"), "--junit", str(tmp_path / "junit.xml"))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert result_of(tmp_path / "run")["sessions"] == result["sessions"]
    assert "<testsuite" in (tmp_path / "junit.xml").read_text()
    assert check("--quiet", str(tmp_path / "run"), "--expect", "data-action=fails").returncode == 0


def test_a_service_that_loses_its_values_at_a_restart_is_caught_by_the_read_back_after_it(
    tmp_path: Path, mock: ServerThread, start_service: Callable[..., str], started_pids: list[int]
) -> None:
    """Durable after the run: the run restarts the service (--restart-cmd) and reads every value back again.
    A service keeping its values in memory held "durable" when the only read came at the load's end."""
    url = start_service("data_action_sqlite/service.py", "--memory")
    restart = f"kill -HUP {started_pids[-1]}"  # the example reopens its store on SIGHUP: in memory, empty
    args = ["-m", "data-action", "--param", f"set_url={url}/set", "--param", f"get_url={url}/get"]
    done = live_run(tmp_path / "run", mock, *args, "--restart-cmd", restart)
    assert done.returncode == 1, done.stdout + done.stderr
    result = result_of(tmp_path / "run")
    total = result["sessions"]["total"]
    assert total > 0 and result["sessions"]["ack_lost"] == total and result["harness"]["errors"] == 0
    read = result["services"]["data_action"]
    assert read["restarted"] is True and read["forgotten"] == total and read["first_read_back"]["read_back"] == total


def test_the_write_back_service_gets_a_verdict_judged_on_the_platform(
    tmp_path: Path, mock: ServerThread, start_service: Callable[..., str]
) -> None:
    url = start_service(
        "data_action_writeback/service.py",
        "--target",
        mock.url,
        "--client-id",
        CLIENT_ID,
        env={"MOCKGC_CLIENT_SECRET": CLIENT_SECRET},
    )
    done = live_run(
        tmp_path / "run",
        mock,
        "-m",
        "data-action",
        "--param",
        f"set_url={url}/set",
        "--param",
        "evaluate_on_platform=true",
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    result = result_of(tmp_path / "run")
    assert result["harness"]["errors"] == 0 and result["sessions"]["total"] > 0
    assert result["services"]["data_action"]["durability"] == "the platform's truth"
    # The branch's evidence is the platform's evaluate: the writes went through the service.
    assert result["store"]["calls"] == result["sessions"]["total"]
    acknowledged = result["sessions"]["ok"] + result["sessions"]["ack_lost"]
    assert acknowledged > 0


def test_the_simulator_refuses_a_data_action_with_one_line() -> None:
    done = mockgc(
        "simulate",
        "-m",
        "data-action",
        "--param",
        "set_url=http://127.0.0.1:9/set",
        "--param",
        "get_url=http://127.0.0.1:9/get",
        "-n",
        "5",
    )
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "cannot be simulated" in lines[0] and "virtual time" in lines[0]


def test_the_examples_answer_bad_bodies_with_400(tmp_path: Path, start_service: Callable[..., str]) -> None:
    url = start_service("data_action_sqlite/service.py", "--db", str(tmp_path / "prefs.db"))
    assert requests.post(f"{url}/set", json={"value": "x"}, timeout=5).status_code == 400
    assert requests.post(f"{url}/get", data=b"{", timeout=5).status_code == 400
    body = {"conversationId": "c", "participantId": "p", "sessionId": "s", "userId": "u", "variable": "v", "value": "x"}
    assert requests.post(f"{url}/set", json=body, timeout=5).status_code == 200
    assert requests.post(
        f"{url}/get", json={"conversationId": "c", "sessionId": "s", "variable": "v"}, timeout=5
    ).json() == {"value": "x"}


# -- the user's own repair worker ---------------------------------------------------------------------


def _assert_repaired_like_the_built_in_worker(result: dict[str, Any]) -> None:
    sessions, consistency = result["sessions"], result["consistency"]
    assert result["harness"]["errors"] == 0 and result["services"]["worker"]["consistency_wait"]["settled"]
    # The publishes rejected writes, the worker put them back: every value ends durable, and the branches
    # the customers already got are the outcome gap; the repairs have their time to consistency.
    assert sessions["lost"] > 0 and result["durability"]["durable"] == sessions["total"]
    assert consistency["outcome_gap"] == sessions["lost"] and consistency["repaired"] > 0
    assert consistency["time_to_consistency_ms"]["p50"] > 0


def test_an_external_worker_subscribing_on_the_notifications_websocket_repairs(
    tmp_path: Path, mock: ServerThread, start_service: Callable[..., str]
) -> None:
    store = f"sqlite:///{tmp_path / 'intents.db'}"
    start_service(
        "repair_worker/worker.py", "--target", mock.url, "--client-id", CLIENT_ID, "--store", store,
        env={"MOCKGC_CLIENT_SECRET": CLIENT_SECRET}, port=False,
    )  # fmt: skip
    done = live_run(
        tmp_path / "run", mock, "-m", "async-worker", "--external-worker", "notifications", "--store", store
    )
    assert done.returncode == 1, done.stdout + done.stderr  # async-worker cannot mend a branch already taken
    result = result_of(tmp_path / "run")
    assert result["services"]["worker"]["mode"] == "subscribes through the Notifications API"
    _assert_repaired_like_the_built_in_worker(result)


def test_an_external_worker_at_a_url_gets_the_publish_webhook(tmp_path: Path, mock: ServerThread) -> None:
    store, port_file = f"sqlite:///{tmp_path / 'intents.db'}", tmp_path / "worker.port"
    env = dict(
        os.environ,
        MOCKGC_CLIENT_SECRET=CLIENT_SECRET,
        MOCKGC_WEBHOOK_SECRET="whsec_YS1zaGFyZWQtc2VjcmV0LWZvci10aGUtdGVzdHM=",
    )
    # mockgc's own worker, started by hand: to the run it is just a service at a URL.
    worker = subprocess.Popen(
        [sys.executable, "-m", "mockgc.cli", "worker", "--target", mock.url, "--client-id", CLIENT_ID, "--store", store,
         "--port", "0", "--port-file", str(port_file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port_file.read_text().strip()}/webhook"
        done = subprocess.run(
            [sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--out", str(tmp_path / "run"), *SHORT,
             "--target", mock.url, "--admin-key", ADMIN_KEY, "--profile", "fast", "--publish-at", "0.2,0.8",
             "-m", "async-worker", "--external-worker", url, "--store", store],
            env=env, capture_output=True, text=True, timeout=120, cwd=ROOT,
        )  # fmt: skip
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    assert done.returncode == 1, done.stdout + done.stderr
    result = result_of(tmp_path / "run")
    report = result["services"]["worker"]
    assert report["mode"] == "webhook" and report["url"] == url and report["secret_from_environment"]
    assert report["webhooks"]["delivered"] >= 2  # one per publish completion, signed with the shared secret
    _assert_repaired_like_the_built_in_worker(result)
