"""`mockgc shrink RUN_DIR`: a failing live run becomes a simulate repro of the same class, or one line saying why not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mockgc
from mockgc.cli import main
from mockgc.report.evidence import SavedEvidence, write_evidence
from mockgc.spec.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[2]


def test_a_failing_live_run_of_none_becomes_a_simulate_repro_of_the_same_class(tmp_path: Path) -> None:
    run = tmp_path / "run"
    live = subprocess.run(
        [sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--out", str(run), "-m", "none", "-p", "seed-default",
         "--users", "20", "--spawn-rate", "20", "--duration", "6", "--think-time", "0.2", "--drain-timeout", "5",
         "--publish-at", "1"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert live.returncode == 1, live.stdout + live.stderr
    lost = json.loads((run / "result.json").read_text())["sessions"]["lost"]
    assert lost > 0
    out = tmp_path / "repro"
    done = CliRunner().invoke(main, ["shrink", str(run), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "simulated alone, it fails the same way" in done.output
    summary = json.loads((out / "shrink.json").read_text())
    assert summary["source"] == f"{run} (live)" and summary["failure"]["class"] == "lost"
    assert summary["before"]["publishes"] == 1 and summary["before"]["sessions"] > 20
    repro = RunSpec.load(out / "repro.toml")
    assert repro.sessions == 1 and repro.agents == 1 and repro.publishes == 1
    result = mockgc.simulate(repro)
    assert result["verdict"] == "fails" and result["sessions"]["lost"] == 1
    assert "-> 400 script.session.locked" in (out / "story.md").read_text()


# -- run directories written by hand: what cannot be reproduced, and a run that holds ---------------------------

AGENT = "7d3b2a55-0000-4000-8000-000000000001"


def call(
    key: str, f: str, t: float, params: dict[str, Any], status: int, value: Any = None, code: str | None = None
) -> list[dict[str, Any]]:
    kind = "ok" if 200 <= status < 300 else "fail" if 400 <= status < 500 else "info"
    process = "local/u0"
    return [
        {"process": process, "key": key, "type": "invoke", "f": f, "time": t, "params": params},
        {"process": process, "key": key, "type": kind, "f": f, "time": t + 0.002, "status": status, "code": code,
         "value": value if kind == "ok" else None},
    ]  # fmt: skip


def session(set_status: int, set_code: str | None, branch: str) -> list[dict[str, Any]]:
    key, sid, t = "local.u0.0", "sess-1", 1_796_000_000.0
    entries = call(key, "create_call", t, {"userId": AGENT}, 200, {"id": "conv-1"})
    entries += call(key, "create_session", t + 0.01, {"userId": AGENT, "conversationId": "conv-1"}, 201,
                    {"id": sid, "conversationId": "conv-1", "participantId": "p-1"})  # fmt: skip
    entries += call(key, "set_data", t + 0.02, {"sessionId": sid, "name": "preferenceCode", "value": "PREF-AA-0001"},
                    set_status, {"name": "preferenceCode", "value": "PREF-AA-0001"}, set_code)  # fmt: skip
    seen = "PREF-AA-0001" if branch == "personalized" else None
    entries += call(key, "evaluate", t + 0.03, {"sessionId": sid, "variable": "preferenceCode"}, 200,
                    {"branch": branch, "value": seen})  # fmt: skip
    entries.append(
        {"process": "local/u0", "key": key, "type": "flow", "time": t + 0.04,
         "value": {"expected": "PREF-AA-0001", "branch": branch, "value": seen, "sessionId": sid,
                   "acknowledged": set_status == 200, "storeKey": None, "notes": []}}
    )  # fmt: skip
    return entries


def run_dir(tmp_path: Path, entries: list[dict[str, Any]], spec: RunSpec, stored: str | None = None) -> Path:
    directory = tmp_path / "by-hand"
    directory.mkdir()
    (directory / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    truth = {"sess-1": {"userId": AGENT, "variables": {"preferenceCode": stored} if stored else {}}}
    write_evidence(directory, SavedEvidence(spec=spec.as_dict(), operations=[], truth=truth))
    return directory


def shrink_dir(directory: Path, tmp_path: Path) -> Any:
    return CliRunner().invoke(main, ["shrink", str(directory), "--out", str(tmp_path / "out")])


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (0, "ConnectionError: reset", "its set_data -> 0 ConnectionError: reset is a network or server fault"),
        (503, "service.unavailable", "its set_data -> 503 service.unavailable is a network or server fault"),
        (400, "bad.request", "no publish held its agent when its set_data -> 400 bad.request was sent"),
    ],
)
def test_a_live_failure_the_simulator_cannot_reproduce_is_one_line_and_exit_2(
    tmp_path: Path, status: int, code: str, reason: str
) -> None:
    directory = run_dir(tmp_path, session(status, code, "default"), RunSpec(mitigation="none"))
    done = shrink_dir(directory, tmp_path)
    assert done.exit_code == 2, done.output
    line = done.output.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith(f"cannot reproduce {directory}'s session local.u0.0 (lost) in simulation: {reason}")
    assert line.endswith("needs real network timing, which the simulator does not model")
    assert not (tmp_path / "out").exists()


def test_a_users_own_data_action_service_is_live_only(tmp_path: Path) -> None:
    spec = RunSpec(
        mitigation="data-action", params={"set_url": "http://127.0.0.1:9/set", "get_url": "http://127.0.0.1:9/get"}
    )
    directory = run_dir(tmp_path, session(400, "script.session.locked", "default"), spec)
    done = shrink_dir(directory, tmp_path)
    assert done.exit_code == 2, done.output
    assert done.output.strip() == (
        f"cannot reproduce {directory} in simulation: data-action calls your own service, an outside process "
        "that cannot run in virtual time"
    )


def test_a_live_run_that_holds_has_nothing_to_shrink(tmp_path: Path) -> None:
    directory = run_dir(tmp_path, session(200, None, "personalized"), RunSpec(), stored="PREF-AA-0001")
    done = shrink_dir(directory, tmp_path)
    assert done.exit_code == 1, done.output
    assert done.output.strip() == f"{directory}: every session of the run served its customer: nothing to shrink"


def test_a_directory_that_is_no_run_is_a_harness_error(tmp_path: Path) -> None:
    done = shrink_dir(tmp_path, tmp_path)
    assert done.exit_code == 2
    assert "holds no history.jsonl" in done.output
