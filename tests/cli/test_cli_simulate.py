"""`mockgc simulate` through click's CliRunner: exit codes, JSON determinism, the comparison table, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.strategies.registry import REGISTRY, names


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["simulate", *args])
    return result.exit_code, result.output


def test_none_on_the_field_report_profile_fails_with_exit_1() -> None:
    code, output = invoke("--mitigation", "none", "--profile", "seed-default", "--seed", "1", "--sessions", "400")
    assert code == 1, output
    assert "fails" in output and "none" in output
    assert "profile seed-default, seed 1, 400 sessions, 3 publishes" in output


def test_a_mitigation_that_holds_exits_0() -> None:
    code, output = invoke("-m", "backoff-verify", "-p", "seed-default", "-s", "1", "-n", "400")
    assert code == 0, output
    assert "holds" in output


def test_json_is_byte_identical_for_the_same_arguments(tmp_path: Path) -> None:
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in paths:
        code, output = invoke("-m", "retry", "-p", "long-hold", "-n", "200", "-s", "9", "--json", str(path))
        assert code == 1, output
    assert paths[0].read_bytes() == paths[1].read_bytes()
    result = json.loads(paths[0].read_text())
    assert (result["mitigation"], result["fault_profile"], result["seed"], result["driver"]) == (
        "retry",
        "long-hold",
        9,
        "simulation",
    )
    assert result["sessions"]["total"] == 200 and result["verdict"] == "fails"


def test_params_reach_the_mitigation(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, output = invoke(
        "-m", "retry", "--param", "attempts=5", "--param", "retry_evaluate=true", "-n", "50", "--json", str(out)
    )
    assert code in (0, 1), output
    assert json.loads(out.read_text())["mitigation_params"] == {"attempts": 5, "delay_s": 2.0, "retry_evaluate": True}


def test_a_user_strategy_loads_as_module_class(tmp_path: Path) -> None:
    out = tmp_path / "user.json"
    code, output = invoke(
        "-m",
        "tests.flows.test_mitigations:WriteTwice",
        "--param",
        "times=2",
        "-p",
        "calm",
        "-n",
        "30",
        "--json",
        str(out),
    )
    assert code == 0, output
    result = json.loads(out.read_text())
    assert result["mitigation"] == "write-twice" and result["requests_per_session"] == 5.0


def test_all_prints_the_comparison_and_exits_0_when_the_runs_complete(tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    code, output = invoke("--mitigation", "all", "-p", "seed-default", "-n", "200", "-s", "2", "--json", str(out))
    assert code == 0, output
    for name in names():  # `all`: every registered strategy but those that need the user's URLs
        assert name in output
    assert "holds on seed-default:" in output
    document = json.loads(out.read_text())
    assert [r["mitigation"] for r in document["results"]] == names() == [n for n in REGISTRY if n != "data-action"]
    assert (document["fault_profile"], document["seed"], document["sessions"]) == ("seed-default", 2, 200)
    verdicts = {r["mitigation"]: r["verdict"] for r in document["results"]}
    assert verdicts["none"] == "fails" and verdicts["backoff-verify"] == "holds"
    held = output.split("holds on seed-default:")[1]
    assert "backoff-verify" in held and "none," not in held


@pytest.mark.parametrize(
    "args, message",
    [
        (["-m", "no-such"], "unknown mitigation 'no-such'"),
        (["-m", "nosuchmodule:Thing"], "cannot load mitigation"),
        (["-p", "no-such"], "unknown fault profile 'no-such'"),
        (["-n", "0"], "sessions must be an integer from 1"),
        (["--agents", "0"], "agents must be an integer from 1"),
        (["--publishes", "-2"], "publishes must be an integer from 0"),
        (["-m", "retry", "--param", "attempts"], "--param takes KEY=VALUE"),
        (["-m", "retry", "--param", "tries=2"], "retry has no parameter 'tries'; its parameters: attempts, delay_s"),
        (["-m", "none", "--param", "x=1"], "none has no parameter 'x'; it takes none"),
        (["-m", "retry", "--expect", "retyr=holds"], "the gate names retyr, not run here (this run: retry)"),
        (["--expect", "none"], "expectation 'none' is not NAME=holds or NAME=fails"),
        (["--threshold", "lots<=0"], "unknown metric 'lots'"),
        (
            ["--max-flow-seconds", "1x"],
            "max flow seconds '1x' is not a duration: use seconds (30 or 2.5), or Locust's form",
        ),
        (["-m", "soft-hold", "--param", "min_ms=900"], "must not exceed"),
        (["-m", "all", "--param", "attempts=2"], "not to all"),
    ],
)
def test_bad_input_is_one_readable_line_and_exit_2(args: list[str], message: str) -> None:
    small = [] if "-n" in args else ["-n", "5"]
    code, output = invoke(*args, *small)
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert message in lines[0]


def test_an_unwritable_json_path_is_a_harness_error(tmp_path: Path) -> None:
    code, output = invoke("-n", "5", "--json", str(tmp_path / "missing-dir" / "out.json"))
    assert code == 2
    assert output.startswith("Error: ")


def test_json_dash_writes_the_result_to_stdout_and_the_table_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(main, ["simulate", "-m", "none", "-n", "40", "-p", "calm", "--json", "-"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)  # stdout is the JSON alone
    assert document["mitigation"] == "none" and document["sessions"]["total"] == 40
    assert "mitigation" in done.stderr and "holds" in done.stderr
    assert not (tmp_path / "-").exists()
