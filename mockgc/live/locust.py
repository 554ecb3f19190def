"""Locust as child processes (one, or a master and workers), started from the spec, watched, stopped.

Locust runs only as child processes: importing it monkey-patches the interpreter with gevent,
which must never happen to the CLI or to pytest.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from mockgc.live.errors import ChildDied, RunError
from mockgc.live.options import LiveOptions
from mockgc.live.procs import Child, Children, ChildWatch, free_port
from mockgc.spec.runspec import RunSpec

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LOCUSTFILE = REPO / "loadtests" / "locustfile.py"
SPEC_ENV = "MOCKGC_SPEC"  # the locustfile's --spec, by environment so the command line stays readable


# Users one Locust process carries on this 2-core machine with the mock beside it: 1,000 completed with
# every publish (`make load`); at 2,000 the process saturated its core and the nemesis greenlet starved
# (0 of 3 publishes). Above it, `mockgc run` starts a master and workers by itself.
SINGLE_PROCESS_USERS = 1000


def with_enough_workers(spec: RunSpec) -> tuple[RunSpec, str | None]:
    """The spec with local workers when one process cannot carry its users (and none were asked for), and the
    line that says so; the master then runs only the nemesis, which can no longer starve."""
    if spec.workers or spec.remote_workers or spec.users <= SINGLE_PROCESS_USERS:
        return spec, None
    workers = min(max(2, os.cpu_count() or 1), math.ceil(spec.users / SINGLE_PROCESS_USERS))
    note = (
        f"{spec.users} users are more than one Locust process carries here (about {SINGLE_PROCESS_USERS}): "
        f"running a master and {workers} workers (--workers {workers}; --workers N to choose)"
    )
    return spec.with_options(workers=workers), note


def locust_argv(locustfile: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(locustfile), *extra]


def _preload() -> None:
    """The harness idles while Locust runs: import the report's heavy libraries meanwhile."""
    with contextlib.suppress(Exception):
        import plotly.graph_objects  # noqa: F401

        import mockgc.checker.check  # noqa: F401
        from mockgc.report.html import plotly_js

        plotly_js()


class LoadOverrun(RunError):
    """Locust did not end within its bound (something froze it): it is stopped and the run judged partial."""


class Locust:
    """One run's Locust processes: headless, from one mitigation's spec, writing into `directory`."""

    def __init__(self, spec: RunSpec, options: LiveOptions, children: Children, directory: Path) -> None:
        self.spec = spec
        self.options = options
        self.children = children
        self.directory = directory
        self.locustfile = Path(options.locustfile) if options.locustfile else DEFAULT_LOCUSTFILE
        self.master: Child | None = None
        self.workers: list[Child] = []

    def start(self, host: str, env: dict[str, str], announce: Any) -> None:
        s, o, d = self.spec, self.options, self.directory
        env = dict(env, **{SPEC_ENV: s.to_json()})
        run = ["--headless", "--users", str(s.users), "--spawn-rate", f"{s.spawn_rate:g}"]
        run += ["--run-time", f"{math.ceil(s.duration)}s", "--host", host, "--csv", str(d / "locust")]
        run += ["--csv-full-history", "--html", str(d / "locust.html"), "--only-summary", "--history-dir", str(d)]
        run += ["--history-flat"]
        if not s.workers and not s.remote_workers:
            self.master = self.children.start("locust", locust_argv(self.locustfile, *run), d / "locust.log", env=env)
            return
        port = o.master_port or free_port(o.master_bind)
        master = ["--master", "--master-bind-host", o.master_bind, "--master-bind-port", str(port)]
        master += ["--expect-workers", str(s.workers + s.remote_workers)]
        master += ["--expect-workers-max-wait", f"{o.startup_timeout:g}"]
        self.master = self.children.start(
            "locust-master", locust_argv(self.locustfile, *master, *run), d / "locust-master.log", env=env
        )
        if s.remote_workers:
            announce(
                f"waiting up to {o.startup_timeout:g} s for {s.remote_workers} remote worker(s): on each machine run\n"
                f"  locust -f loadtests/locustfile.py --worker --master-host <this machine> --master-port {port}"
            )
        for index in range(s.workers):
            worker = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
            self.workers.append(
                self.children.start(
                    f"locust-worker-{index}",
                    locust_argv(self.locustfile, *worker),
                    d / f"locust-worker-{index}.log",
                    env=env,
                )
            )

    def wait(self, started: float, watch: ChildWatch, display: Any) -> None:
        """Until Locust exits; ChildDied as soon as a watched child dies, RunError past the run's bound."""
        assert self.master is not None
        threading.Thread(target=_preload, daemon=True).start()
        s = self.spec
        bound = self.options.startup_timeout + s.duration + s.drain_timeout + 30
        display.start(s.mitigation, s.duration)
        try:
            while self.master.alive():
                elapsed = time.monotonic() - started
                death = watch.death()
                if death is not None:
                    raise ChildDied(death)
                if elapsed > bound:
                    raise LoadOverrun(
                        f"Locust ran past its bound of {bound:.0f} s (startup, the load, the drain and 30 s): "
                        "it was stopped, the report is partial"
                    )
                display.update(elapsed, self.directory)
                time.sleep(0.25)
            display.update(time.monotonic() - started, self.directory)
        finally:
            display.stop()

    def stop(self, graceful: bool) -> None:
        """Graceful: SIGTERM makes Locust stop the test, gather the history and write it."""
        grace = self.spec.drain_timeout + 20 if graceful else 5
        if self.master is not None:
            self.master.stop(grace)
        for worker in self.workers:
            # Workers quit when the master tells them; only stragglers get a signal.
            if worker.wait(10 if graceful else 1) is None:
                worker.stop(5)

    def exit_code(self) -> int | None:
        return self.master.poll() if self.master else None

    def log_tail(self, lines: int = 30) -> str:
        return self.master.log_tail(lines) if self.master else ""


def process_env(target_client_id: str, target_client_secret: str, service_env: dict[str, str]) -> dict[str, str]:
    """Every Locust process's environment: the load client's credentials (never argv) and the companion's."""
    env = dict(os.environ)
    env.update(
        MOCKGC_CLIENT_ID=target_client_id,
        MOCKGC_CLIENT_SECRET=target_client_secret,
        PYTHONUNBUFFERED="1",
        COLUMNS="200",
    )
    env.update(service_env)
    return env
