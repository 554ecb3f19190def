"""mockgc's Locust entry point: agents running the script flow under a mitigation while the nemesis publishes.

By hand, against a running mock (`mockgc serve` prints the credentials):

    export MOCKGC_CLIENT_SECRET=... MOCKGC_ADMIN_KEY=...
    locust -f loadtests/locustfile.py --host http://127.0.0.1:8321 --mitigation none --fault-profile fast --publishes 3

`mockgc run` instead gives every process the run's spec (mockgc/spec/runspec.py) as one JSON document,
`--spec` (MOCKGC_SPEC); the master passes it on to its workers. The separate options are then unused.

Headless: add `--headless -u 50 -r 25 -t 60s`. Distributed: one `--master` and any number of
`--worker --master-host HOST` processes; only the master (or a single local process) runs the
nemesis and writes the history, so each scheduled publish fires exactly once.

The flow and mitigation code is the simulator's (mockgc.flows); the logic behind this glue is in
mockgc.inlocust.driver. `mockgc run` drives this file and turns the history into a verdict.
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import gevent
from gevent import monkey
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from mockgc.checker.result import BAD_CLASSES
from mockgc.drivers.dataaction import call_action
from mockgc.drivers.realtime import RunawayFlow, run_flow
from mockgc.drivers.stepwatch import StepWatch, Threads
from mockgc.flows.context import FlowContext
from mockgc.flows.effects import DataAction, Reply
from mockgc.flows.script import interaction as interaction_flow
from mockgc.inlocust.driver import (
    OUTCOME_REQUEST_TYPE,
    FlowRecorder,
    LocustTransport,
    MasterCollector,
    NodeCollector,
    checked_outcome,
    evidence_for,
    global_user_index,
    open_flow_store,
    pick_agent,
    spec_of,
)
from mockgc.inlocust.nemesis import run_schedule
from mockgc.inlocust.options import add_options
from mockgc.inlocust.webui import extend
from mockgc.platform.client import MockAdmin, MockError
from mockgc.report.check import check_one
from mockgc.report.evidence import next_test_dir, write_evidence
from mockgc.report.sessions import finding
from mockgc.report.status import RUNNING, STOPPED, STOPPING, Load, Nemesis, live_status, write_status
from mockgc.spec.plan import Plan
from mockgc.spec.runspec import RunSpec, publish_window_seconds
from mockgc.strategies.plans import plan

log = logging.getLogger("mockgc")

NODE = NodeCollector()  # this process's users
MASTER = MasterCollector()  # on the master or a local runner: everything
AGENTS: list[dict[str, Any]] = []  # the mock's users, listed once per process
USERS = "/api/v2/users"
USERS_PAGE_SIZE = 500  # the platform's largest page
WFM_UNITS = "/api/v2/workforcemanagement/businessunits"
_nemesis: list[gevent.Greenlet] = []
_status_writer: list[
    gevent.Greenlet
] = []  # status.json every 2 s, through the drain until the test's files are written
_loaded: dict[str, Plan] = {}  # the spec's document -> its plan, resolved once
DEFAULTS = RunSpec()

FLUSH, HISTORY, RUNAWAY = "mockgc_flush", "mockgc_history", "mockgc_runaway"
# One real OS thread per process watches every flow's steps: all greenlets run in the main thread, and
# a flow that loops without yielding freezes them all (a patched thread would be one of them).
NATIVE = Threads(
    monkey.get_original("_thread", "start_new_thread"),
    monkey.get_original("time", "sleep"),
    monkey.get_original("_thread", "get_ident"),
)
_watch: list[StepWatch] = []
DATA_ACTION_REQUEST_TYPE = "DATA_ACTION"


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add_options(parser)  # mockgc/inlocust/options.py: `mockgc locust --help` lists them too


def _options_of(environment: Environment) -> Any:
    return environment.parsed_options


def _plan(environment: Environment) -> Plan:
    """This process's plan: resolved once per spec (a web UI may start another test with another)."""
    spec = spec_of(_options_of(environment))
    document = spec.to_json()
    if document not in _loaded:
        _loaded.clear()
        _loaded[document] = plan(spec)
    return _loaded[document]


