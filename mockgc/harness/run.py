"""`mockgc run`: the mock, Locust (local or master + workers), the nemesis, the verdict and the report.

Locust runs only as child processes: importing it monkey-patches the interpreter with gevent,
which must never happen to the CLI or to pytest.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import secrets
import shlex
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mockgc.companions import ServiceContext
from mockgc.harness.nemesis import publish_offsets
from mockgc.harness.procs import Child, Children, Death, ProcessError, free_port
from mockgc.harness.target import Target, TargetError, start_mock, window_spans

EXIT_HOLDS, EXIT_FAILS, EXIT_HARNESS, EXIT_INTERRUPTED = 0, 1, 2, 130
LOAD_CLIENT_ID = "mockgc-load"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_LOCUSTFILE = REPO / "loadtests" / "locustfile.py"
# How bad an exit code is, to pick the worst of several runs.
_SEVERITY = {EXIT_INTERRUPTED: 4, EXIT_HARNESS: 3, EXIT_FAILS: 2, EXIT_HOLDS: 1}


class RunError(RuntimeError):
    """The harness itself failed: the mock or Locust did not start, or no history came back (exit 2)."""


class ChildDied(Exception):
    """A watched child (the mock, a service) exited during the load."""

    def __init__(self, death: Death) -> None:
        super().__init__(death.describe())
        self.death = death


class Interrupted(Exception):
    """Ctrl-C: the partial results written so far travel with it."""

    def __init__(self, outcomes: list[RunOutcome]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes


@dataclass
class RunConfig:
    """Everything a run depends on; written to config.json so the run can be repeated."""

    mitigation: str = "none"  # a name, module:Class, a comma list, or "all"
    mitigation_params: dict[str, Any] = field(default_factory=dict)
    profile: str = "seed-default"
    seed: int = 1
    agents: int = 50
    users: int = 50
    spawn_rate: float = 50.0
    duration: float = 20.0
    workers: int = 0
    # Workers on other machines (`locust -f loadtests/locustfile.py --worker --master-host THIS`).
    remote_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 0  # 0: a free port (only useful without remote workers)
    publish_at: str = ""
    publishes: int = 3
    think_time: float = 1.0
    drain_timeout: float = 10.0
    store: str | None = None
    target: str | None = None
    admin_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    rate_limited: bool = False  # load with the given (rate-limited) client instead of an unthrottled one
    threads: int = 16
    locustfile: str | None = None
    out: str = "runs/run"
    startup_timeout: float = 60.0

    def mitigations(self) -> list[str]:
        from mockgc.registry import expand

        return expand(self.mitigation)

    def offsets(self) -> list[float]:
        offsets = publish_offsets(self.publish_at, self.publishes, self.duration)
        late = [o for o in offsets if o >= self.duration]
        if late:
            raise ValueError(f"publish offsets {late} are not inside the {self.duration:g} s run")
        return offsets

    def validate(self) -> RunConfig:
        if self.users < 1 or self.spawn_rate <= 0:
            raise ValueError("users must be at least 1 and spawn rate above 0")
        if not 1 <= self.duration <= 86_400:
            raise ValueError("duration must be between 1 s and a day")
        if self.workers < 0 or self.remote_workers < 0:
            raise ValueError("workers must not be negative")
        if self.remote_workers and not self.target:
            raise ValueError("--remote-workers needs --target: a mock the other machines can reach")
        if self.remote_workers and not self.master_port:
            raise ValueError("--remote-workers needs --master-port, the port the workers connect to")
        if self.target and not self.admin_key:
            raise ValueError("--target needs --admin-key (the run resets the mock and reads its ground truth)")
        if self.rate_limited and self.target and not self.client_secret:
            raise ValueError("--rate-limited with --target needs --client-secret")
        self.offsets()
        from mockgc.registry import load_mitigation

        for name in self.mitigations():
            load_mitigation(name, self.mitigation_params)
        return self

    def public(self) -> dict[str, Any]:
        """config.json: secrets left out, plus the command that repeats the run."""
        data = asdict(self)
        for secret in ("admin_key", "client_secret"):
            if data[secret]:
                data[secret] = "***"
        data["publish_offsets"] = self.offsets()
        data["command"] = self.command()
        return data

    def command(self) -> str:
        parts = ["mockgc", "run", "--mitigation", self.mitigation, "--profile", self.profile, "--seed", str(self.seed)]
        parts += [
            "--users",
            str(self.users),
            "--spawn-rate",
            f"{self.spawn_rate:g}",
            "--duration",
            f"{self.duration:g}",
        ]
        parts += ["--agents", str(self.agents), "--think-time", f"{self.think_time:g}", "--workers", str(self.workers)]
        if self.remote_workers:
            parts += ["--remote-workers", str(self.remote_workers), "--master-bind", self.master_bind]
            parts += ["--master-port", str(self.master_port)]
        parts += ["--publish-at", ",".join(f"{o:g}" for o in self.offsets()) or '""']
        for key, value in sorted(self.mitigation_params.items()):
            parts += ["--param", f"{key}={json.dumps(value)}"]
        if self.store:
            parts += ["--store", self.store]
        if self.target:
            parts += ["--target", self.target]
        return shlex.join(parts)


@dataclass
class RunOutcome:
    mitigation: str
    directory: Path
    result: dict[str, Any]
    exit_code: int
    sections: str = ""  # the run's rendered report sections, reused by a matrix report


class Display:
    """What the run tells a person while it goes: phase lines and a live progress line."""

    def line(self, text: str) -> None:
        pass

    def start(self, label: str, total: float) -> None:
        pass

    def update(self, elapsed: float, status: str) -> None:
        pass

    def stop(self) -> None:
        pass


class RichDisplay(Display):
    """A rich progress bar (elapsed of --duration) with live outcome counts read from Locust's CSV."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self._progress: Any = None
        self._task: Any = None

    def line(self, text: str) -> None:
        self.console.print(text)

    def start(self, label: str, total: float) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            transient=not self.console.is_terminal,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, status="starting")

    def update(self, elapsed: float, status: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=min(elapsed, self._progress.tasks[0].total or 0), status=status)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def live_counts(stats_csv: Path) -> tuple[int, dict[str, int], int]:
    """(requests, outcomes by class, Locust failures outside outcomes) from Locust's *_stats.csv."""
    requests_total, outcomes, failures = 0, {}, 0
    try:
        with stats_csv.open(newline="") as handle:
            for row in csv.DictReader(handle):
                kind, name = row.get("Type", ""), row.get("Name", "")
                count = int(row.get("Request Count") or 0)
                if kind == "OUTCOME":
                    outcomes[name] = count
                elif name == "Aggregated":
                    requests_total = count
                else:
                    failures += int(row.get("Failure Count") or 0)
    except (OSError, ValueError, csv.Error):
        pass
    requests_total -= sum(outcomes.values())  # Aggregated counts the outcome rows too
    return max(0, requests_total), outcomes, failures


