"""The mock a run loads: started as a child process on an ephemeral port, or one already running (--target)."""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mockgc.live.procs import Child, Children, ProcessError, wait_until
from mockgc.platform.client import MockAdmin

_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


class TargetError(RuntimeError):
    """The mock did not start (its admin API's errors are the client's MockError)."""


@dataclass
class Target:
    """A live mock: its admin client (mockgc/platform/client.py), the load's credentials, its process if the run
    started it."""

    admin: MockAdmin
    client_id: str = "mockgc-client"
    client_secret: str = ""
    child: Child | None = None

    @property
    def url(self) -> str:
        return self.admin.url

    def register_client(self, client_id: str, client_secret: str, rate_limit_per_minute: int | None) -> None:
        """Load with this client from now on; rate limit None means its tokens are never throttled."""
        self.admin.register_client(client_id, client_secret, rate_limit_per_minute)
        self.client_id, self.client_secret = client_id, client_secret


def start_mock(
    children: Children,
    log_dir: Path,
    *,
    threads: int = 16,
    startup_timeout: float = 30.0,
) -> Target:
    """`python -m mockgc.cli serve --port 0` in its own process group; ready when /mock/info answers.
    Its org is the run's to set: each run resets it to its spec."""
    admin_key = secrets.token_urlsafe(18)
    client_secret = secrets.token_urlsafe(18)
    env = dict(os.environ)
    # Credentials through the environment (Settings reads MOCKGC_*), so they are not in `ps` output.
    env.update(
        MOCKGC_ADMIN_KEY=admin_key,
        MOCKGC_CLIENT_SECRET=client_secret,
        MOCKGC_CLIENT_ID="mockgc-client",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
    )
    argv = [
        sys.executable,
        "-m",
        "mockgc.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--threads",
        str(threads),
        "--clock",
        "system",
    ]
    try:
        child = children.start("mock", argv, log_dir / "mock.log", env=env, watch=True)
    except ProcessError as error:
        raise TargetError(str(error)) from None
    port: list[int] = []

    def announced() -> bool:
        if not child.alive():
            return True
        match = _URL.search(child.log_path.read_text(errors="replace"))
        if match:
            port.append(int(match.group(1)))
        return bool(port)

    deadline = time.monotonic() + startup_timeout
    wait_until(announced, startup_timeout)
    if not port:
        raise TargetError(f"the mock did not start (exit {child.poll()}):\n{child.log_tail()}")
    target = Target(MockAdmin(f"http://127.0.0.1:{port[0]}", admin_key), "mockgc-client", client_secret, child)
    if not wait_until(
        lambda: target.admin.why_not_ready() is None or not child.alive(), max(1.0, deadline - time.monotonic())
    ):
        raise TargetError(f"the mock on {target.url} never answered /mock/info:\n{child.log_tail()}")
    if not child.alive():
        raise TargetError(f"the mock exited (code {child.poll()}):\n{child.log_tail()}")
    return target
