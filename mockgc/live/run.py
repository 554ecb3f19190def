"""`mockgc run`: each mitigation of the spec in turn against one mock, with its live companion, Locust and the nemesis.

The parts, by job: the spec says what the run is (mockgc/spec/runspec.py), the options how it is carried
out (options.py); the mock is target.py, Locust locust.py, child processes procs.py; mockgc/report/
judges and writes (judge.py) and renders the HTML (html.py); console.py shows progress.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

from mockgc.drivers.history_file import read_history
from mockgc.live.console import Display
from mockgc.live.errors import ChildDied, RunError
from mockgc.live.locust import LoadOverrun, Locust, process_env
from mockgc.live.options import LiveOptions
from mockgc.live.procs import Children, ProcessError
from mockgc.live.redact import Secrets
from mockgc.live.target import Target, TargetError, start_mock
from mockgc.platform.client import MockAdmin, MockError, agent_names
from mockgc.report.evidence import SavedEvidence, write_evidence
from mockgc.report.judge import judge, write_matrix
from mockgc.report.records import Death, Evidence, Health, RunOutcome
from mockgc.spec.companion import ServiceContext
from mockgc.spec.plan import Plan
from mockgc.spec.runspec import RunSpec, overlapping, publish_window_seconds
from mockgc.stores import StoreError, default_store_url, describe_store, open_store
from mockgc.strategies.plans import plans
from mockgc.strategies.store_services import read_after_the_run

LOAD_CLIENT_ID = "mockgc-load"
RESTART_TIMEOUT = 300.0  # seconds --restart-cmd may take


def store_contents(store_url: str | None, history: list[dict[str, Any]]) -> dict[str, str | None] | None:
    """What the external store holds for every storeKey the flows reported (the checker's `store`)."""
    keys = sorted(
        {e["value"]["storeKey"] for e in history if e.get("type") == "flow" and (e.get("value") or {}).get("storeKey")}
    )
    if not store_url or not keys:
        return None
    try:
        store = open_store(store_url)
        try:
            return {key: store.get(key) for key in keys}
        finally:
            store.close()
    except StoreError as error:
        # Durability cannot be judged without the store: a harness failure (exit 2), not a verdict.
        raise RunError(f"cannot read the external store {store_url} to check durability: {error}") from None


class Interrupted(Exception):
    """Ctrl-C: the partial results written so far travel with it."""

    def __init__(self, outcomes: list[RunOutcome]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes


def repeat_command(directory: Path, options: LiveOptions) -> str:
    """The command that repeats a run from its config.json (a --target's admin key is for the user to add)."""
    command = f"mockgc run --spec {directory / 'config.json'}"
    return command + (f" --target {options.target} --admin-key ..." if options.target else "")


class LiveRun:
    """One mitigation's live run against a target: its companion, Locust, then the verdict."""

    def __init__(
        self, plan: Plan, options: LiveOptions, target: Target, children: Children, directory: Path, display: Display
    ) -> None:
        self.plan = plan
        self.options = options
        self.target = target
        self.children = children
        self.directory = directory
        self.display = display
        self.locust: Locust | None = None  # this run's Locust processes, once started
        self.watch = children.watch  # the mock if the run started it, and what a companion starts
        self.partial = False
        self.interrupted = False  # Ctrl-C (partial for another reason: a death, Locust past its bound)
        self.started = 0.0
        self.death: Death | None = None
        self.loaded_seconds: float | None = None  # how long the load ran before a death stopped it
        self.service_error: str | None = None

    def execute(self) -> RunOutcome:
        d, strategy = self.directory, self.plan.strategy
        d.mkdir(parents=True, exist_ok=True)
        for stale in ("history.jsonl", "live.json", "result.json", "evidence.json"):
            (d / stale).unlink(missing_ok=True)
        given = self.plan.spec.store
        store_url = given or (default_store_url(d) if strategy.needs_store else None)
        if store_url and not given:
            (d / "store.db").unlink(missing_ok=True)
        # The plan every process runs: this run's mitigation and its store; config.json is its spec.
        plan = self.plan = self.plan.with_store(store_url)
        running = plan.spec
        self.target.admin.reset(running.org())
        (d / "config.json").write_text(running.to_json(indent=2))
        ctx = ServiceContext(
            target_url=self.target.url,
            admin_key=self.target.admin.admin_key,
            client_id=self.target.client_id,
            client_secret=self.target.client_secret,
            out_dir=d,
            store_url=store_url,
            spec=running.to_json(),
            start=lambda name, argv, log, env: self.children.start(name, argv, log, env=dict(env), watch=True),
            reread_after=running.reread_after,
            restart=self._restart if self.options.restart_cmd else None,
            progress=self.display.progress,
        )
        self.display.line(
            f"[bold]{running.mitigation}[/] on {running.profile}: {running.users} users for {running.duration:g} s, "
            f"publishes at {', '.join(f'{o:g}' for o in plan.offsets) or 'none'} s"
            + (f", {running.workers} workers" if running.workers else "")
            + (f", {running.remote_workers} remote workers" if running.remote_workers else "")
        )
        window = publish_window_seconds(running.fault_profile(), running.agents)
        for first, second in overlapping(list(plan.offsets), window):
            self.display.line(
                f"[yellow]publishes {first + 1} and {second + 1} overlap[/]: windows of {window:g} s start "
                f"{plan.offsets[second] - plan.offsets[first]:g} s apart (--publish-at)"
            )
        live = plan.companion.live
        locust = self.locust = Locust(running, self.options, self.children, d)
        try:
            with live(strategy, ctx) if live else contextlib.nullcontext({}) as service_env:
                self.started = time.monotonic()
                try:
                    env = process_env(self.target.client_id, self.target.client_secret, dict(service_env))
                    locust.start(self.target.url, env, self.display.line)
                    locust.wait(self.started, self.watch, self.display)
                    locust.stop(graceful=True)
                except KeyboardInterrupt:
                    self.partial = self.interrupted = True
                    self.display.stop()
                    self.display.line("[yellow]interrupted: stopping Locust and writing a partial report[/]")
                    locust.stop(graceful=True)
                except LoadOverrun as overrun:
                    # Stopped (SIGTERM makes Locust write what it has) and judged: a partial report, exit 2.
                    self.partial, self.service_error = True, str(overrun)
                    self.display.stop()
                    self.display.line(f"[red]{overrun}[/]")
                    locust.stop(graceful=True)
                except ChildDied as died:
                    self._died(died.death)
                    raise  # into the companion too: no draining through a dead process, only its cleanup
                except ProcessError as error:
                    raise RunError(str(error)) from None
        except ChildDied:
            pass
        except RuntimeError as error:
            # A companion cannot drain through a dead process; what the run has is still worth a report.
            self.death = self.death or self.watch.death()
            if self.death is None:
                raise
            self.partial = True
            self.service_error = str(error)
        evidence, health = self._evidence(ctx), self._health()
        if evidence.store is None and given and not self.partial:
            # The user's own store (--store): durable means still there --reread-after later. The SQLite
            # file a run makes in --out itself is mockgc's, read once.
            history = evidence.history
            store, stats = read_after_the_run(ctx, lambda: (store_contents(store_url, history) or {}, {}), "the store")
            evidence.store = store or None
            if stats:
                evidence.services["store_read_back"] = stats
        elif evidence.store is None:
            evidence.store = store_contents(store_url, evidence.history)
        save_evidence(d, running, evidence, health)
        return judge(running, evidence, health, d, store_url, repeat_command(d, self.options), offsets=plan.offsets)

    def _restart(self) -> None:
        """--restart-cmd, between the two read-backs; its output goes to restart.log. RuntimeError when it fails."""
        assert self.options.restart_cmd is not None
        log = self.directory / "restart.log"
        try:
            with log.open("wb") as handle:
                done = subprocess.run(
                    shlex.split(self.options.restart_cmd),
                    stdin=subprocess.DEVNULL,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    timeout=RESTART_TIMEOUT,
                    check=False,
                )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RuntimeError(f"--restart-cmd: {error}") from None
        if done.returncode != 0:
            raise RuntimeError(f"--restart-cmd exited {done.returncode} (its output: {log})")

    def _died(self, death: Death) -> None:
        """Stop the load at once (flows in flight fail fast against a dead process) and keep what it made."""
        self.death, self.partial = death, True
        self.loaded_seconds = round(time.monotonic() - self.started, 3)
        self.display.stop()
        self.display.line(f"[red]{death.describe()}: stopping the load, the report will be partial[/]")
        if self.locust is not None:
            self.locust.stop(graceful=True)

    def _evidence(self, ctx: ServiceContext) -> Evidence:
        d = self.directory
        history_path = d / "history.jsonl"
        if history_path.exists():
            history = read_history(history_path)
        elif self.partial:
            history = []
        else:
            tail = self.locust.log_tail() if self.locust is not None else ""
            raise RunError(f"Locust wrote no history ({history_path}); its log ends:\n{tail}")
        live = json.loads((d / "live.json").read_text()) if (d / "live.json").exists() else {}
        operations, truth = self._ground_truth()
        t = self.target
        names = agent_names(t.url, t.client_id, t.client_secret) if operations is not None else {}
        return Evidence(history, live, operations, truth, ctx.repairs, ctx.extra, ctx.store_snapshot, names)

    def _ground_truth(self) -> tuple[list[dict[str, Any]] | None, dict[str, dict[str, Any]]]:
        """The mock's publish windows and stored sessions; (None, {}) when the mock is dead."""
        try:
            return self.target.admin.windows(), self.target.admin.truth()
        except MockError:
            self.death = self.death or self.watch.death()
            if self.death is None:
                raise
            self.partial = True
            return None, {}

    def _health(self) -> Health:
        return Health(
            partial=self.partial,
            death=self.death,
            loaded_seconds=self.loaded_seconds,
            service_error=self.service_error,
            locust_exit=self.locust.exit_code() if self.locust is not None else None,
            processes=self.children.pids(),
        )


def save_evidence(directory: Path, spec: RunSpec, evidence: Evidence, health: Health) -> None:
    """evidence.json, so `mockgc check` judges this run again offline, with what the companions found."""
    write_evidence(
        directory,
        SavedEvidence(
            spec=spec.as_dict(),
            operations=evidence.operations,
            truth=evidence.truth if evidence.operations is not None else None,
            store=evidence.store,
            repairs=evidence.repairs,
            services=evidence.services,
            ground_truth_error=None
            if evidence.operations is not None
            else "the mock was gone before its truth was read",
            written_by="mockgc run",
            agents=evidence.agents,
            health={
                "partial": health.partial,
                "death": health.death.describe() if health.death else None,
                "locust_exit": health.locust_exit,
            },
        ),
    )


def _connect(spec: RunSpec, options: LiveOptions, children: Children) -> Target:
    if options.target:
        target = Target(
            MockAdmin(options.target.rstrip("/"), options.admin_key or ""),
            options.client_id or "mockgc-client",
            options.client_secret or "",
        )
        problem = target.admin.why_not_ready()
        if problem:
            raise RunError(f"--target: {problem}")
        return target
    return start_mock(children, options.out, threads=options.threads, startup_timeout=options.startup_timeout)


def check_store(url: str) -> None:
    """A store the run will need must answer before any load starts, not after the whole load has run."""
    try:
        store = open_store(url)
        try:
            store.get("mockgc:probe")
        finally:
            store.close()
    except StoreError as error:
        raise RunError(f"the store {describe_store(url)} does not answer ({error}); nothing was run") from None


def run(spec: RunSpec, options: LiveOptions, display: Display | None = None) -> list[RunOutcome]:
    """Every mitigation of the spec in turn against one mock; raises Interrupted on Ctrl-C, RunError on
    a harness failure. Every process it starts is stopped before it returns or raises."""
    display = display or Display()
    options.validate(spec)
    resolved = plans(spec)
    for plan in resolved:
        plan.offsets  # noqa: B018 - each live schedule resolved now (its own bound, MAX_LIVE_PUBLISHES), before any load
    if spec.store and any(plan.strategy.needs_store for plan in resolved):
        check_store(spec.store)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    outcomes: list[RunOutcome] = []
    held = Secrets([options.admin_key, options.client_secret])
    try:
        _run(spec, options, display, resolved, out, outcomes, held)
    finally:
        held.scrub(out)  # after every child has stopped and every file is written
    return outcomes


def _run(
    spec: RunSpec,
    options: LiveOptions,
    display: Display,
    resolved: list[Plan],
    out: Path,
    outcomes: list[RunOutcome],
    held: Secrets,
) -> None:
    with Children(held) as children:
        try:
            target = _connect(spec, options, children)
            held.add(target.admin.admin_key, target.client_secret)
            if not options.rate_limited:
                load_secret = secrets.token_urlsafe(18)
                held.add(load_secret)
                target.register_client(f"{LOAD_CLIENT_ID}-{secrets.token_hex(4)}", load_secret, None)
            for plan in resolved:
                name = plan.spec.mitigation
                directory = out if len(resolved) == 1 else out / name.replace(":", "_")
                live = LiveRun(plan, options, target, children, directory, display)
                outcome = live.execute()
                outcomes.append(outcome)
                if live.death is not None:
                    if target.child is not None and not target.child.alive():
                        break  # nothing left to load
                elif live.interrupted:
                    raise Interrupted(outcomes)
        except KeyboardInterrupt:
            raise Interrupted(outcomes) from None
        except RunError:
            raise
        except (TargetError, MockError, ProcessError, OSError, RuntimeError) as error:
            # RuntimeError: a companion that could not start or drain what it runs.
            raise RunError(str(error)) from None
        finally:
            if len(resolved) > 1:
                (out / "config.json").write_text(spec.to_json(indent=2))
                if outcomes:
                    write_matrix(out, outcomes, spec, repeat_command(out, options), runs=len(resolved))
            (out / "processes.json").write_text(json.dumps(children.pids(), indent=2, sort_keys=True))
