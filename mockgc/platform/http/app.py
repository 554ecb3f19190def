"""create_app(settings): the mock platform as a Flask app, with no state at import time."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Flask, Response, g, request

from mockgc.clock import Clock, SystemClock, VirtualClock
from mockgc.faults import FaultProfile, get_profile
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import EntityTooLarge, InjectedError, TooManyRequests
from mockgc.platform.http import admin, analytics, conversations, oauth, scripts, users, wfm
from mockgc.platform.http.errors import register_error_handlers
from mockgc.settings import MAX_BODY_BYTES, Settings

API_PREFIX = "/api/v2/"


def _correlation_id() -> str:
    # Not uuid4(): its os.urandom() syscall drops the GIL on every request, and on a busy threaded
    # server winning it back costs far more than the id itself. Correlation ids need no crypto.
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


class PlatformHolder:
    """The app's current org; reset swaps in a freshly built one (moto's reset)."""

    def __init__(self, settings: Settings, clock: Clock, profile: FaultProfile | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.platform = Platform(settings, profile or get_profile(settings.profile), clock)
        self._listeners: list[Callable[[Platform], None]] = []

    def on_new_platform(self, listener: Callable[[Platform], None]) -> None:
        """Call `listener` with the current org now, and with each org a reset builds later."""
        self._listeners.append(listener)
        listener(self.platform)

    def reset(self, profile: FaultProfile | None = None, **changes: Any) -> Platform:
        old = self.platform
        self.settings = replace(self.settings, **changes)
        self.platform = Platform(self.settings, profile or old.profile, self.clock)
        # Clients and their tokens survive a reset, so load users that logged in keep working.
        self.platform.oauth = old.oauth
        for listener in self._listeners:
            listener(self.platform)
        return self.platform


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, profile: FaultProfile | None = None
) -> Flask:
    settings = (settings or Settings()).with_credentials().validate()
    if clock is None:
        clock = VirtualClock() if settings.clock == "virtual" else SystemClock()
    app = Flask("mockgc")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    holder = PlatformHolder(settings, clock, profile)
    app.extensions["mockgc"] = holder

    for blueprint in (oauth.bp, users.bp, conversations.bp, scripts.bp, analytics.bp, wfm.bp, wfm.uploads, admin.bp):
        app.register_blueprint(blueprint)
    # Publish events: the Notifications API (WebSocket on its own port) and mock-only webhooks.
    from mockgc.platform.http import events_runtime, notifications, webhooks

    events_runtime.install(app, holder)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(webhooks.bp)
    register_error_handlers(app)

    @app.before_request
    def authenticate_and_rate_limit() -> None:
        g.correlation_id = _correlation_id()
        g.client_id = None
        # Also for routes that never read their body: the platform refuses any body over the limit.
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise EntityTooLarge()
        if not request.path.startswith(API_PREFIX):
            return
        platform = holder.platform
        header = request.headers.get("Authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
        access = platform.authorize(bearer)
        g.client_id = access.client.client_id
        g.rate = access.rate
        if platform.toxics:
            effect = platform.roll_toxics(request.path)
            if effect is not None:
                toxic = effect.toxic
                if toxic.type == "latency":
                    platform.clock.wait_until(platform.clock.now() + effect.delay)
                elif toxic.type == "rate_limit":
                    raise TooManyRequests(int(toxic.attributes.get("retry_after", 1)))
                else:
                    raise InjectedError(
                        int(toxic.attributes.get("status", 503)),
                        str(toxic.attributes.get("code", "service.unavailable")),
                        str(toxic.attributes.get("message", f"injected by toxic {toxic.name}")),
                    )

    @app.after_request
    def stamp(response: Response) -> Response:
        correlation_id = getattr(g, "correlation_id", "") or _correlation_id()
        headers = response.headers
        headers["ININ-Correlation-Id"] = correlation_id
        rate = getattr(g, "rate", None)
        if rate is not None and response.status_code != 429:
            headers["inin-ratelimit-count"] = str(rate.count)
            headers["inin-ratelimit-allowed"] = str(rate.allowed)
            headers["inin-ratelimit-reset"] = str(rate.reset_seconds)
        platform = holder.platform
        platform.journal.record(
            platform.clock.now(),
            request.method,
            request.path,
            response.status_code,
            getattr(g, "client_id", None),
            correlation_id,
        )
        return response

    return app