def _status_text(stats_csv: Path) -> str:
    requests_total, outcomes, _ = live_counts(stats_csv)
    shown = " ".join(
        f"{name} {outcomes[name]}" for name in ("ok", "lost", "corrupted", "indeterminate") if name in outcomes
    )
    return f"{requests_total} requests  {shown}".strip()


def _preload() -> None:
    with contextlib.suppress(Exception):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot

        import mockgc.checker  # noqa: F401


def locust_argv(locustfile: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(locustfile), *extra]


def read_history(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    with path.open() as handle:
        for line in handle:
            if line.strip():
                entries.append(json.loads(line))
    return entries


def _store_contents(store_url: str | None, history: list[dict[str, Any]]) -> dict[str, str | None] | None:
    """What the external store holds for every storeKey the flows reported (the checker's `store`)."""
    keys = sorted(
        {e["value"]["storeKey"] for e in history if e.get("type") == "flow" and (e.get("value") or {}).get("storeKey")}
    )
    if not store_url or not keys:
        return None
    from mockgc.stores import StoreError, open_store

    try:
        store = open_store(store_url)
        try:
            return {key: store.get(key) for key in keys}
        finally:
            store.close()
    except StoreError as error:
        # Durability cannot be judged without the store: a harness failure (exit 2), not a verdict.
        raise RunError(f"cannot read the external store {store_url} to check durability: {error}") from None


class LiveRun:
    """One mitigation's live run against a target: start Locust, wait, collect, check, write."""

    def __init__(
        self, config: RunConfig, target: Target, children: Children, mitigation: str, directory: Path, display: Display
    ) -> None:
        self.config = config
        self.target = target
        self.children = children
        self.mitigation = mitigation
        self.directory = directory
        self.display = display
        self.locustfile = Path(config.locustfile) if config.locustfile else DEFAULT_LOCUSTFILE
        self.master: Child | None = None
        self.workers: list[Child] = []
        self.partial = False
        self.started = 0.0
        self.watch = children.watch  # the mock if the run started it, and what a service hook adds
        self.death: Death | None = None
        self.loaded_seconds: float | None = None  # how long the load ran before a death stopped it
        self.service_error: str | None = None

    def _env(self, store_url: str | None, service_env: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            MOCKGC_CLIENT_ID=self.target.client_id,
            MOCKGC_CLIENT_SECRET=self.target.client_secret,
            MOCKGC_ADMIN_KEY=self.target.admin_key,
            MOCKGC_STORE=store_url or "",
            MOCKGC_MITIGATION_PARAMS=json.dumps(self.config.mitigation_params),
            PYTHONUNBUFFERED="1",
            COLUMNS="200",
        )
        env.update(service_env)
        return env

    def _start_locust(self, env: dict[str, str]) -> None:
        c, d = self.config, self.directory
        offsets = ",".join(f"{o:g}" for o in c.offsets())
        run = [
            "--headless",
            "--users",
            str(c.users),
            "--spawn-rate",
            f"{c.spawn_rate:g}",
            "--run-time",
            f"{math.ceil(c.duration)}s",
            "--host",
            self.target.url,
            "--csv",
            str(d / "locust"),
            "--csv-full-history",
            "--html",
            str(d / "locust.html"),
            "--only-summary",
            "--mitigation",
            self.mitigation,
            "--fault-profile",
            c.profile,
            "--seed",
            str(c.seed),
            "--think-time",
            f"{c.think_time:g}",
            "--drain-timeout",
            f"{c.drain_timeout:g}",
            "--history-dir",
            str(d),
            "--publishes",
            str(len(c.offsets())),
            "--publish-at",
            offsets,
        ]
        if not c.workers and not c.remote_workers:
            self.master = self.children.start("locust", locust_argv(self.locustfile, *run), d / "locust.log", env=env)
            return
        port = c.master_port or free_port(c.master_bind)
        master = [
            "--master",
            "--master-bind-host",
            c.master_bind,
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(c.workers + c.remote_workers),
            "--expect-workers-max-wait",
            f"{c.startup_timeout:g}",
        ]
        self.master = self.children.start(
            "locust-master", locust_argv(self.locustfile, *master, *run), d / "locust-master.log", env=env
        )
        if c.remote_workers:
            self.display.line(
                f"waiting up to {c.startup_timeout:g} s for {c.remote_workers} remote worker(s): on each machine run\n"
                f"  locust -f loadtests/locustfile.py --worker --master-host <this machine> --master-port {port}"
            )
        for index in range(c.workers):
            worker = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
            self.workers.append(
                self.children.start(
                    f"locust-worker-{index}",
                    locust_argv(self.locustfile, *worker),
                    d / f"locust-worker-{index}.log",
                    env=env,
                )
            )

    def _wait(self) -> None:
        assert self.master is not None
        # The harness idles while Locust runs: import the report's heavy libraries meanwhile.
        threading.Thread(target=_preload, daemon=True).start()
        c = self.config
        bound = c.startup_timeout + c.duration + c.drain_timeout + 30
        stats = self.directory / "locust_stats.csv"
        self.display.start(f"{self.mitigation}", c.duration)
        try:
            while self.master.alive():
                elapsed = time.monotonic() - self.started
                death = self.watch.death()
                if death is not None:
                    raise ChildDied(death)
                if elapsed > bound:
                    raise RunError(f"Locust ran past its bound of {bound:.0f} s:\n{self.master.log_tail()}")
                self.display.update(elapsed, _status_text(stats))
                time.sleep(0.25)
            self.display.update(c.duration, _status_text(stats))
        finally:
            self.display.stop()

    def _stop_locust(self, graceful: bool) -> None:
        """Graceful: SIGTERM makes Locust stop the test, gather the history and write it."""
        grace = self.config.drain_timeout + 20 if graceful else 5
        if self.master is not None:
            self.master.stop(grace)
        for worker in self.workers:
            # Workers quit when the master tells them; only stragglers get a signal.
            if worker.wait(10 if graceful else 1) is None:
                worker.stop(5)

    def execute(self) -> RunOutcome:
        c, d = self.config, self.directory
        d.mkdir(parents=True, exist_ok=True)
        for stale in ("history.jsonl", "live.json", "result.json"):
            (d / stale).unlink(missing_ok=True)
        self.target.reset(seed=c.seed, profile=c.profile, agents=None if c.target else c.agents)
        from mockgc.registry import companion_of, load_mitigation

        strategy = load_mitigation(self.mitigation, c.mitigation_params)
        needs_store = strategy.needs_store
        store_url = c.store or (f"sqlite:///{(d / 'store.db').resolve()}" if needs_store else None)
        if store_url and store_url.startswith("sqlite:") and not c.store:
            (d / "store.db").unlink(missing_ok=True)
        ctx = ServiceContext(
            target_url=self.target.url,
            admin_key=self.target.admin_key,
            client_id=self.target.client_id,
            client_secret=self.target.client_secret,
            out_dir=d,
            store_url=store_url,
            start=lambda name, argv, log, env: self.children.start(name, argv, log, env=dict(env), watch=True),
        )
        live_service = companion_of(strategy).live
        (d / "config.json").write_text(
            json.dumps(c.public() | {"mitigation": self.mitigation, "store": store_url}, indent=2, sort_keys=True)
        )
        self.display.line(
            f"[bold]{self.mitigation}[/] on {c.profile}: {c.users} users for {c.duration:g} s, "
            f"publishes at {', '.join(f'{o:g}' for o in c.offsets()) or 'none'} s"
            + (f", {c.workers} workers" if c.workers else "")
            + (f", {c.remote_workers} remote workers" if c.remote_workers else "")
        )
        try:
            with live_service(strategy, ctx) if live_service else contextlib.nullcontext({}) as service_env:
                self.started = time.monotonic()
                try:
                    self._start_locust(self._env(store_url, dict(service_env)))
                    self._wait()
                    self._stop_locust(graceful=True)
                except KeyboardInterrupt:
                    self.partial = True
                    self.display.stop()
                    self.display.line("[yellow]interrupted: stopping Locust and writing a partial report[/]")
                    self._stop_locust(graceful=True)
                except ChildDied as died:
                    self._died(died.death)
                    raise  # into the service hook too: no draining through a dead process, only its cleanup
                except ProcessError as error:
                    raise RunError(str(error)) from None
        except ChildDied:
            pass
        except RuntimeError as error:
            # A service cannot drain through a dead process; what the run has is still worth a report.
            self.death = self.death or self.watch.death()
            if self.death is None:
                raise
            self.partial = True
            self.service_error = str(error)
        return self._finish(ctx, store_url)

    def _died(self, death: Death) -> None:
        """Stop the load at once (flows in flight fail fast against a dead process) and keep what it made."""
        self.death, self.partial = death, True
        self.loaded_seconds = round(time.monotonic() - self.started, 3)
        self.display.stop()
        self.display.line(f"[red]{death.describe()}: stopping the load, the report will be partial[/]")
        self._stop_locust(graceful=True)

    def _ground_truth(self) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]] | None:
        """The mock's publish windows and stored sessions, or None when the mock is dead."""
        try:
            return self.target.windows(), self.target.truth()
        except TargetError:
            self.death = self.death or self.watch.death()
            if self.death is None:
                raise
            self.partial = True
            return None

    def _finish(self, ctx: ServiceContext, store_url: str | None) -> RunOutcome:
        from mockgc.checker import check
        from mockgc.harness.report import write_run_report
        from mockgc.result import verdict_exit

        c, d = self.config, self.directory
        history_path = d / "history.jsonl"
        if not history_path.exists():
            if not self.partial:
                log = self.master.log_tail(30) if self.master else ""
                raise RunError(f"Locust wrote no history ({history_path}); its log ends:\n{log}")
            history: list[dict[str, Any]] = []
        else:
            history = read_history(history_path)
        live = json.loads((d / "live.json").read_text()) if (d / "live.json").exists() else {}
        ground = self._ground_truth()
        operations, truth = ground if ground is not None else ([], {})
        harness = self._harness_section(live, operations if ground is not None else None)
        result = check(
            history,
            truth,
            window_spans(operations),
            mitigation=self.mitigation,
            fault_profile=c.profile,
            seed=c.seed,
            store=_store_contents(store_url, history),
            repairs=ctx.repairs or None,
            extra={
                "partial": self.partial,
                "run": c.public() | {"mitigation": self.mitigation, "store": store_url},
                "harness": harness,
                "publish_operations": operations,
            }
            | ({"services": ctx.extra} if ctx.extra else {})
            | ({"stopped_by": self._stopped_by(ground is not None)} if self.death else {}),
            include_sessions=True,
        )
        if ground is None:
            # No ground truth, so no verdict: the session classes above only say what the flows saw.
            result["verdict"] = "unknown"
        sessions = result.pop("session_outcomes", [])
        (d / "sessions.json").write_text(json.dumps(sessions, indent=1, sort_keys=True))
        (d / "result.json").write_text(json.dumps(result, indent=2, sort_keys=True))
        sections = write_run_report(d / "report.html", result, history, sessions)
        if self.death is not None:
            code = EXIT_HARNESS
        elif self.partial:
            code = EXIT_INTERRUPTED
        elif harness["errors"]:
            code = EXIT_HARNESS
        else:
            code = verdict_exit(result["verdict"])
        return RunOutcome(self.mitigation, d, result, code, sections)

    def _stopped_by(self, truth_read: bool) -> dict[str, Any]:
        assert self.death is not None
        return self.death.as_dict() | {
            "load_seconds": self.loaded_seconds,
            "ground_truth": truth_read,
            "service_error": self.service_error,
            "log_tail": self.death.log_tail,
        }

    def _harness_section(self, live: dict[str, Any], operations: list[dict[str, Any]] | None) -> dict[str, Any]:
        """The harness's own health: anything here but zero errors makes the verdict untrustworthy (exit 2)."""
        c = self.config
        problems: list[str] = []
        if self.death is not None:
            when = f", {self.loaded_seconds:g} s into the load" if self.loaded_seconds is not None else ""
            problems.append(f"{self.death.describe()}{when}: the load was stopped, the report is partial")
        nemesis = live.get("nemesis", [])
        failed = [r for r in nemesis if r.get("error")]
        if failed:
            problems.append(f"{len(failed)} publish(es) failed: {failed[0]['error']}")
        if not self.partial and len(nemesis) != len(c.offsets()):
            problems.append(f"the nemesis made {len(nemesis)} of {len(c.offsets())} scheduled publishes")
        fired = {r.get("operationId") for r in nemesis if r.get("operationId")}
        if operations is not None and fired - {op["operationId"] for op in operations}:
            problems.append("a publish the nemesis made is missing from /mock/windows")
        expected_workers = c.workers + c.remote_workers
        if expected_workers and not self.partial and len(live.get("flushed", [])) < expected_workers:
            problems.append(f"{expected_workers - len(live.get('flushed', []))} worker(s) sent no final history")
        if live.get("exceptions"):
            problems.append(f"{live['exceptions']} exception(s) in Locust users (see locust_exceptions.csv)")
        request_errors = int(live.get("harness_errors", 0)) - len(failed)
        if request_errors:
            samples = [s for n in live.get("nodes", {}).values() for s in n.get("error_samples", [])]
            problems.append(f"{request_errors} request(s) the harness got wrong, e.g. {samples[:1]}")
        started, stopped = live.get("started"), live.get("stopped")
        requests_total, _, _ = live_counts(self.directory / "locust_stats.csv")
        duration = (stopped - started) if started and stopped else None
        return {
            "errors": len(problems),
            "problems": problems,
            "request_errors": request_errors,
            "exceptions": live.get("exceptions", 0),
            "nemesis": nemesis,
            "nodes": live.get("nodes", {}),
            "history_entries": live.get("entries", 0),
            "load_seconds": round(duration, 3) if duration else None,
            "request_rate": round(requests_total / duration, 1) if duration else None,
            "locust_exit": self.master.poll() if self.master else None,
            "processes": self.children.pids(),
        }


