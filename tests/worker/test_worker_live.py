"""The live companions: a real `mockgc worker` process, the mock's real webhook, and a store namespace reset."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from flask import Flask, Response, jsonify

from mockgc.drivers.http import HttpTransport
from mockgc.drivers.realtime import run_flow
from mockgc.flows.context import FlowContext
from mockgc.flows.history import History
from mockgc.flows.script import script_flow
from mockgc.live.procs import Children
from mockgc.platform import client
from mockgc.platform.domain.standard_webhooks import new_secret, secret_key
from mockgc.platform.http.app import create_app
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from mockgc.spec.companion import ServiceContext
from mockgc.spec.runspec import RunSpec
from mockgc.stores import open_store
from mockgc.strategies.registry import companion_of, load_mitigation
from mockgc.worker import companion as hooks
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET


@pytest.fixture
def mock(settings: Settings) -> Iterator[ServerThread]:
    """The mock on the system clock: the worker is a separate process living in real time."""
    with ServerThread(create_app(settings)) as server:
        yield server
        events_runtime(server.app).stop()


SETTLE = {"settle_seconds": 0.2}


@pytest.fixture
def children() -> Iterator[Children]:
    with Children() as started:
        yield started


def context(
    server: ServerThread, tmp_path: Path, children: Children | None = None, spec: RunSpec | None = None
) -> ServiceContext:
    return ServiceContext(
        target_url=server.url,
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        out_dir=tmp_path,
        store_url=f"sqlite:///{tmp_path}/store.db",
        spec=(spec or RunSpec()).to_json(),
        start=(lambda name, argv, log, env: children.start(name, argv, log, env=dict(env), watch=True))
        if children is not None
        else ServiceContext.start,
    )


def live_companion(name: str, ctx: ServiceContext, **params: object) -> Any:
    """The strategy's live companion, entered as a run enters it."""
    mitigation = load_mitigation(name, params)
    live = companion_of(mitigation).live
    assert live is not None
    return live(mitigation, ctx)


def test_async_worker_hook_runs_the_worker_process_and_collects_repairs(
    mock: ServerThread, tmp_path: Path, children: Children
) -> None:
    ctx = context(mock, tmp_path, children, RunSpec().with_options(mitigation="async-worker", params=SETTLE))
    stale = open_store(ctx.store_url or "")
    stale.put("mockgc:aw:job:left-over", "{}")  # a previous run's key: the hook clears the namespace
    platform = mock.holder.platform
    with live_companion("async-worker", ctx, **SETTLE) as env:
        assert env["MOCKGC_WORKER_URL"].startswith("http://127.0.0.1:")
        assert stale.get("mockgc:aw:job:left-over") is None
        # The worker got its webhook secret by environment: a fresh one, never on its command line.
        [child] = [p for p in psutil.Process().children(recursive=True) if "worker" in p.cmdline()]
        secret = child.environ()["MOCKGC_WEBHOOK_SECRET"]
        assert len(secret_key(secret)) == 32 and not any(secret in arg for arg in child.cmdline())
        operation = platform.publish_schedule()
        transport = HttpTransport(mock.url)
        transport.authenticate(CLIENT_ID, CLIENT_SECRET)
        mitigation = load_mitigation("async-worker", SETTLE)
        history = History()
        for index, agent in enumerate(list(platform.agents)[:8]):
            ctx_flow = FlowContext(f"k{index}", agent, operation.business_unit_id, 7)
            run_flow(script_flow(ctx_flow, mitigation), transport, history, process="p0", key=ctx_flow.key, store=stale)
    worker = ctx.extra["worker"]
    assert worker["driver"] == "live" and worker["drained"] is True
    assert worker["stats"]["accepted"] == 1 and worker["stats"]["jobs_done"] == 1
    assert worker["webhooks"]["delivered"] == 1
    [wait] = worker["waits"].values()  # the job's wait for the publish to settle, against its bound
    assert wait["outcome"] == "settled" and wait["maxWaitSeconds"] == 900
    assert secret not in json.dumps(ctx.extra)
    assert worker["cleared_keys"] == 1
    # Every session the flows wrote during the publish was re-applied, and is stored now.
    truth = platform.ground_truth()
    sessions = [e["value"]["sessionId"] for e in history.entries if e["type"] == "flow"]
    assert ctx.repairs and set(ctx.repairs) <= set(sessions)
    for entry in (e for e in history.entries if e["type"] == "flow"):
        assert truth[entry["value"]["sessionId"]]["variables"]["preferenceCode"] == entry["value"]["expected"]
    # The worker was stopped and its webhook target removed.
    assert events_runtime(mock.app).webhooks.targets == {}
    assert (tmp_path / "worker.log").exists()


