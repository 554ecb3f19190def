"""`mockgc check RUN_DIR`: judge any run's output offline (a by-hand, web-UI or distributed Locust run, or `mockgc run`).

A run directory holds history.jsonl, live.json and evidence.json (mockgc/report/evidence.py); a web UI
session's directory holds one test-NNN per test; a `mockgc run` matrix one directory per mitigation.
Each is judged as `mockgc run` judges it (results.judge): result.json, sessions.json and report.html
are written next to its history.
"""

from __future__ import annotations

from pathlib import Path

from mockgc.checker.result import EXIT_HARNESS
from mockgc.report.evidence import per_test_dirs, read_evidence
from mockgc.report.judge import judge
from mockgc.report.records import Evidence, Health, RunOutcome
from mockgc.report.untrusted import plain_directory, read_json, read_json_lines
from mockgc.spec.runspec import RunSpec

HISTORY = "history.jsonl"


def run_directories(base: Path) -> list[Path]:
    """The run directories under `base`: itself when it holds a history, else its test-NNN (a web UI
    session), else its subdirectories that hold one (a matrix); ValueError when there is none."""
    if (base / HISTORY).exists() or (base / HISTORY).is_symlink():
        return [base]
    # A directory found inside is judged (and written to) only if it is not a symlink to elsewhere.
    tests = [d for d in per_test_dirs(base) if plain_directory(d) and (d / HISTORY).exists()]
    if tests:
        return tests
    found = sorted(d for d in base.iterdir() if plain_directory(d) and (d / HISTORY).exists()) if base.is_dir() else []
    if not found:
        raise ValueError(f"{base} holds no {HISTORY} (nor test-NNN/ or run directories with one)")
    return found


def check_one(directory: Path) -> RunOutcome:
    """One run judged from its files alone; ValueError (one line) when they cannot be judged."""
    saved = read_evidence(directory)
    if saved.operations is None or saved.truth is None:
        raise ValueError(f"{directory}: no ground truth was saved ({saved.ground_truth_error}); it cannot be judged")
    history = read_json_lines(directory / HISTORY)
    live_path = directory / "live.json"
    live = read_json(live_path) if live_path.exists() or live_path.is_symlink() else {}
    if not isinstance(live, dict):
        raise ValueError(f"{live_path} must be a JSON object")
    # No strategy is loaded (nor any module the evidence names imported): the spec is data, and
    # the verdict comes from the recorded history and truth alone.
    spec = RunSpec.from_dict(saved.spec, source=f"{directory}/evidence.json")
    evidence = Evidence(
        history, live, saved.operations, saved.truth, saved.repairs, saved.services, saved.store, saved.agents
    )
    health = Health(
        partial=bool(saved.health.get("partial")),
        death=None,
        loaded_seconds=None,
        service_error=None,
        locust_exit=saved.health.get("locust_exit"),
        processes={},
    )
    try:
        outcome = judge(spec, evidence, health, directory, None, f"mockgc check {directory}")
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError) as error:
        # What the files' shapes did not say: an entry of the wrong shape deep in the history.
        raise ValueError(f"{directory}: its files cannot be judged: {type(error).__name__}: {error}") from None
    if saved.health.get("death"):
        outcome.exit_code = EXIT_HARNESS  # the run lost a process: its verdict is not to be trusted
    return outcome


def check_run(base: Path) -> list[RunOutcome]:
    return [check_one(directory) for directory in run_directories(base)]
