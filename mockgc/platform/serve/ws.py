"""The Notifications WebSocket server: a channel's connectUri, on its own loopback port in a thread.

A WSGI app cannot upgrade a connection, and the real platform streams from its own host too, so
the mock runs the `websockets` package's threaded server beside the HTTP server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
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
    ) -> None:
        self.hub = hub
        self.host = host
        self.heartbeat_seconds = heartbeat_seconds
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
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"mockgc-ws-{self.port}", daemon=True)
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
