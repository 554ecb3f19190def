"""The Notifications WebSocket server: a channel's connectUri, on its own loopback port in a thread.

A WSGI app cannot upgrade a connection, and the real platform streams from its own host too, so
the mock runs the `websockets` package's threaded server beside the HTTP server.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from http import HTTPStatus
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from mockgc.platform.domain.errors import NotFound
from mockgc.platform.domain.notifications import HEARTBEAT_TOPIC, Channel, NotificationHub, heartbeat

log = logging.getLogger("mockgc.ws")
CHANNEL_PATH = "/channels/"
DEFAULT_HEARTBEAT_SECONDS = 30.0


class NotificationSocketServer:
    """Serves ws://host:port/channels/{id}: queued messages, heartbeats, and pong for a client's ping.

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
            logger=logging.getLogger("mockgc.ws.server"),
        )
        self.port: int = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"mockgc-ws-{self.port}", daemon=True)
        self._stopping = threading.Event()

    @property
    def base_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def connect_uri(self, channel_id: str) -> str:
        return f"{self.base_url}{CHANNEL_PATH}{channel_id}"

    def start(self) -> NotificationSocketServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
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
        return None

    def _handle(self, connection: ServerConnection) -> None:
        channel = self._channel(connection.request.path if connection.request else "")
        if channel is None:
            connection.close(1008, "channel not found")
            return
        channel.generation += 1
        generation = channel.generation
        reader = threading.Thread(target=self._read, args=(connection, channel), daemon=True)
        reader.start()
        next_heartbeat = time.monotonic() + self.heartbeat_seconds
        try:
            while not self._stopping.is_set() and channel.generation == generation:
                wait = max(0.0, min(next_heartbeat - time.monotonic(), 0.5))
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
                if self.hub.channels.get(channel.id) is not channel:
                    connection.close(1000, "channel expired")
                    return
        except ConnectionClosed:
            return
        if self._stopping.is_set():
            connection.close(1001, "server stopping")
        else:
            connection.close(1000, "replaced by a newer connection to this channel")

    @staticmethod
    def _read(connection: ServerConnection, channel: Channel) -> None:
        """A client may send {"message": "ping"}; it gets a pong on channel.metadata."""
        try:
            for raw in connection:
                try:
                    body = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(body, dict) and body.get("message") == "ping":
                    channel.offer({"topicName": HEARTBEAT_TOPIC, "eventBody": {"message": "pong"}})
        except ConnectionClosed:
            pass
