"""Mock-only admin API for webhook targets of publish events, and their delivery log (/mock/webhooks)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.webhooks import WebhookRegistry
from mockgc.platform.http.admin import require_admin
from mockgc.platform.http.body import json_body
from mockgc.platform.http.events_runtime import events_runtime

bp = Blueprint("webhooks", __name__, url_prefix="/mock/webhooks")
bp.before_request(require_admin)

STATES = ("pending", "sending", "delivered", "failed")


def registry() -> WebhookRegistry:
    return events_runtime(current_app).webhooks


@bp.post("")
def register_target() -> ResponseReturnValue:
    """{"url", "secret"?: "whsec_...", "topics"?: [patterns], "timeoutSeconds"?: 30, "maxAttempts"?: 5,
    "backoffSeconds"?: 1}. The answer is the only place the signing secret is ever shown."""
    target = registry().register(json_body())
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