def _is_coordinator(environment: Environment) -> bool:
    """The master, or a single local process: the one place the nemesis runs and the history is written."""
    return not isinstance(environment.runner, WorkerRunner)


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    # libev caches the loop's time from its last iteration, and it has not run since Locust created it: every
    # second of Locust's start-up (imports, this file) would come off the first timers, --run-time's included
    # (`-t 3s` stopped after 0.1 s on a loaded machine; gevent #97). Locust spawns that timer right after init.
    gevent.get_hub().loop.update_now()
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message(FLUSH, _on_flush, concurrent=True)

        @events.report_to_master.add_listener
        def _ship(client_id: str, data: dict[str, Any], **__: Any) -> None:
            data["mockgc"] = {"entries": NODE.take(), "report": NODE.report()}

    elif isinstance(runner, MasterRunner):
        runner.register_message(HISTORY, lambda environment, msg, **__: MASTER.receive(msg.node_id, msg.data))
        runner.register_message(RUNAWAY, lambda environment, msg, **__: _stop_for_runaway(environment))

        @events.worker_report.add_listener
        def _gather(client_id: str, data: dict[str, Any], **__: Any) -> None:
            if "mockgc" in data:
                MASTER.receive(client_id, data["mockgc"])

    if environment.web_ui is not None:
        extend(environment.web_ui, lambda: _status(environment), lambda: MASTER.report)


def _status(environment: Environment) -> dict[str, Any]:
    """The live status (mockgc/report/status.py) from what this coordinator knows now."""
    runner = environment.runner
    started = MASTER.started or time.time()
    resolved = _loaded_plan()
    spec = resolved.spec if resolved else None
    stats = environment.stats
    outcome_rps = sum(e.current_rps for e in stats.entries.values() if e.method == OUTCOME_REQUEST_TYPE)
    state = runner.state if runner is not None else "ready"
    load = Load(
        state=STOPPED if MASTER.stopped else STOPPING if MASTER.stopping else RUNNING if MASTER.started else state,
        users=runner.user_count if runner is not None else 0,
        requests_per_s=max(0.0, stats.total.current_rps - outcome_rps),
        started=started,
        now=MASTER.stopped or time.time(),
        duration_s=float(_options_of(environment).run_time or 0) or (spec.duration if spec else None),
    )
    window = publish_window_seconds(spec.fault_profile(), spec.agents) if spec else 0.0
    scheduled = list(resolved.offsets) if resolved and not MASTER.refused else []
    nemesis = Nemesis(scheduled, list(MASTER.nemesis), window)
    local = None if isinstance(runner, MasterRunner) else NODE
    status = live_status(load, nemesis, MASTER.sessions(local, started), MASTER.judged)
    if MASTER.refused:
        status["verdict_so_far"] = f"this test cannot start: {MASTER.refused}"
    return status


def _loaded_plan() -> Plan | None:
    return next(iter(_loaded.values())) if _loaded else None


def _write_status_every(environment: Environment, seconds: float = 2.0) -> None:
    """status.json into the test's directory every few seconds (mockgc run's progress lines read it)."""
    while True:
        if MASTER.directory is not None:
            try:
                write_status(MASTER.directory, _status(environment))
            except OSError as error:
                log.warning("cannot write status.json: %s", error)
        gevent.sleep(seconds)


def _refuse(environment: Environment, why: str) -> None:
    """A test whose spec is wrong stops at once with one log line (never a traceback per user), writes nothing,
    and a headless Locust exits 2, a harness error."""
    MASTER.refused = why
    log.error("mockgc: this test cannot start: %s", why)
    environment.process_exit_code = 2
    runner = environment.runner
    if environment.web_ui is None:
        gevent.spawn_later(0, runner.quit)
    else:
        gevent.spawn_later(0, runner.stop)


