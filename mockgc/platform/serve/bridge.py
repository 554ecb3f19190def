"""A WSGI app behind granian's RSGI interface: each request body is read in full on the event loop,
within a deadline, before one of a fixed pool of threads runs the app."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger("mockgc.platform.serve")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Whether a request's Authorization header names a caller the app knows (a live token, the admin key).
Trusted = Callable[[str], bool]
# What a served Flask app may tell its server, in app.extensions: TRUSTED, a Trusted (the mock's
# holder.trusts); ON_BOUND, called with the server's URL once its socket is bound (port 0 picks one).
TRUSTED = "mockgc.trusted"
ON_BOUND = "mockgc.on_bound"


def trust_nobody(authorization: str) -> bool:
    return False


class Refusal(Exception):
    """A request the bridge answers itself, without the app: the platform's error body, and the connection closed."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after

    def answer(self) -> tuple[int, list[tuple[str, str]], bytes]:
        body = {"message": self.message, "code": self.code, "status": self.status, "contextId": "", "details": []}
        headers = [("content-type", "application/json"), ("connection", "close")]
        if self.retry_after is not None:
            headers.append(("retry-after", str(self.retry_after)))
        return self.status, headers, json.dumps({**body, "errors": []}).encode()


# Raised fresh each time: a module-level instance would keep the traceback of its last raise, and
# with it the request's protocol object, whose unread body keeps the connection open.


def body_too_slow() -> Refusal:
    return Refusal(408, "request.timeout", "The request body did not arrive in time.")


def body_too_large() -> Refusal:
    return Refusal(413, "request.entity.too.large", "The request body is over the size limit.")


def too_many_untrusted() -> Refusal:
    return Refusal(
        503, "service.unavailable", "Too many requests without credentials are sending bodies: retry shortly.", 1
    )


