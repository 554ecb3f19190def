"""`mockgc serve` as a real process: it starts, answers, prints credentials, and stops on a signal."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.live.scripted_demo import run_scripted_demo


@pytest.fixture
def served() -> Iterator[tuple[str, str, str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockgc.cli",
            "serve",
            "--port",
            "0",
            "--client-secret",
            "cli-secret",
            "--profile",
            "fast",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        url = re.search(r"http://127\.0\.0\.1:\d+", lines[0])
        admin_key = re.search(r"admin key:\s+(\S+)", lines[2])
        assert url and admin_key, lines
        # A credential that was given is not printed (it would end up in a run's mock.log); a made-up one is.
        assert "cli-secret" not in lines[1] and "secret=(as given)" in lines[1]
        yield url.group(0), "cli-secret", admin_key.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def test_serve_answers_with_the_printed_credentials(served: tuple[str, str, str]) -> None:
    url, secret, admin_key = served
    token = requests.post(
        f"{url}/oauth/token", data={"grant_type": "client_credentials"}, auth=("mockgc-client", secret), timeout=10
    )
    assert token.status_code == 200
    users = requests.get(
        f"{url}/api/v2/users?pageSize=50",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=10,
    )
    assert users.status_code == 200 and len(users.json()["entities"]) == 50
    info = requests.get(f"{url}/mock/info", headers={"Authorization": f"Bearer {admin_key}"}, timeout=10)
    assert info.json()["profile"]["name"] == "fast"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "port must be between"),
        (["--config", "/nonexistent/mockgc.toml"], "cannot read config file"),
        (["--seed", "abc"], "is not a valid integer"),
    ],
)
def test_serve_rejects_bad_input_in_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_serve_rejects_unknown_config_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "mockgc.toml"
    config.write_text("[mockgc]\nport = 0\nbogus = 1\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown settings" in result.output and "bogus" in result.output


def test_scripted_client_shows_the_failure() -> None:
    """The issue's scripted client: 200 before the publish, 400 during the hold, 200 after."""
    lines: list[str] = []
    assert run_scripted_demo(lines.append) is True
    assert any("Set Data -> 400" in line for line in lines), lines


def test_demo_scripted_runs_the_scripted_client_from_the_cli() -> None:
    result = CliRunner().invoke(main, ["demo", "--scripted"])
    assert result.exit_code == 0, result.output
    assert "before the publish: Set Data -> 200" in result.output
    assert "Set Data -> 400" in result.output and "after the hold: Set Data -> 200" in result.output
