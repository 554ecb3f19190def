"""Serving the mock with waitress: a threaded production WSGI server that sets TCP_NODELAY."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from waitress.server import BaseWSGIServer, create_server

from mockgc.platform.http.app import PlatformHolder


def build_server(app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = 16) -> BaseWSGIServer:
    """A waitress server; TCP_NODELAY is in waitress's default socket options, so keep-alive
    clients do not meet the Nagle/delayed-ACK stall that gevent's pywsgi can show."""
    server: Any = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=2000,
        channel_timeout=120,
        ident="mockgc",
        clear_untrusted_proxy_headers=True,
    )
    return server


def stop_events(app: Flask) -> None:
    """Stop what the app started on first use: the WebSocket server and the webhook delivery thread."""
    runtime = app.extensions.get("mockgc.events")
    if runtime is not None:
        runtime.stop()


class ServerThread:
    """A live server on an ephemeral port in a background thread, for tests and embedding."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = 16) -> None:
        self.app = app
        self.server = build_server(app, host, port, threads)
        self.host = host
        self.port: int = self.server.effective_port  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.server.run, name=f"mockgc-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def holder(self) -> PlatformHolder:
        holder: PlatformHolder = self.app.extensions["mockgc"]
        return holder

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        # waitress has no public stop; closing every channel in its map ends the loop
        # (the same approach as WebTest's StopableWSGIServer). The loop thread closes them
        # itself, woken by the trigger: closed from here, a select() already blocked on them
        # sat out its 1 s timeout, or raised EBADF when a worker pulled the closed trigger.
        server: Any = self.server
        logging.getLogger("waitress").setLevel(logging.FATAL)
        server.task_dispatcher.shutdown()

        def close_all() -> None:
            while server._map:
                for channel in list(server._map.values()):
                    channel.handle_close()

        server.trigger.pull_trigger(close_all)
        self._thread.join(timeout=10)
        stop_events(self.app)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