def _connect(config: RunConfig, children: Children, out: Path) -> Target:
    if config.target:
        target = Target(
            config.target.rstrip("/"),
            config.admin_key or "",
            config.client_id or "mockgc-client",
            config.client_secret or "",
        )
        if not target.ready():
            raise RunError(f"no mock answers /mock/info at {config.target} with that admin key")
        return target
    return start_mock(
        children,
        out,
        seed=config.seed,
        agents=config.agents,
        profile=config.profile,
        threads=config.threads,
        startup_timeout=config.startup_timeout,
    )


def run(config: RunConfig, display: Display | None = None) -> list[RunOutcome]:
    """Every mitigation of the config in turn against one mock; raises Interrupted on Ctrl-C, RunError on
    a harness failure. Every process it starts is stopped before it returns or raises."""
    display = display or Display()
    config.validate()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    names = config.mitigations()
    outcomes: list[RunOutcome] = []
    with Children() as children:
        try:
            target = _connect(config, children, out)
            if not config.rate_limited:
                target.register_client(f"{LOAD_CLIENT_ID}-{secrets.token_hex(4)}", secrets.token_urlsafe(18), None)
            for name in names:
                directory = out if len(names) == 1 else out / name.replace(":", "_")
                live = LiveRun(config, target, children, name, directory, display)
                outcome = live.execute()
                outcomes.append(outcome)
                if live.death is not None:
                    if target.child is not None and not target.child.alive():
                        break  # nothing left to load
                elif live.partial:
                    raise Interrupted(outcomes)
        except KeyboardInterrupt:
            raise Interrupted(outcomes) from None
        except RunError:
            raise
        except (TargetError, ProcessError, OSError, RuntimeError) as error:
            # RuntimeError: a service hook that could not start or drain what it runs.
            raise RunError(str(error)) from None
        finally:
            if len(names) > 1 and outcomes:
                write_matrix(out, outcomes, config)
            (out / "processes.json").write_text(json.dumps(children.pids(), indent=2, sort_keys=True))
    return outcomes


