"""Build and run the worker service: store, authenticated transport, job thread, HTTP server."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from mockgc.server import ServerThread, serve_until_signalled
from mockgc.stores import describe_store, open_store
from mockgc.worker.app import create_worker_app
from mockgc.worker.engine import RepairWorker, WorkerConfig
from mockgc.worker.service import ReauthTransport, WorkerService

log = logging.getLogger("mockgc.worker")


def build_worker(
    target: str, client_id: str, client_secret: str, store_url: str, config: WorkerConfig
) -> tuple[WorkerService, Any]:
    """The service (not started) and its Flask app."""
    store = open_store(store_url)
    transport = ReauthTransport(target, client_id, client_secret)
    service = WorkerService(RepairWorker(store, config), transport)
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
