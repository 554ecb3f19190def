"""The servers `make bench` compares with mockgc.platform.serve.server's granian (RSGI and mockgc's bridge): granian's
own WSGI worker (what mockgc used before the body deadline), waitress (the former server) and cheroot.

Each has ServerThread's shape: bound on construction (`port`), `start()`, `stop()`.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from granian.constants import TaskImpl
from granian.server.mt import MTServer

from mockgc.platform.serve.server import ServerThread, stop_events


class GranianWSGIThread(ServerThread):
    """granian's own WSGI worker, as mockgc served with it before the body deadline: the app's
    threads read request bodies themselves, with no timeout (a stalled body holds its thread)."""

    def _callback(self) -> Any:
        return self.app

    def _worker_options(self) -> dict[str, Any]:
        return {"blocking_threads": self.threads, "task_impl": TaskImpl.asyncio}

    def _spawn(self, *args: Any, **kwargs: Any) -> None:
        MTServer._spawn_wsgi_worker(*args, **kwargs)


class WaitressThread:
    """waitress as mockgc served with it before: select() by default, or poll() (`use_poll`)."""

    def __init__(
        self, app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = 16, *, use_poll: bool = False,
        connection_limit: int = 2000,
    ) -> None:  # fmt: skip
        from waitress.server import create_server

        self.app = app
        self.server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            connection_limit=connection_limit,
            channel_timeout=120,
            asyncore_use_poll=use_poll,
            ident="mockgc",
        )
        self.port: int = self.server.effective_port
        self._thread = threading.Thread(target=self.server.run, name=f"waitress-{self.port}", daemon=True)

    def start(self) -> WaitressThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        # waitress has no public stop: the loop closes every channel itself, woken by its trigger.
        server = self.server
        server.task_dispatcher.shutdown()

        def close_all() -> None:
            while server._map:
                for channel in list(server._map.values()):
                    channel.handle_close()

        server.trigger.pull_trigger(close_all)
        self._thread.join(timeout=10)
        stop_events(self.app)


class CherootThread:
    """cheroot: pure Python, a selector (epoll) for idle keep-alive connections, a thread per active one."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = 16) -> None:
        from cheroot.wsgi import Server

        self.app = app
        self.server = Server((host, port), app, numthreads=threads, timeout=30, accepted_queue_timeout=1)
        self.server.prepare()  # binds; TCP_NODELAY is cheroot's default (`nodelay = True`)
        self.port: int = self.server.bind_addr[1]
        self._thread = threading.Thread(target=self.server.serve, name=f"cheroot-{self.port}", daemon=True)

    def start(self) -> CherootThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self._thread.join(timeout=10)
        stop_events(self.app)


SERVERS: dict[str, Any] = {
    "granian": ServerThread,
    "granian-wsgi": GranianWSGIThread,
    "waitress": WaitressThread,
    "cheroot": CherootThread,
}