def worst_exit(outcomes: list[RunOutcome]) -> int:
    if not outcomes:
        return EXIT_HARNESS
    return max((o.exit_code for o in outcomes), key=lambda code: _SEVERITY.get(code, 3))


def run_exit(outcomes: list[RunOutcome]) -> int:
    """One mitigation: its verdict (0/1) or 2. A matrix, as `mockgc simulate --mitigation all`:
    0 when every run completed whatever the verdicts (they are in the table and result.json), else 2."""
    if len(outcomes) == 1:
        return outcomes[0].exit_code
    worst = worst_exit(outcomes)
    return EXIT_HOLDS if worst in (EXIT_HOLDS, EXIT_FAILS) else worst


def comparison(outcomes: list[RunOutcome]) -> list[dict[str, Any]]:
    """One row per mitigation: the verdict and its cost, for the terminal and the report."""
    rows = []
    for o in outcomes:
        r = o.result
        s = r["sessions"]
        rows.append(
            {
                "mitigation": o.mitigation,
                "verdict": r["verdict"] + (" (partial)" if r.get("partial") else ""),
                "sessions": s["total"],
                "ok": s["ok"],
                "lost": s["lost"],
                "ack_lost": s["ack_lost"],
                "corrupted": s["corrupted"],
                "unverified": s["unverified"],
                "indeterminate": s["indeterminate"],
                "requests_per_session": r["requests_per_session"],
                "p99_inside_ms": r["latency_ms_by_window"]["inside"]["p99"],
                "p99_outside_ms": r["latency_ms_by_window"]["outside"]["p99"],
                "http_400": r["http"].get("400", 0),
                "http_429": r["http"].get("429", 0),
                "harness_errors": r["harness"]["errors"],
                "exit_code": o.exit_code,
            }
        )
    return rows


