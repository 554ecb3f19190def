"""`mockgc shrink` on specs: every failing cell of the truth table down to a one-session repro of the same class,
the repro's files (repro.toml fails under `mockgc simulate`, test_repro.py under pytest until the strategy holds),
determinism, the budget, and the command's exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mockgc
from mockgc.cli import main
from mockgc.explore.shrink.ddmin import ddmin
from mockgc.explore.shrink.outputs import write
from mockgc.explore.shrink.shrinking import DoesNotFail, shrink
from mockgc.explore.shrink.story import tell
from mockgc.spec.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[2]
H = {"retry_evaluate": True}
W = {"variant": "weekly"}

# Every failing cell of README's truth table, each with a small input that fails (sessions, seed), and the
# class its loss takes: the default branch is `lost`, an acknowledged write undone is `ack_lost`.
CELLS: list[tuple[str, dict[str, Any], str, int, int, str]] = [
    ("none", {}, "seed-default", 100, 1, "lost"),
    ("none", {}, "seed-clobber", 100, 1, "ack_lost"),
    ("none", {}, "seed-invalidate", 100, 8, "lost"),
    ("none", {}, "long-hold", 100, 1, "lost"),
    ("soft-hold", {}, "seed-default", 100, 1, "lost"),
    ("soft-hold", {}, "seed-clobber", 100, 1, "ack_lost"),
    ("soft-hold", {}, "seed-invalidate", 100, 1, "lost"),
    ("soft-hold", {}, "long-hold", 100, 1, "lost"),
    ("retry", {}, "seed-default", 200, 2, "lost"),  # the plain evaluate lands in the hold
    ("retry", {}, "seed-clobber", 100, 1, "ack_lost"),
    ("retry", {}, "seed-invalidate", 100, 8, "lost"),
    ("retry", {}, "long-hold", 100, 1, "lost"),
    ("retry", H, "seed-clobber", 100, 1, "ack_lost"),
    ("retry", H, "seed-invalidate", 100, 8, "lost"),
    ("retry", H, "long-hold", 100, 1, "lost"),
    ("window-guard", {}, "seed-default", 200, 15, "lost"),  # check-then-act
    ("window-guard", {}, "seed-clobber", 200, 15, "ack_lost"),
    ("window-guard", {}, "seed-invalidate", 100, 1, "lost"),
    ("window-guard", {}, "long-hold", 200, 15, "lost"),
    ("window-guard", W, "seed-invalidate", 100, 1, "lost"),
    ("backoff-verify", {}, "seed-clobber", 100, 1, "ack_lost"),
    ("async-worker", {}, "seed-default", 100, 1, "lost"),  # the outcome gap
    ("async-worker", {}, "seed-clobber", 100, 7, "lost"),
    ("async-worker", {}, "seed-invalidate", 100, 7, "lost"),
    ("async-worker", {}, "long-hold", 100, 1, "lost"),
]


def cell_id(cell: tuple[str, dict[str, Any], str, int, int, str]) -> str:
    name, params, profile, *_ = cell
    return f"{name}{'[' + ','.join(params) + ']' if params else ''}-{profile}"


@pytest.mark.parametrize("cell", CELLS, ids=[cell_id(c) for c in CELLS])
def test_every_failing_cell_of_the_truth_table_shrinks_to_a_repro_of_the_same_class(
    cell: tuple[str, dict[str, Any], str, int, int, str],
) -> None:
    name, params, profile, sessions, seed, cls = cell
    spec = RunSpec(mitigation=name, params=params, profile=profile, sessions=sessions, seed=seed)
    before = mockgc.simulate(spec)
    assert before["verdict"] == "fails" and before["sessions"][cls] > 0
    shrunk = shrink(spec)
    assert shrunk.failure.cls == cls
    repro = shrunk.repro
    assert repro.sessions <= 3 and repro.agents <= 3 and repro.publishes == 1 and not repro.publish_at
    # Judged again from scratch through the public API: the repro fails, with that class.
    after = mockgc.simulate(repro)
    assert after["verdict"] == "fails" and after["sessions"][cls] >= 1
    assert repro.mitigation == name and dict(repro.params) == params and repro.profile == profile


def test_async_workers_outcome_gap_stays_a_gap() -> None:
    shrunk = shrink(RunSpec(mitigation="async-worker", sessions=100))
    assert shrunk.failure.outcome_gap
    result = mockgc.simulate(shrunk.repro)
    # The value is durable (repaired), yet the customer got the default branch.
    assert result["consistency"]["outcome_gap"] >= 1 and result["consistency"]["repaired"] >= 1
    story = tell(shrunk.trace, shrunk.session).text()
    assert "the async worker re-applies the value" in story
    assert story.index("the flow takes the default branch") < story.index("the async worker re-applies")
    assert "(outcome gap)" in story


def test_window_guards_check_then_act_race_is_told_as_it_happened() -> None:
    shrunk = shrink(RunSpec(mitigation="window-guard", profile="seed-default", sessions=200, seed=15))
    lines = tell(shrunk.trace, shrunk.session).lines
    checked = next(i for i, line in enumerate(lines) if "ask whether a publish is running -> 200 (0 publishes" in line)
    started = next(i for i, line in enumerate(lines) if "WFM publish 1 started" in line)
    rejected = next(i for i, line in enumerate(lines) if "Set Data" in line and "-> 400 script.session.locked" in line)
    # The check said no publish was running; the publish started after it; the write met the hold.
    assert checked < started < rejected
    assert "before the publish: ask whether a publish is running" in lines[checked]
    assert "during the hold of" in lines[rejected]


def test_the_5000_session_retry_on_long_hold_case_at_a_smaller_size(tmp_path: Path) -> None:
    # The README's case (5,000 sessions; measured by bench/shrink.py) at 600 sessions: same path, less time.
    spec = RunSpec(mitigation="retry", profile="long-hold", sessions=600)
    shrunk = shrink(spec)
    assert (shrunk.before.sessions, shrunk.before.agents, shrunk.before.publishes) == (600, 50, 3)
    assert shrunk.after.sessions <= 3 and shrunk.after.agents <= 3 and shrunk.after.publishes == 1
    assert shrunk.simulations <= 20
    paths = write(tmp_path, shrunk, tell(shrunk.trace, shrunk.session), "spec.toml")
    repro = tomllib.loads(paths["repro.toml"].read_text())
    assert repro["mitigation"] == "retry" and repro["sessions"] == len(repro["arrivals"]) == 1
    assert "users" not in repro and "think_time" not in repro  # live-load fields left out
    done = CliRunner().invoke(main, ["simulate", "--spec", str(paths["repro.toml"])])
    assert done.exit_code == 1, done.output
    summary = json.loads(paths["shrink.json"].read_text())
    assert summary["before"]["sessions"] == 600 and summary["after"]["sessions"] == 1
    assert summary["failure"] == {"class": "lost", "outcome_gap": False}
    assert summary["simulations"] == shrunk.simulations
    story = paths["story.md"].read_text()
    assert story.startswith(f"# Session {summary['session']}: lost")
    assert "Set Data preferenceCode" in story and "-> 400 script.session.locked" in story


def test_test_repro_fails_today_with_the_story_and_passes_once_the_strategy_holds(tmp_path: Path) -> None:
    shrunk = shrink(RunSpec(mitigation="retry", profile="long-hold", sessions=150))
    paths = write(tmp_path, shrunk, tell(shrunk.trace, shrunk.session), "spec.toml")
    # "Fixed": the same scenario with a strategy that holds on long-hold, in a copy run beside it.
    fixed = paths["test_repro.py"].read_text().replace('"mitigation": "retry"', '"mitigation": "backoff-verify"')
    (tmp_path / "test_fixed.py").write_text(fixed)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_repro.py", "test_fixed.py"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        # Plain pytest, as in a team's suite: none of this venv's plugins (schemathesis's is slow to load).
        env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "FAILED test_repro.py::test_retry_holds_on_long_hold" in done.stdout
    assert "the flow takes the default branch" in done.stdout and "script.session.locked" in done.stdout


def test_a_shrink_is_deterministic(tmp_path: Path) -> None:
    spec = RunSpec(mitigation="soft-hold", profile="seed-clobber", sessions=120, seed=4)
    texts = []
    for name in ("a", "b"):
        shrunk = shrink(spec)
        texts.append(write(tmp_path / name, shrunk, tell(shrunk.trace, shrunk.session), "x")["repro.toml"].read_text())
    assert texts[0] == texts[1]


def test_the_budget_bounds_the_simulations_and_the_repro_still_fails() -> None:
    spec = RunSpec(mitigation="none", profile="seed-default", sessions=100)
    shrunk = shrink(spec, budget=2)
    assert shrunk.simulations == 2 and shrunk.budget_spent
    assert shrunk.steps[-1] == "stopped: the budget of 2 simulations is spent"
    assert mockgc.simulate(shrunk.repro)["sessions"]["lost"] >= 1


def test_when_one_session_alone_does_not_fail_delta_debugging_finds_the_sessions_that_do() -> None:
    # None of the failing sessions fails alone here (a planted strategy that loses data only when two
    # sessions overlap): ddmin must keep both.
    spec = RunSpec(mitigation="tests.explore.overlap:LosesWhenOverlapping", profile="calm", sessions=60)
    shrunk = shrink(spec)
    assert shrunk.repro.sessions == 2
    assert mockgc.simulate(shrunk.repro)["sessions"]["lost"] >= 1


def test_ddmin_is_one_minimal() -> None:
    needed = {3, 17, 40}
    tried: list[list[int]] = []

    def fails(items: list[int]) -> bool:
        tried.append(items)
        return needed <= set(items)

    assert ddmin(list(range(64)), fails) == [3, 17, 40]
    assert len(tried) < 200  # ddmin: O(k log n) tests for k needed items
    assert ddmin([5], lambda items: True) == [5]


def test_a_holding_input_has_nothing_to_shrink() -> None:
    with pytest.raises(DoesNotFail, match="backoff-verify holds on seed-default"):
        shrink(RunSpec(mitigation="backoff-verify", sessions=50))


# -- the command --------------------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["shrink", *args])


def test_the_command_writes_the_repro_and_exits_0(tmp_path: Path) -> None:
    spec = tmp_path / "run.toml"
    spec.write_text('mitigation = "none"\nprofile = "seed-clobber"\nsessions = 80\n')
    done = invoke("--spec", str(spec), "--out", str(tmp_path / "out"))
    assert done.exit_code == 0, done.output
    assert "Session s" in done.output and "ack_lost" in done.output
    assert "shrunk 80 sessions, 50 agents, 3 publishes (5 batches each) -> 1 session, 1 agent, 1 publish" in done.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"repro.toml", "story.md", "test_repro.py", "shrink.json"}


def test_a_simulate_json_result_is_shrunk_from_the_spec_it_records(tmp_path: Path) -> None:
    result = tmp_path / "matrix.json"
    ran = CliRunner().invoke(
        main, ["simulate", "-m", "none,backoff-verify", "-p", "seed-clobber", "-n", "60", "--json", str(result)]
    )
    assert ran.exit_code == 0, ran.output
    done = invoke("--spec", str(result), "--out", str(tmp_path / "out"))
    assert done.exit_code == 0, done.output
    repro = tomllib.loads((tmp_path / "out" / "repro.toml").read_text())
    assert repro["mitigation"] == "none" and repro["profile"] == "seed-clobber"
    # backoff-verify fails on clobber too; asked for by name, it is the one shrunk.
    done = invoke("--spec", str(result), "--out", str(tmp_path / "bv"), "--mitigation", "backoff-verify")
    assert done.exit_code == 0, done.output
    assert tomllib.loads((tmp_path / "bv" / "repro.toml").read_text())["mitigation"] == "backoff-verify"


def test_an_input_that_holds_exits_1_in_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "calm.toml"
    spec.write_text('mitigation = "none"\nprofile = "calm"\nsessions = 40\n')
    done = invoke("--spec", str(spec), "--out", str(tmp_path / "out"))
    assert done.exit_code == 1
    assert done.output.strip() == "none holds on calm (seed 1): 40 of 40 sessions ok, none failed: nothing to shrink"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('mitigation = "all"\n', "runs several mitigations"),
        ('mitigation = "nope"\n', "nope"),
        ("sessions = [\n", "is not TOML"),
        (
            'mitigation = "data-action"\n[params]\nset_url = "http://127.0.0.1:1/s"\nget_url = "http://127.0.0.1:1/g"\n',
            "cannot be simulated",
        ),
    ],
)
def test_bad_input_exits_2_in_one_line(tmp_path: Path, content: str, message: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(content)
    done = invoke("--spec", str(spec), "--out", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1


def test_the_command_wants_exactly_one_input(tmp_path: Path) -> None:
    assert invoke().exit_code == 2
    spec = tmp_path / "s.toml"
    spec.write_text("")
    assert invoke("--spec", str(spec), str(tmp_path)).exit_code == 2
    assert invoke(str(tmp_path / "missing")).exit_code == 2


def test_readme_documents_the_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## From a failure to a repro") :]
    for needed in ("mockgc shrink --spec", "mockgc shrink runs/", "test_repro.py", "repro.toml", "story.md"):
        assert needed in section
