"""`mockgc check RUN_DIR`: judge any run's output offline (a by-hand, web-UI or distributed Locust run, or `mockgc run`).

A run directory holds history.jsonl, live.json and evidence.json (mockgc/report/evidence.py); a web UI
session's directory holds one test-NNN per test; a `mockgc run` matrix one directory per mitigation.
Each is judged as `mockgc run` judges it (results.judge): result.json, sessions.json and report.html
are written next to its history.
"""

from __future__ import annotations

import json
from pathlib import Path

from mockgc.checker.result import EXIT_HARNESS
from mockgc.drivers.history_file import read_history
from mockgc.report.evidence import per_test_dirs, read_evidence
from mockgc.report.judge import judge
from mockgc.report.records import Evidence, Health, RunOutcome
from mockgc.spec.runspec import RunSpec

HISTORY = "history.jsonl"


def run_directories(base: Path) -> list[Path]:
    """The run directories under `base`: itself when it holds a history, else its test-NNN (a web UI
    session), else its subdirectories that hold one (a matrix); ValueError when there is none."""
    if (base / HISTORY).exists():
        return [base]
    tests = [d for d in per_test_dirs(base) if (d / HISTORY).exists()]
    if tests:
        return tests
    found = sorted(d for d in base.iterdir() if d.is_dir() and (d / HISTORY).exists()) if base.is_dir() else []
    if not found:
        raise ValueError(f"{base} holds no {HISTORY} (nor test-NNN/ or run directories with one)")
    return found


def check_one(directory: Path) -> RunOutcome:
    """One run judged from its files alone; ValueError (one line) when they cannot be judged."""
    saved = read_evidence(directory)
    if saved.operations is None or saved.truth is None:
        raise ValueError(f"{directory}: no ground truth was saved ({saved.ground_truth_error}); it cannot be judged")
    try:
        history = read_history(directory / HISTORY)
        live_path = directory / "live.json"
        live = json.loads(live_path.read_text()) if live_path.exists() else {}
    except (OSError, ValueError) as error:
        raise ValueError(f"{directory}: cannot read its history: {error}") from None
    spec = RunSpec.from_dict(saved.spec, source=f"{directory}/evidence.json")
    evidence = Evidence(history, live, saved.operations, saved.truth, saved.repairs, saved.services, saved.store)
    health = Health(
        partial=bool(saved.health.get("partial")),
        death=None,
        loaded_seconds=None,
        service_error=None,
        locust_exit=saved.health.get("locust_exit"),
        processes={},
    )
    outcome = judge(spec, evidence, health, directory, None, f"mockgc check {directory}")
    if saved.health.get("death"):
        outcome.exit_code = EXIT_HARNESS  # the run lost a process: its verdict is not to be trusted
    return outcome


def check_run(base: Path) -> list[RunOutcome]:
    return [check_one(directory) for directory in run_directories(base)]
