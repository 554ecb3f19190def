"""What the CLI says, each with its exit code: mitigations, profiles, bad input, --target, a busy port, the store,
80-column tables, n/a, durations, the gate on simulate and run's input, JUnit written by the CLI, and compare."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from mockgc.cli import main
from mockgc.platform.serve.server import ServerThread
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def one_error_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_mitigations_lists_each_with_what_it_models_and_its_parameters_and_defaults() -> None:
    code, output = invoke("mitigations")
    assert code == 0, output
    assert "none: The baseline: one Set Data, one evaluate, no protection." in output
    assert "retry: Set Data inside try/catch" in output
    for line in (
        "attempts = 3",
        "delay_s = 2.0",
        "retry_evaluate = false",
        'variant = "operation"',
        "max_attempts = 50",
    ):
        assert line in output
    assert output.index("none:") < output.index("soft-hold:") < output.index("async-worker:")
    assert "--param NAME=VALUE" in output


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "-p", "nope", "-n", "5"],
        ["run", "-p", "nope"],
        ["serve", "--profile", "nope", "--port", "0"],
    ],
)
def test_a_bad_profile_is_the_same_message_everywhere(args: list[str]) -> None:
    code, output = invoke(*args)
    assert code == 2
    assert one_error_line(output) == (
        "Error: unknown fault profile 'nope'; known: calm, fast, legacy-v1, long-hold, seed-clobber, seed-default, "
        "seed-invalidate"
    )


def test_profiles_agrees_on_the_calm_and_v1_kinds_and_fits_80_columns() -> None:
    code, output = invoke("profiles")
    assert code == 0
    rows = {line.split()[0]: line for line in output.splitlines() if line.strip()}
    assert (
        "waits (v1)" in rows["legacy-v1"] and "none (toxicity 0)" in rows["calm"] and "clobber" in rows["seed-clobber"]
    )
    console = Console(width=80, force_terminal=True, color_system=None)
    with console.capture() as captured:
        from mockgc.cli import profiles

        saved, profiles.console = profiles.console, console
        try:
            profiles.profiles.callback()  # type: ignore[misc]
        finally:
            profiles.console = saved
    table = captured.get()
    assert "…" not in table and max(len(line) for line in table.splitlines()) <= 80


def test_the_summary_keeps_names_verdicts_and_losses_whole_at_80_columns() -> None:
    from mockgc.checker.summary import print_summary
    from mockgc.drivers.simulator import Simulator
    from mockgc.spec.runspec import RunSpec
    from mockgc.strategies.plans import plans

    results = [Simulator(plan).run() for plan in plans(RunSpec().with_options(mitigation="all", sessions=60))]
    results[0]["partial"] = True
    console = Console(width=80, force_terminal=True, color_system=None)
    with console.capture() as captured:
        print_summary(console, results)
    table = captured.get()
    assert "…" not in table and max(len(line) for line in table.splitlines()) <= 80
    for name in ("backoff-verify", "external-store", "async-worker", "fails (partial)", "lost*"):
        assert name in table


def test_a_missing_figure_prints_na() -> None:
    code, output = invoke("simulate", "-m", "none", "-n", "20", "-p", "calm")
    assert code == 0, output
    assert "None" not in output and "time to consistency n/a" in output


def test_simulate_takes_a_comma_list_like_run() -> None:
    code, output = invoke("simulate", "-m", "none,backoff-verify", "-n", "100")
    assert code == 0, output
    assert "holds on seed-default: backoff-verify" in output


def test_serve_on_a_busy_port_names_it_and_suggests_port_0(busy_port: int) -> None:
    code, output = invoke("serve", "--port", str(busy_port))
    assert code == 2
    assert one_error_line(output) == (
        f"Error: port {busy_port} on 127.0.0.1 is already in use (another mockgc?): choose another --port, "
        "or --port 0 for a free one"
    )


def test_worker_on_a_busy_port_says_the_same(
    busy_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_server: ServerThread
) -> None:
    monkeypatch.setenv("MOCKGC_WEBHOOK_SECRET", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    code, output = invoke(
        "worker", "--target", live_server.url, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
        "--store", f"sqlite:///{tmp_path / 'w.db'}", "--port", str(busy_port),
    )  # fmt: skip
    assert code == 2
    assert f"port {busy_port} on 127.0.0.1 is already in use" in output and "--port 0" in output


def test_target_without_a_scheme_says_so(tmp_path: Path) -> None:
    code, output = invoke("run", "--target", "127.0.0.1:8321", "--admin-key", "k", "--out", str(tmp_path))
    assert code == 2
    assert one_error_line(output) == (
        "Error: --target 127.0.0.1:8321 has no scheme: give the URL whole, e.g. http://127.0.0.1:8321"
    )


def test_target_that_does_not_answer_says_so(tmp_path: Path, busy_port: int) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    code, output = invoke("run", "--target", f"http://127.0.0.1:{port}", "--admin-key", "k", "--out", str(tmp_path))
    assert code == 2
    assert one_error_line(output) == (
        f"Error: --target: no answer at http://127.0.0.1:{port}: nothing accepts connections there "
        "(is `mockgc serve` running on that port?)"
    )


def test_target_with_a_wrong_admin_key_says_so(tmp_path: Path, live_server: ServerThread) -> None:
    code, output = invoke("run", "--target", live_server.url, "--admin-key", "wrong", "--out", str(tmp_path))
    assert code == 2
    assert one_error_line(output) == (
        f"Error: --target: the mock at {live_server.url} refused the admin key (401): give the key `mockgc serve` "
        "printed, with --admin-key or MOCKGC_ADMIN_KEY"
    )
    assert ADMIN_KEY != "wrong"


def test_the_store_is_checked_before_the_load_starts(tmp_path: Path, busy_port: int) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    out = tmp_path / "run"
    code, output = invoke(
        "run", "-m", "external-store", "--store", f"redis://127.0.0.1:{port}/0?timeout=0.5", "--out", str(out)
    )
    assert code == 2
    line = one_error_line(output)
    assert f"Error: the store redis://127.0.0.1:{port}/0" in line and "does not answer" in line
    assert line.endswith("nothing was run")
    assert not (out / "mock.log").exists() and not (out / "locust.log").exists()  # no mock, no Locust


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "-t", "1x"], "Error: duration '1x' is not a duration: use seconds (30 or 2.5), or Locust's form: 30s, 1m, 1h30m"),
        (["run", "--drain-timeout", "soon"], "Error: drain timeout 'soon' is not a duration"),
        (["demo", "-t", "1x"], "Error: duration '1x' is not a duration"),
        (["run", "--expect", "none=maybe"], "Error: expectation 'none=maybe' is not NAME=holds or NAME=fails"),
        (["run", "-m", "none", "--expect", "retry=holds"], "Error: the gate names retry, not run here (this run: none)"),
    ],
)  # fmt: skip
def test_run_and_demo_refuse_bad_input_before_starting_anything(args: list[str], message: str, tmp_path: Path) -> None:
    code, output = invoke(*args, "--out", str(tmp_path / "x"))
    assert code == 2
    assert one_error_line(output).startswith(message)


def test_a_gated_simulation_matrix_exits_by_its_expectations_and_writes_valid_junit(tmp_path: Path) -> None:
    import xmlschema

    junit = tmp_path / "junit.xml"
    met = [
        "simulate",
        "-m",
        "none,backoff-verify",
        "-n",
        "150",
        "--expect",
        "none=fails",
        "--expect",
        "backoff-verify=holds",
    ]
    code, output = invoke(*met, "--junit", str(junit))
    assert code == 0, output
    xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "schemas" / "junit-jenkins.xsd").validate(str(junit))
    code, output = invoke(*met[:-4], "--expect", "none=holds", "--junit", str(junit))
    assert code == 1
    assert "gate broken (none on seed-default): expected holds, got fails (lost " in output
    assert 'failures="1"' in junit.read_text() and "expected holds, got fails" in junit.read_text()


def test_thresholds_gate_a_single_simulation(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, output = invoke(
        "simulate", "-m", "backoff-verify", "-n", "150", "--threshold", "lost<=0", "--threshold",
        "requests_per_session<=3", "--json", str(out),
    )  # fmt: skip
    assert code == 1
    assert "threshold requests_per_session<=3 broken: requests_per_session = " in output
    assert json.loads(out.read_text())["gate"]["thresholds"][0] == {"threshold": "lost<=0", "value": 0, "passed": True}


def test_the_spec_file_carries_expectations_and_thresholds(tmp_path: Path) -> None:
    spec = tmp_path / "gate.toml"
    spec.write_text('mitigation = "none"\nsessions = 100\nthresholds = ["lost<=1000"]\n[expect]\nnone = "fails"\n')
    code, output = invoke("simulate", "--spec", str(spec))
    assert code == 0, output
    code, output = invoke("simulate", "--spec", str(spec), "--expect", "none=holds")
    assert code == 1 and "expected holds, got fails" in output
    # A file's gate for another mitigation, with options on top: names are checked on the merged spec.
    spec.write_text('mitigation = "backoff-verify"\nsessions = 100\n[expect]\n"backoff-verify" = "holds"\n')
    code, output = invoke("simulate", "--spec", str(spec), "--threshold", "requests_per_session<=3")
    assert code == 1 and "threshold requests_per_session<=3 broken" in output


def test_compare_writes_the_diff_and_exits_1_when_b_loses_more(tmp_path: Path) -> None:
    baseline, candidate = tmp_path / "a.json", tmp_path / "b.json"
    assert invoke("simulate", "-m", "backoff-verify", "-n", "100", "--json", str(baseline))[0] == 0
    assert (
        invoke("simulate", "-m", "backoff-verify", "-n", "100", "-p", "seed-clobber", "--json", str(candidate))[0] == 1
    )
    # One result against one is compared directly, whatever differs: here the profile, flagged, and B worse.
    code, output = invoke("compare", str(baseline), str(candidate), "--out", str(tmp_path / "c0"))
    assert code == 1 and "load differs (backoff-verify): fault_profile" in output, output
    assert "A: backoff-verify on seed-default, seed 1" in output
    code, output = invoke("compare", str(baseline), str(candidate), "--strict", "--out", str(tmp_path / "c0"))
    assert code == 2 and "--strict: A and B ran under a different load (backoff-verify)" in output
    # A matrix that pairs with nothing is never a pass.
    matrix = tmp_path / "matrix.json"
    assert invoke("simulate", "-m", "none,retry", "-n", "50", "-p", "calm", "--json", str(matrix))[0] == 0
    code, output = invoke("compare", str(baseline), str(matrix), "--out", str(tmp_path / "c0"))
    assert code == 2 and "only 0 pair" not in output and "nothing was compared" in output, output
    worse = json.loads(candidate.read_text()) | {"fault_profile": "seed-default"}
    candidate.write_text(json.dumps(worse))
    code, output = invoke("compare", str(baseline), str(candidate), "--out", str(tmp_path / "c1"))
    assert code == 1, output
    assert "worse on data loss (backoff-verify): B fails where A held" in output
    written = json.loads((tmp_path / "c1" / "compare.json").read_text())
    assert written["worse"] == ["backoff-verify"]
    assert "| verdict | holds | fails | holds -> fails |" in (tmp_path / "c1" / "compare.md").read_text()
    code, output = invoke("compare", str(candidate), str(baseline), "--out", str(tmp_path / "c2"))
    assert code == 0, output
    (tmp_path / "junk.json").write_text("[]")
    code, output = invoke("compare", str(tmp_path / "junk.json"), str(baseline))
    assert code == 2 and one_error_line(output) == f"Error: {tmp_path / 'junk.json'} holds no mockgc result"


def test_whatever_escapes_a_command_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash exited 1, which CI reads as "the mitigation fails"; it is a harness error (2), in one line."""
    from mockgc.cli import profiles as profiles_command

    def broken(name: str) -> None:
        raise TypeError("an unforeseen shape")

    monkeypatch.setattr(profiles_command, "effective_kind", broken)
    done = CliRunner().invoke(main, ["profiles"])
    assert done.exit_code == 2
    assert done.output.splitlines() == [
        "Error: unexpected TypeError: an unforeseen shape (a mockgc bug: MOCKGC_DEBUG=1 shows where)"
    ]
    monkeypatch.setenv("MOCKGC_DEBUG", "1")
    assert isinstance(CliRunner().invoke(main, ["profiles"]).exception, TypeError)
