"""The mock a run loads: started as a child process on an ephemeral port, or one already running (--target)."""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from mockgc.live.procs import Child, Children, ProcessError, wait_until
from mockgc.spec.runspec import RunSpec

_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


class TargetError(RuntimeError):
    """The mock did not start, or its admin API answered something unexpected."""


@dataclass
class Target:
    """A live mock and its credentials; admin calls go through /mock with the admin key."""

    url: str
    admin_key: str
    client_id: str = "mockgc-client"
    client_secret: str = ""
    child: Child | None = None
    http: requests.Session = field(default_factory=requests.Session)

    def admin(self, method: str, path: str, body: Any = None, expect: int = 200, timeout: float = 30.0) -> Any:
        try:
            reply = self.http.request(
                method,
                f"{self.url}/mock{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.admin_key}"},
                timeout=timeout,
            )
        except requests.RequestException as error:
            raise TargetError(f"{method} /mock{path}: {error}") from None
        if reply.status_code != expect:
            raise TargetError(f"{method} /mock{path} answered {reply.status_code}: {reply.text[:300]}")
        return reply.json() if reply.content else None

    def info(self) -> dict[str, Any]:
        return self.admin("GET", "/info")  # type: ignore[no-any-return]

    def reset(self, spec: RunSpec) -> dict[str, Any]:
        """Rebuild the org as the spec says: the mock reads its seed, agents and fault profile."""
        return self.admin("POST", "/reset", spec.as_dict())  # type: ignore[no-any-return]

    def register_client(self, client_id: str, client_secret: str, rate_limit_per_minute: int | None) -> None:
        """A load client; rate limit None means its tokens are never throttled."""
        self.admin(
            "POST",
            "/oauth/clients",
            {"clientId": client_id, "clientSecret": client_secret, "rateLimitPerMinute": rate_limit_per_minute},
            expect=201,
        )
        self.client_id, self.client_secret = client_id, client_secret

    def truth(self) -> dict[str, dict[str, Any]]:
        return self.admin("GET", "/truth", timeout=120)["sessions"]  # type: ignore[no-any-return]

    def windows(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/windows")["operations"]  # type: ignore[no-any-return]

    def ready(self) -> bool:
        try:
            self.info()
        except TargetError:
            return False
        return True

    def why_not_ready(self) -> str | None:
        """None when the mock answers /mock/info with this admin key; else what is wrong, told apart: no
        answer at all, a refused key, or something that is not a mockgc mock."""
        try:
            reply = self.http.get(
                f"{self.url}/mock/info", headers={"Authorization": f"Bearer {self.admin_key}"}, timeout=10
            )
        except requests.ConnectionError:
            return (
                f"no answer at {self.url}: nothing accepts connections there (is `mockgc serve` running on that port?)"
            )
        except requests.RequestException as error:
            return f"no answer at {self.url}: {type(error).__name__}"
        if reply.status_code in (401, 403):
            return (
                f"the mock at {self.url} refused the admin key ({reply.status_code}): give the key `mockgc serve` "
                "printed, with --admin-key or MOCKGC_ADMIN_KEY"
            )
        if reply.status_code != 200:
            return f"{self.url} answered {reply.status_code} to /mock/info: is it a mockgc mock?"
        return None


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
    target = Target(f"http://127.0.0.1:{port[0]}", admin_key, "mockgc-client", client_secret, child)
    if not wait_until(lambda: target.ready() or not child.alive(), max(1.0, deadline - time.monotonic())):
        raise TargetError(f"the mock on {target.url} never answered /mock/info:\n{child.log_tail()}")
    if not child.alive():
        raise TargetError(f"the mock exited (code {child.poll()}):\n{child.log_tail()}")
    return target