def profile_body(ref: str) -> str | dict[str, Any]:
    """What the mock's PUT /mock/faults/profile takes for a profile reference: a built-in's name, or the whole
    profile of a file or a replayed trace (read here, so the mock needs no access to the file)."""
    from mockgc.explore.calibrate.profiles import resolve
    from mockgc.faults import PROFILES

    return ref if ref in PROFILES else resolve(ref).to_dict()


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    NODE.reset()
    NODE.node = f"w{runner.worker_index}" if isinstance(runner, WorkerRunner) else "local"
    if not _is_coordinator(environment):
        return
    MASTER.reset()
    options = _options_of(environment)
    try:
        offsets = list(_plan(environment).offsets)  # a schedule that does not fit the run is refused here
    except ValueError as error:
        _refuse(environment, str(error))
        return
    if options.history_dir:
        base = Path(options.history_dir)
        # A second test in the same web UI session must never overwrite the first one's evidence.
        MASTER.directory = base if options.history_flat else next_test_dir(base)
        log.info("this test's history and evidence go to %s", MASTER.directory)
    base = (environment.host or "").rstrip("/")
    if options.fault_profile and options.admin_key:
        try:
            MockAdmin(base, options.admin_key).set_profile(profile_body(options.fault_profile))
        except MockError as error:
            log.error("setting profile %s: %s", options.fault_profile, error)
        except ValueError as error:  # a bad profile file or trace: stop rather than run on another profile
            _refuse(environment, f"--fault-profile {options.fault_profile}: {error}")
            return
    log.info("nemesis: %d publish(es) at %s s", len(offsets), offsets)
    _nemesis.append(
        gevent.spawn(
            run_schedule,
            base,
            options.client_id,
            options.client_secret,
            offsets,
            started=MASTER.started or time.time(),
            sleep=gevent.sleep,
            log=MASTER.nemesis,
        )
    )
    _status_writer.append(gevent.spawn(_write_status_every, environment))


def _step_watch(environment: Environment) -> StepWatch:
    """This process's watch on flow steps (spec.max_step_seconds), started once and kept until it quits."""
    if not _watch:
        _watch.append(StepWatch(_plan(environment).spec.max_step_seconds, NATIVE).__enter__())
    return _watch[0]


