"""The Notifications WebSocket server: a channel's connectUri, on its own loopback port in a thread.

A WSGI app cannot upgrade a connection, and the real platform streams from its own host too, so
the mock runs the `websockets` package's threaded server beside the HTTP server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import select
import socket
import threading
import time
import weakref
from http import HTTPStatus
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from mockgc.platform.domain.errors import NotFound, PlatformError
from mockgc.platform.domain.notifications import (
    HEARTBEAT_TOPIC,
    SOCKET_CLOSING_NOTICE_SECONDS,
    Channel,
    NotificationHub,
    heartbeat,
    socket_closing,
)

log = logging.getLogger("mockgc.platform.serve.ws")
CHANNEL_PATH = "/channels/"
DEFAULT_HEARTBEAT_SECONDS = 30.0
POLL_SECONDS = 0.2  # how soon a socket notices its channel expiring, a reset or a stop
# A connection whose opening request has not fully arrived this long after it connected is closed
# (the websockets package's own opening timeout, applied before any thread is spent on it).
HANDSHAKE_SECONDS = 10.0
MAX_OPENING_REQUEST = 16_384  # bytes of opening request; a longer one is closed unanswered
# Connections waiting for their opening request: past this many, a new one is closed at once.
# Each costs a descriptor and a few hundred bytes, no thread.
MAX_OPENING = 20_000


class NotificationSocketServer:
    """Serves ws://host:port/channels/{id}: queued messages, heartbeats, the client's ping, subscribe and
    unsubscribe messages, and v2.system.socket_closing before the server closes a socket (the channel
    expiring on the org's clock, an org reset, the server stopping).

    A channel has one consumer: a new connection to the same channel replaces the old one,
    which is closed (as the platform does when a channel is reconnected).
    """

    def __init__(
        self,
        hub: NotificationHub,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
        handshake_seconds: float = HANDSHAKE_SECONDS,
    ) -> None:
        self.hub = hub
        self.host = host
        self.heartbeat_seconds = heartbeat_seconds
        self.handshake_seconds = handshake_seconds
        self.opening = 0  # connections waiting for their opening request (no thread yet)
        self.sent = 0
        self._server: Server = serve(
            self._handle,
            host,
            port,
            process_request=self._check_path,
            compression=None,
            logger=logging.getLogger("mockgc.platform.serve.ws.server"),
        )
        self.port: int = self._server.socket.getsockname()[1]
        # Where the kernel offers edge-triggered epoll, connections wait for their opening request in
        # one thread; otherwise the websockets package's own loop gives each a thread at once.
        accept = self._accept if hasattr(select, "epoll") else self._server.serve_forever
        self._thread = threading.Thread(target=accept, name=f"mockgc-ws-{self.port}", daemon=True)
        self._stopping = threading.Event()
        self._connections: set[ServerConnection] = set()
        self._epochs: weakref.WeakKeyDictionary[ServerConnection, int] = weakref.WeakKeyDictionary()
        self._connections_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def connect_uri(self, channel_id: str) -> str:
        return f"{self.base_url}{CHANNEL_PATH}{channel_id}"

    def start(self) -> NotificationSocketServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Warn every open socket (v2.system.socket_closing) before the server closes them."""
        self._stopping.set()
        with self._connections_lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(ConnectionClosed, RuntimeError):
                connection.send(json.dumps(socket_closing()))
        self._server.shutdown()
        self._thread.join(timeout=5)

    # -- accepting ------------------------------------------------------------------

    def _accept(self) -> None:
        """The websockets server's accept loop, except that a connection gets its handler thread
        only once its whole opening request has arrived. The package's own loop starts a thread per
        connection at once, which then waits for the request: 2,000 connections that never sent one
        held 1,893 threads. Here they wait in one epoll set, each closed at its deadline.

        Readiness is edge-triggered because the request is only peeked at (the handler must read it
        itself): a level-triggered poll would report a partial request as readable over and over.
        """
        server = self._server
        listener, watcher = server.socket, server.shutdown_watcher
        poller = select.epoll()
        opening: dict[int, tuple[socket.socket, Any, float]] = {}  # by fd, oldest first: one deadline each
        try:
            poller.register(watcher.fileno(), select.EPOLLIN)
            poller.register(listener.fileno(), select.EPOLLIN)
            listener.setblocking(False)
            while True:
                now = time.monotonic()
                while opening and next(iter(opening.values()))[2] <= now:
                    self._drop(poller, opening, next(iter(opening)))
                wait = next(iter(opening.values()))[2] - now if opening else -1
                for fd, _ in poller.poll(wait):
                    if fd == watcher.fileno():
                        return
                    if fd == listener.fileno():
                        self._take_new(poller, opening, listener)
                    elif fd in opening:
                        self._look(poller, opening, fd)
                self.opening = len(opening)
        except OSError:  # the listener closed under us: the server is stopping
            return
        finally:
            server.socket_closed.set()
            for fd in list(opening):
                self._drop(poller, opening, fd)
            self.opening = 0
            poller.close()

    def _take_new(self, poller: Any, opening: dict[int, tuple[socket.socket, Any, float]], listener: Any) -> None:
        while True:
            try:
                sock, addr = listener.accept()
            except BlockingIOError:
                return
            if len(opening) >= MAX_OPENING:
                sock.close()
                continue
            opening[sock.fileno()] = (sock, addr, time.monotonic() + self.handshake_seconds)
            # Registering reports data that is already there, so a request sent at once is seen.
            poller.register(sock.fileno(), select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLET)

    def _look(self, poller: Any, opening: dict[int, tuple[socket.socket, Any, float]], fd: int) -> None:
        sock, addr, _ = opening[fd]
        try:
            head = sock.recv(MAX_OPENING_REQUEST, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            head = b""
        if b"\r\n\r\n" in head:
            poller.unregister(fd)
            del opening[fd]
            self._hand_over(sock, addr)
        elif not head or len(head) >= MAX_OPENING_REQUEST:  # gone, or a request too long to be one
            self._drop(poller, opening, fd)

    def _hand_over(self, sock: socket.socket, addr: Any) -> None:
        """What the websockets server's own loop does with an accepted connection."""
        server = self._server
        thread = threading.Thread(target=server.handler, args=(sock, addr))
        with server.lock:  # registered before it starts, so shutdown() waits for it
            server.handler_threads.add(thread)
        thread.start()

    @staticmethod
    def _drop(poller: Any, opening: dict[int, tuple[socket.socket, Any, float]], fd: int) -> None:
        sock, _, _ = opening.pop(fd)
        with contextlib.suppress(OSError, ValueError):
            poller.unregister(fd)
        sock.close()

    # -- per connection --------------------------------------------------------------

    def _channel(self, path: str) -> Channel | None:
        if not path.startswith(CHANNEL_PATH):
            return None
        try:
            return self.hub.channel(path[len(CHANNEL_PATH) :].split("?", 1)[0])
        except NotFound:
            return None

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the upgrade for a channel that does not exist (or expired) with a plain 404."""
        if self._channel(request.path) is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "channel not found\n")
        # The epoch as the handshake is answered: a reset after the client sees its socket open
        # must close it, even if the handler thread has not started yet.
        self._epochs[connection] = self.hub.socket_epoch
        return None

    def _handle(self, connection: ServerConnection) -> None:
        channel = self._channel(connection.request.path if connection.request else "")
        if channel is None:
            connection.close(1008, "channel not found")
            return
        channel.generation += 1
        generation, epoch = channel.generation, self._epochs.pop(connection, self.hub.socket_epoch)
        with self._connections_lock:
            self._connections.add(connection)
        reader = threading.Thread(target=self._read, args=(connection, channel), daemon=True)
        reader.start()
        try:
            self._serve(connection, channel, generation, epoch)
        except ConnectionClosed:
            pass
        finally:
            with self._connections_lock:
                self._connections.discard(connection)

    def _serve(self, connection: ServerConnection, channel: Channel, generation: int, epoch: int) -> None:
        """Send the channel's messages and heartbeats until the socket must close, and close it."""
        next_heartbeat = time.monotonic() + self.heartbeat_seconds
        warned = False
        while not self._stopping.is_set() and channel.generation == generation:
            if self.hub.socket_epoch != epoch:
                self._warn_and_close(connection, 1001, "the org was reset: open a new socket")
                return
            now = self.hub.clock.now()
            expired = now >= channel.expires or self.hub.channels.get(channel.id) is not channel
            if not warned and (expired or now >= channel.expires - SOCKET_CLOSING_NOTICE_SECONDS):
                connection.send(json.dumps(socket_closing()))  # a minute ahead, on the org's clock
                warned = True
            if expired:
                connection.close(1000, "channel expired")
                return
            wait = max(0.0, min(next_heartbeat - time.monotonic(), POLL_SECONDS))
            try:
                message: dict[str, Any] | None = channel.outbox.get(timeout=wait)
            except queue.Empty:
                message = None
            if message is not None:
                try:
                    connection.send(json.dumps(message))
                except ConnectionClosed:
                    channel.offer(message)  # the next connection to this channel gets it
                    raise
                self.sent += 1
            if time.monotonic() >= next_heartbeat:
                connection.send(json.dumps(heartbeat()))
                next_heartbeat = time.monotonic() + self.heartbeat_seconds
        if self._stopping.is_set():
            connection.close(1001, "server stopping")  # stop() sent the warning
        else:
            connection.close(1000, "replaced by a newer connection to this channel")

    @staticmethod
    def _warn_and_close(connection: ServerConnection, code: int, reason: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            connection.send(json.dumps(socket_closing()))
        connection.close(code, reason)

    def _read(self, connection: ServerConnection, channel: Channel) -> None:
        """Client messages: ping (a pong on channel.metadata), subscribe and unsubscribe (answered to this
        socket with their correlationId). Anything else that is JSON gets the platform's error answer."""
        try:
            for raw in connection:
                try:
                    body = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(body, dict):
                    continue
                if body.get("message") == "ping":
                    channel.offer({"topicName": HEARTBEAT_TOPIC, "eventBody": {"message": "pong"}})
                    continue
                connection.send(json.dumps(self._answer(channel, body)))
        except ConnectionClosed:
            pass

    def _answer(self, channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
        """The platform's answer to a subscribe or unsubscribe message (result as a string, as it sends it)."""
        correlation_id = body.get("correlationId")
        kind, topics = body.get("message"), body.get("topics")
        answer: dict[str, Any] = {"correlationId": correlation_id, "topics": [], "result": "400", "status": "error"}
        if kind not in ("subscribe", "unsubscribe"):
            return {**answer, "message": f"Unknown message type {kind!r}: expected subscribe, unsubscribe or ping."}
        if not isinstance(topics, list) or not topics or not all(isinstance(t, str) and t for t in topics):
            return {**answer, "message": f"Required data missing from {kind} request."}
        answer["topics"] = topics
        if kind == "unsubscribe":
            self.hub.unsubscribe_channel(channel, topics)
            return {**answer, "result": "200", "status": "unsubscribed"}
        try:
            self.hub.subscribe_channel(channel, topics, replace=False)
        except PlatformError as refused:
            return {**answer, "status": "failure", "message": refused.message}
        return {**answer, "result": "200", "status": "subscribed"}
