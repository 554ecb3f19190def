"""create_app(settings): the mock platform as a Flask app, with no state at import time."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Request, Response, request

from mockgc.clock import Clock, SystemClock, VirtualClock
from mockgc.faults import FaultProfile
from mockgc.platform.api import DOCS_PATH
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import (
    EntityTooLarge,
    HeadersTooLarge,
    InjectedError,
    TooManyRequests,
    UriTooLong,
)
from mockgc.platform.domain.faults import ToxicEffect
from mockgc.platform.domain.ratelimit import RateStatus
from mockgc.platform.http import (
    admin,
    analytics,
    conversations,
    docs,
    events_runtime,
    groups,
    notifications,
    oauth,
    presence,
    routing,
    scripts,
    users,
    webhooks,
    wfm,
)
from mockgc.platform.http.errors import register_error_handlers
from mockgc.platform.http.holder import PlatformHolder
from mockgc.platform.http.journal import MAX_FIELD_CHARS
from mockgc.platform.serve.bridge import ON_BOUND, TRUSTED
from mockgc.platform.settings import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_URI_BYTES,
    Settings,
)

API_PREFIX = "/api/v2/"


def _correlation_id() -> str:
    """A random v4 UUID string, as the platform's correlation ids are.

    Not uuid4(): its os.urandom() syscall drops the GIL on every request, and on a busy threaded
    server winning it back costs far more than the id itself. Correlation ids need no crypto.
    """
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


class PlatformRequest(Request):
    """The request, carrying what the hooks learn about it (cheaper than flask.g's proxy)."""

    correlation_id: str = ""
    client_id: str | None = None
    token: str | None = None
    rate: RateStatus | None = None
    toxic: ToxicEffect | None = None


def apply_toxic(platform: Platform, path: str) -> ToxicEffect | None:
    """Roll the active toxics for this request and carry out the one that fires, if any.

    Request-phase toxics act before the route runs (nothing is applied). Response-phase ones
    (slow_body, reset_peer) are returned: they shape the answer after the platform has acted,
    so a cut connection leaves the client not knowing whether its request took effect.
    """
    effect = platform.faults.roll(path)
    if effect is None:
        return None
    toxic = effect.toxic
    if toxic.type == "latency":
        platform.clock.wait_until(platform.clock.now() + effect.delay)
    elif toxic.type == "rate_limit":
        raise TooManyRequests(int(toxic.attributes.get("retry_after", 1)))
    elif toxic.type == "http_error":
        raise InjectedError(
            int(toxic.attributes.get("status", 503)),
            str(toxic.attributes.get("code", "service.unavailable")),
            str(toxic.attributes.get("message", f"injected by toxic {toxic.name}")),
        )
    else:
        return effect
    return None


def _slow(body: bytes, chunk: int, bytes_per_second: float, clock: Clock) -> Iterator[bytes]:
    for start in range(0, len(body), chunk):
        piece = body[start : start + chunk]
        clock.wait_until(clock.now() + len(piece) / bytes_per_second)
        yield piece


def shape_response(response: Response, effect: ToxicEffect, clock: Clock) -> None:
    """slow_body trickles the body out; reset_peer stops short of the Content-Length it announced,
    and the HTTP server then closes the connection: the client sees it broken mid-body."""
    body = response.get_data()
    attributes = effect.toxic.attributes
    if effect.toxic.type == "slow_body":
        chunk = int(attributes.get("chunk_bytes", 256))
        response.response = _slow(body, chunk, float(attributes.get("bytes_per_second", 1024)), clock)
    else:
        response.response = [body[: min(int(attributes.get("after_bytes", 0)), max(0, len(body) - 1))]]
    response.headers["Content-Length"] = str(len(body))


OVERSIZE = "mockgc.oversize"


def refuse_oversize(wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
    """WSGI middleware: an oversize request target or header block is refused before Flask routes it.

    Werkzeug would decode and regex-match a 200 KB path before any hook ran. The request goes on
    with its target cut short (so the journal keeps no copy), and the first hook raises the error.
    """

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if len(path) + len(query) > MAX_URI_BYTES:
            environ[OVERSIZE] = UriTooLong(f"The request URI is over the size limit. Maximum bytes: {MAX_URI_BYTES}")
            environ["PATH_INFO"], environ["QUERY_STRING"] = path[:MAX_FIELD_CHARS], ""
        elif sum(len(k) + len(v) for k, v in environ.items() if k[:5] == "HTTP_") > MAX_HEADER_BYTES:
            environ[OVERSIZE] = HeadersTooLarge(
                f"The request's header fields are over the size limit. Maximum bytes: {MAX_HEADER_BYTES}"
            )
        return wsgi_app(environ, start_response)

    return guarded


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, profile: FaultProfile | None = None
) -> Flask:
    settings = (settings or Settings()).with_credentials().validate()
    if clock is None:
        clock = VirtualClock() if settings.server.clock == "virtual" else SystemClock()
    app = Flask("mockgc")
    app.request_class = PlatformRequest
    # No werkzeug HTML redirects: `a%2F` in an id decodes to `a/`, and merging the slashes would
    # 308 to another resource. An id with a slash is simply not found (404, the platform's body).
    app.url_map.merge_slashes = False
    app.url_map.redirect_defaults = False
    app.wsgi_app = refuse_oversize(app.wsgi_app)  # type: ignore[method-assign]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    holder = PlatformHolder(settings.server, settings.org, clock, profile)
    app.extensions["mockgc"] = holder
    # The server reads bodies from callers it does not know a bounded number at a time (serve/bridge.py),
    # and the pre-signed URLs the mock hands out name the address it bound.
    app.extensions[TRUSTED] = holder.trusts
    app.extensions[ON_BOUND] = holder.set_bound_url

    for blueprint in (
        oauth.bp,
        users.bp,
        users.voicemail,
        presence.bp,
        routing.bp,
        groups.bp,
        conversations.bp,
        scripts.bp,
        analytics.bp,
        wfm.bp,
        wfm.uploads,
        admin.bp,
        docs.bp,
    ):
        app.register_blueprint(blueprint)
    # Publish events: the Notifications API (WebSocket on its own port) and mock-only webhooks.
    events_runtime.install(app, holder)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(webhooks.bp)
    register_error_handlers(app)

    @app.before_request
    def authenticate_and_rate_limit() -> None:
        # One proxy lookup per hook: werkzeug's LocalProxy costs more than the work on this hot path.
        req: PlatformRequest = request._get_current_object()  # type: ignore[attr-defined]
        req.correlation_id = _correlation_id()
        oversize = req.environ.get(OVERSIZE)
        if oversize is not None:
            raise oversize
        # Also for routes that never read their body: the platform refuses any body over the limit.
        if (req.content_length or 0) > MAX_BODY_BYTES:
            raise EntityTooLarge()
        path = req.path
        if not path.startswith(API_PREFIX) or path == DOCS_PATH:  # the document is public, as the platform's is
            return
        platform = holder.platform
        header = req.headers.get("Authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
        access = platform.auth.authorize(bearer)
        req.client_id = access.client.client_id
        req.token = access.token.value
        req.rate = access.rate
        if platform.faults.toxics:
            req.toxic = apply_toxic(platform, path)

    @app.after_request
    def stamp(response: Response) -> Response:
        req: PlatformRequest = request._get_current_object()  # type: ignore[attr-defined]
        correlation_id = req.correlation_id or _correlation_id()
        status = response.status_code
        added = [("ININ-Correlation-Id", correlation_id)]
        rate = req.rate
        if rate is not None and status != 429:
            added += [
                ("inin-ratelimit-count", str(rate.count)),
                ("inin-ratelimit-allowed", str(rate.allowed)),
                ("inin-ratelimit-reset", str(rate.reset_seconds)),
            ]
        # Straight onto the header list: Headers.extend re-validates each pair, and ours are known-good.
        response.headers._list.extend(added)  # type: ignore[attr-defined]
        if req.toxic is not None:
            shape_response(response, req.toxic, holder.clock)
        holder.journal.record(holder.clock.now(), req.method, req.path, status, req.client_id, correlation_id)
        return response

    return app
