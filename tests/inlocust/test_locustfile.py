"""loadtests/locustfile.py by hand: plain `locust -f` against a `mockgc serve`, headless, no harness around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served_mock(tmp_path: Path) -> Iterator[str]:
    """`mockgc serve` on an ephemeral port, as a person would start it; stopped afterwards."""
    env = dict(os.environ, MOCKGC_ADMIN_KEY="hand-admin", MOCKGC_CLIENT_SECRET="hand-secret", COLUMNS="200")
    log = tmp_path / "serve.log"
    with log.open("w") as handle:
        serve = subprocess.Popen(
            [sys.executable, "-m", "mockgc.cli", "serve", "--port", "0", "--profile", "fast"],
            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "http://127.0.0.1:" not in log.read_text():
            assert time.monotonic() < deadline and serve.poll() is None, log.read_text()
            time.sleep(0.1)
        url = "http://127.0.0.1:" + log.read_text().split("http://127.0.0.1:")[1].split()[0]
        yield url
    finally:
        serve.terminate()
        serve.wait(10)


def test_locustfile_works_by_hand_against_mockgc_serve(tmp_path: Path, served_mock: str) -> None:
    out = tmp_path / "by-hand"
    env = dict(os.environ, MOCKGC_CLIENT_SECRET="hand-secret", MOCKGC_ADMIN_KEY="hand-admin")
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"), "--host", served_mock,
         "--headless", "-u", "5", "-r", "5", "-t", "3s", "--only-summary", "--think-time", "0.2",
         "--publish-at", "0.5", "--mitigation", "retry", "--history-dir", str(out), "--csv", str(out / "l")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1 when Locust saw a lost session (a failure row)
    # A by-hand test writes its own test-NNN, with the evidence `mockgc check` needs (tests/report/test_check.py).
    test = out / "test-001"
    history = [json.loads(line) for line in (test / "history.jsonl").read_text().splitlines()]
    assert any(entry["type"] == "flow" for entry in history)
    assert json.loads((test / "evidence.json").read_text())["truth"]
    live = json.loads((test / "live.json").read_text())
    assert live["harness_errors"] == 0 and [r.get("error") for r in live["nemesis"]] == [None]
    stats = (out / "l_stats.csv").read_text()
    assert "OUTCOME,ok" in stats and "/api/v2/scripts/sessions/{sessionId}/variables/{name}" in stats


def test_mockgc_locust_help_lists_mockgcs_options_with_their_choices() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockgc.cli", "locust", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    help_text = " ".join(done.stdout.split())
    assert "--mitigation {none,soft-hold,retry,window-guard,backoff-verify" in help_text
    assert "--fault-profile {,seed-default,seed-clobber" in help_text
    assert "--history-dir HISTORY_DIR mockgc: where the master writes" in help_text
    assert "--run-time" in help_text  # Locust's own, alongside


def test_the_mitigation_choices_are_a_drop_down_that_still_takes_your_own_class() -> None:
    from mockgc.inlocust.options import mitigation_choices, profile_choices

    choices = mitigation_choices()
    assert list(choices)[:3] == ["none", "soft-hold", "retry"] and "backoff-verify" in choices
    assert "mypkg.flows:MyStrategy" in choices and "nope" not in choices and ":" not in choices
    assert profile_choices()[:2] == ["", "seed-default"] and "fast" in profile_choices()
