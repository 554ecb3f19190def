"""The live service hooks: a real `mockgc worker` process, the mock's real webhook, and a store namespace reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgc.flows.history import History
from mockgc.flows.mitigations import load_mitigation
from mockgc.flows.runner import run_flow
from mockgc.flows.script import FlowContext, script_flow
from mockgc.flows.transports import HttpTransport
from mockgc.harness.services import ServiceContext, hook_for
from mockgc.platform.http.app import create_app
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.server import ServerThread
from mockgc.settings import Settings
from mockgc.stores import open_store
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET


@pytest.fixture
def mock(settings: Settings) -> Iterator[ServerThread]:
    """The mock on the system clock: the worker is a separate process living in real time."""
    with ServerThread(create_app(settings)) as server:
        yield server
        events_runtime(server.app).stop()


def context(server: ServerThread, tmp_path: Path, mitigation: str, **params: object) -> ServiceContext:
    return ServiceContext(
        target_url=server.url,
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        out_dir=tmp_path,
        store_url=f"sqlite:///{tmp_path}/store.db",
        seed=7,
        mitigation=mitigation,
        mitigation_params=dict(params),
    )


def test_async_worker_hook_runs_the_worker_process_and_collects_repairs(mock: ServerThread, tmp_path: Path) -> None:
    ctx = context(mock, tmp_path, "async-worker", settle_seconds=0.2)
    stale = open_store(ctx.store_url or "")
    stale.put("mockgc:aw:job:left-over", "{}")  # a previous run's key: the hook clears the namespace
    hook = hook_for("async-worker")
    assert hook is not None
    platform = mock.holder.platform
    with hook(ctx) as env:
        assert env["MOCKGC_WORKER_URL"].startswith("http://127.0.0.1:")
        assert stale.get("mockgc:aw:job:left-over") is None
        operation = platform.publish_schedule()
        transport = HttpTransport(mock.url)
        transport.authenticate(CLIENT_ID, CLIENT_SECRET)
        mitigation = load_mitigation("async-worker", settle_seconds=0.2)
        history = History()
        for index, agent in enumerate(list(platform.agents)[:8]):
            ctx_flow = FlowContext(f"k{index}", agent, operation.business_unit_id, 7)
            run_flow(script_flow(ctx_flow, mitigation), transport, history, process="p0", key=ctx_flow.key, store=stale)
    worker = ctx.extra["worker"]
    assert worker["driver"] == "live" and worker["drained"] is True
    assert worker["stats"]["accepted"] == 1 and worker["stats"]["jobs_done"] == 1
    assert worker["webhooks"]["delivered"] == 1
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
    ctx = context(mock, tmp_path, "external-store")
    store = open_store(ctx.store_url or "")
    store.put("mockgc:es:old-session:preferenceCode", "PREF-OLD")
    store.put("someone-else:key", "kept")
    hook = hook_for("external-store")
    assert hook is not None
    with hook(ctx) as env:
        assert env == {}
    assert store.get("mockgc:es:old-session:preferenceCode") is None
    assert store.get("someone-else:key") == "kept"
    assert ctx.extra["store_service"]["cleared_keys"] == 1


def test_external_store_hook_reports_a_store_that_is_down(mock: ServerThread, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    ctx = context(mock, tmp_path, "external-store")
    ctx.store_url = f"redis://127.0.0.1:{closed}/0?timeout=0.3"
    hook = hook_for("external-store")
    assert hook is not None
    with hook(ctx):
        pass
    assert "ConnectionError" in ctx.extra["store_service"]["error"]


def test_worker_command_fails_cleanly_with_bad_credentials(mock: ServerThread, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mockgc.cli import main

    args = ["worker", "--target", mock.url, "--client-id", CLIENT_ID, "--client-secret", "wrong"]
    result = CliRunner().invoke(main, [*args, "--store", f"sqlite:///{tmp_path}/w.db", "--port", "0"])
    assert result.exit_code == 2
    assert "401" in result.output
    bad_chunk = CliRunner().invoke(main, [*args, "--chunk-size", "0", "--port", "0"])
    assert bad_chunk.exit_code == 2 and "chunk_size" in bad_chunk.output