class WSGIBridge:
    """Serves a WSGI app from granian's RSGI worker (`__rsgi__`).

    granian's own WSGI worker gives the app a body that blocks the app's thread, inside Rust, until
    the client sends: no timeout, nothing in Python can interrupt it. 16 connections announcing a
    body and sending none stopped the mock. Here the body is read on the event loop, holding no
    thread, within `body_timeout` seconds; one that does not arrive in time is answered 408 and its
    connection closed. Only a complete body reaches a thread of the pool, which runs the app.

    Bodies from callers `trusted` does not know (no live token: `POST /oauth/token`, signed
    webhooks, pre-signed uploads) are read at most `untrusted_limit` at a time; more are answered
    503 at once, unread, so strangers cannot hold more than that many buffers at the deadline.
    """

    def __init__(
        self,
        app: WSGIApp,
        threads: int,
        *,
        body_timeout: float,
        max_body_bytes: int,
        untrusted_limit: int,
        trusted: Trusted = trust_nobody,
        name: str = "mockgc-app",
    ) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_body_bytes = max_body_bytes
        self.untrusted_limit = untrusted_limit
        self.trusted = trusted
        self.untrusted_reading = 0  # only the event loop's thread touches it
        self.timed_out = 0
        self.refused = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._jobs: queue.SimpleQueue[tuple[Any, Any, bytes, asyncio.Future[None]] | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(threads)]
        self._base: dict[str, Any] = {
            "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": "mockgc",
            "wsgi.errors": sys.stderr,
            "wsgi.input_terminated": True,
            "wsgi.multiprocess": False,
            "wsgi.multithread": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    # -- granian's side: the event loop -------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.close()

    def close(self, timeout: float = 10) -> None:
        """End the pool's threads once the jobs queued before finish (safe to call twice)."""
        if not self._closed:
            self._closed = True
            for _ in self._threads:
                self._jobs.put(None)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        try:
            body = await self._body(scope.headers, proto)
        except Refusal as refusal:
            proto.response_bytes(*refusal.answer())
            return
        except RuntimeError:  # granian's RSGIProtocolClosed: the client went away mid-body
            return
        assert self._loop is not None
        done = self._loop.create_future()
        self._jobs.put((scope, proto, body, done))
        await done

    async def _body(self, headers: Any, proto: Any) -> bytes:
        length = headers.get("content-length")
        if (length is None and "transfer-encoding" not in headers) or length == "0":
            return b""
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return b""  # the app refuses it on Content-Length alone, never reading it (413)
        untrusted = not self.trusted(headers.get("authorization", ""))
        if untrusted:
            if self.untrusted_reading >= self.untrusted_limit:
                self.refused += 1
                raise too_many_untrusted()
            self.untrusted_reading += 1
        try:
            return await asyncio.wait_for(proto() if length is not None else self._chunks(proto), self.body_timeout)
        except TimeoutError:
            self.timed_out += 1
            raise body_too_slow() from None
        finally:
            if untrusted:
                self.untrusted_reading -= 1

    async def _chunks(self, proto: Any) -> bytes:
        """A body without Content-Length (chunked), refused as soon as it passes the size limit."""
        parts: list[bytes] = []
        size = 0
        async for chunk in proto:
            size += len(chunk)
            if size > self.max_body_bytes:
                raise body_too_large()
            parts.append(chunk)
        return b"".join(parts)

    # -- the pool's side: the app --------------------------------------------------------------

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            scope, proto, body, done = job
            try:
                self._respond(self._environ(scope, body), proto)
            except Exception:
                log.exception("the app failed outside its own error handling")
                with contextlib.suppress(Exception):
                    proto.response_empty(500, [])
            finally:
                assert self._loop is not None
                with contextlib.suppress(RuntimeError):  # the loop closed while stopping
                    self._loop.call_soon_threadsafe(done.set_result, None)

    def _environ(self, scope: Any, body: bytes) -> dict[str, Any]:
        environ = dict(self._base)
        server_host, _, server_port = scope.server.rpartition(":")
        client_host, _, client_port = scope.client.rpartition(":")
        environ.update(
            {
                "REQUEST_METHOD": scope.method,
                # WSGI strings carry bytes as latin-1 (PEP 3333); granian gives the path decoded as UTF-8.
                "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
                "QUERY_STRING": scope.query_string,
                "SERVER_NAME": server_host.strip("[]"),
                "SERVER_PORT": server_port,
                "REMOTE_ADDR": client_host.strip("[]"),
                "REMOTE_PORT": client_port,
                "SERVER_PROTOCOL": "HTTP/1.0" if scope.http_version == "1" else f"HTTP/{scope.http_version}",
                "wsgi.url_scheme": scope.scheme,
                "wsgi.input": io.BytesIO(body),
            }
        )
        for name, value in scope.headers.items():
            key = _CGI_NAMES.get(name) or "HTTP_" + name.upper().replace("-", "_")
            if key in environ:  # a repeated field: joined as granian's WSGI worker joins them
                value = environ[key] + (";" if key == "HTTP_COOKIE" else ",") + value
            environ[key] = value
        if "HTTP_HOST" not in environ and scope.authority:
            environ["HTTP_HOST"] = scope.authority
        return environ

    def _respond(self, environ: dict[str, Any], proto: Any) -> None:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started[:] = [int(status.split(" ", 1)[0]), headers]

        result = self.app(environ, start_response)
        try:
            pieces = iter(result)
            first = next(pieces, b"")
            status, headers = started
            length = next((value for name, value in headers if name.lower() == "content-length"), None)
            if environ["REQUEST_METHOD"] == "HEAD":
                proto.response_empty(status, headers)
            elif (length is not None and length.isdigit() and int(length) == len(first)) or (
                length is None and (second := next(pieces, None)) is None
            ):
                proto.response_bytes(status, headers, first)
            else:
                # Pieces as the app yields them (a slow_body toxic), or a body cut short of its
                # Content-Length (reset_peer): the HTTP layer then closes the connection mid-body.
                rest: Iterator[bytes] = pieces if length is not None else _prepend(second, pieces)
                self._stream(proto, status, headers, _prepend(first, rest))
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _stream(self, proto: Any, status: int, headers: list[tuple[str, str]], pieces: Iterator[bytes]) -> None:
        assert self._loop is not None
        transport = proto.response_stream(status, headers)
        for piece in pieces:
            if piece:
                try:
                    asyncio.run_coroutine_threadsafe(_send(transport, piece), self._loop).result()
                except Exception:  # the client went away: stop producing
                    return


_CGI_NAMES = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


async def _send(transport: Any, piece: bytes) -> None:
    await transport.send_bytes(piece)


def _prepend(first: Any, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first is not None:
        yield first
    yield from rest
