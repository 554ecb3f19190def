"""Short live runs of `mockgc run` as a subprocess: verdicts and exit codes, 2 workers, the nemesis, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Small and quick: 10 desks, an interaction about every 0.2 s each, two publishes early in a 4 s run.
SHORT = ["--users", "10", "--spawn-rate", "10", "--duration", "4", "--think-time", "0.2", "--drain-timeout", "5"]


def mockgc_run(out: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--out", str(out), *SHORT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def result_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "result.json").read_text())


def history_of(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]


def assert_self_contained(report: Path) -> None:
    from tests.live.test_harness_units import assert_references_nothing_outside

    assert 'class="chart"' in report.read_text()
    assert_references_nothing_outside(report)


def test_harness_modules_never_import_locust() -> None:
    # Locust monkey-patches the interpreter with gevent on import: the CLI and pytest must not.
    code = "import sys, mockgc.cli, mockgc.live.run, mockgc.inlocust.driver, mockgc.report.html; print('locust' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


def test_baseline_loses_sessions_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "none"
    done = mockgc_run(out, "--mitigation", "none", "--profile", "fast", "--publish-at", "0.5,2")
    assert done.returncode == 1, done.stdout + done.stderr
    result = result_of(out)
    assert result["verdict"] == "fails" and result["sessions"]["lost"] > 0 and result["partial"] is False
    assert result["http"].get("400", 0) > 0 and result["harness"]["errors"] == 0
    # The nemesis fired exactly once per scheduled publish: the mock's own windows say so.
    assert len(result["publish_operations"]) == 2 and len(result["windows"]) == 2
    assert [r["offset"] for r in result["harness"]["nemesis"]] == [0.5, 2.0]
    assert_self_contained(out / "report.html")
    for name in ("config.json", "locust.html", "locust_stats.csv", "locust_stats_history.csv", "history.jsonl"):
        assert (out / name).exists(), name
    # config.json is the run's spec: the same document every process got, and it repeats the run.
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 1 and config["publish_at"] == [0.5, 2.0] and config["mitigation"] == "none"
    assert result["run"]["command"] == f"mockgc run --spec {out / 'config.json'}"
    again = tmp_path / "again"
    repeated = subprocess.run(
        [sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--spec", str(out / "config.json"), "--out", str(again)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert repeated.returncode == 1, repeated.stdout + repeated.stderr
    assert (again / "config.json").read_text() == (out / "config.json").read_text()
    assert [r["offset"] for r in result_of(again)["harness"]["nemesis"]] == [0.5, 2.0]


def test_a_holding_mitigation_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "backoff-verify"
    done = mockgc_run(out, "--mitigation", "backoff-verify", "--profile", "fast", "--publish-at", "0.5,2")
    assert done.returncode == 0, done.stdout + done.stderr
    result = result_of(out)
    assert result["verdict"] == "holds" and result["sessions"]["total"] > 20
    # The publishes did hit it: the mitigation held through rejections, not for lack of them.
    assert result["http"].get("400", 0) > 0


def test_two_workers_give_one_verdict_over_both_and_the_nemesis_fires_once_per_publish(tmp_path: Path) -> None:
    settings = Settings(agents=50, profile="calm", admin_key="live-admin", client_secret="live-secret")
    with ServerThread(create_app(settings)) as server:
        out = tmp_path / "workers"
        done = mockgc_run(
            out, "--workers", "2", "--profile", "calm", "--publish-at", "0.5,1.5",
            "--target", server.url, "--admin-key", "live-admin",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        # Counted on the mock itself: two scheduled publishes, two operations, though 3 Locust processes ran.
        assert len(server.holder.platform.lock_windows()) == 2
    history = history_of(out)
    nodes = Counter(entry["process"].split("/")[0] for entry in history)
    assert set(nodes) == {"w0", "w1"} and min(nodes.values()) > 10
    flows = {entry["key"] for entry in history if entry["type"] == "flow"}
    result = result_of(out)
    assert result["verdict"] == "holds" and result["sessions"]["total"] == len(flows)
    assert {key.split(".")[0] for key in flows} == {"w0", "w1"}
    assert len(result["harness"]["nodes"]) == 2


def test_ctrl_c_writes_a_partial_report_and_leaves_no_process_behind(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    command = [sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--out", str(out), "--profile", "fast"]
    command += ["--users", "10", "--duration", "60", "--think-time", "0.2", "--publish-at", "0.5", "--workers", "1"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        stats = out / "locust_stats.csv"
        deadline = time.monotonic() + 60
        while not (stats.exists() and "OUTCOME" in stats.read_text()):
            assert time.monotonic() < deadline and run.poll() is None, "the load never started"
            time.sleep(0.2)
        started = psutil.Process(run.pid).children(recursive=True)
        assert len(started) == 3  # the mock, the Locust master and its worker
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, output
    result = result_of(out)
    assert result["partial"] is True and result["sessions"]["total"] > 0
    assert_self_contained(out / "report.html")
    assert "partial: interrupted" in (out / "report.html").read_text()
    recorded = json.loads((out / "processes.json").read_text())
    assert sorted(recorded.values()) == sorted(p.pid for p in started)
    for process in started:
        assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE, process


def test_a_fabricated_branch_fails_a_live_run(tmp_path: Path) -> None:
    # The plugin writes nothing and reports the personalized branch; the history shows no evaluate.
    out = tmp_path / "fabricated"
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # Locust's processes import the plugin too
    done = subprocess.run(
        [sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--out", str(out), *SHORT,
         "--mitigation", "tests.planted:FabricatedBranch", "--profile", "fast", "--publish-at", "0.5,2"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    result = result_of(out)
    assert result["verdict"] == "fails" and result["harness"]["errors"] == 0
    assert result["sessions"]["total"] > 10 and result["sessions"]["unverified"] == result["sessions"]["total"]
    assert result["durability"]["durable"] == 0