def _stop_for_runaway(environment: Environment) -> None:
    """A flow ran away: stop the load now (the coordinator writes the history and what ran away), so the
    run is named and judged within seconds, not when the harness's bound for Locust runs out."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message(RUNAWAY, {})
        return
    log.error("a flow ran away: stopping the load (%s)", NODE.runaways[:1] or "on a worker")
    gevent.spawn(runner.quit)


def _wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        gevent.sleep(0.05)
    return True


def _on_flush(environment: Environment, msg: Any, **_: Any) -> None:
    """On a worker: stop starting interactions, let those in flight finish, ship the rest, finally."""
    NODE.draining = True
    _wait_for(lambda: NODE.in_flight == 0, _plan(environment).spec.drain_timeout)
    environment.runner.send_message(HISTORY, {"entries": NODE.take(), "report": NODE.report(), "final": True})


@events.test_stopping.add_listener
def _on_test_stopping(environment: Environment, **_: Any) -> None:
    if not _is_coordinator(environment) or MASTER.refused:
        return
    MASTER.stopping = True
    resolved = _plan(environment)
    drain = resolved.spec.drain_timeout
    # A publish that fell due before the stop still gets made: on a busy machine the nemesis greenlet can
    # run seconds late behind the users, and killing it mid-publish lost a scheduled publish (a harness
    # error). Publishes not yet due are never fired after the load; the wait is bounded.
    elapsed = time.time() - (MASTER.started or time.time())
    due = sum(1 for offset in resolved.offsets if offset <= elapsed)
    if not _wait_for(lambda: len(MASTER.nemesis) >= due, drain + 10):
        log.error("the nemesis made %d of the %d publishes due before the stop", len(MASTER.nemesis), due)
    while _nemesis:
        _nemesis.pop().kill(block=False)
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        expected = {client.id for client in runner.clients.all}
        MASTER.workers = len(expected)
        runner.send_message(FLUSH, {})
        if not _wait_for(lambda: expected <= MASTER.flushed, drain + 10):
            log.error("workers %s sent no final history", sorted(expected - MASTER.flushed))
    else:
        NODE.draining = True
        _wait_for(lambda: NODE.in_flight == 0, drain)


def _write(environment: Environment) -> None:
    if not _is_coordinator(environment) or MASTER.refused:
        return
    while _status_writer:  # the status went on through the drain; the last one is written below
        _status_writer.pop().kill(block=False)
    if not isinstance(environment.runner, MasterRunner):
        MASTER.entries.extend(NODE.take())
        MASTER.nodes["local"] = NODE.report()
    MASTER.stopped = time.time()
    directory = MASTER.directory
    if directory:
        exceptions = len(getattr(environment.runner, "exceptions", {}) or {})
        MASTER.write(directory, {"exceptions": exceptions})
        options = _options_of(environment)
        write_status(directory, _status(environment))
        if options.history_flat:
            return  # mockgc run saves the evidence itself, once its companions have finished
        evidence = evidence_for(
            _plan(environment),
            MASTER.entries,
            base_url=environment.host or "",
            admin_key=options.admin_key,
            client_id=options.client_id,
            client_secret=options.client_secret,
            started=MASTER.started or MASTER.stopped,
            elapsed=MASTER.stopped - (MASTER.started or MASTER.stopped),
            workers=MASTER.workers,
        )
        write_evidence(directory, evidence)
        _judge(environment, directory)


def _judge(environment: Environment, directory: Path) -> None:
    """At the stop, the test judged as `mockgc check` judges it: result.json and report.html beside its history,
    the verdict in one log line and in the mockgc tab, with a link to the report."""
    if MASTER.judged is not None:
        return  # quitting and test_stop both write; one judgement
    try:
        outcome = check_one(directory)
    except (ValueError, OSError) as error:
        MASTER.judged = {"verdict": "not judged", "error": str(error), "report": None}
        log.error("mockgc: this test cannot be judged: %s", error)
    else:
        MASTER.report = directory / "report.html"
        lead = finding(outcome.result, json.loads((directory / "sessions.json").read_text()))
        MASTER.judged = {
            "verdict": outcome.result["verdict"],
            "finding": lead,
            "exit_code": outcome.exit_code,
            "report": "/mockgc/report" if environment.web_ui is not None else str(MASTER.report),
            "directory": str(directory),
        }
        log.info("mockgc: %s: %s; report: %s", outcome.result["verdict"], lead, MASTER.report)
    write_status(directory, _status(environment))


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    _write(environment)


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    # A SIGTERM shutdown fires quitting before it stops the test; test_stop then writes again, complete.
    _write(environment)


class Agent(FastHttpUser):
    """One agent desk: log in, then run interactions (the script flow under the mitigation) one after another."""

    # geventhttpclient keeps a small pool per user; one connection is what a desk needs.
    concurrency = 1
    network_timeout = 60.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        options = _options_of(self.environment)
        self.local_index = NODE.next_user()
        runner = self.environment.runner
        worker_index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        workers = int(getattr(options, "expect_workers", 1) or 1) if isinstance(runner, WorkerRunner) else 1
        self.user_index = global_user_index(self.local_index, max(0, worker_index), workers)
        self.process = f"{NODE.node}/u{self.local_index}"
        self.iteration = 0
        self.store = None
        self.idle = False
        try:
            resolved: Plan | None = _plan(self.environment)
        except ValueError:
            resolved = None
        if resolved is None or MASTER.refused:
            # The coordinator said why in one line and stops the test; this user stops at its first task, quietly
            # (Locust logs a traceback for anything raised here, StopUser included).
            self.idle, self.think_time, self._waits = True, 0.0, random.Random(0)
            return
        spec, self.mitigation = resolved.spec, resolved.strategy
        self.seed = spec.seed
        self.max_flow_steps = spec.max_flow_steps
        self._waits = random.Random(f"wait:{self.seed}:{self.process}")
        self.think_time = spec.think_time
        self.log_attributes, self.handle_time_s = spec.log_attributes, spec.handle_time
        self.store = open_flow_store(spec.store) if self.mitigation.needs_store else None
        self.transport = LocustTransport(self.client, NODE.harness_error)
        with self.client.post(
            "/oauth/token",
            data="grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(options.client_id, options.client_secret),
            name="/oauth/token",
            catch_response=True,
        ) as reply:
            if reply.status_code != 200:
                reply.failure(f"token request answered {reply.status_code}")
                NODE.harness_error("oauth_token", reply.status_code, (reply.text or "")[:200])
                raise StopUser()
            self.client.auth_header = f"Bearer {reply.json()['access_token']}"
        if not AGENTS:
            # As a real client learns the org: the business unit, then every page of users.
            units = self._get(WFM_UNITS, "list_business_units")
            unit_id = units["entities"][0]["id"] if units.get("entities") else ""
            agents, uri = [], f"{USERS}?pageSize={USERS_PAGE_SIZE}&pageNumber=1"
            while uri:
                page = self._get(uri, "list_users", name=USERS)
                agents += [{"id": u["id"], "name": u.get("name"), "businessUnitId": unit_id} for u in page["entities"]]
                uri = page.get("nextUri")
            if not AGENTS:
                AGENTS.extend(agents)

    def _get(self, uri: str, op: str, *, name: str | None = None) -> dict[str, Any]:
        """A GET the user cannot start without: any other answer than 200 stops it as a harness error."""
        with self.client.get(uri, name=name or uri, catch_response=True) as reply:
            if reply.status_code != 200:
                reply.failure(f"{op} answered {reply.status_code}")
                NODE.harness_error(op, reply.status_code, (reply.text or "")[:200])
                raise StopUser()
            body: dict[str, Any] = reply.json()
            return body

    def on_stop(self) -> None:
        if self.store is not None:
            self.store.close()

    def wait_time(self) -> float:
        # Seeded per user, so the same run paces itself the same way.
        return self.think_time * self._waits.uniform(0.5, 1.5)

    def _data_action(self, effect: DataAction) -> Reply:
        """A call to the user's own service, shown in Locust's statistics as DATA_ACTION set/get."""
        began = time.perf_counter()
        reply = call_action(effect)
        self.environment.events.request.fire(
            request_type=DATA_ACTION_REQUEST_TYPE,
            name=f"{effect.action} {effect.url}",
            response_time=(time.perf_counter() - began) * 1000,
            response_length=0,
            # The checker judges a refusal or a timeout; Locust counts only no answer at all as a failure.
            exception=RuntimeError(reply.error) if reply.status == 0 else None,
            context={},
        )
        return reply

    @task
    def interaction(self) -> None:
        if self.idle:
            raise StopUser()
        if NODE.draining:
            gevent.sleep(0.2)
            return
        agent = pick_agent(AGENTS, self.user_index, self.iteration)
        key = f"{NODE.node}.u{self.local_index}.{self.iteration}"
        self.iteration += 1
        ctx = FlowContext(key, agent["id"], agent["businessUnitId"], self.seed, self.process)
        began = time.perf_counter()
        NODE.in_flight += 1
        recorder = FlowRecorder(NODE.history)  # this flow's evidence, recorded into the process's history too
        try:
            result = run_flow(
                interaction_flow(
                    ctx, self.mitigation, log_attributes=self.log_attributes, handle_time_s=self.handle_time_s
                ),
                self.transport,
                recorder,
                process=self.process,
                key=key,
                store=self.store,
                sleep=gevent.sleep,
                actions=self._data_action,
                max_steps=self.max_flow_steps,
                watch=_step_watch(self.environment),
            )
        except RunawayFlow as runaway:
            # Its history has no end (the checker calls it indeterminate); the run names it and stops.
            if NODE.runaway(self.mitigation.label(), key, str(runaway)):
                _stop_for_runaway(self.environment)
            raise StopUser() from None
        finally:
            NODE.in_flight -= 1
        outcome = checked_outcome(recorder.entries, result)
        NODE.ended(outcome, recorder.entries, key, agent.get("name") or agent["id"], time.time())
        self.environment.events.request.fire(
            request_type=OUTCOME_REQUEST_TYPE,
            name=outcome,
            response_time=(time.perf_counter() - began) * 1000,
            response_length=0,
            exception=RuntimeError(f"session {outcome}") if outcome in BAD_CLASSES else None,
            context={},
        )
