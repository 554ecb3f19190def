"""Publish events in a live mock: binds the notification hub and webhook registry to the org, and runs
the WebSocket server and the webhook delivery thread (both started on first use)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import requests
from flask import Flask

from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.notifications import NotificationHub
from mockgc.platform.domain.webhooks import Delivery, SendResult, WebhookRegistry

if TYPE_CHECKING:
    from mockgc.platform.http.holder import PlatformHolder
    from mockgc.platform.serve.ws import NotificationSocketServer

log = logging.getLogger("mockgc.events")
EXTENSION = "mockgc.events"
TICK_SECONDS = 0.2  # how often the delivery thread applies due platform events and retries


class EventsRuntime:
    """One per app. Channels and webhook targets survive an org reset, like registered clients."""

    def __init__(self, app: Flask, holder: PlatformHolder) -> None:
        self.app = app
        self.holder = holder
        self.hub = NotificationHub(holder.clock, connect_uri=self._connect_uri)
        # Not the org's seed: this runtime outlives resets to other seeds (see WebhookRegistry).
        self.webhooks = WebhookRegistry(holder.clock, seed=None)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.webhooks.on_change = self._wake.set
        self._stopping = threading.Event()
        self._socket: NotificationSocketServer | None = None
        self._thread: threading.Thread | None = None
        self.http = requests.Session()
        self._bound = False
        holder.on_new_platform(self.bind)

    # -- binding to the current org --------------------------------------------------

    def bind(self, platform: Platform) -> None:
        """Subscribe to an org's events (the holder calls this again for each org a reset builds)."""
        with self._lock:
            platform.events.subscribe(self.hub.on_event)
            platform.events.subscribe(self.webhooks.on_event)
            if self._bound:
                # A reset closes the open sockets (after their warning); channels and topics stay.
                self.hub.close_sockets()
            self.hub.entity_exists = platform.entity_exists
            self._bound = True

    # -- WebSocket server ------------------------------------------------------------

    def _connect_uri(self, channel_id: str) -> str:
        return self.socket_server().connect_uri(channel_id)

    def socket_server(self) -> NotificationSocketServer:
        with self._lock:
            if self._socket is None:
                from mockgc.platform.serve.ws import (
                    DEFAULT_HEARTBEAT_SECONDS,
                    HANDSHAKE_SECONDS,
                    NotificationSocketServer,
                )

                config = self.app.config
                self._socket = NotificationSocketServer(
                    self.hub,
                    str(config.get("MOCKGC_WS_HOST") or self.holder.server.host),
                    int(config.get("MOCKGC_WS_PORT", 0)),
                    heartbeat_seconds=float(config.get("MOCKGC_WS_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS)),
                    handshake_seconds=float(config.get("MOCKGC_WS_HANDSHAKE_SECONDS", HANDSHAKE_SECONDS)),
                ).start()
                log.info("notifications WebSocket server on %s", self._socket.base_url)
        self.start_delivery()
        return self._socket

    # -- webhook delivery and the settle tick ------------------------------------------

    def start_delivery(self) -> None:
        """The background thread: fires due platform events on time and delivers webhooks."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mockgc-events", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                # A publish's completion is an event due at a planned instant; without this tick it
                # would only fire when the next request happened to arrive.
                self.holder.platform.settle()
                self.webhooks.pump(self._send)
            except Exception:
                log.exception("webhook delivery loop")
            now = self.holder.clock.now()
            due = self.webhooks.next_due()
            wait = TICK_SECONDS if due is None else min(TICK_SECONDS, max(0.0, due - now))
            self._wake.wait(wait)
            self._wake.clear()

    def _send(self, delivery: Delivery) -> SendResult:
        target = delivery.target
        body, signature = delivery.signed(self.holder.clock.now())
        headers = {
            **signature,
            "Content-Type": "application/json",
            "X-Mockgc-Attempt": str(len(delivery.attempts) + 1),
            "X-Mockgc-Topic": str(delivery.body.get("topicName")),
        }
        try:
            response = self.http.post(target.url, data=body, timeout=target.timeout_seconds, headers=headers)
        except requests.RequestException as error:
            return SendResult(0, f"{type(error).__name__}: {error}"[:300])
        return SendResult.answered(response.status_code, response.text, response.headers.get("Retry-After"))

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.stop()
        self.http.close()


def install(app: Flask, holder: PlatformHolder) -> EventsRuntime:
    runtime = EventsRuntime(app, holder)
    app.extensions[EXTENSION] = runtime
    return runtime


def events_runtime(app: Flask) -> EventsRuntime:
    runtime: EventsRuntime = app.extensions[EXTENSION]
    return runtime