def test_external_store_hook_clears_only_its_namespace(mock: ServerThread, tmp_path: Path) -> None:
    ctx = context(mock, tmp_path)
    store = open_store(ctx.store_url or "")
    store.put("mockgc:es:old-session:preferenceCode", "PREF-OLD")
    store.put("someone-else:key", "kept")
    with live_companion("external-store", ctx) as env:
        assert env == {}
    assert store.get("mockgc:es:old-session:preferenceCode") is None
    assert store.get("someone-else:key") == "kept"
    assert ctx.extra["store_service"]["cleared_keys"] == 1


def test_external_store_hook_reports_a_store_that_is_down(mock: ServerThread, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    ctx = context(mock, tmp_path)
    ctx.store_url = f"redis://127.0.0.1:{closed}/0?timeout=0.3"
    with live_companion("external-store", ctx):
        pass
    assert "ConnectionError" in ctx.extra["store_service"]["error"]


def test_worker_command_fails_cleanly_with_bad_credentials(mock: ServerThread, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mockgc.cli import main

    args = ["worker", "--target", mock.url, "--client-id", CLIENT_ID, "--client-secret", "wrong"]
    env = {"MOCKGC_WEBHOOK_SECRET": new_secret(), "MOCKGC_WEBHOOK_SECRET_FILE": ""}
    result = CliRunner(env=env).invoke(main, [*args, "--store", f"sqlite:///{tmp_path}/w.db", "--port", "0"])
    assert result.exit_code == 2
    assert "401" in result.output
    bad_chunk = CliRunner(env=env).invoke(main, [*args, "--chunk-size", "0", "--port", "0"])
    assert bad_chunk.exit_code == 2 and "chunk_size" in bad_chunk.output


def test_worker_command_needs_a_secret_and_reads_it_from_env_or_a_file_never_argv(
    mock: ServerThread, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from mockgc.cli import main

    args = ["worker", "--target", mock.url, "--client-id", CLIENT_ID, "--client-secret", "wrong", "--port", "0"]
    args += ["--store", f"sqlite:///{tmp_path}/w.db"]
    unset = {"MOCKGC_WEBHOOK_SECRET": "", "MOCKGC_WEBHOOK_SECRET_FILE": ""}
    none = CliRunner(env=unset).invoke(main, args)
    assert none.exit_code == 2 and "MOCKGC_WEBHOOK_SECRET" in none.output
    assert "Traceback" not in none.output
    weak = CliRunner(env={**unset, "MOCKGC_WEBHOOK_SECRET": "hunter2"}).invoke(main, args)
    assert weak.exit_code == 2 and "whsec_" in weak.output
    secret_file = tmp_path / "secret"
    secret_file.write_text(new_secret() + "\n")
    from_file = CliRunner(env={**unset, "MOCKGC_WEBHOOK_SECRET_FILE": str(secret_file)}).invoke(main, args)
    assert from_file.exit_code == 2 and "401" in from_file.output  # past the secret: the bad client secret
    missing = CliRunner(env={**unset, "MOCKGC_WEBHOOK_SECRET_FILE": str(tmp_path / "nope")}).invoke(main, args)
    assert missing.exit_code == 2 and "nope" in missing.output


# -- status polls retry before the run gives up ------------------------------------------------------------------


class FlakyWorker:
    """A stand-in worker whose /status fails its first `failures` polls (503, then no JSON), then is idle."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.polls = 0
        app = Flask("flaky-worker")

        @app.get("/status")
        def status() -> Response:
            self.polls += 1
            if self.polls <= self.failures:
                return Response("worker restarting", status=503)
            return jsonify(idle=True)

        self.server = ServerThread(app)


@pytest.fixture
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "POLL_WAIT_SECONDS", 0.01)
    monkeypatch.setattr(client, "POLL_MAX_WAIT_SECONDS", 0.02)


def test_a_status_poll_that_fails_once_is_retried_and_the_drain_completes(
    mock: ServerThread, tmp_path: Path, quick_polls: None
) -> None:
    flaky = FlakyWorker(failures=1)
    with flaky.server:
        ctx = context(mock, tmp_path)
        assert hooks._drain(client.MockAdmin(ctx.target_url, ctx.admin_key), flaky.server.url) is True
    assert flaky.polls >= 2


def test_a_status_poll_that_keeps_failing_ends_with_a_clear_harness_error(
    mock: ServerThread, tmp_path: Path, quick_polls: None
) -> None:
    flaky = FlakyWorker(failures=100)
    with (
        flaky.server,
        pytest.raises(
            hooks.ServiceError, match=r"GET http://127.0.0.1:\d+/status failed after 5 tries: _ServerTrouble: 503"
        ),
    ):
        hooks.poll_json(requests.Session(), f"{flaky.server.url}/status")
    assert flaky.polls == client.POLL_ATTEMPTS
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(hooks.ServiceError, match="after 5 tries: ConnectionError"):
        hooks.poll_json(requests.Session(), f"http://127.0.0.1:{closed}/status")
    # A 4xx is an answer, not a hiccup: no retry.
    with pytest.raises(hooks.ServiceError, match="after 1 try: HTTPError"):
        hooks.poll_json(requests.Session(), f"{mock.url}/mock/windows")
