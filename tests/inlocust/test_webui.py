"""The mockgc tab in Locust's web UI, by hand as a Locust user runs it: /mockgc, /mockgc/status and /mockgc/report;
a wrong value refused at test start in one line; the test judged at its stop, with the headline failure rate the
share of sessions that lost data; and the tab as a browser renders it (headless Chromium, skipped without it)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgc.platform.serve.server import ServerThread
from tests.browser import rendered_dom, screenshot
from tests.report.test_check import BY_HAND, ROOT, _free_port, locust, mock  # noqa: F401 - the mock fixture

pytestmark = pytest.mark.live


def _wait(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture
def web_ui(tmp_path: Path, mock: ServerThread) -> Iterator[tuple[str, Path, Path]]:  # noqa: F811
    runs, port, log = tmp_path / "runs", _free_port(), tmp_path / "locust.log"
    ui = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            locust(
                "--host", mock.url, "--web-host", "127.0.0.1", "--web-port", str(port), "--history-dir", str(runs),
                *BY_HAND,
            ),
            stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
        try:
            _wait(lambda: requests.get(f"{ui}/mockgc/status", timeout=2).ok)
            yield ui, runs, log
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_the_mockgc_tab_judges_the_test_at_its_stop_and_refuses_a_bad_value_in_one_line(
    web_ui: tuple[str, Path, Path], tmp_path: Path
) -> None:
    ui, runs, log = web_ui
    ready = requests.get(f"{ui}/mockgc/status", timeout=5).json()
    assert ready["judged"] is None and ready["sessions"]["total"] == 0
    assert requests.get(f"{ui}/mockgc", timeout=5, allow_redirects=False).headers["Location"].endswith("?tab=mockgc")
    page = requests.get(f"{ui}/mockgc?tab=mockgc", timeout=5).text
    assert '"extended_tabs"' in page or "extended_tabs" in page.replace('\\"', '"')

    # A value the spec refuses (publishes that cannot fit a 4 s test): one line, no test directory, no traceback.
    form = {"user_count": 4, "spawn_rate": 4, "run_time": "4s", "publish_at": "", "publishes": "9"}
    assert requests.post(f"{ui}/swarm", data=form, timeout=10).ok
    refused = _wait(
        lambda: "cannot start" in (s := requests.get(f"{ui}/mockgc/status", timeout=5).json())["verdict_so_far"] and s
    )
    assert "9 publishes" in refused["verdict_so_far"]
    _wait(lambda: requests.get(f"{ui}/stats/requests", timeout=5).json()["state"] in ("stopped", "ready"))
    assert not runs.exists() or not any(runs.iterdir())
    text = log.read_text()
    assert text.count("mockgc: this test cannot start") == 1 and "Traceback" not in text

    # A good test: judged at its stop, as `mockgc check` judges it, and linked.
    good = {"user_count": 4, "spawn_rate": 4, "run_time": "4s", "publish_at": "0.2", "publishes": "3"}
    assert requests.post(f"{ui}/swarm", data=good, timeout=10).ok
    judged = _wait(lambda: (s := requests.get(f"{ui}/mockgc/status", timeout=5).json())["judged"] and s, timeout=90)
    assert judged["judged"]["verdict"] == "fails"  # `none` under a publish loses data
    assert "lost the customer's preference" in judged["judged"]["finding"]
    assert judged["publishes"][0]["state"] == "ended" and judged["lost_so_far"]
    assert all(entry["agent"] and entry["first_failing_call"] for entry in judged["lost_so_far"])
    report = requests.get(f"{ui}/mockgc/report", timeout=10)
    assert report.status_code == 200 and judged["judged"]["finding"].split(";")[0].replace("'", "&#x27;") in report.text
    assert (runs / "test-001" / "result.json").exists()
    # The headline failure rate is the share of sessions that lost data, and the tab's rows say so.
    stats = requests.get(f"{ui}/stats/requests", timeout=5).json()
    sessions = judged["sessions"]
    assert stats["fail_ratio"] == pytest.approx(sessions["bad"] / sessions["total"])
    tabs = {table["key"]: table["data"] for table in stats["extended_stats"]}
    assert tabs["mockgc"][0] == {"what": "verdict", "value": "fails"}
    assert len(tabs["mockgc-lost"]) == len(judged["lost_so_far"])

    # As a browser shows it: Locust's own page, with the mockgc tab open and its rows drawn.
    dom = rendered_dom(f"{ui}/mockgc?tab=mockgc", budget_ms=10000)
    assert "mockgc: lost sessions" in dom and "lost the customer" in dom
    screenshot(f"{ui}/mockgc?tab=mockgc", tmp_path / "webui-mockgc-tab.png", height=1100, budget_ms=10000)
    screenshot(f"{ui}/mockgc?tab=mockgc-lost", tmp_path / "webui-mockgc-lost.png", height=1100, budget_ms=10000)