def write_matrix(out: Path, outcomes: list[RunOutcome], config: RunConfig) -> None:
    from mockgc.harness.report import write_matrix_report

    rows = comparison(outcomes)
    summary = {
        "matrix": rows,
        "fault_profile": config.profile,
        "seed": config.seed,
        "partial": any(o.result.get("partial") for o in outcomes) or len(outcomes) < len(config.mitigations()),
        "run": config.public(),
        "holding": [o.mitigation for o in outcomes if o.result["verdict"] == "holds"],
    }
    (out / "result.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    (out / "config.json").write_text(json.dumps(config.public(), indent=2, sort_keys=True))
    write_matrix_report(out / "report.html", outcomes, rows, summary)


@contextlib.contextmanager
def sigint_as_keyboard_interrupt() -> Any:
    """Ctrl-C must reach the run as KeyboardInterrupt even if something installed another handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def print_comparison(console: Any, outcomes: list[RunOutcome]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    # Piped or captured output gets room for every column; a terminal keeps its own width.
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 132))
    wide = console.width >= 130

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:.0f}"

    rows = []
    for row in comparison(outcomes):
        style = "green" if row["verdict"].startswith("holds") else "red"
        cells = {
            "mitigation": row["mitigation"],
            "verdict": f"[{style}]{row['verdict']}[/]",
            **{
                k: str(row[k])
                for k in ("sessions", "ok", "lost", "ack_lost", "corrupted", "unverified", "indeterminate")
            },
            "bad": str(row["lost"] + row["ack_lost"] + row["corrupted"] + row["unverified"]),
            "req/sess": f"{row['requests_per_session']:.2f}",
            "p99 in/out ms": f"{ms(row['p99_inside_ms'])}/{ms(row['p99_outside_ms'])}",
            "400s": str(row["http_400"]),
            "429s": str(row["http_429"]),
        }
        rows.append(cells)
    if wide:
        columns = ["mitigation", "verdict", "sessions", "ok", "lost", "ack_lost", "corrupted", "unverified",
                   "indeterminate", "req/sess", "p99 in/out ms", "400s", "429s"]  # fmt: skip
        titles = {"unverified": "unverif", "indeterminate": "indet"}
    else:
        # A narrow terminal: lost, ack_lost, corrupted and unverified summed.
        columns = ["mitigation", "verdict", "sessions", "bad", "indeterminate", "p99 in/out ms", "400s"]
        titles = {"bad": "lost*", "indeterminate": "indet"}
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    for index, column in enumerate(columns):
        # Names and verdicts never shrink; the numbers take what is left.
        table.add_column(titles.get(column, column), no_wrap=index < 2, justify="left" if index < 2 else "right")
    for cells in rows:
        table.add_row(*(cells[c] for c in columns))
    console.print(table)
    if not wide:
        console.print("lost* = lost + ack_lost + corrupted + unverified")
