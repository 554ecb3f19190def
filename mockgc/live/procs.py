"""Child processes a run starts: each in its own process group, always stopped, never left behind."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from mockgc.live.redact import Secrets
from mockgc.report.records import Death

PR_SET_PDEATHSIG = 1


class ProcessError(RuntimeError):
    """A child process could not be started or did not become ready."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for Locust's master port, which cannot pick its own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _load_prctl() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up here, not in the forked child: between fork and exec the child must take no lock
# (dlopen's included) that another thread of the harness might have held at the fork.
_PRCTL = _load_prctl() if sys.platform.startswith("linux") else None


def _child_setup() -> None:
    # Linux: if the harness itself is killed outright (SIGKILL), the kernel sends the child SIGTERM,
    # so even then nothing is left behind.
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Child:
    """One child in its own session (process group), so the terminal's Ctrl-C reaches only the harness,
    which then stops the children in order, and a stop reaches the child's own children too."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        secrets: Secrets | None = None,
    ) -> None:
        self.name = name
        self.secrets = secrets or Secrets()
        self.argv = list(argv)
        self.log_path = log_path
        # Set once the harness itself asks the child to stop: any exit before that is a death.
        self.stopping = False
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = log_path.open("wb")
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_child_setup if _PRCTL is not None else None,
            )
        except OSError as error:
            self._log.close()
            raise ProcessError(f"cannot start {name}: {error}") from None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, signum: int) -> None:
        """To the whole group; a group that is already gone is fine."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = 10.0, signum: int = signal.SIGTERM) -> int | None:
        """Ask (SIGTERM), wait up to `grace` seconds, then SIGKILL the group. Returns the exit code."""
        self.stopping = True
        if self.alive():
            self.send(signum)
            if self.wait(grace) is None:
                self.send(signal.SIGKILL)
                self.wait(5.0)
        # Children of the child (if any) share its group: make sure none outlive it.
        self.send(signal.SIGKILL)
        with contextlib.suppress(OSError):
            self._log.close()
        return self.popen.poll()

    def log_tail(self, lines: int = 20) -> str:
        """The log's last lines, credentials redacted: they go into result.json and onto the terminal."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return self.secrets.redact("\n".join(text.splitlines()[-lines:]))


class ChildWatch:
    """The children a run cannot go on without (the mock, a service such as the async worker).

    Whoever starts such a child adds it; the run polls `death()` while the load runs and stops the
    load as soon as one has exited without being asked to.
    """

    def __init__(self) -> None:
        self._children: list[Child] = []
        self._lock = threading.Lock()

    def add(self, child: Child) -> Child:
        with self._lock:
            self._children.append(child)
        return child

    def death(self) -> Death | None:
        """The first watched child found dead, if any."""
        with self._lock:
            children = list(self._children)
        for child in children:
            code = child.poll()
            if code is not None and not child.stopping:
                return Death(child.name, child.pid, code, time.time(), child.log_tail(10))
        return None


class Children:
    """Every child a run started, stopped in reverse order however the run ends."""

    def __init__(self, secrets: Secrets | None = None) -> None:
        self.children: list[Child] = []
        self.watch = ChildWatch()
        self.secrets = secrets or Secrets()

    def start(self, name: str, argv: Sequence[str], log_path: Path, *, watch: bool = False, **kwargs: Any) -> Child:
        """Start a child; `watch=True`: the run must stop if it dies (see ChildWatch). The credentials in its
        environment join the run's secrets."""
        self.secrets.add_environment(kwargs.get("env"))
        child = Child(name, argv, log_path, secrets=self.secrets, **kwargs)
        self.children.append(child)
        if watch:
            self.watch.add(child)
        return child

    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self.children}

    def stop_all(self, grace: float = 10.0) -> None:
        for child in reversed(self.children):
            child.stop(grace)

    def kill_all(self) -> None:
        for child in reversed(self.children):
            child.send(signal.SIGKILL)
            child.wait(5.0)

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop_all()
        except BaseException:
            # A second Ctrl-C while stopping: no more grace, but still nothing left behind.
            self.kill_all()
            raise


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
