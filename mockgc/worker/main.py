"""Build and run the worker service: store, authenticated transport, webhook secret, job thread, HTTP server."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockgc.flows.mitigations.async_worker import WorkerConfig
from mockgc.platform.domain.standard_webhooks import Verifier, secret_key
from mockgc.platform.serve.server import ServerThread, serve_until_signalled
from mockgc.stores import describe_store, open_store
from mockgc.worker.app import create_worker_app
from mockgc.worker.engine import RepairWorker
from mockgc.worker.service import ReauthTransport, WorkerService

log = logging.getLogger("mockgc.worker")
SECRET_ENV, SECRET_FILE_ENV = "MOCKGC_WEBHOOK_SECRET", "MOCKGC_WEBHOOK_SECRET_FILE"
CHECK_TIMEOUT_SECONDS = 10.0  # the intake's platform check must leave the sender's 30 s with room to spare


def load_webhook_secret(environ: Mapping[str, str] | None = None) -> str:
    """The webhook signing secret, from MOCKGC_WEBHOOK_SECRET or the file MOCKGC_WEBHOOK_SECRET_FILE
    names: never from argv, where every user of the machine can read it."""
    env = os.environ if environ is None else environ
    secret = env.get(SECRET_ENV, "").strip()
    if not secret and env.get(SECRET_FILE_ENV):
        secret = Path(env[SECRET_FILE_ENV]).read_text().strip()
    if not secret:
        raise ValueError(
            f"the worker needs the webhook's signing secret: set {SECRET_ENV}, or {SECRET_FILE_ENV} to a file holding it"
        )
    secret_key(secret)  # a readable error now rather than a 401 on every delivery
    return secret


def build_worker(
    target: str,
    client_id: str,
    client_secret: str,
    store_url: str,
    config: WorkerConfig,
    *,
    webhook_secret: str | None = None,
) -> tuple[WorkerService, Any]:
    """The service (not started) and its Flask app."""
    verifier = Verifier(webhook_secret or load_webhook_secret(), time.time)
    store = open_store(store_url)
    transport = ReauthTransport(target, client_id, client_secret)
    check = ReauthTransport(target, client_id, client_secret, timeout=CHECK_TIMEOUT_SECONDS)
    service = WorkerService(RepairWorker(store, config, verifier=verifier), transport, check_transport=check)
    return service, create_worker_app(service)


def serve_worker(
    *,
    target: str,
    client_id: str,
    client_secret: str,
    store_url: str,
    config: WorkerConfig,
    host: str,
    port: int,
    port_file: Path | None,
    announce: Any = print,
) -> None:
    service, app = build_worker(target, client_id, client_secret, store_url, config)
    server = ServerThread(app, host, port, threads=4)
    actual = server.port
    if port_file is not None:
        # Written only once the socket is bound, atomically, so a launcher can poll for it.
        partial = port_file.with_suffix(port_file.suffix + ".tmp")
        partial.write_text(str(actual))
        os.replace(partial, port_file)
    announce(f"mockgc worker on http://{host}:{actual}  target={target} store={describe_store(store_url)}")
    announce("  POST /webhook (answers 202 at once), GET /repairs, GET /status")
    service.start()
    try:
        serve_until_signalled(server)
    finally:
        service.stop()
