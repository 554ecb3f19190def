"""Mock-only admin API for webhook targets of publish events, and their delivery log (/mock/webhooks)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.domain import standard_webhooks
from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.webhooks import (
    DEFAULT_BACKOFF_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_BACKOFF_SECONDS,
    PUBLISH_TOPICS,
    TargetSpec,
    WebhookRegistry,
)
from mockgc.platform.http.admin import require_admin
from mockgc.platform.http.body import json_body
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.platform.http.fields import is_int

bp = Blueprint("webhooks", __name__, url_prefix="/mock/webhooks")
bp.before_request(require_admin)

STATES = ("pending", "sending", "delivered", "failed")


def registry() -> WebhookRegistry:
    return events_runtime(current_app).webhooks


def parse_target(body: Any) -> TargetSpec:
    if not isinstance(body, dict):
        raise InvalidValue('the body must be an object: {"url": "http://..."}')
    url = body.get("url")
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:  # an unbalanced IPv6 bracket, say
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue("url must be an http(s) URL", details=[{"fieldName": "url"}])
    topics = body.get("topics", [PUBLISH_TOPICS])
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) and t for t in topics):
        raise InvalidValue("topics must be a non-empty list of topic patterns", details=[{"fieldName": "topics"}])
    secret = body.get("secret")
    if secret is not None:
        try:
            standard_webhooks.secret_key(secret)
        except ValueError as error:
            raise InvalidValue(str(error), details=[{"fieldName": "secret"}]) from None
    attempts = body.get("maxAttempts", DEFAULT_MAX_ATTEMPTS)
    if not is_int(attempts) or not 1 <= attempts <= 20:
        raise InvalidValue("maxAttempts must be an integer from 1 to 20", details=[{"fieldName": "maxAttempts"}])
    timeout = _number(body, "timeoutSeconds", DEFAULT_TIMEOUT_SECONDS, 0.001, 300)
    backoff = _number(body, "backoffSeconds", DEFAULT_BACKOFF_SECONDS, 0, MAX_BACKOFF_SECONDS)
    return TargetSpec(url, tuple(topics), secret, timeout, attempts, backoff)


def _number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidValue(f"{name} must be a number from {low:g} to {high:g}", details=[{"fieldName": name}])
    return float(value)


@bp.post("")
def register_target() -> ResponseReturnValue:
    """{"url", "secret"?: "whsec_...", "topics"?: [patterns], "timeoutSeconds"?: 30, "maxAttempts"?: 5,
    "backoffSeconds"?: 1}. The answer is the only place the signing secret is ever shown."""
    target = registry().register(parse_target(json_body()))
    events_runtime(current_app).start_delivery()
    return jsonify({**target.to_api(), "secret": target.secret}), 201


@bp.get("")
def list_targets() -> ResponseReturnValue:
    return jsonify(entities=[t.to_api() for t in registry().targets.values()])


@bp.delete("/<target_id>")
def remove_target(target_id: str) -> ResponseReturnValue:
    registry().remove(target_id)
    return "", 204


@bp.get("/deliveries")
def deliveries() -> ResponseReturnValue:
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise InvalidValue(f"state must be one of {', '.join(STATES)}", details=[{"fieldName": "state"}])
    log = registry()
    return jsonify(entities=log.deliveries(state), stats=log.stats())


@bp.delete("/deliveries")
def clear_deliveries() -> ResponseReturnValue:
    registry().clear_log()
    return "", 204
