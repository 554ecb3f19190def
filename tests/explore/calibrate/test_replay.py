"""`--profile trace:FILE` replays the recorded holds; `mockgc calibrate` writes a profile every command takes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.clock import VirtualClock
from mockgc.explore.calibrate.fit import fit
from mockgc.explore.calibrate.profiles import profile_toml, replay_profile, resolve
from mockgc.explore.calibrate.trace import save
from mockgc.faults import Distribution, FaultProfile, PublishLock, ReplayedPublish, Toxic, load_profile_file
from mockgc.platform.domain.backend import Platform
from mockgc.platform.settings import Settings
from tests.explore.calibrate.simulated import TRUE_PROFILES, simulated_trace


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    path = tmp_path / "monday.jsonl"
    save(simulated_trace(TRUE_PROFILES["reject"]), path)
    return path


def test_a_replay_holds_each_agent_as_recorded(trace_file: Path) -> None:
    profile = replay_profile(trace_file)
    assert profile.name == "replay-monday" and len(profile.publish.replay) == 3
    calibration = fit(simulated_trace(TRUE_PROFILES["reject"]))
    recorded = calibration.publishes[0]
    # The mock, with as many agents as the trace, holds them exactly as the fit placed the recorded holds.
    platform = Platform(Settings(seed=1, agents=recorded.agents).org, profile, VirtualClock(1_900_000_000.0))
    operation = platform.publish_schedule()
    lengths = sorted(round(end - operation.started, 3) for _, end in operation.flips)
    origin = recorded.publish.started
    assert origin is not None
    expected = sorted(round(h.end - origin, 3) for h in recorded.holds if h.end is not None)  # type: ignore[operator]
    assert lengths == pytest.approx(expected, abs=0.002)
    assert profile.publish.kind == "reject" and profile.publish.start_delay_ms == 0


def test_simulate_replays_a_trace_deterministically(trace_file: Path, tmp_path: Path) -> None:
    outputs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outputs:
        result = CliRunner().invoke(
            main, ["simulate", "-m", "none", "-n", "300", "-p", f"trace:{trace_file}", "--json", str(out)]
        )
        assert result.exit_code == 1, result.output  # the recorded holds reject as the true ones did
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    assert json.loads(outputs[0].read_text())["fault_profile"] == "replay-monday"


def test_a_trace_that_cannot_be_replayed_is_one_line_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"type": "trace", "format": "mockgc-trace", "version": 1}\n')
    result = CliRunner().invoke(main, ["simulate", "-n", "50", "-p", f"trace:{empty}"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "no publish" in result.output
    result = CliRunner().invoke(main, ["simulate", "-n", "50", "-p", f"trace:{tmp_path / 'absent.jsonl'}"])
    assert result.exit_code == 2 and "cannot read the trace" in result.output


def test_calibrate_writes_a_profile_that_reads_back(trace_file: Path, tmp_path: Path) -> None:
    out, fitted = tmp_path / "profile.toml", tmp_path / "fit.json"
    result = CliRunner().invoke(main, ["calibrate", str(trace_file), "--out", str(out), "--json", str(fitted)])
    assert result.exit_code == 0, result.output
    assert "batch_size" in result.output and "script.session.locked" in result.output
    profile = load_profile_file(out)
    assert profile.name == "calibrated-monday" and profile.publish.batch_size == 6
    assert "# " in out.read_text()  # the intervals and evidence, as comments
    assert tomllib.loads(out.read_text())["publish"]["kind"] == "reject"
    assert json.loads(fitted.read_text())["parameters"]["batch_size"]["value"] == 6
    assert resolve(str(out)) == profile


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"type": "trace", "format": "mockgc-trace", "version": 1}\n', "no publish"),
        ("not a trace\n", "is not JSON"),
        ('{"type": "trace", "format": "mockgc-trace", "version": 7}\n', "version 7"),
    ],
)
def test_calibrate_says_what_is_missing_in_one_line_exit_2(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    result = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(tmp_path / "p.toml")])
    assert result.exit_code == 2, result.output
    assert says in result.output and result.output.count("\n") == 1
    assert not (tmp_path / "p.toml").exists()


def test_any_profile_writes_as_a_file_that_reads_back(tmp_path: Path) -> None:
    profile = FaultProfile(
        'odd "name"',
        "with\nnewline",
        PublishLock(
            batch_size=3,
            interval_ms=Distribution("normal", 900.0, 50.0),
            hold_ms=Distribution("uniform", 1500.0, 0.0, 1000.0, 2000.0),
            kind="invalidate",
            toxicity=0.25,
            start_delay_ms=40,
            replay=(ReplayedPublish(((0.0, 1000.5, True), (250.0, 800.0, False))),),
        ),
        (Toxic("slow", "latency", 0.5, "/api/v2/scripts", {"latency_ms": 40, "distribution": "lognormal"}),),
    )
    path = tmp_path / "p.toml"
    path.write_text(profile_toml(profile, {"batch_size": ["a comment"]}, "a header"))
    assert load_profile_file(path) == profile
