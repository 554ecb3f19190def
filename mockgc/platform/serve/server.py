"""Serving a WSGI app (the mock, the worker) with granian's Rust HTTP server, in this process."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import socket
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask

# granian runs the HTTP side (hyper on tokio: epoll, no descriptor ceiling, TCP_NODELAY on every
# accepted socket) on its own threads; its RSGI worker hands each request to bridge.py here, which
# reads the body on granian's event loop within a deadline and runs the app on a pool of Python
# threads (granian's WSGI worker reads bodies inside the app's thread with no timeout at all).
# Its public entry point runs the app in worker *processes* on a GIL build; the mock's org must
# live in the process that built it (tests and the harness read it, the events runtime runs beside
# it), so this runs granian's own thread worker (the one its free-threaded build uses) in a thread here.
# That is granian's internal API: pyproject.toml pins the minor versions it was checked against,
# and tests/platform/test_server.py exercises every part of it that mockgc relies on.
from granian._granian import SocketHolder, WorkerSignal
from granian.constants import HTTPModes, Loops, RuntimeModes, TaskImpl
from granian.http import HTTP1Settings
from granian.server.mt import MTServer

from mockgc.platform.serve.bridge import ON_BOUND, TRUSTED, WSGIBridge, trust_nobody

BACKLOG = 2048
# granian's backpressure bounds open connections, idle ones included (measured: with 2048, the
# 4097th idle connection waited in vain); the descriptor limit is the real bound, so this is above it.
BACKPRESSURE = 1 << 20
# tokio's pool for blocking I/O (granian's own default); started lazily, unused by a WSGI app.
RUNTIME_BLOCKING_THREADS = 512
# A connection that sends no complete request head for this long is closed (slowloris).
HEADER_READ_TIMEOUT_MS = 30_000
# A request body not complete this long after its head is answered 408 and its connection closed.
# Bodies are at most 512 KB on loopback: a client sending one takes milliseconds.
BODY_READ_TIMEOUT_SECONDS = 10.0
# Bodies read at once for callers without a live token (token requests, webhooks, uploads): each
# may hold up to the body limit until the deadline, so strangers hold at most 64 x 512 KB.
UNTRUSTED_BODY_LIMIT = 64
DEFAULT_MAX_BODY_BYTES = 512_000


def raise_open_file_limit() -> int:
    """Lift this process's soft descriptor limit to the hard one: every connection costs a descriptor,
    and the usual soft limit of 1024 would refuse connections long before the server is busy."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def name_os_thread(name: str) -> None:
    """Name the calling OS thread (Linux's 15-byte comm); threads it creates inherit the name."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


def os_threads_named(name: str) -> int:
    """How many of this process's OS threads carry `name` (0 where /proc does not say)."""
    count = 0
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):
                count += Path(f"/proc/self/task/{task}/comm").read_text().strip() == name
    return count


def stop_events(app: Flask) -> None:
    """Stop what the app started on first use: the WebSocket server and the webhook delivery thread."""
    runtime = app.extensions.get("mockgc.events")
    if runtime is not None:
        runtime.stop()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # REUSEADDR so a restart can bind the port at once; never REUSEPORT (another process could share it).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it, and granian sets it nowhere else: without it a streamed answer's
        # second segment waits for the client's delayed ACK (~40 ms a request on keep-alive).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class ServerThread:
    """A live server bound on construction (port 0 picks a free one), serving from `start()` until
    `stop()`: for tests, the bench and embedding, and what `mockgc serve` and `mockgc worker` run."""

    def __init__(
        self,
        app: Flask,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 16,
        *,
        body_timeout: float = BODY_READ_TIMEOUT_SECONDS,
        untrusted_limit: int = UNTRUSTED_BODY_LIMIT,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.app = app
        self.host = host
        self.threads = threads
        self._socket = _listen(host, port)
        self.port: int = self._socket.getsockname()[1]
        on_bound = app.extensions.get(ON_BOUND)
        if on_bound is not None:
            on_bound(self.url)
        self.bridge = WSGIBridge(
            app,
            threads,
            body_timeout=body_timeout,
            max_body_bytes=app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY_BYTES,
            untrusted_limit=untrusted_limit,
            trusted=app.extensions.get(TRUSTED, trust_nobody),
            name=f"mockgc-app-{self.port}",
        )
        self._os_thread_name = f"mockgc-{self.port}"[:15]
        self._signal = WorkerSignal()
        self._thread: threading.Thread | None = None
        self._stop_requested = threading.Event()
        self._stopped = False
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def holder(self) -> Any:
        """The mock's PlatformHolder (mockgc/platform/http/holder.py) when the app served is the mock; typed
        loosely because this server sits below the HTTP layer (it serves the worker's app too)."""
        return self.app.extensions["mockgc"]

    def start(self) -> ServerThread:
        self.bridge.start()
        # The worker owns (and closes when it stops) a duplicate of the listening descriptor.
        listener = SocketHolder(os.dup(self._socket.fileno()), False, BACKLOG)
        self._thread = threading.Thread(
            target=self._serve,
            args=(1, self._signal, self._callback(), (None, listener), Loops.auto),
            kwargs={
                "runtime_mode": RuntimeModes.mt,
                "runtime_threads": 1,
                "runtime_blocking_threads": RUNTIME_BLOCKING_THREADS,
                "blocking_threads_idle_timeout": 30,
                "backpressure": BACKPRESSURE,
                **self._worker_options(),
                "http_mode": HTTPModes.http1,
                "http1_settings": HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
                "http2_settings": None,
                "websockets": False,
                "static_path": None,
                "log_access_fmt": None,
                "ssl_ctx": (False, None, None, None, "tls1.3", None, [], False),
                "scope_opts": {"url_path_prefix": None},
                "metrics": (None, None),
            },
            name=f"mockgc-http-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def _callback(self) -> Any:
        return self.bridge

    def _worker_options(self) -> dict[str, Any]:
        # One thread takes the GIL for granian's own steps; the app runs on the bridge's pool.
        return {"blocking_threads": 1, "task_impl": TaskImpl.rust}

    def _spawn(self, *args: Any, **kwargs: Any) -> None:
        MTServer._spawn_rsgi_worker(*args, **kwargs)

    def _serve(self, *args: Any, **kwargs: Any) -> None:
        name_os_thread(self._os_thread_name)
        try:
            self._spawn(*args, **kwargs)
        except BaseException as error:
            # Refuse connections at once rather than leave them queued on a listener nobody serves.
            self.error = error
            self._socket.close()
            self._stop_requested.set()
            raise

    def request_stop(self) -> None:
        """Safe from a signal handler: wakes wait(), which returns so its caller can stop()."""
        self._stop_requested.set()

    def wait(self) -> None:
        """Block until request_stop() or stop(); raises if the server thread died on its own."""
        while not self._stop_requested.wait(0.5):
            pass
        if self.error is not None:
            raise RuntimeError(f"the HTTP server stopped: {self.error}")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop_requested.set()
        self._signal.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        # granian's own threads (the one that drains connections and drops its runtime, which then
        # takes the GIL) outlive the Python thread by a few milliseconds; a process that exits in
        # that window aborts ("panic in a function that cannot unwind"). They carry the name this
        # thread gave them (a Linux thread inherits its creator's), so wait until none is left.
        deadline = time.monotonic() + 10
        while os_threads_named(self._os_thread_name) and time.monotonic() < deadline:
            time.sleep(0.005)
        self.bridge.close()
        self._socket.close()
        stop_events(self.app)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_signalled(server: ServerThread) -> None:
    """Serve in the foreground until SIGINT or SIGTERM, then stop cleanly (in-flight answers finish)."""
    raise_open_file_limit()

    def stop(signum: int, frame: FrameType | None) -> None:
        server.request_stop()

    previous: dict[int, Any] = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        server.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
